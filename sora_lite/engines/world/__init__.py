"""The embedded world engine: a MuJoCo simulation rendered headless, with sound from its contacts.

The registry (`sora_lite.engines.base`) names it "world" and imports `engine.WorldEngine` on first use. `MUJOCO_GL` defaults to EGL (Mesa on CPU) and
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
