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


# --- liveness recordings: a synthetic live selfie (blink + head turn) and replayed-still controls -----------


def landmarks68(image: np.ndarray) -> np.ndarray:
    from sora_lite.cameo import faces

    box = faces.detect_faces(image)[0]
    points = faces.landmarks68(image, box)
    assert points is not None, "the 68-point landmark model is missing"
    return points


def blinked(image: np.ndarray, points: np.ndarray, amount: float) -> np.ndarray:
    """Both eyes closed by `amount` (0 open … 1 shut): each eye's rows are pulled toward its centre line."""
    h, w = image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mapy = ys.copy()
    for idx in (range(36, 42), range(42, 48)):
        eye = points[list(idx)]
        cx, cy = eye.mean(axis=0)
        ew = float(np.ptp(eye[:, 0]))
        eh = max(float(np.ptp(eye[:, 1])), ew * 0.3)
        d = np.clip(1 - ((xs - cx) / (ew * 0.8)) ** 2 - ((ys - cy) / (eh * 1.6)) ** 2, 0, 1)
        mapy = mapy + d * ((cy + (ys - cy) / np.maximum(1 - amount * 0.9 * d, 0.1)) - ys)
    return cv2.remap(image, xs, mapy.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def live_frames(image: np.ndarray, turn: str, blink: bool = True, amount: float = 20.0) -> list[np.ndarray]:
    """A 2.4 s selfie at 10 fps: look, blink (if asked), look, turn to the person's own `turn`, come back."""
    points = landmarks68(image)
    width = float(np.linalg.norm(points[16] - points[0]))
    nose = (float(points[30, 0]), float(points[30, 1]))
    shift = amount if turn == "left" else -amount  # their left = toward the image's right
    closing = [blinked(image, points, a) for a in (0.5, 1.0, 0.5)] if blink else [image] * 3
    turning = [turned(image, nose, int(width), shift * k / 3) for k in (1, 2, 3, 3, 3, 2, 1)]
    return [image] * 5 + closing + [image] * 4 + turning + [image] * 5


def replayed_still(image: np.ndarray, n: int = 24) -> list[np.ndarray]:
    """A photo held up to the camera: the same still moved, rotated, zoomed and tilted (a homography per
    frame) and re-encoded with noise, as a printed photo or a phone screen in front of a webcam would be."""
    h, w = image.shape[:2]
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n):
        a = np.sin(2 * np.pi * k / n)
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        tilt = 0.08 * w * a  # the photo turned about its vertical axis: one side nearer the camera
        dst = np.float32([[0 + tilt, 0 - tilt / 2], [w + tilt, 0 + tilt / 2], [w + tilt, h - tilt / 2], [0 + tilt, h + tilt / 2]])
        dst += np.float32([12 * a, 6 * np.cos(2 * np.pi * k / n)])
        frame = cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE)
        frames.append(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8))
    return frames


_TRACKS: dict[tuple[int, str], object] = {}


def selfie(image: np.ndarray, side: int = 480) -> np.ndarray:
    """The face of a photo framed as a webcam selfie is: a square of 3 face widths around it, `side` px."""
    from sora_lite.cameo import faces

    box = faces.detect_faces(image)[0]
    cx, cy = box.center
    half = int(1.5 * box.side)
    padded = cv2.copyMakeBorder(image, half, half, half, half, cv2.BORDER_REPLICATE)
    x0, y0 = int(cx), int(cy)  # the centre, shifted by the padding
    crop = padded[y0: y0 + 2 * half, x0: x0 + 2 * half]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_CUBIC)


def live_recording(image: np.ndarray, turn: str, path: Path, **kw: object) -> Path:
    """A synthetic live selfie answering `turn`, at 10 fps with speech-like sound; the face is framed large
    (`selfie`), as a webcam shows it."""
    frames = live_frames(selfie(image), turn, **kw)  # type: ignore[arg-type]
    return write_recording(frames, path, fps=10, audio=voiced_audio(len(frames) / 10))


def verify(store, owner, handle: str, folder: Path, image: np.ndarray | None = None):
    """Verify `owner`'s cameo the real way: a fresh challenge, a synthetic live recording of `image` (default
    the astronaut) answering it, `verify_recording`. The landmark track of each (image, turn) recording is
    computed once per test session (the checks themselves run every time); asserts the result is verified."""
    from unittest import mock

    from sora_lite.cameo import verification

    image = astronaut() if image is None else image
    challenge = verification.issue_challenge(store, owner, handle)
    path = live_recording(image, challenge.turn, Path(folder) / f"live-{challenge.turn}-{handle}.mp4")
    key = (hash(image.tobytes()), challenge.turn)
    if key not in _TRACKS:
        _TRACKS[key] = verification.track_face(path)
    with mock.patch.object(verification, "track_face", lambda p: _TRACKS[key]):
        result = verification.verify_recording(store, owner, handle, path)
    assert result.status == "verified", result.summary
    return result


def verified_cameo(store, home: Path, owner, handle: str, photo: Path, folder: Path, **kw: object):
    """Register `owner`'s cameo from `photo` and verify it: what every test that uses a cameo needs now."""
    from PIL import Image as _Image

    from sora_lite.cameo import registry

    registry.register_cameo(store, home, owner, handle, photos=[photo], **kw)  # type: ignore[arg-type]
    verify(store, owner, handle, folder, np.asarray(_Image.open(photo).convert("RGB")))
    return registry.get_cameo(store, handle)


def stranger_photo() -> np.ndarray:
    """A second real person with a photo big enough to register: matplotlib's Grace Hopper (public domain)."""
    import matplotlib

    return np.asarray(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))
