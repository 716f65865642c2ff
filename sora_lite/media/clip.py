"""The records media I/O hands around: `Clip` (frames + sound in memory), `VideoInfo`, and `MediaError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from sora_lite.media import limits


class MediaError(Exception):
    """The one error media I/O raises: the message is meant for the user who supplied the file."""


@dataclass
class Clip:
    """A video with optional sound.

    frames: uint8 array T×H×W×3 (RGB). fps: exact frame rate. audio: float32 channels×samples in [-1, 1].
    """

    frames: np.ndarray
    fps: Fraction
    audio: np.ndarray | None = None
    sample_rate: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = Fraction(self.fps).limit_denominator(1001 * 1000)
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise MediaError(f"frames must be uint8 T×H×W×3, got {self.frames.dtype} {self.frames.shape}")
        if self.audio is not None:
            if self.audio.ndim == 1:
                self.audio = self.audio[None, :]
            self.audio = np.ascontiguousarray(self.audio, dtype=np.float32)
            if not self.sample_rate:
                raise MediaError("a clip with audio needs a sample_rate")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        """Seconds of video (frame count / fps)."""
        return float(self.num_frames / self.fps)

    @property
    def has_audio(self) -> bool:
        return self.audio is not None and self.audio.shape[-1] > 0


@dataclass
class VideoInfo:
    """What `probe` learns about a file without decoding it (one frame at most, for rotation)."""

    path: str
    container: str
    video_codec: str
    width: int  # upright, after rotation
    height: int
    fps: Fraction
    duration: float
    num_frames: int
    num_frames_estimated: bool
    rotation: int  # degrees counter-clockwise the stored picture is turned for display (0/90/180/270)
    has_audio: bool
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    variable_frame_rate: bool
    size_bytes: int
    metadata: dict[str, str] = field(default_factory=dict)


def check_clip(clip: Clip) -> None:
    """Refuse a clip no writer can encode, with the reason."""
    if not isinstance(clip, Clip):
        raise MediaError(f"expected a Clip, got {type(clip).__name__}")
    if clip.num_frames == 0:
        raise MediaError("cannot write a clip with no frames")
    if clip.width > limits.MAX_SIDE or clip.height > limits.MAX_SIDE:
        raise MediaError(f"the clip is {clip.width}×{clip.height}; the limit is {limits.MAX_SIDE} pixels a side")
    if clip.num_frames > limits.MAX_CLIP_FRAMES:
        raise MediaError(f"the clip has {clip.num_frames} frames; the limit is {limits.MAX_CLIP_FRAMES}")
    if not 0 < clip.fps <= 1000:
        raise MediaError(f"the clip's frame rate must be between 0 and 1000 fps, got {clip.fps}")
    if clip.duration > limits.MAX_DURATION_S:
        raise MediaError(f"the clip lasts {clip.duration / 60:.0f} min; the limit is {limits.MAX_DURATION_S / 60:.0f} min")
    if clip.audio is not None:
        if clip.audio.ndim != 2 or clip.audio.shape[0] not in (1, 2):
            raise MediaError(f"audio must be mono or stereo (channels×samples), got shape {clip.audio.shape}")
        if not np.isfinite(clip.audio).all():
            raise MediaError("the clip's audio holds NaN or infinite samples")
        if not isinstance(clip.sample_rate, int) or not 8000 <= clip.sample_rate <= 192000:
            raise MediaError(f"audio sample rate must be a whole number of Hz in 8000–192000, got {clip.sample_rate!r}")
