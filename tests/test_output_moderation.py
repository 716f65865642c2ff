"""Output moderation: explicit not-checked state without weights, fail-closed, a real (tiny, random) image
classifier loaded from local files, and offline face detection."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from sora_lite.cameo.faces import detect_faces
from sora_lite.safety.output import moderate_output, sample_indices

ABSENT_MODEL = "sora-lite-tests/no-such-image-model"


def _tiny_classifier(folder: Path, unsafe: bool) -> str:
    """A 1-layer random ViT whose head is forced to say `nsfw` (or `normal`): exercises the real loading code."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=37, num_labels=2, id2label={0: "normal", 1: "nsfw"},
                       label2id={"normal": 0, "nsfw": 1})
    model = ViTForImageClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([-4.0, 4.0] if unsafe else [4.0, -4.0]))
    model.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def face_image() -> np.ndarray:
    """Grace Hopper's portrait, shipped with matplotlib's sample data (public domain, US Navy)."""
    matplotlib = pytest.importorskip("matplotlib")
    path = Path(matplotlib.__file__).parent / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    if not path.exists():
        pytest.skip("matplotlib sample data not installed")
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _plain_scene(h: int = 240, w: int = 320) -> np.ndarray:
    """Sky, grass and a red ball: the kind of frame the world engine makes, with no one in it."""
    frame = np.zeros((h, w, 3), np.uint8)
    frame[: h // 2] = (135, 185, 230)
    frame[h // 2:] = (70, 140, 60)
    cv2.circle(frame, (w // 2, h // 2 + 30), 25, (200, 30, 30), -1)
    return frame


def test_not_checked_without_weights_names_the_model() -> None:
    frames = np.stack([_plain_scene()] * 5)
    verdict = moderate_output(frames, model=ABSENT_MODEL)
    assert verdict.status == "not_checked" and not verdict.blocked
    assert ABSENT_MODEL in verdict.reason and "huggingface-cli download" in verdict.reason
    assert verdict.sampled_frames == [0, 1, 2, 3, 4]
    assert len(verdict.faces) == 5 and verdict.face_count == 0
    assert verdict.to_dict()["status"] == "not_checked"


def test_fail_closed_blocks_when_frames_cannot_be_checked() -> None:
    verdict = moderate_output(np.stack([_plain_scene()] * 3), model=ABSENT_MODEL, fail_closed=True)
    assert verdict.status == "block" and verdict.blocked
    assert "fails closed" in verdict.reason


def test_local_image_classifier_blocks_and_allows(tmp_path: Path) -> None:
    frames = np.stack([_plain_scene()] * 12)
    unsafe = _tiny_classifier(tmp_path / "unsafe", unsafe=True)
    verdict = moderate_output(frames, model=unsafe, detect_faces=False)
    assert verdict.status == "block" and verdict.category == "sexual"
    assert verdict.scores["nsfw"] > 0.9 and len(verdict.sampled_frames) == 8
    safe = _tiny_classifier(tmp_path / "safe", unsafe=False)
    verdict = moderate_output(frames.astype(np.float32) / 255.0, model=safe, detect_faces=False)
    assert verdict.status == "allow" and verdict.category is None


def test_bad_frames_are_rejected_clearly() -> None:
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        moderate_output(np.zeros((4, 32, 32)), model=ABSENT_MODEL)
    with pytest.raises(ValueError):
        moderate_output(np.zeros((0, 32, 32, 3), np.uint8), model=ABSENT_MODEL)
    assert sample_indices(100, 8)[0] == 0 and sample_indices(100, 8)[-1] == 99
    assert sample_indices(3, 8) == [0, 1, 2]


def test_face_found_in_portrait_and_none_in_plain_scene(face_image: np.ndarray) -> None:
    faces = detect_faces(face_image)
    assert len(faces) == 1
    box = faces[0]
    # Her face sits in the middle of the upper half of the 512×600 portrait.
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    assert 180 < cx < 340 and 140 < cy < 300 and 80 < box.w < 320
    assert detect_faces(_plain_scene()) == []
    noise = (np.random.default_rng(0).random((240, 320, 3)) * 255).astype(np.uint8)
    assert detect_faces(noise) == []


def test_moderate_output_reports_faces_per_sampled_frame(face_image: np.ndarray) -> None:
    portrait = cv2.resize(face_image, (256, 300))
    frames = np.stack([portrait, _plain_scene(300, 256), portrait])
    verdict = moderate_output(frames, model=ABSENT_MODEL, samples=3)
    assert [len(f) for f in verdict.faces] == [1, 0, 1]
    assert verdict.sampled_frames == [0, 1, 2] and verdict.face_count == 1
    assert verdict.face_detector and "dlib" in verdict.face_detector
