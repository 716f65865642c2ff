"""The feed: clips stored on this instance, newest first; remix lineage; deleting your own clips.

Ownership is enforced here, not in the UI: `delete_clip` raises `NotOwner` for anyone but the author.
A deleted clip keeps its row (with `deleted_at`) so its remixes still show where they came from, but its
files are removed and it leaves the feed.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sora_lite.accounts import UserInfo
from sora_lite.common.records import ClipRecord
from sora_lite.markup import markdown_text
from sora_lite.social.facts import cameo_column, cameo_handles, has_sound
from sora_lite.store import ClipRow, Store, User, utcnow
from sora_lite.store.audit import log_action

MAX_PAGE = 200
MAX_DEPTH = 1000  # lineage walk guard


class NotOwner(PermissionError):
    """The acting user may not change this clip."""


class ClipNotFound(LookupError):
    """No clip with that id (or it was deleted)."""


@dataclass
class LineageNode:
    id: str
    prompt: str
    user: str | None
    created_at: float
    deleted: bool = False
    hidden: bool = False  # unlisted or private (and not the viewer's): shown without id, prompt or author


@dataclass
class Lineage:
    """A clip's ancestry (its parent first, the root last) and its direct remixes (newest first)."""

    clip_id: str
    ancestors: list[LineageNode] = field(default_factory=list)
    children: list[LineageNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_token() -> str:
    """A share link's secret (see `sora_lite.social.sharing`)."""
    return secrets.token_urlsafe(16)


def _record(row: ClipRow, username: str | None) -> ClipRecord:
    return ClipRecord(
        id=row.id,
        prompt=row.prompt,
        engine=row.engine,
        seed=row.seed,
        request=row.request or {},
        video_path=row.video_path,
        spec=row.spec,
        info=row.info or {},
        timings=row.timings or {},
        ground_truth_path=row.ground_truth_path,
        thumbnail_path=row.thumbnail_path,
        parent_id=row.parent_id,
        user=username,
        created_at=row.created_ts,
    )


def _node(row: ClipRow, username: str | None, viewer_id: int | None = None) -> LineageNode:
    if (row.visibility or "public") != "public" and (viewer_id is None or row.user_id != viewer_id):
        return LineageNode(id="", prompt="", user=None, created_at=row.created_ts, deleted=row.deleted_at is not None, hidden=True)
    return LineageNode(id=row.id, prompt=row.prompt, user=username, created_at=row.created_ts, deleted=row.deleted_at is not None)


def save_clip(store: Store, record: ClipRecord, user: UserInfo) -> None:
    """Insert a made clip, attributed to `user`; its parent (if any) must exist and not be deleted."""
    sound = has_sound(record.video_path)  # read the file before taking the database's write lock
    with store.session() as s:
        if record.parent_id is not None:
            parent = s.get(ClipRow, record.parent_id)
            if parent is None or parent.deleted_at is not None:
                raise ClipNotFound(f"cannot remix clip {record.parent_id!r}: it does not exist or was deleted")
        s.add(
            ClipRow(
                id=record.id,
                user_id=user.id,
                parent_id=record.parent_id,
                prompt=record.prompt,
                spec=record.spec,
                seed=record.seed,
                engine=record.engine,
                request=record.request,
                info=record.info,
                timings=record.timings,
                video_path=record.video_path,
                thumbnail_path=record.thumbnail_path,
                ground_truth_path=record.ground_truth_path,
                created_at=datetime.fromtimestamp(record.created_at, timezone.utc).replace(tzinfo=None),
                created_ts=record.created_at,
                visibility="public",
                share_token=new_token(),
                has_sound=sound,
                cameos=cameo_column(cameo_handles(record.request)),
            )
        )
        log_action(s, user.id, "clip.create", record.id, {"engine": record.engine, "parent_id": record.parent_id})


def get_clip(store: Store, clip_id: str) -> ClipRecord:
    with store.session() as s:
        row = s.execute(select(ClipRow, User.username).outerjoin(User, ClipRow.user_id == User.id).where(ClipRow.id == clip_id)).first()
        if row is None or row[0].deleted_at is not None:
            raise ClipNotFound(f"no clip with id {clip_id!r}")
        return _record(row[0], row[1])


def has_clip_with_prefix(store: Store, prefix: str) -> bool:
    """Whether this instance made a clip whose id starts with `prefix` (the watermark carries an id prefix)."""
    if not prefix or not all(c in "0123456789abcdef" for c in prefix):
        return False
    with store.session() as s:
        return s.execute(select(ClipRow.id).where(ClipRow.id.startswith(prefix)).limit(1)).first() is not None


def list_feed(store: Store, limit: int = 50, offset: int = 0, username: str | None = None) -> list[ClipRecord]:
    """Clips newest first (deleted ones left out); `username` narrows to one author."""
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    query = (
        select(ClipRow, User.username)
        .outerjoin(User, ClipRow.user_id == User.id)
        .where(ClipRow.deleted_at.is_(None), ClipRow.visibility == "public")
        .order_by(ClipRow.created_ts.desc(), ClipRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if username is not None:
        query = query.where(User.username == username)
    with store.session() as s:
        return [_record(row, name) for row, name in s.execute(query).all()]


def lineage(store: Store, clip_id: str, viewer_id: int | None = None) -> Lineage:
    """Parent chain (deleted ancestors included, marked) and direct remixes (deleted ones left out). Clips that
    are not public, except `viewer_id`'s own, appear as hidden nodes: no id, prompt or author."""
    with store.session() as s:
        clip = s.get(ClipRow, clip_id)
        if clip is None:
            raise ClipNotFound(f"no clip with id {clip_id!r}")
        names = dict(s.execute(select(User.id, User.username)).all())
        result = Lineage(clip_id=clip_id)
        seen = {clip_id}
        parent_id = clip.parent_id
        while parent_id and parent_id not in seen and len(seen) < MAX_DEPTH:
            seen.add(parent_id)
            parent = s.get(ClipRow, parent_id)
            if parent is None:
                break
            result.ancestors.append(_node(parent, names.get(parent.user_id), viewer_id))
            parent_id = parent.parent_id
        children = s.scalars(
            select(ClipRow).where(ClipRow.parent_id == clip_id, ClipRow.deleted_at.is_(None)).order_by(ClipRow.created_ts.desc())
        ).all()
        result.children = [_node(c, names.get(c.user_id), viewer_id) for c in children]
        return result


def lineage_markdown(lin: Lineage) -> str:
    """The lineage as Markdown for the app; every prompt and user name is escaped (`markup.markdown_text`),
    so a prompt like `<img src=...>` shows as those characters and makes no request."""

    def name(node: LineageNode) -> str:
        gone = " (deleted)" if node.deleted else ""
        if node.hidden:
            return f"a clip that is not public{gone}"
        return (f"`{markdown_text(node.id)}` “{markdown_text(node.prompt, limit=60)}” by "
                f"{markdown_text(node.user or '?')}{gone}")

    lines = [f"**This clip:** `{markdown_text(lin.clip_id)}`"]
    if lin.ancestors:
        lines.append("**Remix of:** " + " ← ".join(name(n) for n in lin.ancestors))
    else:
        lines.append("**Remix of:** nothing (an original)")
    lines.append("**Remixed by:** " + (", ".join(name(n) for n in lin.children) if lin.children else "nobody yet"))
    return "\n\n".join(lines)


def delete_clip(store: Store, clip_id: str, user: UserInfo) -> ClipRecord:
    """Remove a clip from the feed and delete its files; only its author may."""
    with store.session() as s:
        row = s.get(ClipRow, clip_id)
        if row is None or row.deleted_at is not None:
            raise ClipNotFound(f"no clip with id {clip_id!r}")
        refusal = None
        if not user.can_own_clips:
            refusal = NotOwner("sign in to delete clips: this signed-out visitor owns nothing here")
        elif row.user_id != user.id:
            refusal = NotOwner(f"clip {clip_id} belongs to another user; you can only delete your own clips")
        if refusal is None:
            row.deleted_at = utcnow()
            log_action(s, user.id, "clip.delete", clip_id, {})
            record = _record(row, user.username)
    if refusal is not None:  # someone tried to delete another person's clip: that is audited too
        with store.session() as s:
            log_action(s, user.id, "clip.delete_refused", clip_id, {"owner_id": row.user_id})
        raise refusal
    for path in (record.video_path, record.thumbnail_path, record.ground_truth_path):
        if path:
            Path(path).unlink(missing_ok=True)
    return record
