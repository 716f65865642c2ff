"""Looks: appearance styles and camera effects as post-render filters over the frames (numpy + OpenCV).

The renderer draws plain shaded primitives; a style asked for in the prompt ("oil painting", "pixel art",
"black and white", "cyberpunk" ...) is applied to every frame afterwards, before the studio watermarks the
clip. Camera effects MuJoCo cannot film (an intense shake, racking focus) are filters too. Every filter is a
pure function of (frames, params, seed), so the same request gives the same pixels. The registry of names and
the words that ask for them is `looks.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

LOOKS_PATH = Path(__file__).with_name("looks.json")


class LookError(ValueError):
    """An unknown style or effect name; the message lists the known ones."""


@lru_cache(maxsize=1)
def registry() -> dict[str, Any]:
    return json.loads(LOOKS_PATH.read_text(encoding="utf-8"))


def style_names() -> tuple[str, ...]:
    return tuple(registry()["styles"])


def effect_names() -> tuple[str, ...]:
    return tuple(registry()["effects"])


def _cv2():
    import cv2

    return cv2


def _quantize(img: np.ndarray, levels: int) -> np.ndarray:
    step = 256 // max(2, levels)
    return (img // step * step + step // 2).clip(0, 255).astype(np.uint8)


def _oil(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    r = int(p.get("radius", 3))
    smooth = cv2.bilateralFilter(f, 7, 60, 7)
    blocky = cv2.dilate(cv2.erode(smooth, np.ones((r, r), np.uint8)), np.ones((r, r), np.uint8))
    out = _quantize(cv2.addWeighted(smooth, 0.5, blocky, 0.5, 0), int(p.get("levels", 12)))
    hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.25, 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    rng = np.random.default_rng(7)  # fixed canvas grain, the same on every frame
    grain = rng.normal(0, 6, f.shape[:2]).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 1.2)[..., None]
    return np.clip(out.astype(np.float32) + grain, 0, 255).astype(np.uint8)


def _watercolor(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    out = cv2.stylization(f, sigma_s=float(p.get("sigma_s", 40)), sigma_r=float(p.get("sigma_r", 0.45)))
    paper = np.full_like(out, 250)
    out = cv2.addWeighted(out, 0.8, paper, 0.2, 0)
    edges = cv2.Canny(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), 60, 140)
    out[edges > 0] = (out[edges > 0] * 0.75).astype(np.uint8)
    return out


def _pixel(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    h, w = f.shape[:2]
    b = max(2, int(p.get("block", 6)))
    small = cv2.resize(f, (max(1, w // b), max(1, h // b)), interpolation=cv2.INTER_AREA)
    small = _quantize(small, int(p.get("levels", 6)))
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def _gray(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    g = (0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2])
    g = np.clip((g - 128) * float(p.get("contrast", 1.15)) + 128, 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def _sepia(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    m = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)
    return np.clip(f.astype(np.float32) @ m.T, 0, 255).astype(np.uint8)


def _cyberpunk(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    x = f.astype(np.float32) / 255.0
    lum = x.mean(axis=2, keepdims=True)
    magenta, cyan = np.array([1.0, 0.1, 0.8]), np.array([0.05, 0.9, 1.0])
    tint = lum * magenta + (1 - lum) * cyan * 0.6
    out = np.clip(0.45 * x + 0.75 * tint * (0.4 + lum), 0, 1)
    glow = cv2.GaussianBlur(out, (0, 0), 4)
    out = np.clip(out + 0.35 * glow * (glow.mean(axis=2, keepdims=True) > 0.45), 0, 1)
    out[::3] *= 0.9  # scan lines
    return (out * 255).astype(np.uint8)


def _cartoon(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    smooth = f
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 7, 50, 7)
    flat = _quantize(smooth, int(p.get("levels", 8)))
    hsv = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.4, 0, 255)
    flat = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    edges = cv2.adaptiveThreshold(cv2.medianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), 5), 255,
                                  cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    flat[edges == 0] = (flat[edges == 0] * 0.25).astype(np.uint8)
    return flat


def _surreal(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    h, w = f.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = i * 0.08
    mx = xx + 6 * np.sin(yy / 23.0 + t)
    my = yy + 6 * np.sin(xx / 29.0 + 0.7 * t)
    warped = cv2.remap(f, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    hsv = cv2.cvtColor(warped, cv2.COLOR_RGB2HSV).astype(np.int32)
    hsv[..., 0] = (hsv[..., 0] + 40 + (xx.astype(np.int32) // 40)) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.3, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _swirl(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    """Van Gogh stand-in: thick strokes (a motion blur along a swirling field) and warm/blue saturation."""
    cv2 = _cv2()
    h, w = f.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = np.sin(xx / 17.0) + np.cos(yy / 13.0)
    acc = np.zeros_like(f, dtype=np.float32)
    for s in range(-3, 4):
        acc += cv2.remap(f, xx + s * np.cos(ang), yy + s * np.sin(ang), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    out = (acc / 7).astype(np.uint8)
    out = _quantize(out, 10)
    hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.6, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _ukiyo(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    """Woodblock-print stand-in: few flat colours from a muted palette, dark outlines, paper tone."""
    cv2 = _cv2()
    flat = _quantize(cv2.bilateralFilter(f, 9, 70, 9), 5).astype(np.float32)
    paper = np.array([236, 224, 196], np.float32)
    out = 0.7 * flat + 0.3 * paper
    out[..., 2] = out[..., 2] * 0.85 + 25  # indigo-leaning shadows
    edges = cv2.Canny(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), 50, 120)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))
    out[edges > 0] = (30, 35, 60)
    return np.clip(out, 0, 255).astype(np.uint8)


def _sketch(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    g = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
    inv = 255 - g
    blur = cv2.GaussianBlur(inv, (0, 0), 6)
    s = cv2.divide(g, 255 - blur, scale=256)
    return np.repeat(s[..., None], 3, axis=2)


def _vibrant(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * float(p.get("saturation", 1.5)), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _shake(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    cv2 = _cv2()
    rng = np.random.default_rng(1000 + i)
    px = float(p.get("pixels", 6))
    dx, dy = rng.normal(0, px, 2)
    rot = rng.normal(0, 1.2)
    h, w = f.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rot, 1.06)  # zoomed in a little so no edge shows
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _none(f: np.ndarray, p: dict[str, Any], i: int) -> np.ndarray:
    return f


FILTERS: dict[str, Callable[[np.ndarray, dict[str, Any], int], np.ndarray]] = {
    "oil": _oil, "watercolor": _watercolor, "pixel": _pixel, "gray": _gray, "sepia": _sepia, "cyberpunk": _cyberpunk,
    "cartoon": _cartoon, "surreal": _surreal, "swirl": _swirl, "ukiyo": _ukiyo, "sketch": _sketch, "vibrant": _vibrant,
    "shake": _shake, "none": _none,
}


def _rack_focus(frames: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Focus racks from the foreground (lower half sharp) to the background (upper half sharp) over the clip."""
    cv2 = _cv2()
    n, h = frames.shape[0], frames.shape[1]
    sigma = float(p.get("sigma", 3.0))
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]  # 0 top .. 1 bottom
    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        k = i / max(1, n - 1)  # 0: near in focus, 1: far in focus
        blur = cv2.GaussianBlur(f, (0, 0), sigma).astype(np.float32)
        w = np.clip(np.abs(ramp - (1 - k)) * 1.6, 0, 1)
        out[i] = (f.astype(np.float32) * (1 - w) + blur * w).astype(np.uint8)
    return out


def apply_looks(frames: np.ndarray, style: str | None, effects: list[str] | None = None) -> np.ndarray:
    """The frames with the style and effects applied (a new array; the input is not changed)."""
    reg = registry()
    out = frames
    if style:
        if style not in reg["styles"]:
            raise LookError(f"unknown style {style!r}; choose one of: {', '.join(reg['styles'])}")
        spec = reg["styles"][style]
        fn = FILTERS[spec["filter"]]
        out = np.stack([fn(np.ascontiguousarray(f), spec.get("params", {}), i) for i, f in enumerate(out)])
    for eff in effects or []:
        if eff not in reg["effects"]:
            raise LookError(f"unknown effect {eff!r}; choose one of: {', '.join(reg['effects'])}")
        spec = reg["effects"][eff]
        if spec["filter"] == "rack_focus":
            out = _rack_focus(np.ascontiguousarray(out), spec.get("params", {}))
        elif spec["filter"] != "none":
            fn = FILTERS[spec["filter"]]
            out = np.stack([fn(np.ascontiguousarray(f), spec.get("params", {}), i) for i, f in enumerate(out)])
    return out if out is not frames else frames.copy()
