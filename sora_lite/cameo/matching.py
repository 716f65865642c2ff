"""The output check: faces in generated frames are compared with every registered cameo; a likeness the
requester holds no live grant for blocks the clip.

This is what stops a cameo from being used without naming it (an image-to-video upload of someone's photo,
a Hub model that draws a known face). Frames smaller than 512 px are enlarged (up to 4×) before detection, so
faces down to ~18 px (a character in a 256² or 128² render) are found and compared; smaller ones, profiles and
heavily stylised faces are not seen. It compares only as well as the representation allows: the record says
which method compared. Deleted verified cameos are compared too: a withdrawn likeness is blocked for everyone
but its former owner (`registry.claims_likeness` says which cameos hold their face). Our own engine's renders are also checked on the request (`usage.before_generation`), where the
face texture it will paint is known.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from sora_lite.accounts import UserInfo
from sora_lite.cameo import faces
from sora_lite.cameo.grants import CameoDenied, may_use
from sora_lite.cameo.registry import claims_likeness, references
from sora_lite.media import sample_frames, spread_indices
from sora_lite.store import Cameo, Store
from sora_lite.store.audit import log_action

SAMPLED_FRAMES = 8


@dataclass
class FaceMatch:
    """A face in a frame that looks like a registered cameo."""

    frame: int
    handle: str
    cameo_id: str
    method: str
    score: float
    allowed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OutputCheck:
    """What the output check saw and decided. checked=False says it could not look (and why)."""

    checked: bool
    frames: int = 0
    faces: int = 0
    matches: list[FaceMatch] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "matches": [m.to_dict() for m in self.matches]}


def _frames(frames: np.ndarray | str | Path, n: int) -> np.ndarray:
    if isinstance(frames, (str, Path)):
        return sample_frames(frames, n)[0]
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if len(frames) <= n:
        return frames
    return frames[spread_indices(len(frames), n)]


def find_cameo_faces(store: Store, frames: np.ndarray | str | Path, user: UserInfo, n: int = SAMPLED_FRAMES) -> OutputCheck:
    """Compare the faces in (up to `n` evenly sampled) frames with every cameo; no policy, no logging."""
    with store.session() as s:
        anyone = any(claims_likeness(row) for row in s.scalars(select(Cameo)))
    if not anyone:  # nobody's likeness to find: skip the face detector (~2 s of a short CLI clip on two cores)
        return OutputCheck(checked=True, note="no likeness is registered here: no face to compare")
    try:
        picked = _frames(frames, n)
        found = [(i, *faces.detect_small_faces(frame)) for i, frame in enumerate(picked)]
    except faces.FaceModelUnavailable as e:
        return OutputCheck(checked=False, note=str(e))
    check = OutputCheck(checked=True, frames=len(picked), faces=sum(len(f) for _, _, f in found))
    if check.faces == 0:
        return check
    with store.session() as s:
        cameos = [(row, references(row)) for row in s.scalars(select(Cameo)) if claims_likeness(row)]
        seen: dict[str, FaceMatch] = {}
        for i, frame, boxes in found:
            for box in boxes:
                vectors = faces.represent(frame, box)
                for row, refs in cameos:
                    result = faces.compare(vectors, refs)
                    if result is None or not result.same_person:
                        continue
                    if row.revoked_at is not None:  # a withdrawn likeness: only its former owner may show it
                        allowed = row.user_id == user.id and user.can_own
                    else:
                        allowed = may_use(s, row.id, user)
                    if row.id not in seen:
                        seen[row.id] = FaceMatch(i, row.name, row.id, result.method, round(result.score, 4), allowed)
        check.matches = list(seen.values())
    check.blocked = [m.handle for m in check.matches if not m.allowed]
    return check


def check_output_faces(
    store: Store, frames: np.ndarray | str | Path, user: UserInfo, allowed: list[Any] | None = None,
    clip_id: str | None = None, stage: str = "output",
) -> OutputCheck:
    """Block (CameoDenied) a clip showing a cameo that `user` may not use now; log what was found.

    `allowed` (the CameoUses granted before generation) is recorded for the audit; the decision itself is
    re-read from the grants now, so a revocation during the job also blocks. stage "input": the frames are a
    request's input image, checked before anything is rendered. A block is logged for the requester and for
    the cameo's owner (`cameo.likeness_blocked`), so the owner learns of it.
    """
    check = find_cameo_faces(store, frames, user)
    named = sorted({getattr(u, "handle", str(u)) for u in allowed or []})
    if check.matches:
        with store.session() as s:
            for m in check.matches:
                action = "cameo.appearance" if m.allowed else ("cameo.input_block" if stage == "input" else "cameo.output_block")
                details = {"cameo_id": m.cameo_id, "clip_id": clip_id, "method": m.method, "score": m.score,
                           "named_in_prompt": m.handle in named, "stage": stage}
                log_action(s, user.id, action, f"@{m.handle}", details)
                owner_id = s.scalar(select(Cameo.user_id).where(Cameo.id == m.cameo_id))
                if not m.allowed and owner_id is not None and owner_id != user.id:
                    log_action(s, owner_id, "cameo.likeness_blocked", f"@{m.handle}", {**details, "by": user.username})
    if check.blocked:
        who = ", ".join(f"@{h}" for h in check.blocked)
        method = check.matches[0].method
        what = "the input image shows" if stage == "input" else "the clip shows"
        outcome = "nothing was rendered" if stage == "input" else "the clip was not stored"
        raise CameoDenied(
            f"{what} the likeness of {who} (matched by {method}), and you have no permission to use "
            f"{'it' if len(check.blocked) == 1 else 'them'}: {outcome}",
            check.blocked[0],
        )
    return check
