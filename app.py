"""sora-lite in the browser: Create, Storyboard, Feed (+ Remix), Leaderboard, About.

Wiring only: every callback turns component values into one library call (`sora_lite.studio.Studio` and
friends) and the result back into component values. Run `python app.py`; on a Hugging Face Space the same
file runs unchanged (sign-in with `gr.LoginButton`, data under `/data` when persistent storage is on).
Named API endpoints: generate, storyboard, feed, open, remix, delete, parse.

Who acts is never a request argument: `launch` puts `sora_lite.web_guard.VisitorGuard` in front of Gradio
(a signed HttpOnly visitor cookie per browser, session hashes bound to it, per-visitor queue limits), and
every callback asks `user_of`, which reads that cookie. `SORA_LITE_SINGLE_USER=1` (the default when the
server listens on 127.0.0.1/localhost) makes signed-out visitors the one local user, as on a laptop.
"""

import functools
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gradio as gr
from starlette.middleware import Middleware

from sora_lite import __version__, accounts
from sora_lite.cameo.app_tab import build_cameo_tab
from sora_lite.engines import Cancelled, EngineUnavailable, GenerationRequest, RequestError
from sora_lite.engines.base import MAX_PROMPT_CHARS
from sora_lite.engines.catalog import engine_choices, unavailable_note
from sora_lite.fair_queue import JobLimits
from sora_lite.feed import lineage_markdown
from sora_lite.leaderboard import LEADERBOARD_COMMAND, load_leaderboard
from sora_lite.markup import html_text, markdown_text
from sora_lite.media import MediaError
from sora_lite.studio import CancelBoard, ClipRecord, PreviewBoard, Studio, parse_scene, shots_from_table, spec_from_json, warm_up
from sora_lite.visitors import SessionOwners, cookie_secret, single_user_mode
from sora_lite.web_guard import GradioQueue, VisitorGuard, client_address, visitor_of

log = logging.getLogger("sora_lite.app")

ON_SPACE = bool(os.environ.get("SPACE_ID"))
# One render at a time per CPU box (MuJoCo + encoding use every core); two where a GPU does the heavy part.
RENDER_SLOTS = int(os.environ.get("SORA_LITE_RENDER_SLOTS") or (2 if shutil.which("nvidia-smi") else 1))
LIGHT_SLOTS = 8  # feed listing, parsing, sign-in: cheap, never wait behind a render
QUEUE_SIZE = 64  # Gradio's global bound; no visitor may hold more than JobLimits' share of it
MAX_UPLOAD = "20mb"
SIZES = ["128x128", "256x256", "384x384", "512x512", "640x360", "854x480", "1024x576"]
POLICY_FILE = Path(__file__).parent / "sora_lite" / "safety" / "policy.md"

def _reservation(engine_at: int, seconds_at: int | None, size_at: int | None) -> Callable[..., int]:
    """ZeroGPU duration from a handler's arguments: the Hub model's estimate at its recommended settings
    (`gpu_reservation_seconds`), 120 s for other engines or arguments it cannot read."""

    def duration(*args: Any, **kwargs: Any) -> int:
        from sora_lite.engines.hub.loading import DEFAULT_RESERVATION_S, gpu_reservation_seconds

        try:
            seconds = float(args[seconds_at]) if seconds_at is not None else 10.0
            size = _size(args[size_at]) if size_at is not None else (768, 512)
            return gpu_reservation_seconds(str(args[engine_at]) if engine_at is not None else "", seconds, *size)
        except Exception:  # a duration must never fail the request
            return DEFAULT_RESERVATION_S

    return duration


try:  # ZeroGPU Spaces: hold a GPU only while a render runs (the one spaces.GPU; the library never wraps again)
    import spaces

    def gpu(duration: Callable[..., int]) -> Callable[[Callable], Callable]:
        return spaces.GPU(duration=duration)
except ImportError:

    def gpu(duration: Callable[..., int]) -> Callable[[Callable], Callable]:
        return lambda fn: fn


ABOUT = f"""
## sora-lite {__version__}

**What the embedded world engine can do:** turn a prompt into a small physical scene (balls, cubes, dominoes,
pendulums, ramps, tables; colours and materials; floors; time of day and mood; camera moves: static, pan,
tilt, orbit, dolly, zoom, follow), simulate it with MuJoCo (gravity, bounces, friction, collisions), render it
headless and synthesize the sound of every contact, in sync. Storyboards keep one continuing world across
cuts; remixes start from a clip's world. Parse a prompt under *Advanced* to see which words it used and which
it ignored, and edit the scene spec directly.

**What it cannot do:** photoreal people, animals, faces, text, fluids, cloth, or anything outside its
vocabulary: unknown words are ignored (and listed), not imagined. Hub video models (when installed and their
weights downloaded) appear in the engine picker.

Every clip carries its record (seed, engine, prompt, timings); the same seed and settings give the same clip.
"""


def _policy_text() -> str:
    if POLICY_FILE.is_file():
        return POLICY_FILE.read_text(encoding="utf-8")
    return "_The content policy has not been written yet (`sora_lite/safety/policy.md`)._"


def shown_errors(fn: Callable) -> Callable:
    """Turn library errors into visible gr.Error messages; the app keeps serving after any of them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (RequestError, MediaError, EngineUnavailable, PermissionError, LookupError, ValueError) as e:
            # Gradio renders toasts as (sanitised) HTML: a message quoting user input is escaped text
            raise gr.Error(html_text(e), print_exception=False) from None
        except Cancelled:
            raise gr.Error("cancelled", print_exception=False) from None
        except RecursionError:
            raise gr.Error("the request nests too deeply to read", print_exception=False) from None
        except Exception as e:  # a bug: log it, tell the user something happened, keep serving
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"internal error ({type(e).__name__}): {html_text(e)}") from None

    return wrapper


def _progress(progress: gr.Progress) -> Callable[[str, float], None]:
    def report(stage: str, fraction: float) -> None:
        progress(max(0.0, min(1.0, float(fraction))), desc=stage)

    return report


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in str(text).lower().replace("×", "x").split("x"))
    except ValueError:
        raise RequestError(f"size must look like 256x256, got {text!r}") from None
    return width, height


def _spec(text: str | None) -> dict[str, Any] | None:
    return spec_from_json(text)


def _int(value: Any, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{name} must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise RequestError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def _public(studio: Studio, record: ClipRecord) -> dict[str, Any]:
    return record.public_dict(studio.home)


def _outputs(studio: Studio, record: ClipRecord) -> tuple[str, dict[str, Any], str]:
    return record.video_path, _public(studio, record), record.video_path


def _lineage_markdown(studio: Studio, clip_id: str) -> str:
    return lineage_markdown(studio.lineage(clip_id))


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


def build_demo(studio: Studio | None = None, defaults: Defaults | None = None,
               single_user: bool | None = None) -> gr.Blocks:
    """The whole app around one `Studio` (tests pass their own, with a temporary home). `single_user`:
    None lets `launch` decide from the address it listens on (see `sora_lite.visitors.single_user_mode`)."""
    studio = studio or Studio()
    defaults = defaults or Defaults()
    cancels = CancelBoard()
    previews = PreviewBoard()  # the latest rendered frame per session, shown live while a clip renders
    guard = Guard(secret=cookie_secret(studio.home), single_user=single_user)

    def visitor(http: gr.Request | None = None) -> str | None:
        if http is None:  # callbacks built elsewhere (the Cameo tab) get the request from Gradio's context
            from gradio.context import LocalContext

            http = LocalContext.request.get(None)
        return visitor_of(http, guard.secret)

    def client(http: gr.Request) -> str:
        scope = getattr(getattr(http, "request", None), "scope", None)
        if isinstance(scope, dict):
            return client_address(scope, guard.trust_proxy)
        return str(getattr(getattr(http, "client", None), "host", "") or "?")

    def user_of(session_user: str | None, profile: gr.OAuthProfile | None,
                http: gr.Request | None = None) -> accounts.UserInfo:
        """The acting user, from the signed visitor cookie (or the HF profile); `session_user` is a display
        copy only and is never trusted: someone who knows a session hash gets nothing from it."""
        return accounts.acting_user(studio.store, profile=profile, visitor=visitor(http),
                                    single_user=guard.is_single_user() and not ON_SPACE)

    def render_place(http: gr.Request | None) -> Any:
        """One of this visitor's render places (waits while its own other render runs)."""
        who = visitor(http)
        return guard.limits.running(who) if who else _nothing()

    # --- callbacks: one library call each ---------------------------------------------------------------
    @shown_errors
    def parse(prompt: str, spec_json: str) -> tuple[str, dict[str, Any]]:
        parsed = parse_scene(prompt, _spec(spec_json) if spec_json and spec_json.strip() else None)
        return json.dumps(parsed.spec.to_dict(), indent=2), {"used": parsed.used, "ignored": parsed.ignored}

    @gpu(_reservation(2, 3, 4))  # engine, seconds, size
    @shown_errors
    def generate(
        prompt: str, image: str | None, engine: str, seconds: float, size: str, fps: float, seed: float,
        use_spec: bool, spec_json: str, session_user: str | None, profile: gr.OAuthProfile | None,
        http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        width, height = _size(size)
        request = GenerationRequest(
            prompt=prompt or "", image=image or None, engine=engine or "world", seconds=seconds,
            width=width, height=height, fps=_int(fps, "fps"), seed=_int(seed, "seed"),
            spec=_spec(spec_json) if use_spec else None,
        )
        user = user_of(session_user, profile, http)
        key = f"{visitor(http)}:{http.session_hash}"
        with render_place(http):
            cancel = cancels.start(key)
            try:
                record = studio.generate(request, user=user, progress=_progress(progress), cancel=cancel,
                                         preview=lambda i, frame: previews.put(key, i, frame))
            finally:
                cancels.finish(key, cancel)
                previews.clear(key)
        return _outputs(studio, record)

    def stop(http: gr.Request) -> Any:
        cancels.cancel(f"{visitor(http)}:{http.session_hash}")
        return gr.Timer(active=False)

    def live_preview(http: gr.Request) -> Any:
        """The frame the running render drew last (the Timer polls this while Generate runs)."""
        got = previews.latest(f"{visitor(http)}:{http.session_hash}")
        return got[1] if got is not None else gr.skip()

    @gpu(_reservation(1, None, 2))  # engine, size
    @shown_errors
    def storyboard(
        shots: Any, engine: str, size: str, fps: float, seed: float, session_user: str | None,
        profile: gr.OAuthProfile | None, http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        rows = shots.values.tolist() if hasattr(shots, "values") else list(shots or [])
        width, height = _size(size)
        user = user_of(session_user, profile, http)
        key = f"{visitor(http)}:{http.session_hash}"
        with render_place(http):
            cancel = cancels.start(key)
            try:
                record = studio.storyboard(
                    shots_from_table(rows), user=user, progress=_progress(progress), cancel=cancel,
                    preview=lambda i, frame: previews.put(key, i, frame),
                    engine=engine or "world", width=width, height=height, fps=_int(fps, "fps"), seed=_int(seed, "seed"),
                )
            finally:
                cancels.finish(key, cancel)
                previews.clear(key)
        return _outputs(studio, record)

    @shown_errors
    def list_feed(limit: float) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        records = studio.feed(limit=_int(limit, "limit"))
        gallery = [(r.thumbnail_path or r.video_path, f"{r.user}: {r.prompt[:80]}") for r in records if r.thumbnail_path]
        return gallery, [_public(studio, r) for r in records]

    def pick(records: list[dict[str, Any]], event: gr.SelectData) -> str:
        shown = [r for r in records or [] if r.get("thumbnail_path")]
        return shown[event.index]["id"] if 0 <= event.index < len(shown) else ""

    @shown_errors
    def open_clip(clip_id: str) -> tuple[str, dict[str, Any], str]:
        record = studio.get((clip_id or "").strip())
        return record.video_path, _public(studio, record), _lineage_markdown(studio, record.id)

    @gpu(_reservation(None, None, None))  # the parent's engine is known only inside
    @shown_errors
    def remix(
        clip_id: str, prompt: str, spec_json: str, session_user: str | None, profile: gr.OAuthProfile | None,
        http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        user = user_of(session_user, profile, http)
        with render_place(http):
            record = studio.remix(
                (clip_id or "").strip(), prompt or "", spec=_spec(spec_json), user=user, progress=_progress(progress),
            )
        return record.video_path, _public(studio, record), _lineage_markdown(studio, record.id)

    @shown_errors
    def delete(clip_id: str, session_user: str | None, profile: gr.OAuthProfile | None,
               http: gr.Request) -> dict[str, Any]:
        record = studio.delete((clip_id or "").strip(), user=user_of(session_user, profile, http))
        return {"deleted": record.id}

    def who(user: accounts.UserInfo) -> str:
        if user.provider == "local":
            return "Acting as the local user (single-user mode)."
        if user.provider in ("guest", "anonymous"):
            return "Signed out: acting as a guest of this browser (your own clips only; sign in for cameos)."
        return f"Signed in as **{markdown_text(user.display_name)}**."

    @shown_errors
    def sign_in(username: str, password: str, http: gr.Request) -> tuple[str, str]:
        me = visitor(http)
        if not me:
            raise PermissionError("this browser sent no visitor cookie: reload the page, then sign in")
        user = accounts.authenticate(studio.store, username, password, client=client(http))
        accounts.sign_in_visitor(studio.store, me, user)
        return user.username, who(user)

    @shown_errors
    def sign_up(username: str, password: str, http: gr.Request) -> tuple[str, str]:
        me = visitor(http)
        if not me:
            raise PermissionError("this browser sent no visitor cookie: reload the page, then sign up")
        user = accounts.create_account(studio.store, username, password, client=client(http))
        accounts.sign_in_visitor(studio.store, me, user)
        return user.username, "Account created. " + who(user)

    def sign_out(http: gr.Request) -> tuple[None, str]:
        accounts.sign_out_visitor(studio.store, visitor(http) or "")
        return None, "Signed out. " + who(user_of(None, None, http))

    def whoami(profile: gr.OAuthProfile | None, http: gr.Request) -> str:
        try:
            return who(user_of(None, profile, http))
        except Exception:  # never let the page-load greeting fail the page
            log.exception("could not tell who is acting")
            return "Acting as: unknown (reload the page)."

    @shown_errors
    def verify(path: str | None) -> tuple[str, dict[str, Any]]:
        if not path:
            raise RequestError("upload a video to verify")
        report = studio.verify(path)
        # the summary quotes the file's own manifest (signer, claims): text, not Markdown
        return "  \n".join(markdown_text(line) for line in report.summary().splitlines()), report.to_dict()

    def show_leaderboard() -> tuple[Any, Any, str]:
        board = load_leaderboard()
        return (gr.Dataframe(board.table, visible=not board.empty), gr.BarPlot(board.plot_frame(), visible=not board.empty),
                board.message + (f"\n\n{board.notes}" if board.notes else ""))

    # --- layout -----------------------------------------------------------------------------------------
    catalog = engine_choices()
    engines = [(c.label, c.value) for c in catalog]
    values = [c.value for c in catalog]
    engine_default = defaults.engine if defaults.engine in values else values[0]
    with gr.Blocks(title="sora-lite") as demo:
        session_user = gr.State(None)
        gr.Markdown(f"# sora-lite\nText/image → video with synchronized sound, on your own machine. v{__version__}")
        with gr.Row():
            if ON_SPACE:
                gr.LoginButton()
            else:
                with gr.Accordion("Account (optional: you are the local user until you sign in)", open=False):
                    with gr.Row():
                        username = gr.Textbox(label="Username", max_lines=1)
                        password = gr.Textbox(label="Password", type="password", max_lines=1)
                    with gr.Row():
                        sign_in_btn = gr.Button("Sign in")
                        sign_up_btn = gr.Button("Create account")
                        sign_out_btn = gr.Button("Sign out")
                    account_status = gr.Markdown("", elem_id="account-status")
                sign_in_btn.click(sign_in, [username, password], [session_user, account_status], api_name="sign_in", concurrency_limit=LIGHT_SLOTS)
                sign_up_btn.click(sign_up, [username, password], [session_user, account_status], api_name="sign_up", concurrency_limit=LIGHT_SLOTS)
                sign_out_btn.click(sign_out, None, [session_user, account_status], api_name="sign_out",
                                   concurrency_limit=LIGHT_SLOTS)
                demo.load(whoami, None, [account_status], api_visibility="private", concurrency_limit=LIGHT_SLOTS)

        with gr.Tabs():
            with gr.Tab("Create"):
                with gr.Row():
                    with gr.Column():
                        prompt = gr.Textbox(label="Prompt", lines=3, max_length=MAX_PROMPT_CHARS, elem_id="prompt",
                                            placeholder="three red rubber balls bounce on a wooden floor at sunset, slow orbit")
                        image = gr.File(label="Optional still to animate (PNG/JPEG/WebP, ≤ 20 MB, ≤ 4096 px)",
                                        file_types=[".png", ".jpg", ".jpeg", ".webp"], type="filepath")
                        with gr.Row():
                            engine = gr.Dropdown(engines, value=engine_default, label="Engine / model", elem_id="engine",
                                                 allow_custom_value=True, info="or type a Hub model id or a local folder")
                            size = gr.Dropdown(SIZES, value=defaults.size, label="Size (width x height)", allow_custom_value=True)
                        with gr.Row():
                            seconds = gr.Slider(1, 20, value=defaults.seconds, step=0.5, label="Seconds")
                            fps = gr.Slider(8, 60, value=defaults.fps, step=1, label="FPS")
                            seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                        with gr.Accordion("Advanced: scene spec", open=False):
                            parse_btn = gr.Button("Parse the prompt")
                            words = gr.JSON(label="Words used / ignored")
                            use_spec = gr.Checkbox(False, label="Use this spec instead of parsing the prompt")
                            spec = gr.Code(language="json", label="Scene spec (editable JSON)", lines=12)
                        with gr.Row():
                            generate_btn = gr.Button("Generate", variant="primary", elem_id="generate", scale=3)
                            stop_btn = gr.Button("Stop", variant="stop", elem_id="stop", scale=1)
                        with gr.Accordion("Models that cannot run here, and how to get them", open=False):
                            gr.Markdown(unavailable_note(catalog) or "Every listed model has its weights here.")
                    with gr.Column():
                        video = gr.Video(label="Result (with sound)", elem_id="result-video", autoplay=True, interactive=False)
                        download = gr.File(label="Download MP4")
                        live = gr.Image(label="Live preview (frames as they render)", elem_id="live-preview",
                                        interactive=False, height=200)
                        record = gr.JSON(label="Record")
                parse_btn.click(parse, [prompt, spec], [spec, words], api_name="parse", concurrency_limit=LIGHT_SLOTS)
                # live preview: a Timer polls the session's latest rendered frame while a render runs
                ticker = gr.Timer(0.4, active=False)
                generate_btn.click(lambda: gr.Timer(active=True), None, ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
                generate_event = generate_btn.click(
                    generate, [prompt, image, engine, seconds, size, fps, seed, use_spec, spec, session_user],
                    [video, record, download], api_name="generate", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                )
                generate_event.then(lambda: gr.Timer(active=False), None, ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
                ticker.tick(live_preview, None, live, api_visibility="private", concurrency_limit=LIGHT_SLOTS,
                            show_progress="hidden")
                stop_btn.click(stop, None, ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS,
                               cancels=[generate_event])

            with gr.Tab("Storyboard"):
                gr.Markdown("One clip over one continuing world: each row is a shot (text, camera move, seconds).")
                shots = gr.Dataframe(
                    value=[["a red ball and a blue cube on a checker floor", "static", 2],
                           ["the ball rolls toward the cube", "follow", 2],
                           ["close up of the cube", "dolly", 2]],
                    headers=["shot", "camera", "seconds"], datatype=["str", "str", "number"],
                    column_count=(3, "fixed"), interactive=True, label="Shots",
                )
                with gr.Row():
                    sb_engine = gr.Dropdown(engines, value=engine_default, label="Engine / model", allow_custom_value=True)
                    sb_size = gr.Dropdown(SIZES, value=defaults.size, label="Size", allow_custom_value=True)
                    sb_fps = gr.Slider(8, 60, value=defaults.fps, step=1, label="FPS")
                    sb_seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                with gr.Row():
                    sb_btn = gr.Button("Render storyboard", variant="primary", elem_id="sb-render", scale=3)
                    sb_stop = gr.Button("Stop", variant="stop", elem_id="sb-stop", scale=1)
                with gr.Row():
                    sb_video = gr.Video(label="Storyboard clip", interactive=False)
                    with gr.Column():
                        sb_live = gr.Image(label="Live preview", elem_id="sb-live-preview", interactive=False, height=200)
                        sb_download = gr.File(label="Download MP4")
                        sb_record = gr.JSON(label="Record (info.shots lists the cuts)")
                sb_ticker = gr.Timer(0.4, active=False)
                sb_btn.click(lambda: gr.Timer(active=True), None, sb_ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
                sb_event = sb_btn.click(
                    storyboard, [shots, sb_engine, sb_size, sb_fps, sb_seed, session_user], [sb_video, sb_record, sb_download],
                    api_name="storyboard", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                )
                sb_event.then(lambda: gr.Timer(active=False), None, sb_ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
                sb_ticker.tick(live_preview, None, sb_live, api_visibility="private", concurrency_limit=LIGHT_SLOTS,
                               show_progress="hidden")
                sb_stop.click(stop, None, sb_ticker, api_visibility="private", concurrency_limit=LIGHT_SLOTS,
                              cancels=[sb_event])

            with gr.Tab("Feed") as feed_tab:
                with gr.Row():
                    limit = gr.Number(48, label="How many", precision=0, minimum=1, maximum=200)
                    refresh_btn = gr.Button("Refresh")
                gallery = gr.Gallery(label="Newest first", columns=4, height="auto", allow_preview=False)
                with gr.Accordion("Feed records (JSON)", open=False):
                    feed_json = gr.JSON(label="Feed records")
                with gr.Row():
                    clip_id = gr.Textbox(label="Clip id", max_lines=1, elem_id="clip-id")
                    open_btn = gr.Button("Open")
                    delete_btn = gr.Button("Delete (your own clips only)", variant="stop")
                with gr.Row():
                    feed_video = gr.Video(label="Clip", interactive=False)
                    with gr.Column():
                        lineage = gr.Markdown(elem_id="lineage")
                        feed_record = gr.JSON(label="Record", open=False)
                with gr.Accordion("Remix this clip", open=True):
                    remix_prompt = gr.Textbox(label="What changes", placeholder="now the ball is blue and the camera orbits",
                                              max_length=MAX_PROMPT_CHARS, elem_id="remix-prompt")
                    remix_spec = gr.Code(language="json", label="Optional: a full scene spec to use instead", lines=6)
                    remix_btn = gr.Button("Remix", variant="primary")
                deleted = gr.JSON(visible=False)
                refresh_args = dict(fn=list_feed, inputs=[limit], outputs=[gallery, feed_json])
                refresh_btn.click(**refresh_args, api_name="feed", concurrency_limit=LIGHT_SLOTS)
                feed_tab.select(**refresh_args, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
                gallery.select(pick, [feed_json], [clip_id], api_visibility="private").then(
                    open_clip, [clip_id], [feed_video, feed_record, lineage], api_visibility="private")
                open_btn.click(open_clip, [clip_id], [feed_video, feed_record, lineage], api_name="open", concurrency_limit=LIGHT_SLOTS)
                remix_btn.click(
                    remix, [clip_id, remix_prompt, remix_spec, session_user], [feed_video, feed_record, lineage],
                    api_name="remix", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                ).success(**refresh_args, api_visibility="private")
                delete_btn.click(delete, [clip_id, session_user], [deleted], api_name="delete", concurrency_limit=LIGHT_SLOTS).success(
                    **refresh_args, api_visibility="private")

            with gr.Tab("Leaderboard") as board_tab:
                board_message = gr.Markdown(f"Loading… (make one with `{LEADERBOARD_COMMAND}`)")
                board = gr.Dataframe(label="Leaderboard (click a column to sort)", interactive=False, visible=False)
                board_plot = gr.BarPlot(x="bar", y="value", color="generator", label="Scores by metric",
                                        x_title="metric | generator", sort=None, visible=False)
                board_btn = gr.Button("Reload")
                board_btn.click(show_leaderboard, None, [board, board_plot, board_message], api_visibility="private")
                board_tab.select(show_leaderboard, None, [board, board_plot, board_message], api_visibility="private")

            build_cameo_tab(studio, session_user, user_of, shown_errors)

            with gr.Tab("Verify"):
                gr.Markdown("Check any video: its C2PA manifest (valid / tampered / absent) and the sora-lite "
                            "invisible watermark (the clip id it carries, and whether this instance made it).")
                verify_file_in = gr.File(label="Video to check", file_types=["video"], type="filepath")
                verify_btn = gr.Button("Verify", variant="primary")
                verify_summary = gr.Markdown()
                verify_report = gr.JSON(label="Full report")
                verify_btn.click(verify, [verify_file_in], [verify_summary, verify_report], api_name="verify",
                                 concurrency_limit=LIGHT_SLOTS)

            with gr.Tab("About"):
                gr.Markdown(ABOUT)
                with gr.Accordion("Content policy", open=False):
                    gr.Markdown(_policy_text())
    # api_open=False: no direct /run/<name> POST may skip the queue (and with it the per-visitor limits)
    demo.queue(default_concurrency_limit=RENDER_SLOTS, max_size=QUEUE_SIZE, api_open=False)
    demo.sora_guard = guard  # type: ignore[attr-defined]
    return demo


def _audit(studio: Studio, action: str, details: dict[str, Any]) -> None:
    from sora_lite.store.audit import log_action

    with studio.store.session() as s:
        log_action(s, None, action, str(details.get("path", "")), details)


def _nothing() -> Any:
    import contextlib

    return contextlib.nullcontext()


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
