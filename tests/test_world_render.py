"""The render processes: the same pixels as drawing in-process, chunks handed over while simulating,
cancel, and falling back to in-process drawing when a render process dies."""

import threading

import numpy as np
import pytest

from sora_lite.engines.base import Cancelled, GenerationRequest
from sora_lite.engines.world import render
from sora_lite.engines.world.engine import WorldEngine

SPEC = {
    "objects": [{"shape": "ball", "color": "red", "size": 0.12},
                {"shape": "domino", "color": "yellow", "size": 0.1, "count": 3}],
    "environment": {"floor": "wood"},
    "camera": {"move": "orbit"},
}


def req(workers: int, **kw) -> GenerationRequest:
    base = dict(spec=SPEC, seconds=2.0, width=160, height=128, fps=12, seed=3,
                options={"workers": workers, "parallel_min_pixels": 0})
    base.update(kw)
    return GenerationRequest(**base)


@pytest.fixture(scope="module")
def engine() -> WorldEngine:
    assert render.warm_pool(), "the render processes could not start (no headless GL in them?)"
    return WorldEngine()


def test_pool_draws_the_same_pixels_as_this_process(engine):
    here = engine.generate(req(1))
    pooled = engine.generate(req(2))
    assert not here.info["render_pool"] and pooled.info["render_pool"]
    assert np.array_equal(here.clip.frames, pooled.clip.frames)
    assert np.array_equal(here.clip.audio, pooled.clip.audio)
    assert pooled.info["timings"]["render"] > 0


def test_follow_camera_and_storyboard_rebuild_through_the_pool(engine):
    follow = {**SPEC, "camera": {"move": "follow"}}
    a, b = engine.generate(req(1, spec=follow)), engine.generate(req(2, spec=follow))
    assert b.info["render_pool"] and np.array_equal(a.clip.frames, b.clip.frames)
    shots = [{"prompt": "a red ball", "seconds": 1.0}, {"spec": {"objects": [{"shape": "cube", "color": "blue"}]},
                                                        "camera": "dolly", "seconds": 1.0}]
    a = engine.generate(req(1, spec=None, prompt="a red ball", shots=shots))
    b = engine.generate(req(2, spec=None, prompt="a red ball", shots=shots))
    assert b.info["render_pool"] and len(b.info["carried"]) == 1
    assert np.array_equal(a.clip.frames, b.clip.frames)


def test_cancel_while_the_pool_renders_then_the_next_clip_still_uses_it(engine):
    cancel = threading.Event()

    def progress(stage: str, fraction: float) -> None:
        if stage == "render" and fraction > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        engine.generate(req(2, seconds=4.0), progress=progress, cancel=cancel)
    again = engine.generate(req(2))
    assert again.info["render_pool"] and again.clip.frames.shape == (24, 128, 160, 3)


def test_a_dead_render_process_falls_back_to_drawing_here(engine):
    expected = engine.generate(req(1)).clip.frames
    pool = render._POOL
    assert pool is not None
    pool.procs[0].kill()
    pool.procs[0].join(timeout=5)
    try:
        got = engine.generate(req(2))
        assert np.array_equal(got.clip.frames, expected)
        assert not render.pool_usable()  # and later clips render here without trying again
        assert not engine.generate(req(2)).info["render_pool"]
    finally:
        render._shutdown()
        render._POOL_FAILED = False
