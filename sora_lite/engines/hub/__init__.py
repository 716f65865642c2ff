"""Open video models from the Hugging Face Hub through diffusers (LTX-2, Wan, LTX-Video, CogVideoX).

Importing this package registers a resolver: `get_engine(name)` builds a `HubEngine` when `name` is a family
name ("ltx2", "wan", ...), a Hub id in the registry (`families.py`), a local diffusers folder, or a Hub id
whose cached snapshot has a `model_index.json` naming a known pipeline class. Nothing heavy is imported here:
torch and diffusers load when a model is first used.
"""

from __future__ import annotations

from sora_lite.engines.base import Engine, register_resolver


def _resolve(name: str) -> Engine | None:
    from sora_lite.engines.hub.loading import resolve_model

    ref = resolve_model(name)
    if ref is None:
        return None
    from sora_lite.engines.hub.engine import HubEngine

    return HubEngine(ref, name=name)


register_resolver(_resolve)
