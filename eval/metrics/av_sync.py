"""Audio–visual synchrony without learned weights: a significance-tested lag between paired signals, plus AV-Align.

`score_sample` (what `eval.run` and the calibrations use):
1. the paired signals: a face in enough of the clip (`eval.metrics.av_sources`) → mouth opening against the
   speech-band envelope, both band-passed to the syllable rate; otherwise two sources, tested at ¾α and ¼α
   (a union bound keeps the chance of a false answer ≤ α): first, on renders only (`av_sources.looks_rendered`:
   flat-shaded pictures; on camera footage this source never answered and its colour tracking cost as much
   as the rest), *events* — sub-frame audio onsets matched
   one-to-one to visual contact events (tracked objects' velocity changes beyond their steady acceleration,
   else the frame's flow change, plus flashes), each pair weighted by how close it lands; then, when the
   events give no unique precise answer (or were not tried), *localised motion* — per grid cell the velocity
   change followed along the motion, against the audio onset envelope (still at ¼α);
2. the lag: Pearson correlation (face, motion) or the weighted match (events) at every lag in
   ±`max_lag_frames`, the best refined to a fraction of a frame; for the face source minus `VISUAL_LEAD_MS`
   (the mouth opens before the voice sounds: that much of the lag is speech, not the file);
3. the test: the same best-over-all-lags statistic for `N_SURROGATES` block-shuffled copies of the audio
   signal (blocks as long as one sound event: its texture kept, its timing destroyed), or for audio events
   placed at random times (`N_EVENT_SURROGATES`), gives a null; p = (1 + #null ≥ observed) / (1 + N). The
   row says `uncertain` (no offset, the reason) when p > α, when a separate rival lag fits too (≥ 80 % of
   the best correlation; for the events source: a rival significant on its own — face and motion signals
   are quasi-periodic, so a strong true peak has significant side peaks a syllable or a kick away), when the best lag is at the edge of the searched range,
   when the matched events disagree by more than a third of a frame, when (motion source) leaving out ½ s of
   the clip moves the best lag by more than 2 frames (it rests on one burst), or — before any lag is tested —
   when
   the sound repeats with a period inside the searched range (`sound_period`: hammering, a beat, juggling;
   a lag is then only known up to a period, and a visual turn-round half a period away fits too);
4. confidence: the empirical probability that an answer with this z-score (against the null) is within ±2
   frames, per source, from an isotonic fit on the real-footage calibration (`av_sync_confidence.json`, made
   by `python -m eval.calibrate --real`, which reports its reliability leave-one-clip-out).

The older event-matching functions below (`estimate_offset`, `match_at_lag`, the tracked-colour envelope)
are kept as a library for engine scenes; the scored path no longer uses hue blobs.

Sign: positive = audio late (the sound comes after the picture).

Audio events: spectral flux (half-wave rectified rise of log-magnitude STFT) on a hop of a quarter
video frame, binned to video frames (bin i covers [i − ½, i + ½) / fps).
Visual events: per frame i, (a) the velocity change of tracked saturated-colour objects
(`eval.metrics.tracking`) beyond the object's steady acceleration (the median change while it moves:
gravity, sliding friction), so impacts count and apexes, releases and falls do not; an object cut by the
frame's edge is placed from its uncut side. When no such object is found: the squared change of the mean
Farneback optical-flow vector between the motion into frame i and out of it. Plus (b) a half-weight
squared high-pass (minus 3× a 7-frame median) of the mean absolute frame difference (flashes,
appearances). Frames are downscaled to ≤ 128 px first.

offset: both envelopes become event lists (peaks, placed to a fraction of a frame); each whole-frame lag
in ±`max_lag_frames` is scored by a weighted Dice of events matched one-to-one within ±1 frame, ignoring
events whose partner would fall outside the clip (an advanced track loses its first onsets); the best
lag's offset is the mean audio − video time of its matched pairs, in ms. Matching event lists rather than
correlating envelopes keeps a strong unmatched event (the first impact, whose sound was cut) or a few weak
spurious ones from pulling the estimate to a lag where they happen to line up.
**Sign: positive = audio late** (the sound comes after the picture). confidence: the best lag's score
minus the best score of any lag ≥ 2 frames away, in [0, 1].
av_align: as in AV-Align (Yariv et al. 2024): peaks of both envelopes, matched one-to-one within
±`window_frames`; score = matched / (audio peaks + visual peaks − matched) (an IoU).
A clip with no audio or all-zero audio gets status "no audio" and no score.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import scipy.ndimage
import scipy.signal

from eval.metrics.errors import MetricInputError
from eval.metrics.frames import as_audio, as_frames
from eval.metrics.tracking import discover_hues, track_hue

SILENCE_PEAK = 1e-4  # max |sample| below which a track counts as silent
MAX_LAG_FRAMES = 18  # ±750 ms at 24 fps: room past the ±12-frame calibration shifts, so a true lag is never at the edge
WINDOW_FRAMES = 1
ANALYSIS_SIDE = 128
PEAK_HEIGHT = 0.3  # a peak must reach this fraction of the envelope's maximum
# Mean |frame difference| (grey levels, analysis size) a flash must reach to count fully: below it the
# high-pass is codec noise (H.264 GOP pulses on a still scene are ~0.01), scaled down, not blown up to 1.
FLASH_FLOOR = 1.0
# Grey-level change per pixel treated as codec noise in the flash term: a key frame (every 12 frames with PyAV's
# default GOP) redraws the whole noise pattern by ±2–4 levels, which summed over the frame looks like a flash.
FLASH_NOISE_LEVELS = 6.0
EVENT_HEIGHT = 0.1  # an event for the offset: a peak of at least this share of the envelope's maximum
EVENT_WEIGHT_POWER = 0.5  # event weight = (peak / max) ** this: a mild preference for strong events
MATCH_FRAMES = 1.0  # an audio and a visual event pair up when this close (frames), after the lag
EDGE_FRAMES = 1.0  # events this close to either end of the overlap are not counted (onsets may be cut)
JITTER_PX = 1.0  # velocity change (px/frame) a tracked centre shows without any contact (mask redrawn by the codec)
MIN_SPEED_PX = 0.5  # below this (in and out of a frame) a tracked object counts as at rest: no event
GRAVITY_WINDOW = 7  # frames of running median removed from the tracked events (what stays level is no event)


N_SURROGATES = 1000  # block-shuffled audio signals in the null (p resolution 1/1001: a p near α is not a coin toss)
NULL_PROBE = 200  # with a level given, these copies are scored first: if they put p above it, the rest is skipped
SURROGATE_BLOCK_S = 0.5  # a shuffled block keeps a syllable or a blow whole, its timing not
ALPHA = 0.02  # answer only when the best lag beats the null at this level (split ¾ / ¼ when two sources are tried)
MIN_OVERLAP_FRAMES = 6
N_EVENT_SURROGATES = 1000  # random event placements in the event source's null (p resolution 1/1001: a p near ¾α is not a coin toss)
EVENT_NULL_CHUNK = 200  # placements scored at once (memory: chunk × events² × 4 bytes per lag)
EVENT_NULL_SURE = 400  # with α given, stop once this many placements all scored below the clip (p ≤ 1/401, far below α)
MAX_TESTED_EVENTS = 24  # the strongest events of each track enter the tested match (bounded cost on dense sound)
EVENT_SIGMA_FRAMES = 0.25  # a pair's weight falls off with its gap at this σ: contacts that really match land within ~0.2 frames
LAG_STEP = 0.25  # lags tried by the event match (a quarter frame: the σ above must not fall between two tried lags)
RIVAL_MIN_FRAMES = 3  # a rival peak at least this far from the best makes the lag ambiguous if it is significant too
EVENT_MAX_SPREAD_FRAMES = 0.35  # real contacts pair up within a third of a frame (engine scenes: ~0.1)
RIVAL_RATIO = 0.8  # ... or if it reaches this share of the best peak
JACKKNIFE_BLOCK_S = 0.5  # motion source: stretches of this length (≥ 4 per clip) are left out one at a time ...
JACKKNIFE_MIN_BLOCKS = 4
JACKKNIFE_MAX_FRAMES = 2.0  # ... and the best lag may move at most this far (else it rests on one stretch)
EVENTS_ALPHA_SHARE = 0.75  # share of α spent on the event source (precise where it answers); the rest on motion
PERIOD_ACF = 0.4  # sound whose onset autocorrelation reaches this at one period (and half of it at two) repeats
PERIOD_MIN_REPEATS = 6  # ... over at least this many periods in the clip (three or four events are no rhythm)
# Face source: the mouth opens before the voice sounds (Schwartz & Savariaux 2014: a visual lead of ~20–120 ms
# that varies with the speaker and the syllable), so on in-sync speech the lip-opening/speech-envelope
# correlation peaks with the audio "late". The in-sync lag before this correction, on real speech
# (python -m eval.calibrate --real ../shared/realfootage): GRID 24 ms, LRS3 (TEDx) 116 ms, a news clip 126 ms,
# a retalking demo 37 ms; this is their mean (each source one vote). Leave-one-source-out (the other three's
# mean), 32 of the 38 face answers there stay within ±2 frames (the news clip's 5 misses at ≤ 2.1 frames).
VISUAL_LEAD_MS = 76.0


@dataclass
class AVSyncResult:
    status: str  # "ok" | "uncertain" | "no audio" | "no visual events" | "no audio events" | "no matching events"
    offset_ms: float = float("nan")
    offset_frames: float = float("nan")
    confidence: float = float("nan")
    av_align: float = float("nan")
    audio_peaks: list[int] = field(default_factory=list)
    video_peaks: list[int] = field(default_factory=list)
    source: str = ""  # "face" | "motion": which paired signals judged the clip
    p_value: float = float("nan")
    z_score: float = float("nan")
    correlation: float = float("nan")
    best_lag_frames: float = float("nan")  # the best lag also when uncertain (a diagnostic, not an answer)
    reason: str = ""  # why "uncertain" (or another non-ok status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def audio_onset_envelope(audio: np.ndarray, sample_rate: int, fps: float, num_frames: int) -> np.ndarray:
    """Spectral flux binned to video frames (max within each frame's bin)."""
    mono = audio.mean(0).astype(np.float64)
    hop = max(1, int(round(sample_rate / (fps * 4))))
    nperseg = 2 * hop
    times, flux = _spectral_flux(mono, sample_rate, nperseg, hop)
    env = np.zeros(num_frames)
    bins = np.floor(times * fps + 0.5).astype(int)
    keep = (bins >= 0) & (bins < num_frames)
    np.maximum.at(env, bins[keep], flux[keep])
    return env


def _spectral_flux(mono: np.ndarray, sample_rate: int, nperseg: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    _, times, spec = scipy.signal.stft(mono, fs=sample_rate, window="hann", nperseg=nperseg, noverlap=nperseg - hop)
    logmag = np.log1p(1000.0 * np.abs(spec))
    rise = np.maximum(np.diff(logmag, axis=1), 0.0).sum(0)
    return times[1:], rise


def _small_gray(frames: np.ndarray) -> np.ndarray:
    _, h, w, _ = frames.shape
    scale = min(1.0, ANALYSIS_SIDE / max(h, w))
    size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
    return np.stack(
        [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA) for f in frames]
    )


def visual_event_envelope(frames: np.ndarray) -> np.ndarray:
    """Per-frame visual event strength (see module docstring); index i = the frame the change shows in."""
    gray = _small_gray(frames)
    motion = _tracked_acceleration(frames)
    if motion is None:
        motion = _flow_change(gray)
    diff = np.zeros(len(gray))
    step = np.abs(np.diff(gray.astype(np.float32), axis=0))
    diff[1:] = np.maximum(step - FLASH_NOISE_LEVELS, 0.0).mean(axis=(1, 2))
    # Only jumps far above the local level count (flashes, appearances), not uneven pixel steps.
    highpass = np.maximum(diff - 3.0 * scipy.signal.medfilt(diff, 7), 0.0)
    # Squared: a velocity reversal (Δv = 2v) must stand well above pixel-rounding jitter (Δv ≈ 1 px).
    flashes = highpass**2 / max(float(highpass.max()), FLASH_FLOOR) ** 2
    return _unit(motion**2) + 0.5 * flashes


def _tracked_acceleration(frames: np.ndarray) -> np.ndarray | None:
    """Velocity change beyond each object's steady acceleration (`_deceleration`), summed over the tracked
    saturated-colour objects (precise for rendered scenes); None if none is found."""
    hues = discover_hues(frames)
    if not hues:
        return None
    accel = np.zeros(len(frames))
    found = False
    for hue in hues:
        track = track_hue(frames, hue, label=str(hue))
        if track.present.sum() < 8:
            continue
        found = True
        accel[1:-1] += _deceleration(_edge_safe_centre(track, frames.shape[1:3]))
    if not found:
        return None
    # Only what stands above the local level is an event (left-over steady change, pixel rounding).
    accel = np.maximum(accel - scipy.ndimage.median_filter(accel, GRAVITY_WINDOW, mode="nearest"), 0.0)
    # Log-compressed against the typical per-frame change (gravity, rounding), so one huge jump (a
    # teleport) cannot flatten every ordinary impact after max-normalisation.
    return np.log1p(accel / (float(np.median(accel)) + 0.5))


def _edge_safe_centre(track: Any, frame_size: tuple[int, int]) -> np.ndarray:
    """The object's centre per frame, also where the frame's edge cuts it off.

    A cut blob's centroid slides as the object enters or leaves the picture (a fake acceleration), so
    on a cut axis the centre is placed from the uncut side of the box and the object's typical extent.
    """
    h, w = frame_size
    centre = track.centroid.copy()
    x0, y0, x1, y1 = track.bbox.T
    for axis, lo, hi, limit in ((0, x0, x1, w - 1), (1, y0, y1, h - 1)):
        cut_lo, cut_hi = lo <= 0, hi >= limit
        whole = track.present & ~cut_lo & ~cut_hi
        if not whole.any():
            continue
        half = 0.5 * float(np.median(hi[whole] - lo[whole]))
        centre[:, axis] = np.where(cut_hi & ~cut_lo, lo + half, centre[:, axis])
        centre[:, axis] = np.where(cut_lo & ~cut_hi, hi - half, centre[:, axis])
    return centre


def _deceleration(c: np.ndarray) -> np.ndarray:
    """Per inner frame, the velocity change a contact must have caused (px/frame²).

    Sounds come from contacts; between contacts an object's velocity changes by the same steady
    acceleration every frame (gravity, or friction while sliding). That steady part is the median
    velocity change over the frames where the object moves, and only what differs from it counts:
    an impact's reversal (≈ 2·speed) does, while an apex (velocity reversing *with* gravity), a
    release or a fall do not. Frames where the object is at rest before and after count 0; NaN → 0.
    """
    v_in, v_out = c[1:-1] - c[:-2], c[2:] - c[1:-1]
    dv = v_out - v_in
    moving = np.maximum(np.linalg.norm(v_in, axis=1), np.linalg.norm(v_out, axis=1)) >= MIN_SPEED_PX
    usable = moving & np.isfinite(dv).all(axis=1)
    steady = np.median(dv[usable], axis=0) if usable.sum() >= 3 else np.zeros(2)
    # Minus the centroid's jitter: a key frame or a shadow redraws a resting object's mask and moves its centre by
    # up to ~1 px, which is no contact (an impact's reversal is 2 × the speed: several px).
    residual = np.maximum(np.linalg.norm(dv - steady, axis=1) - JITTER_PX, 0.0)
    return np.nan_to_num(np.where(usable, residual, 0.0), nan=0.0)


def _flow_change(gray: np.ndarray) -> np.ndarray:
    """Change of the mean Farneback flow vector between the motion into frame i and out of it."""
    n = len(gray)
    mean_flow = np.zeros((n, 2))  # mean_flow[i]: motion from frame i−1 into frame i
    for i in range(1, n):
        flow = cv2.calcOpticalFlowFarneback(gray[i - 1], gray[i], None, 0.5, 2, 9, 3, 5, 1.1, 0)
        mean_flow[i] = flow.reshape(-1, 2).mean(0)
    change = np.zeros(n)
    change[1:-1] = np.linalg.norm(mean_flow[2:] - mean_flow[1:-1], axis=1)
    return change


def _unit(x: np.ndarray) -> np.ndarray:
    top = float(x.max()) if x.size else 0.0
    return x / top if top > 1e-9 else np.zeros_like(x)


@dataclass
class Events:
    """An envelope's peaks: sub-frame times (frames) and weights √(peak / max)."""

    times: np.ndarray
    weights: np.ndarray


def find_events(env: np.ndarray, height: float = EVENT_HEIGHT) -> Events:
    """Peaks of at least `height` × the maximum, placed to a fraction of a frame by a parabola through
    the peak and its neighbours. √ of the relative height keeps a mild preference for strong events:
    audio loudness and visual deceleration of one impact are not proportional, so amplitudes are not
    matched, only *where* events are."""
    top = float(env.max()) if env.size else 0.0
    if top <= 1e-9:
        return Events(np.zeros(0), np.zeros(0))
    padded = np.r_[0.0, env, 0.0]
    peaks, props = scipy.signal.find_peaks(padded, height=height * top, prominence=0.5 * height * top)
    times = np.zeros(len(peaks))
    for k, p in enumerate(peaks):
        left, mid, right = padded[p - 1], padded[p], padded[p + 1]
        curve = left - 2 * mid + right
        shift = 0.5 * (left - right) / curve if abs(curve) > 1e-12 else 0.0
        times[k] = p - 1 + float(np.clip(shift, -0.5, 0.5))
    return Events(times, (props["peak_heights"] / top) ** EVENT_WEIGHT_POWER)


def match_at_lag(audio: Events, video: Events, lag: float, n: int, sigma: float | None = None) -> tuple[float, np.ndarray]:
    """(score, audio − video time of each matched pair) with the audio `lag` frames late.

    score: weighted Dice of events matched one-to-one within ±`MATCH_FRAMES`, times the overlap's share
    of the clip.

    Only events whose partner would fall inside the other track count, and none within `EDGE_FRAMES` of
    either end: a sound whose onset was cut off by the clip's start cannot be heard, so its missing
    partner is no evidence against the lag.
    """
    def inside(t: np.ndarray) -> np.ndarray:
        return (t >= EDGE_FRAMES) & (t <= n - 1 - EDGE_FRAMES)

    a_idx = np.flatnonzero(inside(audio.times) & inside(audio.times - lag))
    v_idx = np.flatnonzero(inside(video.times) & inside(video.times + lag))
    total = float(audio.weights[a_idx].sum() + video.weights[v_idx].sum())
    if total <= 0:
        return 0.0, np.zeros(0)
    gaps = audio.times[a_idx, None] - lag - video.times[None, v_idx]
    rows, cols = np.nonzero(np.abs(gaps) <= MATCH_FRAMES)  # only pairs close enough to match at all
    order = np.argsort(np.abs(gaps[rows, cols]), kind="stable")  # closest first; ties by audio, then video
    used_a, used_v, matched, deltas = set(), set(), 0.0, []
    for i, j in zip(rows[order], cols[order]):  # each event used once
        if i in used_a or j in used_v:
            continue
        used_a.add(i)
        used_v.add(j)
        closeness = 1.0 if sigma is None else float(np.exp(-0.5 * (gaps[i, j] / sigma) ** 2))
        matched += float(np.sqrt(audio.weights[a_idx[i]] * video.weights[v_idx[j]])) * closeness
        deltas.append(gaps[i, j] + lag)
    # × the share of the clip the lag leaves overlapping: a long lag that leaves one event on each side
    # would otherwise match "perfectly".
    return 2.0 * matched / total * (n - abs(lag)) / n, np.asarray(deltas)


def estimate_offset(audio_env: np.ndarray, video_env: np.ndarray, max_lag: int = MAX_LAG_FRAMES) -> tuple[float, float]:
    """(offset in frames, confidence); positive = audio events come after the matching visual events.

    Each whole-frame lag in ±`max_lag` is scored by how well the two event lists match there
    (`match_at_lag`); the best lag's offset is the mean sub-frame audio − video time of its pairs.
    confidence = best score − the best score of any lag ≥ 2 frames away, in [0, 1]. NaN offset when
    no lag matches any event.
    """
    audio, video = find_events(audio_env), find_events(video_env)
    n = len(audio_env)
    max_lag = min(max_lag, n - 2)
    lags = np.arange(-max_lag, max_lag + 1)
    results = [match_at_lag(audio, video, int(lag), n) for lag in lags]
    scores = np.array([r[0] for r in results])
    best = int(np.argmax(scores))
    if scores[best] <= 0:
        return float("nan"), 0.0
    away = np.abs(lags - lags[best]) >= 2
    runner_up = float(scores[away].max()) if away.any() else 0.0
    return float(np.mean(results[best][1])), float(np.clip(scores[best] - runner_up, 0.0, 1.0))


def envelope_peaks(env: np.ndarray) -> np.ndarray:
    top = float(env.max()) if env.size else 0.0
    if top <= 1e-9:
        return np.zeros(0, dtype=int)
    padded = np.r_[0.0, env, 0.0]
    peaks, _ = scipy.signal.find_peaks(padded, height=PEAK_HEIGHT * top, prominence=0.2 * top)
    return peaks - 1


def av_align_score(audio_peaks: np.ndarray, video_peaks: np.ndarray, window: int = WINDOW_FRAMES) -> float:
    """IoU of peaks: one-to-one matches within ±window frames over the union."""
    if len(audio_peaks) == 0 and len(video_peaks) == 0:
        return float("nan")
    unused = list(video_peaks)
    matched = 0
    for p in audio_peaks:
        near = [q for q in unused if abs(q - p) <= window]
        if near:
            unused.remove(min(near, key=lambda q: abs(q - p)))
            matched += 1
    return matched / (len(audio_peaks) + len(video_peaks) - matched)


def lag_correlations(audio: np.ndarray, visual: np.ndarray, valid: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """r[k, j] = Pearson correlation of visual[t] and audio[k, t + lags[j]] over the frames t where both exist
    and `valid[t]` (positive lag = audio late). `audio` is one signal or a K × n batch; NaN where < 6 frames."""
    a = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    n = a.shape[1]
    out = np.full((a.shape[0], len(lags)), np.nan)
    whole = bool(np.all(valid))
    for j, lag in enumerate(lags):
        lo, hi = max(0, -lag), min(n, n - lag)
        t = np.arange(lo, hi)
        if not whole:
            t = t[valid[t]]
        if len(t) < MIN_OVERLAP_FRAMES:
            continue
        x = visual[t] - visual[t].mean()
        # (a view where every frame is valid). x sums to 0, so y·x needs no centring of y, and
        # Σ(y − ȳ)² = Σy² − (Σy)²/m: the same r to float rounding without a centred copy of the batch.
        y = a[:, lo + lag: hi + lag] if whole else a[:, t + lag]
        s1, sq = y.sum(1), np.einsum("ij,ij->i", y, y)
        ss = sq - s1 * s1 / len(t)
        ss = np.where(ss > 1e-12 * sq, ss, 0.0)  # a constant stretch stays exactly 0, not cancellation noise
        den = np.sqrt((x**2).sum() * ss)
        out[:, j] = np.where(den > 1e-12, (y @ x) / np.maximum(den, 1e-12), 0.0)
    return out


def block_shuffled(signal: np.ndarray, block: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` copies of `signal`, each rolled by a random amount, cut into blocks and the blocks permuted."""
    n = len(signal)
    starts = np.arange(0, n, block)
    lengths = np.minimum(block, n - starts)
    offsets = np.arange(block)
    rolls = np.empty(count, dtype=np.int64)
    orders = np.empty((count, len(starts)), dtype=np.int64)
    for k in range(count):  # (the same draws, in the same order, as rolling and concatenating)
        rolls[k] = int(rng.integers(n))
        orders[k] = rng.permutation(len(starts))
    # Index arithmetic for all copies at once: block b of copy k is block orders[k, b] of the rolled signal
    # (a short last block keeps only its own length, wherever the permutation put it).
    idx = starts[orders][:, :, None] + offsets[None, None, :]  # count × blocks × block
    flat = idx[offsets[None, None, :] < lengths[orders][:, :, None]].reshape(count, n)
    return signal[(flat - rolls[:, None]) % n]


@dataclass
class LagTest:
    lag_frames: float  # best lag, sub-frame
    correlation: float
    p_value: float
    z_score: float
    rival_p: float = 1.0  # the best separate rival peak's p against the same null
    rival_ratio: float = 0.0  # the best separate rival peak / the best peak
    statistic: str = "correlation"  # or "events" (weighted matches of event lists)
    at_edge: bool = False  # the best lag is the first or last one searched: the real peak may lie beyond
    jackknife: float = 0.0  # correlation: how far the best lag moves with one stretch of the clip left out (frames)
    spread: float = 0.0  # events: median |pair gap − their mean| (frames); contacts that really match agree closely
    # face and motion sources: only a rival nearly as high as the best makes the lag ambiguous (lag_against_null)
    rival_by_ratio: bool = False

    def imprecise(self) -> bool:
        return self.statistic == "events" and (self.spread > EVENT_MAX_SPREAD_FRAMES or self.pairs < 2)

    pairs: int = 0  # events: matched pairs at the best lag

    def unstable(self) -> bool:
        return self.jackknife > JACKKNIFE_MAX_FRAMES

    def unusable(self, alpha: float) -> bool:
        return self.p_value > alpha or self.ambiguous(alpha) or self.at_edge or self.imprecise() or self.unstable()

    def ambiguous(self, alpha: float) -> bool:
        """Several lags fit: a separate rival peak is significant too, or (correlation) nearly as high as the
        best. Event matching is judged by the rival's p alone: its score counts matched events, and a few weak
        jitter events matching elsewhere lift the rival's share without making it a real alternative."""
        if self.statistic == "correlation" and self.rival_by_ratio:
            return self.rival_ratio >= RIVAL_RATIO
        return self.rival_p <= alpha or (self.statistic == "correlation" and self.rival_ratio >= RIVAL_RATIO)


def lag_against_null(audio: np.ndarray, visual: np.ndarray, valid: np.ndarray, fps: float, max_lag: int = MAX_LAG_FRAMES,
               surrogates: int = N_SURROGATES, seed: int = 0, jackknife: bool = False,
               syllabic: bool = False, alpha: float | None = None) -> LagTest | None:
    """The best lag and how it compares with block-shuffled audio (module docstring, steps 2–3); None when
    the signals are flat or too short to compare at any lag. `jackknife`: also measure how far the lag moves
    with one stretch of the clip left out (the motion source, whose signal one burst of motion can dominate;
    a mouth moves all through speech). `syllabic`: speech against a mouth, quasi-periodic at the syllable
    rate — its correlation has side peaks a syllable away that beat the null by themselves whenever the
    true peak is strong, so only a rival reaching `RIVAL_RATIO` of the best makes the lag ambiguous. The same
    holds with `jackknife` (contacts of a juggled or kicked ball are quasi-periodic too): there the jackknife
    asks directly whether the data prefer the best lag everywhere in the clip. `alpha`: the level the caller
    tests at; the null's first `NULL_PROBE` copies are scored first, and when they alone already put p above
    alpha the rest (and the jackknife) are skipped — p is then that lower bound, the row uncertain either way;
    otherwise the whole null is scored at once, exactly as without `alpha`."""
    n = len(audio)
    max_lag = int(min(max_lag, n - MIN_OVERLAP_FRAMES))
    if max_lag < 1 or np.ptp(audio) <= 1e-12 or np.ptp(visual[valid]) <= 1e-12:
        return None
    lags = np.arange(-max_lag, max_lag + 1)
    r = lag_correlations(audio, visual, valid, lags)[0]
    if not np.isfinite(r).any():
        return None
    j = int(np.nanargmax(r))
    sub = 0.0
    if 0 < j < len(lags) - 1 and np.isfinite(r[j - 1]) and np.isfinite(r[j + 1]):
        left, mid, right = r[j - 1], r[j], r[j + 1]
        curve = left - 2 * mid + right
        sub = float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5)) if abs(curve) > 1e-12 else 0.0
    block = surrogate_block(audio, fps)
    shuffled = block_shuffled(audio, block, surrogates, np.random.default_rng(seed))
    best = float(r[j])

    def null_of(batch: np.ndarray) -> np.ndarray:
        null_r = lag_correlations(batch, visual, valid, lags)
        return np.nan_to_num(np.nanmax(np.where(np.isfinite(null_r), null_r, -np.inf), axis=1), neginf=0.0)

    null = None
    if alpha is not None and surrogates > NULL_PROBE:
        probe = null_of(shuffled[:NULL_PROBE])
        if float((probe >= best).sum()) >= math.ceil(alpha * (surrogates + 1)):  # p > alpha already: no answer
            null = probe
    hopeless = null is not None
    null = null_of(shuffled) if null is None else null
    p = (1.0 + float((null >= best).sum())) / (1.0 + len(null))
    z = (best - float(null.mean())) / (float(null.std()) + 1e-9)
    # A second, separate peak that also beats the null means several lags fit (periodic or dense sound).
    peaks, _ = scipy.signal.find_peaks(np.nan_to_num(np.r_[-np.inf, r, -np.inf], nan=-np.inf, neginf=-1e9))
    others = [r[k - 1] for k in peaks if abs(lags[k - 1] - lags[j]) >= RIVAL_MIN_FRAMES]
    rival = float(max(others)) if others else float("-inf")
    rival_p = (1.0 + float((null >= rival).sum())) / (1.0 + len(null))
    ratio = rival / best if best > 0 and np.isfinite(rival) else 0.0
    return LagTest(lag_frames=float(lags[j]) + sub, correlation=best, p_value=p, z_score=z, rival_p=rival_p,
                   rival_ratio=max(0.0, ratio), at_edge=j in (0, len(lags) - 1), rival_by_ratio=syllabic or jackknife,
                   jackknife=_jackknife_spread(audio, visual, valid, lags, float(lags[j]), fps)
                   if jackknife and not hopeless else 0.0)


def _jackknife_spread(audio: np.ndarray, visual: np.ndarray, valid: np.ndarray, lags: np.ndarray, best: float,
                      fps: float) -> float:
    """How far the best lag moves when one stretch of `JACKKNIFE_BLOCK_S` (at least a quarter of the clip)
    is left out (frames).

    A lag carried by the whole clip stays put; one that rests on a single stretch (one burst of motion lined
    up with one loud passage) jumps — a block-shuffled null cannot see this when that stretch alone is
    unusual, so the row says `uncertain` instead."""
    idx = np.flatnonzero(valid)
    worst = 0.0
    blocks = max(JACKKNIFE_MIN_BLOCKS, int(round(len(idx) / (JACKKNIFE_BLOCK_S * fps))))
    for part in np.array_split(idx, blocks):
        keep = valid.copy()
        keep[part] = False
        if keep.sum() < MIN_OVERLAP_FRAMES * 2:
            continue
        r = lag_correlations(audio, visual, keep, lags)[0]
        if np.isfinite(r).any():
            worst = max(worst, abs(float(lags[int(np.nanargmax(r))]) - best))
    return worst


def sound_period(audio_env: np.ndarray, max_lag: int = MAX_LAG_FRAMES) -> tuple[int, float]:
    """(period in frames, autocorrelation there) when the sound repeats regularly within the searched lags,
    else (0, 0). Periodic: the autocorrelation (each lag normalised by its overlap) has a peak ≥
    `PERIOD_ACF` at a lag P ≥ 3 with P ≤ 2·max_lag and at least `PERIOD_MIN_REPEATS` repeats in the clip,
    and a peak ≥ ½·`PERIOD_ACF` again near 2P (a lone coincidence between two of a few events has none)."""
    x = np.asarray(audio_env, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    if n < 12 or float((x**2).sum()) <= 1e-12:
        return 0, 0.0
    acf = np.correlate(x, x, mode="full")[n - 1:]
    acf = acf / acf[0] * n / (n - np.arange(n))
    top = min(2 * max_lag, n // PERIOD_MIN_REPEATS)
    peaks, _ = scipy.signal.find_peaks(acf[: top + 1])
    for p in sorted((int(k) for k in peaks if k >= 3), key=lambda k: -acf[k]):
        if acf[p] < PERIOD_ACF:
            break
        second = acf[max(0, 2 * p - 1): min(n // 2, 2 * p + 1) + 1]
        if second.size and float(second.max()) >= 0.5 * PERIOD_ACF:
            return p, float(acf[p])
    return 0, 0.0


def surrogate_block(audio: np.ndarray, fps: float) -> int:
    """Shuffle-block length: twice the signal's own correlation width (how long one sound event lasts),
    between 2 frames and ½ s — long enough to keep an event whole, short enough to move every event."""
    x = audio - audio.mean()
    acf = np.correlate(x, x, mode="full")[len(x) - 1 :]
    acf = acf / (acf[0] + 1e-12)
    below = np.flatnonzero(acf < 0.5)
    width = int(below[0]) if below.size else len(x)
    return int(np.clip(2 * width, 2, max(2, round(SURROGATE_BLOCK_S * fps))))


CONFIDENCE_TABLE = Path(__file__).with_name("av_sync_confidence.json")
CONFIDENCE_MIN_ANSWERS = 8  # a source with fewer calibration answers uses the table pooled over all sources
CONFIDENCE_RANGE = (0.05, 0.95)  # a table from a few dozen clips never states certainty


@lru_cache(maxsize=4)
def _confidence_table(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def fit_confidence(z: Any, right: Any, source: Any) -> dict[str, Any]:
    """The confidence table: per source (and pooled), an isotonic (non-decreasing) step function from the null
    z-score to the observed share of answers within ±2 frames. Fitted by `python -m eval.calibrate --real`
    (which reports it leave-one-clip-out), shipped as `av_sync_confidence.json`."""
    z, right, source = np.asarray(z, float), np.asarray(right, float), np.asarray(source, dtype=object)
    keep = np.isfinite(z) & np.isfinite(right)
    z, right, source = z[keep], right[keep], source[keep]

    def fit(mask: np.ndarray) -> dict[str, Any]:
        xs, ps = _isotonic(z[mask], right[mask])
        return {"z": [round(float(v), 4) for v in xs], "p": [round(float(v), 4) for v in ps], "n": int(mask.sum())}

    table: dict[str, Any] = {"pooled": fit(np.ones(len(z), bool))} if len(z) else {}
    for name in sorted(set(source)):
        if (source == name).sum() >= CONFIDENCE_MIN_ANSWERS:
            table[str(name)] = fit(source == name)
    return table


def _isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-adjacent-violators: the non-decreasing fit of y on x, as (each block's first and last x, its mean)."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    blocks: list[list[float]] = []  # [sum, count, x_first, x_last]
    for xi, yi in zip(x, y):
        blocks.append([float(yi), 1.0, float(xi), float(xi)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            s2, c2, _, l2 = blocks.pop()
            blocks[-1][0] += s2
            blocks[-1][1] += c2
            blocks[-1][3] = l2
    xs, ps = [], []
    for total, count, first, last in blocks:
        for edge in (first, last) if last > first else (first,):
            xs.append(edge)
            ps.append(total / count)
    return np.asarray(xs), np.asarray(ps)


def calibrated_confidence(z: float, source: str = "", table: dict[str, Any] | None = None) -> float:
    """P(the answer is within ±2 frames) for a null z-score, read off the calibration table of its source
    (`fit_confidence`); NaN where no table is there."""
    table = _confidence_table(str(CONFIDENCE_TABLE)).get("sources", {}) if table is None else table
    step = table.get(source) or table.get("pooled")
    if not step or not np.isfinite(z):
        return float("nan")
    p = float(np.interp(z, step["z"], step["p"])) if len(step["z"]) > 1 else float(step["p"][0])
    return float(np.clip(p, *CONFIDENCE_RANGE))


def is_silent(audio: np.ndarray | None) -> bool:
    return audio is None or audio.size == 0 or float(np.abs(audio).max()) < SILENCE_PEAK


def score_sample(
    frames: Any,
    fps: float | Fraction,
    audio: Any,
    sample_rate: int | None,
    max_lag_frames: int = MAX_LAG_FRAMES,
    window_frames: int = WINDOW_FRAMES,
    alpha: float = ALPHA,
) -> AVSyncResult:
    """One clip → offset (ms, positive = audio late) with a significance test, calibrated confidence and
    AV-Align; "uncertain" (no offset, a reason) when the lag is not significant; "no audio" for silent clips."""
    from eval.metrics.av_sources import looks_rendered, paired_signals

    video = as_frames(frames, min_frames=4)
    track = as_audio(audio)
    if is_silent(track):
        return AVSyncResult(status="no audio", reason="the audio track is silent")
    if not sample_rate or sample_rate <= 0:
        raise MetricInputError("audio given without a positive sample_rate")
    rate = float(fps)
    if rate <= 0:
        raise MetricInputError(f"fps must be positive, got {fps}")
    candidates = paired_signals(video, rate, track, int(sample_rate), motion=False)
    if candidates.source == "face":
        signals = candidates
        test = lag_against_null(candidates.audio, candidates.visual, candidates.valid, rate, max_lag_frames,
                                syllabic=True)
        if test is not None:  # the mouth leads the voice: that much of the lag is speech, not the file
            test.lag_frames -= VISUAL_LEAD_MS * rate / 1000.0
    else:
        # Two sources, tested at ¾α and ¼α (a union bound keeps the chance of a false answer ≤ α). Events first:
        # where an object is tracked (rendered scenes, clean footage) its contacts are precise to a fraction of
        # a frame; the localised-motion source is only computed when the events give no unique answer.
        # The events source only on renders (`looks_rendered`): on camera footage it never gave a usable answer
        # and its colour tracking cost as much as all the rest. The motion source keeps its ¼α either way.
        a_events, a_motion = EVENTS_ALPHA_SHARE * alpha, (1.0 - EVENTS_ALPHA_SHARE) * alpha
        onsets = audio_onset_envelope(track, int(sample_rate), rate, len(video))
        rendered = looks_rendered(video)
        period, strength = sound_period(onsets, max_lag_frames)
        if period:
            # Repeating sound (hammering, a beat, kick-ups): every lag a period apart fits as well, and a visual
            # turn-round half a period away (the hammer's lift, a ball's apex) can fit too — no lag is identified.
            # (On a render the events' best lag stays visible as a diagnostic; camera footage is not analysed.)
            lag = (estimate_offset(onsets, np.sqrt(visual_event_envelope(video)), max_lag_frames)[0] if rendered
                   else math.nan)
            why = (f"the sound repeats every {period} frames (autocorrelation {strength:.2f} at one period and "
                   f"again at two): a lag is only known up to a period, so none is given")
            return AVSyncResult(status="uncertain", reason=why, source="events" if rendered else "motion",
                                best_lag_frames=lag)
        test, alpha = None, a_motion
        if rendered:
            signals = _event_signals(video, onsets)
            test = event_lag_against_null(signals.audio, signals.visual, max_lag_frames, alpha=a_events,
                                          audio_events=audio_onset_events(track, int(sample_rate), rate, len(video)))
            alpha = a_events
        if test is None or test.unusable(a_events):
            motion = paired_signals(video, rate, track, int(sample_rate), face=False, flux=onsets)
            other = lag_against_null(motion.audio, motion.visual, motion.valid, rate, max_lag_frames, jackknife=True,
                                     alpha=a_motion)
            if not rendered or (other is not None and (
                    test is None or (other.unusable(a_motion), other.p_value / a_motion, -other.z_score)
                    < (test.unusable(a_events), test.p_value / a_events, -test.z_score))):
                signals, test, alpha = motion, other, a_motion
    a_peaks = envelope_peaks(np.maximum(signals.audio - np.median(signals.audio), 0.0))
    v_peaks = envelope_peaks(np.maximum(signals.visual - np.median(signals.visual), 0.0))
    base = {"audio_peaks": a_peaks.tolist(), "video_peaks": v_peaks.tolist(), "source": signals.source}
    if test is None:
        flat = "visual" if np.ptp(signals.visual[signals.valid]) <= 1e-12 else "audio"
        return AVSyncResult(status=f"no {flat} events", reason=f"the {flat} signal is flat or the clip too short", **base)
    align = av_align_score(a_peaks, v_peaks, window_frames) if len(a_peaks) or len(v_peaks) else float("nan")
    common = {"av_align": align, "p_value": test.p_value, "z_score": test.z_score, "correlation": test.correlation,
              "best_lag_frames": test.lag_frames, "confidence": calibrated_confidence(test.z_score, signals.source), **base}
    if test.p_value > alpha:
        why = (f"the best lag ({test.lag_frames:+.1f} frames, r = {test.correlation:.2f}) is not significant against "
               f"shuffled audio (p = {test.p_value:.3f} > {alpha:g}; {signals.source} source: {signals.note})")
        return AVSyncResult(status="uncertain", reason=why, **common)
    if test.at_edge:
        why = (f"the best lag ({test.lag_frames:+.1f} frames) is at the edge of the searched ±{max_lag_frames} frames: "
               f"the real one may lie beyond")
        return AVSyncResult(status="uncertain", reason=why, **common)
    if test.imprecise():
        why = (f"the matched events disagree (median spread {test.spread:.2f} frames over {test.pairs} pairs): "
               f"sounds and visual events do not pair up as contacts")
        return AVSyncResult(status="uncertain", reason=why, **common)
    if test.unstable():
        why = (f"the best lag ({test.lag_frames:+.1f} frames) rests on one stretch of the clip: leaving out "
               f"{JACKKNIFE_BLOCK_S:g} s of it moves the lag by {test.jackknife:.1f} frames")
        return AVSyncResult(status="uncertain", reason=why, **common)
    if test.ambiguous(alpha):
        why = (f"several lags fit (best {test.lag_frames:+.1f} frames; a separate rival peak reaches "
               f"{test.rival_ratio:.0%} of it, p = {test.rival_p:.3f}): periodic or dense sound")
        return AVSyncResult(status="uncertain", reason=why, **common)
    return AVSyncResult(status="ok", offset_ms=test.lag_frames * 1000.0 / rate, offset_frames=test.lag_frames, **common)


def event_lag_against_null(audio_env: np.ndarray, video_env: np.ndarray, max_lag: int = MAX_LAG_FRAMES,
                           surrogates: int = N_EVENT_SURROGATES, seed: int = 0, alpha: float | None = None,
                           audio_events: Events | None = None) -> LagTest | None:
    """The event-matching lag with the same kind of test: the best lag's match score (`match_scores`)
    against the best score of audio events placed at random times (same count and weights). With `alpha`,
    the null stops as soon as p can no longer reach it (then p is a lower bound, already > alpha).
    `audio_events`: sub-frame audio events (`audio_onset_events`) instead of the envelope's peaks."""
    audio, video = audio_events if audio_events is not None else find_events(audio_env), find_events(video_env)
    audio, video = _strongest(audio), _strongest(video)
    n = len(audio_env)
    max_lag = min(max_lag, n - 2)
    if len(audio.times) == 0 or len(video.times) == 0 or max_lag < 1:
        return None
    # quarter-frame lags, each pair weighted by how close it lands (σ = ¼ frame): precise events are strong
    # evidence, pairs that merely fall within the ±1-frame window by chance are weak.
    lags = np.arange(-max_lag, max_lag + 0.01, LAG_STEP)
    scores = match_scores_sparse(audio.times[None], audio.weights[None], video, lags, n)[0]
    j = int(np.argmax(scores))
    if scores[j] <= 0:
        return None
    rng = np.random.default_rng(seed)
    best = float(scores[j])
    give_up = math.inf if alpha is None else math.ceil(alpha * (surrogates + 1))
    chunks: list[np.ndarray] = []
    done = 0
    while done < surrogates:
        k = min(EVENT_NULL_CHUNK, surrogates - done)
        fake_t = rng.uniform(0, n - 1, (k, len(audio.times)))
        fake_w = np.stack([rng.permutation(audio.weights) for _ in range(k)])
        chunks.append(match_scores_sparse(fake_t, fake_w, video, lags, n).max(1))
        done += k
        exceed = sum(int((c >= best).sum()) for c in chunks)
        if exceed >= give_up:
            break
        if alpha is not None and exceed == 0 and done >= EVENT_NULL_SURE:  # none beat it: p ≤ 1/(done+1) ≪ α
            break
    null = np.concatenate(chunks)
    away = np.abs(lags - lags[j]) >= RIVAL_MIN_FRAMES
    rival = float(scores[away].max()) if away.any() else 0.0
    p = (1.0 + float((null >= best).sum())) / (1.0 + len(null))
    rival_p = (1.0 + float((null >= rival).sum())) / (1.0 + len(null)) if rival > 0 else 1.0
    z = (best - float(null.mean())) / (float(null.std()) + 1e-9)
    deltas = match_at_lag(audio, video, float(lags[j]), n, sigma=EVENT_SIGMA_FRAMES)[1]
    spread = float(np.median(np.abs(deltas - deltas.mean()))) if len(deltas) else math.inf
    lag = float(np.mean(deltas)) if len(deltas) else float(lags[j])
    return LagTest(lag_frames=lag, correlation=best, p_value=p, z_score=z, rival_p=rival_p,
                   rival_ratio=rival / best, statistic="events", at_edge=j in (0, len(lags) - 1), spread=spread,
                   pairs=len(deltas))


def match_scores(audio_times: np.ndarray, audio_weights: np.ndarray, video: Events, lags: np.ndarray,
                 n: int) -> np.ndarray:
    """Match score of K audio event lists (K × m times and weights) against the video events at every lag
    (K × lags), vectorised so that the null can use many placements.

    As `match_at_lag` with σ = `EVENT_SIGMA_FRAMES`: events inside the overlap only, a pair within
    ±`MATCH_FRAMES` weighted √(w_a·w_v)·exp(−½(gap/σ)²), weighted Dice × the overlap's share. One-to-one
    is approximated by taking each event's best partner from both sides and keeping the smaller sum (two
    audio events sharing one video partner count it once)."""
    def inside(t: np.ndarray) -> np.ndarray:
        return (t >= EDGE_FRAMES) & (t <= n - 1 - EDGE_FRAMES)

    out = np.zeros((audio_times.shape[0], len(lags)))
    pair_w = np.sqrt(audio_weights[:, :, None] * video.weights[None, None, :]).astype(np.float32)
    base = (audio_times[:, :, None] - video.times[None, None, :]).astype(np.float32)
    a_in, v_in = inside(audio_times), inside(video.times)
    for k, lag in enumerate(lags):
        ia = a_in & inside(audio_times - lag)
        iv = v_in & inside(video.times + lag)
        total = (audio_weights * ia).sum(1) + float(video.weights[iv].sum())
        gap = base - np.float32(lag)
        close = np.exp(np.float32(-0.5 / EVENT_SIGMA_FRAMES**2) * gap * gap)
        close[np.abs(gap) > MATCH_FRAMES] = 0.0
        c = close * pair_w * (ia[:, :, None] & iv[None, None, :])
        matched = np.minimum(c.max(2).sum(1), c.max(1).sum(1))
        out[:, k] = np.where(total > 0, 2.0 * matched / np.maximum(total, 1e-12), 0.0) * (n - abs(lag)) / n
    return out


def match_scores_sparse(audio_times: np.ndarray, audio_weights: np.ndarray, video: Events, lags: np.ndarray,
                        n: int) -> np.ndarray:
    """`match_scores`, computed only where an audio and a video event can pair (|gap − lag| ≤ `MATCH_FRAMES`)
    instead of for every pair at every lag: a pair is close at ~9 of the ~145 quarter-frame lags, so the
    null's cost falls ~15× (same numbers to float rounding). Needs evenly spaced lags."""
    lags = np.asarray(lags, dtype=np.float64)
    k_n, m = audio_times.shape
    n_lags = len(lags)
    step = float(lags[1] - lags[0]) if n_lags > 1 else 1.0
    if n_lags < 2 or not np.allclose(np.diff(lags), step):
        return match_scores(audio_times, audio_weights, video, lags, n)

    def inside(t: np.ndarray) -> np.ndarray:
        return (t >= EDGE_FRAMES) & (t <= n - 1 - EDGE_FRAMES)

    a_in = inside(audio_times)  # K × m
    ia = a_in[:, :, None] & inside(audio_times[:, :, None] - lags[None, None, :])  # K × m × L
    iv = inside(video.times)[:, None] & inside(video.times[:, None] + lags[None, :])  # v × L
    total = (audio_weights[:, :, None] * ia).sum(1) + (video.weights[:, None] * iv).sum(0)[None, :]  # K × L
    base = audio_times[:, :, None] - video.times[None, None, :]  # K × m × v
    kk, aa, vv = np.nonzero((base >= lags[0] - MATCH_FRAMES) & (base <= lags[-1] + MATCH_FRAMES))
    best_a = np.zeros((k_n, n_lags, m))
    best_v = np.zeros((k_n, n_lags, len(video.times)))
    if len(kk):
        g = base[kk, aa, vv]
        first = np.ceil((g - MATCH_FRAMES - lags[0]) / step - 1e-9).astype(int)
        span = int(np.ceil(2 * MATCH_FRAMES / step)) + 1
        li = first[:, None] + np.arange(span)[None, :]  # triples × span
        ok = (li >= 0) & (li < n_lags)
        li_c = np.clip(li, 0, n_lags - 1)
        gap = g[:, None] - lags[li_c]
        ok &= np.abs(gap) <= MATCH_FRAMES
        ok &= ia[kk[:, None], aa[:, None], li_c] & iv[vv[:, None], li_c]
        w = np.sqrt(audio_weights[kk, aa] * video.weights[vv])[:, None]
        c = np.exp(-0.5 / EVENT_SIGMA_FRAMES**2 * gap * gap) * w
        t, j = np.nonzero(ok)
        np.maximum.at(best_a, (kk[t], li_c[t, j], aa[t]), c[t, j])
        np.maximum.at(best_v, (kk[t], li_c[t, j], vv[t]), c[t, j])
    matched = np.minimum(best_a.sum(2), best_v.sum(2))
    share = (n - np.abs(lags)) / n
    return np.where(total > 0, 2.0 * matched / np.maximum(total, 1e-12), 0.0) * share[None, :]


def _strongest(events: Events, k: int = MAX_TESTED_EVENTS) -> Events:
    if len(events.times) <= k:
        return events
    keep = np.sort(np.argsort(-events.weights, kind="stable")[:k])
    return Events(events.times[keep], events.weights[keep])


def audio_onset_events(audio: np.ndarray, sample_rate: int, fps: float, num_frames: int) -> Events:
    """Onsets placed to a quarter frame: peaks of the spectral flux at its own hop (¼ frame), not binned to
    frames first (a binned peak loses where in the frame the sound began)."""
    mono = audio.mean(0).astype(np.float64)
    hop = max(1, int(round(sample_rate / (fps * 4))))
    times, flux = _spectral_flux(mono, sample_rate, 2 * hop, hop)
    top = float(flux.max()) if flux.size else 0.0
    if top <= 1e-9:
        return Events(np.zeros(0), np.zeros(0))
    peaks, props = scipy.signal.find_peaks(flux, height=EVENT_HEIGHT * top, prominence=0.5 * EVENT_HEIGHT * top,
                                           distance=4)
    t = times[peaks] * fps
    keep = (t >= 0) & (t <= num_frames - 1)
    return Events(t[keep], (props["peak_heights"][keep] / top) ** EVENT_WEIGHT_POWER)


def _event_signals(video: np.ndarray, onsets: np.ndarray) -> Any:
    """The event source (renders only, see `score_sample`): the audio onset envelope and the visual event
    envelope (tracked colour objects, else the whole frame's flow change, plus flashes)."""
    from eval.metrics.av_sources import PairedSignals

    return PairedSignals("events", onsets, np.sqrt(visual_event_envelope(video)), np.ones(len(video), bool),
                         "event matching")


def load_learned_sync_model(path: str | None = None, device: str = "cpu") -> Any:
    """The optional learned AV-sync model (Synchformer, `eval.features.synchformer`) from a local file or the
    local HF cache — default: MMAudio's `synchformer_state_dict.pth`. Never downloads: when the weights are not
    on this machine it raises MetricSkipped with the command to fetch them. Score clips with
    `eval.metrics.av_sync_learned.score_clip`."""
    from eval.features.synchformer import DEFAULT_SYNCHFORMER, load_synchformer

    return load_synchformer(path or DEFAULT_SYNCHFORMER, device=device)


