"""Cameos in the studio flow: check the grants before generating and again before storing, check the
output's faces, remember which clips used which cameo, and let a cameo's owner list and delete them.

The studio (`sora_lite.studio.Studio.generate`) calls, in order:

    request = usage.before_generation(store, request, user)          # CameoDenied → nothing rendered
    record = create_clip(request, ...)                                 # the engine sees options["cameos"]
    usage.before_storing(store, request, user, record.video_path, record.id)
                                                                       # CameoDenied → delete the file, store nothing
    clip_feed.save_clip(...)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sora_lite.accounts import UserInfo
from sora_lite.cameo.grants import CameoDenied, check_use
from sora_lite.cameo.handles import mentioned_handles
from sora_lite.cameo.matching import OutputCheck, check_output_faces
from sora_lite.engines.base import GenerationRequest
from sora_lite.store import AuditEntry, Cameo, ClipRow, Store, User, utcnow
from sora_lite.store.audit import log_action


@dataclass
class CameoUse:
    """A cameo a request may use, and what an engine needs to show it (face texture, voice sample)."""

    handle: str
    cameo_id: str
    owner: str
    kind: str  # owner | everyone | approved
    grant_id: int | None
    display_name: str
    face_texture: str
    voice: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CameoClip:
    """A clip that used a cameo, as its owner sees it."""

    clip_id: str
    handle: str
    user: str
    prompt: str
    created_at: str
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def request_prompts(request: GenerationRequest) -> str:
    """All the text of a request that may name cameos: the prompt and every storyboard shot."""
    texts = [request.prompt or ""]
    texts += [str(shot.get("prompt") or "") for shot in request.shots or [] if isinstance(shot, dict)]
    return "\n".join(texts)


def check_prompt_cameos(store: Store, prompt: str, user: UserInfo, purpose: str = "prompt") -> list[CameoUse]:
    """A live grant for every `@handle` in the prompt, or CameoDenied naming each refused handle.

    Every handle is checked (and logged) even after a refusal, so the message lists them all.
    """
    uses, refusals = [], []
    for handle in mentioned_handles(prompt):
        try:
            grant = check_use(store, handle, user, purpose=purpose)
        except CameoDenied as e:
            refusals.append(str(e))
            continue
        with store.session() as s:
            row = s.get(Cameo, grant.cameo_id)
            d = row.details or {}
            uses.append(CameoUse(handle=grant.handle, cameo_id=grant.cameo_id, owner=grant.owner, kind=grant.kind,
                                 grant_id=grant.grant_id, display_name=d.get("display_name") or grant.handle,
                                 face_texture=d.get("face_texture", ""), voice=(d.get("voice") or {}).get("path")))
    if refusals:
        raise CameoDenied("; ".join(refusals), mentioned_handles(prompt)[0])
    return uses


def with_cameos(request: GenerationRequest, uses: list[CameoUse]) -> GenerationRequest:
    """The request with `options["cameos"]` set from the checked uses (anything a caller put there is replaced)."""
    data = request.to_dict()
    options = dict(data.get("options") or {})
    options.pop("cameos", None)
    if uses:
        options["cameos"] = [u.to_dict() for u in uses]
    data["options"] = options
    return GenerationRequest.from_dict(data)


def before_generation(store: Store, request: GenerationRequest, user: UserInfo) -> GenerationRequest:
    """Check the grants for every cameo the request names; the request to render, with its cameos attached."""
    return with_cameos(request, check_prompt_cameos(store, request_prompts(request), user, purpose="prompt"))


def before_storing(
    store: Store, request: GenerationRequest, user: UserInfo, video: str | Path, clip_id: str,
) -> OutputCheck:
    """The last gate before a clip is stored: the grants again (a revocation since the start refuses), then
    the faces in the output. Raises CameoDenied; on success the clip's cameo uses are recorded."""
    uses = check_prompt_cameos(store, request_prompts(request), user, purpose="store")
    check = check_output_faces(store, video, user, allowed=uses, clip_id=clip_id)
    record_clip_uses(store, uses, user, clip_id)
    return check


def record_clip_uses(store: Store, uses: list[CameoUse], user: UserInfo, clip_id: str) -> None:
    """One `cameo.clip` audit row per cameo a stored clip used: what `clips_using` lists for the owner."""
    if not uses:
        return
    with store.session() as s:
        for use in uses:
            log_action(s, user.id, "cameo.clip", f"@{use.handle}", {"cameo_id": use.cameo_id, "clip_id": clip_id, "kind": use.kind})


def _owner_cameo_ids(session: Any, owner: UserInfo, handle: str | None) -> dict[str, str]:
    query = select(Cameo.id, Cameo.name).where(Cameo.user_id == owner.id)  # deleted cameos too: their clips remain
    if handle:
        query = query.where(Cameo.name == handle.strip().lstrip("@").lower())
    return dict(session.execute(query).all())


def clips_using(store: Store, owner: UserInfo, handle: str | None = None) -> list[CameoClip]:
    """Every clip that used `owner`'s cameo (or one of them by handle), newest first, deleted ones marked."""
    with store.session() as s:
        ids = _owner_cameo_ids(s, owner, handle)
        if not ids:
            return []
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "cameo.clip").order_by(AuditEntry.id.desc()))
        out, seen = [], set()
        for entry in entries:
            d = entry.details or {}
            if d.get("cameo_id") not in ids or d.get("clip_id") in seen:
                continue
            clip = s.get(ClipRow, d.get("clip_id"))
            if clip is None:
                continue  # the use was recorded but the clip never got stored
            seen.add(clip.id)
            maker = s.get(User, clip.user_id) if clip.user_id is not None else None
            out.append(CameoClip(clip.id, ids[d["cameo_id"]], maker.username if maker else "?", clip.prompt,
                                 clip.created_at.isoformat() if clip.created_at else "", clip.deleted_at is not None))
        return out


def delete_clip_as_cameo_owner(store: Store, owner: UserInfo, clip_id: str) -> CameoClip:
    """A cameo's owner deletes a clip that used their likeness (whoever made it); files go, the row stays."""
    clip_id = (clip_id or "").strip()
    mine = {c.clip_id: c for c in clips_using(store, owner)}
    if clip_id not in mine:
        raise PermissionError(f"clip {clip_id!r} did not use your cameo: you can delete only clips that show you")
    found = mine[clip_id]
    if found.deleted:
        return found
    with store.session() as s:
        row = s.get(ClipRow, clip_id)
        row.deleted_at = utcnow()
        paths = [row.video_path, row.thumbnail_path, row.ground_truth_path]
        log_action(s, owner.id, "cameo.clip_delete", f"@{found.handle}", {"clip_id": clip_id, "maker": found.user})
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)
    found.deleted = True
    return found
