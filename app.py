"""sora-lite in the browser: Create, Storyboard, Feed (+ Remix), Leaderboard, About.

Wiring only: every callback turns component values into one library call (`sora_lite.studio.Studio` and
friends) and the result back into component values. Each tab is built in `app_ui/<tab>.py`; this file puts
them in order and serves them. Run `python app.py`; on a Hugging Face Space the same
file runs unchanged (sign-in with `gr.LoginButton`, data under `/data` when persistent storage is on).
Named API endpoints: generate, storyboard, feed, open, remix, delete, parse; discovery, sharing and shared
projects (feed_ranked, search, creator_page, cameo_page, open_link, share_link, ...) in `app_ui/social.py`.

Who acts is never a request argument: `launch` puts `sora_lite.web_guard.VisitorGuard` in front of Gradio
(a signed HttpOnly visitor cookie per browser, session hashes bound to it, per-visitor queue limits), and
every callback asks `user_of`, which reads that cookie. `SORA_LITE_SINGLE_USER=1` (the default when the
server listens on 127.0.0.1/localhost) makes signed-out visitors the one local user, as on a laptop.
"""

import functools
import logging
import threading
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from app_ui.account import build_account_row
from app_ui.cameo_tab import build_cameo_tab
from app_ui.context import LIGHT_SLOTS, ON_SPACE, RENDER_SLOTS, SIZES, AppContext, Defaults, EngineMenu, Guard
from app_ui.create_tab import build_create_tab
from app_ui.errors import shown_errors
from app_ui.feed_tab import build_feed_tab
from app_ui.gpu import gpu
from app_ui.gpu import reservation as _reservation
from app_ui.info_tabs import ABOUT, POLICY_FILE, build_about_tab, build_leaderboard_tab, build_verify_tab
from app_ui.social import build_projects_tab
from app_ui.storyboard_tab import build_storyboard_tab
from sora_lite import __version__
from sora_lite.common.request import parse_size
from sora_lite.studio import Studio, warm_up
from sora_lite.visitors import cookie_secret, single_user_mode
from sora_lite.web_guard import GradioQueue, VisitorGuard

log = logging.getLogger("sora_lite.app")

QUEUE_SIZE = 64  # Gradio's global bound; no visitor may hold more than JobLimits' share of it
MAX_UPLOAD = "20mb"
# what other code (tests, a Space's own app file) imports from here; the tabs live in app_ui/
__all__ = ["ABOUT", "Defaults", "Guard", "LIGHT_SLOTS", "ON_SPACE", "POLICY_FILE", "RENDER_SLOTS", "SIZES",
           "build_demo", "gpu", "launch", "shown_errors"]


def build_demo(studio: Studio | None = None, defaults: Defaults | None = None,
               single_user: bool | None = None) -> gr.Blocks:
    """The whole app around one `Studio` (tests pass their own, with a temporary home). `single_user`:
    None lets `launch` decide from the address it listens on (see `sora_lite.visitors.single_user_mode`)."""
    studio = studio or Studio()
    guard = Guard(secret=cookie_secret(studio.home), single_user=single_user)
    ctx = AppContext(studio, defaults or Defaults(), guard)
    menu = EngineMenu.load(ctx.defaults.engine)
    with gr.Blocks(title="sora-lite") as demo:
        session_user = gr.State(None)
        gr.Markdown(f"# sora-lite\nText/image → video with synchronized sound, on your own machine. v{__version__}")
        build_account_row(ctx, demo, session_user)
        with gr.Tabs() as tabs:
            build_create_tab(ctx, session_user, menu)
            build_storyboard_tab(ctx, session_user, menu)
            build_feed_tab(ctx, demo, tabs, session_user)
            build_leaderboard_tab()
            build_cameo_tab(studio, session_user, ctx.user_of, shown_errors)
            build_projects_tab(studio, session_user, ctx.user_of, shown_errors, ctx.render_place,
                               gpu(_reservation(1, None, 2)), RENDER_SLOTS, parse_size, SIZES, ctx.defaults.size)
            build_verify_tab(studio)
            build_about_tab()
    # api_open=False: no direct /run/<name> POST may skip the queue (and with it the per-visitor limits)
    demo.queue(default_concurrency_limit=RENDER_SLOTS, max_size=QUEUE_SIZE, api_open=False)
    demo.sora_guard = guard  # type: ignore[attr-defined]
    return demo


def _audit(studio: Studio, action: str, details: dict[str, Any]) -> None:
    from sora_lite.store.audit import log_action

    with studio.store.session() as s:
        log_action(s, None, action, str(details.get("path", "")), details)


def launch(demo: gr.Blocks, studio: Studio, **kwargs: Any) -> Any:
    """Serve `demo` behind the visitor guard, letting Gradio hand out the studio's clip files (and nothing
    else from its home; uploads for image-to-video are kept in `inputs/`, which is not served)."""
    allowed = [str(studio.clips_dir.resolve())]
    options: dict[str, Any] = {"max_file_size": MAX_UPLOAD, "show_error": True, "allowed_paths": allowed,
                               "ssr_mode": False}
    options.update(kwargs)
    guard: Guard | None = getattr(demo, "sora_guard", None)
    if guard is not None:
        if guard.single_user is None:
            guard.single_user = single_user_mode(options.get("server_name"), on_space=ON_SPACE)
        middleware = Middleware(VisitorGuard, secret=guard.secret, owners=guard.owners, limits=guard.limits,
                                queue=GradioQueue(demo, guard.secret), trust_proxy=guard.trust_proxy,
                                on_refused=functools.partial(_audit, studio))
        app_kwargs = dict(options.pop("app_kwargs", None) or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), middleware]
        options["app_kwargs"] = app_kwargs
        log.info("sora-lite: %s mode", "single-user" if guard.single_user else "multi-user (a guest per browser)")
    return demo.launch(**options)


studio = Studio()
demo = build_demo(studio)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"sora-lite: clips and database in {studio.home}")
    # Serve first, then warm up: loading the classifier and the language detector holds the interpreter for
    # seconds, and Gradio's start-up check of the local URL must be answered before that.
    launch(demo, studio, prevent_thread_lock=True)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    demo.block_thread()
