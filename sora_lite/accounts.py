"""Who is acting: the local default user, username/password accounts, Hugging Face OAuth profiles.

Passwords are stored as scrypt hashes with a per-user random salt and compared in constant time.
Hugging Face users live under an `hf:` prefix so a local account can never impersonate one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from sora_lite.store import Store, User
from sora_lite.store.audit import log_action

LOCAL_USERNAME = "local"
ANONYMOUS_USERNAME = "anonymous"
RESERVED = {LOCAL_USERNAME, ANONYMOUS_USERNAME, "admin", "root"}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
# scrypt cost: 16 MiB of memory per hash, ~50 ms on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32


class AccountError(ValueError):
    """A username or password that cannot be used; the message says what to change."""


class LoginFailed(PermissionError):
    """Wrong username or password (deliberately not saying which)."""


@dataclass(frozen=True)
class UserInfo:
    """The acting user as the library sees it. provider: local | password | hf | anonymous."""

    id: int
    username: str
    display_name: str
    provider: str

    @property
    def can_own(self) -> bool:
        """Whether clips made by this user are theirs to delete (the shared anonymous user owns nothing)."""
        return self.provider != "anonymous"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _info(user: User) -> UserInfo:
    return UserInfo(id=user.id, username=user.username, display_name=user.display_name or user.username, provider=user.provider)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest_hex)
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def _get_or_create(store: Store, username: str, provider: str, display_name: str) -> UserInfo:
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, provider=provider, display_name=display_name)
            s.add(user)
            s.flush()
            log_action(s, user.id, "user.create", username, {"provider": provider})
        return _info(user)


def local_user(store: Store) -> UserInfo:
    """The single user of a local install: owns (and may delete) what it makes."""
    return _get_or_create(store, LOCAL_USERNAME, "local", "Local user")


def anonymous_user(store: Store) -> UserInfo:
    """The shared identity of signed-out visitors on a public Space: may create, may not delete."""
    return _get_or_create(store, ANONYMOUS_USERNAME, "anonymous", "Anonymous")


def _check_credentials(username: str, password: str) -> str:
    if not isinstance(username, str) or not isinstance(password, str):
        raise AccountError("username and password must be text")
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("a username is 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
    if name in RESERVED:
        raise AccountError(f"the username {name!r} is reserved; pick another")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return name


def create_account(store: Store, username: str, password: str, display_name: str | None = None) -> UserInfo:
    """Register a username/password account; raises AccountError if the name is taken or invalid."""
    name = _check_credentials(username, password)
    with store.session() as s:
        if s.scalar(select(User).where(User.username == name)) is not None:
            raise AccountError(f"the username {name!r} is taken")
        user = User(username=name, provider="password", display_name=display_name or name, password_hash=hash_password(password))
        s.add(user)
        s.flush()
        log_action(s, user.id, "user.create", name, {"provider": "password"})
        return _info(user)


def authenticate(store: Store, username: str, password: str) -> UserInfo:
    """The account for these credentials, or LoginFailed."""
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == name, User.provider == "password"))
        stored = user.password_hash if user is not None else None
        # Hash even for unknown users so timing does not reveal which usernames exist.
        ok = verify_password(password if isinstance(password, str) else "", stored or hash_password("x" * MIN_PASSWORD))
        good = user is not None and bool(stored) and ok
        info = _info(user) if good else None
    with store.session() as s:  # a failed sign-in is audited too (the name tried, never the password)
        log_action(s, info.id if info else None, "account.sign_in" if good else "account.sign_in_failed", name)
    if info is None:
        raise LoginFailed("wrong username or password")
    return info


def user_from_hf_profile(store: Store, profile: Any) -> UserInfo:
    """Map a Hugging Face OAuth profile (gr.OAuthProfile or its dict) to a user, creating it on first sign-in."""
    get = profile.get if hasattr(profile, "get") else lambda k, d=None: getattr(profile, k, d)
    hf_name = get("preferred_username") or get("username")
    if not hf_name:
        raise AccountError("the Hugging Face profile has no username")
    return _get_or_create(store, f"hf:{hf_name}", "hf", get("name") or hf_name)


def get_user(store: Store, username: str) -> UserInfo:
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise LookupError(f"no user named {username!r}")
        return _info(user)


def acting_user(store: Store, *, profile: Any = None, username: str | None = None, public: bool = False) -> UserInfo:
    """Who a request acts as: the Hugging Face profile, else the signed-in account, else the local user
    (or, on a public deployment, the shared anonymous user who may create but not delete)."""
    if profile is not None:
        return user_from_hf_profile(store, profile)
    if username:
        return get_user(store, username)
    return anonymous_user(store) if public else local_user(store)
