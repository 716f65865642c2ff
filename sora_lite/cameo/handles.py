"""Moved to `sora_lite.common.handles` (the lowest layer: the world parser reads handles too); re-exported here."""

from sora_lite.common.handles import (
    HANDLE_RE,
    MENTION_RE,
    HandleError,
    mentioned_handles,
    normalize_handle,
)

__all__ = ["HANDLE_RE", "MENTION_RE", "HandleError", "mentioned_handles", "normalize_handle"]
