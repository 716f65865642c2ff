"""The world engine obeys physics, as seen in its pixels, its sound and its ground truth."""

import math

import numpy as np
import pytest

from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world.engine import WorldEngine
from sora_lite.engines.world.scene import Scene, layout_bodies
from sora_lite.engines.world.simulate import Simulation
from sora_lite.engines.world.spec import SceneSpec

G = 9.81
FPS = 24
H_DROP = 1.0  # metres from the ball's bottom to the floor
R = 0.12

DROP_SPEC = {
    "objects": [{"shape": "ball", "color": "red", "material": "rubber", "size": R, "position": [0.0, 0.0, H_DROP + R]}],
    "environment": {"floor": "checker", "backdrop": "sky"},
    "camera": {"move": "static", "elevation": 0.0, "distance": 4.0, "lens_mm": 35.0},
}


@pytest.fixture(scope="module")
def drop():
    req = GenerationRequest(spec=DROP_SPEC, seconds=1.5, width=128, height=128, fps=FPS, seed=3)
    return WorldEngine().generate(req)


def red_centroids(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(int)
    mask = (f[..., 0] > f[..., 1] + 25) & (f[..., 0] > f[..., 2] + 25)
    ys = []
    for m in mask:
        yy, xx = np.nonzero(m)
        # +0.5: pixel (i, j) covers [j, j+1) × [i, i+1) in the ground truth's continuous coordinates
        ys.append((yy.mean() + 0.5, xx.mean() + 0.5) if yy.size > 5 else (np.nan, np.nan))
    return np.array(ys)


def test_first_contact_frame_from_pixels_matches_free_fall(drop):
    cy = red_centroids(drop.clip.frames)[:, 0]
    assert np.isfinite(cy[:20]).all(), "the ball must be visible while it falls"
    expected = math.sqrt(2 * H_DROP / G) * FPS
    first_window = cy[: int(expected) + 6]
    lowest = int(np.nanargmax(first_window))  # y grows downward: the lowest point is the contact
    assert abs(lowest - expected) <= 1.0, (lowest, expected)
    # it really fell: from the top part of the frame to the lower part
    assert cy[0] < cy[lowest] - 20


def test_ground_truth_pixels_match_the_render(drop):
    c = red_centroids(drop.clip.frames)
    for f in (0, 5, 10, 20):
        obj = drop.ground_truth["frames"][f]["objects"][0]
        assert obj["visible"]
        assert abs(obj["pixel"][0] - c[f, 1]) < 1.0 and abs(obj["pixel"][1] - c[f, 0]) < 1.0, (f, obj["pixel"], c[f])
        assert 3 < obj["radius_px"] < 30


def test_first_impact_sound_starts_at_the_contact(drop):
    audio = drop.clip.audio
    assert audio.dtype == np.float32 and audio.shape[0] == 2 and drop.clip.sample_rate == 48000
    env = np.abs(audio).max(axis=0)
    onset = int(np.argmax(env > 0.5 * env.max())) / 48000  # relative: the mix sets the clip's loudness
    contact = math.sqrt(2 * H_DROP / G)
    assert abs(onset - contact) <= 0.010, (onset, contact)
    first = drop.ground_truth["contacts"][0]
    assert first["objects"] == ["floor", "red ball"] and first["impulse"] > 0
    assert abs(first["time"] - contact) < 0.005
    assert drop.info["audio_source"] == "simulated contacts"


def apexes(spec: SceneSpec, seconds: float = 4.0) -> list[float]:
    sim = Simulation(Scene(spec, layout_bodies(spec, 0), 0, 128, 128), list(spec.perturbations), 1.0, 240)
    z = sim.run(int(seconds * 240), 0).pos[:, 0, 2] - spec.objects[0].size
    return [float(z[i]) for i in range(1, len(z) - 1) if z[i] > z[i - 1] and z[i] >= z[i + 1] and z[i] > 0.01]


def ball(restitution: float | None = None, perturb: list | None = None) -> SceneSpec:
    d = {"objects": [{"shape": "ball", "size": R, "position": [0, 0, H_DROP + R], "restitution": restitution}],
         "perturbations": perturb or []}
    return SceneSpec.from_dict(d)


def test_bounce_apexes_follow_restitution():
    e = 0.7
    ap = apexes(ball(e))
    assert len(ap) >= 3
    assert all(a2 < a1 for a1, a2 in zip(ap, ap[1:]))
    assert ap[0] == pytest.approx(e * e * H_DROP, rel=0.05)


def test_energy_gain_perturbation_makes_apexes_grow():
    ap = apexes(ball(0.7, [{"kind": "energy_gain", "at": 0.0, "amount": 1.15}]), seconds=3.0)
    assert len(ap) >= 2
    assert all(a2 >= a1 for a1, a2 in zip(ap, ap[1:]))
    assert ap[0] > H_DROP


def test_gravity_flip_teleport_and_vanish_are_applied():
    spec = SceneSpec.from_dict({"objects": [{"shape": "cube", "size": 0.1, "position": [0, 0, 0.1005]},
                                            {"shape": "ball", "size": 0.1, "position": [1, 0, 0.1005]}],
                                "perturbations": [{"kind": "gravity_flip", "at": 0.5},
                                                  {"kind": "teleport", "at": 0.25, "target": 1, "amount": 0.5},
                                                  {"kind": "vanish", "at": 0.25, "target": 0}]})
    sim = Simulation(Scene(spec, layout_bodies(spec, 0), 0, 128, 128), spec.perturbations, 1.0, 24)
    seg = sim.run(24, 0)
    assert seg.pos[-1, 1, 2] > 0.3  # gravity points up after 0.5 s
    assert seg.pos[7, 1, 0] == pytest.approx(1.5, abs=0.02)  # teleported +0.5 m in x
    assert not seg.hidden[5, 0] and seg.hidden[7, 0]
    assert {p["kind"] for p in sim.applied} == {"gravity_flip", "teleport", "vanish"}


def test_objects_keep_state_across_a_cut():
    shots = [
        {"prompt": "", "camera": "static", "seconds": 1.0},
        {"prompt": "", "camera": {"move": "orbit", "azimuth": 60.0}, "seconds": 1.0,
         "spec": {"objects": DROP_SPEC["objects"] + [{"shape": "cube", "color": "blue", "size": 0.1, "position": [0.6, 0.0, 0.8]}]}},
    ]
    req = GenerationRequest(spec=DROP_SPEC, shots=shots, seconds=2.0, width=128, height=128, fps=FPS)
    res = WorldEngine().generate(req)
    info = res.info["shots"]
    assert [(s["start_frame"], s["end_frame"]) for s in info] == [(0, 24), (24, 48)]
    assert info[1]["camera"] == "orbit"
    assert res.info["carried"][0]["carried"] == ["red ball"]
    frames = res.ground_truth["frames"]
    before = frames[23]["objects"][0]
    after = frames[24]["objects"][0]
    assert before["name"] == after["name"] == "red ball"
    step = np.array(before["velocity"]) / FPS
    predicted = np.array(before["position"]) + step
    assert np.linalg.norm(np.array(after["position"]) - predicted) < 0.05
    # the ball kept moving (it was carried, not re-dropped from its start height)
    assert after["position"][2] < H_DROP
    assert [o["name"] for o in frames[30]["objects"]] == ["red ball", "blue cube"]
    # the same colour before and after the cut
    c = red_centroids(res.clip.frames[23:25])
    assert np.isfinite(c).all()


@pytest.mark.parametrize("speed", [1.0, 0.5])
def test_height_field_and_slow_motion_set_the_first_contact(speed):
    spec = SceneSpec.from_dict({"objects": [{"shape": "cube", "size": 0.1, "height": 0.8}], "pacing": {"speed": speed}})
    sim = Simulation(Scene(spec, layout_bodies(spec, 0), 0, 128, 128), [], speed, 24)
    events = sim.run(48, 0).events
    assert events and events[0].objects[0] == "floor"
    assert events[0].time == pytest.approx(math.sqrt(2 * 0.8 / G) / speed, abs=0.006)
