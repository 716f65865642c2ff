"""The guard in front of the web app's routes (ASGI middleware that `app.launch` installs under Gradio):

1. every request carries a signed visitor cookie (minted on the first response: HttpOnly, SameSite=Lax,
   and `Secure; SameSite=None; Partitioned` over https so it also works inside a Space's iframe);
2. a Gradio session hash belongs to the visitor that first used it: another visitor presenting it (in a
   queue join, a cancel, the `queue/data` stream or a heartbeat) is refused, so a hash read from a proxy log
   is worth nothing;
3. every queue join is admitted by `fair_queue.JobLimits` before Gradio's queue sees it (a refusal is a 422
   whose message `gradio_client` raises and the browser shows on the form), and the render queue is kept in
   round-robin order across visitors.

`GradioQueue` is the only place that reads Gradio's queue internals (`blocks.fns`, `blocks._queue`); where
they are missing it degrades to "every job alive, order untouched", and the limits still hold.
"""

from __future__ import annotations

import json
import logging
import re
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

from sora_lite.fair_queue import JobLimits, QueueLimit, Ticket, fair_order
from sora_lite.visitors import COOKIE, COOKIE_MAX_AGE_S, SessionOwners, new_visitor_id, visitor_from_token, visitor_token

log = logging.getLogger("sora_lite.web_guard")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
MAX_JOIN_BODY = 4 * 2**20
_CALL = re.compile(r"/call/(?:v2/)?([^/]+)/?$")
_HEARTBEAT = re.compile(r"/heartbeat/([^/?]+)")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def cookie_value(cookie_header: str | None, name: str = COOKIE) -> str | None:
    if not cookie_header:
        return None
    try:
        jar = SimpleCookie()
        jar.load(cookie_header)
    except Exception:  # a malformed Cookie header: treat as none
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def client_address(scope: Scope, trust_proxy: bool) -> str:
    """The caller's address; the first X-Forwarded-For entry only behind a proxy we were told to trust."""
    if trust_proxy:
        forwarded = _header(scope, b"x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:100]
    client = scope.get("client")
    return str(client[0]) if client else "?"


class GradioQueue:
    """What the guard needs to know about a Gradio app's queue: which joins are renders, which events are
    still alive, and how to keep the render queue in fair order."""

    def __init__(self, blocks: Any, secret: bytes, render_id: str = "render") -> None:
        self.blocks, self.secret, self.render_id = blocks, secret, render_id

    def _fns(self) -> list[Any]:
        fns = getattr(self.blocks, "fns", {})
        return list(fns.values()) if isinstance(fns, dict) else list(fns)

    def kind_of(self, path: str, body: dict[str, Any]) -> str:
        fn = None
        if path.endswith("/queue/join"):
            index = body.get("fn_index")
            fns = getattr(self.blocks, "fns", {})
            fn = fns.get(index) if isinstance(fns, dict) else None
        elif (m := _CALL.search(path)) is not None:
            fn = next((f for f in self._fns() if getattr(f, "api_name", None) == m.group(1)), None)
        return "render" if fn is not None and getattr(fn, "concurrency_id", None) == self.render_id else "light"

    def alive(self, event_id: str) -> bool:
        events = getattr(getattr(self.blocks, "_queue", None), "event_ids_to_events", None)
        return True if events is None else event_id in events

    def owner(self, event: Any) -> str:
        request = getattr(event, "request", None)
        token = None
        try:
            token = request.cookies.get(COOKIE) if request is not None else None
        except Exception:
            token = None
        return visitor_from_token(self.secret, token) or str(getattr(event, "session_hash", ""))

    def reorder(self) -> None:
        """Round-robin the waiting renders across visitors (runs on the event loop, between awaits)."""
        queue = getattr(self.blocks, "_queue", None)
        waiting = getattr(getattr(queue, "event_queue_per_concurrency_id", {}).get(self.render_id), "queue", None)
        if not isinstance(waiting, list) or len(waiting) < 2:
            return
        busy = {self.owner(e) for job in (getattr(queue, "active_jobs", None) or []) if job for e in job}
        waiting[:] = fair_order(waiting, key=self.owner, busy=busy)


class VisitorGuard:
    """ASGI middleware: visitor cookie, session-hash ownership, queue admission (see the module doc)."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, secret: bytes, owners: SessionOwners | None = None,
                 limits: JobLimits | None = None, queue: GradioQueue | None = None, trust_proxy: bool = False,
                 on_refused: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        """`on_refused(action, details)` records a refusal that touched someone else (the audit log)."""
        self.app, self.secret, self.trust_proxy, self.on_refused = app, secret, trust_proxy, on_refused
        self.owners = owners or SessionOwners()
        self.limits, self.queue = limits, queue
        if limits is not None and queue is not None:
            limits.alive = queue.alive

    def _set_cookie(self, scope: Scope, token: str) -> bytes:
        https = scope.get("scheme") == "https" or (
            self.trust_proxy and (_header(scope, b"x-forwarded-proto") or "").lower() == "https")
        attrs = f"{COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; "
        attrs += "Secure; SameSite=None; Partitioned" if https else "SameSite=Lax"
        return attrs.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        token = cookie_value(_header(scope, b"cookie"))
        visitor = visitor_from_token(self.secret, token)
        set_cookie: bytes | None = None
        if visitor is None:  # a new browser (or a forged cookie): a fresh identity, seen by this request already
            visitor = new_visitor_id()
            token = visitor_token(self.secret, visitor)
            set_cookie = self._set_cookie(scope, token)
            headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"cookie"]
            others = [h.strip() for h in (_header(scope, b"cookie") or "").split(";")  # keep OAuth's and others
                      if h.strip() and not h.strip().startswith(f"{COOKIE}=")]
            headers.append((b"cookie", "; ".join([*others, f"{COOKIE}={token}"]).encode("latin-1")))
            scope = {**scope, "headers": headers}
        scope.setdefault("state", {})
        scope["state"]["sora_visitor"] = visitor

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if set_cookie is not None and message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", set_cookie)]}
            await send(message)

        path = scope.get("path", "")
        hashes = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [])
        if (m := _HEARTBEAT.search(path)) is not None:
            hashes.append(m.group(1))
        body_bytes: bytes | None = None
        body: dict[str, Any] = {}
        joining = scope.get("method") == "POST" and (path.endswith("/queue/join") or _CALL.search(path) is not None)
        if scope.get("method") == "POST" and (joining or path.endswith("/cancel")):
            body_bytes = await self._read(receive)
            if body_bytes is None:
                await self._refuse(send_with_cookie, 413, "request body too large")
                return
            try:
                parsed = json.loads(body_bytes or b"{}")
                body = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                body = {}
            if isinstance(body.get("session_hash"), str):
                hashes.append(body["session_hash"])
        for session_hash in hashes:
            if not self.owners.claim(session_hash, visitor):
                log.warning("session hash of another visitor refused on %s", path)
                await self._record("session.foreign_hash_refused", {
                    "path": path[:200], "client": client_address(scope, self.trust_proxy), "visitor": visitor[:8]})
                await self._refuse(send_with_cookie, 422 if joining else 403,
                                   "this session belongs to another browser: reload the page to get your own")
                return

        if body_bytes is not None:
            receive = self._replay(body_bytes, receive)
        ticket: Ticket | None = None
        if joining and self.limits is not None:
            kind = self.queue.kind_of(path, body) if self.queue is not None else "light"
            try:
                ticket = self.limits.admit(visitor, client_address(scope, self.trust_proxy), kind)
            except QueueLimit as refused:
                await self._refuse(send_with_cookie, 422, str(refused))
                return
        if ticket is None:
            await self.app(scope, receive, send_with_cookie)
            return
        await self._join(scope, receive, send_with_cookie, ticket)

    async def _join(self, scope: Scope, receive: Receive, send: Send, ticket: Ticket) -> None:
        """Pass the join on, then tie the ticket to the event id the queue answered (or drop it)."""
        status, chunks = 0, []

        async def capture(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message.get("status", 0))
            elif message["type"] == "http.response.body" and len(chunks) < 64:
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            event_id = None
            if status == 200:
                try:
                    event_id = json.loads(b"".join(chunks) or b"{}").get("event_id")
                except (ValueError, AttributeError):
                    event_id = None
            if event_id:
                self.limits.attach(ticket, event_id)
                if ticket.kind == "render" and self.queue is not None:
                    try:
                        self.queue.reorder()
                    except Exception:  # never let ordering break serving
                        log.exception("could not reorder the render queue")
            else:
                self.limits.drop(ticket)

    async def _record(self, action: str, details: dict[str, Any]) -> None:
        if self.on_refused is None:
            return
        import anyio.to_thread

        try:
            await anyio.to_thread.run_sync(self.on_refused, action, details)
        except Exception:  # the audit must never take the server down
            log.exception("could not record %s", action)

    @staticmethod
    async def _read(receive: Receive) -> bytes | None:
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JOIN_BODY:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    async def _refuse(send: Send, status: int, message: str) -> None:
        if status == 422:  # the shape Gradio uses for validation errors: gradio_client raises the message
            detail: Any = [{"__type__": "validate", "is_valid": False, "message": message, "parameter_name": "request"}]
        else:
            detail = message
        payload = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


def visitor_of(request: Any, secret: bytes) -> str | None:
    """The verified visitor id of a request (a `gr.Request` or a Starlette request), or None."""
    if request is None:
        return None
    try:
        token = request.cookies.get(COOKIE)
    except Exception:
        return None
    return visitor_from_token(secret, token)
