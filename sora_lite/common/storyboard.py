"""The one storyboard validator: what a list of shots must look like before any engine or door uses it.

`check_shots` is the shape every engine relies on (`GenerationRequest.validate` calls it); `shot_seconds` and
`check_shot_text` are the rules for what a person types into a shot (the studio, the app's table, shared
projects). An engine may ask more of a shot (the world engine's 0.25 s floor and 1–20 s total): that is its
own physics, not another validator.
"""

from __future__ import annotations

import math
from typing import Any

from sora_lite.common.errors import RequestError

MAX_SHOTS = 12
SHOT_KEYS = ("prompt", "camera", "seconds", "spec")
MIN_SHOT_SECONDS = 0.5  # what a person may ask for
MAX_SHOT_SECONDS = 20.0
DEFAULT_SHOT_SECONDS = 2.0  # a blank length


def _where(index: int | None) -> str:
    return f"shot {index + 1}: " if index is not None else ""


def check_shots(shots: Any) -> None:
    """A non-empty list of at most MAX_SHOTS objects with only known keys, each `seconds` (when given) a
    positive number of at most MAX_SHOT_SECONDS; else RequestError saying which shot and why."""
    if not isinstance(shots, list) or not shots:
        raise RequestError("a storyboard needs a non-empty list of shots")
    if len(shots) > MAX_SHOTS:
        raise RequestError(f"a storyboard may have at most {MAX_SHOTS} shots, got {len(shots)}")
    for i, shot in enumerate(shots):
        if not isinstance(shot, dict):
            raise RequestError(f"shot {i + 1} must be an object with 'prompt' and optional 'camera', 'seconds'")
        unknown = set(shot) - set(SHOT_KEYS)
        if unknown:
            raise RequestError(f"shot {i + 1} has unknown keys {sorted(unknown)}; allowed: {', '.join(SHOT_KEYS)}")
        if "prompt" in shot and shot["prompt"] is not None and not isinstance(shot["prompt"], str):
            raise RequestError(f"shot {i + 1}: the text must be text, got {type(shot['prompt']).__name__}")
        if shot.get("seconds") is not None:
            s = shot["seconds"]
            if (isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s)
                    or not 0 < s <= MAX_SHOT_SECONDS):
                raise RequestError(f"shot {i + 1}: seconds must be a number above 0 and at most "
                                   f"{MAX_SHOT_SECONDS:g}, got {s!r}")


def shot_seconds(value: Any, index: int | None = None) -> float:
    """A shot's length as a person typed it: blank means DEFAULT_SHOT_SECONDS; anything else must be a number
    from MIN_SHOT_SECONDS to MAX_SHOT_SECONDS."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_SHOT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{_where(index)}seconds must be a number, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < MIN_SHOT_SECONDS:
        raise RequestError(f"{_where(index)}a shot lasts at least {MIN_SHOT_SECONDS:g} s, got {value!r}")
    if seconds > MAX_SHOT_SECONDS:
        raise RequestError(f"{_where(index)}a shot lasts at most {MAX_SHOT_SECONDS:g} s, got {value!r}")
    return seconds
