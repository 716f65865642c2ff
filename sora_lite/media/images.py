"""Stills: reading images (Pillow, EXIF orientation applied), thumbnails and GIFs."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from sora_lite.media import limits
from sora_lite.media.clip import Clip, MediaError, check_clip
from sora_lite.media.files import _save_atomically


def read_image(source: str | os.PathLike[str] | bytes) -> np.ndarray:
    """A still as uint8 H×W×3 RGB, EXIF orientation applied (Pillow)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray, memoryview)):
        name, data = "the image", bytes(source)
        if not data:
            raise MediaError("the image is empty (0 bytes)")
        if len(data) > limits.MAX_IMAGE_BYTES:
            raise MediaError(f"the image is {len(data) / 1024**2:.0f} MiB; the limit is {limits.MAX_IMAGE_BYTES / 1024**2:.0f} MiB")
        stream: Any = io.BytesIO(data)
    else:
        p = Path(source)
        name = p.name
        if not p.is_file():
            raise MediaError(f"{p} does not exist" if not p.exists() else f"{p} is not a file")
        size = p.stat().st_size
        if size == 0:
            raise MediaError(f"{name} is empty (0 bytes)")
        if size > limits.MAX_IMAGE_BYTES:
            raise MediaError(f"{name} is {size / 1024**2:.0f} MiB; the limit is {limits.MAX_IMAGE_BYTES / 1024**2:.0f} MiB")
        stream = p
    try:
        with Image.open(stream) as img:
            w, h = img.size
            if w > limits.MAX_SIDE or h > limits.MAX_SIDE:
                raise MediaError(f"{name} is {w}×{h}; the limit is {limits.MAX_SIDE} pixels a side")
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except MediaError:
        raise
    except UnidentifiedImageError as e:
        raise MediaError(f"{name} is not an image Pillow can read (PNG, JPEG, WebP ...)") from e
    except Image.DecompressionBombError as e:
        raise MediaError(f"{name} has too many pixels to open safely ({e})") from e
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as e:
        raise MediaError(f"{name} is damaged or truncated ({e})") from e


_IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def write_thumbnail(clip_or_frame: Clip | np.ndarray, path: str | os.PathLike[str], max_side: int = 320) -> Path:
    """A still for lists and feeds: the clip's middle frame (or the given frame), longest side ≤ max_side."""
    from PIL import Image

    out = Path(path)
    fmt = _IMAGE_SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise MediaError(f"cannot write {out.name}: use one of {', '.join(_IMAGE_SUFFIXES)}")
    if isinstance(clip_or_frame, Clip):
        frame = clip_or_frame.frames[clip_or_frame.num_frames // 2]
    else:
        frame = np.asarray(clip_or_frame)
    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8 or 0 in frame.shape:
        raise MediaError(f"a thumbnail needs a uint8 H×W×3 frame, got {frame.dtype} {frame.shape}")
    if not isinstance(max_side, int) or max_side < 1:
        raise MediaError(f"max_side must be a positive whole number, got {max_side!r}")
    img = Image.fromarray(frame)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _save_atomically(out, lambda f: img.save(f, format=fmt, **({"quality": 90} if fmt != "PNG" else {})))


def write_gif(clip: Clip, path: str | os.PathLike[str], max_side: int = 256, fps: int = 12) -> Path:
    """An animated GIF (for READMEs): frames picked by time at `fps`, longest side ≤ max_side, looping."""
    from PIL import Image

    out = Path(path)
    if out.suffix.lower() != ".gif":
        raise MediaError(f"cannot write {out.name} as a GIF: the name must end in .gif")
    check_clip(clip)
    if not isinstance(fps, int) or not 1 <= fps <= 50:
        raise MediaError(f"GIF fps must be a whole number 1–50, got {fps!r}")
    if not isinstance(max_side, int) or max_side < 1:
        raise MediaError(f"max_side must be a positive whole number, got {max_side!r}")
    count = max(1, math.floor(clip.duration * fps + 1e-9))
    scale = min(1.0, max_side / max(clip.width, clip.height))
    size = (max(1, round(clip.width * scale)), max(1, round(clip.height * scale)))
    images = []
    for k in range(count):
        index = min(clip.num_frames - 1, int(k * clip.fps / fps))
        images.append(Image.fromarray(clip.frames[index]).resize(size, Image.Resampling.LANCZOS))
    # GIF delays are in 10 ms steps: spread the rounding so the total duration stays right.
    ends = [round((k + 1) * 100 / fps) * 10 for k in range(count)]
    durations = [ends[0]] + [b - a for a, b in zip(ends, ends[1:])]
    return _save_atomically(
        out,
        lambda f: images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                                 loop=0, optimize=False, disposal=1),
    )
