"""The world engine's live preview starts with the first drawn frames, while the simulation still runs: a
preview that waited for the simulation to finish showed a fast clip as one frame (the browser test flaked)."""

import threading

from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world import render
from sora_lite.engines.world.engine import WorldEngine

SPEC = {"objects": [{"shape": "ball", "color": "red", "size": 0.12}], "environment": {"floor": "wood"}}


def test_preview_frames_arrive_before_frames_is_called(monkeypatch):
    seen: list[int] = []
    got_one = threading.Event()
    before_frames: list[list[int]] = []
    collect = render.RenderStream.frames

    def frames(self, *args, **kwargs):
        # Hold the collecting call back until the render thread has shown a frame on its own (or give up):
        # only frames drawn while the simulation ran can have been previewed by then.
        got_one.wait(timeout=20.0)
        before_frames.append(list(seen))
        return collect(self, *args, **kwargs)

    def preview(index: int, frame) -> None:
        assert frame.shape == (128, 160, 3)
        seen.append(index)
        got_one.set()

    monkeypatch.setattr(render.RenderStream, "frames", frames)
    request = GenerationRequest(spec=SPEC, seconds=2.0, width=160, height=128, fps=12, seed=1,
                                options={"workers": 1})
    WorldEngine().generate(request, preview=preview)
    assert before_frames and before_frames[0], "no preview frame came before the simulation had finished"
    assert seen == sorted(seen) and 0 <= seen[0] < 24
