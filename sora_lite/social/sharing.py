"""Share links, embed snippets and per-clip visibility.

A link is `<app>/?clip=<id>&k=<token>`: the app reads both from the page's query (`gr.Request`) and opens the
clip. The token is what makes an unlisted clip openable; a public clip opens with or without it, a private one
only for its creator. A deleted clip's link says it was deleted (to whoever could have opened it).

When a clip leaves public view its files are renamed (`<id>.<random>.mp4`): Gradio serves clip files by path,
so a file URL seen while the clip was public stops working once it is unlisted or private.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.common.records import ClipRecord
from sora_lite.social.visibility import (
    VISIBILITY_WORDS,
    check_visibility,
    is_owner,
    may_view,
)
from sora_lite.store import ClipRow, Store, User
from sora_lite.store.audit import log_action

CLIP_PARAM, TOKEN_PARAM = "clip", "k"
MAX_ID = 64


class ClipDeleted(LookupError):
    """The link's clip existed and was deleted; the message says so."""


new_token = clip_feed.new_token


@dataclass
class ShareLink:
    """What the Share panel shows: the link, an embed snippet, and the visibility it works under."""

    clip_id: str
    url: str
    embed_html: str
    visibility: str
    note: str
    video_path: str = ""  # the signed file as stored (for the download button; not in `to_dict`)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "video_path"}


def link_url(base_url: str, clip_id: str, token: str) -> str:
    base = (base_url or "").split("?", 1)[0].split("#", 1)[0]
    if not base.endswith("/"):
        base += "/"
    return f"{base}?{urlencode({CLIP_PARAM: clip_id, TOKEN_PARAM: token})}"


def embed_snippet(url: str, width: int = 640, height: int = 720) -> str:
    """An iframe of the app opened on the clip: the page checks visibility on every load, so an embed of a
    clip that turns private or is deleted stops showing it."""
    return (f'<iframe src="{html.escape(url, quote=True)}" width="{int(width)}" height="{int(height)}" '
            f'style="border:0" allow="autoplay; fullscreen" loading="lazy" title="sora-lite clip"></iframe>')


def link_params(query: Mapping[str, Any] | None) -> tuple[str, str | None]:
    """(clip id, token) from a page's query parameters; ("", None) when the page was not opened by a link."""
    if not query:
        return "", None
    clip_id = str(query.get(CLIP_PARAM) or "").strip()[:MAX_ID]
    token = str(query.get(TOKEN_PARAM) or "").strip()[:MAX_ID] or None
    return clip_id, token


def _row(session: Any, clip_id: str) -> ClipRow | None:
    clip_id = str(clip_id or "").strip()
    return session.get(ClipRow, clip_id) if clip_id and len(clip_id) <= MAX_ID else None


def _visible_row(session: Any, clip_id: str, viewer: UserInfo | None, token: str | None) -> ClipRow:
    """The clip's row if `viewer` may see it; ClipNotFound, worded as for a missing clip, otherwise."""
    row = _row(session, clip_id)
    if row is None or not may_view(row, viewer, token):
        raise clip_feed.ClipNotFound(f"no clip with id {str(clip_id)[:MAX_ID]!r}")
    return row


def open_clip(store: Store, clip_id: str, viewer: UserInfo | None, token: str | None = None) -> ClipRecord:
    """The clip if `viewer` may see it (public, their own, or unlisted with the right token); ClipDeleted for
    a deleted clip the viewer could have opened; otherwise ClipNotFound, worded as for a missing clip."""
    with store.session() as s:
        row = _visible_row(s, clip_id, viewer, token)
        if row.deleted_at is not None:
            raise ClipDeleted(f"clip {row.id} was deleted on {row.deleted_at:%Y-%m-%d}; it is no longer available")
        name = s.scalar(select(User.username).where(User.id == row.user_id)) if row.user_id is not None else None
        return clip_feed._record(row, name)


def _owned(session: Any, clip_id: str, owner: UserInfo, action: str) -> ClipRow:
    row = _row(session, clip_id)
    if row is None or row.deleted_at is not None or not may_view(row, owner):
        raise clip_feed.ClipNotFound(f"no clip with id {str(clip_id)[:MAX_ID]!r}")
    if not is_owner(row, owner):
        raise clip_feed.NotOwner(f"clip {row.id} belongs to another user; only its creator can {action}")
    return row


def _hide_files(row: ClipRow) -> None:
    """Rename the clip's files to a fresh random name (see the module docstring)."""
    suffix = secrets.token_hex(8)
    for attr in ("video_path", "thumbnail_path", "ground_truth_path"):
        path = getattr(row, attr)
        if not path or not Path(path).is_file():
            continue
        old = Path(path)
        ext = "".join(old.suffixes[-2:]) if old.name.endswith(".truth.json") else old.suffix
        new = old.with_name(f"{row.id}.{suffix}{ext}")
        old.rename(new)
        setattr(row, attr, str(new))


def set_visibility(store: Store, owner: UserInfo, clip_id: str, visibility: str, remix_open: bool | None = None) -> dict[str, Any]:
    """The creator chooses public / unlisted / private (and whether others may remix). Audited; a try on
    someone else's clip is refused and audited too."""
    visibility = check_visibility(visibility)
    try:
        with store.session() as s:
            row = _owned(s, clip_id, owner, "change who sees it")
            before = row.visibility or "public"
            if visibility != "public" and before == "public":
                _hide_files(row)
            row.visibility = visibility
            if remix_open is not None:
                row.remix_open = bool(remix_open)
            if not row.share_token:
                row.share_token = new_token()
            log_action(s, owner.id, "clip.visibility", row.id, {"from": before, "to": visibility, "remix_open": row.remix_open})
            return {"clip_id": row.id, "visibility": visibility, "remix_open": row.remix_open,
                    "means": VISIBILITY_WORDS[visibility]}
    except clip_feed.NotOwner:
        with store.session() as s:
            log_action(s, owner.id, "clip.visibility_refused", str(clip_id)[:MAX_ID], {"to": visibility})
        raise


def share_link(store: Store, viewer: UserInfo, clip_id: str, base_url: str, token: str | None = None) -> ShareLink:
    """The link and embed snippet for a clip `viewer` may see. Its creator always gets the link with the
    clip's token; someone who opened a public or unlisted clip passes it on as they got it."""
    with store.session() as s:
        row = _visible_row(s, clip_id, viewer, token)
        if row.deleted_at is not None:
            raise ClipDeleted(f"clip {row.id} was deleted; there is nothing to share")
        if not row.share_token:
            row.share_token = new_token()
        visibility = row.visibility or "public"
        if visibility == "private" and not is_owner(row, viewer):  # unreachable (may_view), kept explicit
            raise clip_feed.ClipNotFound(f"no clip with id {row.id!r}")
        url = link_url(base_url, row.id, row.share_token)
        video_path = row.video_path
    note = {"public": "Anyone can open this link; the clip is also in the feed and search.",
            "unlisted": "Anyone with this link can open the clip; it is not in the feed, search or pages.",
            "private": "Private: this link opens the clip for you only. Make it unlisted or public to share it."}[visibility]
    return ShareLink(row.id, url, embed_snippet(url), visibility, note, video_path)


def reset_link(store: Store, owner: UserInfo, clip_id: str) -> str:
    """A new token for the creator's clip: every earlier link to it stops opening it (unless it is public)."""
    with store.session() as s:
        row = _owned(s, clip_id, owner, "change its link")
        row.share_token = new_token()
        if (row.visibility or "public") != "public":
            _hide_files(row)
        log_action(s, owner.id, "clip.link_reset", row.id, {})
        return row.share_token


def check_remix(store: Store, clip_id: str, user: UserInfo, token: str | None = None) -> None:
    """Before a remix: `user` must be able to open the parent (public, theirs, or unlisted with its link's
    token) and its creator must have left it open to remix (their own clips always are). A refusal of a
    clip the user can see is audited."""
    with store.session() as s:
        row = _row(s, clip_id)
        if row is None or not may_view(row, user, token):
            raise clip_feed.ClipNotFound(f"cannot remix clip {str(clip_id)[:MAX_ID]!r}: it does not exist or was deleted")
        if row.deleted_at is not None:
            raise ClipDeleted(f"cannot remix clip {row.id}: it was deleted")
        closed = row.remix_open is False and not is_owner(row, user)
    if closed:
        with store.session() as s:
            log_action(s, user.id, "clip.remix_refused", row.id, {"reason": "closed to remix"})
        raise clip_feed.NotOwner(f"the creator of clip {row.id} has not opened it to remixes")
