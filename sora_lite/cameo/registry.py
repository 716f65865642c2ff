"""Registering a cameo: photos or a selfie video (and optionally a voice sample) → a validated likeness.

A cameo is one `cameos` row (name = the handle) whose `details` hold the reference face vectors, the face
texture the world engine's character can wear, the voice sample, who may use it (`visibility`, with its
history so a check at any time is exact) and the verification status. Files live under
`<home>/cameos/<cameo id>/`. Each owner has at most one live cameo; deleting it (`delete_cameo`) stops every
use at once, removes its files and keeps the row (with its face vectors) for the audit trail.

A face belongs to one cameo: a new registration whose face matches another account's cameo is refused (a
verified cameo, live or deleted; an unverified one for 7 days after it was registered), and both people get an
audit entry (`cameo.register.refused` for the one who tried,
`cameo.likeness_claimed` for the face's owner). The threshold is dlib's own (distance < 0.6); the numbers
behind it are in `bench/cameo_faces.py` and the README's Cameo section. A deleted verified cameo keeps
locking its face, because deleting a cameo withdraws consent; it does not hand the likeness to whoever
uploads it next.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sora_lite.accounts import UserInfo
from sora_lite.cameo import faces
from sora_lite.common.errors import RequestError
from sora_lite.common.handles import HandleError, normalize_handle
from sora_lite.media import MediaError, probe, read_audio, read_image, sample_frames
from sora_lite.store import Cameo, Store, User, utcnow
from sora_lite.store.audit import log_action

MAX_PHOTOS = 5
PHOTO_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".mkv", ".m4v"}
VOICE_SUFFIXES = {".wav", ".mp3", ".ogg"}
MAX_PHOTO_BYTES = 15 * 2**20
MAX_VIDEO_BYTES = 60 * 2**20
MAX_VIDEO_SECONDS = 20.0
MAX_VOICE_BYTES = 10 * 2**20
VOICE_SECONDS = (1.0, 30.0)
VOICE_MIN_RMS = 0.005  # about -46 dBFS: quieter than this is silence or a dead microphone
DETECT_MAX_SIDE = 800  # photos are scaled down to this before detection (speed; sizes below are in it)
MIN_FACE_SIDE = 64
MIN_SHARPNESS = 30.0  # variance of the Laplacian on a 128 px face crop; measured: sharp 250, blur σ=0.8 px 49, σ=1.2 px 24
VIDEO_SAMPLES = 8
VIDEO_MIN_FACE_FRACTION = 0.75
FACE_TEXTURE_SIDE = 256
VISIBILITIES = ("only_me", "approved", "everyone")
UNVERIFIED_LOCK = timedelta(days=7)  # how long an unverified cameo keeps its face from others (see claims_likeness)
UNVERIFIED_NOTE = ("not usable yet: photos alone could be anyone's, so a cameo is used only after its owner records "
                   "a live verification video (Cameo tab → Verify it is me: get a challenge, record it, upload it)")


class CameoError(RequestError):
    """A registration or cameo request that cannot be served; the message says what to change."""


class CameoNotFound(CameoError, LookupError):
    """No live cameo has this handle."""


class LikenessTaken(CameoError):
    """The uploaded face is another account's registered likeness."""


@dataclass
class CameoInfo:
    """A cameo as users see it (no face vectors)."""

    id: str
    handle: str
    owner: str
    owner_id: int
    display_name: str
    visibility: str
    verification: dict[str, Any]
    methods: list[str]
    source: str
    photos: list[str]
    face_texture: str
    voice: dict[str, Any] | None
    created_at: str
    deleted: bool = False

    @property
    def verified(self) -> bool:
        return self.verification.get("status") == "verified"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Reference:
    """One accepted face: the pixels it came from and what was measured on it."""

    image: np.ndarray
    face: faces.FaceBox
    sharpness: float
    vectors: list[faces.FaceVector] = field(default_factory=list)


# --- reading rows --------------------------------------------------------------------------------------------


def cameo_info(row: Cameo, owner: User | None) -> CameoInfo:
    d = row.details or {}
    return CameoInfo(
        id=row.id,
        handle=row.name,
        owner=owner.username if owner else "?",
        owner_id=row.user_id,
        display_name=d.get("display_name") or row.name,
        visibility=d.get("visibility", "only_me"),
        verification=d.get("verification") or {"status": "unverified", "checks": []},
        methods=sorted({v["method"] for v in d.get("references", [])}),
        source=d.get("source", ""),
        photos=list(d.get("photos", [])),
        face_texture=d.get("face_texture", ""),
        voice=d.get("voice"),
        created_at=row.created_at.isoformat() if row.created_at else "",
        deleted=row.revoked_at is not None,
    )


def live_cameo_row(session: Session, handle: str) -> Cameo:
    """The live cameo row for a handle (locked for the transaction), or CameoNotFound."""
    name = normalize_handle(handle)
    row = session.scalar(select(Cameo).where(Cameo.name == name, Cameo.revoked_at.is_(None)))
    if row is None:
        raise CameoNotFound(f"there is no cameo @{name}")
    return row


def get_cameo(store: Store, handle: str) -> CameoInfo:
    with store.session() as s:
        row = live_cameo_row(s, handle)
        return cameo_info(row, s.get(User, row.user_id))


def list_cameos(store: Store, owner: UserInfo | None = None) -> list[CameoInfo]:
    """Live cameos, newest first; only `owner`'s when given."""
    with store.session() as s:
        query = select(Cameo).where(Cameo.revoked_at.is_(None)).order_by(Cameo.created_at.desc())
        if owner is not None:
            query = query.where(Cameo.user_id == owner.id)
        return [cameo_info(row, s.get(User, row.user_id)) for row in s.scalars(query)]


def references(row: Cameo) -> list[faces.FaceVector]:
    return [faces.FaceVector.from_dict(v) for v in (row.details or {}).get("references", [])]


# --- validation ----------------------------------------------------------------------------------------------


def _check_file(path: str | Path, what: str, suffixes: set[str], max_bytes: int) -> Path:
    p = Path(path)
    if not p.is_file():
        raise CameoError(f"the {what} {p.name!r} was not found; upload it again")
    if p.suffix.lower() not in suffixes:
        raise CameoError(f"the {what} {p.name!r} has an unsupported format; use {', '.join(sorted(suffixes))}")
    size = p.stat().st_size
    if size == 0:
        raise CameoError(f"the {what} {p.name!r} is empty")
    if size > max_bytes:
        raise CameoError(f"the {what} {p.name!r} is {size / 2**20:.1f} MB; the limit is {max_bytes // 2**20} MB")
    return p


def _one_face(image: np.ndarray, where: str) -> _Reference:
    """The single, big enough, sharp enough face in an image, or a CameoError that says what is wrong."""
    image = faces.within(image, DETECT_MAX_SIDE)
    found = faces.detect_faces(image)
    if not found:
        raise CameoError(f"no face was found in {where}: use a well-lit photo of your face, looking at the camera")
    if len(found) > 1:
        raise CameoError(f"{len(found)} faces were found in {where}: a cameo photo must show only you")
    face = found[0]
    if face.side < MIN_FACE_SIDE:
        raise CameoError(
            f"the face in {where} is too small ({face.side} px, at least {MIN_FACE_SIDE} px once the image is "
            f"scaled to {DETECT_MAX_SIDE} px): take the photo closer"
        )
    sharp = faces.sharpness(image, face)
    if sharp < MIN_SHARPNESS:
        raise CameoError(f"the face in {where} is blurry (sharpness {sharp:.0f}, at least {MIN_SHARPNESS:.0f}): hold still, use more light")
    return _Reference(image=image, face=face, sharpness=sharp, vectors=faces.represent(image, face))


def _photo_references(photos: list[str | Path]) -> list[_Reference]:
    if len(photos) > MAX_PHOTOS:
        raise CameoError(f"{len(photos)} photos were given; a cameo takes 1 to {MAX_PHOTOS}")
    refs = []
    for i, path in enumerate(photos):
        p = _check_file(path, "photo", PHOTO_SUFFIXES, MAX_PHOTO_BYTES)
        try:
            image = read_image(p)
        except MediaError as e:
            raise CameoError(f"photo {i + 1} could not be read: {e}") from None
        refs.append(_one_face(image, f"photo {i + 1} ({p.name})"))
    return refs


def _video_references(video: str | Path) -> list[_Reference]:
    p = _check_file(video, "selfie video", VIDEO_SUFFIXES, MAX_VIDEO_BYTES)
    try:
        info = probe(p)
        if info.duration > MAX_VIDEO_SECONDS:
            raise CameoError(f"the selfie video lasts {info.duration:.0f} s; the limit is {MAX_VIDEO_SECONDS:.0f} s")
        frames, times = sample_frames(p, VIDEO_SAMPLES)
    except MediaError as e:
        raise CameoError(f"the selfie video could not be read: {e}") from None
    refs, problems = [], []
    for frame, t in zip(frames, times):
        try:
            refs.append(_one_face(frame, f"the video at {t:.1f} s"))
        except CameoError as e:
            if "faces were found" in str(e):
                raise  # someone else in the picture: never pick the frames that happen to show one face
            problems.append(str(e))
    if len(refs) < VIDEO_MIN_FACE_FRACTION * len(frames):
        raise CameoError(
            f"the face was usable in only {len(refs)} of {len(frames)} sampled frames; first problem: {problems[0]}"
        )
    return sorted(refs, key=lambda r: -r.sharpness)[:3]


def _check_same_person(refs: list[_Reference]) -> None:
    """With a real face-recognition model, every reference must be the same person as the first."""
    for i, ref in enumerate(refs[1:], start=2):
        result = faces.compare(ref.vectors, refs[0].vectors)
        if result is not None and result.strong and not result.same_person:
            raise CameoError(f"photo {i} does not look like the same person as photo 1: upload photos of one person")


@dataclass
class LikenessMatch:
    """A registered cameo (of another account) whose face a set of face vectors matches."""

    cameo_id: str
    handle: str
    owner_id: int
    deleted: bool
    method: str
    score: float


def is_verified(row: Cameo) -> bool:
    return ((row.details or {}).get("verification") or {}).get("status") == "verified"


def claims_likeness(row: Cameo, now: datetime | None = None) -> bool:
    """Whether a cameo holds its face against everyone else: a verified one always (deleted too: deleting
    withdraws consent, it does not free the face); an unverified one only while live and for
    UNVERIFIED_LOCK after registering (time to verify), so that uploading someone's photos and never
    verifying, or deleting at once, cannot lock their face away from them for good."""
    if is_verified(row):
        return True
    if row.revoked_at is not None or row.created_at is None:
        return False
    return (now or utcnow()) - row.created_at < UNVERIFIED_LOCK


def likeness_matches(session: Session, vectors: list[list[faces.FaceVector]], exclude_user: int | None = None,
                     exclude_cameo: str | None = None, claiming_only: bool = True) -> list[LikenessMatch]:
    """Every cameo (live or deleted; only those that `claims_likeness` unless told otherwise) whose references
    match any of the given faces (each face: its vectors), except the cameos of `exclude_user` and the cameo
    `exclude_cameo`; best match per cameo, closest first."""
    found: dict[str, LikenessMatch] = {}
    now = utcnow()
    for row in session.scalars(select(Cameo)):
        if row.id == exclude_cameo or (exclude_user is not None and row.user_id == exclude_user):
            continue
        if claiming_only and not claims_likeness(row, now):
            continue
        refs = references(row)
        for face_vectors in vectors:
            result = faces.compare(face_vectors, refs)
            if result is None or not result.same_person:
                continue
            match = LikenessMatch(row.id, row.name, row.user_id, row.revoked_at is not None, result.method, round(result.score, 4))
            old = found.get(row.id)
            if old is None or (match.score < old.score if result.strong else match.score > old.score):
                found[row.id] = match
    return sorted(found.values(), key=lambda m: m.score if m.method == faces.EMBEDDING_METHOD else -m.score)


def _check_likeness_free(store: Store, refs: list[_Reference], owner: UserInfo, handle: str) -> None:
    """Refuse a face that is already someone else's cameo; both people get an audit entry (committed first)."""
    with store.session() as s:
        matches = likeness_matches(s, [r.vectors for r in refs], exclude_user=owner.id)
        for m in matches:
            log_action(s, owner.id, "cameo.register.refused", f"@{handle}", {
                "reason": "the face is another account's registered likeness", "matched_cameo_id": m.cameo_id,
                "method": m.method, "score": m.score})
            log_action(s, m.owner_id, "cameo.likeness_claimed", f"@{m.handle}", {
                "cameo_id": m.cameo_id, "by": owner.username, "attempted_handle": handle, "method": m.method,
                "score": m.score, "outcome": "refused"})
        if not matches:  # live, unverified, past their time: the face goes to who registers it now
            for m in likeness_matches(s, [r.vectors for r in refs], exclude_user=owner.id, claiming_only=False):
                row = s.get(Cameo, m.cameo_id)
                if row is not None and row.revoked_at is None and not claims_likeness(row):
                    row.revoked_at = utcnow()
                    log_action(s, row.user_id, "cameo.expired", f"@{row.name}", {
                        "cameo_id": row.id, "reason": f"not verified within {UNVERIFIED_LOCK.days} days, and "
                        f"{owner.username} registered the same face", "by": owner.username})
    if matches:
        raise LikenessTaken(
            "this face is already registered as another person's cameo, so it cannot be registered again: a "
            "likeness belongs to one cameo. If it is your own face, use your own photos and contact the operator; "
            "the attempt was logged for you and for the cameo's owner")


def _check_voice(voice: str | Path) -> tuple[Path, dict[str, Any]]:
    p = _check_file(voice, "voice sample", VOICE_SUFFIXES, MAX_VOICE_BYTES)
    try:
        got = read_audio(p)
    except MediaError as e:
        raise CameoError(f"the voice sample could not be read: {e}") from None
    if got is None:
        raise CameoError(f"the voice sample {p.name!r} has no sound track")
    samples, rate = got
    seconds = samples.shape[-1] / rate
    low, high = VOICE_SECONDS
    if not low <= seconds <= high:
        raise CameoError(f"the voice sample lasts {seconds:.1f} s; record {low:.0f} to {high:.0f} s of speech")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms < VOICE_MIN_RMS:
        raise CameoError("the voice sample is silent: check the microphone and record again")
    return p, {"seconds": round(seconds, 3), "sample_rate": int(rate), "channels": int(samples.shape[0])}


# --- registering and deleting ---------------------------------------------------------------------------------


def register_cameo(
    store: Store,
    home: str | Path,
    owner: UserInfo,
    handle: str,
    photos: list[str | Path] | None = None,
    video: str | Path | None = None,
    voice: str | Path | None = None,
    display_name: str | None = None,
) -> CameoInfo:
    """Validate the uploads and register `owner`'s cameo under `handle`, visible to its owner only.

    Nothing is written unless every upload passed. The cameo starts "unverified" (see `verification`).
    """
    if not owner.can_own:
        raise CameoError("sign in to register a cameo: a shared anonymous visitor cannot own a likeness")
    try:
        name = normalize_handle(handle)
    except HandleError as e:
        raise CameoError(str(e)) from None
    photos = [p for p in (photos or []) if p]
    if bool(photos) == bool(video):
        raise CameoError(f"upload either 1 to {MAX_PHOTOS} photos of your face or one short selfie video")
    refs = _photo_references(photos) if photos else _video_references(video)  # type: ignore[arg-type]
    _check_same_person(refs)
    voice_file, voice_info = _check_voice(voice) if voice else (None, None)

    with store.session() as s:  # fail on a taken handle before writing files
        _check_free(s, name, owner)
    _check_likeness_free(store, refs, owner, name)
    cameo_id = uuid.uuid4().hex[:16]
    folder = Path(home) / "cameos" / cameo_id
    try:
        details = _write_files(folder, refs, voice_file, voice_info)
        now = utcnow()
        details.update(
            handle=name,
            display_name=(display_name or "").strip()[:200] or owner.display_name,
            visibility="only_me",
            visibility_history=[[now.isoformat(), "only_me"]],
            source="photos" if photos else "video",
            verification={"status": "unverified", "checks": [], "note": UNVERIFIED_NOTE},
        )
        with store.session() as s:
            _check_free(s, name, owner)  # again, inside the writing transaction
            row = Cameo(id=cameo_id, user_id=owner.id, name=name, details=details, created_at=now)
            s.add(row)
            s.flush()
            log_action(s, owner.id, "cameo.register", f"@{name}", {
                "cameo_id": cameo_id, "source": details["source"], "references": len(refs),
                "methods": sorted({v["method"] for v in details["references"]}), "voice": voice_file is not None,
            })
            return cameo_info(row, s.get(User, owner.id))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _check_free(session: Session, name: str, owner: UserInfo) -> None:
    if session.scalar(select(Cameo.id).where(Cameo.name == name, Cameo.revoked_at.is_(None))) is not None:
        raise CameoError(f"the handle @{name} is taken; pick another")
    mine = session.scalar(select(Cameo.name).where(Cameo.user_id == owner.id, Cameo.revoked_at.is_(None)))
    if mine is not None:
        raise CameoError(f"you already have the cameo @{mine}; delete it first to register a new one")


def _write_files(folder: Path, refs: list[_Reference], voice: Path | None, voice_info: dict[str, Any] | None) -> dict[str, Any]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for i, ref in enumerate(refs):
        path = folder / f"reference_{i + 1}.png"
        Image.fromarray(faces.face_crop(ref.image, ref.face, size=FACE_TEXTURE_SIDE, margin=0.4)).save(path)
        photos.append(str(path))
    best = max(refs, key=lambda r: r.sharpness)
    texture = folder / "face.png"
    Image.fromarray(faces.face_crop(best.image, best.face, size=FACE_TEXTURE_SIDE, margin=0.15)).save(texture)
    details: dict[str, Any] = {
        "photos": photos,
        "face_texture": str(texture),
        "references": [v.to_dict() for ref in refs for v in ref.vectors],
        "sharpness": [round(r.sharpness, 1) for r in refs],
        "voice": None,
    }
    if voice is not None and voice_info is not None:
        kept = folder / f"voice{voice.suffix.lower()}"
        shutil.copyfile(voice, kept)
        details["voice"] = {"path": str(kept), **voice_info}
    return details


def delete_cameo(store: Store, owner: UserInfo, handle: str) -> CameoInfo:
    """The owner withdraws the likeness: every later use is refused at once and its files (photos, face
    texture, voice) are removed; the row stays, with its face vectors, for the audit trail and so the face
    stays locked to this account. `usage.delete_cameo` also handles the clips that used it."""
    if not owner.can_own:
        raise PermissionError("sign in as the cameo's owner to delete it")
    with store.session() as s:
        row = live_cameo_row(s, handle)
        if row.user_id != owner.id:
            log_action(s, owner.id, "cameo.delete.refused", f"@{row.name}", {"cameo_id": row.id, "reason": "not the owner"})
            refused: Exception = PermissionError(f"@{row.name} is not your cameo: only its owner can delete it")
        else:
            row.revoked_at = utcnow()
            details = dict(row.details or {})
            files = [*details.get("photos", []), details.get("face_texture"), (details.get("voice") or {}).get("path")]
            details.update(photos=[], face_texture="", voice=None, files_deleted_at=row.revoked_at.isoformat())
            details.pop("challenge", None)
            row.details = details
            log_action(s, owner.id, "cameo.delete", f"@{row.name}", {"cameo_id": row.id, "files": len([f for f in files if f])})
            info = cameo_info(row, s.get(User, owner.id))
            refused = None
    if refused is not None:
        raise refused
    for f in files:
        if f:
            Path(f).unlink(missing_ok=True)
    return info
