"""The embedded world engine: a MuJoCo simulation rendered headless, with sound from its contacts.

The registry (`sora_lite.engines.base`) names it "world" and imports `engine.WorldEngine` on first use. `MUJOCO_GL` defaults to EGL (Mesa on CPU) and
must be set before MuJoCo is imported, so it is set here, first.
"""

import os
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

# Triton (installed with CUDA builds of torch) carries its own LLVM: loading it after Mesa's llvmpipe has made
# an EGL context crashes the process (a segfault in triton/knobs.py, seen on these machines), and torch imports
# it lazily (torchvision.ops → torch._dynamo). Loading its library first, when present, makes the order safe.
# Only the shared library is loaded here (~25 ms), not the Python package (~120 ms, which a world-engine clip
# never uses); a later `import triton` finds the library already in place.


def _load_triton_library() -> None:
    import ctypes
    import importlib.util

    try:
        spec = importlib.util.find_spec("triton")
    except (ImportError, ValueError):
        return
    folders = (spec.submodule_search_locations or []) if spec is not None else []
    libraries = sorted(p for folder in folders for p in (Path(folder) / "_C").glob("libtriton*.so"))
    if not libraries:
        return
    try:
        ctypes.CDLL(str(libraries[0]))  # RTLD_LOCAL, as Python's own import of it
    except OSError:
        pass  # then `import triton` would fail here too; nothing to protect


_load_triton_library()
