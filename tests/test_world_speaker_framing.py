"""A figure that speaks is framed so its face is seen: a medium shot, waist up, unless the text asks for a shot size.

Measured from the rendered pixels: the face is the connected region of the colour found just above the
mouth (the sidecar's `mouths` pixel), and its height is compared with the frame's. A wide shot asked for in
words is the control: the same speaker, its face a few pixels tall.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world.engine import WorldEngine
from sora_lite.engines.world.framing import says_shot_size, speaker_camera
from sora_lite.engines.world.spec import CameraSpec

SIZE = 128
LINE = '"welcome to the show"'


@pytest.fixture(scope="module")
def engine() -> WorldEngine:
    return WorldEngine()


def face_height(frame: np.ndarray, mouth: list[float]) -> int:
    """Rows spanned by the region of the face's colour (sampled a little above the mouth) that holds that point."""
    x, y = round(mouth[0]), round(mouth[1])
    sy = max(0, y - max(2, frame.shape[0] // 40))
    skin = frame[sy, x].astype(int)
    close = np.abs(frame.astype(int) - skin).max(axis=-1) < 40
    labels, _ = ndimage.label(close)
    rows = np.flatnonzero((labels == labels[sy, x]).any(axis=1))
    return int(rows.max() - rows.min() + 1)


def speaking_frame(engine: WorldEngine, prompt: str) -> tuple[np.ndarray, list[float], dict]:
    res = engine.generate(GenerationRequest(prompt=prompt, seconds=1.5, width=SIZE, height=SIZE, seed=0))
    (name, mouth), = res.ground_truth["mouths"].items()
    k = int(np.argmax(mouth["openness"]))  # mid-line, mouth open
    assert mouth["pixel"][k] is not None
    person = next(o for o in res.ground_truth["frames"][k]["objects"] if o["name"] == name)
    return res.clip.frames[k], mouth["pixel"][k], person


def test_shot_words_and_the_speaker_camera() -> None:
    assert says_shot_size("a wide shot of a man") and says_shot_size("close-up of a woman")
    assert not says_shot_size('a man says "welcome to the show" to the camera')
    wide = CameraSpec()
    assert speaker_camera(wide, "a man says hi").shot == "medium"
    assert speaker_camera(wide, "a wide shot: a man says hi").shot == "wide"
    assert speaker_camera(CameraSpec(distance=6.0), "a man says hi").shot == "wide"  # a distance was asked


@pytest.mark.slow
def test_a_speaker_is_framed_waist_up_with_the_face_seen(engine: WorldEngine) -> None:
    frame, mouth, person = speaking_frame(engine, f"a man in a suit says {LINE} to the camera")
    assert face_height(frame, mouth) >= SIZE / 6
    assert person["radius_px"] > SIZE / 2  # the body overfills the frame: waist up, not head to toe


@pytest.mark.slow
def test_an_asked_wide_shot_keeps_the_speaker_small(engine: WorldEngine) -> None:
    frame, mouth, person = speaking_frame(engine, f"a wide shot of a man in a suit who says {LINE} to the camera")
    assert face_height(frame, mouth) < SIZE / 10
    assert person["radius_px"] < SIZE / 4


def skin_height(frame: np.ndarray, mouth: list[float]) -> int:
    """Rows spanned by the face: the region of the colour found first above the mouth's dark box (walking up
    from the mouth pixel until the colour changes), which holds that point. Robust to a large mouth."""
    x, y = round(mouth[0]), round(mouth[1])
    dark = frame[y, x].astype(int)
    sy = y
    while sy > 0 and np.abs(frame[sy, x].astype(int) - dark).max() < 60:
        sy -= 1
    sy = max(0, sy - 2)
    skin = frame[sy, x].astype(int)
    close = np.abs(frame.astype(int) - skin).max(axis=-1) < 40
    labels, _ = ndimage.label(close)
    rows = np.flatnonzero((labels == labels[sy, x]).any(axis=1))
    return int(rows.max() - rows.min() + 1)


def test_a_close_up_of_a_speaker_asks_for_the_close_shot() -> None:
    for text in ("a close up of a man who says hi", "close-up: a man says hi", "closeup of a man who says hi",
                 "an extreme close up of a man who says hi"):
        assert says_shot_size(text), text
        assert speaker_camera(CameraSpec(shot="close"), text).shot == "close"


@pytest.mark.slow
def test_an_asked_close_up_frames_head_and_shoulders(engine: WorldEngine) -> None:
    res = engine.generate(GenerationRequest(prompt=f"a close up of a man in a suit who says {LINE} to the camera",
                                            seconds=1.5, width=SIZE, height=SIZE, seed=0))
    (name, mouth), = res.ground_truth["mouths"].items()
    k = int(np.argmax(mouth["openness"]))
    assert mouth["pixel"][k] is not None
    assert skin_height(res.clip.frames[k], mouth["pixel"][k]) >= SIZE / 3  # the face large
    person = [o for f in res.ground_truth["frames"] for o in f["objects"] if o["name"] == name]
    assert person[k]["pixel"][1] > SIZE  # the hips (the body's centre) below the frame: head and shoulders
    assert all(o["visible"] for o in person)  # yet counted visible: its head is in frame
    notes = [n for shot in res.ground_truth["shots"] for n in shot["framing"]["notes"]]
    assert any("head and shoulders" in n for n in notes), notes


@pytest.mark.slow
def test_an_asked_wide_shot_holds_the_whole_speaker(engine: WorldEngine) -> None:
    _, _, person = speaking_frame(engine, f"a wide shot of a man in a suit who says {LINE} to the camera")
    x, y = person["pixel"]
    r = person["radius_px"]
    assert 0 <= x - r and x + r <= SIZE and 0 <= y - r and y + r <= SIZE  # head to toe inside the frame
    assert person["visible"]
