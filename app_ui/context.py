"""What every tab's callbacks share: the studio, who is acting (from the signed visitor cookie), this
visitor's render places, and the per-session cancel flags and live-preview frames."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from app_ui.sessions import CancelBoard, PreviewBoard
from sora_lite import accounts
from sora_lite.common.records import ClipRecord
from sora_lite.engines.catalog import EngineChoice, engine_choices
from sora_lite.fair_queue import JobLimits
from sora_lite.feed import lineage as clip_lineage
from sora_lite.feed import lineage_markdown
from sora_lite.studio import Studio
from sora_lite.visitors import SessionOwners, single_user_mode
from sora_lite.web_guard import client_address, visitor_of

ON_SPACE = bool(os.environ.get("SPACE_ID"))
# One render at a time per CPU box (MuJoCo + encoding use every core); two where a GPU does the heavy part.
RENDER_SLOTS = int(os.environ.get("SORA_LITE_RENDER_SLOTS") or (2 if shutil.which("nvidia-smi") else 1))
LIGHT_SLOTS = 8  # feed listing, parsing, sign-in: cheap, never wait behind a render
SIZES = ["128x128", "256x256", "384x384", "512x512", "640x360", "854x480", "1024x576"]


@dataclass
class Guard:
    """What `launch` needs to put the visitor guard in front of this demo, and the mode it chose."""

    secret: bytes
    limits: JobLimits = field(default_factory=JobLimits)
    owners: SessionOwners = field(default_factory=SessionOwners)
    single_user: bool | None = None  # None: decided by `launch` from the address it listens on
    trust_proxy: bool = ON_SPACE

    def is_single_user(self) -> bool:
        return self.single_user if self.single_user is not None else single_user_mode(None, on_space=ON_SPACE)


@dataclass
class Defaults:
    """What the Create and Storyboard forms start with (a small CPU Space may want smaller clips)."""

    engine: str = "world"
    size: str = "256x256"
    seconds: float = 4.0
    fps: int = 24


@dataclass
class EngineMenu:
    """The engine picker's entries (read once per demo) and the one it starts on."""

    catalog: list[EngineChoice]
    choices: list[tuple[str, str]]
    default: str

    @classmethod
    def load(cls, preferred: str) -> "EngineMenu":
        catalog = engine_choices()
        values = [c.value for c in catalog]
        return cls(catalog, [(c.label, c.value) for c in catalog], preferred if preferred in values else values[0])


@dataclass
class AppContext:
    """One demo's shared state; tabs get it instead of a dozen loose closures."""

    studio: Studio
    defaults: Defaults
    guard: Guard
    cancels: CancelBoard = field(default_factory=CancelBoard)
    previews: PreviewBoard = field(default_factory=PreviewBoard)  # the latest frame per session, shown live

    def visitor(self, http: gr.Request | None = None) -> str | None:
        if http is None:  # callbacks built elsewhere (the Cameo tab) get the request from Gradio's context
            from gradio.context import LocalContext

            http = LocalContext.request.get(None)
        return visitor_of(http, self.guard.secret)

    def client(self, http: gr.Request) -> str:
        scope = getattr(getattr(http, "request", None), "scope", None)
        if isinstance(scope, dict):
            return client_address(scope, self.guard.trust_proxy)
        return str(getattr(getattr(http, "client", None), "host", "") or "?")

    def user_of(self, session_user: str | None, profile: gr.OAuthProfile | None,
                http: gr.Request | None = None) -> accounts.UserInfo:
        """The acting user, from the signed visitor cookie (or the HF profile); `session_user` is a display
        copy only and is never trusted: someone who knows a session hash gets nothing from it."""
        return accounts.acting_user(self.studio.store, profile=profile, visitor=self.visitor(http),
                                    single_user=self.guard.is_single_user() and not ON_SPACE)

    def render_place(self, http: gr.Request | None) -> Any:
        """One of this visitor's render places (waits while its own other render runs)."""
        who = self.visitor(http)
        return self.guard.limits.running(who) if who else contextlib.nullcontext()

    def session_key(self, http: gr.Request) -> str:
        return f"{self.visitor(http)}:{http.session_hash}"

    @contextlib.contextmanager
    def render_session(self, http: gr.Request) -> Iterator[tuple[threading.Event, Callable[[int, Any], None]]]:
        """A render place plus this session's cancel flag and live-preview sink, released when the render ends."""
        key = self.session_key(http)
        with self.render_place(http):
            cancel = self.cancels.start(key)
            try:
                yield cancel, lambda i, frame: self.previews.put(key, i, frame)
            finally:
                self.cancels.finish(key, cancel)
                self.previews.clear(key)

    def public(self, record: ClipRecord) -> dict[str, Any]:
        return record.public_dict(self.studio.home)

    def outputs(self, record: ClipRecord) -> tuple[str, dict[str, Any], str]:
        """(video, record, download) as the Create and Storyboard tabs show a finished clip."""
        return record.video_path, self.public(record), record.video_path

    def lineage_markdown(self, clip_id: str, viewer: accounts.UserInfo | None = None) -> str:
        # clips that are not public (and not the viewer's) show as hidden nodes
        return lineage_markdown(clip_lineage(self.studio.store, clip_id, viewer_id=viewer.id if viewer else None))
