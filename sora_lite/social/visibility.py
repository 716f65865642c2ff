"""Who may see a clip: public (feed, search, pages), unlisted (its link only), private (its creator only).

One rule for every door. A listing (feed, search, creator and cameo pages) shows public clips and the
viewer's own; opening one clip by id shows it when it is public or the viewer's own; an unlisted clip opens
only with its link's token (`share_token`), which its creator can change to end old links. For anyone else
a hidden clip is answered exactly like a missing one, so its existence is not confirmed either.
"""

from __future__ import annotations

import hmac
from typing import Any

from sqlalchemy import or_

from sora_lite.accounts import UserInfo
from sora_lite.store import ClipRow

VISIBILITIES = ("public", "unlisted", "private")
VISIBILITY_WORDS = {"public": "public (feed, search and pages)", "unlisted": "unlisted (anyone with the link)",
                    "private": "private (only you)"}


def is_owner(row: ClipRow, viewer: UserInfo | None) -> bool:
    """The creator, as a lasting identity or as the guest of the browser that made it (the shared anonymous
    identity owns nothing)."""
    return viewer is not None and viewer.can_own_clips and row.user_id == viewer.id


def token_matches(row: ClipRow, token: str | None) -> bool:
    return bool(token) and bool(row.share_token) and hmac.compare_digest(str(token), str(row.share_token))


def may_view(row: ClipRow, viewer: UserInfo | None, token: str | None = None) -> bool:
    """Whether `viewer` (holding `token`, from a share link) may see this clip (deletion is checked apart)."""
    visibility = row.visibility or "public"
    if visibility == "public" or is_owner(row, viewer):
        return True
    return visibility == "unlisted" and token_matches(row, token)


def listed_for(viewer: UserInfo | None) -> Any:
    """The SQL condition for clips a listing may show `viewer`: live, and public or the viewer's own."""
    live = ClipRow.deleted_at.is_(None)
    if viewer is None or not viewer.can_own_clips:
        return live & (ClipRow.visibility == "public")
    return live & or_(ClipRow.visibility == "public", ClipRow.user_id == viewer.id)


def check_visibility(value: str) -> str:
    value = str(value or "").strip().lower()
    if value not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, got {value!r}")
    return value
