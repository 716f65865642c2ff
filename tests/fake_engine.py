"""A tiny engine for tests of the doors (store, studio, app): a few coloured frames and a beep per second."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np

from sora_lite.engines import Cancelled, GenerationRequest, GenerationResult, ProgressFn, register_engine
from sora_lite.media import Clip

SAMPLE_RATE = 16_000


class FakeEngine:
    name = "fake"

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def generate(self, request: GenerationRequest, progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> GenerationResult:
        self.requests.append(request)
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        n = max(1, int(round(float(request.seconds) * request.fps)))
        rng = np.random.default_rng(request.seed)
        frames = np.empty((n, request.height, request.width, 3), np.uint8)
        base = rng.integers(40, 200, size=3)
        for t in range(n):
            frames[t] = (base + 4 * t) % 256
            frames[t, :, : (t * request.width) // n] = 255
        samples = int(float(request.seconds) * SAMPLE_RATE)
        time = np.arange(samples) / SAMPLE_RATE
        audio = (0.3 * np.sin(2 * np.pi * 440 * time) * ((time % 1.0) < 0.1)).astype(np.float32)
        if progress:
            progress("render", 1.0)
        shots = []
        if request.shots:
            start = 0
            for i, shot in enumerate(request.shots):
                end = min(n, start + int(round(float(shot.get("seconds", 1)) * request.fps)))
                shots.append({"index": i, "start_frame": start, "end_frame": end, "prompt": shot["prompt"], "camera": shot.get("camera")})
                start = end
        spec = request.spec if request.spec is not None else {"prompt": request.prompt}
        return GenerationResult(
            clip=Clip(frames=frames, fps=Fraction(request.fps), audio=audio[None, :], sample_rate=SAMPLE_RATE),
            spec=spec,
            info={"shots": shots, "parent_video": request.parent_video, "timings": {"render": 0.0}},
            ground_truth={"frames": n},
        )


ENGINE = FakeEngine()


def register() -> FakeEngine:
    register_engine("fake", lambda: ENGINE)
    return ENGINE
