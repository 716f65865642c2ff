"""What scoring costs: wall time and peak memory of each metric's call, recorded per sample.

Users of VBench and other toolkits keep asking what a metric costs to run; the leaderboard answers with the
total wall time of each metric and the highest resident memory seen while it ran (and the peak CUDA memory
it allocated when it ran on a GPU). Memory is sampled from /proc by a small thread while the metric runs, so
a short-lived spike between two samples (20 ms apart) can be missed: the number is a lower bound.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

T = TypeVar("T")
SAMPLE_EVERY_S = 0.02
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident memory of this process now (/proc), or the process's peak so far where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass
class Cost:
    seconds: float
    peak_mib: float  # highest resident memory of the process while the call ran
    cuda_peak_mib: float | None = None  # peak CUDA memory allocated during the call, when CUDA was in use


def _cuda() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a core dependency
        return None
    return torch.cuda if torch.cuda.is_available() and torch.cuda.is_initialized() else None


def measured(fn: Callable[[], T]) -> tuple[T, Cost]:
    """Run `fn` and say what it cost. Exceptions pass through unchanged (the caller turns them into rows)."""
    peak = [rss_bytes()]
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(SAMPLE_EVERY_S):
            peak[0] = max(peak[0], rss_bytes())

    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        result = fn()
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        watcher.join()
        peak[0] = max(peak[0], rss_bytes())
    cuda = cuda or _cuda()
    cuda_peak = cuda.max_memory_allocated() / 2**20 if cuda is not None else None
    return result, Cost(seconds=seconds, peak_mib=peak[0] / 2**20, cuda_peak_mib=cuda_peak)
