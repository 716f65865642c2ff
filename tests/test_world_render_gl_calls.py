"""The renderer's texture-filtering calls go straight to the GL library (issue 15, CLI start-up: importing
PyOpenGL's `OpenGL.GL` for two calls cost ~80 ms a run). They must act exactly as PyOpenGL's do: the same
frames as with `OpenGL.GL`'s functions, and frames that differ when the calls are left out (so the
comparison can fail)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import hashlib, sys
from sora_lite.engines import GenerationRequest, get_engine
from sora_lite.engines.world import render
mode = sys.argv[1]
if mode == "pyopengl":
    from OpenGL import GL
    render._gl_texture_calls = lambda: (GL.glBindTexture, GL.glTexParameteri)
elif mode == "none":
    render._gl_texture_calls = lambda: None
request = GenerationRequest(prompt="a red ball bounces on a wooden floor", seconds=1.0, width=160, height=128,
                            fps=8, seed=1)
frames = get_engine("world").generate(request).clip.frames
print(hashlib.sha256(frames.tobytes()).hexdigest(), "OpenGL.GL" in sys.modules)
"""


def _render(mode: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_direct_gl_calls_render_what_pyopengl_renders_and_skipping_them_differs() -> None:
    direct, pyopengl, none = _render("direct"), _render("pyopengl"), _render("none")
    assert direct[1] == "False"  # OpenGL.GL was not imported
    assert direct[0] == pyopengl[0]
    assert none[0] != direct[0]
