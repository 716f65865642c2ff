"""The camera keeps the story in frame (issue 14): every object a shot's text names is in frame for at least
80 % of that shot's frames, read from the ground-truth sidecar; the path is planned (smooth), honours the shot
size and the move, lets a subject leave only when the text says so, and says why it framed what it framed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.base import GenerationRequest, RequestError  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from sora_lite.engines.world.truth import in_frame_shares  # noqa: E402

DATA = Path(__file__).parent / "data" / "framing_prompts.jsonl"
HELD_OUT = Path(__file__).parent / "data" / "framing_prompts_heldout.jsonl"
SIDE = 128


@pytest.fixture(scope="module")
def engine() -> WorldEngine:
    return WorldEngine()


def run(engine: WorldEngine, prompt: str = "", shots: list | None = None, seconds: float = 3.0, **kw):
    req = GenerationRequest(prompt=prompt, shots=shots, seconds=seconds, width=SIDE, height=SIDE, fps=12, seed=0,
                            options={"workers": 1}, **kw)
    return engine.generate(req)


def shares(res) -> dict[tuple[int, str], float]:
    return {(s["shot"], s["object"]): s["share"] for s in in_frame_shares(res.ground_truth)}


STORYBOARD = [{"prompt": "a red ball and a blue cube on a checker floor"},
              {"prompt": "the ball rolls toward the cube"},
              {"prompt": "close up of the cube"}]


def test_the_storyboard_example_shows_the_cube_in_its_close_up(engine):
    res = run(engine, shots=STORYBOARD, seconds=6.0)
    got = shares(res)
    assert set(got) == {(0, "red ball"), (0, "blue cube"), (1, "red ball"), (1, "blue cube"), (2, "blue cube")}
    assert min(got.values()) >= 0.8, got
    gt = res.ground_truth
    close = gt["shots"][2]
    radii = [o["radius_px"] for f in gt["frames"][close["start_frame"]:close["end_frame"]] for o in f["objects"]
             if o["name"] == "blue cube"]
    wide = [o["radius_px"] for o in gt["frames"][0]["objects"] if o["name"] == "blue cube"]
    assert np.median(radii) > 2 * wide[0], "the close-up is not closer than the establishing shot"
    assert np.median(radii) > 0.15 * SIDE
    framing = res.info["framing"]
    assert framing[2]["subjects"] == ["blue cube"] and "named" in framing[2]["why"]
    assert close["framing"]["subjects"] == ["blue cube"]  # the sidecar carries the decision too


def test_a_storyboard_titled_with_its_shot_texts_starts_from_its_first_shot(engine):
    """The studio titles a storyboard "shot 1 / shot 2 / ...": the title is not the starting scene."""
    title = " / ".join(s["prompt"] for s in STORYBOARD)
    res = run(engine, title, shots=STORYBOARD, seconds=6.0)
    sizes = [d["shot_size"] for d in res.info["framing"]]
    assert sizes == ["wide", "wide", "close"], sizes
    assert res.info["specs_per_shot"][0]["objects"][0]["velocity"] == [0.0, 0.0, 0.0]
    assert min(shares(res).values()) >= 0.8


@pytest.mark.parametrize("prompt", [
    "a bowling ball knocks down ten pins, close-up, slow motion",
    "a blue cube slides down a steep ramp and stops on the floor",
    "a small glass marble rolls toward a large metal sphere, close up",
    "a tiny steel ball drops onto a granite table, macro",
])
def test_the_issue_prompts_keep_their_objects_in_frame(engine, prompt):
    got = shares(run(engine, prompt))
    assert got and min(got.values()) >= 0.8, got


def test_a_close_up_of_a_rolling_object_tracks_it_smoothly(engine):
    res = run(engine, "a steel ball rolls fast to the right across a wooden floor, close up", seconds=4.0)
    assert min(shares(res).values()) >= 0.95
    d = res.info["framing"][0]
    assert d["mode"] == "tracking" and d["shot_size"] == "close"
    cams = np.array([f["camera"]["position"] for f in res.ground_truth["frames"]])
    assert np.ptp(cams[:, 0]) > 1.0, "the camera did not follow the ball"
    accel = np.linalg.norm(np.diff(cams, 2, axis=0), axis=1)
    speed = np.linalg.norm(np.diff(cams, axis=0), axis=1)
    assert accel.max() < 0.25 * max(speed.max(), 1e-6) + 1e-3, "per-frame jitter in the camera path"


def test_a_static_camera_stays_still_and_widens_instead(engine):
    res = run(engine, "a steel ball rolls fast to the right across a wooden floor, close up, static camera")
    cams = [f["camera"] for f in res.ground_truth["frames"]]
    assert all(c == cams[0] for c in cams)
    assert min(shares(res).values()) >= 0.8
    assert res.info["framing"][0]["mode"] == "static" and res.info["framing"][0]["notes"]


def test_a_spec_that_spells_out_a_static_camera_keeps_it_still(engine):
    spec = {"objects": [{"shape": "ball", "color": "red", "velocity": [3.0, 0, 0], "name": "red ball"}],
            "camera": {"move": "static", "shot": "close"}}
    res = engine.generate(GenerationRequest(spec=spec, seconds=3.0, width=SIDE, height=SIDE, fps=12,
                                            options={"workers": 1}))
    cams = [f["camera"] for f in res.ground_truth["frames"]]
    assert all(c == cams[0] for c in cams)
    assert min(shares(res).values()) >= 0.8  # a scene spec names every object it lists


def test_shot_size_changes_how_big_the_subject_is(engine):
    def radius(prompt: str) -> float:
        gt = run(engine, prompt, seconds=1.0).ground_truth
        return float(np.median([o["radius_px"] for f in gt["frames"] for o in f["objects"]]))

    wide, medium, close = (radius(f"a red cube on a wooden floor, {s}") for s in ("wide shot", "medium shot", "close up"))
    assert wide < medium < close


def test_a_subject_leaves_the_frame_only_when_the_text_says_so(engine):
    res = run(engine, "a red ball rolls left and exits the frame", seconds=4.0)
    shot = res.ground_truth["shots"][0]
    assert shot["exits"] == ["red ball"] and in_frame_shares(res.ground_truth) == []
    seen = [o["visible"] for f in res.ground_truth["frames"] for o in f["objects"]]
    assert seen[0] and not seen[-1], "the ball was told to leave the frame and did not"
    kept = run(engine, "a red ball rolls left", seconds=4.0)
    assert min(shares(kept).values()) >= 0.95


@pytest.mark.parametrize("camera, move", [("tracking", "follow"), ("tracking shot", "follow"), ("handheld", "follow"),
                                          ("Orbit", "orbit"), ("pan left", "pan"), ("close up", "static")])
def test_storyboard_cameras_take_the_words_prompts_take(engine, camera, move):
    res = run(engine, shots=[{"prompt": "a red ball rolls to the right", "camera": camera}], seconds=1.0)
    assert res.info["spec"]["camera"]["move"] == move
    if camera == "close up":
        assert res.info["spec"]["camera"]["shot"] == "close"


def test_a_storyboard_camera_the_engine_cannot_read_is_refused_clearly(engine):
    with pytest.raises(RequestError, match=r"shot 1: camera is 'banana'.*tracking shot"):
        run(engine, shots=[{"prompt": "a red ball", "camera": "banana"}], seconds=1.0)


def test_a_later_shot_sets_a_carried_object_moving(engine):
    res = run(engine, shots=STORYBOARD[:2], seconds=4.0)
    gt = res.ground_truth
    s1 = gt["shots"][1]
    xs = [o["position"][0] for f in gt["frames"][s1["start_frame"]:s1["end_frame"]] for o in f["objects"]
          if o["name"] == "red ball"]
    assert max(xs) - xs[0] > 0.2, "'the ball rolls toward the cube' did not roll the ball"


@pytest.mark.slow
@pytest.mark.parametrize("data, prompts, boards", [(DATA, 40, 10), (HELD_OUT, 30, 6)], ids=["own", "held-out"])
def test_framing_holds_on_the_prompt_set(data, prompts, boards):
    """The README's number: ≥ 95 % of (shot, named object) pairs in frame for ≥ 80 % of the shot. The held-out
    file is VBench-like phrasing ("a red ball rolling on the floor, camera pans left") written after the planner."""
    import importlib.util
    import sys

    # bench/framing.py loaded by path: putting bench/ on sys.path would let bench/eval.py shadow the eval package
    # for every later test in the process.
    path = Path(__file__).resolve().parents[1] / "bench" / "framing.py"
    spec = importlib.util.spec_from_file_location("bench_framing", path)
    bench_framing = importlib.util.module_from_spec(spec)
    sys.modules["bench_framing"] = bench_framing
    spec.loader.exec_module(bench_framing)
    measure = bench_framing.measure

    cases = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    assert sum("prompt" in c for c in cases) >= prompts and sum("shots" in c for c in cases) >= boards
    out = measure(cases, size=SIDE, fps=8)
    assert out["share"] >= 0.95, out["misses"]


def test_the_table_top_is_the_ground_only_over_the_table():
    """A marble that rolled off the table was lost: the look-at was held above the table top beyond its edge."""
    from sora_lite.engines.world.camera import CameraPose
    from sora_lite.engines.world.framing import TABLE_HALF, _keep_above_ground

    beyond = CameraPose([4.0, 0.0, 0.02], 0.8, 90.0, -15.0, 40.0)  # over the floor, 3 m past the table's edge
    over = CameraPose([0.0, -0.2, 0.02], 0.8, 0.0, -15.0, 40.0)  # over the table: under its top
    _keep_above_ground([beyond, over], 0.6, TABLE_HALF)
    assert beyond.lookat[2] == pytest.approx(0.02)
    assert over.position()[2] >= 0.65 - 1e-9
