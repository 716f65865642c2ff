"""The audit log: one row per action that changes what users own or see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sora_lite.store.models import AuditEntry, ModerationDecision


def log_action(session: Session, user_id: int | None, action: str, subject: str = "", details: dict[str, Any] | None = None) -> None:
    """Add an audit row inside the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(user_id=user_id, action=action, subject=subject, details=details or {}))


def log_moderation(session: Session, user_id: int | None, clip_id: str | None, stage: str, verdict: str,
                   category: str | None, reason: str, details: dict[str, Any] | None = None) -> None:
    """Record one policy decision (stage "prompt" or "output"), allowed or blocked, with who asked and why."""
    session.add(ModerationDecision(user_id=user_id, clip_id=clip_id, stage=stage, verdict=verdict,
                                   categories=[category] if category else [], reason=reason, details=details or {}))
