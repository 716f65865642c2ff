"""A share link opened in a real browser (Debian's chromium via Playwright) shows the clip; without its token
an unlisted clip stays hidden, and a deleted clip's link says it was deleted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from app_server import CHROMIUM, NEEDS_CHROMIUM
from app_server import CHROMIUM_ARGS as ARGS
from fake_engine import register
from security_server import served

pytestmark = [pytest.mark.browser, pytest.mark.slow, NEEDS_CHROMIUM]
register()


def test_share_link_opens_the_clip_in_chromium(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from sora_lite import accounts
    from sora_lite.engines import GenerationRequest
    from sora_lite.social import sharing

    with served(tmp_path / "home") as (demo, studio):
        alice = accounts.create_account(studio.store, "alice", "alice-password-1")
        record = studio.generate(GenerationRequest(prompt="an orange lantern sways", engine="fake", width=128, height=128,
                                                   fps=8, seconds=1), user=alice)
        sharing.set_visibility(studio.store, alice, record.id, "unlisted")
        link = sharing.share_link(studio.store, alice, record.id, demo.local_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})  # a stranger's browser
                page.goto(link.url, wait_until="domcontentloaded")
                expect(page.locator("#link-status")).to_contain_text("orange lantern", timeout=60_000)
                page.wait_for_function("() => { const v = document.querySelector('#feed-video video');"
                                       " return v && v.readyState >= 2; }", timeout=60_000)
                shot = Path(os.environ.get("SORA_LITE_SCREENSHOT_DIR") or tmp_path) / "share-link.png"
                page.screenshot(path=str(shot), full_page=True)

                page.goto(link.url.split("&k=")[0], wait_until="domcontentloaded")  # the id without the token
                expect(page.locator("#link-status")).to_contain_text("does not open a clip", timeout=60_000)
                assert page.locator("#feed-video video").count() == 0

                studio.delete(record.id, user=alice)
                page.goto(link.url, wait_until="domcontentloaded")
                expect(page.locator("#link-status")).to_contain_text("was deleted", timeout=60_000)
            finally:
                browser.close()


def test_an_invited_collaborator_edits_the_project_in_chromium(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from sora_lite import accounts
    from sora_lite.social import projects

    with served(tmp_path / "home") as (demo, studio):
        alice = accounts.create_account(studio.store, "alice", "alice-password-1")
        accounts.create_account(studio.store, "bobby", "bobby-password-1")
        pid = projects.create_project(studio.store, alice, "Lantern story").id
        projects.add_shot(studio.store, alice, pid, "an orange lantern hangs still", "static", 1)
        projects.invite(studio.store, alice, pid, "bobby")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(demo.local_url, wait_until="domcontentloaded")
                page.get_by_text("Account (optional").click()
                page.get_by_label("Username").first.fill("bobby")
                page.get_by_label("Password").first.fill("bobby-password-1")
                page.get_by_role("button", name="Sign in", exact=True).click()
                expect(page.locator("#account-status")).to_contain_text("Signed in as", timeout=60_000)
                page.get_by_role("tab", name="Projects").click()
                page.locator("#project-id textarea, #project-id input").first.fill(pid)
                page.get_by_role("button", name="Open project", exact=True).click()
                shown = "t => document.body.innerText.includes(t)"  # visible text only (innerText)
                page.wait_for_function(shown, arg="an orange lantern hangs still", timeout=60_000)
                page.get_by_label("Shot text").fill("the lantern swings in the wind")
                page.get_by_role("button", name="Add shot", exact=True).click()
                page.wait_for_function(shown, arg="the lantern swings in the wind", timeout=60_000)
                shot = Path(os.environ.get("SORA_LITE_SCREENSHOT_DIR") or tmp_path) / "project.png"
                page.screenshot(path=str(shot), full_page=True)
            finally:
                browser.close()
        view = projects.get_project(studio.store, alice, pid)
        assert [(s.prompt, s.created_by) for s in view.shots] == [
            ("an orange lantern hangs still", "alice"), ("the lantern swings in the wind", "bobby")]
