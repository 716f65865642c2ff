"""Live preview and Stop (issue 14): frames reach a preview callback while a clip renders, through the engine
and the studio flow, and a cancel ends a render within a second wherever it is."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.base import Cancelled, GenerationRequest  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from app_ui.sessions import PreviewBoard  # noqa: E402

BUSY = {"objects": [{"shape": "ball", "color": "red", "count": 6, "size": 0.1},
                    {"shape": "cube", "color": "blue", "count": 4, "size": 0.1}],
        "camera": {"move": "orbit"}}


def long_request(seconds: float = 12.0, size: int = 256) -> GenerationRequest:
    return GenerationRequest(spec=BUSY, seconds=seconds, width=size, height=size, fps=24, seed=0, options={"workers": 1})


@pytest.mark.slow
def test_preview_frames_arrive_while_the_clip_renders():
    got: list[tuple[int, np.ndarray, float]] = []
    res = WorldEngine().generate(long_request(6.0, 192), preview=lambda i, f: got.append((i, f, time.perf_counter())))
    done = time.perf_counter()
    assert len(got) >= 2, "fewer than two preview frames for a 6 s clip"
    for i, frame, at in got:
        assert frame.shape == (192, 192, 3) and frame.dtype == np.uint8
        assert np.array_equal(frame, res.clip.frames[i]), "a preview frame is not the frame the clip has"
        assert at < done
    assert got[0][0] < res.clip.frames.shape[0] - 1, "the first preview came only with the last frame"


@pytest.mark.parametrize("stage", ["simulate", pytest.param("render", marks=pytest.mark.slow)])  # render: ~2 s
def test_a_cancel_ends_the_render_within_a_second(stage):
    cancel = threading.Event()
    reached = threading.Event()
    outcome: dict[str, object] = {}

    def progress(name: str, fraction: float) -> None:
        if name == stage and fraction > 0.05:
            reached.set()

    def run() -> None:
        try:
            WorldEngine().generate(long_request(), progress=progress, cancel=cancel)
            outcome["result"] = "finished"
        except Cancelled as e:
            outcome["result"] = e
        outcome["at"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    assert reached.wait(120), f"the render never reached {stage}"
    t0 = time.perf_counter()
    cancel.set()
    worker.join(10)
    assert isinstance(outcome.get("result"), Cancelled), outcome
    assert float(outcome["at"]) - t0 <= 1.0, f"Stop took {float(outcome['at']) - t0:.2f} s"


@pytest.mark.slow
def test_the_studio_passes_previews_through_and_writes_nothing_when_stopped(tmp_path):
    from sora_lite.studio import Studio

    studio = Studio(tmp_path / "home")
    board = PreviewBoard(max_side=64)
    seen: list[int] = []

    def preview(i: int, frame: np.ndarray) -> None:
        seen.append(i)
        board.put("me", i, frame)

    req = GenerationRequest(prompt="three red balls bounce on a checker floor", seconds=4, width=192, height=192,
                            fps=24, options={"workers": 1})
    record = studio.generate(req, preview=preview)
    assert seen and record.video_path
    index, small = board.latest("me")
    assert index == seen[-1] and max(small.shape[:2]) <= 64
    board.clear("me")
    assert board.latest("me") is None

    cancel = threading.Event()

    def stop_on_first(i: int, frame: np.ndarray) -> None:
        cancel.set()

    before = set(os.listdir(studio.clips_dir))
    with pytest.raises(Cancelled):
        studio.generate(req, preview=stop_on_first, cancel=cancel)
    assert set(os.listdir(studio.clips_dir)) == before, "a stopped render left a file"
