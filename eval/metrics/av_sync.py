"""Audio–visual synchrony without learned weights: onset envelopes cross-correlated, plus AV-Align.

Audio events: spectral flux (half-wave rectified rise of log-magnitude STFT) on a hop of a quarter
video frame, binned to video frames (bin i covers [i − ½, i + ½) / fps).
Visual events: per frame i, (a) the squared speed lost along the motion's own direction by tracked
saturated-colour objects (`eval.metrics.tracking`; impacts lose 2·speed, a release or a fall loses none),
minus its running median (steady gravity on the way up), or — when no such object is found — the squared change of the mean Farneback
optical-flow vector between the motion into frame i and out of it: both spike where a motion starts,
stops or reverses (impacts, bounces), while gravity alone changes velocity only a little per frame; plus
(b) a half-weight squared high-pass (minus 3× a 7-frame median) of the mean absolute frame difference
(flashes, appearances). Frames are downscaled to ≤ 128 px first.

offset: the lag (in frames, sub-frame by parabolic interpolation) maximising the cross-correlation of the
z-scored envelopes (summed over the overlap, divided by the clip length) over ±`max_lag_frames`,
taking the highest interior peak (an edge maximum is no estimate), reported in ms.
**Sign: positive = audio late** (the sound comes after the picture). confidence: the correlation peak's
height above the runner-up lag (≥ 2 frames away), relative to its height above the median, in [0, 1].
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

from eval.metrics.errors import MetricInputError, MetricSkipped
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
EVENT_WEIGHT_POWER = 0.25  # event weight = (peak / max) ** this: a mild preference for strong events (0.25 measured best on calibration clips)
MIN_SPEED_PX = 0.5  # below this a tracked object counts as at rest: no direction to lose speed along
GRAVITY_WINDOW = 7  # frames of running median removed from tracked acceleration (steady gravity, not events)


@dataclass
class AVSyncResult:
    status: str  # "ok" | "no audio" | "no visual events" | "no audio events"
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
    """|Δ²centroid| summed over saturated-colour objects (precise for rendered scenes); None if none found."""
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
        c = track.centroid
        accel[1:-1] += _deceleration(c)
    if not found:
        return None
    # Steady gravity adds the same Δv every frame: only what stands above the local level is an event.
    accel = np.maximum(accel - scipy.ndimage.median_filter(accel, GRAVITY_WINDOW, mode="nearest"), 0.0)
    # Log-compressed against the typical per-frame change (gravity, rounding), so one huge jump (a
    # teleport) cannot flatten every ordinary impact after max-normalisation.
    return np.log1p(accel / (float(np.median(accel)) + 0.5))


def _deceleration(c: np.ndarray) -> np.ndarray:
    """Per inner frame, how much velocity the motion lost along its own direction (px/frame²).

    Sounds come from contacts, which take momentum out of a motion (an impact reverses it: 2·speed);
    speeding up (a release, a fall) makes none, so it does not count. NaN (object missing) → 0.
    """
    v_in, v_out = c[1:-1] - c[:-2], c[2:] - c[1:-1]
    speed = np.linalg.norm(v_in, axis=1)
    along = np.einsum("ij,ij->i", v_out - v_in, v_in) / np.maximum(speed, 1e-9)
    lost = np.where(speed >= MIN_SPEED_PX, np.maximum(-along, 0.0), 0.0)
    return np.nan_to_num(lost, nan=0.0)


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


def event_train(env: np.ndarray, height: float = EVENT_HEIGHT) -> np.ndarray:
    """The envelope's peaks as a train of weights √(peak / max), blurred over ±1 frame.

    Audio loudness and visual acceleration of the same impacts are not proportional (the loudest sound
    is often not the hardest-looking hit), so matching amplitudes lets one big event pair with the wrong
    partner; matching *which frames have events* does not. √ keeps a mild preference for strong events.
    """
    train = np.zeros(len(env))
    top = float(env.max()) if env.size else 0.0
    if top <= 1e-9:
        return train
    padded = np.r_[0.0, env, 0.0]
    peaks, props = scipy.signal.find_peaks(padded, height=height * top, prominence=0.5 * height * top)
    train[peaks - 1] = (props["peak_heights"] / top) ** EVENT_WEIGHT_POWER
    return np.convolve(train, [0.5, 1.0, 0.5], "same")


def estimate_offset(audio_env: np.ndarray, video_env: np.ndarray, max_lag: int = MAX_LAG_FRAMES) -> tuple[float, float]:
    """(lag in frames, confidence); positive lag = audio events come after the matching visual events.

    The envelopes are reduced to event trains (`event_train`) and cross-correlated. The best lag is the
    highest interior local maximum: a maximum on the window's edge only says the curve is still rising.
    """
    a, v = event_train(audio_env), event_train(video_env)
    n = len(a)
    max_lag = min(max_lag, n - 2)
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.array([_overlap_corr(a, v, lag) for lag in lags])
    interior = [k for k in range(1, len(corr) - 1) if corr[k] >= corr[k - 1] and corr[k] >= corr[k + 1]]
    best = max(interior, key=lambda k: corr[k]) if interior else int(np.argmax(corr))
    shift = 0.0
    if 0 < best < len(corr) - 1:
        left, mid, right = corr[best - 1], corr[best], corr[best + 1]
        denom = left - 2 * mid + right
        shift = 0.5 * (left - right) / denom if abs(denom) > 1e-12 else 0.0
    # Prominence over the runner-up: how far the best lag stands above any lag ≥ 2 frames away.
    away = np.abs(np.arange(len(corr)) - best) >= 2
    runner_up = corr[away].max() if away.any() else float(np.median(corr))
    spread = corr[best] - float(np.median(corr))
    confidence = float(np.clip((corr[best] - runner_up) / spread, 0.0, 1.0)) if spread > 1e-12 else 0.0
    return float(lags[best] + np.clip(shift, -0.5, 0.5)), confidence


def _overlap_corr(a: np.ndarray, v: np.ndarray, lag: int) -> float:
    """sum of a[i + lag]·v[i] over the overlap / the full length (audio later by `lag` frames aligns with v).

    Dividing by the full length, not the overlap, keeps long lags (short overlaps) from being inflated
    by a few coinciding events.
    """
    if lag >= 0:
        return float(np.sum(a[lag:] * v[: len(v) - lag]) / len(a))
    return float(np.sum(a[: len(a) + lag] * v[-lag:]) / len(a))


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
    return AVSyncResult(
        status="ok",
        offset_ms=lag * 1000.0 / rate,
        offset_frames=lag,
        confidence=confidence,
        av_align=av_align_score(a_peaks, v_peaks, window_frames),
        audio_peaks=a_peaks.tolist(),
        video_peaks=v_peaks.tolist(),
    )


def load_learned_sync_model(path: str | None = None) -> Any:
    """Optional learned AV-sync model (SyncNet-style); not bundled, so this always reports how to get one."""
    raise MetricSkipped(
        "no learned AV-sync model is bundled with sora-lite",
        "the weight-free estimator (spectral flux × optical flow) is used; a learned model such as "
        "Synchformer needs its checkpoint downloaded by hand and an adapter in eval/metrics/av_sync.py",
    )


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
