"""The embedded world engine: a MuJoCo simulation rendered headless, with sound from its contacts.

Importing this package registers the engine as "world". `MUJOCO_GL` defaults to EGL (Mesa on CPU) and
must be set before MuJoCo is imported, so it is set here, first.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

# Triton (installed with CUDA builds of torch) carries its own LLVM: importing it after Mesa's llvmpipe has
# made an EGL context crashes the process (a segfault in triton/knobs.py, seen on these machines), and torch
# imports it lazily (torchvision.ops → torch._dynamo). Loading it first, when present, makes the order safe.
try:
    import triton  # noqa: F401
except ImportError:
    pass

from sora_lite.engines.base import register_engine  # noqa: E402


def _make_world_engine():  # imported lazily: MuJoCo loads only when the engine is first used
    from sora_lite.engines.world.engine import WorldEngine

    return WorldEngine()


register_engine("world", _make_world_engine)
