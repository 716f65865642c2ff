"""SQLAlchemy tables and sessions: users, clips, cameos, grants, audit log, moderation decisions,
clip fingerprints."""

from sora_lite.store.db import Store, database_url, home_dir, open_store
from sora_lite.store.models import (
    AuditEntry,
    Base,
    Cameo,
    CameoGrant,
    ClipFingerprint,
    ClipRow,
    ModerationDecision,
    SignInAttempt,
    User,
    VisitorSignIn,
    utcnow,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Cameo",
    "CameoGrant",
    "ClipFingerprint",
    "ClipRow",
    "ModerationDecision",
    "SignInAttempt",
    "Store",
    "User",
    "VisitorSignIn",
    "database_url",
    "home_dir",
    "open_store",
    "utcnow",
]
