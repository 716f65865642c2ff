"""Cameos in the studio flow: check the grants before generating and again before storing, check the
output's faces, remember which clips used which cameo, and let a cameo's owner list and delete them.

The studio (`sora_lite.studio.Studio.generate`) calls, in order:

    request = usage.before_generation(store, request, user)          # CameoDenied → nothing rendered
        # grants (verified cameos only), the likeness of each face texture the engine will paint, the input image
    record = create_clip(request, ..., check_frames=...)               # the engine sees options["cameos"]
        # check_frames: uses, check = usage.check_before_storing(store, request, user, clip.frames, clip_id)
        # on the frames in memory, before marks and encoding: CameoDenied → nothing is written
    usage.record_stored(store, uses, check, user, record.id)           # once the clip is written
    clip_feed.save_clip(...)

`before_storing` does both steps at once, for a clip that already exists as a file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from sora_lite.accounts import UserInfo
from sora_lite.cameo import registry
from sora_lite.cameo.grants import CameoDenied, check_use, may_use
from sora_lite.cameo.matching import OutputCheck, check_output_faces
from sora_lite.common.handles import mentioned_handles
from sora_lite.common.request import GenerationRequest
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


def check_painted_likeness(store: Store, uses: list[CameoUse], user: UserInfo) -> None:
    """The consent check on what our engine will paint: each granted cameo's face must not be another
    account's likeness that `user` may not use (e.g. a cameo registered before faces were compared at
    registration). CameoDenied before anything is rendered; logged for the requester and the face's owner."""
    refusals = []
    with store.session() as s:
        for use in uses:
            row = s.get(Cameo, use.cameo_id)
            if row is None:
                continue
            vectors = registry.references(row)
            for m in registry.likeness_matches(s, [vectors], exclude_user=row.user_id, exclude_cameo=row.id):
                allowed = (m.owner_id == user.id and user.can_own) if m.deleted else may_use(s, m.cameo_id, user)
                if allowed:
                    continue
                details = {"cameo_id": use.cameo_id, "matched_cameo_id": m.cameo_id, "method": m.method, "score": m.score}
                log_action(s, user.id, "cameo.request_block", f"@{use.handle}", {**details, "reason": "another person's likeness"})
                log_action(s, m.owner_id, "cameo.likeness_blocked", f"@{m.handle}", {**details, "by": user.username, "stage": "request"})
                refusals.append(f"the face of @{use.handle} is the registered likeness of another person, who has not "
                                f"let you use it: nothing was rendered")
                break
    if refusals:
        raise CameoDenied("; ".join(refusals), uses[0].handle)


def check_input_image(store: Store, request: GenerationRequest, user: UserInfo, uses: list[CameoUse]) -> None:
    """An image-to-video input showing a cameo the user may not use is refused before rendering."""
    if not request.image:
        return
    from sora_lite.media import MediaError, read_image

    try:
        pixels = read_image(request.image)
    except MediaError:
        return  # the engine reports an unreadable image in its own words
    check_output_faces(store, pixels[None], user, allowed=uses, stage="input")


def before_generation(store: Store, request: GenerationRequest, user: UserInfo) -> GenerationRequest:
    """Check the grants for every cameo the request names, the likeness of every face the engine will paint
    and the faces in an input image; the request to render, with its cameos attached."""
    uses = check_prompt_cameos(store, request_prompts(request), user, purpose="prompt")
    check_painted_likeness(store, uses, user)
    check_input_image(store, request, user, uses)
    return with_cameos(request, uses)


def public_request(request: dict[str, Any]) -> dict[str, Any]:
    """A clip's stored request without the server paths of the cameos it used (face texture, voice): other
    people read clip records, and a cameo's files are its owner's. Remixes re-attach cameos from the grants."""
    options = dict(request.get("options") or {})
    if not options.get("cameos"):
        return request
    options["cameos"] = [{k: c.get(k) for k in ("handle", "cameo_id", "kind")} for c in options["cameos"]
                         if isinstance(c, dict)]
    return {**request, "options": options}


def before_storing(
    store: Store, request: GenerationRequest, user: UserInfo, video: str | Path | np.ndarray, clip_id: str,
) -> OutputCheck:
    """The last gate before a clip is stored: the grants again (a revocation since the start refuses), then
    the faces in the output. Raises CameoDenied; on success the clip's cameo uses are recorded."""
    uses, check = check_before_storing(store, request, user, video, clip_id)
    record_stored(store, uses, check, user, clip_id)
    return check


def check_before_storing(
    store: Store, request: GenerationRequest, user: UserInfo, video: str | Path | np.ndarray, clip_id: str,
) -> tuple[list[CameoUse], OutputCheck]:
    """The grants again (a revocation since the start refuses), then the faces in the output (a file or the
    frames in memory, before anything is written). Raises CameoDenied; records nothing but the audit of a block."""
    uses = check_prompt_cameos(store, request_prompts(request), user, purpose="store")
    return uses, check_output_faces(store, video, user, allowed=uses, clip_id=clip_id)


def record_stored(store: Store, uses: list[CameoUse], check: OutputCheck, user: UserInfo, clip_id: str) -> None:
    """Once the clip is written: the cameo uses it was made with, and any likeness that appears unnamed."""
    record_clip_uses(store, uses, user, clip_id)
    named = {u.cameo_id for u in uses}
    with store.session() as s:  # a likeness that appears unnamed (an input image, a Hub model) is listed too
        for m in check.matches:
            if m.allowed and m.cameo_id not in named:
                log_action(s, user.id, "cameo.clip", f"@{m.handle}", {"cameo_id": m.cameo_id, "clip_id": clip_id, "kind": "appearance"})


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
        if row.user_id is not None and row.user_id != owner.id:  # the maker learns why their clip went
            log_action(s, row.user_id, "clip.deleted_by_cameo_owner", clip_id, {"cameo": f"@{found.handle}", "by": owner.username})
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)
    found.deleted = True
    return found


@dataclass
class CameoDeletion:
    """What deleting a cameo did: the cameo (now deleted) and the clips that used it, deleted or kept."""

    cameo: dict[str, Any]
    clips_deleted: list[str]
    clips_kept: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def delete_cameo(store: Store, owner: UserInfo, handle: str, delete_clips: bool = True) -> CameoDeletion:
    """The owner deletes their cameo (`registry.delete_cameo`: refused for anyone else, audited) and, by
    default, every clip that used it, whoever made it (files removed, rows kept and marked). With
    `delete_clips=False` the clips stay and keep being listed by `clips_using`, so the owner can delete them later."""
    info = registry.delete_cameo(store, owner, handle)
    deleted, kept = [], []
    for clip in clips_using(store, owner, info.handle):
        if clip.deleted:
            continue
        if delete_clips:
            delete_clip_as_cameo_owner(store, owner, clip.clip_id)
            deleted.append(clip.clip_id)
        else:
            kept.append(clip.clip_id)
    with store.session() as s:
        log_action(s, owner.id, "cameo.delete.clips", f"@{info.handle}",
                   {"cameo_id": info.id, "deleted": deleted, "kept": kept})
    return CameoDeletion(info.to_dict(), deleted, kept)


def likeness_alerts(store: Store, owner: UserInfo, limit: int = 50) -> list[dict[str, Any]]:
    """What others tried with the owner's face: refused registrations and blocked requests or clips."""
    with store.session() as s:
        rows = s.scalars(select(AuditEntry).where(
            AuditEntry.user_id == owner.id, AuditEntry.action.in_(("cameo.likeness_claimed", "cameo.likeness_blocked")))
            .order_by(AuditEntry.id.desc()).limit(limit))
        return [{"at": e.time.isoformat() if e.time else "", "action": e.action,
                 "cameo": e.subject, "by": (e.details or {}).get("by"), "stage": (e.details or {}).get("stage", "register")}
                for e in rows]
