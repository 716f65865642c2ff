"""Who is at the other end of a request: a random visitor id in a signed, HttpOnly cookie.

Gradio names a browser tab by a `session_hash` that the client itself picks and sends in query strings
(`GET /gradio_api/queue/data?session_hash=...`), so it lands in proxy logs: it is no credential. Each
browser (and each `gradio_client.Client`, which keeps the cookies of its first response) instead gets a
visitor id of 128 random bits, signed with this instance's secret (HMAC-SHA256) so it cannot be forged or
guessed. Accounts bind to the visitor id (`accounts.sign_in_visitor`); a session hash, once used by one
visitor, is refused to every other (`SessionOwners`), so knowing it gives nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

COOKIE = "sora_lite_visitor"
COOKIE_MAX_AGE_S = 180 * 24 * 3600
SECRET_ENV = "SORA_LITE_COOKIE_SECRET"
_VERSION = "v1"


def cookie_secret(home: str | Path) -> bytes:
    """`$SORA_LITE_COOKIE_SECRET` (several app processes must share it), else 32 random bytes kept in
    `home/keys/visitor_cookie.key` (0600, created on first start)."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return hashlib.sha256(env.encode()).digest()
    path = Path(home) / "keys" / "visitor_cookie.key"
    if path.is_file():
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:32]
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    data = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes()[:32]
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


def _mac(secret: bytes, visitor_id: str) -> str:
    digest = hmac.new(secret, f"sora-lite visitor {_VERSION} {visitor_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def visitor_token(secret: bytes, visitor_id: str) -> str:
    """The cookie value for `visitor_id`: `v1.<id>.<mac>`."""
    return f"{_VERSION}.{visitor_id}.{_mac(secret, visitor_id)}"


def visitor_from_token(secret: bytes, token: str | None) -> str | None:
    """The visitor id a cookie value carries, or None when it is missing, malformed or not signed by us."""
    if not token or not isinstance(token, str) or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != _VERSION or len(parts[1]) != 32:
        return None
    if not all(c in "0123456789abcdef" for c in parts[1]):
        return None
    return parts[1] if hmac.compare_digest(parts[2], _mac(secret, parts[1])) else None


class SessionOwners:
    """Which visitor first used each Gradio session hash; a different visitor presenting it is refused.
    Bounded (least recently used forgotten first): a forgotten hash is simply claimed again."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def claim(self, session_hash: str, visitor_id: str) -> bool:
        """True when `session_hash` is new or already this visitor's; False when another visitor holds it."""
        if not session_hash:
            return True
        with self._lock:
            owner = self._owners.get(session_hash)
            if owner is None:
                self._owners[session_hash] = visitor_id
                if len(self._owners) > self._capacity:
                    self._owners.popitem(last=False)
                return True
            self._owners.move_to_end(session_hash)
            return hmac.compare_digest(owner, visitor_id)


SINGLE_USER_ENV = "SORA_LITE_SINGLE_USER"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def single_user_mode(server_name: str | None, on_space: bool = False) -> bool:
    """Whether signed-out visitors are the one local user (a laptop) or each their own guest (a network).

    `$SORA_LITE_SINGLE_USER` decides when set (1/true/yes/on or 0/false/no/off); otherwise single-user only
    when the server listens on a loopback address (Gradio's default, 127.0.0.1) and is not a Space."""
    value = os.environ.get(SINGLE_USER_ENV, "").strip().lower()
    if value:
        return value in ("1", "true", "yes", "on")
    if on_space:
        return False
    name = server_name or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    return name.strip().lower() in LOOPBACK
