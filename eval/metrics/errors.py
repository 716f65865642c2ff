"""Errors a metric raises so that a run can report, per video and per metric, what happened.

`MetricSkipped` means "this metric cannot run here" (weights missing, optional package absent): the
run records it as skipped with the reason and how to fix it, and keeps going. `MetricInputError` means
"this sample cannot be scored" (too few frames, wrong shape): that sample's row gets the message.
"""

from __future__ import annotations


class MetricSkipped(Exception):
    """The metric cannot run in this environment; never faked, reported with how to fix it."""

    def __init__(self, reason: str, how_to_fix: str) -> None:
        super().__init__(f"{reason} — {how_to_fix}")
        self.reason = reason
        self.how_to_fix = how_to_fix


class MetricInputError(ValueError):
    """One sample cannot be scored by this metric; the message says why and what input would work."""
