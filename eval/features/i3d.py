"""I3D features for FVD: StyleGAN-V's detector, under the "sora-lite" or the exact "stylegan-v" protocol.

The detector is the TorchScript port of the Kinetics-400 I3D used by the original TF FVD
(`i3d_torchscript.pt`, StyleGAN-V's `detector_url`). Protocol, as in StyleGAN-V / fvd-comparison:
- one clip per video: the first 16 consecutive frames (subsample factor 1); shorter videos are refused,
  as StyleGAN-V discards short videos;
- frames centre-cropped to a square (StyleGAN-V datasets are square) and scaled to [-1, 1] float;
- detector(x[B,3,16,H,W], rescale=False, resize=True, return_features=True) → 400-d logits before
  the softmax (resize=True makes the detector resize to 224×224 itself).
StyleGAN-V's training code passes uint8 with rescale=True; that is the same mapping done inside.
That is the project's own "sora-lite" protocol. `--fvd-protocol stylegan-v` follows StyleGAN-V exactly
instead: frames prepared as its dataset script (Lanczos short side → 256, centre crop, JPEG), uint8 fed
with rescale=True, a seeded random 16-frame window on the reference side (see eval/protocols.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from eval.metrics.errors import MetricSkipped
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
        self, detector: Any, feature_dim: int = FEATURE_DIM, device: str | torch.device = "cpu", batch_size: int = 8,
        protocol: Any = None, seed: int = 0,
    ) -> None:
        """`protocol`: an `eval.protocols.FVDProtocol` (None = "sora-lite": centre square at native size,
        first 16 frames, float [-1, 1]); "stylegan-v" prepares frames as its dataset script and feeds uint8."""
        from eval.protocols import fvd_protocol

        self.detector = detector.eval().to(device) if hasattr(detector, "eval") else detector
        self.feature_dim = feature_dim
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.protocol = protocol or fvd_protocol("sora-lite")
        self.rng = np.random.default_rng(seed)  # the seeded real-side offsets (StyleGAN-V: random for real videos)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, device: str | torch.device = "cpu", protocol: Any = None,
        seed: int = 0,
    ) -> "I3DFeatures":
        file = i3d_path(path)
        try:
            detector = torch.jit.load(str(file), map_location="cpu")
        except (RuntimeError, ValueError) as exc:
            raise MetricSkipped(
                f"{file} is not a loadable TorchScript I3D ({exc.__class__.__name__}: {exc})",
                f"re-download {I3D_URL}",
            ) from exc
        return cls(detector, device=device, protocol=protocol, seed=seed)

    def clip_tensor(self, frames: Any, real: bool = False, offset: str | None = None) -> torch.Tensor:
        """One video → 3×16×S×S: float in [-1, 1] (sora-lite) or uint8 as StyleGAN-V feeds its detector."""
        from eval.features.prepare import clip_start, stylegan_v_clip

        video = as_frames(frames)
        policy = offset or (self.protocol.real_offset if real else self.protocol.fake_offset)
        start = clip_start(video.shape[0], CLIP_FRAMES, policy, self.rng)
        video = video[start : start + CLIP_FRAMES]
        if self.protocol.resize == "stylegan-v":
            video = stylegan_v_clip(video, int(self.protocol.resolution or 256), jpeg=self.protocol.jpeg)
            return torch.from_numpy(np.ascontiguousarray(video)).permute(3, 0, 1, 2)  # uint8, rescale=True
        video = center_square(video)
        x = torch.from_numpy(np.ascontiguousarray(video)).permute(3, 0, 1, 2).float()
        return x / 127.5 - 1.0

    @torch.no_grad()
    def __call__(self, videos: Sequence[Any], real: bool = False, offset: str | None = None) -> np.ndarray:
        """Videos (each T×H×W×3 uint8, all the same size after cropping) → N×D float64 features.

        `real` picks the protocol's offset policy for the reference side (StyleGAN-V: seeded random)."""
        kwargs = {**DETECTOR_KWARGS, "rescale": True} if self.protocol.resize == "stylegan-v" else DETECTOR_KWARGS
        out = []
        for start in range(0, len(videos), self.batch_size):
            batch = torch.stack([self.clip_tensor(v, real, offset) for v in videos[start : start + self.batch_size]])
            feats = self.detector(batch.to(self.device), **kwargs).reshape(len(batch), -1)
            if self.protocol.resize == "stylegan-v":
                feats = feats.float()  # FeatureStats.append casts to float32 before its float64 sums
            out.append(feats.double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))
