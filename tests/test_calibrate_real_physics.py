"""The physics family of `python -m eval.calibrate --real DIR`: controls built from a window, and a small folder
(a synthetic "camera" clip of a bouncing ball plus a still) run end to end."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eval.calibrate_real import RealConfig, discover_clips
from eval.calibrate_real_physics import CONTROLS, make_control, physics_family

H, W, FPS = 120, 160, 25


def _clip(n: int = 50, seed: int = 0) -> np.ndarray:
    """A ball dropped onto a table in front of a grainy wall, bouncing twice."""
    rng = np.random.default_rng(seed)
    wall = np.full((H, W, 3), (186, 178, 165), np.float32)
    wall[int(H * 0.8) :] = (150, 110, 70)
    wall += rng.normal(0, 6, size=(H // 8 + 1, W // 8 + 1, 1)).repeat(8, 0).repeat(8, 1)[:H, :W]
    frames = np.repeat(np.clip(wall, 0, 255).astype(np.uint8)[None], n, axis=0)
    yy, xx = np.mgrid[0:H, 0:W]
    y, v, x, floor = 12.0, 0.0, 40.0 + 10 * seed, H * 0.8 - 5
    for i in range(n):
        frames[i][(xx - x) ** 2 + (yy - y) ** 2 <= 25] = (205, 120, 60)
        for _ in range(20):
            v += 900 / FPS / 20
            y += v / FPS / 20
            x += 25 / FPS / 20
            if y >= floor and v > 0:
                y, v = floor, -0.75 * v
    noise = rng.integers(-3, 4, size=frames.shape)
    return np.clip(frames.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def test_controls_change_what_they_say() -> None:
    frames = _clip()
    plan = {"middle": [10, 11, 12, 13], "boxes": {i: np.array([30.0, 20.0, 40.0, 30.0]) for i in range(10, 14)}}
    assert np.array_equal(make_control("flip", frames, plan)[5], frames[5, ::-1])
    assert np.array_equal(make_control("reverse", frames, plan)[0], frames[-1])
    cut = make_control("cut", frames, plan)
    assert len(cut) == len(frames) - 4 and np.array_equal(cut[10], frames[14])
    frozen = make_control("freeze", frames, plan)
    assert all(np.array_equal(frozen[i], frames[10]) for i in range(10, 14)) and np.array_equal(frozen[14], frames[14])
    painted = make_control("paint_out", frames, plan)
    assert not np.array_equal(painted[11], frames[11]) and np.array_equal(painted[20], frames[20])
    assert make_control("cut", frames, None) is None  # no flight found: that control does not apply
    with pytest.raises(ValueError):
        make_control("levitate", frames, plan)


@pytest.mark.slow
def test_family_on_a_small_folder(tmp_path: Path) -> None:
    from sora_lite.media import Clip, write_video

    folder = tmp_path / "real"
    folder.mkdir()
    manifest = []
    for k in range(2):
        write_video(Clip(frames=_clip(seed=k), fps=Fraction(FPS)), folder / f"drop{k}.mp4", crf=12)
        manifest.append({"file": f"drop{k}.mp4", "kind": "physics", "law": "bouncing", "object": "orange ball",
                         "colour": "orange", "window_s": [0.0, 2.0]})
    still = np.repeat(_clip()[:1], 30, axis=0)
    write_video(Clip(frames=still, fps=Fraction(FPS)), folder / "head.mp4", crf=12)
    manifest.append({"file": "head.mp4", "kind": "av", "category": "talking head (speech)"})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    config = RealConfig(out=tmp_path / "out", progress=False)
    table = physics_family(discover_clips(folder), config, tmp_path)
    assert {"physics", "physics.flip", "physics.no_object"} <= set(table["metric"])
    flip = table[table["metric"] == "physics.flip"].iloc[0]
    assert flip["n_positive"] >= 2 and flip["n_negative"] >= 2 and flip["auroc"] == 1.0
    nothing = table[table["metric"] == "physics.no_object"].iloc[0]
    assert nothing["answered"] == 0  # the still "talking head" and the synthetic stills: no number at all
    scores = pd.read_csv(config.out / "physics_real_scores.csv")
    assert set(scores["kind"]) <= {"lawful", *CONTROLS} and (scores["label"] == 1).sum() >= 2
    assert "No-object controls" in table.attrs["markdown"]
