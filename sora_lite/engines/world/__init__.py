"""The embedded world engine: a MuJoCo simulation rendered headless, with sound from its contacts.

Importing this package registers the engine as "world". `MUJOCO_GL` defaults to EGL (Mesa on CPU) and
must be set before MuJoCo is imported, so it is set here, first.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.base import register_engine  # noqa: E402


def _make_world_engine():  # imported lazily: MuJoCo loads only when the engine is first used
    from sora_lite.engines.world.engine import WorldEngine

    return WorldEngine()


register_engine("world", _make_world_engine)
