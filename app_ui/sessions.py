"""Per-browser-session state of running jobs: cancel flags and the latest preview frame."""

from __future__ import annotations

import math
import threading
from typing import Any


class CancelBoard:
    """Cancel flags for running jobs, keyed by who started them (a browser session): a Stop button sets the
    flag and the engine stops between steps (`Cancelled`); nothing is written for a cancelled clip."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, key: str) -> threading.Event:
        with self._lock:
            event = self._events[key] = threading.Event()
            return event

    def cancel(self, key: str) -> bool:
        with self._lock:
            event = self._events.get(key)
        if event is None:
            return False
        event.set()
        return True

    def finish(self, key: str, event: threading.Event) -> None:
        with self._lock:
            if self._events.get(key) is event:
                del self._events[key]


class PreviewBoard:
    """The latest frame of each running job, keyed like `CancelBoard` (a browser session polls it while its
    clip renders). Frames are shrunk to at most `max_side` pixels: a live view, not the result."""

    def __init__(self, max_side: int = 256) -> None:
        self.max_side = max_side
        self._frames: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, index: int, frame: Any) -> None:
        import numpy as np

        frame = np.asarray(frame)
        step = max(1, int(math.ceil(max(frame.shape[:2]) / self.max_side)))
        with self._lock:
            self._frames[key] = (int(index), np.ascontiguousarray(frame[::step, ::step]))

    def latest(self, key: str) -> tuple[int, Any] | None:
        with self._lock:
            return self._frames.get(key)

    def clear(self, key: str) -> None:
        with self._lock:
            self._frames.pop(key, None)
