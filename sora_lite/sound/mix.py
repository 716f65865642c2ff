"""One mix: dialogue over effects over music over ambience, ducked under speech, at a web loudness target.

Loudness is measured with `pyloudnorm` (ITU-R BS.1770-4 K-weighting and gating), not by hand: the mix is
gained to −16 LUFS integrated, then a look-ahead peak limiter keeps the true peak (4× oversampled, as
BS.1770's true-peak meter does) at or under −1 dBTP. A clip shorter than one 400 ms gating block cannot be
measured; it is left at its level and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from sora_lite.common.sound import SAMPLE_RATE

TARGET_LUFS = -16.0
TRUE_PEAK_DBTP = -1.0
QUIET_BELOW_LUFS = -45.0  # a mix this quiet is a quiet scene (a ball at rest, faint friction): left as it is
MAX_GAIN_DB = 24.0  # never raise a mix more than this: one soft impact is not limited flat under a pumped-up bed
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
    from scipy.ndimage import minimum_filter1d

    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
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
        ambience: np.ndarray | None = None, target_lufs: float | None = TARGET_LUFS) -> tuple[np.ndarray, MixReport]:
    """Stereo stems (2×N float32, any may be None) → the mix and what it measured.

    With `target_lufs` None the stems are only summed and ducked (for callers that keep their own level)."""
    stems = {"dialogue": dialogue, "effects": effects, "music": music, "ambience": ambience}
    present = {k: np.asarray(v, dtype=np.float64) for k, v in stems.items() if v is not None and np.size(v)}
    if not present:
        return np.zeros((2, 0), dtype=np.float32), MixReport(None, None, 0.0, "nothing to mix")
    n = max(v.shape[-1] for v in present.values())
    out = np.zeros((2, n))
    env = speech_envelope(present["dialogue"]) if "dialogue" in present else None
    for name, stem in present.items():
        stem = np.pad(stem, ((0, 0), (0, n - stem.shape[-1])))
        gain = np.full(n, _db(STEM_GAIN_DB[name]))
        if env is not None and name in DUCK_DB:
            e = np.pad(env, (0, n - env.size))
            gain *= 1 + (_db(DUCK_DB[name]) - 1) * e
        out += stem * gain
    if target_lufs is None:
        return out.astype(np.float32), MixReport(None, None, 0.0, "not normalised")
    if set(present) == {"ambience"}:  # nothing happens: a quiet place stays as quiet as its bed was made
        lufs = _measure(out)
        return out.astype(np.float32), MixReport(lufs, None, 0.0, "ambience only: left at its own level "
                                                 f"(a bed is not raised to the {target_lufs:g} LUFS target)")
    return normalise(out, target_lufs)


def _loudness(audio: np.ndarray) -> float:
    """Integrated loudness (BS.1770-4, pyloudnorm) of a clip at least one 400 ms block long; −inf when silent."""
    import pyloudnorm

    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(np.asarray(audio, dtype=np.float64).T))


def _measure(audio: np.ndarray) -> float | None:
    if audio.shape[-1] < int(0.4 * SAMPLE_RATE):
        return None
    value = _loudness(audio)
    return value if math.isfinite(value) else None


def normalise(audio: np.ndarray, target_lufs: float = TARGET_LUFS,
              ceiling_dbtp: float = TRUE_PEAK_DBTP) -> tuple[np.ndarray, MixReport]:
    """Gain to `target_lufs` integrated (pyloudnorm), then limit the true peak to `ceiling_dbtp`."""
    x = np.asarray(audio, dtype=np.float64)
    if x.shape[-1] < int(0.4 * SAMPLE_RATE):
        return x.astype(np.float32), MixReport(None, None, 0.0, "shorter than one 400 ms gating block: not normalised")
    before = _loudness(x)
    if not math.isfinite(before):
        return x.astype(np.float32), MixReport(None, None, 0.0, "silent: not normalised")
    if before < QUIET_BELOW_LUFS:
        return x.astype(np.float32), MixReport(before, None, 0.0, f"a quiet scene ({before:.1f} LUFS): left at its "
                                               f"own level, not raised to the {target_lufs:g} LUFS target")
    gain_db = target_lufs - before
    capped = gain_db > MAX_GAIN_DB
    gain_db = min(gain_db, MAX_GAIN_DB)
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
        if not math.isfinite(after) or abs(after - target_lufs) < 0.3 or gain_db >= MAX_GAIN_DB:
            break
        gain_db = min(gain_db + target_lufs - after, MAX_GAIN_DB)
        capped = capped or gain_db >= MAX_GAIN_DB
    tp = true_peak(y)
    note = f"raised by the most allowed ({MAX_GAIN_DB:g} dB): under the target" if capped else ""
    return y.astype(np.float32), MixReport(after if math.isfinite(after) else None,
                                           20 * math.log10(tp) if tp > 0 else None, gain_db, note)
