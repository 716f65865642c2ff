"""One mix: dialogue over effects over music over ambience, ducked under speech, at a web loudness target.

Loudness is measured with `pyloudnorm` (ITU-R BS.1770-4 K-weighting and gating), not by hand: the mix is
gained to −16 LUFS integrated, then a look-ahead peak limiter keeps the true peak (4× oversampled, as
BS.1770's true-peak meter does) at or under −1 dBTP. A clip shorter than one 400 ms gating block cannot be
measured; it is left at its level and the report says so.

Balance before loudness: the foreground (dialogue, effects, music) is what the clip is about, so the bed is
set at a fixed level under it (the engine's own bed `AMBIENCE_BELOW_LU`, a bed the text names
`NAMED_BED_BELOW_LU`, measured with the same meter) rather than at its own absolute level: normalising the
whole mix then never pumps a bed up under one soft impact. The engine's bed is also kept under BS.1770's
gates, so the loudness measured is the events'. Sparse impacts have a peak-to-loudness ratio above what
−16 LUFS at −1 dBTP allows (15 dB): a wooden knock decays in tens of ms, so its 400 ms block is ~20 dB under
its peak. A fast limiter on the effects bus (`DENSITY`: threshold a fixed margin above the bus's loudness,
its gain following each impact's decay) takes the first milliseconds of each transient down before the gain,
as a film's effects bus is compressed; the true-peak limiter then has little left to do. A foreground whose
peak is under `AUDIBLE_PEAK_DBFS` holds no audible event (physics that is genuinely silent): that clip is
left at its bed's level and the report says so.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sora_lite.common.quick_import import scipy_signal
from sora_lite.common.sound import SAMPLE_RATE

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)

TARGET_LUFS = -16.0
TRUE_PEAK_DBTP = -1.0
QUIET_BELOW_LUFS = -45.0  # a mix this quiet is a quiet scene (a ball at rest, faint friction): left as it is
MAX_GAIN_DB = 24.0  # `normalise` on its own never raises a mix more than this (its bed could be pumped up)
# In `mix` the bed is tied under the foreground, so the gain only lifts audible events (the synthesisers' own
# scale is arbitrary: a soft contact peaks at −25 dBFS and rings for tens of ms); whether a scene is quiet is
# judged by AUDIBLE_PEAK_DBFS, and this only bounds the arithmetic
MIX_MAX_GAIN_DB = 60.0
AMBIENCE_BELOW_LU = 20.0  # the engine's own bed (outdoor air) sits at least this far under the foreground
NAMED_BED_BELOW_LU = 12.0  # a bed the text asks for (rain, crowd, waves) sits closer, still under the events
# Beds keep the levels they were designed at relative to each other (room tone under rain): the gain is set for
# a reference bed, measured with this meter — the engine's outdoor air (common.sound.ambience, room tone 12 dB
# under it) and a bed from places.py at BED_RMS (its room tone 12 dB under)
DEFAULT_BED_LUFS = -47.0
NAMED_BED_LUFS = -32.0
BED_SHIFT_LU = 0.5  # ... and lower still when its blocks would move the measured loudness more than this
AUDIBLE_PEAK_DBFS = -60.0  # a foreground peaking under this (as synthesised) holds no audible event
# the effects bus's transient control: threshold this many dB (sample peak) above its integrated loudness,
# ratio, look-ahead, release and the envelope's peak hold; it only touches peaks more than `above_lu` over
DENSITY = {"above_lu": 11.0, "ratio": 1000.0, "lookahead_s": 0.002, "release_s": 0.005, "hold_s": 0.006}
DUCK_DB = {"music": -10.0, "ambience": -8.0, "effects": -4.0}  # under speech
# Stems arrive at their own levels (dialogue peaks at −6 dBFS, effects as simulated, the score at −1 dBFS peak,
# beds at about −40 dBFS RMS); these gains set the order dialogue > effects > music > ambience.
STEM_GAIN_DB = {"dialogue": 0.0, "effects": 0.0, "music": -14.0, "ambience": 0.0}


@dataclass(frozen=True)
class MixReport:
    integrated_lufs: float | None  # after the mix; None when the clip is too short to measure
    true_peak_dbtp: float | None
    gain_db: float
    note: str = ""

    def to_dict(self) -> dict[str, float | str | None]:
        r = lambda v: None if v is None else round(float(v), 2)  # noqa: E731
        return {"integrated_lufs": r(self.integrated_lufs), "true_peak_dbtp": r(self.true_peak_dbtp),
                "gain_db": r(self.gain_db), "note": self.note}


def _db(x: float) -> float:
    return 10 ** (x / 20)


def speech_envelope(dialogue: np.ndarray, release_s: float = 0.25) -> np.ndarray:
    """0–1 per sample: how much speech is sounding (50 ms RMS, fast attack, `release_s` release)."""
    mono = np.abs(np.asarray(dialogue, dtype=np.float64)).mean(axis=0) if dialogue.ndim == 2 else np.abs(dialogue)
    if mono.size == 0 or not mono.any():
        return np.zeros(mono.size)
    win = max(1, int(0.05 * SAMPLE_RATE))
    rms = np.sqrt(signal.fftconvolve(mono**2, np.ones(win) / win, mode="same").clip(min=0))
    on = (rms > 0.05 * rms.max()).astype(np.float64)
    b, a = [1 - math.exp(-1 / (release_s * SAMPLE_RATE))], [1, -math.exp(-1 / (release_s * SAMPLE_RATE))]
    held = signal.lfilter(b, a, on)  # a smooth release after each phrase
    return np.maximum(on, held).clip(0, 1)


def true_peak(audio: np.ndarray) -> float:
    """Linear true peak: the maximum of the signal upsampled 4× (BS.1770-4 annex 2)."""
    return float(peak_envelope(audio).max(initial=0.0))


def peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude of the 4× oversampled signal around it, over both channels: the
    true-peak view a limiter needs. Scale-free, so it is computed once per mix whatever the gain."""
    x = np.asarray(audio, dtype=np.float32)
    up = np.abs(signal.resample_poly(x, 4, 1, axis=-1)).max(axis=0)
    return up[: 4 * x.shape[-1]].reshape(-1, 4).max(axis=1)


def limiter_gain(peaks: np.ndarray, ceiling: float, lookahead_s: float = 0.005, release_s: float = 0.08) -> np.ndarray:
    """Look-ahead peak limiter's gain for a signal whose true-peak envelope is `peaks`: it reaches
    ceiling/peak before each peak and recovers smoothly."""
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    return _ride(need, lookahead_s, release_s)


def compressor_gain(env: np.ndarray, threshold: float, ratio: float, lookahead_s: float = 0.002,
                    release_s: float = 0.04) -> np.ndarray:
    """A fast compressor's gain for a signal whose peak envelope is `env`: above `threshold` the level grows
    1/`ratio` as fast; down before each peak (look-ahead), back up with `release_s`."""
    need = np.minimum(1.0, (threshold / np.maximum(env, 1e-12)) ** (1.0 - 1.0 / ratio))
    return _ride(need, lookahead_s, release_s)


def _ride(need: np.ndarray, lookahead_s: float, release_s: float) -> np.ndarray:
    """The smooth gain that is at or under `need` everywhere: instant (look-ahead) attack, exponential release."""
    from scipy.ndimage import minimum_filter1d

    look = max(1, int(lookahead_s * SAMPLE_RATE))
    g = minimum_filter1d(need, size=2 * look + 1, mode="nearest")  # down before the peak arrives
    # Attack at once, release exponentially: the reduction r = 1 − g decays as r[i] = max(r[i], r[i−1]·e^c).
    # In logs that is a running maximum: log r[i] = i·c + max_{j≤i}(log r[j] − j·c).
    c = -1.0 / (release_s * SAMPLE_RATE)
    idx = np.arange(g.size)
    reduction = np.log(np.maximum(1.0 - g, 1e-12))
    held = np.exp(idx * c + np.maximum.accumulate(reduction - idx * c))
    return 1.0 - np.maximum(held, 1.0 - g)


def mix(dialogue: np.ndarray | None = None, effects: np.ndarray | None = None, music: np.ndarray | None = None,
        ambience: np.ndarray | None = None, target_lufs: float | None = TARGET_LUFS,
        named_bed: bool = False) -> tuple[np.ndarray, MixReport]:
    """Stereo stems (2×N float32, any may be None) → the mix and what it measured.

    With `target_lufs` None the stems are only summed and ducked (for callers that keep their own level).
    Otherwise the effects' transients are held down (`DENSITY`), the bed is set under the foreground
    (`named_bed`: a bed the text asked for, NAMED_BED_BELOW_LU under and counted in the loudness; else the
    engine's own bed, AMBIENCE_BELOW_LU under and kept out of the measurement), and the sum is gained to the
    target and true-peak limited."""
    stems = {"dialogue": dialogue, "effects": effects, "music": music, "ambience": ambience}
    present = {k: np.asarray(v, dtype=np.float64) for k, v in stems.items() if v is not None and np.size(v)}
    if not present:
        return np.zeros((2, 0), dtype=np.float32), MixReport(None, None, 0.0, "nothing to mix")
    n = max(v.shape[-1] for v in present.values())
    balance = target_lufs is not None and n >= int(0.4 * SAMPLE_RATE) and set(present) != {"ambience"}
    front, bed = np.zeros((2, n)), np.zeros((2, n))
    env = speech_envelope(present["dialogue"]) if "dialogue" in present else None
    for name, stem in present.items():
        stem = np.pad(stem, ((0, 0), (0, n - stem.shape[-1])))
        if name == "effects" and balance and float(np.abs(stem).max(initial=0.0)) >= _db(AUDIBLE_PEAK_DBFS):
            stem = transient_control(stem)
        gain = np.full(n, _db(STEM_GAIN_DB[name]))
        if env is not None and name in DUCK_DB:
            e = np.pad(env, (0, n - env.size))
            gain *= 1 + (_db(DUCK_DB[name]) - 1) * e
        if name == "ambience":
            bed += stem * gain
        else:
            front += stem * gain
    if target_lufs is None:
        return (front + bed).astype(np.float32), MixReport(None, None, 0.0, "not normalised")
    if set(present) == {"ambience"}:  # nothing happens: a quiet place stays as quiet as its bed was made
        lufs = _measure(bed)
        return bed.astype(np.float32), MixReport(lufs, None, 0.0, "ambience only: left at its own level "
                                                 f"(a bed is not raised to the {target_lufs:g} LUFS target)")
    if float(np.abs(front).max(initial=0.0)) < _db(AUDIBLE_PEAK_DBFS):  # physics made no audible sound
        out = front + bed
        return out.astype(np.float32), MixReport(_measure(out), None, 0.0, "no audible event (the foreground peaks "
                                                 f"under {AUDIBLE_PEAK_DBFS:g} dBFS): left at the bed's own level")
    if not balance:
        return normalise(front + bed, target_lufs)
    if bed.any():
        bed = bed * (bed_gain(front, bed, NAMED_BED_BELOW_LU, None, NAMED_BED_LUFS) if named_bed
                     else bed_gain(front, bed, AMBIENCE_BELOW_LU, BED_SHIFT_LU, DEFAULT_BED_LUFS))
    return normalise(front + bed, target_lufs, quiet_below_lufs=None, max_gain_db=MIX_MAX_GAIN_DB)


def transient_control(effects: np.ndarray, passes: int = 4) -> np.ndarray:
    """The effects bus with each transient held to `DENSITY["above_lu"]` over the bus's loudness (sample peak):
    a fast limiter whose gain follows each impact's decay, so a knock keeps its onset and timbre but loses the
    first milliseconds' excess over its own body. Again (at most `passes`) while the peaks still stand more
    than 1 dB over — each pass lowers the loudness the next is set from — and the last pass lowered the
    peak-to-loudness ratio by 1 dB or more."""
    from scipy.ndimage import maximum_filter1d

    x = np.asarray(effects, dtype=np.float64)
    last = math.inf
    for _ in range(passes):
        level = _loudness(x)
        if not math.isfinite(level):
            break
        ratio_db = 20 * math.log10(float(np.abs(x).max())) - level  # peak to loudness
        if ratio_db <= DENSITY["above_lu"] + 1.0 or ratio_db > last - 1.0:
            break  # held enough, or the last pass hardly helped (a click whose energy is its peak)
        last = ratio_db
        # the envelope holds each peak for `hold_s` (a low mode's half-cycle): the gain follows the decay,
        # not the waveform
        env = maximum_filter1d(np.abs(x).max(axis=0), size=int(DENSITY["hold_s"] * SAMPLE_RATE) | 1, mode="nearest")
        x = x * compressor_gain(env, _db(level + DENSITY["above_lu"]), DENSITY["ratio"], DENSITY["lookahead_s"],
                                DENSITY["release_s"])
    return x


def _block_powers(audio: np.ndarray) -> np.ndarray:
    """BS.1770-4's 400 ms blocks (75 % overlap): the K-weighted mean square summed over the channels, per block
    (the same filters as pyloudnorm's meter), so loudness under a changed balance is a sum, not a new filtering."""
    b, a, gain = _k_weighting()
    x = gain * signal.lfilter(b, a, np.asarray(audio, dtype=np.float64), axis=-1)
    block, step = int(0.4 * SAMPLE_RATE), int(0.1 * SAMPLE_RATE)
    n = round((x.shape[-1] / SAMPLE_RATE - 0.4) / 0.1) + 1
    c = np.concatenate([[0.0], np.cumsum(np.einsum("cn,cn->n", x, x))])  # channels summed (gains 1)
    lo = np.arange(n) * step
    hi = np.minimum(lo + block, x.shape[-1])
    return (c[hi] - c[lo]) / block


@functools.cache
def _k_weighting() -> tuple[np.ndarray, np.ndarray, float]:
    """pyloudnorm's two K-weighting stages (high shelf, high pass) as one filter: (b, a, passband gain)."""
    import pyloudnorm

    b, a, gain = np.ones(1), np.ones(1), 1.0
    for stage in pyloudnorm.Meter(SAMPLE_RATE)._filters.values():
        b, a, gain = np.convolve(b, stage.b), np.convolve(a, stage.a), gain * stage.passband_gain
    return b, a, gain


def _gated(z: np.ndarray) -> float:
    """Integrated loudness (BS.1770-4 gating) from block powers."""
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(z)
        keep = lk >= -70.0
        if not keep.any():
            return float("-inf")
        rel = -0.691 + 10 * np.log10(z[keep].mean()) - 10.0
        keep &= lk > rel
        return float(-0.691 + 10 * np.log10(z[keep].mean())) if keep.any() else float("-inf")


def bed_gain(front: np.ndarray, bed: np.ndarray, below_lu: float, shift_lu: float | None,
             reference_lufs: float | None = None) -> float:
    """The bed's gain: a bed at `reference_lufs` (None: this bed's own loudness) lands `below_lu` under the
    foreground's integrated loudness; with `shift_lu`, lower where the bed's blocks would move the clip's
    measured loudness more than that (a single crash in five seconds of room tone: the loudness the target
    measures stays the events')."""
    zf, zb = _block_powers(front), _block_powers(bed)
    fg = _gated(zf)
    level = _gated(zb) if reference_lufs is None else reference_lufs
    if not (math.isfinite(fg) and math.isfinite(level)) or not zb.any():
        return 1.0
    top = _db(fg - below_lu - level)
    # gate as the delivered clip will be gated, at the target's level: the −70 LUFS absolute gate is not
    # scale-free (a bed under it now is over it once the mix is raised)
    at_target = 10 ** ((TARGET_LUFS - fg) / 10)
    zf, zb, fg = zf * at_target, zb * at_target, TARGET_LUFS
    if shift_lu is None or abs(_gated(zf + top**2 * zb) - fg) <= shift_lu:
        return top
    lo, hi = 0.0, top
    for _ in range(20):  # the largest gain that keeps the measurement within `shift_lu`
        mid = (lo + hi) / 2
        if abs(_gated(zf + mid**2 * zb) - fg) <= shift_lu:
            lo = mid
        else:
            hi = mid
    return lo


def _loudness(audio: np.ndarray) -> float:
    """Integrated loudness (BS.1770-4: pyloudnorm's K-weighting filters and its gating, blocks summed with a
    running sum instead of its per-block loop) of a clip at least one 400 ms block long; −inf when silent.
    Equal to `pyloudnorm.Meter.integrated_loudness` (tests/test_sound_balance.py)."""
    return _gated(_block_powers(audio))


def _measure(audio: np.ndarray) -> float | None:
    if audio.shape[-1] < int(0.4 * SAMPLE_RATE):
        return None
    value = _loudness(audio)
    return value if math.isfinite(value) else None


def normalise(audio: np.ndarray, target_lufs: float = TARGET_LUFS, ceiling_dbtp: float = TRUE_PEAK_DBTP,
              quiet_below_lufs: float | None = QUIET_BELOW_LUFS,
              max_gain_db: float = MAX_GAIN_DB) -> tuple[np.ndarray, MixReport]:
    """Gain to `target_lufs` integrated (pyloudnorm), then limit the true peak to `ceiling_dbtp`; a clip under
    `quiet_below_lufs` (None: no such rule) is left as it is, and no clip is raised more than `max_gain_db`."""
    x = np.asarray(audio, dtype=np.float64)
    if x.shape[-1] < int(0.4 * SAMPLE_RATE):
        return x.astype(np.float32), MixReport(None, None, 0.0, "shorter than one 400 ms gating block: not normalised")
    before = _loudness(x)
    if not math.isfinite(before):
        return x.astype(np.float32), MixReport(None, None, 0.0, "silent: not normalised")
    if quiet_below_lufs is not None and before < quiet_below_lufs:
        return x.astype(np.float32), MixReport(before, None, 0.0, f"a quiet scene ({before:.1f} LUFS): left at its "
                                               f"own level, not raised to the {target_lufs:g} LUFS target")
    gain_db = target_lufs - before
    capped = gain_db > max_gain_db
    gain_db = min(gain_db, max_gain_db)
    ceiling = _db(ceiling_dbtp - 0.1)  # a hair under, for the meter's own interpolation
    peaks = peak_envelope(x)  # once: the limiter's gain for any overall gain comes from it
    y = x
    after = target_lufs
    for _ in range(6):  # limiting a loud transient lowers the loudness: gain again, limit again
        gain = _db(gain_db)
        y = x * gain
        if float(peaks.max(initial=0.0)) * gain > ceiling:
            y = y * limiter_gain(peaks * gain, ceiling)
        after = _loudness(y)
        if not math.isfinite(after) or abs(after - target_lufs) < 0.3 or gain_db >= max_gain_db:
            break
        gain_db = min(gain_db + target_lufs - after, max_gain_db)
        capped = capped or gain_db >= max_gain_db
    tp = true_peak(y)
    note = f"raised by the most allowed ({max_gain_db:g} dB): under the target" if capped else ""
    return y.astype(np.float32), MixReport(after if math.isfinite(after) else None,
                                           20 * math.log10(tp) if tp > 0 else None, gain_db, note)
