"""Output moderation: sampled frames through an image classifier (when its weights are here) + face detection.

Prompt moderation judges what was asked; this judges what came out. The image classifier is a Hugging Face
image-classification model (default `Falconsai/nsfw_image_detection`, or `SORA_LITE_IMAGE_MODERATION_MODEL`)
loaded only from local files: an instance never downloads at run time. Without its weights the verdict is
an explicit "not_checked" (or "block" when the instance fails closed) — never a silent "allow". Faces are
found offline (`sora_lite.cameo.faces`, dlib's HOG detector) and handed to the cameo check, which decides whose likeness they are.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sora_lite.cameo.faces import FaceBox
from sora_lite.cameo.faces import detect_faces as find_faces
from sora_lite.media import spread_indices

MODEL_ENV = "SORA_LITE_IMAGE_MODERATION_MODEL"
THRESHOLD_ENV = "SORA_LITE_IMAGE_MODERATION_THRESHOLD"
DEFAULT_MODEL = "Falconsai/nsfw_image_detection"
DEFAULT_THRESHOLD = 0.5
DEFAULT_SAMPLES = 8
RETRY_MISSING_S = 300.0

# Classifier label (lower case, substring) → policy category; labels matching none are treated as safe.
LABEL_CATEGORIES: list[tuple[str, str]] = [
    ("nsfw", "sexual"), ("porn", "sexual"), ("hentai", "sexual"), ("sexy", "sexual"), ("nud", "sexual"),
    ("explicit", "sexual"), ("sexual", "sexual"), ("gore", "violence"), ("violen", "violence"),
    ("blood", "violence"), ("weapon", "weapons_illegal"),
]
CATEGORY_REASONS = {
    "sexual": "The generated video appears to contain nudity or sexual content.",
    "violence": "The generated video appears to contain graphic violence or gore.",
    "weapons_illegal": "The generated video appears to show weapons in a way the policy does not allow.",
}


class ImageModelUnavailable(RuntimeError):
    """The image classifier's weights are not on this machine; the message says how to get them."""


@dataclass
class OutputVerdict:
    """What output moderation decided about one clip; round-trips through JSON for the audit log."""

    status: Literal["allow", "block", "not_checked"]
    category: str | None
    reason: str
    faces: list[list[FaceBox]]
    sampled_frames: list[int] = field(default_factory=list)
    classifier: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    face_detector: str | None = None

    @property
    def blocked(self) -> bool:
        return self.status == "block"

    @property
    def face_count(self) -> int:
        """Most faces seen in any one sampled frame."""
        return max((len(f) for f in self.faces), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "category": self.category, "reason": self.reason,
            "faces": [[box.to_dict() for box in frame] for frame in self.faces],
            "sampled_frames": self.sampled_frames, "classifier": self.classifier, "scores": self.scores,
            "face_detector": self.face_detector,
        }


def sample_indices(n_frames: int, count: int = DEFAULT_SAMPLES) -> list[int]:
    """Evenly spread frame indices, first and last included."""
    return spread_indices(n_frames, max(1, count)).tolist()


def _category_for(label: str) -> str | None:
    low = label.lower()
    if low in ("normal", "safe", "sfw", "neutral", "drawings", "drawing"):
        return None
    for key, category in LABEL_CATEGORIES:
        if key in low:
            return category
    return None


def _on_disk(model: str) -> bool:
    """Whether `model` is a local folder or a Hub id with a snapshot in the local Hugging Face cache."""
    if os.path.isdir(model):
        return True
    from huggingface_hub.constants import HF_HUB_CACHE

    snapshots = os.path.join(HF_HUB_CACHE, "models--" + model.replace("/", "--"), "snapshots")
    return os.path.isdir(snapshots) and any(os.scandir(snapshots))


class ImageClassifier:
    """A local image-classification model; loads lazily and once (thread-safe)."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._missing: tuple[float, ImageModelUnavailable] | None = None

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            # Looking for absent weights costs ~0.3 s; remember the answer for a while.
            if self._missing and time.monotonic() - self._missing[0] < RETRY_MISSING_S:
                raise self._missing[1]
            if self._loaded is None:
                if not _on_disk(self.model):  # answer without importing transformers and torch (~5 s)
                    missing = ImageModelUnavailable(
                        f"image moderation model {self.model!r} is not on this machine. Download it where there "
                        f"is network (`hf download {self.model}`; older huggingface_hub: `huggingface-cli download "
                        f"{self.model}`) into the Hugging Face cache, or set {MODEL_ENV} to a local folder")
                    self._missing = (time.monotonic(), missing)
                    raise missing
                from transformers import (
                    AutoImageProcessor,
                    AutoModelForImageClassification,
                )

                try:
                    processor = AutoImageProcessor.from_pretrained(self.model, local_files_only=True)
                    net = AutoModelForImageClassification.from_pretrained(self.model, local_files_only=True)
                except (OSError, ValueError) as exc:
                    missing = ImageModelUnavailable(
                        f"image moderation model {self.model!r} is not on this machine ({type(exc).__name__}). "
                        f"Download it where there is network (`hf download {self.model}`; older huggingface_hub: `huggingface-cli download {self.model}`) into the "
                        f"Hugging Face cache, or set {MODEL_ENV} to a local folder")
                    self._missing = (time.monotonic(), missing)
                    raise missing from exc
                net.eval()
                self._loaded = (processor, net)
            return self._loaded

    def scores(self, frames: list[np.ndarray]) -> list[dict[str, float]]:
        """Label probabilities per frame."""
        processor, net = self._load()
        import torch

        with self._lock, torch.inference_mode():
            inputs = processor(images=[np.asarray(f) for f in frames], return_tensors="pt")
            probs = net(**inputs).logits.softmax(-1).cpu().numpy()
        labels = [net.config.id2label[i] for i in range(probs.shape[1])]
        return [{label: float(p) for label, p in zip(labels, row)} for row in probs]


_classifiers: dict[str, ImageClassifier] = {}
FACE_DETECTOR = "dlib-hog (sora_lite.cameo.faces)"
_shared_lock = threading.Lock()


def _shared_classifier(model: str | None) -> ImageClassifier:
    name = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    with _shared_lock:
        if name not in _classifiers:
            _classifiers[name] = ImageClassifier(name)
        return _classifiers[name]


def _as_frames(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
        raise ValueError(f"frames must be an array of shape (T, H, W, 3) with T >= 1, got {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    return arr


def moderate_output(frames: np.ndarray, *, fail_closed: bool = False, samples: int = DEFAULT_SAMPLES,
                    model: str | None = None, threshold: float | None = None,
                    detect_faces: bool = True) -> OutputVerdict:
    """Judge a generated clip's frames (T, H, W, 3) uint8 RGB (floats in [0, 1] are accepted too)."""
    arr = _as_frames(frames)
    picked = sample_indices(arr.shape[0], samples)
    sampled = [arr[i] for i in picked]
    faces: list[list[FaceBox]] = []
    detector_name = None
    if detect_faces:  # the same detector the cameo check uses, so both see the same faces
        detector_name = FACE_DETECTOR
        faces = [find_faces(frame) for frame in sampled]
    threshold = float(os.environ.get(THRESHOLD_ENV, DEFAULT_THRESHOLD)) if threshold is None else threshold
    classifier = _shared_classifier(model)
    common: dict[str, Any] = {"faces": faces, "sampled_frames": picked, "classifier": classifier.model,
                              "face_detector": detector_name}
    try:
        per_frame = classifier.scores(sampled)
    except ImageModelUnavailable as exc:
        if fail_closed:
            return OutputVerdict("block", "not_checked", f"Frames could not be checked and this instance fails "
                                 f"closed: {exc}", **common)
        return OutputVerdict("not_checked", None, f"Frames were not checked: {exc}", **common)
    worst: dict[str, float] = {}
    for scores in per_frame:
        for label, p in scores.items():
            worst[label] = max(worst.get(label, 0.0), p)
    flagged = sorted(((p, label, _category_for(label)) for label, p in worst.items()
                      if _category_for(label) and p >= threshold), reverse=True)
    if flagged:
        p, label, category = flagged[0]
        reason = f"{CATEGORY_REASONS.get(str(category), 'The generated video breaks the policy.')} " \
                 f"({classifier.model}: {label} {p:.2f} on a sampled frame)"
        return OutputVerdict("block", category, reason, scores=worst, **common)
    return OutputVerdict("allow", None, f"No sampled frame reached {threshold:.2f} on an unsafe label "
                         f"({classifier.model}).", scores=worst, **common)
