"""Who is acting: the local default user, per-browser guests, username/password accounts, Hugging Face profiles.

Passwords are stored as scrypt hashes with a per-user random salt and compared in constant time.
Hugging Face users live under an `hf:` prefix and guests under `guest:`, so a local account (whose names
cannot contain ':') can never impersonate either.

A browser is known by its signed visitor cookie (`sora_lite.visitors`), never by Gradio's session hash.
Signing in binds that visitor id to the account here, in the database (`VisitorSignIn`); signing out unbinds
it. Guessing is throttled per account name and per client address (`SignInAttempt` rows): growing waits
after a few failures, then a temporary lock, each lock audited. "No such user" and "wrong password" get
the same message, and a sign-up that picks a taken name hears "taken or reserved", like a reserved name.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from sora_lite.store import AuditEntry, SignInAttempt, Store, User, VisitorSignIn, utcnow
from sora_lite.store.audit import log_action

LOCAL_USERNAME = "local"
ANONYMOUS_USERNAME = "anonymous"
GUEST_PREFIX = "guest:"
RESERVED = {LOCAL_USERNAME, ANONYMOUS_USERNAME, "admin", "root"}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
# scrypt cost: 16 MiB of memory per hash, ~50 ms on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 2**14, 8, 1, 32
SIGN_IN_DAYS = 14  # a browser stays signed in this long unless it signs out


@dataclass(frozen=True)
class Throttle:
    """How guessing is slowed. After `free` failures (typos happen) each further try must wait twice as long
    as the last (`first_wait_s`, then 2x, 4x ...); at `lock_after` failures the key is locked for `lock_s`.
    Failures count over `window_s` and since the key's last success. Keys: the account name, the client."""

    free: int
    first_wait_s: float
    lock_after: int
    lock_s: float
    window_s: float

    def wait_s(self, failures: int, since_last_s: float) -> float:
        """Seconds still to wait before the next try is heard (0: go ahead)."""
        if failures >= self.lock_after:
            return max(0.0, self.lock_s - since_last_s)
        if failures <= self.free:
            return 0.0
        return max(0.0, self.first_wait_s * 2 ** (failures - self.free - 1) - since_last_s)


ACCOUNT_THROTTLE = Throttle(free=2, first_wait_s=2.0, lock_after=5, lock_s=15 * 60, window_s=15 * 60)
CLIENT_THROTTLE = Throttle(free=4, first_wait_s=2.0, lock_after=10, lock_s=15 * 60, window_s=15 * 60)
SIGN_UPS_PER_CLIENT_HOUR = 20
_THROTTLE_LOCK = threading.Lock()  # check + verify + record as one step, so parallel guesses cannot race past


class AccountError(ValueError):
    """A username or password that cannot be used; the message says what to change."""


class LoginFailed(PermissionError):
    """Wrong username or password (deliberately not saying which)."""


class LoginThrottled(PermissionError):
    """Too many failed tries for this account name or from this client; the message says how long to wait."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass(frozen=True)
class UserInfo:
    """The acting user as the library sees it. provider: local | password | hf | guest | anonymous.

    guest: one signed-out browser (its own visitor cookie); anonymous: the old shared signed-out identity."""

    id: int
    username: str
    display_name: str
    provider: str

    @property
    def can_own(self) -> bool:
        """Whether this is a lasting identity that may hold a likeness (cameo) or ask for someone's: an account,
        a Hugging Face user or the one local user; signed-out visitors (guests, anonymous) may not."""
        return self.provider not in ("anonymous", "guest")

    @property
    def can_own_clips(self) -> bool:
        """Whether clips made by this user are theirs to delete: a guest owns its own browser's clips;
        the shared anonymous identity owns nothing."""
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


def guest_user(store: Store, visitor_id: str) -> UserInfo:
    """A signed-out browser's own identity (from its signed visitor cookie): may make and delete its own
    clips, may not hold or ask for a cameo."""
    if not isinstance(visitor_id, str) or not re.fullmatch(r"[0-9a-f]{16,64}", visitor_id):
        raise AccountError("not a visitor id")
    return _get_or_create(store, f"{GUEST_PREFIX}{visitor_id[:24]}", "guest", f"Guest {visitor_id[:6]}")


def _check_credentials(username: str, password: str) -> str:
    if not isinstance(username, str) or not isinstance(password, str):
        raise AccountError("username and password must be text")
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("a username is 3 to 32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
    if name in RESERVED:
        raise AccountError(TAKEN)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return name


TAKEN = "that username is taken or reserved; pick another"


def _failures(s: Any, column: Any, key: str, now: datetime, window_s: float) -> tuple[int, float]:
    """(failed tries for `key` in the window since its last success, seconds since the latest of them)."""
    since = now - timedelta(seconds=window_s)
    last_ok = s.scalar(select(func.max(SignInAttempt.time)).where(column == key, SignInAttempt.ok.is_(True),
                                                                   SignInAttempt.kind == "sign_in"))
    if last_ok is not None and last_ok > since:
        since = last_ok
    count, latest = s.execute(select(func.count(SignInAttempt.id), func.max(SignInAttempt.time)).where(
        column == key, SignInAttempt.ok.is_(False), SignInAttempt.time > since)).one()
    return int(count or 0), (now - latest).total_seconds() if latest is not None else math.inf


def _throttle_check(store: Store, name: str, client: str, now: datetime) -> None:
    """LoginThrottled while `name` or `client` must still wait; the refusal is audited (once a minute per
    name, so a flood of refused tries cannot flood the log)."""
    with store.session() as s:
        wait = _throttle_wait(s, name, client, now)
    if wait <= 0:
        return
    with store.session() as s:
        recent = s.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "account.sign_in_throttled", AuditEntry.subject == name,
            AuditEntry.time > now - timedelta(seconds=60)))
        if not recent:
            log_action(s, None, "account.sign_in_throttled", name, {"client": client, "wait_s": round(wait, 1)})
    minutes = f"{math.ceil(wait / 60)} minute(s)" if wait >= 60 else f"{math.ceil(wait)} s"
    raise LoginThrottled(f"too many failed sign-ins for this account or from this address: try again in {minutes}", wait)


def _throttle_wait(s: Any, name: str, client: str, now: datetime) -> float:
    waits = []
    n_name, ago_name = _failures(s, SignInAttempt.username, name, now, ACCOUNT_THROTTLE.window_s)
    waits.append(ACCOUNT_THROTTLE.wait_s(n_name, ago_name))
    if client:
        n_client, ago_client = _failures(s, SignInAttempt.client, client, now, CLIENT_THROTTLE.window_s)
        waits.append(CLIENT_THROTTLE.wait_s(n_client, ago_client))
    return max(waits)


def _record_attempt(s: Any, name: str, client: str, ok: bool, kind: str, now: datetime) -> None:
    s.add(SignInAttempt(time=now, username=name, client=client or "", kind=kind, ok=ok))
    if ok or kind != "sign_in":
        return
    s.flush()
    n_name, _ = _failures(s, SignInAttempt.username, name, now + timedelta(microseconds=1), ACCOUNT_THROTTLE.window_s)
    if n_name == ACCOUNT_THROTTLE.lock_after:
        log_action(s, None, "account.locked", name, {"client": client, "failures": n_name,
                                                      "minutes": ACCOUNT_THROTTLE.lock_s / 60})
    if client:
        n_client, _ = _failures(s, SignInAttempt.client, client, now + timedelta(microseconds=1), CLIENT_THROTTLE.window_s)
        if n_client == CLIENT_THROTTLE.lock_after:
            log_action(s, None, "client.locked", client, {"failures": n_client, "minutes": CLIENT_THROTTLE.lock_s / 60})


def create_account(store: Store, username: str, password: str, display_name: str | None = None,
                   client: str = "") -> UserInfo:
    """Register a username/password account; AccountError if the name is invalid, taken or reserved (one
    message for both), LoginThrottled when this client created or probed too many names lately."""
    name = _check_credentials(username, password)
    with _THROTTLE_LOCK:
        now = utcnow()
        if client:
            _throttle_check(store, name, client, now)
            with store.session() as s:
                made = s.scalar(select(func.count(SignInAttempt.id)).where(
                    SignInAttempt.client == client, SignInAttempt.kind == "sign_up", SignInAttempt.ok.is_(True),
                    SignInAttempt.time > now - timedelta(hours=1)))
            if made >= SIGN_UPS_PER_CLIENT_HOUR:
                with store.session() as s:
                    log_action(s, None, "account.sign_up_throttled", name, {"client": client})
                raise LoginThrottled("too many accounts were created from this address in the last hour; "
                                     "try again later", 3600.0)
        with store.session() as s:
            if s.scalar(select(User).where(User.username == name)) is not None:
                # a taken name counts as a failed try for this client: probing names soon meets the same waits
                # (committed in its own transaction, since the refusal below rolls this one back)
                taken = True
            else:
                taken = False
                user = User(username=name, provider="password", display_name=display_name or name,
                            password_hash=hash_password(password))
                s.add(user)
                s.flush()
                log_action(s, user.id, "user.create", name, {"provider": "password"})
                _record_attempt(s, name, client, True, "sign_up", now)
                info = _info(user)
        if taken:
            with store.session() as s:
                s.add(SignInAttempt(time=now, username="", client=client or "", kind="sign_up", ok=False))
                log_action(s, None, "account.sign_up_refused", name, {"client": client})
            raise AccountError(TAKEN)
        return info


def authenticate(store: Store, username: str, password: str, client: str = "") -> UserInfo:
    """The account for these credentials, LoginFailed (one message whether the name exists or not), or
    LoginThrottled while the name or the client must wait. `client` is the caller's address (or "")."""
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    name = name[:96]
    with _THROTTLE_LOCK:
        now = utcnow()
        _throttle_check(store, name, client, now)
        with store.session() as s:
            user = s.scalar(select(User).where(User.username == name, User.provider == "password"))
            stored = user.password_hash if user is not None else None
            # Hash even for unknown users so timing does not reveal which usernames exist.
            ok = verify_password(password if isinstance(password, str) else "", stored or _DUMMY_HASH)
            good = user is not None and bool(stored) and ok
            info = _info(user) if good else None
        with store.session() as s:  # a failed sign-in is audited too (the name tried, never the password)
            log_action(s, info.id if info else None, "account.sign_in" if good else "account.sign_in_failed", name,
                       {"client": client} if client else {})
            _record_attempt(s, name, client, good, "sign_in", now)
    if info is None:
        raise LoginFailed("wrong username or password")
    return info


# hash_password("x" * MIN_PASSWORD), written out: computing it at import cost every CLI run one scrypt (~0.05-0.4 s);
# it only has to cost what a real hash costs to verify (tests/test_cli_start.py checks that it does).
_DUMMY_HASH = ("scrypt$16384$8$1$dabf97818bef6875609c3dad2cff95a1$"
               "25ff454746b424fc881d5237a2ead25b85a359e8bbf9ea40c15a6848532a8c4c")


def sign_in_visitor(store: Store, visitor_id: str, user: UserInfo) -> None:
    """Bind a browser (its signed visitor id) to `user` for SIGN_IN_DAYS; replaces any earlier binding."""
    if not visitor_id:
        raise AccountError("this browser has no visitor cookie; reload the page and sign in again")
    with store.session() as s:
        row = s.get(VisitorSignIn, visitor_id)
        expires = utcnow() + timedelta(days=SIGN_IN_DAYS)
        if row is None:
            s.add(VisitorSignIn(visitor_id=visitor_id, user_id=user.id, expires_at=expires))
        else:
            row.user_id, row.created_at, row.expires_at = user.id, utcnow(), expires


def sign_out_visitor(store: Store, visitor_id: str) -> None:
    """Forget the browser's sign-in (audited when there was one)."""
    if not visitor_id:
        return
    with store.session() as s:
        row = s.get(VisitorSignIn, visitor_id)
        if row is not None:
            log_action(s, row.user_id, "account.sign_out", "", {})
            s.delete(row)


def signed_in_user(store: Store, visitor_id: str | None) -> UserInfo | None:
    """The account this browser signed in to, or None (never signed in, signed out, or expired)."""
    if not visitor_id:
        return None
    with store.session() as s:
        row = s.get(VisitorSignIn, visitor_id)
        if row is None or row.expires_at < utcnow():
            return None
        user = s.get(User, row.user_id)
        return _info(user) if user is not None else None


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


def acting_user(store: Store, *, profile: Any = None, visitor: str | None = None, single_user: bool = True,
                username: str | None = None, public: bool = False) -> UserInfo:
    """Who a request acts as: the Hugging Face profile, else the account this browser (`visitor`, from its
    signed cookie) signed in to, else — signed out — the local user in single-user mode, or the browser's
    own guest identity. `username` is for trusted in-process callers only (CLI, tests), never a request."""
    if profile is not None:
        return user_from_hf_profile(store, profile)
    if username:
        return get_user(store, username)
    signed_in = signed_in_user(store, visitor)
    if signed_in is not None:
        return signed_in
    if single_user and not public:
        return local_user(store)
    if visitor:
        return guest_user(store, visitor)
    return anonymous_user(store)
