"""A render button with a live preview: a Timer polls the session's latest rendered frame while the render
runs, and a Stop button cancels it (Create and Storyboard wire theirs the same way)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from app_ui.context import LIGHT_SLOTS, RENDER_SLOTS, AppContext


def preview_handlers(ctx: AppContext) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(stop, live_preview): the Stop button's callback and the Timer's."""

    def stop(http: gr.Request) -> Any:
        ctx.cancels.cancel(ctx.session_key(http))
        return gr.Timer(active=False)

    def live_preview(http: gr.Request) -> Any:
        """The frame the running render drew last (the Timer polls this while Generate runs)."""
        got = ctx.previews.latest(ctx.session_key(http))
        return got[1] if got is not None else gr.skip()

    return stop, live_preview


def wire_render(ctx: AppContext, button: gr.Button, stop_button: gr.Button, live: gr.Image, render: Callable[..., Any],
                inputs: list[Any], outputs: list[Any], api_name: str) -> Any:
    """`button` runs `render` in a render slot (named endpoint `api_name`) while `live` shows its frames;
    `stop_button` cancels it. Returns the render event."""
    stop, live_preview = preview_handlers(ctx)
    light = {"api_visibility": "private", "concurrency_limit": LIGHT_SLOTS}
    ticker = gr.Timer(0.4, active=False)
    button.click(lambda: gr.Timer(active=True), None, ticker, **light)
    event = button.click(render, inputs, outputs, api_name=api_name, concurrency_id="render",
                         concurrency_limit=RENDER_SLOTS)
    event.then(lambda: gr.Timer(active=False), None, ticker, **light)
    ticker.tick(live_preview, None, live, show_progress="hidden", **light)
    stop_button.click(stop, None, ticker, cancels=[event], **light)
    return event
