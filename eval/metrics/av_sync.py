"""Audio–visual synchrony without learned weights: audio onsets matched to visual events, plus AV-Align.

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

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import cv2
import numpy as np
import scipy.ndimage
import scipy.signal
import torch
from torchmetrics import Metric

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
EVENT_HEIGHT = 0.1  # an event for the offset: a peak of at least this share of the envelope's maximum
EVENT_WEIGHT_POWER = 0.5  # event weight = (peak / max) ** this: a mild preference for strong events
MATCH_FRAMES = 1.0  # an audio and a visual event pair up when this close (frames), after the lag
EDGE_FRAMES = 1.0  # events this close to either end of the overlap are not counted (onsets may be cut)
MIN_SPEED_PX = 0.5  # below this (in and out of a frame) a tracked object counts as at rest: no event
GRAVITY_WINDOW = 7  # frames of running median removed from the tracked events (what stays level is no event)


@dataclass
class AVSyncResult:
    status: str  # "ok" | "no audio" | "no visual events" | "no audio events" | "no matching events"
    offset_ms: float = float("nan")
    offset_frames: float = float("nan")
    confidence: float = float("nan")
    av_align: float = float("nan")
    audio_peaks: list[int] = field(default_factory=list)
    video_peaks: list[int] = field(default_factory=list)

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
    diff[1:] = np.abs(np.diff(gray.astype(np.float32), axis=0)).mean(axis=(1, 2))
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
    residual = np.linalg.norm(dv - steady, axis=1)
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


def match_at_lag(audio: Events, video: Events, lag: int, n: int) -> tuple[float, np.ndarray]:
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
        matched += float(np.sqrt(audio.weights[a_idx[i]] * video.weights[v_idx[j]]))
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


def is_silent(audio: np.ndarray | None) -> bool:
    return audio is None or audio.size == 0 or float(np.abs(audio).max()) < SILENCE_PEAK


def score_sample(
    frames: Any,
    fps: float | Fraction,
    audio: Any,
    sample_rate: int | None,
    max_lag_frames: int = MAX_LAG_FRAMES,
    window_frames: int = WINDOW_FRAMES,
) -> AVSyncResult:
    """One clip → offset (ms, positive = audio late), confidence, AV-Align; "no audio" for silent clips."""
    video = as_frames(frames, min_frames=4)
    track = as_audio(audio)
    if is_silent(track):
        return AVSyncResult(status="no audio")
    if not sample_rate or sample_rate <= 0:
        raise MetricInputError("audio given without a positive sample_rate")
    rate = float(fps)
    if rate <= 0:
        raise MetricInputError(f"fps must be positive, got {fps}")
    audio_env = audio_onset_envelope(track, int(sample_rate), rate, len(video))
    video_env = visual_event_envelope(video)
    # Peaks on the visual amplitude (√ of the squared envelope), so weaker real events still count.
    a_peaks, v_peaks = envelope_peaks(audio_env), envelope_peaks(np.sqrt(video_env))
    if len(v_peaks) == 0:
        return AVSyncResult(status="no visual events", audio_peaks=a_peaks.tolist())
    if len(a_peaks) == 0:
        return AVSyncResult(status="no audio events", video_peaks=v_peaks.tolist())
    lag, confidence = estimate_offset(audio_env, np.sqrt(video_env), max_lag_frames)
    if not np.isfinite(lag):
        return AVSyncResult(status="no matching events", audio_peaks=a_peaks.tolist(), video_peaks=v_peaks.tolist())
    return AVSyncResult(
        status="ok",
        offset_ms=lag * 1000.0 / rate,
        offset_frames=lag,
        confidence=confidence,
        av_align=av_align_score(a_peaks, v_peaks, window_frames),
        audio_peaks=a_peaks.tolist(),
        video_peaks=v_peaks.tolist(),
    )


def load_learned_sync_model(path: str | None = None, device: str = "cpu") -> Any:
    """The optional learned AV-sync model (Synchformer, `eval.features.synchformer`) from a local file or the
    local HF cache — default: MMAudio's `synchformer_state_dict.pth`. Never downloads: when the weights are not
    on this machine it raises MetricSkipped with the command to fetch them. Score clips with
    `eval.metrics.av_sync_learned.score_clip`."""
    from eval.features.synchformer import DEFAULT_SYNCHFORMER, load_synchformer

    return load_synchformer(path or DEFAULT_SYNCHFORMER, device=device)


class AVSync(Metric):
    """Mean AV-Align, mean |offset| (ms) and counts; clips without sound are counted, not scored."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, max_lag_frames: int = MAX_LAG_FRAMES, window_frames: int = WINDOW_FRAMES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_lag_frames = max_lag_frames
        self.window_frames = window_frames
        for name in ("align_sum", "abs_offset_ms_sum", "confidence_sum"):
            self.add_state(name, torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        for name in ("n_scored", "n_no_audio", "n_no_events"):
            self.add_state(name, torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, frames: Any, fps: float | Fraction, audio: Any, sample_rate: int | None) -> None:  # type: ignore[override]
        result = score_sample(frames, fps, audio, sample_rate, self.max_lag_frames, self.window_frames)
        if result.status == "no audio":
            self.n_no_audio += 1
        elif result.status != "ok":
            self.n_no_events += 1
        else:
            self.align_sum += result.av_align
            self.abs_offset_ms_sum += abs(result.offset_ms)
            self.confidence_sum += result.confidence
            self.n_scored += 1

    def compute(self) -> dict[str, float]:
        n = int(self.n_scored)
        mean = (lambda s: float(s) / n) if n else (lambda s: float("nan"))
        return {
            "av_align": mean(self.align_sum),
            "abs_offset_ms": mean(self.abs_offset_ms_sum),
            "confidence": mean(self.confidence_sum),
            "n": n,
            "n_no_audio": int(self.n_no_audio),
            "n_no_events": int(self.n_no_events),
        }
