"""SQLAlchemy tables and sessions: users, clips, cameos, grants, audit log, moderation decisions."""

from sora_lite.store.db import Store, database_url, home_dir, open_store
from sora_lite.store.models import (
    AuditEntry,
    Base,
    Cameo,
    CameoGrant,
    ClipRow,
    ModerationDecision,
    User,
    utcnow,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Cameo",
    "CameoGrant",
    "ClipRow",
    "ModerationDecision",
    "Store",
    "User",
    "database_url",
    "home_dir",
    "open_store",
    "utcnow",
]
