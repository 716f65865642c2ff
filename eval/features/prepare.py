"""Frame preparation and clip selection of the reference FVD protocols (see eval/protocols.py).

StyleGAN-V (src/scripts/convert_videos_to_frames.py) prepares a dataset once: each frame resized with
Lanczos so its short side is `target_size` (torchvision's rule: long side = int(size·long/short)), centre
cropped with torchvision's rounding (top = int(round((h − size) / 2))), saved as JPEG. The script passes
`q=95` to PIL's `save`, a keyword PIL's JPEG writer does not read, so the files get PIL's default
quality (75): that is what its published numbers were computed on, and what is reproduced here.

cd-FVD (cdfvd/utils/data_utils.py `preprocess`) scales float [0, 1] frames so the short side is
`resolution` (long side = ceil(long·scale)), bilinear with antialias, and centre crops with floor
division; its model-side `preprocess_videomae` then squashes to 224² (bilinear, no antialias).
"""

from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from eval.metrics.errors import MetricInputError


def stylegan_v_frame(frame: np.ndarray, size: int, jpeg: bool = True) -> np.ndarray:
    """One H×W×3 uint8 frame → size×size×3 uint8, as StyleGAN-V's dataset script writes it."""
    image = Image.fromarray(np.ascontiguousarray(frame))
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    new_w, new_h = (size, new_long) if w <= h else (new_long, size)
    if (new_w, new_h) != (w, h):
        image = image.resize((new_w, new_h), Image.LANCZOS)
    top, left = round((new_h - size) / 2.0), round((new_w - size) / 2.0)  # torchvision center_crop: int(round(·))
    image = image.crop((left, top, left + size, top + size))
    if jpeg:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG")  # PIL's default quality, as the reference's ignored `q=95` gives
        buffer.seek(0)
        image = Image.open(buffer).convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def stylegan_v_clip(frames: np.ndarray, size: int, jpeg: bool = True) -> np.ndarray:
    """T×H×W×3 uint8 → T×size×size×3 uint8, frame by frame."""
    return np.stack([stylegan_v_frame(f, size, jpeg) for f in frames])


def cdfvd_clip(frames: np.ndarray, resolution: int = 256) -> torch.Tensor:
    """T×H×W×3 uint8 → T×3×R×R float in [0, 1]: cd-FVD's loader (short side → R, antialiased; centre crop)."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    _, _, h, w = video.shape
    scale = resolution / min(h, w)
    size = (resolution, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), resolution)
    video = F.interpolate(video, size=size, mode="bilinear", align_corners=False, antialias=True)
    _, _, h, w = video.shape
    top, left = (h - resolution) // 2, (w - resolution) // 2
    return video[:, :, top : top + resolution, left : left + resolution]


def clip_start(num_frames: int, length: int, policy: str, rng: np.random.Generator | None) -> int:
    """Where a `length`-frame clip starts: 0 ("first"), or uniform over every full window ("random", seeded).

    Both references draw the start uniformly from [0, T − length] (StyleGAN-V's dataset for real videos,
    cd-FVD's `get_random_clip_from_video` on both sides); a video shorter than `length` is refused, as
    StyleGAN-V discards short videos.
    """
    if num_frames < length:
        raise MetricInputError(f"FVD needs {length} frames, the video has {num_frames}")
    if policy == "first":
        return 0
    if policy != "random" or rng is None:
        raise ValueError(f"offset policy {policy!r} needs a seeded generator (or use 'first')")
    return int(rng.integers(0, num_frames - length + 1))
