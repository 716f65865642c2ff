"""The app's storyboard table (rows of [text, camera, seconds]) → the shot dicts a request carries."""

from __future__ import annotations

from typing import Any

from sora_lite.common.storyboard import shot_seconds


def shots_from_table(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Storyboard rows [text, camera, seconds] (the app's table) → shot dicts; blank rows are skipped."""
    shots = []
    for i, row in enumerate(rows):
        cells = list(row) + [None] * (3 - len(row))
        text, camera, seconds = (None if c is None or (isinstance(c, float) and c != c) else c for c in cells[:3])
        if not str(text or "").strip():
            continue
        shot: dict[str, Any] = {"prompt": str(text).strip(), "camera": str(camera or "static").strip() or "static"}
        shot["seconds"] = shot_seconds(seconds, i)
        shots.append(shot)
    return shots
