"""VideoMAE features for content-debiased FVD (cd-FVD, Ge et al. CVPR 2024).

cd-FVD replaces I3D (supervised on the appearance-biased Kinetics) with a self-supervised VideoMAE-v2
fine-tuned on motion-centric SSv2. Kept from their code: 16 frames, float in [0, 1], bilinear to the
model's image size, *no* mean/std normalisation, feature = mean over tokens then `fc_norm` (the
classifier's pre-logit feature). The "sora-lite" protocol takes the first 16 frames and squashes the whole
frame to 224²; `--fvd-protocol cd-fvd` does what cd-FVD's loader does first (short side → 256 with
antialias, centre crop) and takes a seeded random 16-frame window on both sides.

The model is a transformers `VideoMAEModel` / `VideoMAEForVideoClassification` from a local dir or Hub
id, loaded from local files only. Default: `MCG-NJU/videomae-base-finetuned-ssv2` — a VideoMAE-*base*
(768-d), NOT cd-FVD's network, which is VideoMAE-v2 ViT-g/14 (1408-d, `vit_g_hybrid_pt_1200e_ssv2_ft.pth`).
Numbers with the default model are the project's own, whatever the protocol; only a converted ViT-g
checkpoint passed as --fvd-model gives cd-FVD's features (`python3 -m eval.features.videomae_v2 CKPT DIR`).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import as_frames

DEFAULT_VIDEOMAE = "MCG-NJU/videomae-base-finetuned-ssv2"


def load_videomae(name_or_path: str = DEFAULT_VIDEOMAE) -> torch.nn.Module:
    """Local-only load; missing weights → MetricSkipped naming the model and how to fetch it."""
    from transformers import AutoConfig, VideoMAEForVideoClassification, VideoMAEModel

    try:
        config = AutoConfig.from_pretrained(name_or_path, local_files_only=True)
        archs = config.architectures or []
        cls = VideoMAEForVideoClassification if any("Classification" in a for a in archs) else VideoMAEModel
        return cls.from_pretrained(name_or_path, local_files_only=True).eval()
    except (OSError, ValueError) as exc:
        raise MetricSkipped(
            f"VideoMAE weights '{name_or_path}' are not available locally ({exc.__class__.__name__})",
            f"run `hf download {name_or_path}` on a machine with network and copy the cache into $HF_HOME "
            "(default ~/.cache/huggingface), or pass a local directory",
        ) from exc


class VideoMAEFeatures:
    """Video → pre-logit VideoMAE feature (hidden_size-d)."""

    name = "videomae"

    def __init__(
        self, model: torch.nn.Module, device: str | torch.device = "cpu", batch_size: int = 4,
        dtype: torch.dtype = torch.float32, protocol: Any = None, seed: int = 0,
    ) -> None:
        from eval.protocols import fvd_protocol

        self.protocol = protocol or fvd_protocol("sora-lite")
        self.rng = np.random.default_rng(seed)  # cd-FVD: a random clip per video, on both sides
        self.model = model.eval().to(device=device, dtype=dtype)
        fc_norm_eps = getattr(model.config, "fc_norm_eps", None)  # a converted VideoMAE-v2 (eval.features.videomae_v2)
        if fc_norm_eps is not None and getattr(self.model, "fc_norm", None) is not None:
            self.model.fc_norm.eps = float(fc_norm_eps)
        self.device = torch.device(device)
        self.dtype = dtype
        self.batch_size = batch_size
        config = model.config
        self.num_frames = int(config.num_frames)
        self.image_size = int(config.image_size)
        self.feature_dim = int(config.hidden_size)

    @classmethod
    def load(
        cls, name_or_path: str | os.PathLike[str] = DEFAULT_VIDEOMAE, device: str = "cpu",
        dtype: torch.dtype = torch.float32, protocol: Any = None, seed: int = 0,
    ) -> "VideoMAEFeatures":
        return cls(load_videomae(str(name_or_path)), device=device, dtype=dtype, protocol=protocol, seed=seed)

    def clip_tensor(self, frames: Any, real: bool = False, offset: str | None = None) -> torch.Tensor:
        """One video → T×3×S×S float in [0, 1] (VideoMAE's pixel_values layout)."""
        from eval.features.prepare import cdfvd_clip, clip_start

        video = as_frames(frames)
        if video.shape[0] < self.num_frames:
            raise MetricInputError(f"VideoMAE FVD needs {self.num_frames} frames, the video has {video.shape[0]}")
        policy = offset or (self.protocol.real_offset if real else self.protocol.fake_offset)
        start = clip_start(video.shape[0], self.num_frames, policy, self.rng)
        video = video[start : start + self.num_frames]
        if self.protocol.resize == "cd-fvd":
            x = cdfvd_clip(video, int(self.protocol.resolution or 256))
        else:
            x = torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float() / 255.0
        return F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)

    def _pool(self, pixel_values: torch.Tensor) -> torch.Tensor:
        base = getattr(self.model, "videomae", self.model)
        hidden = base(pixel_values=pixel_values).last_hidden_state
        fc_norm = getattr(self.model, "fc_norm", None)
        pooled = hidden.mean(1)
        return fc_norm(pooled) if fc_norm is not None else pooled

    @torch.no_grad()
    def __call__(self, videos: Sequence[Any], real: bool = False, offset: str | None = None) -> np.ndarray:
        out = []
        for start in range(0, len(videos), self.batch_size):
            batch = torch.stack([self.clip_tensor(v, real, offset) for v in videos[start : start + self.batch_size]])
            out.append(self._pool(batch.to(device=self.device, dtype=self.dtype)).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))
