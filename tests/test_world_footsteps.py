"""Footsteps, landings and claps of the articulated figures: a sound by floor material and gait, placed at the
sample of its contact event, listed in the sidecar as kind "footstep" (like the impact test)."""

from __future__ import annotations

import numpy as np
import pytest

from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world.engine import WorldEngine
from sora_lite.sound import footsteps


def _centroid(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.astype(np.float64)))
    f = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    return float((spec * f).sum() / spec.sum())


def _rng() -> np.random.Generator:
    return np.random.default_rng(3)


def test_floors_and_gaits_sound_different() -> None:
    tile, sand = footsteps.footstep_sound("tile", "walk", _rng()), footsteps.footstep_sound("sand", "walk", _rng())
    assert _centroid(tile) > 2 * _centroid(sand)  # tile clicks bright, sand is dull
    walk, run = footsteps.footstep_sound("wood", "walk", _rng()), footsteps.footstep_sound("wood", "run", _rng())
    assert np.sqrt(np.mean(run ** 2)) > 1.4 * np.sqrt(np.mean(walk ** 2))  # a run is louder
    assert _centroid(run) > _centroid(walk)  # ... and brighter
    assert footsteps.material_of("tiles") == "tile" and footsteps.material_of("field") == "grass"
    assert footsteps.gait_of("jog", "step") == "run" and footsteps.gait_of("jump", "step") == "landing"
    assert footsteps.gait_of("clap", "hand") == "clap"
    with pytest.raises(ValueError, match="unknown floor material"):
        footsteps.footstep_sound("lava", "walk", _rng())


def _walk(prompt_floor: str, action: str, seconds: float = 3.0):
    spec = {"objects": [{"shape": "prop", "recipe": "person", "action": action}],
            "environment": {"floor": prompt_floor, "backdrop": "sky"}, "ambience": False,
            "camera": {"move": "static", "distance": 6.0, "elevation": 10.0}}
    return WorldEngine().generate(GenerationRequest(spec=spec, seconds=seconds, width=128, height=128, fps=24, seed=2))


@pytest.mark.slow
@pytest.mark.parametrize("floor,action,material,gait", [("wood", "walk", "wood", "walk"),
                                                          ("snow", "run", "snow", "run")])
def test_footsteps_start_within_10ms_of_their_contacts(floor, action, material, gait) -> None:
    r = _walk(floor, action)
    steps = [e for e in r.ground_truth["sound_events"] if e["kind"] == "footstep"]
    contacts = [c for c in r.ground_truth["contacts"] if c.get("kind") == "step"]
    assert len(steps) >= 4 and len(steps) == len(contacts)
    assert all(s["detail"] == {"material": material, "gait": gait} and s["source"] == r.info["objects"][0] for s in steps)
    times = np.array([s["start"] for s in steps])
    assert np.allclose(times, [c["time"] for c in contacts], atol=1e-4)
    gaps = np.diff(times)
    assert gaps.min() > 0.6 * gaps.mean(), gaps  # left, right, left: the feet alternate, none land together
    env = np.abs(r.clip.audio).max(axis=0)
    for t in times:
        a, b = int((t - 0.05) * SAMPLE_RATE), int((t + 0.05) * SAMPLE_RATE)
        window = env[max(a, 0):b]
        onset = (max(a, 0) + int(np.argmax(window > 0.2 * window.max()))) / SAMPLE_RATE
        assert abs(onset - t) <= 0.010, (onset, t)


@pytest.mark.slow
@pytest.mark.parametrize("action,kind,gait", [("clap", "clap", "clap"), ("jump", "footstep", "landing")])
def test_claps_and_jump_landings_sound_at_their_contacts(action, kind, gait) -> None:
    r = _walk("tiles", action, seconds=2.0)
    got = [e for e in r.ground_truth["sound_events"] if e["kind"] == kind]
    contacts = [c for c in r.ground_truth["contacts"] if c.get("kind") in ("step", "hand")]
    assert got and len(got) == len(contacts) and all(e["detail"]["gait"] == gait for e in got)
    env = np.abs(r.clip.audio).max(axis=0)
    for e in got:
        a, b = int((e["start"] - 0.05) * SAMPLE_RATE), int((e["start"] + 0.05) * SAMPLE_RATE)
        window = env[max(a, 0):b]
        onset = (max(a, 0) + int(np.argmax(window > 0.2 * window.max()))) / SAMPLE_RATE
        assert abs(onset - e["start"]) <= 0.010, (onset, e["start"])
