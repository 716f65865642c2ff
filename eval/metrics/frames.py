"""Turning decoded inputs into the one array layout every metric works on.

Decoding files is the caller's job (`sora_lite.media`); metrics accept what a decoder hands over —
numpy or torch, uint8 — and check it once here so each metric sees uint8 T×H×W×3 numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from eval.metrics.errors import MetricInputError


def as_frames(frames: Any, min_frames: int = 1) -> np.ndarray:
    """Return frames as contiguous uint8 T×H×W×3 numpy (RGB); raise MetricInputError otherwise."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu().numpy()
    arr = np.asarray(frames)
    if arr.ndim == 3 and arr.shape[-1] == 3:  # a single image
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise MetricInputError(f"frames must be T×H×W×3 (RGB), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and arr.min() >= 0.0 and arr.max() <= 1.0:
            arr = np.round(arr * 255.0)
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.shape[0] < min_frames:
        raise MetricInputError(f"need at least {min_frames} frames, got {arr.shape[0]}")
    return np.ascontiguousarray(arr)


def uniform_indices(num_frames: int, n: int) -> np.ndarray:
    """n frame indices spread evenly over the clip (centres of n equal segments), all if n ≥ num_frames."""
    if num_frames <= 0:
        raise MetricInputError("the clip has no frames")
    if n >= num_frames:
        return np.arange(num_frames)
    return np.floor((np.arange(n) + 0.5) * num_frames / n).astype(int)


def as_audio(audio: Any) -> np.ndarray | None:
    """Audio as float32 channels×samples, or None when absent/empty."""
    if audio is None:
        return None
    if isinstance(audio, torch.Tensor):
        audio = audio.detach().cpu().numpy()
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise MetricInputError(f"audio must be channels×samples, got shape {arr.shape}")
    if arr.shape[0] > arr.shape[1]:  # samples×channels from some decoders
        arr = arr.T
    if arr.shape[-1] == 0:
        return None
    return np.ascontiguousarray(arr)
