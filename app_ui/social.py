"""Discovery, sharing and shared projects in the app (issue 17); wiring only, one library call per callback.

`app.py` calls, inside its Feed tab, `build_discovery` (Inspiration/Newest, search with filters, creator and
cameo pages) and `build_share_panel` (visibility, link, embed snippet, download); `link_loader` is the page-load
callback that opens the clip a share link names; `build_projects_tab` adds the Projects tab.
Named endpoints: feed_ranked, search, creator_page, cameo_page, open_link, set_visibility, share_link,
reset_link, project_list, project_create, project_open, project_invite, project_revoke, project_add_shot,
project_edit, project_remove_shot, project_render.

Identity as everywhere in the app: `user_of(session_user, profile, request)` from the signed visitor cookie,
never a name or id from the request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.markup import markdown_text
from sora_lite.social import projects, ranking, search, sharing
from sora_lite.social.visibility import VISIBILITIES

LIGHT_SLOTS = 8
UserOf = Callable[[Any, Any, Any], UserInfo]
MODE_CHOICES = [("Inspiration", "inspiration"), ("Newest", "newest")]
SOUND_CHOICES = [("any", "any"), ("with sound", "yes"), ("silent", "no")]


def base_url(http: gr.Request | None, trust_proxy: bool = False) -> str:
    """The app's own address as the visitor reached it (behind a trusted proxy: its forwarded host)."""
    request = getattr(http, "request", None)
    url = str(getattr(request, "url", "") or "")
    if not url:
        headers = getattr(http, "headers", {}) or {}
        url = f"http://{headers.get('host', '127.0.0.1')}/"
    for marker in ("/gradio_api/", "/queue/", "/run/", "/call/"):
        if marker in url:
            url = url.split(marker, 1)[0] + "/"
            break
    if trust_proxy and request is not None:
        headers = request.headers
        host, proto = headers.get("x-forwarded-host"), headers.get("x-forwarded-proto")
        if host:
            path = url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else ""
            url = f"{proto or 'https'}://{host}/{path}"
    return url


def _gallery(records: list[Any]) -> list[tuple[str, str]]:
    return [(r.thumbnail_path, f"{r.user}: {r.prompt[:80]}") for r in records if r.thumbnail_path]


def mode_switch() -> gr.Radio:
    """The Inspiration / Newest switch (placed where the Feed tab calls this)."""
    return gr.Radio(MODE_CHOICES, value="inspiration", label="Order", elem_id="feed-mode",
                    info="Inspiration: variety and clips open to remix (see About). Newest: newest first.")


def build_discovery(studio: Any, session_user: gr.State, user_of: UserOf, shown_errors: Callable[[Callable], Callable],
                    limit: gr.Number, gallery: gr.Gallery, feed_json: gr.JSON, mode: gr.Radio) -> dict[str, Any]:
    """Search / creator page / cameo page filling the feed's gallery, and the feed's two orders. Returns the
    refresh wiring (fn, inputs, outputs) the Feed tab uses for its own refreshes."""
    store = studio.store

    def public(records: list[Any]) -> list[dict[str, Any]]:
        return [r.public_dict(studio.home) for r in records]

    @shown_errors
    def browse(count: float, mode: str, session: str | None, profile: gr.OAuthProfile | None,
               http: gr.Request) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        page = ranking.ranked_feed(store, mode or "inspiration", user_of(session, profile, http), limit=int(count or 20))
        return _gallery(page.clips), public(page.clips)

    @shown_errors
    def find(query: str, creator: str, cameo: str, engine: str, sound: str, remix_of: str, count: float,
             session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any, str]:
        filters = search.Filters.from_values(creator, cameo, engine, sound, remix_of)
        result = search.search(store, query or "", user_of(session, profile, http), filters, limit=int(count or 50))
        summary = f"{len(result.clips)} clips ({result.backend}, {result.elapsed_ms:.1f} ms)"
        return _gallery(result.clips), public(result.clips), summary

    @shown_errors
    def creator_page(username: str, session: str | None, profile: gr.OAuthProfile | None,
                     http: gr.Request) -> tuple[Any, Any, str]:
        page = search.creator_page(store, username or "", user_of(session, profile, http))
        cameos = ", ".join(f"@{markdown_text(c['handle'])} ({markdown_text(c['visibility'])})" for c in page.cameos)
        text = (f"**{markdown_text(page.display_name)}** (`{markdown_text(page.username)}`): {len(page.clips)} clips. "
                f"Cameos others may use or ask for: {cameos or 'none'}")
        return _gallery(page.clips), public(page.clips), text

    @shown_errors
    def cameo_page(handle: str, session: str | None, profile: gr.OAuthProfile | None,
                   http: gr.Request) -> tuple[Any, Any, str]:
        page = search.cameo_page(store, handle or "", user_of(session, profile, http))
        text = (f"**@{markdown_text(page.handle)}** ({markdown_text(page.display_name)}, by "
                f"{markdown_text(page.owner)}): {len(page.clips)} clips use it")
        return _gallery(page.clips), public(page.clips), text

    light = {"concurrency_limit": LIGHT_SLOTS}
    with gr.Accordion("Search and browse", open=False):
        with gr.Row():
            query = gr.Textbox(label="Search prompts", placeholder="red ball sunset", max_lines=1, elem_id="search-query",
                               max_length=search.MAX_QUERY_CHARS, scale=3)
            search_btn = gr.Button("Search", scale=1)
        with gr.Row():
            f_creator = gr.Textbox(label="Creator", max_lines=1)
            f_cameo = gr.Textbox(label="Cameo used", placeholder="@handle", max_lines=1)
            f_engine = gr.Textbox(label="Engine / model", placeholder="world", max_lines=1)
            f_sound = gr.Radio(SOUND_CHOICES, value="any", label="Sound")
            f_remix = gr.Textbox(label="Remix of (clip id)", max_lines=1)
        with gr.Row():
            page_creator = gr.Textbox(label="Creator page", placeholder="username", max_lines=1)
            creator_btn = gr.Button("Open creator page")
            page_cameo = gr.Textbox(label="Cameo page", placeholder="@handle", max_lines=1)
            cameo_btn = gr.Button("Open cameo page")
        found = gr.Markdown(elem_id="search-summary")
    refresh = dict(fn=browse, inputs=[limit, mode, session_user], outputs=[gallery, feed_json])
    mode.change(**refresh, api_visibility="private", **light)
    gr.Button(visible=False).click(**refresh, api_name="feed_ranked", **light)  # the API door to both orders
    search_args = dict(fn=find, inputs=[query, f_creator, f_cameo, f_engine, f_sound, f_remix, limit, session_user],
                       outputs=[gallery, feed_json, found])
    search_btn.click(**search_args, api_name="search", **light)
    query.submit(**search_args, api_visibility="private", **light)
    creator_btn.click(creator_page, [page_creator, session_user], [gallery, feed_json, found], api_name="creator_page", **light)
    cameo_btn.click(cameo_page, [page_cameo, session_user], [gallery, feed_json, found], api_name="cameo_page", **light)
    return refresh


def build_share_panel(studio: Any, session_user: gr.State, user_of: UserOf, shown_errors: Callable[[Callable], Callable],
                      clip_id: gr.Textbox, link_token: gr.State, trust_proxy: bool = False) -> None:
    """Visibility (public / unlisted / private, open to remix), the clip's link, an embed snippet and the
    signed MP4 (the file as stored, so its C2PA manifest is intact)."""
    store = studio.store

    @shown_errors
    def set_visibility(clip: str, visibility: str, remix_open: bool, session: str | None,
                       profile: gr.OAuthProfile | None, http: gr.Request) -> dict[str, Any]:
        return sharing.set_visibility(store, user_of(session, profile, http), clip or "", visibility or "",
                                      remix_open=bool(remix_open))

    @shown_errors
    def share(clip: str, token: str | None, session: str | None, profile: gr.OAuthProfile | None,
              http: gr.Request) -> tuple[str, str, str | None, str]:
        viewer = user_of(session, profile, http)
        link = sharing.share_link(store, viewer, clip or "", base_url(http, trust_proxy), token=token)
        return link.url, link.embed_html, link.video_path, markdown_text(link.note)

    @shown_errors
    def reset(clip: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[str, str, Any, str]:
        viewer = user_of(session, profile, http)
        sharing.reset_link(store, viewer, clip or "")
        link = sharing.share_link(store, viewer, clip or "", base_url(http, trust_proxy))
        return link.url, link.embed_html, gr.skip(), "New link made: earlier links no longer open this clip (unless it is public)."

    light = {"concurrency_limit": LIGHT_SLOTS}
    with gr.Accordion("Share this clip", open=False):
        with gr.Row():
            visibility = gr.Radio(list(VISIBILITIES), value="public", label="Who sees it (your clips only)",
                                  info="public: feed, search, pages · unlisted: anyone with the link · private: only you")
            remix_open = gr.Checkbox(True, label="Others may remix it")
            apply_btn = gr.Button("Apply")
        vis_json = gr.JSON(label="Visibility", visible=True)
        with gr.Row():
            link_btn = gr.Button("Get link", elem_id="share-link-btn")
            reset_btn = gr.Button("New link (ends old ones)")
        link = gr.Textbox(label="Link", elem_id="share-link", buttons=["copy"], interactive=False)
        embed = gr.Code(label="Embed snippet (HTML)", language="html", interactive=False)
        download = gr.File(label="Download (signed MP4, C2PA manifest kept)", interactive=False)
        note = gr.Markdown()
    apply_btn.click(set_visibility, [clip_id, visibility, remix_open, session_user], [vis_json], api_name="set_visibility", **light)
    link_btn.click(share, [clip_id, link_token, session_user], [link, embed, download, note], api_name="share_link", **light)
    reset_btn.click(reset, [clip_id, session_user], [link, embed, download, note], api_name="reset_link", **light)


def opener(studio: Any, user_of: UserOf, shown_errors: Callable[[Callable], Callable]) -> Callable[..., Any]:
    """`open_link(clip_id, token)`: the clip as a share link opens it (video, record, lineage, status)."""
    store = studio.store

    @shown_errors
    def open_link(clip: str, token: str, session: str | None, profile: gr.OAuthProfile | None,
                  http: gr.Request) -> tuple[str, dict[str, Any], str, str, str | None]:
        viewer = user_of(session, profile, http)
        record = sharing.open_clip(store, clip or "", viewer, token or None)
        lineage = clip_feed.lineage_markdown(clip_feed.lineage(store, record.id, viewer_id=viewer.id))
        status = f"Opened from a link: “{markdown_text(record.prompt, limit=120)}” by {markdown_text(record.user or '?')}"
        return record.video_path, record.public_dict(studio.home), lineage, status, token or None

    return open_link


def link_loader(studio: Any, user_of: UserOf, feed_tab_id: str) -> Callable[..., Any]:
    """The page-load callback: when the page's address carries `?clip=…&k=…`, switch to the Feed tab and open
    that clip; a deleted or hidden clip gets a plain message instead of an error toast."""
    store = studio.store

    def load(session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, ...]:
        clip, token = sharing.link_params(dict(getattr(http, "query_params", None) or {}))
        if not clip:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        tab = gr.Tabs(selected=feed_tab_id)
        try:
            viewer = user_of(session, profile, http)
            record = sharing.open_clip(store, clip, viewer, token)
        except sharing.ClipDeleted as gone:
            return tab, clip, None, None, "", f"**{markdown_text(gone)}**", None
        except LookupError:
            message = ("**This link does not open a clip** (it was mistyped, the clip is private, or its creator "
                       "made a new link).")
            return tab, "", None, None, "", message, None
        lineage = clip_feed.lineage_markdown(clip_feed.lineage(store, record.id, viewer_id=viewer.id))
        status = f"Opened from a link: “{markdown_text(record.prompt, limit=120)}” by {markdown_text(record.user or '?')}"
        return tab, record.id, record.video_path, record.public_dict(studio.home), lineage, status, token

    return load


def check_remix(studio: Any, clip: str, user: UserInfo, token: str | None) -> None:
    """Before a remix: the parent must be visible to `user` and open to remix (unless it is theirs)."""
    sharing.check_remix(studio.store, clip, user, token)


def _project_handlers(studio: Any, user_of: UserOf, render_place: Callable[[Any], Any],
                      size_of: Callable[[str], tuple[int, int]]) -> dict[str, Callable[..., Any]]:
    """The Projects tab's callbacks by name, each one library call as the signed-in visitor."""
    store = studio.store

    def shown(view: projects.ProjectView) -> tuple[dict[str, Any], list[list[Any]]]:
        return view.to_dict(), view.table()

    def mine(session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> list[dict[str, Any]]:
        return projects.list_projects(store, user_of(session, profile, http))

    def create(title: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any, str]:
        view = projects.create_project(store, user_of(session, profile, http), title or "")
        return *shown(view), view.id

    def open_(project: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.get_project(store, user_of(session, profile, http), project or ""))

    def invite(project: str, username: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.invite(store, user_of(session, profile, http), project or "", username or ""))

    def revoke(project: str, username: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.revoke(store, user_of(session, profile, http), project or "", username or ""))

    def add(project: str, text: str, camera: str, seconds: Any, session: str | None, profile: gr.OAuthProfile | None,
            http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.add_shot(store, user_of(session, profile, http), project or "", text or "", camera or "static", seconds))

    def edit(project: str, shot: str, text: str, camera: str, seconds: Any, session: str | None,
             profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.edit_shot(store, user_of(session, profile, http), project or "", shot or "",
                                        prompt=text or None, camera=camera or None, seconds=seconds))

    def remove(project: str, shot: str, session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[Any, Any]:
        return shown(projects.remove_shot(store, user_of(session, profile, http), project or "", shot or ""))

    def render(project: str, engine: str, size: str, fps: float, seed: float, session: str | None,
               profile: gr.OAuthProfile | None, http: gr.Request) -> tuple[str, dict[str, Any]]:
        width, height = size_of(size)
        owner = user_of(session, profile, http)
        with render_place(http):
            record = projects.render_project(studio, owner, project or "", engine=engine or "world", width=width,
                                             height=height, fps=int(float(fps)), seed=int(float(seed)))
        return record.video_path, record.public_dict(studio.home)

    return {"mine": mine, "create": create, "open_": open_, "invite": invite, "revoke": revoke, "add": add,
            "edit": edit, "remove": remove, "render": render}


def _projects_panel(sizes: list[str], default_size: str) -> dict[str, Any]:
    """The Projects tab's components by name (call inside the tab)."""
    gr.Markdown("Make a storyboard together: the owner invites people by username, everyone on the project adds "
                "and edits shots (every change is kept), the owner renders. The clip's record and its C2PA "
                "manifest name every contributor. Signed-in accounts only.")
    with gr.Row():
        list_btn = gr.Button("My projects")
        title = gr.Textbox(label="New project title", max_lines=1, max_length=projects.MAX_TITLE)
        create_btn = gr.Button("Create", variant="primary")
    listing = gr.JSON(label="Projects I own or was invited to")
    with gr.Row():
        project_id = gr.Textbox(label="Project id", max_lines=1, elem_id="project-id")
        open_btn = gr.Button("Open project")
        member = gr.Textbox(label="Username", max_lines=1)
        invite_btn = gr.Button("Invite")
        revoke_btn = gr.Button("Revoke", variant="stop")
    table = gr.Dataframe(headers=["shot id", "shot", "camera", "seconds", "last edited by"], interactive=False,
                         label="Shots")
    with gr.Row():
        shot_id = gr.Textbox(label="Shot id (to edit or remove)", max_lines=1)
        shot_text = gr.Textbox(label="Shot text", max_lines=2)
        camera = gr.Textbox(label="Camera", value="static", max_lines=1)
        seconds = gr.Number(2, label="Seconds", minimum=0.5, maximum=20)
    with gr.Row():
        add_btn = gr.Button("Add shot")
        edit_btn = gr.Button("Save edit")
        remove_btn = gr.Button("Remove shot")
    with gr.Accordion("Render (owner)", open=False):
        with gr.Row():
            engine = gr.Textbox(label="Engine / model", value="world", max_lines=1)
            size = gr.Dropdown(sizes, value=default_size, label="Size", allow_custom_value=True)
            fps = gr.Slider(8, 60, value=24, step=1, label="FPS")
            seed = gr.Number(0, label="Seed", precision=0, minimum=0)
        render_btn = gr.Button("Render project", variant="primary")
        video = gr.Video(label="Project clip", interactive=False)
        clip_record = gr.JSON(label="Record (info.project names the contributors)")
    project_json = gr.JSON(label="Project (members, shots, edit history)")
    return locals()


_VIEW = ["project_json", "table"]
# button, handler, inputs (the session state follows them), outputs, endpoint; wired in this order
PROJECT_WIRING = [
    ("list_btn", "mine", [], ["listing"], "project_list"),
    ("create_btn", "create", ["title"], [*_VIEW, "project_id"], "project_create"),
    ("open_btn", "open_", ["project_id"], _VIEW, "project_open"),
    ("invite_btn", "invite", ["project_id", "member"], _VIEW, "project_invite"),
    ("revoke_btn", "revoke", ["project_id", "member"], _VIEW, "project_revoke"),
    ("add_btn", "add", ["project_id", "shot_text", "camera", "seconds"], _VIEW, "project_add_shot"),
    ("edit_btn", "edit", ["project_id", "shot_id", "shot_text", "camera", "seconds"], _VIEW, "project_edit"),
    ("remove_btn", "remove", ["project_id", "shot_id"], _VIEW, "project_remove_shot"),
]


def build_projects_tab(studio: Any, session_user: gr.State, user_of: UserOf, shown_errors: Callable[[Callable], Callable],
                       render_place: Callable[[Any], Any], gpu: Callable[[Callable], Callable], render_slots: int,
                       size_of: Callable[[str], tuple[int, int]], sizes: list[str], default_size: str) -> None:
    """The Projects tab: shared storyboards (create, invite, revoke, add / edit / remove shots, render)."""
    handlers = _project_handlers(studio, user_of, render_place, size_of)
    with gr.Tab("Projects"):
        parts = _projects_panel(sizes, default_size)
    for button, handler, inputs, outputs, endpoint in PROJECT_WIRING:
        parts[button].click(shown_errors(handlers[handler]), [*(parts[i] for i in inputs), session_user],
                            [parts[o] for o in outputs], api_name=endpoint, concurrency_limit=LIGHT_SLOTS)
    parts["render_btn"].click(gpu(shown_errors(handlers["render"])),
                              [parts[i] for i in ("project_id", "engine", "size", "fps", "seed")] + [session_user],
                              [parts["video"], parts["clip_record"]], api_name="project_render",
                              concurrency_id="render", concurrency_limit=render_slots)
