"""I3D features for FVD, following the StyleGAN-V protocol.

The detector is the TorchScript port of the Kinetics-400 I3D used by the original TF FVD
(`i3d_torchscript.pt`, StyleGAN-V's `detector_url`). Protocol, as in StyleGAN-V / fvd-comparison:
- one clip per video: the first 16 consecutive frames (subsample factor 1); shorter videos are refused,
  as StyleGAN-V discards short videos;
- frames centre-cropped to a square (StyleGAN-V datasets are square) and scaled to [-1, 1] float;
- detector(x[B,3,16,H,W], rescale=False, resize=True, return_features=True) → 400-d logits before
  the softmax (resize=True makes the detector resize to 224×224 itself).
StyleGAN-V's training code passes uint8 with rescale=True; that is the same mapping done inside.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import as_frames

I3D_URL = "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1"
I3D_ENV = "SORA_LITE_I3D"
I3D_DEFAULT_PATH = Path.home() / ".cache" / "sora_lite" / "i3d_torchscript.pt"
CLIP_FRAMES = 16
FEATURE_DIM = 400
DETECTOR_KWARGS: dict[str, bool] = {"rescale": False, "resize": True, "return_features": True}


def i3d_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the detector is: the argument, else $SORA_LITE_I3D, else ~/.cache/sora_lite/."""
    chosen = Path(path or os.environ.get(I3D_ENV) or I3D_DEFAULT_PATH).expanduser()
    if not chosen.is_file():
        raise MetricSkipped(
            f"I3D detector not found at {chosen}",
            f"download {I3D_URL} (the StyleGAN-V TorchScript I3D, ~50 MB) and put it there or set {I3D_ENV}=<path>",
        )
    return chosen


def center_square(frames: np.ndarray) -> np.ndarray:
    _, h, w, _ = frames.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return frames[:, top : top + side, left : left + side]


class I3DFeatures:
    """Video → 400-d I3D feature; any module with the detector's call signature works (tests use a tiny one)."""

    name = "i3d"

    def __init__(
        self, detector: Any, feature_dim: int = FEATURE_DIM, device: str | torch.device = "cpu", batch_size: int = 8
    ) -> None:
        self.detector = detector.eval().to(device) if hasattr(detector, "eval") else detector
        self.feature_dim = feature_dim
        self.device = torch.device(device)
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, device: str | torch.device = "cpu") -> "I3DFeatures":
        file = i3d_path(path)
        try:
            detector = torch.jit.load(str(file), map_location="cpu")
        except (RuntimeError, ValueError) as exc:
            raise MetricSkipped(
                f"{file} is not a loadable TorchScript I3D ({exc.__class__.__name__}: {exc})",
                f"re-download {I3D_URL}",
            ) from exc
        return cls(detector, device=device)

    def clip_tensor(self, frames: Any) -> torch.Tensor:
        """One video → 3×16×S×S float tensor in [-1, 1]."""
        video = as_frames(frames)
        if video.shape[0] < CLIP_FRAMES:
            raise MetricInputError(f"I3D FVD needs {CLIP_FRAMES} frames, the video has {video.shape[0]}")
        video = center_square(video[:CLIP_FRAMES])
        x = torch.from_numpy(np.ascontiguousarray(video)).permute(3, 0, 1, 2).float()
        return x / 127.5 - 1.0

    @torch.no_grad()
    def __call__(self, videos: Sequence[Any]) -> np.ndarray:
        """Videos (each T×H×W×3 uint8, all the same size after cropping) → N×D float64 features."""
        out = []
        for start in range(0, len(videos), self.batch_size):
            batch = torch.stack([self.clip_tensor(v) for v in videos[start : start + self.batch_size]])
            feats = self.detector(batch.to(self.device), **DETECTOR_KWARGS)
            out.append(feats.reshape(len(batch), -1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))
