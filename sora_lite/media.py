"""Clips in memory and on disk: the one place that reads and writes video and audio.

Everything else in sora-lite hands `Clip` records around and calls `write_video` / `read_video` here.
Every failure to read or write a file is raised as one `MediaError` with a message a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


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
