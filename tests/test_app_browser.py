"""A real browser (Debian's chromium via Playwright) types a prompt, clicks Generate and gets a video."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from app_server import CHROMIUM, NEEDS_CHROMIUM, served_app
from app_server import CHROMIUM_ARGS as ARGS



pytestmark = [
    pytest.mark.browser,
    NEEDS_CHROMIUM,
]


@pytest.fixture
def url(tmp_path):
    import app

    with served_app(tmp_path / "home", app.Defaults(engine="world", size="128x128", seconds=1, fps=8)) as (demo, studio):
        yield demo.local_url, studio


@pytest.mark.slow
def test_prompt_generate_video_screenshot(url, tmp_path):
    from PIL import Image
    from playwright.sync_api import expect, sync_playwright

    local_url, studio = url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(local_url, wait_until="domcontentloaded")
            page.locator("#prompt textarea").wait_for(timeout=60_000)
            page.locator("#prompt textarea").fill("two blue balls bounce on a checker floor")
            page.locator("#generate").click()
            video = page.locator("#result-video video")
            expect(video).to_be_attached(timeout=120_000)
            page.wait_for_function("() => { const v = document.querySelector('#result-video video'); return v && v.readyState >= 2; }", timeout=60_000)
            shot = Path(os.environ.get("SORA_LITE_SCREENSHOT_DIR") or tmp_path) / "create.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 5.0, "the screenshot is blank"
    [record] = studio.feed()
    assert record.prompt == "two blue balls bounce on a checker floor" and record.engine == "world"
