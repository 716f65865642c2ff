"""The account row: on a Space the Hugging Face sign-in button; elsewhere local accounts (sign in, create,
sign out) bound to this browser's visitor cookie. Named endpoints: sign_in, sign_up, sign_out."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from app_ui.context import LIGHT_SLOTS, ON_SPACE, AppContext
from app_ui.errors import shown_errors
from sora_lite import accounts
from sora_lite.markup import markdown_text

log = logging.getLogger("sora_lite.app")


def acting_as(user: accounts.UserInfo) -> str:
    """One line telling the visitor who they act as."""
    if user.provider == "local":
        return "Acting as the local user (single-user mode)."
    if user.provider in ("guest", "anonymous"):
        return "Signed out: acting as a guest of this browser (your own clips only; sign in for cameos)."
    return f"Signed in as **{markdown_text(user.display_name)}**."


def build_account_row(ctx: AppContext, demo: gr.Blocks, session_user: gr.State) -> None:
    """Add the account row (call inside `with gr.Blocks() as demo:`)."""
    store = ctx.studio.store

    def enter(http: gr.Request, verb: str, account: Callable[..., accounts.UserInfo], username: str,
              password: str) -> accounts.UserInfo:
        """Bind this browser's visitor cookie to the account `account(store, username, password)` gives."""
        me = ctx.visitor(http)
        if not me:
            raise PermissionError(f"this browser sent no visitor cookie: reload the page, then {verb}")
        user = account(store, username, password, client=ctx.client(http))
        accounts.sign_in_visitor(store, me, user)
        return user

    @shown_errors
    def sign_in(username: str, password: str, http: gr.Request) -> tuple[str, str]:
        user = enter(http, "sign in", accounts.authenticate, username, password)
        return user.username, acting_as(user)

    @shown_errors
    def sign_up(username: str, password: str, http: gr.Request) -> tuple[str, str]:
        user = enter(http, "sign up", accounts.create_account, username, password)
        return user.username, "Account created. " + acting_as(user)

    def sign_out(http: gr.Request) -> tuple[None, str]:
        accounts.sign_out_visitor(store, ctx.visitor(http) or "")
        return None, "Signed out. " + acting_as(ctx.user_of(None, None, http))

    def whoami(profile: gr.OAuthProfile | None, http: gr.Request) -> str:
        try:
            return acting_as(ctx.user_of(None, profile, http))
        except Exception:  # never let the page-load greeting fail the page
            log.exception("could not tell who is acting")
            return "Acting as: unknown (reload the page)."

    with gr.Row():
        if ON_SPACE:
            gr.LoginButton()
            return
        with gr.Accordion("Account (optional: you are the local user until you sign in)", open=False):
            with gr.Row():
                username = gr.Textbox(label="Username", max_lines=1)
                password = gr.Textbox(label="Password", type="password", max_lines=1)
            with gr.Row():
                sign_in_btn = gr.Button("Sign in")
                sign_up_btn = gr.Button("Create account")
                sign_out_btn = gr.Button("Sign out")
            account_status = gr.Markdown("", elem_id="account-status")
        light = {"concurrency_limit": LIGHT_SLOTS}
        signed = [session_user, account_status]
        sign_in_btn.click(sign_in, [username, password], signed, api_name="sign_in", **light)
        sign_up_btn.click(sign_up, [username, password], signed, api_name="sign_up", **light)
        sign_out_btn.click(sign_out, None, signed, api_name="sign_out", **light)
        demo.load(whoami, None, [account_status], api_visibility="private", **light)
