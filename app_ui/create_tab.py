"""The Create tab: prompt (or a still) → one clip, with a live preview; *Advanced* parses the prompt into the
editable scene spec. Named endpoints: generate, parse."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from app_ui.context import LIGHT_SLOTS, SIZES, AppContext, EngineMenu
from app_ui.errors import progress_reporter, shown_errors, whole_number
from app_ui.gpu import gpu, reservation
from app_ui.live_preview import wire_render
from sora_lite.common.request import parse_size
from sora_lite.engines import GenerationRequest
from sora_lite.engines.base import MAX_PROMPT_CHARS
from sora_lite.engines.catalog import unavailable_note
from sora_lite.engines.world.still import estimate_horizon, horizon_options
from sora_lite.studio import parse_scene, spec_from_json


def parse_view(prompt: str, spec_json: str) -> tuple[str, dict[str, Any]]:
    """(the spec as JSON, what the engine will show: words used / ignored and the parser's own view)."""
    parsed = parse_scene(prompt, spec_from_json(spec_json) if spec_json and spec_json.strip() else None)
    view = {k: v for k, v in parsed.to_dict().items() if k != "spec"} if hasattr(parsed, "to_dict") else {}
    return json.dumps(parsed.spec.to_dict(), indent=2), {"used": parsed.used, "ignored": parsed.ignored, **view}


def build_create_tab(ctx: AppContext, session_user: gr.State, menu: EngineMenu) -> None:
    """Add the Create tab (call inside `with gr.Tabs():`)."""
    studio, defaults = ctx.studio, ctx.defaults

    @gpu(reservation(2, 3, 4))  # engine, seconds, size
    @shown_errors
    def generate(
        prompt: str, image: str | None, engine: str, seconds: float, size: str, fps: float, seed: float,
        use_spec: bool, spec_json: str, horizon: float | None, session_user: str | None,
        profile: gr.OAuthProfile | None, http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        width, height = parse_size(size)
        request = GenerationRequest(
            prompt=prompt or "", image=image or None, engine=engine or "world", seconds=seconds,
            width=width, height=height, fps=whole_number(fps, "fps"), seed=whole_number(seed, "seed"),
            spec=spec_from_json(spec_json) if use_spec else None,
            options=horizon_options(horizon) if image and (engine or "world") == "world" else {},
        )
        user = ctx.user_of(session_user, profile, http)
        with ctx.render_session(http) as (cancel, preview):
            record = studio.generate(request, user=user, progress=progress_reporter(progress), cancel=cancel,
                                     preview=preview)
        return ctx.outputs(record)

    @shown_errors
    def still_horizon(image: str | None) -> float:
        """The slider's default for a new still: the world engine's own horizon estimate (0 = none yet)."""
        return estimate_horizon(image) if image else 0.0

    with gr.Tab("Create"):
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label="Prompt", lines=3, max_length=MAX_PROMPT_CHARS, elem_id="prompt",
                                    placeholder="three red rubber balls bounce on a wooden floor at sunset, slow orbit")
                image = gr.File(label="Optional still to animate (PNG/JPEG/WebP, ≤ 20 MB, ≤ 4096 px)",
                                file_types=[".png", ".jpg", ".jpeg", ".webp"], type="filepath",
                                elem_id="still")
                horizon = gr.Slider(0, 0.95, value=0, step=0.01, label="Horizon in the still (world engine)",
                                    elem_id="horizon", info="0 from the top … 1 at the bottom; 0 = estimate it. "
                                    "A new still sets it to the estimate: drag it to where the ground ends.")
                with gr.Row():
                    engine = gr.Dropdown(menu.choices, value=menu.default, label="Engine / model", elem_id="engine",
                                         allow_custom_value=True, info="or type a Hub model id or a local folder")
                    size = gr.Dropdown(SIZES, value=defaults.size, label="Size (width x height)", allow_custom_value=True)
                with gr.Row():
                    seconds = gr.Slider(1, 20, value=defaults.seconds, step=0.5, label="Seconds")
                    fps = gr.Slider(8, 60, value=defaults.fps, step=1, label="FPS")
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                with gr.Accordion("Advanced: scene spec", open=False):
                    parse_btn = gr.Button("Parse the prompt")
                    words = gr.JSON(label="What the engine will show: objects, words used / ignored, unshown, approximated")
                    use_spec = gr.Checkbox(False, label="Use this spec instead of parsing the prompt")
                    spec = gr.Code(language="json", label="Scene spec (editable JSON)", lines=12)
                with gr.Row():
                    generate_btn = gr.Button("Generate", variant="primary", elem_id="generate", scale=3)
                    stop_btn = gr.Button("Stop", variant="stop", elem_id="stop", scale=1)
                with gr.Accordion("Models that cannot run here, and how to get them", open=False):
                    gr.Markdown(unavailable_note(menu.catalog) or "Every listed model has its weights here.")
            with gr.Column():
                video = gr.Video(label="Result (with sound)", elem_id="result-video", autoplay=True, interactive=False)
                download = gr.File(label="Download MP4")
                live = gr.Image(label="Live preview (frames as they render)", elem_id="live-preview",
                                interactive=False, height=200)
                record = gr.JSON(label="Record")
        parse_btn.click(shown_errors(parse_view), [prompt, spec], [spec, words], api_name="parse",
                        concurrency_limit=LIGHT_SLOTS)
        image.change(still_horizon, image, horizon, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
        wire_render(ctx, generate_btn, stop_btn, live, generate,
                    [prompt, image, engine, seconds, size, fps, seed, use_spec, spec, horizon, session_user],
                    [video, record, download], api_name="generate")
