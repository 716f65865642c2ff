"""Rendering first and importing torch's compiler stack afterwards must not crash the process.

Triton bundles its own LLVM and segfaults when imported after Mesa's llvmpipe made an EGL context; the world
package loads it first. Run in a fresh interpreter, since the order inside pytest depends on collection.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import os
os.environ.setdefault("MUJOCO_GL", "egl")
from sora_lite.engines import GenerationRequest, get_engine
get_engine("world").generate(GenerationRequest(prompt="a red ball", seconds=1, width=128, height=128, fps=8))
import torchvision.ops  # pulls torch._dynamo, which imports triton when installed
print("survived")
"""


@pytest.mark.slow
def test_torch_compiler_imports_after_rendering() -> None:
    res = subprocess.run([sys.executable, "-c", SCRIPT], cwd=Path(__file__).resolve().parents[1],
                         env={**os.environ}, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"exit {res.returncode}: {res.stderr[-2000:]}"
    assert "survived" in res.stdout


def test_the_world_package_maps_triton_s_library_without_importing_the_package() -> None:
    """The guard loads only Triton's shared library (what the crash needs first), not its Python package
    (~0.1 s of the CLI's start that a world-engine clip never uses)."""
    pytest.importorskip("triton")
    code = ("import sys; import sora_lite.engines.world; "
            "print('triton' in sys.modules, 'libtriton' in open('/proc/self/maps').read())")
    res = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                         env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["False", "True"]
