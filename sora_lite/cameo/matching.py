"""The output check: faces in generated frames are compared with every registered cameo; a likeness the
requester holds no live grant for blocks the clip.

This is what stops a cameo from being used without naming it (an image-to-video upload of someone's photo,
a model that draws a known face). It can only see what the detector finds (frontal-ish faces ≥ ~40 px) and
only compare as well as the representation allows: the record says which method compared.
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
from sora_lite.cameo.registry import references
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
    """Compare the faces in (up to `n` evenly sampled) frames with every live cameo; no policy, no logging."""
    try:
        picked = _frames(frames, n)
        found = [(i, frame, faces.detect_faces(frame)) for i, frame in enumerate(picked)]
    except faces.FaceModelUnavailable as e:
        return OutputCheck(checked=False, note=str(e))
    check = OutputCheck(checked=True, frames=len(picked), faces=sum(len(f) for _, _, f in found))
    if check.faces == 0:
        return check
    with store.session() as s:
        cameos = [(row, references(row)) for row in s.scalars(select(Cameo).where(Cameo.revoked_at.is_(None)))]
        seen: dict[str, FaceMatch] = {}
        for i, frame, boxes in found:
            for box in boxes:
                vectors = faces.represent(frame, box)
                for row, refs in cameos:
                    result = faces.compare(vectors, refs)
                    if result is None or not result.same_person:
                        continue
                    if row.id not in seen:
                        seen[row.id] = FaceMatch(i, row.name, row.id, result.method, round(result.score, 4), may_use(s, row.id, user))
        check.matches = list(seen.values())
    check.blocked = [m.handle for m in check.matches if not m.allowed]
    return check


def check_output_faces(
    store: Store, frames: np.ndarray | str | Path, user: UserInfo, allowed: list[Any] | None = None,
    clip_id: str | None = None,
) -> OutputCheck:
    """Block (CameoDenied) a clip showing a cameo that `user` may not use now; log what was found.

    `allowed` (the CameoUses granted before generation) is recorded for the audit; the decision itself is
    re-read from the grants now, so a revocation during the job also blocks.
    """
    check = find_cameo_faces(store, frames, user)
    named = sorted({getattr(u, "handle", str(u)) for u in allowed or []})
    if check.matches:
        with store.session() as s:
            for m in check.matches:
                action = "cameo.appearance" if m.allowed else "cameo.output_block"
                log_action(s, user.id, action, f"@{m.handle}", {
                    "cameo_id": m.cameo_id, "clip_id": clip_id, "method": m.method, "score": m.score,
                    "named_in_prompt": m.handle in named,
                })
    if check.blocked:
        who = ", ".join(f"@{h}" for h in check.blocked)
        method = check.matches[0].method
        raise CameoDenied(
            f"the clip shows the likeness of {who} (matched by {method}), and you have no permission to use "
            f"{'it' if len(check.blocked) == 1 else 'them'}: the clip was not stored",
            check.blocked[0],
        )
    return check
