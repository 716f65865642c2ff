"""ZeroGPU: on a Space, hold a GPU only while a render runs (the one `spaces.GPU`; the library never wraps again).
Elsewhere `gpu(...)` leaves the handler as it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sora_lite.common.request import parse_size


def reservation(engine_at: int | None, seconds_at: int | None, size_at: int | None) -> Callable[..., int]:
    """ZeroGPU duration from a handler's arguments: the Hub model's estimate at its recommended settings
    (`gpu_reservation_seconds`), 120 s for other engines or arguments it cannot read."""

    def duration(*args: Any, **kwargs: Any) -> int:
        from sora_lite.engines.hub.loading import (
            DEFAULT_RESERVATION_S,
            gpu_reservation_seconds,
        )

        try:
            seconds = float(args[seconds_at]) if seconds_at is not None else 10.0
            size = parse_size(args[size_at]) if size_at is not None else (768, 512)
            return gpu_reservation_seconds(str(args[engine_at]) if engine_at is not None else "", seconds, *size)
        except Exception:  # a duration must never fail the request
            return DEFAULT_RESERVATION_S

    return duration


try:
    import spaces

    def gpu(duration: Callable[..., int]) -> Callable[[Callable], Callable]:
        return spaces.GPU(duration=duration)
except ImportError:

    def gpu(duration: Callable[..., int]) -> Callable[[Callable], Callable]:
        return lambda fn: fn
