"""Serve the real app in multi-user mode (as on a network) on 127.0.0.1, for the security tests."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from app_server import served_app

from sora_lite.engines import GenerationRequest, GenerationResult, register_engine


class SlowEngine:
    """The fake engine, holding each render until released (or `hold_s` passed): queue tests need renders
    that are still running when the next jobs join."""

    name = "slow"

    def __init__(self, hold_s: float = 30.0) -> None:
        self.hold_s = hold_s
        self.release = threading.Event()
        self.started: list[tuple[float, str]] = []

    def availability(self) -> tuple[bool, str]:
        return True, ""

    def generate(self, request: GenerationRequest, progress=None, cancel=None) -> GenerationResult:
        from fake_engine import FakeEngine

        self.started.append((time.monotonic(), request.prompt))
        self.release.wait(self.hold_s)
        return FakeEngine().generate(request, progress=progress, cancel=cancel)


SLOW = SlowEngine()
register_engine("slow", lambda: SLOW)


@contextmanager
def served(home: Path, single_user: bool = False) -> Iterator[tuple[object, object]]:
    """(demo, studio) of `app.py` from `home`, signed-out visitors each their own guest unless `single_user`."""
    import app

    with served_app(home, app.Defaults(engine="world", size="128x128", seconds=1, fps=8), single_user=single_user) as pair:
        yield pair
