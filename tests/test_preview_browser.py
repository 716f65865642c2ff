"""In a real browser (Debian's chromium via Playwright): the Create tab shows frames while the clip renders,
before the video exists, and Stop ends the render with nothing stored."""

from __future__ import annotations

import time

import pytest
from app_server import CHROMIUM, NEEDS_CHROMIUM, served_app
from app_server import CHROMIUM_ARGS as ARGS


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    NEEDS_CHROMIUM,
]

PREVIEW_IMG = "#live-preview img"
PREVIEW_SHOWN = "() => { const i = document.querySelector('#live-preview img'); return !!(i && i.src); }"


@pytest.fixture
def url(tmp_path):
    import app

    # a long clip, so that rendering takes seconds on two shared cores
    with served_app(tmp_path / "home", app.Defaults(engine="world", size="384x384", seconds=20, fps=24)) as (demo, studio):
        yield demo.local_url, studio


def _open(p, local_url: str):
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(local_url, wait_until="domcontentloaded")
    page.locator("#prompt textarea").wait_for(timeout=60_000)
    page.locator("#prompt textarea").fill("six red balls and four blue cubes bounce on a checker floor, slow orbit")
    return browser, page


def test_preview_frames_show_before_the_video_and_stop_ends_the_render(url):
    from playwright.sync_api import sync_playwright

    local_url, studio = url
    with sync_playwright() as p:
        browser, page = _open(p, local_url)
        try:
            page.locator("#generate").click()
            page.wait_for_function(PREVIEW_SHOWN, timeout=180_000)
            assert page.locator("#result-video video").count() == 0, "the preview came only with the finished video"
            first = page.locator(PREVIEW_IMG).get_attribute("src")
            page.wait_for_function(
                f"() => {{ const i = document.querySelector('{PREVIEW_IMG}'); return i && i.src && i.src !== {first!r}; }}",
                timeout=60_000)  # a later frame replaced the first: it is a stream, not one picture
            assert page.locator("#result-video video").count() == 0
            page.locator("#stop").click()
            time.sleep(3.0)  # the library test times the stop itself (≤ 1 s); here: it stops, nothing is stored
            assert page.locator("#result-video video").count() == 0, "Stop did not stop the render"
            assert studio.feed() == [], "a stopped render was stored"
        finally:
            browser.close()
