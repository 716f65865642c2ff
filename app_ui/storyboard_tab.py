"""The Storyboard tab: a table of shots (text, camera move, seconds) rendered as one clip over one continuing
world, with a live preview. Named endpoint: storyboard."""

from __future__ import annotations

from typing import Any

import gradio as gr

from app_ui.context import SIZES, AppContext, EngineMenu
from app_ui.errors import progress_reporter, shown_errors, whole_number
from app_ui.gpu import gpu, reservation
from app_ui.live_preview import wire_render
from app_ui.tables import shots_from_table
from sora_lite.common.request import parse_size

EXAMPLE_SHOTS = [["a red ball and a blue cube on a checker floor", "static", 2],
                 ["the ball rolls toward the cube", "follow", 2],
                 ["close up of the cube", "dolly", 2]]


def build_storyboard_tab(ctx: AppContext, session_user: gr.State, menu: EngineMenu) -> None:
    """Add the Storyboard tab (call inside `with gr.Tabs():`)."""
    studio, defaults = ctx.studio, ctx.defaults

    @gpu(reservation(1, None, 2))  # engine, size
    @shown_errors
    def storyboard(
        shots: Any, engine: str, size: str, fps: float, seed: float, session_user: str | None,
        profile: gr.OAuthProfile | None, http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        rows = shots.values.tolist() if hasattr(shots, "values") else list(shots or [])
        width, height = parse_size(size)
        user = ctx.user_of(session_user, profile, http)
        with ctx.render_session(http) as (cancel, preview):
            record = studio.storyboard(
                shots_from_table(rows), user=user, progress=progress_reporter(progress), cancel=cancel,
                preview=preview, engine=engine or "world", width=width, height=height,
                fps=whole_number(fps, "fps"), seed=whole_number(seed, "seed"),
            )
        return ctx.outputs(record)

    with gr.Tab("Storyboard"):
        gr.Markdown("One clip over one continuing world: each row is a shot (text, camera move, seconds).")
        shots = gr.Dataframe(
            value=EXAMPLE_SHOTS, headers=["shot", "camera", "seconds"], datatype=["str", "str", "number"],
            column_count=(3, "fixed"), interactive=True, label="Shots",
        )
        with gr.Row():
            sb_engine = gr.Dropdown(menu.choices, value=menu.default, label="Engine / model", allow_custom_value=True)
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
        wire_render(ctx, sb_btn, sb_stop, sb_live, storyboard,
                    [shots, sb_engine, sb_size, sb_fps, sb_seed, session_user], [sb_video, sb_record, sb_download],
                    api_name="storyboard")
