"""Offline face detection for output moderation: finds likenesses in frames, for the cameo check.

OpenCV 5 (opencv-python-headless) no longer ships Haar cascades or `cv2.CascadeClassifier`, and its
YuNet detector (`cv2.FaceDetectorYN`) needs an ONNX file that no wheel ships. So, in order of preference:

1. YuNet, when the operator points `SORA_LITE_FACE_MODEL` at `face_detection_yunet_*.onnx`;
2. `cv2.CascadeClassifier` (present in opencv-contrib builds) with the bundled frontal-face cascade;
3. the same bundled cascade (`data/haarcascade_frontalface_default.xml`, from OpenCV 4, Intel License,
   redistributable with its notice) evaluated here with NumPy: Viola–Jones stumps on integral images,
   variance-normalised like OpenCV's HaarEvaluator, over an image pyramid, neighbours grouped.
"""

from __future__ import annotations

import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CASCADE_FILE = Path(__file__).parent / "data" / "haarcascade_frontalface_default.xml"
FACE_MODEL_ENV = "SORA_LITE_FACE_MODEL"
_MAX_SIDE = 320


@dataclass(frozen=True)
class FaceBox:
    """One detected face, in pixel coordinates of the original frame."""

    frame: int
    x: int
    y: int
    w: int
    h: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Stage:
    threshold: float
    feature: np.ndarray  # (K,) feature index per stump
    node_threshold: np.ndarray  # (K,)
    left: np.ndarray  # (K,) leaf value when below threshold
    right: np.ndarray  # (K,)


@dataclass
class _Cascade:
    width: int
    height: int
    stages: list[_Stage]
    rects: np.ndarray  # (F, 3, 4) x, y, w, h per rectangle (zeros when unused)
    weights: np.ndarray  # (F, 3)


def _numbers(text: str | None) -> list[float]:
    return [float(v) for v in (text or "").split()]


@lru_cache(maxsize=2)
def load_cascade(path: Path = CASCADE_FILE) -> _Cascade:
    """Parse an OpenCV (new-format, stump-based) Haar cascade XML."""
    root = ET.parse(path).getroot().find("cascade")
    if root is None or (root.findtext("featureType") or "").strip() != "HAAR":
        raise ValueError(f"{path} is not an OpenCV Haar cascade")
    stages = []
    for stage in root.find("stages") or []:
        nodes = [_numbers(w.findtext("internalNodes")) for w in stage.find("weakClassifiers") or []]
        leaves = [_numbers(w.findtext("leafValues")) for w in stage.find("weakClassifiers") or []]
        if any(len(n) != 4 or len(lv) != 2 for n, lv in zip(nodes, leaves)):
            raise ValueError(f"{path}: only stump cascades (one split per weak classifier) are supported")
        stages.append(_Stage(
            threshold=float(stage.findtext("stageThreshold") or 0.0),
            feature=np.array([int(n[2]) for n in nodes]),
            node_threshold=np.array([n[3] for n in nodes]),
            left=np.array([lv[0] for lv in leaves]),
            right=np.array([lv[1] for lv in leaves]),
        ))
    features = root.find("features") or []
    rects = np.zeros((len(features), 3, 4), dtype=np.int64)
    weights = np.zeros((len(features), 3))
    for f, feature in enumerate(features):
        for r, rect in enumerate(feature.find("rects") or []):
            values = _numbers(rect.text)
            rects[f, r] = [int(v) for v in values[:4]]
            weights[f, r] = values[4]
    return _Cascade(int(root.findtext("width") or 24), int(root.findtext("height") or 24), stages, rects, weights)


def _rect_sums(ii: np.ndarray, ys: np.ndarray, xs: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Sums of rectangles (K, 3, 4) placed at windows (N,): returns (N, K, 3)."""
    y0 = ys[:, None, None] + rects[None, :, :, 1]
    x0 = xs[:, None, None] + rects[None, :, :, 0]
    y1 = y0 + rects[None, :, :, 3]
    x1 = x0 + rects[None, :, :, 2]
    return ii[y1, x1] - ii[y0, x1] - ii[y1, x0] + ii[y0, x0]


def _detect_scale(cascade: _Cascade, gray: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = gray.shape
    ww, wh = cascade.width, cascade.height
    if h < wh or w < ww:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    img = gray.astype(np.float64)
    ii = np.pad(img.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sq = np.pad((img * img).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    grid_y, grid_x = np.mgrid[0:h - wh + 1:step, 0:w - ww + 1:step]
    ys, xs = grid_y.ravel(), grid_x.ravel()
    # Variance normalisation over the window minus a one-pixel border, as OpenCV's HaarEvaluator does.
    norm = np.array([[[1, 1, ww - 2, wh - 2]]])
    area = float((ww - 2) * (wh - 2))
    s = _rect_sums(ii, ys, xs, norm)[:, 0, 0]
    s2 = _rect_sums(sq, ys, xs, norm)[:, 0, 0]
    nf = area * s2 - s * s
    nf = np.where(nf > 0, np.sqrt(np.maximum(nf, 0)), 1.0)
    alive = np.arange(len(ys))
    last = np.zeros(len(ys))
    for stage in cascade.stages:
        if alive.size == 0:
            break
        sums = _rect_sums(ii, ys[alive], xs[alive], cascade.rects[stage.feature])
        values = (sums * cascade.weights[stage.feature][None]).sum(axis=2)
        below = values < stage.node_threshold[None, :] * nf[alive, None]
        total = np.where(below, stage.left[None, :], stage.right[None, :]).sum(axis=1)
        keep = total >= stage.threshold - 1e-5
        last[alive] = total - stage.threshold
        alive = alive[keep]
    return xs[alive], ys[alive], last[alive]


def _group(boxes: list[tuple[int, int, int, int, float]], min_neighbors: int, eps: float = 0.2) -> list[tuple[int, int, int, int, float]]:
    """Cluster overlapping detections like OpenCV's groupRectangles and keep well-supported clusters."""
    n = len(boxes)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            a, b = boxes[i], boxes[j]
            delta = eps * (min(a[2], b[2]) + min(a[3], b[3])) * 0.5
            if (abs(a[0] - b[0]) <= delta and abs(a[1] - b[1]) <= delta and
                    abs(a[0] + a[2] - b[0] - b[2]) <= delta and abs(a[1] + a[3] - b[1] - b[3]) <= delta):
                parent[find(i)] = find(j)
    clusters: dict[int, list[tuple[int, int, int, int, float]]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(boxes[i])
    grouped = []
    for members in clusters.values():
        if len(members) <= min_neighbors:
            continue
        arr = np.array([m[:4] for m in members], dtype=np.float64).mean(axis=0)
        grouped.append((*[int(round(v)) for v in arr], float(len(members))))
    # Drop clusters lying inside a bigger, better-supported one.
    result = []
    for g in grouped:
        inside = any(o is not g and o[4] >= g[4] and g[0] >= o[0] - 0.2 * o[2] and g[1] >= o[1] - 0.2 * o[3]
                     and g[0] + g[2] <= o[0] + 1.2 * o[2] and g[1] + g[3] <= o[1] + 1.2 * o[3] and o[2] > g[2]
                     for o in grouped)
        if not inside:
            result.append(g)
    return result


def detect_faces_haar(gray: np.ndarray, scale_factor: float = 1.2, min_neighbors: int = 3,
                      min_size: int = 24) -> list[tuple[int, int, int, int, float]]:
    """Viola–Jones frontal faces in a grayscale image: (x, y, w, h, neighbours).

    A pyramid step of 1.2 (OpenCV's examples use 1.1–1.3) halves the NumPy cost against 1.1 and still finds
    frontal faces from 24 px up.
    """
    cascade = load_cascade()
    gray = cv2.equalizeHist(gray.astype(np.uint8))
    boxes: list[tuple[int, int, int, int, float]] = []
    factor = max(1.0, min_size / cascade.width)
    h, w = gray.shape
    while w / factor >= cascade.width and h / factor >= cascade.height:
        size = (max(1, int(round(w / factor))), max(1, int(round(h / factor))))
        scaled = cv2.resize(gray, size, interpolation=cv2.INTER_LINEAR)
        step = 1 if factor > 2 else 2
        xs, ys, _ = _detect_scale(cascade, scaled, step)
        win_w, win_h = int(round(cascade.width * factor)), int(round(cascade.height * factor))
        boxes += [(int(round(x * factor)), int(round(y * factor)), win_w, win_h, 1.0) for x, y in zip(xs, ys)]
        factor *= scale_factor
    return _group(boxes, min_neighbors)


class FaceDetector:
    """Picks the best detector available offline (see module docstring); thread-safe, loads once."""

    def __init__(self, yunet_model: str | None = None) -> None:
        self.yunet_model = yunet_model if yunet_model is not None else os.environ.get(FACE_MODEL_ENV) or None
        self._lock = threading.Lock()
        self._yunet: Any = None
        self._cv_cascade: Any = None
        if self.yunet_model and not Path(self.yunet_model).is_file():
            raise FileNotFoundError(
                f"YuNet face model {self.yunet_model} ({FACE_MODEL_ENV}) does not exist; download "
                "face_detection_yunet_2023mar.onnx from the OpenCV model zoo, or unset the variable to use "
                "the bundled Haar cascade")

    @property
    def name(self) -> str:
        if self.yunet_model:
            return f"yunet:{Path(self.yunet_model).name}"
        return "haar-cascade (opencv)" if hasattr(cv2, "CascadeClassifier") else "haar-cascade (numpy)"

    def detect(self, rgb: np.ndarray, frame_index: int = 0) -> list[FaceBox]:
        """Faces in one RGB uint8 frame (H, W, 3)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB frame of shape (H, W, 3), got {rgb.shape}")
        h, w = rgb.shape[:2]
        scale = min(1.0, _MAX_SIDE / max(h, w))
        small = cv2.resize(rgb, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else rgb
        found = self._detect_small(np.ascontiguousarray(small))
        return [FaceBox(frame_index, int(x / scale), int(y / scale), int(bw / scale), int(bh / scale), float(s))
                for x, y, bw, bh, s in found]

    def _detect_small(self, rgb: np.ndarray) -> list[tuple[int, int, int, int, float]]:
        if self.yunet_model:
            with self._lock:
                if self._yunet is None:
                    self._yunet = cv2.FaceDetectorYN.create(self.yunet_model, "", (rgb.shape[1], rgb.shape[0]))
                self._yunet.setInputSize((rgb.shape[1], rgb.shape[0]))
                _, faces = self._yunet.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            return [(int(f[0]), int(f[1]), int(f[2]), int(f[3]), float(f[-1])) for f in (faces if faces is not None else [])]
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if hasattr(cv2, "CascadeClassifier"):
            with self._lock:
                if self._cv_cascade is None:
                    self._cv_cascade = cv2.CascadeClassifier(str(CASCADE_FILE))
                rects, _, weights = self._cv_cascade.detectMultiScale3(
                    cv2.equalizeHist(gray), scaleFactor=1.1, minNeighbors=3, minSize=(24, 24), outputRejectLevels=True)
            return [(int(x), int(y), int(w), int(h), float(s)) for (x, y, w, h), s in zip(rects, np.ravel(weights))]
        return detect_faces_haar(gray)
