"""Who may use a cameo: only me / people I approve / everyone; requests, approvals, revocation, the use check.

A cameo is usable (by anyone, its owner included) only once it is verified with a live selfie video
(`verification`): a photo can be anyone's, so a photo-only cameo is refused with the reason.

Every decision reads the database at the moment it is asked, so a revocation takes effect for the next check
(there is no cache to expire). Every grant, denial, revocation and use — allowed or refused — is written to
the audit log; a refused use is logged in its own transaction, committed before the refusal is raised.

Replay protection: an access request carries a single-use approval nonce (shown to the owner only). Approving
or denying needs the nonce and consumes it, so the same approval sent twice (or again after a revocation)
is refused instead of granting a second time. The acting user always comes from the caller's session
(`UserInfo`), never from a user id in the request.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sora_lite.accounts import UserInfo
from sora_lite.cameo.registry import (
    VISIBILITIES,
    CameoError,
    CameoNotFound,
    cameo_info,
    live_cameo_row,
)
from sora_lite.common.errors import RequestError
from sora_lite.common.handles import HandleError, normalize_handle
from sora_lite.store import Cameo, CameoGrant, Store, User, utcnow
from sora_lite.store.audit import log_action

VISIBILITY_WORDS = {"only_me": "only me", "approved": "people I approve", "everyone": "everyone"}


class CameoDenied(RequestError):
    """A use of a cameo that is not allowed (no live grant, revoked, deleted ...): the message says why."""

    def __init__(self, message: str, handle: str = "") -> None:
        super().__init__(message)
        self.handle = handle


@dataclass
class Grant:
    """Why `user` may use the cameo `handle` right now. kind: owner | everyone | approved."""

    cameo_id: str
    handle: str
    owner: str
    user: str
    kind: str
    grant_id: int | None
    since: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AccessRequest:
    """A request to use a cameo. `nonce` is the single-use approval token: filled in for the owner only."""

    id: int
    handle: str
    requester: str
    status: str  # pending | approved | denied | revoked
    created_at: str
    decided_at: str | None = None
    nonce: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GrantList:
    """Who may use a cameo: the owner, everyone (when open), approved users; pending and past requests."""

    handle: str
    owner: str
    visibility: str
    approved: list[dict[str, Any]]
    pending: list[AccessRequest]
    history: list[AccessRequest]

    def to_dict(self) -> dict[str, Any]:
        return {
            "handle": self.handle, "owner": self.owner, "visibility": self.visibility,
            "visibility_words": VISIBILITY_WORDS[self.visibility], "approved": self.approved,
            "pending": [r.to_dict() for r in self.pending], "history": [r.to_dict() for r in self.history],
        }


# --- helpers ------------------------------------------------------------------------------------------------


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _owned_row(session: Session, owner: UserInfo, handle: str) -> Cameo:
    try:
        row = live_cameo_row(session, handle)
    except HandleError as e:
        raise CameoError(str(e)) from None
    if row.user_id != owner.id:
        raise PermissionError(f"@{row.name} is not your cameo: only its owner may change who uses it")
    return row


def _request(grant: CameoGrant, handle: str, requester: str, for_owner: bool) -> AccessRequest:
    d = grant.details or {}
    status = d.get("status", "approved")
    if status == "approved" and grant.revoked_at is not None:
        status = "revoked"
    return AccessRequest(
        id=grant.id, handle=handle, requester=requester, status=status, created_at=_iso(grant.created_at) or "",
        decided_at=d.get("decided_at"), nonce=(d.get("nonce") or "") if for_owner and status == "pending" else "",
    )


def _user_row(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower().lstrip("@")))
    if user is None:
        raise CameoError(f"there is no user named {username!r}")
    return user


def _live_grants(session: Session, cameo_id: str, grantee_id: int) -> list[CameoGrant]:
    rows = session.scalars(select(CameoGrant).where(
        CameoGrant.cameo_id == cameo_id, CameoGrant.grantee_id == grantee_id, CameoGrant.revoked_at.is_(None)))
    return [g for g in rows if (g.details or {}).get("status", "approved") == "approved"]


def _pending(session: Session, cameo_id: str, grantee_id: int) -> list[CameoGrant]:
    rows = session.scalars(select(CameoGrant).where(
        CameoGrant.cameo_id == cameo_id, CameoGrant.grantee_id == grantee_id, CameoGrant.revoked_at.is_(None)))
    return [g for g in rows if (g.details or {}).get("status") == "pending"]


# --- the owner's choices --------------------------------------------------------------------------------------


def set_visibility(store: Store, owner: UserInfo, handle: str, visibility: str) -> dict[str, Any]:
    """Only me / people I approve / everyone. Narrowing takes effect for the very next use check."""
    if visibility not in VISIBILITIES:
        raise CameoError(f"visibility must be one of {', '.join(VISIBILITIES)} ({', '.join(VISIBILITY_WORDS.values())})")
    with store.session() as s:
        row = _owned_row(s, owner, handle)
        details = dict(row.details or {})
        before = details.get("visibility", "only_me")
        details["visibility"] = visibility
        details["visibility_history"] = [*details.get("visibility_history", []), [utcnow().isoformat(), visibility]]
        row.details = details
        log_action(s, owner.id, "cameo.visibility", f"@{row.name}", {"cameo_id": row.id, "from": before, "to": visibility})
        return cameo_info(row, s.get(User, owner.id)).to_dict()


def request_access(store: Store, requester: UserInfo, handle: str) -> AccessRequest:
    """Ask the owner for permission; one pending request per person and cameo."""
    if not requester.can_own:
        with store.session() as s:
            log_action(s, requester.id, "cameo.request_refused", f"@{handle.lstrip('@')}", {"why": "not signed in"})
        raise CameoError("sign in to ask for a cameo: a signed-out visitor cannot be granted anyone's likeness")
    with store.session() as s:
        row = live_cameo_row(s, handle)
        if row.user_id == requester.id:
            raise CameoError(f"@{row.name} is your own cameo: you may always use it")
        visibility = (row.details or {}).get("visibility", "only_me")
        if visibility == "only_me":
            raise CameoDenied(f"@{row.name} is for its owner only and takes no requests", row.name)
        if visibility == "everyone":
            raise CameoError(f"@{row.name} is open to everyone: no request is needed")
        if _live_grants(s, row.id, requester.id):
            raise CameoError(f"you may already use @{row.name}")
        if _pending(s, row.id, requester.id):
            raise CameoError(f"you already asked for @{row.name}; wait for the owner's answer")
        grant = CameoGrant(cameo_id=row.id, grantee_id=requester.id,
                           details={"status": "pending", "nonce": secrets.token_urlsafe(16)})
        s.add(grant)
        s.flush()
        log_action(s, requester.id, "cameo.request", f"@{row.name}", {"cameo_id": row.id, "request_id": grant.id})
        return _request(grant, row.name, requester.username, for_owner=False)


def pending_requests(store: Store, owner: UserInfo) -> list[AccessRequest]:
    """Requests waiting for `owner`'s answer, each with its single-use approval nonce."""
    with store.session() as s:
        rows = s.execute(
            select(CameoGrant, Cameo, User)
            .join(Cameo, Cameo.id == CameoGrant.cameo_id)
            .join(User, User.id == CameoGrant.grantee_id)
            .where(Cameo.user_id == owner.id, Cameo.revoked_at.is_(None), CameoGrant.revoked_at.is_(None))
            .order_by(CameoGrant.id)
        ).all()
        return [_request(g, c.name, u.username, for_owner=True) for g, c, u in rows
                if (g.details or {}).get("status") == "pending"]


def _decide(store: Store, owner: UserInfo, request_id: int, nonce: str, approve: bool) -> tuple[AccessRequest, Grant | None]:
    action = "approve" if approve else "deny"
    with store.session() as s:
        grant = s.get(CameoGrant, int(request_id)) if str(request_id).strip().lstrip("-").isdigit() else None
        if grant is None:
            raise CameoError(f"there is no access request {request_id!r}")
        row = s.get(Cameo, grant.cameo_id)
        if row is None or row.user_id != owner.id:
            log_action(s, owner.id, f"cameo.{action}.refused", f"request:{request_id}", {"reason": "not the owner"})
            refused = PermissionError("this request is for someone else's cameo: only its owner may answer it")
        elif row.revoked_at is not None:
            refused = CameoError(f"@{row.name} was deleted")
        else:
            details = dict(grant.details or {})
            if details.get("status") != "pending":
                log_action(s, owner.id, f"cameo.{action}.replay", f"@{row.name}", {"request_id": grant.id, "status": details.get("status")})
                refused = CameoDenied(
                    f"request {grant.id} was already answered ({details.get('status')}): its approval token is used up, "
                    "so a repeated request is refused", row.name)
            elif not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), str(details.get("nonce", "")).encode()):
                log_action(s, owner.id, f"cameo.{action}.refused", f"@{row.name}", {"request_id": grant.id, "reason": "bad nonce"})
                refused = CameoDenied("the approval token does not match this request: reload the list of requests", row.name)
            else:
                now = utcnow()
                details.update(status="approved" if approve else "denied", decided_at=now.isoformat(),
                               nonce_used_at=now.isoformat(), approved_at=now.isoformat() if approve else None)
                grant.details = details
                requester = s.get(User, grant.grantee_id)
                log_action(s, owner.id, f"cameo.{action}", f"@{row.name}",
                           {"cameo_id": row.id, "request_id": grant.id, "grantee": requester.username if requester else None})
                s.flush()
                req = _request(grant, row.name, requester.username if requester else "?", for_owner=False)
                made = Grant(row.id, row.name, owner.username, req.requester, "approved", grant.id, now.isoformat()) if approve else None
                return req, made
    raise refused  # after the session committed, so the refusal itself stays in the audit log


def approve(store: Store, owner: UserInfo, request_id: int, nonce: str) -> Grant:
    """Say yes to one request; its nonce is consumed (a replay is refused)."""
    _, grant = _decide(store, owner, request_id, nonce, approve=True)
    assert grant is not None
    return grant


def deny(store: Store, owner: UserInfo, request_id: int, nonce: str) -> AccessRequest:
    """Say no to one request; its nonce is consumed. The person may ask again later."""
    request, _ = _decide(store, owner, request_id, nonce, approve=False)
    return request


def grant_user(store: Store, owner: UserInfo, handle: str, username: str) -> Grant:
    """Approve a person directly, without waiting for their request."""
    with store.session() as s:
        row = _owned_row(s, owner, handle)
        user = _user_row(s, username)
        if user.id == owner.id:
            raise CameoError("you may always use your own cameo")
        if (row.details or {}).get("visibility", "only_me") != "approved":
            raise CameoError(f"@{row.name} is not set to 'people I approve' (approved): set that first, then add people")
        if _live_grants(s, row.id, user.id):
            raise CameoError(f"{user.username} may already use @{row.name}")
        for pending in _pending(s, row.id, user.id):  # answered by this grant
            pending.details = {**(pending.details or {}), "status": "approved", "decided_at": utcnow().isoformat(),
                               "nonce_used_at": utcnow().isoformat(), "approved_at": utcnow().isoformat()}
            log_action(s, owner.id, "cameo.grant", f"@{row.name}", {"cameo_id": row.id, "grantee": user.username, "request_id": pending.id})
            return Grant(row.id, row.name, owner.username, user.username, "approved", pending.id, utcnow().isoformat())
        now = utcnow()
        grant = CameoGrant(cameo_id=row.id, grantee_id=user.id, details={"status": "approved", "approved_at": now.isoformat(), "direct": True})
        s.add(grant)
        s.flush()
        log_action(s, owner.id, "cameo.grant", f"@{row.name}", {"cameo_id": row.id, "grantee": user.username, "grant_id": grant.id})
        return Grant(row.id, row.name, owner.username, user.username, "approved", grant.id, now.isoformat())


def revoke(store: Store, owner: UserInfo, handle: str, username: str) -> list[AccessRequest]:
    """Take back one person's permission (and drop their pending requests); effective for the next check."""
    with store.session() as s:
        row = _owned_row(s, owner, handle)
        user = _user_row(s, username)
        visibility = (row.details or {}).get("visibility", "only_me")
        grants = _live_grants(s, row.id, user.id) + _pending(s, row.id, user.id)
        if not grants:
            hint = " (it is open to everyone: set it to 'approved' or 'only_me' to close it)" if visibility == "everyone" else ""
            raise CameoError(f"{user.username} holds no permission for @{row.name}{hint}")
        now = utcnow()
        for grant in grants:
            grant.revoked_at = now
            log_action(s, owner.id, "cameo.revoke", f"@{row.name}",
                       {"cameo_id": row.id, "grantee": user.username, "grant_id": grant.id,
                        "was": (grant.details or {}).get("status")})
        s.flush()
        return [_request(g, row.name, user.username, for_owner=False) for g in grants]


def list_grants(store: Store, owner: UserInfo, handle: str) -> GrantList:
    """Who may use the owner's cameo now, who is waiting, and what was decided before."""
    with store.session() as s:
        row = _owned_row(s, owner, handle)
        rows = s.execute(select(CameoGrant, User).join(User, User.id == CameoGrant.grantee_id)
                         .where(CameoGrant.cameo_id == row.id).order_by(CameoGrant.id)).all()
        approved, pending, history = [], [], []
        for grant, user in rows:
            req = _request(grant, row.name, user.username, for_owner=True)
            if req.status == "approved":
                approved.append({"user": user.username, "since": (grant.details or {}).get("approved_at"), "grant_id": grant.id})
            elif req.status == "pending":
                pending.append(req)
            else:
                history.append(req)
        visibility = (row.details or {}).get("visibility", "only_me")
        return GrantList(row.name, owner.username, visibility, approved, pending, history)


# --- the use check --------------------------------------------------------------------------------------------


def _visibility_at(details: dict[str, Any], at: datetime) -> str:
    current = "only_me"
    for when, value in details.get("visibility_history") or [["", details.get("visibility", "only_me")]]:
        if not when or datetime.fromisoformat(when) <= at:
            current = value
    return current


def _cameo_at(session: Session, name: str, at: datetime) -> Cameo | None:
    rows = session.scalars(select(Cameo).where(Cameo.name == name).order_by(Cameo.created_at.desc()))
    for row in rows:
        if row.created_at <= at and (row.revoked_at is None or row.revoked_at > at):
            return row
    return None


def _decide_use(session: Session, name: str, user: UserInfo, at: datetime) -> Grant | str:
    row = _cameo_at(session, name, at)
    if row is None:
        return f"there is no cameo @{name}" + (" (it was deleted by its owner)" if session.scalar(
            select(Cameo.id).where(Cameo.name == name)) else "")
    owner = session.get(User, row.user_id)
    owner_name = owner.username if owner else "?"
    details = row.details or {}
    if (details.get("verification") or {}).get("status") != "verified":  # nobody, the owner included
        mine = row.user_id == user.id and user.can_own
        return (f"@{name} is not verified yet, so nobody can use it: "
                + ("photos alone could be anyone's; record the live verification video in the Cameo tab "
                   "(Verify it is me) first" if mine else f"{owner_name} has not verified it with a live video"))
    if row.user_id == user.id and user.can_own:
        return Grant(row.id, name, owner_name, user.username, "owner", None, _iso(row.created_at) or "")
    visibility = _visibility_at(details, at)
    if visibility == "everyone":
        return Grant(row.id, name, owner_name, user.username, "everyone", None, _iso(row.created_at) or "")
    if visibility == "only_me":
        return f"@{name} may be used by its owner only"
    candidates = session.scalars(select(CameoGrant).where(CameoGrant.cameo_id == row.id, CameoGrant.grantee_id == user.id))
    for grant in candidates:
        d = grant.details or {}
        since = d.get("approved_at")
        if d.get("status") != "approved" or not since or datetime.fromisoformat(since) > at:
            continue
        if grant.revoked_at is not None and grant.revoked_at <= at:
            continue
        return Grant(row.id, name, owner_name, user.username, "approved", grant.id, since)
    revoked = any((g.details or {}).get("status") == "approved" and g.revoked_at is not None for g in session.scalars(
        select(CameoGrant).where(CameoGrant.cameo_id == row.id, CameoGrant.grantee_id == user.id)))
    if revoked:
        return f"{owner_name} revoked your permission to use @{name}"
    return f"you have no permission to use @{name}: ask {owner_name} for access first"


def check_use(
    store: Store, handle: str, user: UserInfo, at_time: datetime | None = None, *, purpose: str = "use",
    details: dict[str, Any] | None = None,
) -> Grant:
    """The live grant that lets `user` use `handle` at `at_time` (default: now), or CameoDenied.

    Logged either way: `cameo.use` (with `purpose`, e.g. prompt / store) or `cameo.denied`.
    """
    try:
        name = normalize_handle(handle)
    except HandleError as e:
        raise CameoDenied(str(e)) from None
    at = at_time or utcnow()
    with store.session() as s:
        decision = _decide_use(s, name, user, at)
        subject = f"@{name}"
        if isinstance(decision, Grant):
            log_action(s, user.id, "cameo.use", subject, {"purpose": purpose, "kind": decision.kind,
                                                          "grant_id": decision.grant_id, "cameo_id": decision.cameo_id, **(details or {})})
            return decision
        log_action(s, user.id, "cameo.denied", subject, {"purpose": purpose, "reason": decision, **(details or {})})
    raise CameoDenied(decision, name)


def may_use(session: Session, cameo_id: str, user: UserInfo) -> bool:
    """Whether `user` may use the cameo now (no logging: for the output check's own decision)."""
    row = session.get(Cameo, cameo_id)
    return row is not None and isinstance(_decide_use(session, row.name, user, utcnow()), Grant)


__all__ = [
    "AccessRequest", "CameoDenied", "CameoNotFound", "Grant", "GrantList", "VISIBILITY_WORDS", "approve",
    "check_use", "deny", "grant_user", "list_grants", "may_use", "pending_requests", "request_access", "revoke",
    "set_visibility",
]
