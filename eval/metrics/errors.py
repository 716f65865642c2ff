"""Errors a metric raises so that a run can report, per video and per metric, what happened.

`MetricSkipped` means "this metric cannot run here" (weights missing, optional package absent): the
run records it as skipped with the reason and how to fix it, and keeps going. `MetricInputError` means
"this sample cannot be scored" (too few frames, wrong shape): that sample's row gets the message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class MetricSkipped(Exception):
    """The metric cannot run in this environment; never faked, reported with how to fix it."""

    def __init__(self, reason: str, how_to_fix: str) -> None:
        super().__init__(f"{reason} — {how_to_fix}")
        self.reason = reason
        self.how_to_fix = how_to_fix

    def as_record(self) -> "SkipRecord":
        return SkipRecord(reason=self.reason, how_to_fix=self.how_to_fix)


@dataclass(frozen=True)
class SkipRecord:
    """JSON-friendly form of a skip, for CSVs and reports."""

    reason: str
    how_to_fix: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class MetricInputError(ValueError):
    """One sample cannot be scored by this metric; the message says why and what input would work."""
