"""The Cameo tab and its named HTTP endpoints; wiring only, every callback is one library call.

`app.py` calls `build_cameo_tab(studio, session_user, user_of, shown_errors)` inside its `gr.Tabs()`.
Identity: every callback hands `user_of` what Gradio gives it (the `session_user` state, the Hugging Face
profile, the `gr.Request` with the visitor's signed cookie) and never a user name or id from the request, so
a caller cannot act as someone else. Endpoints: cameo_register, cameo_mine, cameo_visibility, cameo_request_access, cameo_requests,
cameo_approve, cameo_deny, cameo_revoke, cameo_list_grants, cameo_my_clips, cameo_delete_clip,
cameo_challenge, cameo_verify, cameo_delete (the owner deletes their cameo and, unless told to keep them, every
clip that used it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from sora_lite.accounts import UserInfo
from sora_lite.cameo import grants, registry, usage, verification

from app_ui.errors import whole_number

LIGHT_SLOTS = 8
UserOf = Callable[[Any, Any, Any], UserInfo]  # (session_user, HF profile, gr.Request)
Handlers = dict[str, Callable[..., Any]]
Panel = dict[str, Any]  # component name → component


def _files(value: Any) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(getattr(v, "name", v)) for v in items if v]


def _request_id(value: Any) -> int:
    return whole_number(value, "request id", registry.CameoError)


def _registration_handlers(store: Any, home: Any, user_of: UserOf) -> Handlers:
    """Register a cameo, show mine, and verify it with a live challenge recording."""

    def register(handle: str, photos: Any, video: Any, voice: Any, display_name: str, session: str | None,
                 profile: gr.OAuthProfile | None, http: gr.Request) -> dict[str, Any]:
        info = registry.register_cameo(store, home, user_of(session, profile, http), handle or "", photos=_files(photos),
                                       video=(_files(video) or [None])[0], voice=(_files(voice) or [None])[0],
                                       display_name=display_name)
        return info.to_dict()

    def mine(session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> list[dict[str, Any]]:
        user = user_of(session, profile, http)
        alerts = usage.likeness_alerts(store, user)
        return [{**c.to_dict(), "usable": c.verified, "likeness_alerts": alerts} for c in registry.list_cameos(store, user)]

    def challenge(handle: str, session: str | None, profile: gr.OAuthProfile | None,
                  http: gr.Request) -> dict[str, Any]:
        return verification.issue_challenge(store, user_of(session, profile, http), handle or "").to_dict()

    def verify(handle: str, recording: Any, session: str | None, profile: gr.OAuthProfile | None,
               http: gr.Request) -> dict[str, Any]:
        files = _files(recording)
        if not files:
            raise registry.CameoError("upload the recording of the challenge")
        return verification.verify_recording(store, user_of(session, profile, http), handle or "", files[0]).to_dict()

    return {"register": register, "mine": mine, "challenge": challenge, "verify": verify}


def _grant_handlers(store: Any, user_of: UserOf) -> Handlers:
    """Who may use a cameo: visibility, access requests, approvals, revocations."""

    def visibility(handle: str, value: str, session: str | None, profile: gr.OAuthProfile | None,
                   http: gr.Request) -> dict[str, Any]:
        return grants.set_visibility(store, user_of(session, profile, http), handle or "", value or "")

    def request_access(handle: str, session: str | None, profile: gr.OAuthProfile | None,
                       http: gr.Request) -> dict[str, Any]:
        return grants.request_access(store, user_of(session, profile, http), handle or "").to_dict()

    def requests(session: str | None, profile: gr.OAuthProfile | None, http: gr.Request) -> list[dict[str, Any]]:
        return [r.to_dict() for r in grants.pending_requests(store, user_of(session, profile, http))]

    def approve(request_id: Any, nonce: str, session: str | None, profile: gr.OAuthProfile | None,
                http: gr.Request) -> dict[str, Any]:
        return grants.approve(store, user_of(session, profile, http), _request_id(request_id), nonce or "").to_dict()

    def deny(request_id: Any, nonce: str, session: str | None, profile: gr.OAuthProfile | None,
             http: gr.Request) -> dict[str, Any]:
        return grants.deny(store, user_of(session, profile, http), _request_id(request_id), nonce or "").to_dict()

    def revoke(handle: str, grantee: str, session: str | None, profile: gr.OAuthProfile | None,
               http: gr.Request) -> list[dict[str, Any]]:
        return [r.to_dict() for r in grants.revoke(store, user_of(session, profile, http), handle or "", grantee or "")]

    def list_grants(handle: str, session: str | None, profile: gr.OAuthProfile | None,
                    http: gr.Request) -> dict[str, Any]:
        return grants.list_grants(store, user_of(session, profile, http), handle or "").to_dict()

    return {"visibility": visibility, "request_access": request_access, "requests": requests, "approve": approve,
            "deny": deny, "revoke": revoke, "list_grants": list_grants}


def _deletion_handlers(store: Any, user_of: UserOf) -> Handlers:
    """The clips that used my cameo (list, delete one) and deleting the cameo itself."""

    def my_clips(handle: str, session: str | None, profile: gr.OAuthProfile | None,
                 http: gr.Request) -> list[dict[str, Any]]:
        return [c.to_dict() for c in usage.clips_using(store, user_of(session, profile, http), (handle or "").strip() or None)]

    def delete_clip(clip_id: str, session: str | None, profile: gr.OAuthProfile | None,
                    http: gr.Request) -> dict[str, Any]:
        return usage.delete_clip_as_cameo_owner(store, user_of(session, profile, http), clip_id or "").to_dict()

    def delete_cameo(handle: str, delete_clips: bool, confirm: str, session: str | None,
                     profile: gr.OAuthProfile | None, http: gr.Request) -> dict[str, Any]:
        wanted = (handle or "").strip().lstrip("@").lower()
        if not wanted or (confirm or "").strip().lstrip("@").lower() != wanted:
            raise registry.CameoError("type the cameo's handle again in the confirmation box to delete it")
        return usage.delete_cameo(store, user_of(session, profile, http), wanted, delete_clips=bool(delete_clips)).to_dict()

    return {"my_clips": my_clips, "delete_clip": delete_clip, "delete_cameo": delete_cameo}


def _register_panel() -> Panel:
    with gr.Accordion("Register my cameo", open=True):
        with gr.Row():
            handle = gr.Textbox(label="Handle", placeholder="@alice", max_lines=1)
            display_name = gr.Textbox(label="Display name (optional)", max_lines=1)
        with gr.Row():
            photos = gr.File(label="1–5 photos of your face", file_count="multiple", type="filepath",
                             file_types=sorted(registry.PHOTO_SUFFIXES))
            video = gr.File(label="…or a short selfie video", type="filepath", file_types=sorted(registry.VIDEO_SUFFIXES))
            voice = gr.File(label="Voice sample (optional)", type="filepath", file_types=sorted(registry.VOICE_SUFFIXES))
        gr.Markdown("A new cameo is **not usable** until you verify it below with a live selfie video "
                    "(a photo could be anyone's). A face already registered by another account is refused.")
        register_btn = gr.Button("Register", variant="primary")
        mine_btn = gr.Button("Show my cameo")
        cameo_json = gr.JSON(label="My cameo")
    return locals()


def _verify_panel() -> Panel:
    with gr.Accordion("Verify it is me", open=False):
        gr.Markdown("Get a challenge, record it as a selfie video (with sound): look at the camera, blink, "
                    "say the code, turn your head the way it asks and back. Upload it. The result lists exactly "
                    "which checks ran here and which could not; the cameo becomes usable once it says verified.")
        challenge_btn = gr.Button("Get a challenge")
        challenge_json = gr.JSON(label="Challenge")
        recording = gr.File(label="Challenge recording", type="filepath", file_types=sorted(registry.VIDEO_SUFFIXES))
        verify_btn = gr.Button("Check my recording")
        verify_json = gr.JSON(label="Verification")
    return locals()


def _grants_panel() -> Panel:
    with gr.Accordion("Who may use it", open=False):
        with gr.Row():
            vis = gr.Radio(list(grants.VISIBILITY_WORDS), value="only_me", label="Visibility")
            vis_btn = gr.Button("Set")
        with gr.Row():
            requests_btn = gr.Button("Pending requests")
            grants_btn = gr.Button("List grants")
        with gr.Row():
            request_id = gr.Number(label="Request id", precision=0)
            nonce = gr.Textbox(label="Approval token (from the request)", max_lines=1)
            approve_btn = gr.Button("Approve")
            deny_btn = gr.Button("Deny", variant="stop")
        with gr.Row():
            revoke_user = gr.Textbox(label="User to revoke", max_lines=1)
            revoke_btn = gr.Button("Revoke", variant="stop")
        grants_json = gr.JSON(label="Grants and requests")
    with gr.Accordion("Use someone's cameo", open=False):
        other = gr.Textbox(label="Their handle", placeholder="@bob", max_lines=1)
        ask_btn = gr.Button("Ask for access")
        ask_json = gr.JSON(label="Request")
    return locals()


def _deletion_panel() -> Panel:
    with gr.Accordion("Delete my cameo", open=False):
        gr.Markdown("Deleting stops every use at once and removes its photos, face and voice files. The face "
                    "stays locked to your account, so nobody else can register it.")
        with gr.Row():
            delete_handle = gr.Textbox(label="Cameo handle", max_lines=1)
            delete_confirm = gr.Textbox(label="Type the handle again to confirm", max_lines=1)
        delete_clips = gr.Checkbox(value=True, label="Also delete every clip that used it (whoever made it)")
        delete_cameo_btn = gr.Button("Delete my cameo", variant="stop")
        deleted_json = gr.JSON(label="Deleted")
    with gr.Accordion("Clips that used my cameo", open=False):
        clips_btn = gr.Button("List")
        clip_to_delete = gr.Textbox(label="Clip id to delete", max_lines=1)
        delete_btn = gr.Button("Delete this clip", variant="stop")
        clips_json = gr.JSON(label="Clips")
    return locals()


# (button, handler, inputs, outputs, endpoint) in the order they are wired; "session_user" is the app's state
WIRING = [
    ("register_btn", "register", ["handle", "photos", "video", "voice", "display_name"], "cameo_json", "cameo_register"),
    ("mine_btn", "mine", [], "cameo_json", "cameo_mine"),
    ("vis_btn", "visibility", ["handle", "vis"], "cameo_json", "cameo_visibility"),
    ("ask_btn", "request_access", ["other"], "ask_json", "cameo_request_access"),
    ("requests_btn", "requests", [], "grants_json", "cameo_requests"),
    ("approve_btn", "approve", ["request_id", "nonce"], "grants_json", "cameo_approve"),
    ("deny_btn", "deny", ["request_id", "nonce"], "grants_json", "cameo_deny"),
    ("revoke_btn", "revoke", ["handle", "revoke_user"], "grants_json", "cameo_revoke"),
    ("grants_btn", "list_grants", ["handle"], "grants_json", "cameo_list_grants"),
    ("clips_btn", "my_clips", ["handle"], "clips_json", "cameo_my_clips"),
    ("delete_btn", "delete_clip", ["clip_to_delete"], "clips_json", "cameo_delete_clip"),
    ("challenge_btn", "challenge", ["handle"], "challenge_json", "cameo_challenge"),
    ("delete_cameo_btn", "delete_cameo", ["delete_handle", "delete_clips", "delete_confirm"], "deleted_json",
     "cameo_delete"),
    ("verify_btn", "verify", ["handle", "recording"], "verify_json", "cameo_verify"),
]


def build_cameo_tab(studio: Any, session_user: gr.State, user_of: UserOf, shown_errors: Callable[[Callable], Callable]) -> None:
    """Add the Cameo tab to the Blocks being built (call inside `with gr.Tabs():`)."""
    store, home = studio.store, studio.home
    handlers = {**_registration_handlers(store, home, user_of), **_grant_handlers(store, user_of),
                **_deletion_handlers(store, user_of)}
    with gr.Tab("Cameo"):
        gr.Markdown(
            "Put **your** likeness in videos, and decide who else may: register with 1–5 photos or a short "
            "selfie video, then name it in a prompt as `@handle`. Every use, grant and revocation is logged; "
            "revoking takes effect for the next check, including jobs already running."
        )
        parts = {**_register_panel(), **_verify_panel(), **_grants_panel(), **_deletion_panel()}
    for button, handler, inputs, output, endpoint in WIRING:
        parts[button].click(shown_errors(handlers[handler]), [*(parts[i] for i in inputs), session_user],
                            [parts[output]], api_name=endpoint, concurrency_limit=LIGHT_SLOTS)
