"""Facts about a clip that search filters on, measured once when it is stored: whether it has sound, which
cameos it used. Kept apart from the feed so the feed can import them without importing the rest of social."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SILENCE_PEAK = 1e-3  # a track whose every sample stays below this is silence, not sound


def has_sound(video_path: str | Path | None) -> bool | None:
    """True when the file has an audio track with any sample above SILENCE_PEAK; None when it cannot be read."""
    if not video_path or not Path(video_path).is_file():
        return None
    try:
        import av
        import numpy as np

        with av.open(str(video_path)) as container:
            if not container.streams.audio:
                return False
            for frame in container.decode(audio=0):
                if float(np.abs(frame.to_ndarray()).max(initial=0.0)) > SILENCE_PEAK:
                    return True
        return False
    except Exception:  # a clip we cannot read is "not measured", not "silent"
        return None


def cameo_handles(request: dict[str, Any] | None) -> list[str]:
    """The handles of the cameos a stored request used (`options.cameos`, as `cameo.usage` leaves it)."""
    options = (request or {}).get("options") or {}
    handles = []
    for cameo in options.get("cameos") or []:
        if isinstance(cameo, dict) and cameo.get("handle"):
            handle = str(cameo["handle"]).strip().lstrip("@").lower()
            if handle and handle not in handles:
                handles.append(handle)
    return handles


def cameo_column(handles: list[str]) -> str:
    """The `clips.cameos` text: handles between spaces, so `LIKE '% name %'` finds exactly one handle."""
    return f" {' '.join(handles)} " if handles else ""
