"""Picture layers for image-to-video (issue 14): a standing thing in the still is cut out (GrabCut seeded by the
ground's colours and focus), stands upright at the depth where it meets the picture's ground, and moves against the
backdrop with parallax when the camera pushes in; the first view stays the still."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).parent))

from test_world_i2v import photo  # noqa: E402

from sora_lite.engines.world.camera import CameraPose  # noqa: E402
from sora_lite.engines.world.still import (behind_layers, fit_layers, picture_layers,  # noqa: E402
                                           still_ground)

SIDE = 192
POST = (0.45, 0.82, 0.25, 0.38)  # rows, columns (shares of the side) of a red post standing on the ground


def with_post(side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The i2v test picture with a red post standing on its ground, and the post's true mask."""
    img = photo(side, side).copy()
    truth = np.zeros((side, side), bool)
    truth[int(POST[0] * side):int(POST[1] * side), int(POST[2] * side):int(POST[3] * side)] = True
    img[truth] = [200, 40, 40]
    return img, truth


def test_a_standing_thing_is_cut_out_where_it_stands() -> None:
    img, truth = with_post()
    layers = picture_layers(img, still_ground(img).horizon)
    assert len(layers) == 1
    mask = layers[0].mask
    assert (mask & truth).sum() / (mask | truth).sum() > 0.9
    assert abs(layers[0].base_row - (int(POST[1] * SIDE) - 1)) <= 2
    assert "colour" in layers[0].cues


def test_pictures_without_a_standing_thing_give_no_layer() -> None:
    assert picture_layers(photo(SIDE, SIDE), 0.38) == []  # the tree ends at the horizon: part of the backdrop
    assert picture_layers(np.full((SIDE, SIDE, 3), 128, np.uint8), 0.4) == []
    img, _ = with_post()
    assert picture_layers(img, 0.95) == []  # no visible ground: nothing stands on it


def test_the_layer_covers_its_pixels_from_the_first_camera_and_stands_upright() -> None:
    img, truth = with_post()
    pose = CameraPose([0.0, 0.0, 0.1], 2.0, 90.0, -12.0, 45.0)
    layers = picture_layers(img, still_ground(img).horizon)
    (verts, tex, faces), = fit_layers(img, layers, pose, SIDE, SIDE)
    v = np.array(verts).reshape(-1, 3)
    uv = np.array(tex).reshape(-1, 2) * SIDE
    right, up, fwd = pose.basis()
    rel = v - pose.position()
    focal = (SIDE / 2) / math.tan(math.radians(pose.fovy) / 2)
    px = SIDE / 2 + focal * (rel @ right) / (rel @ fwd)
    py = SIDE / 2 - focal * (rel @ up) / (rel @ fwd)
    assert np.allclose(np.stack([px, py], -1), uv, atol=0.05)  # seen from the first camera: its own pixels
    flat = np.array([fwd[0], fwd[1], 0.0]) / np.hypot(fwd[0], fwd[1])
    assert np.ptp(rel @ flat) < 1e-6  # one upright plane facing the camera
    assert abs(v[:, 2].min()) < 0.02  # its foot is on the ground (z = 0)
    assert len(faces) % 3 == 0 and max(faces) < len(v)


def test_the_thing_is_painted_out_behind_its_layer() -> None:
    img, truth = with_post()
    behind = behind_layers(img, picture_layers(img, still_ground(img).horizon))
    red = (behind[..., 0] > 170) & (behind[..., 1] < 80)
    assert red[truth].mean() < 0.05
    far = np.ones_like(truth)
    far[int(POST[0] * SIDE) - 6:int(POST[1] * SIDE) + 6, int(POST[2] * SIDE) - 6:int(POST[3] * SIDE) + 6] = False
    assert np.array_equal(behind[far], img[far])  # only around the thing


@pytest.mark.slow
def test_the_standing_thing_moves_against_the_backdrop(tmp_path) -> None:
    from sora_lite.engines.base import GenerationRequest
    from sora_lite.engines.world.engine import WorldEngine

    img, _ = with_post()
    Image.fromarray(img).save(tmp_path / "still.png")
    req = GenerationRequest(prompt="a blue ball rolls across the table", image=str(tmp_path / "still.png"),
                            seconds=3.0, width=SIDE, height=SIDE, fps=12, seed=0, options={"workers": 1})
    res = WorldEngine().generate(req)
    notes = " ".join(n for d in res.info["framing"] for n in d.get("notes", []))
    assert "picture layers: 1 standing thing" in notes

    def height(frame: np.ndarray, colour: tuple[int, int, int]) -> int:
        rows = np.nonzero((np.abs(frame.astype(int) - colour).sum(-1) < 40).sum(1) > 3)[0]
        return int(rows.max() - rows.min() + 1)

    first, last = res.clip.frames[0], res.clip.frames[-1]
    post = height(last, (200, 40, 40)) / height(first, (200, 40, 40))
    tree = height(last, (60, 90, 60)) / height(first, (60, 90, 60))  # on the backdrop, beyond the horizon
    assert post > tree + 0.05, (post, tree)  # the nearer layer grows faster as the camera pushes in: parallax
    # ... and stays upright: painted on the ground instead, its top (far along the floor) slews sideways
    # (measured without layers: left edge 42 at the top, 52 at the foot; with: 52 and 52)
    red = np.abs(last.astype(int) - (200, 40, 40)).sum(-1) < 40
    rows = np.nonzero(red.sum(1) > 3)[0]
    edges = [np.nonzero(red[r])[0][[0, -1]] for r in (rows.min() + 3, (rows.min() + rows.max()) // 2, rows.max() - 3)]
    assert np.ptp([e[0] for e in edges]) <= 2 and np.ptp([e[1] for e in edges]) <= 2, edges
