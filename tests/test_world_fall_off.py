"""Things that fall, tumble, roll or slide off a table do: the layout sets them on the table's edge with a push
over it, so they land on the floor after the start and their impacts are heard (were: a stack that settled at
spawn, two clicks in the first 30 ms and silence; bench/soundtrack.py's quiet miss)."""

from __future__ import annotations

import numpy as np
import pytest

from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world.engine import WorldEngine
from sora_lite.engines.world.parse import parse_prompt
from sora_lite.engines.world.scene import TABLE_EDGE_X, TABLE_TOP, layout_bodies


@pytest.mark.parametrize("prompt, kind", [
    ("three wooden blocks tumble off a table", "cube"),
    ("a ball rolls off the desk", "ball"),
    ("a red cube slides off the counter", "cube"),
    ("two balls fall off a table", "ball"),
    ("a cup falls off a table", "prop"),
])
def test_off_a_table_starts_on_its_edge_pushed_over(prompt: str, kind: str) -> None:
    spec = parse_prompt(prompt).spec
    assert spec.environment.table
    (obj,) = spec.objects
    assert obj.shape == kind and obj.arrangement == "edge" and obj.velocity[0] > 0
    for b in layout_bodies(spec, 0):
        assert TABLE_EDGE_X - b.size < b.pos[0] < TABLE_EDGE_X  # overhanging, its centre still over the top
        assert b.pos[2] > TABLE_TOP
        assert not b.driven  # a prop is pushed, not driven at its speed through the air (animate.py)


def test_without_a_table_the_verb_alone() -> None:
    falls = parse_prompt("a blue ball falls off").spec.objects[0]
    assert falls.arrangement != "edge" and falls.height == 1.0 and falls.velocity == [0.0, 0.0, 0.0]  # a drop
    rolls = parse_prompt("a ball rolls off a ramp").spec
    assert rolls.objects[0].arrangement != "edge" and rolls.environment.ramp_angle is not None


@pytest.mark.slow
def test_tumbling_blocks_land_on_the_floor_with_impacts_after_the_start() -> None:
    res = WorldEngine().generate(GenerationRequest(prompt="three wooden blocks tumble off a table", seconds=3.0,
                                                   width=128, height=128, seed=0))
    gt = res.ground_truth
    late = [c for c in gt["contacts"] if c["time"] > 0.5]
    assert len(late) >= 3 and max(c["impulse"] for c in late) > 1.0
    end = gt["frames"][-1]["objects"]
    assert len(end) == 3 and all(o["position"][2] < TABLE_TOP - 0.2 for o in end)  # on the floor, not the table
    audio, sr = np.abs(res.clip.audio).max(axis=0), res.clip.sample_rate
    first = min(c["time"] for c in late)
    before = audio[int((first - 0.15) * sr):int((first - 0.02) * sr)].max()  # in the air, after the scrape
    assert audio[int(first * sr):int((first + 0.05) * sr)].max() > 4 * before  # the landing is heard


@pytest.mark.slow
def test_a_cup_pushed_off_a_table_lands_on_the_floor() -> None:
    res = WorldEngine().generate(GenerationRequest(prompt="a cup falls off a table", seconds=2.0, width=128,
                                                   height=128, seed=0))
    assert any(c["time"] > 0.3 for c in res.ground_truth["contacts"])
    (cup,) = res.ground_truth["frames"][-1]["objects"]
    assert cup["position"][2] < TABLE_TOP - 0.3
