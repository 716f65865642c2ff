"""The audit log: one row per action that changes what users own or see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sora_lite.store.models import AuditEntry


def log_action(session: Session, user_id: int | None, action: str, subject: str = "", details: dict[str, Any] | None = None) -> None:
    """Add an audit row inside the caller's transaction, so the action and its record commit together."""
    session.add(AuditEntry(user_id=user_id, action=action, subject=subject, details=details or {}))
