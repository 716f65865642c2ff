"""Offline face detection, sharpness, landmarks and a likeness representation for cameos.

Why dlib and not OpenCV: the opencv-python-headless 5 wheel ships no Haar cascades (`cv2.data` is empty and
`cv2.CascadeClassifier` is gone) and YuNet needs an ONNX file that no wheel ships. `dlib-bin` (a 4 MB wheel)
brings a HOG face detector whose weights are compiled in, so detection always works offline.

Landmarks: dlib's 5-point model aligns faces for the embedding; the 68-point model (iBUG 300-W, also in
`face_recognition_models`) gives what liveness reads: head turn (`yaw68`), eye openness (`eye_openness`) and
non-rigid motion (`planar_residual`). Small faces (`detect_small_faces`): frames under 512 px are enlarged up
to 4× before detection, so the output check sees faces of ~18 px and up.

The likeness representation, strongest first:
- `dlib-resnet-v1`: dlib's 128-d face-recognition embedding (5-point alignment), when its weights are
  present: the `face_recognition_models` package (PyPI, ~100 MB, CC0 models) or a folder named by
  `$SORA_LITE_FACE_MODELS` holding `shape_predictor_5_face_landmarks.dat` and
  `dlib_face_recognition_resnet_model_v1.dat`. Same person: distance < 0.6 (dlib's published threshold).
- `fallback-crop-hist-v1`: a normalised 32×32 grey crop plus an HSV histogram. It is much weaker (lighting,
  pose and look-alikes fool it); every record says which method made it, and verification never counts it
  as a real identity check.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

EMBEDDING_METHOD = "dlib-resnet-v1"
FALLBACK_METHOD = "fallback-crop-hist-v1"
# Same-person thresholds: distance for the embedding (dlib's 0.6), cosine similarity for the fallback.
EMBEDDING_MAX_DISTANCE = 0.6
FALLBACK_MIN_SIMILARITY = 0.75  # measured: same face resized 0.6× scores 0.80, other faces ≤ 0.44
DETECTION_MIN_SCORE = 0.3  # dlib HOG detection score; below it the "faces" are mostly texture
MODEL_FILES = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")
LANDMARKS68_FILE = "shape_predictor_68_face_landmarks.dat"  # iBUG 300-W points; in face_recognition_models too
# Small faces (a character in a 256² or 128² render, a face far from the camera): frames whose short side is
# under SMALL_FACE_SIDE are upscaled to it before detection, so a face of ~18-25 px becomes ~75-100 px to HOG.
SMALL_FACE_SIDE = 512
MAX_UPSCALE = 4
SMALL_FACE_MIN_SCORE = -0.2  # measured: an 18 px painted face upscaled 4× scores -0.02…0.17; the embedding decides
_LOCK = threading.Lock()  # dlib objects are not documented as thread-safe; the app serves several threads


class FaceModelUnavailable(RuntimeError):
    """No face detector can run here; the message says what to install."""


@dataclass
class FaceBox:
    """One detected face in pixel coordinates of the image it was found in.

    landmarks: five (x, y) points (dlib's 5-point model: two corners of each eye, then the nose base) when
    the landmark model is present, else None. view: which of dlib's HOG sub-detectors fired (0 front,
    1 and 2 turned, 3 and 4 tilted): a coarse pose hint.
    """

    x: int
    y: int
    w: int
    h: int
    score: float
    view: int = 0
    landmarks: list[tuple[float, float]] | None = None

    @property
    def side(self) -> int:
        return min(self.w, self.h)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaceVector:
    """A likeness representation and the method that made it (vectors of different methods never compare)."""

    method: str
    vector: list[float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FaceVector":
        return cls(method=str(data["method"]), vector=[float(v) for v in data["vector"]])


# --- models ------------------------------------------------------------------------------------------------


def _dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise FaceModelUnavailable(
            "no face detector is installed: `pip install dlib-bin` (a prebuilt dlib wheel; its HOG face "
            "detector needs no downloaded weights)"
        ) from None
    return dlib


def model_dir() -> Path | None:
    """Where the landmark and embedding weights are: `$SORA_LITE_FACE_MODELS`, else the
    `face_recognition_models` package, else None (then only the fallback representation exists)."""
    env = os.environ.get("SORA_LITE_FACE_MODELS")
    if env:
        return Path(env).expanduser()
    spec = importlib.util.find_spec("face_recognition_models")  # not imported: it needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models"


@lru_cache(maxsize=1)
def _detector() -> Any:
    return _dlib().get_frontal_face_detector()


@lru_cache(maxsize=4)
def _predictor(folder: str) -> Any:
    path = Path(folder) / MODEL_FILES[0]
    return _dlib().shape_predictor(str(path)) if path.is_file() else None


@lru_cache(maxsize=4)
def _recognizer(folder: str) -> Any:
    path = Path(folder) / MODEL_FILES[1]
    return _dlib().face_recognition_model_v1(str(path)) if path.is_file() else None


@lru_cache(maxsize=4)
def _predictor68(folder: str) -> Any:
    path = Path(folder) / LANDMARKS68_FILE
    return _dlib().shape_predictor(str(path)) if path.is_file() else None


def landmark68_model() -> Any:
    """dlib's 68-point shape predictor, or None when its weights are not here."""
    folder = model_dir()
    return _predictor68(str(folder)) if folder is not None else None


def _models() -> tuple[Any, Any]:
    folder = model_dir()
    if folder is None:
        return None, None
    return _predictor(str(folder)), _recognizer(str(folder))


def representation_method() -> str:
    """The method `represent` will use on this machine."""
    predictor, recognizer = _models()
    return EMBEDDING_METHOD if predictor is not None and recognizer is not None else FALLBACK_METHOD


def capabilities() -> dict[str, Any]:
    """What this machine can check, for status pages and verification reports."""
    try:
        _detector()
        detector = "dlib-hog"
    except FaceModelUnavailable as e:
        detector = f"none ({e})"
    predictor, recognizer = _models() if detector == "dlib-hog" else (None, None)
    return {
        "detector": detector,
        "landmarks": predictor is not None,
        "landmarks68": detector == "dlib-hog" and landmark68_model() is not None,
        "representation": EMBEDDING_METHOD if predictor is not None and recognizer is not None else FALLBACK_METHOD,
        "model_dir": str(model_dir()) if model_dir() else None,
    }


# --- detection -----------------------------------------------------------------------------------------------


def _rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 H×W×3 image, got {image.dtype} {image.shape}")
    return np.ascontiguousarray(image)


def within(image: np.ndarray, max_side: int) -> np.ndarray:
    """The image shrunk (never enlarged) so that its longer side is at most `max_side`: face detection on
    a phone photo or a selfie video frame costs far less at that size and finds the same faces."""
    side = max(image.shape[:2])
    if side <= max_side:
        return image
    scale = max_side / side
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def detect_faces(image: np.ndarray, min_score: float = DETECTION_MIN_SCORE, upsample: int = 1) -> list[FaceBox]:
    """Faces in an RGB image, best first. Upsampling once finds faces down to ~40 px."""
    rgb = _rgb(image)
    detector = _detector()
    predictor, _ = _models()
    with _LOCK:
        rects, scores, views = detector.run(rgb, upsample, min_score)
        faces = []
        for rect, score, view in zip(rects, scores, views):
            x0, y0 = max(0, rect.left()), max(0, rect.top())
            x1, y1 = min(rgb.shape[1], rect.right()), min(rgb.shape[0], rect.bottom())
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            points = None
            if predictor is not None:
                shape = predictor(rgb, rect)
                points = [(float(p.x), float(p.y)) for p in shape.parts()]
            faces.append(FaceBox(x0, y0, x1 - x0, y1 - y0, float(score), int(view), points))
    return sorted(faces, key=lambda f: -f.score)


def landmarks68(image: np.ndarray, face: FaceBox) -> np.ndarray | None:
    """The 68 iBUG points (x, y) of a detected face, float64 68×2; None without the 68-point model."""
    predictor = landmark68_model()
    if predictor is None:
        return None
    rgb = _rgb(image)
    rect = _dlib().rectangle(face.x, face.y, face.x + face.w, face.y + face.h)
    with _LOCK:
        shape = predictor(rgb, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def upscale_factor(image: np.ndarray, side: int = SMALL_FACE_SIDE) -> int:
    """How much to enlarge a frame so its short side reaches `side` (1 for big frames, at most MAX_UPSCALE)."""
    short = min(image.shape[:2])
    return int(min(MAX_UPSCALE, max(1, int(np.ceil(side / max(short, 1))))))


def detect_small_faces(image: np.ndarray) -> tuple[np.ndarray, list[FaceBox]]:
    """Faces down to ~18 px: the frame enlarged by `upscale_factor` (cubic) and the faces found in it.

    Why: HOG with one upsampling finds faces of ~40 px and up; in a 256² render a character's face is
    25-40 px and in a 128² render about 18. The boxes are in the enlarged frame's pixels (represent the face
    on that frame); a lower detection score is accepted there because the likeness comparison decides.
    """
    rgb = _rgb(image)
    factor = upscale_factor(rgb)
    if factor == 1:
        return rgb, detect_faces(rgb)
    big = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    return big, detect_faces(big, min_score=SMALL_FACE_MIN_SCORE)


def sharpness(image: np.ndarray, face: FaceBox) -> float:
    """Variance of the Laplacian of the face, resized to 128 px so the number does not depend on size."""
    crop = face_crop(image, face, size=128, margin=0.0)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def face_crop(image: np.ndarray, face: FaceBox, size: int = 256, margin: float = 0.25) -> np.ndarray:
    """A square RGB crop around the face (with `margin` of its size on each side), resized to size²."""
    rgb = _rgb(image)
    cx, cy = face.center
    half = max(face.w, face.h) * (0.5 + margin)
    x0, y0 = int(round(cx - half)), int(round(cy - half))
    x1, y1 = int(round(cx + half)), int(round(cy + half))
    pad = max(0, -x0, -y0, x1 - rgb.shape[1], y1 - rgb.shape[0])
    if pad:
        rgb = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    shrink = (x1 - x0) >= size
    return cv2.resize(rgb[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def yaw(face: FaceBox) -> float | None:
    """A head-turn measure from the landmarks: the nose's offset from the eyes' midpoint, in eye widths.

    Positive when the nose moves to the image's right. None without landmarks.
    """
    if not face.landmarks or len(face.landmarks) < 5:
        return None
    pts = np.asarray(face.landmarks, dtype=np.float64)
    eyes, nose = pts[:4], pts[4]
    span = float(np.ptp(eyes[:, 0])) or 1.0
    return float((nose[0] - eyes[:, 0].mean()) / span)


def yaw68(points: np.ndarray) -> float:
    """Head turn from 68 points: the nose tip's offset from the jaw outline's midpoint, in face widths.

    Positive when the nose moves to the image's right (the person's own left, unmirrored); a frontal face
    is ~0, a clear turn 0.1-0.25.
    """
    left, right = points[0], points[16]
    width = float(np.linalg.norm(right - left)) or 1.0
    return float((points[30, 0] - (left[0] + right[0]) / 2) / width)


def eye_openness(points: np.ndarray) -> float:
    """Both eyes' mean lid gap divided by the nose bridge length (points 27-33).

    Why not the usual eye aspect ratio (lid gap / eye width): tilting a printed photo backwards squashes a
    face vertically and lowers that ratio as if the eyes closed; dividing by another vertical length (the
    nose) cancels the squash, so only the eyelids closing relative to the face counts as a blink.
    """
    gap = (np.linalg.norm(points[37] - points[41]) + np.linalg.norm(points[38] - points[40])
           + np.linalg.norm(points[43] - points[47]) + np.linalg.norm(points[44] - points[46])) / 4
    return float(gap / (np.linalg.norm(points[27] - points[33]) or 1.0))


def planar_residual(points: np.ndarray, reference: np.ndarray) -> float:
    """How far the landmarks moved in a way no flat picture can: after the best homography (a photo or a
    screen moved, turned, tilted in front of the camera) from `reference` to `points`, the 90th percentile of
    the points' leftover distances, in units of the face width. A still photo stays near landmark noise."""
    h, _ = cv2.findHomography(reference.astype(np.float32), points.astype(np.float32), 0)
    if h is None:
        return 0.0
    mapped = cv2.perspectiveTransform(reference.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
    width = float(np.linalg.norm(points[16] - points[0])) or 1.0
    return float(np.percentile(np.linalg.norm(mapped - points, axis=1), 90) / width)


# --- representation ----------------------------------------------------------------------------------------


def represent(image: np.ndarray, face: FaceBox) -> list[FaceVector]:
    """Every likeness representation available here for one face, strongest first.

    The fallback is always included, so a cameo registered on a machine without the embedding weights can
    still be compared after they are installed (and the other way round), by the strongest shared method.
    """
    rgb = _rgb(image)
    vectors = []
    predictor, recognizer = _models()
    if predictor is not None and recognizer is not None:
        dlib = _dlib()
        rect = dlib.rectangle(face.x, face.y, face.x + face.w, face.y + face.h)
        with _LOCK:
            shape = predictor(rgb, rect)
            embedding = np.asarray(recognizer.compute_face_descriptor(rgb, shape), dtype=np.float64)
        vectors.append(FaceVector(EMBEDDING_METHOD, [round(float(v), 6) for v in embedding]))
    vectors.append(FaceVector(FALLBACK_METHOD, [round(float(v), 6) for v in _fallback_vector(rgb, face)]))
    return vectors


def _fallback_vector(rgb: np.ndarray, face: FaceBox) -> np.ndarray:
    crop = face_crop(rgb, face, size=64, margin=-0.1)
    grey = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    grey = cv2.equalizeHist(grey.astype(np.uint8)).astype(np.float64).ravel()
    grey = (grey - grey.mean()) / (grey.std() + 1e-6)
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [8, 4], [0, 180, 0, 256]).ravel().astype(np.float64)
    hist = hist / (np.linalg.norm(hist) + 1e-9)
    vec = np.concatenate([grey / np.sqrt(grey.size), hist])  # both parts unit length, equal weight
    return vec / np.linalg.norm(vec)


def same_person(a: FaceVector, b: FaceVector) -> tuple[bool, float]:
    """Whether two vectors of the same method are one person, and the score compared (distance or
    similarity, by method). Vectors of different methods raise: they are not comparable."""
    if a.method != b.method:
        raise ValueError(f"cannot compare a {a.method} vector with a {b.method} vector")
    va, vb = np.asarray(a.vector), np.asarray(b.vector)
    if a.method == EMBEDDING_METHOD:
        distance = float(np.linalg.norm(va - vb))
        return distance < EMBEDDING_MAX_DISTANCE, distance
    similarity = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb) + 1e-12))
    return similarity >= FALLBACK_MIN_SIMILARITY, similarity


@dataclass
class Comparison:
    """How a face compared with a set of references: by which method, the best score, and the verdict."""

    method: str
    score: float  # distance (embedding, lower is closer) or cosine similarity (fallback, higher is closer)
    same_person: bool

    @property
    def strong(self) -> bool:
        """Whether a face-recognition model made this comparison (not the weak fallback)."""
        return self.method == EMBEDDING_METHOD


def compare(probe: list[FaceVector], references: list[FaceVector]) -> Comparison | None:
    """The probe against the references by the strongest method both have; None when they share none."""
    for method in (EMBEDDING_METHOD, FALLBACK_METHOD):
        mine = [v for v in probe if v.method == method]
        theirs = [v for v in references if v.method == method]
        if mine and theirs:
            results = [same_person(mine[0], r) for r in theirs]
            best = min(results, key=lambda r: r[1]) if method == EMBEDDING_METHOD else max(results, key=lambda r: r[1])
            return Comparison(method=method, score=best[1], same_person=best[0])
    return None
