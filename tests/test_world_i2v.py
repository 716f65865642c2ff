"""Image-to-video on the world engine (issue 14): the first frame is the still (PSNR ≥ 35 dB after H.264), the
picture's horizon sets the camera, and the prompt's objects stand on the picture's ground and stay in frame."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.base import GenerationRequest, RequestError  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from sora_lite.engines.world.still import still_ground  # noqa: E402
from sora_lite.engines.world.truth import in_frame_shares  # noqa: E402
from sora_lite.media import Clip, read_video, write_video  # noqa: E402

SIDE = 192
HORIZON = 0.38


def photo(h: int = SIDE, w: int = SIDE, horizon: float = HORIZON, seed: int = 0) -> np.ndarray:
    """A photo-like still: a sky gradient over a textured ground (a table top), with a horizon at `horizon`."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    row = int(horizon * h)
    sky = np.stack([120 + 60 * y / h, 170 + 40 * y / h, 235 - 10 * y / h], -1)
    noise = np.asarray(Image.fromarray((rng.random((h // 8, w // 8)) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC),
                       dtype=np.float32)
    ground = np.stack([150 + 0.2 * noise, 105 + 0.15 * noise, 70 + 0.1 * noise], -1) * (0.8 + 0.2 * y[..., None] / h)
    img = np.where((y < row)[..., None], sky, ground)
    img[int(0.2 * h):row, int(0.7 * w):int(0.8 * w)] = [60, 90, 60]  # a tree on the horizon
    return np.clip(img, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return float("inf") if mse == 0 else 10 * math.log10(255 ** 2 / mse)


@pytest.fixture(scope="module")
def clip_and_still(tmp_path_factory):
    still = photo()
    path = tmp_path_factory.mktemp("i2v") / "still.png"
    Image.fromarray(still).save(path)
    req = GenerationRequest(prompt="a blue ball rolls across the table", image=str(path), seconds=3.0, width=SIDE,
                            height=SIDE, fps=12, seed=0, options={"workers": 1})
    return WorldEngine().generate(req), still


def test_the_horizon_is_found_in_the_picture():
    assert abs(still_ground(photo()).horizon - HORIZON) < 0.03
    assert abs(still_ground(photo(horizon=0.6)).horizon - 0.6) < 0.03
    flat = np.full((64, 64, 3), 128, np.uint8)
    assert "default" in still_ground(flat).source
    assert still_ground(flat, 0.7).horizon == 0.7
    with pytest.raises(RequestError, match="horizon"):
        still_ground(flat, 1.5)


def test_the_first_frame_is_the_still_after_encoding(clip_and_still, tmp_path):
    res, still = clip_and_still
    assert psnr(res.clip.frames[0], still) >= 45
    out = write_video(Clip(frames=res.clip.frames, fps=res.clip.fps), tmp_path / "i2v.mp4")
    first = read_video(out).frames[0]
    assert psnr(first, still) >= 35, psnr(first, still)


def test_the_objects_stand_on_the_pictures_ground_and_stay_in_frame(clip_and_still):
    res, still = clip_and_still
    gt = res.ground_truth
    cam = gt["frames"][0]["camera"]
    # the ground plane's horizon, as the camera sees it, is the picture's horizon
    row = 0.5 * (1 - math.tan(math.radians(-cam["elevation"])) / math.tan(math.radians(cam["fovy"]) / 2))
    assert abs(row - still_ground(still).horizon) < 0.02
    assert min(s["share"] for s in in_frame_shares(gt)) >= 0.8
    size = res.info["spec"]["objects"][0]["size"]  # the ball's radius
    for name in gt["objects"]:
        track = [(f, o) for f in gt["frames"][1:] for o in f["objects"] if o["name"] == name]
        lift = np.array([o["position"][2] for _, o in track]) - size  # height of its lowest point
        assert lift.min() > -0.01 and np.abs(lift).min() < 0.01, "the object never stands on the picture's ground"
        for f, o in track:
            if o["position"][2] < size + 0.05 and o["visible"]:  # on the ground: below the picture's horizon
                assert o["pixel"][1] > row * SIDE, "an object on the ground shows above the picture's horizon"
    # the objects are drawn: the frames after the first differ from the still where the ball is
    mid = res.clip.frames[len(res.clip.frames) // 2]
    assert psnr(mid, still) < 40
    assert res.info["framing"][0]["mode"] == "image"


def test_the_pictures_ground_is_a_lit_layer_the_objects_shadow(clip_and_still):
    res, still = clip_and_still
    gt = res.ground_truth
    last = res.clip.frames[-1].astype(float)
    row = int(still_ground(still).horizon * SIDE)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    away = np.ones((SIDE, SIDE), bool)
    for o in gt["frames"][-1]["objects"]:
        away &= (xx - o["pixel"][0]) ** 2 + (yy - o["pixel"][1]) ** 2 > (o["radius_px"] + 2) ** 2
    diff = (last - still.astype(float)).mean(axis=-1)
    ground = away & (yy > row + 2)
    assert np.median(np.abs(diff[ground])) < 12, "the ground no longer looks like the picture's"
    assert diff[ground].min() < -25, "no shadow of the object on the picture's ground"
    second = res.clip.frames[1].astype(float)
    assert psnr(second[: row - 2], still[: row - 2]) > 30  # the backdrop above the ground keeps the picture
