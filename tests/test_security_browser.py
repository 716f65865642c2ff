"""Issue 13, attack 5 in a real browser: hostile prompts shown in the lineage view stay text.

Clips whose prompts are HTML and Markdown (an image from a tracking server, a LOGIN link, `<details open>`)
are opened in Debian's chromium; the test asserts that no request leaves the page for them (neither the
browser's own request log nor the tracking server sees one) and that no element is created from them.
"""

from __future__ import annotations

import http.server
import threading

import pytest
from app_server import CHROMIUM, NEEDS_CHROMIUM, free_port
from app_server import CHROMIUM_ARGS as ARGS


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    NEEDS_CHROMIUM,
]


@pytest.fixture
def tracker():
    """A web server that only counts who asks it for anything."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port, hits
    server.shutdown()


def test_hostile_prompts_in_the_lineage_make_no_request_and_no_element(tmp_path, tracker):
    from fake_engine import register
    from playwright.sync_api import sync_playwright
    from security_server import served

    from sora_lite.engines import GenerationRequest

    register()
    port, hits = tracker
    base = f"http://127.0.0.1:{port}"
    hostile = [
        f"<img src={base}/track.png>",
        f'<a href="{base}/login" id="evil">LOGIN</a>',
        "<details open><summary>open me</summary>x</details>",
        f"![pixel]({base}/md.png) [LOGIN]({base}/mdlink)",
        f"<iframe src={base}/frame></iframe>",
    ]
    with served(tmp_path / "home") as (demo, studio):
        parent = studio.generate(GenerationRequest(prompt=f"<img src={base}/parent.png>", engine="fake", width=128,
                                                   height=128, fps=8, seconds=1))
        children = [studio.remix(parent.id, prompt) for prompt in hostile]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                requested: list[str] = []
                page.on("request", lambda r: requested.append(r.url))
                page.goto(demo.local_url, wait_until="domcontentloaded")
                page.get_by_role("tab", name="Feed").click()
                box = page.locator("#clip-id textarea, #clip-id input").first
                for clip_id, expected in ((parent.id, "Remixed by"), (children[0].id, "Remix of")):
                    box.fill(clip_id)
                    page.get_by_role("button", name="Open", exact=True).click()
                    lineage = page.locator("#lineage")
                    page.wait_for_function(  # this clip's own lineage (its id also shows in its parent's)
                        "id => (document.querySelector('#lineage')?.innerText || '').includes('This clip: ' + id)",
                        arg=clip_id, timeout=60_000)
                    text = lineage.inner_text()
                    assert expected in text
                    for tag in ("img", "a", "details", "summary", "iframe"):
                        assert lineage.locator(tag).count() == 0, (tag, lineage.inner_html()[:500])
                    assert "<img src=" in text  # shown as the characters that were typed
                text = page.locator("#lineage").inner_text()
                box.fill(f"<img src={base}/error.png>")  # an error message quoting a hostile id
                page.get_by_role("button", name="Open", exact=True).click()
                try:
                    page.wait_for_function("() => document.body.innerHTML.includes('no clip with id')", timeout=60_000)
                except Exception:
                    page.screenshot(path=str(tmp_path / "error-toast.png"), full_page=True)
                    body = page.content()
                    i = body.find("error")
                    raise AssertionError(f"no error shown for a hostile clip id; page near 'error': {body[i-300:i+600]}")
                message = page.locator('[data-testid="toast-text"]').first
                assert "<img" in message.text_content()  # the id is quoted as text ...
                assert page.locator(f"img[src^='{base}']").count() == 0  # ... and makes no image
                page.wait_for_timeout(1000)
            finally:
                browser.close()
    assert not [u for u in requested if u.startswith(base)], requested
    assert hits == []
    assert "LOGIN" in text or "&lt;a" not in text
