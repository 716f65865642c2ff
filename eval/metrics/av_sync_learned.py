"""Learned audio–visual sync: Synchformer's offset prediction and the DeSync score of MMAudio's av-benchmark.

Optional: used only when the Synchformer weights are on this machine (`eval.features.synchformer`).

Input, built from any `Clip` as Synchformer's test transforms and av-benchmark's extractors do:
- video → 25 fps by frame selection: output frame k is source frame ⌊k · fps / 25⌋, for k < ⌊T · 25 / fps⌋
  (Synchformer's `ResampleRGB`); each frame resized so its short side is 224 px (bicubic, antialiased,
  long side truncated as torchvision does) and centre-cropped to 224 × 224 (av-benchmark's
  `Resize(224) + CenterCrop(224)`; Synchformer's own test set was first scaled to 256 then cropped), then
  scaled to [0, 1] and normalised with mean = std = 0.5.
- audio → mono (channel mean) at 16 kHz with `scipy.signal.resample_poly` (torchaudio, which the
  reference uses, is not installed; a polyphase FIR at the exact rational ratio is a standard
  band-limited resampler and needs no state, unlike PyAV's frame-wise `AudioResampler`).
- segments: 16 frames (0.64 s) every 8 frames, and 10240 samples every 5120 samples, both from the clip's
  start; a clip has as many segments as both streams can fill.
- per audio segment: power mel spectrogram (n_fft 1024, Hann window 400, hop 160, centred with reflect
  padding, 128 HTK mel bands 0–8 kHz, no filter normalisation — torchaudio's `MelSpectrogram` defaults),
  log(x + 1e-6), padded on the right with 0.0 from 65 to 66 frames, then (x − (−4.2677393)) / (2 · 4.5689974)
  (AST's AudioSet statistics, halved as Synchformer does).

Windows (av-benchmark's DeSync protocol): the model reads 14 segments = 4.8 s at a time. Scored windows
are the first 14 segments and the last 14 (one window when the clip has exactly 14 — e.g. an 8 s clip
has 24 segments, windows start at 0 s and 3.2 s). A clip shorter than one window (fewer than 14
segments, i.e. under ~4.8 s of both picture and sound) gets status "too short" and no score: padding
it would show the model frozen frames or silence it never saw in training, and av-benchmark refuses
such clips too. A clip with no audio or all-zero audio gets "no audio" (`eval.metrics.av_sync.is_silent`).

Output per window: the 21-way distribution over offsets −2.0 … +2.0 s (0.2 s steps), its most likely
offset and that class's probability. **Sign: positive = audio late** (the sound comes after the picture),
as in `eval.metrics.av_sync`; Synchformer's own classes use the opposite sign (positive = audio early),
so class i of the model is offset −(−2 + 0.2 i) here and `distribution` is listed in this file's order
(ascending offsets, audio early → audio late).
DeSync = |predicted offset| averaged over the clip's windows (seconds; 0 = in sync, lower is better) —
av-benchmark averages the first- and last-window values of every clip, then over clips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F

from eval.features.synchformer import SynchformerModel
from eval.metrics.av_sync import is_silent
from eval.metrics.errors import MetricInputError
from eval.metrics.frames import as_audio, as_frames

VIDEO_FPS = 25
SAMPLE_RATE = 16_000
SEGMENT_FRAMES = 16
SEGMENT_STEP_FRAMES = 8
SEGMENT_SAMPLES = 10_240  # 0.64 s at 16 kHz
SEGMENT_STEP_SAMPLES = 5_120
WINDOW_SEGMENTS = 14  # 4.8 s
N_FFT = 1024
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 128
SPEC_FRAMES = 66
LOG_EPS = 1e-6
AST_MEAN = -4.2677393
AST_STD = 4.5689974
MAX_OFFSET_S = 2.0
NUM_OFFSETS = 21
# Class j of `distribution` ↔ this offset in seconds, positive = audio late.
OFFSET_GRID_S = tuple(round(-MAX_OFFSET_S + j * 2 * MAX_OFFSET_S / (NUM_OFFSETS - 1), 6) for j in range(NUM_OFFSETS))
WINDOW_SECONDS = ((WINDOW_SEGMENTS - 1) * SEGMENT_STEP_FRAMES + SEGMENT_FRAMES) / VIDEO_FPS


@dataclass
class WindowPrediction:
    start_s: float  # where the 4.8 s window starts in the clip
    offset_s: float  # most likely offset, positive = audio late
    probability: float  # that class's probability
    distribution: list[float]  # over OFFSET_GRID_S


@dataclass
class LearnedSyncResult:
    """One clip. status: "ok" | "no audio" | "too short"; numbers are NaN unless "ok"."""

    status: str
    desync: float = float("nan")  # mean |offset_s| over windows, seconds
    offset_s: float = float("nan")  # mean signed offset over windows, positive = audio late
    probability: float = float("nan")  # mean probability of each window's predicted class
    distribution: list[float] = field(default_factory=list)  # mean of the windows' distributions
    windows: list[WindowPrediction] = field(default_factory=list)
    segments: int = 0  # 0.64 s segments the clip holds (14 make a window)
    message: str = ""

    @property
    def offset_ms(self) -> float:
        return self.offset_s * 1000.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- input ----------------------------------------------------------------------------------------------

def resample_frames(frames: np.ndarray, fps: float | Fraction, target_fps: int = VIDEO_FPS) -> np.ndarray:
    """Frames at `target_fps` by selection: output k = input ⌊k · fps / target⌋ (Synchformer's ResampleRGB)."""
    rate = Fraction(fps).limit_denominator(1001 * 1000) if not isinstance(fps, Fraction) else fps
    if rate <= 0:
        raise MetricInputError(f"fps must be positive, got {fps}")
    count = int(len(frames) * target_fps // rate)
    indices = [int(k * rate // target_fps) for k in range(count)]
    return frames[indices]


def resize_and_crop(frames: np.ndarray, size: int, chunk: int = 32) -> np.ndarray:
    """uint8 T×H×W×3 → T×size×size×3: short side to `size` (bicubic, antialiased), centre crop."""
    t, h, w, _ = frames.shape
    short, long = min(h, w), max(h, w)
    new_long = int(size * long / short)
    new_h, new_w = (size, new_long) if h <= w else (new_long, size)
    top, left = round((new_h - size) / 2.0), round((new_w - size) / 2.0)
    out = np.empty((t, size, size, 3), dtype=np.uint8)
    for start in range(0, t, chunk):
        x = torch.from_numpy(frames[start:start + chunk]).permute(0, 3, 1, 2).float()
        if (new_h, new_w) != (h, w):
            x = F.interpolate(x, size=(new_h, new_w), mode="bicubic", antialias=True, align_corners=False)
        x = x[:, :, top:top + size, left:left + size].round().clamp(0, 255).to(torch.uint8)
        out[start:start + chunk] = x.permute(0, 2, 3, 1).numpy()
    return out


def resample_audio(audio: np.ndarray, sample_rate: int, target_rate: int = SAMPLE_RATE) -> np.ndarray:
    """channels×samples float → mono float32 at `target_rate` (channel mean, then polyphase resampling)."""
    if not sample_rate or sample_rate <= 0:
        raise MetricInputError("audio given without a positive sample_rate")
    mono = np.asarray(audio, dtype=np.float64).mean(axis=0)
    ratio = Fraction(target_rate, int(sample_rate))
    if ratio != 1:
        mono = scipy.signal.resample_poly(mono, ratio.numerator, ratio.denominator)
    return mono.astype(np.float32)


def count_segments(num_frames: int, num_samples: int) -> int:
    """Segments both streams can fill (at 25 fps and 16 kHz)."""
    video = (num_frames - SEGMENT_FRAMES) // SEGMENT_STEP_FRAMES + 1 if num_frames >= SEGMENT_FRAMES else 0
    audio = (num_samples - SEGMENT_SAMPLES) // SEGMENT_STEP_SAMPLES + 1 if num_samples >= SEGMENT_SAMPLES else 0
    return max(0, min(video, audio))


def window_starts(segments: int) -> list[int]:
    """First segment of each scored window: the first 14 segments and the last 14 (av-benchmark's DeSync)."""
    if segments < WINDOW_SEGMENTS:
        return []
    return sorted({0, segments - WINDOW_SEGMENTS})


def video_segments(frames: np.ndarray, indices: Sequence[int]) -> torch.Tensor:
    """uint8 T×S×S×3 at 25 fps → (len(indices), 16, 3, S, S) float, normalised to [-1, 1]."""
    stacked = np.stack([frames[i * SEGMENT_STEP_FRAMES:i * SEGMENT_STEP_FRAMES + SEGMENT_FRAMES] for i in indices])
    x = torch.from_numpy(stacked).permute(0, 1, 4, 2, 3).float() / 255.0
    return (x - 0.5) / 0.5


def mel_filters() -> torch.Tensor:
    """(513 frequency bins, 128 mels) HTK triangles 0–8 kHz, unnormalised: torchaudio's `melscale_fbanks`."""
    from transformers.audio_utils import mel_filter_bank

    bank = mel_filter_bank(num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=N_MELS, min_frequency=0.0,
                           max_frequency=SAMPLE_RATE / 2, sampling_rate=SAMPLE_RATE, norm=None, mel_scale="htk")
    return torch.from_numpy(bank).float()


def log_mel(waves: torch.Tensor) -> torch.Tensor:
    """(..., samples) at 16 kHz → (..., 128, 1 + samples // 160) of log(mel power + 1e-6)."""
    window = torch.hann_window(WIN_LENGTH, periodic=True, dtype=waves.dtype)
    flat = waves.reshape(-1, waves.shape[-1])
    spec = torch.stft(flat, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH, window=window,
                      center=True, pad_mode="reflect", return_complex=True).abs().pow(2)  # (N, 513, frames)
    mel = torch.einsum("nft,fm->nmt", spec, mel_filters().to(spec.dtype))
    return torch.log(mel + LOG_EPS).reshape(*waves.shape[:-1], N_MELS, -1)


def audio_segments(wave: np.ndarray, indices: Sequence[int]) -> torch.Tensor:
    """16 kHz mono → (len(indices), 128, 66) normalised log-mel, one spectrogram per segment."""
    chunks = np.stack([wave[i * SEGMENT_STEP_SAMPLES:i * SEGMENT_STEP_SAMPLES + SEGMENT_SAMPLES] for i in indices])
    spec = log_mel(torch.from_numpy(chunks))
    spec = F.pad(spec, (0, max(0, SPEC_FRAMES - spec.shape[-1])), value=0.0)[..., :SPEC_FRAMES]
    return (spec - AST_MEAN) / (2 * AST_STD)


@dataclass
class SyncInput:
    """A clip at the model's rates and size: what every window is cut from."""

    frames: np.ndarray  # uint8 T×S×S×3 at 25 fps
    wave: np.ndarray  # float32 mono at 16 kHz
    segments: int


def _at_model_rates(frames: Any, fps: float | Fraction, audio: Any, sample_rate: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Any clip → (frames at 25 fps, still at their own size; 16 kHz mono); MetricInputError on unusable input."""
    track = as_audio(audio)
    if track is None:
        raise MetricInputError("the clip has no audio")
    return resample_frames(as_frames(frames), fps), resample_audio(track, int(sample_rate or 0))


def prepare_clip(frames: Any, fps: float | Fraction, audio: Any, sample_rate: int | None,
                 image_size: int = 224) -> SyncInput:
    """Any clip → 25 fps square frames + 16 kHz mono; raise MetricInputError on unusable input."""
    video, wave = _at_model_rates(frames, fps, audio, sample_rate)
    return SyncInput(frames=resize_and_crop(video, image_size), wave=wave, segments=count_segments(len(video), len(wave)))


# --- prediction -----------------------------------------------------------------------------------------

def decode_offsets(logits: torch.Tensor) -> list[tuple[float, float, list[float]]]:
    """(B, 21) logits in Synchformer's class order → (offset_s, probability, distribution) per row,
    with offsets and distribution in this module's sign (positive = audio late, ascending order)."""
    if logits.ndim != 2 or logits.shape[1] != NUM_OFFSETS:
        raise MetricInputError(f"expected (batch, {NUM_OFFSETS}) logits, got {tuple(logits.shape)}")
    probs = torch.softmax(logits.double(), dim=-1).flip(-1)  # flip: audio-early classes → audio-late order
    out = []
    for row in probs:
        j = int(torch.argmax(row))
        out.append((OFFSET_GRID_S[j], float(row[j]), [float(p) for p in row]))
    return out


@torch.no_grad()
def score_clip(model: SynchformerModel, clip: Any) -> LearnedSyncResult:
    """One `Clip` → its DeSync, offsets and distributions (see the module docstring)."""
    return score_sample(model, clip.frames, clip.fps, clip.audio, clip.sample_rate)


@torch.no_grad()
def score_sample(model: SynchformerModel, frames: Any, fps: float | Fraction, audio: Any,
                 sample_rate: int | None) -> LearnedSyncResult:
    """Frames + audio → LearnedSyncResult; "no audio" / "too short" are statuses, not errors."""
    if is_silent(as_audio(audio)):
        return LearnedSyncResult(status="no audio")
    video, wave = _at_model_rates(frames, fps, audio, sample_rate)
    segments = count_segments(len(video), len(wave))
    starts = window_starts(segments)
    if not starts:
        return LearnedSyncResult(status="too short", segments=segments,
                                 message=f"needs {WINDOW_SEGMENTS} segments (~{WINDOW_SECONDS:.1f} s of picture and "
                                         f"sound), the clip has {segments}")
    needed = sorted({s + i for s in starts for i in range(WINDOW_SEGMENTS)})
    # Only the frames the windows read are resized (a long clip's middle is never looked at); the rest
    # stay zero pages of a full-length array, so segment i is still frames [8i, 8i + 16).
    used = sorted({f for i in needed for f in range(i * SEGMENT_STEP_FRAMES, i * SEGMENT_STEP_FRAMES + SEGMENT_FRAMES)})
    size = model.config.image_size
    square = np.zeros((len(video), size, size, 3), dtype=np.uint8)
    square[used] = resize_and_crop(video[used], size)
    weight = next(model.parameters())
    on_model = {"device": weight.device, "dtype": weight.dtype}
    # Segments are encoded independently, so overlapping windows share their features.
    vfeats = model.extract_vfeats(video_segments(square, needed).unsqueeze(0).to(**on_model))[0]
    afeats = model.extract_afeats(audio_segments(wave, needed).unsqueeze(0).to(**on_model))[0]
    take = torch.tensor([[needed.index(s + i) for i in range(WINDOW_SEGMENTS)] for s in starts], device=weight.device)
    logits = model.compare_v_a(vfeats[take], afeats[take])
    windows = [WindowPrediction(start_s=s * SEGMENT_STEP_FRAMES / VIDEO_FPS, offset_s=off, probability=p,
                                distribution=dist)
               for s, (off, p, dist) in zip(starts, decode_offsets(logits.float().cpu()))]
    return LearnedSyncResult(
        status="ok",
        desync=float(np.mean([abs(w.offset_s) for w in windows])),
        offset_s=float(np.mean([w.offset_s for w in windows])),
        probability=float(np.mean([w.probability for w in windows])),
        distribution=[float(p) for p in np.mean([w.distribution for w in windows], axis=0)],
        windows=windows,
        segments=segments,
    )


__all__ = [
    "OFFSET_GRID_S",
    "LearnedSyncResult",
    "WindowPrediction",
    "decode_offsets",
    "log_mel",
    "prepare_clip",
    "score_clip",
    "score_sample",
    "window_starts",
]
