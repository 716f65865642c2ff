"""The visible mark: a small translucent "sora-lite" label that hops between corners.

Like Sora's, it moves (every ~2 s, fading out and in) so a single static crop or blur cannot remove it
from the whole clip.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LABEL = "sora-lite"
HOP_SECONDS = 2.0
FADE_SECONDS = 0.3
OPACITY = 0.3  # translucent: the label costs ~40 dB PSNR on a frame (was 0.55: ~34 dB; issue 14)
LABEL_HEIGHT_DIVISOR = 28  # the font is the frame's short side / this (≥ 8 px); was 22
# Corner order: top-left, bottom-right, top-right, bottom-left — diagonal hops are harder to crop away.
_CORNERS = ((0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0))  # (y, x) fractions


@lru_cache(maxsize=16)
def _label_sprite(height_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGB float32 h×w×3, alpha float32 h×w in 0..1): white text with a dark outline."""
    font = ImageFont.load_default(size=max(8, height_px))
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    stroke = max(1, height_px // 8)
    left, top, right, bottom = probe.textbbox((0, 0), LABEL, font=font, stroke_width=stroke)
    w, h = right - left + 2, bottom - top + 2
    fill = Image.new("L", (w, h), 0)
    outline = Image.new("L", (w, h), 0)
    ImageDraw.Draw(outline).text((1 - left, 1 - top), LABEL, font=font, fill=255, stroke_width=stroke, stroke_fill=255)
    ImageDraw.Draw(fill).text((1 - left, 1 - top), LABEL, font=font, fill=255)
    fill_a = np.asarray(fill, dtype=np.float32) / 255.0
    alpha = np.asarray(outline, dtype=np.float32) / 255.0
    rgb = np.repeat((fill_a * 255.0)[..., None], 3, axis=2)  # white glyphs, black outline
    return rgb, alpha


def mark_position(frame_index: int, fps: float, height: int, width: int, sprite_hw: tuple[int, int]) -> tuple[int, int, float]:
    """(top, left, opacity) of the label in a frame: the corner changes every HOP_SECONDS, with a fade."""
    t = frame_index / fps
    slot = int(t // HOP_SECONDS)
    into = t - slot * HOP_SECONDS
    fade_in = into / FADE_SECONDS if slot > 0 else 1.0  # the first corner starts fully visible
    fade = min(1.0, fade_in, (HOP_SECONDS - into) / FADE_SECONDS)
    fy, fx = _CORNERS[slot % len(_CORNERS)]
    margin = max(2, min(height, width) // 32)
    top = round(margin + fy * (height - sprite_hw[0] - 2 * margin))
    left = round(margin + fx * (width - sprite_hw[1] - 2 * margin))
    return top, left, OPACITY * max(0.15, fade)


def add_visible_mark(frames: np.ndarray, fps: float = 24.0) -> np.ndarray:
    """Return a copy of uint8 T×H×W×3 frames with the moving label drawn on every frame."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 T×H×W×3 (RGB), got {frames.dtype} {frames.shape}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    t, h, w, _ = frames.shape
    rgb, alpha = _label_sprite(max(8, min(h, w) // LABEL_HEIGHT_DIVISOR))
    if rgb.shape[0] + 4 > h or rgb.shape[1] + 4 > w:  # tiny frames: shrink the label to fit
        rgb, alpha = _label_sprite(max(6, int(min(h, w) // LABEL_HEIGHT_DIVISOR * (w - 4) / (rgb.shape[1] + 4))))
    sh, sw = alpha.shape
    out = frames.copy()
    for i in range(t):
        top, left, opacity = mark_position(i, fps, h, w, (sh, sw))
        top, left = max(0, min(top, h - sh)), max(0, min(left, w - sw))
        region = out[i, top : top + sh, left : left + sw].astype(np.float32)
        a = (alpha[: region.shape[0], : region.shape[1]] * opacity)[..., None]
        blended = region * (1 - a) + rgb[: region.shape[0], : region.shape[1]] * a
        out[i, top : top + sh, left : left + sw] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out
