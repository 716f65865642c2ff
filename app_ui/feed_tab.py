"""The Feed tab: the gallery (discovery from `app_ui.social`), opening a clip with its lineage, sharing, remix
and delete. Named endpoints: feed, open, open_link, remix, delete (and the discovery / sharing ones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from app_ui.context import LIGHT_SLOTS, RENDER_SLOTS, AppContext
from app_ui.errors import progress_reporter, shown_errors, whole_number
from app_ui.gpu import gpu, reservation
from app_ui.social import (
    build_discovery,
    build_share_panel,
    check_remix,
    link_loader,
    mode_switch,
    opener,
)
from sora_lite.engines.base import MAX_PROMPT_CHARS
from sora_lite.social.sharing import open_clip as open_visible
from sora_lite.studio import spec_from_json


def picked_clip(records: list[dict[str, Any]], event: gr.SelectData) -> str:
    """The id of the gallery tile that was clicked (the gallery shows the records that have a thumbnail)."""
    shown = [r for r in records or [] if r.get("thumbnail_path")]
    return shown[event.index]["id"] if 0 <= event.index < len(shown) else ""


def _clip_handlers(ctx: AppContext) -> tuple[Callable[..., Any], ...]:
    """(list_feed, open_clip, remix, delete): the Feed tab's callbacks, one library call each."""
    studio, user_of = ctx.studio, ctx.user_of

    @shown_errors
    def list_feed(limit: float) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        records = studio.feed(limit=whole_number(limit, "limit"))
        gallery = [(r.thumbnail_path or r.video_path, f"{r.user}: {r.prompt[:80]}") for r in records if r.thumbnail_path]
        return gallery, [ctx.public(r) for r in records]

    @shown_errors
    def open_clip(clip_id: str, session_user: str | None, profile: gr.OAuthProfile | None,
                  http: gr.Request) -> tuple[str, dict[str, Any], str]:
        viewer = user_of(session_user, profile, http)
        record = open_visible(studio.store, (clip_id or "").strip(), viewer)
        return record.video_path, ctx.public(record), ctx.lineage_markdown(record.id, viewer)

    @gpu(reservation(None, None, None))  # the parent's engine is known only inside
    @shown_errors
    def remix(
        clip_id: str, prompt: str, spec_json: str, link_token: str | None, session_user: str | None,
        profile: gr.OAuthProfile | None, http: gr.Request, progress: gr.Progress = gr.Progress(),
    ) -> tuple[str, dict[str, Any], str]:
        user = user_of(session_user, profile, http)
        check_remix(studio, (clip_id or "").strip(), user, link_token)  # visible to this user, open to remix
        with ctx.render_place(http):
            record = studio.remix(
                (clip_id or "").strip(), prompt or "", spec=spec_from_json(spec_json), user=user,
                progress=progress_reporter(progress),
            )
        return record.video_path, ctx.public(record), ctx.lineage_markdown(record.id, user)

    @shown_errors
    def delete(clip_id: str, session_user: str | None, profile: gr.OAuthProfile | None,
               http: gr.Request) -> dict[str, Any]:
        record = studio.delete((clip_id or "").strip(), user=user_of(session_user, profile, http))
        return {"deleted": record.id}

    return list_feed, open_clip, remix, delete


def build_feed_tab(ctx: AppContext, demo: gr.Blocks, tabs: gr.Tabs, session_user: gr.State) -> None:
    """Add the Feed tab (call inside `with gr.Tabs() as tabs:`); `demo.load` opens a share link's clip."""
    studio, user_of = ctx.studio, ctx.user_of
    list_feed, open_clip, remix, delete = _clip_handlers(ctx)
    with gr.Tab("Feed", id="feed") as feed_tab:
        link_token = gr.State(None)  # the token of the share link this page was opened with
        with gr.Row():
            feed_mode = mode_switch()
            limit = gr.Number(48, label="How many", precision=0, minimum=1, maximum=200)
            refresh_btn = gr.Button("Refresh")
        link_status = gr.Markdown(elem_id="link-status")
        gallery = gr.Gallery(label="Feed", columns=4, height="auto", allow_preview=False)
        with gr.Accordion("Feed records (JSON)", open=False):
            feed_json = gr.JSON(label="Feed records")
        refresh_args = build_discovery(studio, session_user, user_of, shown_errors, limit, gallery, feed_json, feed_mode)
        with gr.Row():
            clip_id = gr.Textbox(label="Clip id", max_lines=1, elem_id="clip-id")
            open_btn = gr.Button("Open")
            delete_btn = gr.Button("Delete (your own clips only)", variant="stop")
        with gr.Row():
            feed_video = gr.Video(label="Clip", interactive=False, elem_id="feed-video")
            with gr.Column():
                lineage = gr.Markdown(elem_id="lineage")
                feed_record = gr.JSON(label="Record", open=False)
        build_share_panel(studio, session_user, user_of, shown_errors, clip_id, link_token, ctx.guard.trust_proxy)
        with gr.Accordion("Remix this clip", open=True):
            remix_prompt = gr.Textbox(label="What changes", placeholder="now the ball is blue and the camera orbits",
                                      max_length=MAX_PROMPT_CHARS, elem_id="remix-prompt")
            remix_spec = gr.Code(language="json", label="Optional: a full scene spec to use instead", lines=6)
            remix_btn = gr.Button("Remix", variant="primary")
        deleted = gr.JSON(visible=False)
        newest_args = dict(fn=list_feed, inputs=[limit], outputs=[gallery, feed_json])
        gr.Button(visible=False).click(**newest_args, api_name="feed", concurrency_limit=LIGHT_SLOTS)  # newest first
        refresh_btn.click(**refresh_args, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
        feed_tab.select(**refresh_args, api_visibility="private", concurrency_limit=LIGHT_SLOTS)
        shown = [feed_video, feed_record, lineage]
        gallery.select(picked_clip, [feed_json], [clip_id], api_name="pick", api_visibility="private").then(
            open_clip, [clip_id, session_user], shown, api_visibility="private")
        open_btn.click(open_clip, [clip_id, session_user], shown, api_name="open", concurrency_limit=LIGHT_SLOTS)
        link_out = [*shown, link_status, link_token]
        token_box = gr.Textbox(visible=False)  # the API's way to pass a link's token (the page keeps it in state)
        gr.Button(visible=False).click(opener(studio, user_of, shown_errors), [clip_id, token_box, session_user],
                                       link_out, api_name="open_link", concurrency_limit=LIGHT_SLOTS)
        demo.load(link_loader(studio, user_of, "feed"), [session_user], [tabs, clip_id, *link_out],
                  api_visibility="private", concurrency_limit=LIGHT_SLOTS)
        remix_btn.click(remix, [clip_id, remix_prompt, remix_spec, link_token, session_user], shown,
                        api_name="remix", concurrency_id="render", concurrency_limit=RENDER_SLOTS,
                        ).success(**refresh_args, api_visibility="private")
        delete_btn.click(delete, [clip_id, session_user], [deleted], api_name="delete", concurrency_limit=LIGHT_SLOTS
                         ).success(**refresh_args, api_visibility="private")
