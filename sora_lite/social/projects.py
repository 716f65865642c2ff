"""Shared storyboards: a project's owner invites people; everyone on it adds, edits and removes shots (each
change kept in `shot_edits` with who, when, before and after); only the owner renders. The rendered clip's
record and its C2PA manifest name every contributor.

Permissions work like cameo grants (`sora_lite.cameo.grants`): the acting user always comes from the caller's
session, every decision reads the database when it is asked (a revocation holds for the very next edit), and
every invitation, revocation, edit and render, allowed or refused, is in the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from sora_lite.accounts import UserInfo
from sora_lite.common.storyboard import (  # the storyboard rules every door shares
    MAX_SHOTS,
    shot_seconds,
)
from sora_lite.engines.base import MAX_PROMPT_CHARS, RequestError, has_words
from sora_lite.store import (
    ClipRow,
    Project,
    ProjectMember,
    ProjectShot,
    ShotEdit,
    Store,
    User,
    utcnow,
)
from sora_lite.store.audit import log_action

MAX_TITLE = 200
MAX_MEMBERS = 50
CAMERAS_MAX_CHARS = 32


class ProjectDenied(PermissionError):
    """The acting user may not do this to the project; the message says why."""


@dataclass
class ShotView:
    id: str
    position: int
    prompt: str
    camera: str
    seconds: float
    created_by: str
    updated_by: str


@dataclass
class EditView:
    time: str
    user: str
    action: str
    shot_id: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass
class ProjectView:
    """A project as a member sees it."""

    id: str
    title: str
    owner: str
    role: str  # owner | collaborator
    members: list[str]
    shots: list[ShotView] = field(default_factory=list)
    history: list[EditView] = field(default_factory=list)
    rendered_clip_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> list[list[Any]]:
        """Rows for the app's shot table: id, shot text, camera, seconds, last edited by."""
        return [[s.id, s.prompt, s.camera, s.seconds, s.updated_by] for s in self.shots]


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _names(session: Any) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.username)).all())


def _role(session: Any, project: Project, user: UserInfo) -> str | None:
    if not user.can_own:
        return None
    if project.owner_id == user.id:
        return "owner"
    member = session.scalar(select(ProjectMember).where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == user.id, ProjectMember.revoked_at.is_(None)))
    return "collaborator" if member is not None else None


def _refuse(store: Store, user: UserInfo, project_id: str, action: str, reason: str) -> ProjectDenied:
    with store.session() as s:  # committed before the refusal is raised
        log_action(s, user.id, "project.denied", str(project_id)[:64], {"action": action, "reason": reason})
    return ProjectDenied(reason)


def _load(store: Store, user: UserInfo, project_id: str, action: str, owner_only: bool = False) -> None:
    """Raise ProjectDenied (audited) unless `user` may do `action` on the project."""
    project_id = str(project_id or "").strip()
    with store.session() as s:
        project = s.get(Project, project_id) if project_id and len(project_id) <= 64 else None
        role = _role(s, project, user) if project is not None and project.deleted_at is None else None
    if role is None:
        reason = (f"no project {project_id[:64]!r} that you are on" if user.can_own else
                  "sign in to work on shared projects: a signed-out visitor cannot be invited")
        raise _refuse(store, user, project_id, action, reason)
    if owner_only and role != "owner":
        raise _refuse(store, user, project_id, action, f"only the owner of the project can {action.replace('_', ' ')}")


def _view(session: Any, project: Project, user: UserInfo) -> ProjectView:
    names = _names(session)
    members = session.scalars(select(ProjectMember).where(ProjectMember.project_id == project.id,
                                                          ProjectMember.revoked_at.is_(None)).order_by(ProjectMember.id))
    shots = session.scalars(select(ProjectShot).where(ProjectShot.project_id == project.id, ProjectShot.removed_at.is_(None))
                            .order_by(ProjectShot.position, ProjectShot.created_at))
    edits = session.scalars(select(ShotEdit).where(ShotEdit.project_id == project.id).order_by(ShotEdit.id))
    return ProjectView(
        id=project.id, title=project.title, owner=names.get(project.owner_id, "?"),
        role="owner" if project.owner_id == user.id else "collaborator",
        members=[names.get(m.user_id, "?") for m in members],
        shots=[ShotView(s.id, i + 1, s.prompt, s.camera, s.seconds, names.get(s.created_by, "?"), names.get(s.updated_by, "?"))
               for i, s in enumerate(shots)],
        history=[EditView(e.time.isoformat(), names.get(e.user_id, "?"), e.action, e.shot_id, e.before or {}, e.after or {})
                 for e in edits],
        rendered_clip_id=project.rendered_clip_id,
    )


def _check_shot(prompt: Any, camera: Any, seconds: Any) -> dict[str, Any]:
    if not isinstance(prompt, str) or not has_words(prompt):
        raise RequestError("a shot needs a text describing it")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise RequestError(f"the shot text is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    camera = str(camera or "static").strip() or "static"
    if len(camera) > CAMERAS_MAX_CHARS:
        raise RequestError(f"the camera move is {len(camera)} characters; the limit is {CAMERAS_MAX_CHARS}")
    return {"prompt": prompt.strip(), "camera": camera, "seconds": shot_seconds(seconds)}


def create_project(store: Store, owner: UserInfo, title: str) -> ProjectView:
    if not owner.can_own:
        raise ProjectDenied("sign in to start a shared project: a signed-out visitor cannot own one")
    title = " ".join(str(title or "").split())
    if not title:
        raise RequestError("give the project a title")
    if len(title) > MAX_TITLE:
        raise RequestError(f"the title is {len(title)} characters; the limit is {MAX_TITLE}")
    with store.session() as s:
        project = Project(id=_new_id(), owner_id=owner.id, title=title)
        s.add(project)
        s.flush()
        log_action(s, owner.id, "project.create", project.id, {"title": title})
        return _view(s, project, owner)


def get_project(store: Store, user: UserInfo, project_id: str) -> ProjectView:
    _load(store, user, project_id, "open")
    with store.session() as s:
        return _view(s, s.get(Project, project_id.strip()), user)


def list_projects(store: Store, user: UserInfo) -> list[dict[str, Any]]:
    """The projects `user` owns or is invited to (not revoked), newest first."""
    if not user.can_own:
        return []
    with store.session() as s:
        names = _names(s)
        member_of = select(ProjectMember.project_id).where(ProjectMember.user_id == user.id, ProjectMember.revoked_at.is_(None))
        rows = s.scalars(select(Project).where(Project.deleted_at.is_(None),
                                               (Project.owner_id == user.id) | Project.id.in_(member_of))
                         .order_by(Project.created_at.desc()))
        return [{"id": p.id, "title": p.title, "owner": names.get(p.owner_id, "?"),
                 "role": "owner" if p.owner_id == user.id else "collaborator"} for p in rows]


def invite(store: Store, owner: UserInfo, project_id: str, username: str) -> ProjectView:
    """The owner opens the project to one more signed-in user (by username)."""
    _load(store, owner, project_id, "invite", owner_only=True)
    username = str(username or "").strip()
    with store.session() as s:
        project = s.get(Project, project_id.strip())
        invitee = s.scalar(select(User).where(User.username == username)) if username else None
        if invitee is None or invitee.provider in ("guest", "anonymous"):
            raise LookupError(f"no user named {username!r} who can be invited (they need an account)")
        if invitee.id == owner.id:
            raise RequestError("you own this project already")
        live = s.scalars(select(ProjectMember).where(ProjectMember.project_id == project.id,
                                                     ProjectMember.revoked_at.is_(None))).all()
        if any(m.user_id == invitee.id for m in live):
            return _view(s, project, owner)
        if len(live) >= MAX_MEMBERS:
            raise RequestError(f"a project may have at most {MAX_MEMBERS} collaborators")
        s.add(ProjectMember(project_id=project.id, user_id=invitee.id, invited_by=owner.id))
        log_action(s, owner.id, "project.invite", project.id, {"user": invitee.username, "user_id": invitee.id})
        s.flush()
        return _view(s, project, owner)


def revoke(store: Store, owner: UserInfo, project_id: str, username: str) -> ProjectView:
    """The owner takes an invitation back: from the next request on, that user can neither see nor edit."""
    _load(store, owner, project_id, "revoke", owner_only=True)
    with store.session() as s:
        project = s.get(Project, project_id.strip())
        user_id = s.scalar(select(User.id).where(User.username == str(username or "").strip()))
        live = s.scalars(select(ProjectMember).where(ProjectMember.project_id == project.id, ProjectMember.user_id == user_id,
                                                     ProjectMember.revoked_at.is_(None))).all() if user_id else []
        if not live:
            raise LookupError(f"{username!r} is not on this project")
        for member in live:
            member.revoked_at = utcnow()
        log_action(s, owner.id, "project.revoke", project.id, {"user": username, "user_id": user_id})
        return _view(s, project, owner)


def _shot_dict(shot: ProjectShot) -> dict[str, Any]:
    return {"prompt": shot.prompt, "camera": shot.camera, "seconds": shot.seconds, "position": shot.position}


def add_shot(store: Store, user: UserInfo, project_id: str, prompt: str, camera: str = "static",
             seconds: float | str | None = None) -> ProjectView:
    _load(store, user, project_id, "add_shot")
    clean = _check_shot(prompt, camera, seconds)
    with store.session() as s:
        project = s.get(Project, project_id.strip())
        live = s.scalars(select(ProjectShot).where(ProjectShot.project_id == project.id, ProjectShot.removed_at.is_(None))).all()
        if len(live) >= MAX_SHOTS:
            raise RequestError(f"a storyboard may have at most {MAX_SHOTS} shots")
        shot = ProjectShot(id=_new_id(), project_id=project.id, position=max([x.position for x in live], default=0.0) + 1.0,
                           created_by=user.id, updated_by=user.id, **clean)
        s.add(shot)
        s.add(ShotEdit(project_id=project.id, shot_id=shot.id, user_id=user.id, action="add", before={}, after=_shot_dict(shot)))
        log_action(s, user.id, "project.shot_add", project.id, {"shot_id": shot.id})
        s.flush()
        return _view(s, project, user)


def _live_shot(session: Any, project: Project, shot_id: str) -> ProjectShot:
    """A shot of `project` that has not been removed; LookupError naming the id otherwise."""
    shot = session.get(ProjectShot, str(shot_id or "").strip()[:64])
    if shot is None or shot.project_id != project.id or shot.removed_at is not None:
        raise LookupError(f"no shot {str(shot_id)[:64]!r} in this project")
    return shot


def edit_shot(store: Store, user: UserInfo, project_id: str, shot_id: str, prompt: str | None = None,
              camera: str | None = None, seconds: float | str | None = None) -> ProjectView:
    """Change a shot's text, camera or length (None keeps a field); the change goes into the history."""
    _load(store, user, project_id, "edit_shot")
    with store.session() as s:
        project = s.get(Project, project_id.strip())
        shot = _live_shot(s, project, shot_id)
        before = _shot_dict(shot)
        clean = _check_shot(shot.prompt if prompt in (None, "") else prompt, camera if camera not in (None, "") else shot.camera,
                            shot.seconds if seconds in (None, "") else seconds)
        for key, value in clean.items():
            setattr(shot, key, value)
        shot.updated_by, shot.updated_at = user.id, utcnow()
        after = _shot_dict(shot)
        if after != before:
            s.add(ShotEdit(project_id=project.id, shot_id=shot.id, user_id=user.id, action="edit", before=before, after=after))
            log_action(s, user.id, "project.shot_edit", project.id, {"shot_id": shot.id})
        s.flush()
        return _view(s, project, user)


def remove_shot(store: Store, user: UserInfo, project_id: str, shot_id: str) -> ProjectView:
    _load(store, user, project_id, "remove_shot")
    with store.session() as s:
        project = s.get(Project, project_id.strip())
        shot = _live_shot(s, project, shot_id)
        shot.removed_at = utcnow()
        s.add(ShotEdit(project_id=project.id, shot_id=shot.id, user_id=user.id, action="remove", before=_shot_dict(shot), after={}))
        log_action(s, user.id, "project.shot_remove", project.id, {"shot_id": shot.id})
        s.flush()
        return _view(s, project, user)


def contributors(store: Store, project_id: str) -> list[str]:
    """The owner first, then everyone who added, edited or removed a shot, in the order they first did."""
    with store.session() as s:
        project = s.get(Project, project_id)
        names = _names(s)
        order = [project.owner_id]
        for user_id in s.scalars(select(ShotEdit.user_id).where(ShotEdit.project_id == project_id).order_by(ShotEdit.id)):
            if user_id not in order:
                order.append(user_id)
        return [names.get(u, "?") for u in order]


def render_project(studio: Any, owner: UserInfo, project_id: str, progress: Any = None, cancel: Any = None,
                   preview: Any = None, **fields: Any) -> Any:
    """The owner renders the project's shots as one storyboard clip (through `Studio.storyboard`, so moderation,
    cameo grants, marks and signing are the same as for any clip); the clip's record and C2PA claims list
    every contributor, and the clip is linked to the project."""
    store = studio.store
    _load(store, owner, project_id, "render", owner_only=True)
    project_id = project_id.strip()
    view = get_project(store, owner, project_id)
    if not view.shots:
        raise RequestError("the project has no shots yet: add at least one")
    names = contributors(store, project_id)
    shots = [{"prompt": s.prompt, "camera": s.camera, "seconds": s.seconds} for s in view.shots]
    options = {**dict(fields.pop("options", None) or {}), "contributors": names, "project_id": project_id}
    record = studio.storyboard(shots, user=owner, progress=progress, cancel=cancel, preview=preview, options=options, **fields)
    project_info = {"id": project_id, "title": view.title, "contributors": names,
                    "shots": [{"shot_id": s.id, "by": s.created_by, "last_edited_by": s.updated_by} for s in view.shots]}
    with store.session() as s:
        row = s.get(ClipRow, record.id)
        row.project_id = project_id
        row.info = {**(row.info or {}), "project": project_info}
        s.get(Project, project_id).rendered_clip_id = record.id
        log_action(s, owner.id, "project.render", project_id, {"clip_id": record.id, "contributors": names})
    record.info = {**record.info, "project": project_info}
    return record
