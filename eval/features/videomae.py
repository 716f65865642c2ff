"""VideoMAE features for content-debiased FVD (cd-FVD, Ge et al. CVPR 2024).

cd-FVD replaces I3D (supervised on the appearance-biased Kinetics) with a self-supervised VideoMAE-v2
fine-tuned on motion-centric SSv2. Their protocol, kept here: 16 frames, float in [0, 1], resized
(bilinear, no aspect keep) to the model's image size, *no* mean/std normalisation, feature = mean over
tokens then `fc_norm` (the classifier's pre-logit feature).

The model is a transformers `VideoMAEModel` / `VideoMAEForVideoClassification` from a local dir or Hub
id, loaded from local files only. Default: `MCG-NJU/videomae-base-finetuned-ssv2` (the transformers-
native SSv2 checkpoint). cd-FVD's own VideoMAE-v2-giant (`vit_g_hybrid_pt_1200e_ssv2_ft.pth`) can be
used once converted to transformers format: pass its directory.
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
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.model = model.eval().to(device=device, dtype=dtype)
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
        dtype: torch.dtype = torch.float32,
    ) -> "VideoMAEFeatures":
        return cls(load_videomae(str(name_or_path)), device=device, dtype=dtype)

    def clip_tensor(self, frames: Any) -> torch.Tensor:
        """One video → T×3×S×S float in [0, 1] (VideoMAE's pixel_values layout)."""
        video = as_frames(frames)
        if video.shape[0] < self.num_frames:
            raise MetricInputError(f"VideoMAE FVD needs {self.num_frames} frames, the video has {video.shape[0]}")
        x = torch.from_numpy(np.ascontiguousarray(video[: self.num_frames])).permute(0, 3, 1, 2).float() / 255.0
        return F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)

    def _pool(self, pixel_values: torch.Tensor) -> torch.Tensor:
        base = getattr(self.model, "videomae", self.model)
        hidden = base(pixel_values=pixel_values).last_hidden_state
        fc_norm = getattr(self.model, "fc_norm", None)
        pooled = hidden.mean(1)
        return fc_norm(pooled) if fc_norm is not None else pooled

    @torch.no_grad()
    def __call__(self, videos: Sequence[Any]) -> np.ndarray:
        out = []
        for start in range(0, len(videos), self.batch_size):
            batch = torch.stack([self.clip_tensor(v) for v in videos[start : start + self.batch_size]])
            out.append(self._pool(batch.to(device=self.device, dtype=self.dtype)).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim))
