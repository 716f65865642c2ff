"""sora-lite in the browser: Create, Storyboard, Feed (+ Remix), Leaderboard, About.

Wiring only: every callback turns component values into one library call (`sora_lite.studio.Studio` and
friends) and the result back into component values. Run `python app.py`; on a Hugging Face Space the same
file runs unchanged (sign-in with `gr.LoginButton`, data under `/data` when persistent storage is on).
Named API endpoints: generate, storyboard, feed, open, remix, delete, parse.
"""

import functools
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from sora_lite import __version__, accounts
from sora_lite.cameo.app_tab import build_cameo_tab
from sora_lite.engines import Cancelled, EngineUnavailable, GenerationRequest, RequestError
from sora_lite.engines.catalog import engine_choices, unavailable_note
from sora_lite.leaderboard import LEADERBOARD_COMMAND, load_leaderboard
from sora_lite.media import MediaError
from sora_lite.studio import CancelBoard, ClipRecord, Studio, parse_scene, shots_from_table, warm_up

log = logging.getLogger("sora_lite.app")

ON_SPACE = bool(os.environ.get("SPACE_ID"))
# One render at a time per CPU box (MuJoCo + encoding use every core); two where a GPU does the heavy part.
RENDER_SLOTS = int(os.environ.get("SORA_LITE_RENDER_SLOTS") or (2 if shutil.which("nvidia-smi") else 1))
LIGHT_SLOTS = 8  # feed listing, parsing, sign-in: cheap, never wait behind a render
MAX_UPLOAD = "20mb"
SIZES = ["128x128", "256x256", "384x384", "512x512", "640x360", "854x480", "1024x576"]
POLICY_FILE = Path(__file__).parent / "sora_lite" / "safety" / "policy.md"

try:  # ZeroGPU Spaces: hold a GPU only while a render runs; a no-op everywhere else
    import spaces

    gpu = spaces.GPU(duration=120)
except ImportError:

    def gpu(fn: Callable) -> Callable:
        return fn


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
            raise gr.Error(str(e), print_exception=False) from None
        except Cancelled:
            raise gr.Error("cancelled", print_exception=False) from None
        except Exception as e:  # a bug: log it, tell the user something happened, keep serving
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(f"internal error ({type(e).__name__}): {e}") from None

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
    if not text or not text.strip():
        return None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise RequestError(f"the scene spec is not valid JSON: {e}") from None
    if not isinstance(spec, dict):
        raise RequestError("the scene spec must be a JSON object")
    return spec


def _int(value: Any, name: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"{name} must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise RequestError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def _outputs(record: ClipRecord) -> tuple[str, dict[str, Any], str]:
    return record.video_path, record.to_dict(), record.video_path


def _lineage_markdown(studio: Studio, clip_id: str) -> str:
    lin = studio.lineage(clip_id)
    def name(node: Any) -> str:
        text = node.prompt if len(node.prompt) <= 60 else node.prompt[:57] + "…"
        gone = " (deleted)" if node.deleted else ""
        return f"`{node.id}` {text!r} by {node.user or '?'}{gone}"
    lines = [f"**This clip:** `{clip_id}`"]
    if lin.ancestors:
        lines.append("**Remix of:** " + " ← ".join(name(n) for n in lin.ancestors))
    else:
        lines.append("**Remix of:** nothing (an original)")
    lines.append("**Remixed by:** " + (", ".join(name(n) for n in lin.children) if lin.children else "nobody yet"))
    return "\n\n".join(lines)


@dataclass
class Defaults:
    """What the Create and Storyboard forms start with (a small CPU Space may want smaller clips)."""

    engine: str = "world"
    size: str = "256x256"
    seconds: float = 4.0
    fps: int = 24


def build_demo(studio: Studio | None = None, defaults: Defaults | None = None) -> gr.Blocks:
    """The whole app around one `Studio` (tests pass their own, with a temporary home)."""
    studio = studio or Studio()
    defaults = defaults or Defaults()
    cancels = CancelBoard()

    def user_of(session_user: str | None, profile: gr.OAuthProfile | None) -> accounts.UserInfo:
        return accounts.acting_user(studio.store, profile=profile, username=session_user, public=ON_SPACE)

    # --- callbacks: one library call each ---------------------------------------------------------------
    @shown_errors
    def parse(prompt: str, spec_json: str) -> tuple[str, dict[str, Any]]:
        parsed = parse_scene(prompt, _spec(spec_json) if spec_json and spec_json.strip() else None)
        return json.dumps(parsed.spec.to_dict(), indent=2), {"used": parsed.used, "ignored": parsed.ignored}

    @gpu
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
        key = http.session_hash or "local"
        cancel = cancels.start(key)
        try:
            record = studio.generate(request, user=user_of(session_user, profile), progress=_progress(progress),
                                     cancel=cancel)
        finally:
            cancels.finish(key, cancel)
        return _outputs(record)

    def stop(http: gr.Request) -> None:
        cancels.cancel(http.session_hash or "local")

    @gpu
    @shown_errors
    def storyboard(
        shots: Any, engine: str, size: str, fps: float, seed: float, session_user: str | None,
        profile: gr.OAuthProfile | None, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        rows = shots.values.tolist() if hasattr(shots, "values") else list(shots or [])
        width, height = _size(size)
        record = studio.storyboard(
            shots_from_table(rows), user=user_of(session_user, profile), progress=_progress(progress),
            engine=engine or "world", width=width, height=height, fps=_int(fps, "fps"), seed=_int(seed, "seed"),
        )
        return _outputs(record)

    @shown_errors
    def list_feed(limit: float) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        records = studio.feed(limit=_int(limit, "limit"))
        gallery = [(r.thumbnail_path or r.video_path, f"{r.user}: {r.prompt[:80]}") for r in records if r.thumbnail_path]
        return gallery, [r.to_dict() for r in records]

    def pick(records: list[dict[str, Any]], event: gr.SelectData) -> str:
        shown = [r for r in records or [] if r.get("thumbnail_path")]
        return shown[event.index]["id"] if 0 <= event.index < len(shown) else ""

    @shown_errors
    def open_clip(clip_id: str) -> tuple[str, dict[str, Any], str]:
        record = studio.get((clip_id or "").strip())
        return record.video_path, record.to_dict(), _lineage_markdown(studio, record.id)

    @gpu
    @shown_errors
    def remix(
        clip_id: str, prompt: str, spec_json: str, session_user: str | None, profile: gr.OAuthProfile | None,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        record = studio.remix(
            (clip_id or "").strip(), prompt or "", spec=_spec(spec_json), user=user_of(session_user, profile),
            progress=_progress(progress),
        )
        return record.video_path, record.to_dict(), _lineage_markdown(studio, record.id)

    @shown_errors
    def delete(clip_id: str, session_user: str | None, profile: gr.OAuthProfile | None) -> dict[str, Any]:
        record = studio.delete((clip_id or "").strip(), user=user_of(session_user, profile))
        return {"deleted": record.id}

    @shown_errors
    def sign_in(username: str, password: str) -> tuple[str, str]:
        user = accounts.authenticate(studio.store, username, password)
        return user.username, f"Signed in as **{user.display_name}**."

    @shown_errors
    def sign_up(username: str, password: str) -> tuple[str, str]:
        user = accounts.create_account(studio.store, username, password)
        return user.username, f"Account created; signed in as **{user.display_name}**."

    def sign_out() -> tuple[None, str]:
        return None, "Signed out: acting as the local user."

    @shown_errors
    def verify(path: str | None) -> tuple[str, dict[str, Any]]:
        if not path:
            raise RequestError("upload a video to verify")
        report = studio.verify(path)
        return report.summary().replace("\n", "  \n"), report.to_dict()

    def show_leaderboard() -> tuple[Any, Any, str]:
        board = load_leaderboard()
        return (gr.Dataframe(board.table, visible=not board.empty), gr.BarPlot(board.plot_frame(), visible=not board.empty),
                board.message)

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
                    account_status = gr.Markdown("Acting as the local user.")
                sign_in_btn.click(sign_in, [username, password], [session_user, account_status], api_name="sign_in", concurrency_limit=LIGHT_SLOTS)
                sign_up_btn.click(sign_up, [username, password], [session_user, account_status], api_name="sign_up", concurrency_limit=LIGHT_SLOTS)
                sign_out_btn.click(sign_out, None, [session_user, account_status], api_visibility="private")

        with gr.Tabs():
            with gr.Tab("Create"):
                with gr.Row():
                    with gr.Column():
                        prompt = gr.Textbox(label="Prompt", lines=3, max_length=10_000, elem_id="prompt",
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
                        record = gr.JSON(label="Record")
                parse_btn.click(parse, [prompt, spec], [spec, words], api_name="parse", concurrency_limit=LIGHT_SLOTS)
                generate_event = generate_btn.click(
                    generate, [prompt, image, engine, seconds, size, fps, seed, use_spec, spec, session_user],
                    [video, record, download], api_name="generate", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                )
                stop_btn.click(stop, None, None, api_visibility="private", concurrency_limit=LIGHT_SLOTS,
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
                sb_btn = gr.Button("Render storyboard", variant="primary")
                with gr.Row():
                    sb_video = gr.Video(label="Storyboard clip", interactive=False)
                    with gr.Column():
                        sb_download = gr.File(label="Download MP4")
                        sb_record = gr.JSON(label="Record (info.shots lists the cuts)")
                sb_btn.click(
                    storyboard, [shots, sb_engine, sb_size, sb_fps, sb_seed, session_user], [sb_video, sb_record, sb_download],
                    api_name="storyboard", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                )

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
                        lineage = gr.Markdown()
                        feed_record = gr.JSON(label="Record", open=False)
                with gr.Accordion("Remix this clip", open=True):
                    remix_prompt = gr.Textbox(label="What changes", placeholder="now the ball is blue and the camera orbits")
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
    demo.queue(default_concurrency_limit=RENDER_SLOTS, max_size=64)
    return demo


def launch(demo: gr.Blocks, studio: Studio, **kwargs: Any) -> Any:
    """Serve `demo`, letting Gradio hand out the studio's clip files (and nothing else from its home)."""
    allowed = [str(studio.clips_dir.resolve()), str(studio.inputs_dir.resolve())]
    options: dict[str, Any] = {"max_file_size": MAX_UPLOAD, "show_error": True, "allowed_paths": allowed}
    options.update(kwargs)
    return demo.launch(**options)


studio = Studio()
demo = build_demo(studio)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(f"sora-lite: clips and database in {studio.home}")
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    launch(demo, studio)
