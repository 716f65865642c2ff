"""The world engine as a door sees it: registry, determinism, image-to-video, bad input, progress, cancel."""

import json
import threading

import numpy as np
import pytest
from PIL import Image

from sora_lite.engines.base import Cancelled, GenerationRequest, RequestError, get_engine
from sora_lite.engines.world.engine import WorldEngine

SPEC = {
    "objects": [{"shape": "ball", "color": "red", "size": 0.12},
                {"shape": "cube", "color": "blue", "size": 0.1, "count": 2}],
    "environment": {"floor": "wood"},
    "camera": {"move": "orbit"},
}


def small(**kw) -> GenerationRequest:
    base = dict(spec=SPEC, seconds=1.0, width=128, height=128, fps=12, seed=5)
    base.update(kw)
    return GenerationRequest(**base)


@pytest.fixture(scope="module")
def engine() -> WorldEngine:
    return get_engine("world")  # type: ignore[return-value]


def test_registered_and_result_shape(engine):
    assert engine.name == "world" and engine.availability()[0]
    stages = []
    res = engine.generate(small(), progress=lambda s, f: stages.append((s, f)))
    clip = res.clip
    assert clip.frames.shape == (12, 128, 128, 3) and clip.frames.dtype == np.uint8
    assert clip.fps == 12 and clip.sample_rate == 48000 and clip.audio.shape == (2, 48000)
    assert {"simulate", "render", "audio"} <= {s for s, _ in stages}
    assert all(0.0 <= f <= 1.0 for _, f in stages)
    info = res.info
    assert info["objects"] == ["red ball", "blue cube #1", "blue cube #2"]
    assert set(info["timings"]) >= {"simulate", "render", "audio"}
    assert res.spec == info["spec"] and res.spec["camera"]["move"] == "orbit"
    gt = json.loads(json.dumps(res.ground_truth))  # JSON-able
    assert len(gt["frames"]) == 12 and gt["frames"][0]["camera"]["fovy"] > 0
    # the orbit moved the camera
    assert gt["frames"][0]["camera"]["azimuth"] != gt["frames"][-1]["camera"]["azimuth"]


def test_same_seed_same_clip_other_seed_differs(engine):
    a = engine.generate(small())
    b = engine.generate(small())
    assert np.array_equal(a.clip.frames, b.clip.frames)
    assert np.array_equal(a.clip.audio, b.clip.audio)
    c = engine.generate(small(seed=6))
    assert not np.array_equal(a.clip.frames, c.clip.frames)


def test_split_rendering_gives_the_same_pixels(engine):
    req = small(seconds=2.0, fps=24, spec={**SPEC, "camera": {"move": "static"}})
    one = engine.generate(GenerationRequest(**{**req.to_dict(), "options": {"workers": 1}}))
    two = engine.generate(GenerationRequest(**{**req.to_dict(), "options": {"workers": 2, "parallel_min_pixels": 0}}))
    assert np.array_equal(one.clip.frames, two.clip.frames)


def test_image_to_video_first_frame_resembles_the_still(engine, tmp_path):
    h = w = 128
    y, x = np.mgrid[0:h, 0:w]
    still = np.stack([x * 2, y * 2, 255 - (x + y)], -1).astype(np.uint8)
    still[10:40, 10:50] = [250, 240, 20]
    path = tmp_path / "still.png"
    Image.fromarray(still).save(path)
    spec = {"objects": [{"shape": "ball", "color": "white", "size": 0.1}]}
    res = engine.generate(small(image=str(path), spec=spec))
    first = res.clip.frames[0].astype(float)
    gt = res.ground_truth["frames"][0]["objects"][0]
    yy, xx = np.mgrid[0:h, 0:w]
    free = (xx - gt["pixel"][0]) ** 2 + (yy - gt["pixel"][1]) ** 2 > (gt["radius_px"] + 4) ** 2
    a, b = first[free], still.astype(float)[free]
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95
    psnr = 10 * np.log10(255 ** 2 / np.mean((a - b) ** 2))
    assert psnr > 25, psnr
    assert res.spec["environment"]["backdrop"] == "image"


@pytest.mark.parametrize("kw, words", [
    (dict(width=100), "width"),
    (dict(fps=70), "fps"),
    (dict(seconds=30), "duration"),
    (dict(spec={"objects": [{"shape": "dragon"}]}), "shape"),
    (dict(spec={"objects": [{"shape": "ball"}], "colour": "red"}), "unknown"),
    (dict(spec={"environment": {"backdrop": "image"}}), "needs an image"),
    (dict(shots=[{"prompt": "", "camera": "spin"}]), "camera"),
    (dict(shots=[{"prompt": "", "seconds": 30}]), "seconds"),
    (dict(options={"perturbations": [{"kind": "explode"}]}), "kind"),
])
def test_bad_requests_are_rejected_clearly(engine, kw, words):
    with pytest.raises(RequestError, match=words):
        engine.generate(small(**kw))


def test_missing_image_is_a_request_error(engine, tmp_path):
    with pytest.raises(RequestError, match="could not read the image"):
        engine.generate(small(image=str(tmp_path / "nope.png")))


def test_cancel_stops_the_job(engine):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        engine.generate(small(), cancel=cancel)


def test_every_camera_move_renders_and_moves(engine):
    firsts, lasts = {}, {}
    for move in ("static", "pan", "tilt", "orbit", "dolly", "zoom", "follow"):
        spec = {**SPEC, "camera": {"move": move}}
        res = engine.generate(small(spec=spec, fps=8))
        cams = res.ground_truth["frames"]
        firsts[move], lasts[move] = cams[0]["camera"], cams[-1]["camera"]
        assert res.clip.frames.std() > 5
    assert firsts["static"] == lasts["static"]
    for move in ("pan", "tilt", "orbit", "dolly", "zoom", "follow"):
        assert firsts[move] != lasts[move], move
