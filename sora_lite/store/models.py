"""The database tables (SQLAlchemy 2 declarative): users, clips, cameos, grants, audit log, moderation.

Rows are never dropped by the app: deleting a clip sets `deleted_at` so remix lineage and the audit trail
stay intact. Times are stored as naive UTC datetimes (portable across SQLite and server databases).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC now: SQLite keeps no zone, so every row uses UTC by convention."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A person (or the local default user). `provider`: local | password | hf | anonymous."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(96), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    provider: Mapped[str] = mapped_column(String(16), default="password")
    password_hash: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ClipRow(Base):
    """One made clip; `parent_id` points at the clip it remixes."""

    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("clips.id"), index=True, nullable=True)
    prompt: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    seed: Mapped[int] = mapped_column(BigInteger, default=0)
    engine: Mapped[str] = mapped_column(String(200))
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    video_path: Mapped[str] = mapped_column(String(1000))
    thumbnail_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ground_truth_path: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    created_ts: Mapped[float] = mapped_column(Float, default=0.0)  # ClipRecord.created_at (epoch), exact
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Sharing and discovery (issue 17). Added to existing databases by `store.migrate` (ALTER TABLE ADD COLUMN
    # with these server defaults), so a clip made before them is public, open to remix, with a link token made
    # on first share.
    visibility: Mapped[str] = mapped_column(String(16), default="public", server_default="public", index=True)
    share_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remix_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    has_sound: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not measured (old rows)
    cameos: Mapped[str] = mapped_column(Text, default="", server_default="")  # " alice bob " (handles used)
    project_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)


class ClipFingerprint(Base):
    """The perceptual fingerprint of a stored clip (sora_lite/provenance/fingerprint.py): reverse search
    when a copy lost its watermark and C2PA. Raw little-endian arrays; shapes alongside."""

    __tablename__ = "clip_fingerprints"

    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    step_s: Mapped[float] = mapped_column(Float, default=0.25)
    video_shape: Mapped[list[Any]] = mapped_column(JSON, default=list)
    video_hashes: Mapped[bytes] = mapped_column(LargeBinary)
    colour: Mapped[bytes] = mapped_column(LargeBinary)
    audio_hashes: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    audio_mask: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    audio_hops: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Cameo(Base):
    """A registered likeness; `details` holds what the cameo module needs (reference paths, embeddings)."""

    __tablename__ = "cameos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CameoGrant(Base):
    """Consent: the cameo's owner lets `grantee_id` (None = everyone) use the likeness."""

    __tablename__ = "cameo_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cameo_id: Mapped[str] = mapped_column(ForeignKey("cameos.id"), index=True)
    grantee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """Who did what to which subject, e.g. ("alice", "clip.delete", "3f2a…")."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ModerationDecision(Base):
    """One verdict of the safety checks on a prompt or an output (stage: prompt | output)."""

    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    clip_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    stage: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(16))  # allow | block | review
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SignInAttempt(Base):
    """One sign-in (or sign-up) try, kept to throttle guessing: per account name and per client."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(96), index=True)
    client: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="sign_in")  # sign_in | sign_up
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class VisitorSignIn(Base):
    """A browser (its signed visitor cookie) signed in to an account; the session hash plays no part."""

    __tablename__ = "visitor_sign_ins"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class ClipEmbedding(Base):
    """A clip's prompt embedding (float32, unit length) for the Inspiration feed's diversity re-ranking;
    `model` names the embedder, so a change of model re-embeds instead of mixing spaces."""

    __tablename__ = "clip_embeddings"

    clip_id: Mapped[str] = mapped_column(ForeignKey("clips.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Project(Base):
    """A shared storyboard: its owner invites collaborators, everyone on it edits shots, the owner renders."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rendered_clip_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ProjectMember(Base):
    """An invitation to a project; `revoked_at` set when the owner takes it back (rows are kept)."""

    __tablename__ = "project_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ProjectShot(Base):
    """One shot of a project's storyboard; `position` orders them; removed shots keep their row."""

    __tablename__ = "project_shots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    position: Mapped[float] = mapped_column(Float, default=0.0)
    prompt: Mapped[str] = mapped_column(Text, default="")
    camera: Mapped[str] = mapped_column(String(32), default="static")
    seconds: Mapped[float] = mapped_column(Float, default=2.0)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ShotEdit(Base):
    """The edit history of a project's shots: who added, changed or removed what, before and after."""

    __tablename__ = "shot_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    shot_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(16))  # add | edit | remove
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
