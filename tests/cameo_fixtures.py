"""Test faces for the cameo tests: scikit-image's astronaut photo (one clear face) and LFW crops (others)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from sora_lite.media import Clip, write_video


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def stranger(index: int = 0) -> np.ndarray:
    """Another person's face (an LFW crop, upscaled): found by the detector, not the astronaut."""
    from skimage import data

    face = data.lfw_subset()[index]
    grey = cv2.resize((face * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
    return np.stack([grey] * 3, axis=-1)


def save(image: np.ndarray, path: Path) -> Path:
    Image.fromarray(image).save(path)
    return path


def voiced_audio(seconds: float, rate: int = 16_000) -> np.ndarray:
    """Speech-like sound: a 140 Hz buzz with harmonics, in syllable-length bursts."""
    t = np.arange(int(seconds * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    envelope = (np.sin(2 * np.pi * 3 * t) > -0.2).astype(np.float64)
    return (0.2 * buzz * envelope / 2.6).astype(np.float32)[None, :]


def turned(image: np.ndarray, nose: tuple[float, float], face_width: int, amount: float) -> np.ndarray:
    """Shift the nose region sideways (content moves toward +x when amount > 0): a crude head turn."""
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    r = face_width * 0.35
    d = np.clip(1 - ((xs - nose[0]) ** 2 + ((ys - nose[1] + 8) * 0.6) ** 2) / (r * r), 0, 1) ** 2
    return cv2.remap(image, xs - amount * d, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def write_recording(frames: list[np.ndarray], path: Path, fps: int = 8, audio: np.ndarray | None = None) -> Path:
    stack = np.stack(frames)
    rate = 16_000 if audio is not None else None
    write_video(Clip(frames=stack, fps=Fraction(fps), audio=audio, sample_rate=rate), path)
    return path
