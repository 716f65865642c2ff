"""Serve the real app on 127.0.0.1 with a private home, for the API and browser tests."""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

# Debian's chromium, driven by Playwright (its own browser download cannot work here), and the flags that keep
# it off the closed network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(home: Path, defaults: object | None = None, **build: object) -> Iterator[tuple[object, object]]:
    """(demo, studio) of `app.py` serving from `home`; SORA_LITE_HOME points there while it runs. `build`: more
    arguments for `app.build_demo` (e.g. single_user)."""
    old = os.environ.get("SORA_LITE_HOME")
    os.environ["SORA_LITE_HOME"] = str(home)
    import app
    from sora_lite.studio import Studio

    studio = Studio(home)
    demo = app.build_demo(studio, defaults, **build)
    app.launch(demo, studio, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo, studio
    finally:
        demo.close()
        if old is None:
            os.environ.pop("SORA_LITE_HOME", None)
        else:
            os.environ["SORA_LITE_HOME"] = old
