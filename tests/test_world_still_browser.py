"""In a real browser (Debian's chromium via Playwright): uploading a still in the Create tab sets the horizon
slider to the world engine's estimate for that picture (issue 14)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from app_server import CHROMIUM, NEEDS_CHROMIUM, served_app
from app_server import CHROMIUM_ARGS as ARGS
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from test_world_i2v import photo  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, NEEDS_CHROMIUM]


def test_a_new_still_sets_the_horizon_slider_to_the_estimate(tmp_path):
    from playwright.sync_api import sync_playwright

    still = tmp_path / "still.png"
    Image.fromarray(photo(240, 320, horizon=0.62)).save(still)
    with served_app(tmp_path / "home") as (demo, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(demo.local_url, wait_until="domcontentloaded")
            number = page.locator("#horizon input[type=number]")
            number.wait_for(timeout=60_000)
            assert float(number.input_value()) == 0.0  # 0 = estimate it, until a still is given
            page.locator("#still input[type=file]").set_input_files(str(still))
            page.wait_for_function(
                "() => { const i = document.querySelector('#horizon input[type=number]'); return i && +i.value > 0; }",
                timeout=60_000)
            assert abs(float(number.input_value()) - 0.62) <= 0.03
        finally:
            browser.close()
