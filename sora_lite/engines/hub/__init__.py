"""Open video models from the Hugging Face Hub through diffusers (LTX-2, Wan, LTX-Video, CogVideoX).

The registry (`sora_lite.engines.base`) calls `resolve` for a name it has no entry for: it builds a
`HubEngine` when `name` is a family name ("ltx2", "wan", ...), a Hub id in the registry (`families.py`), a local diffusers folder, or a Hub id
whose cached snapshot has a `model_index.json` naming a known pipeline class. Nothing heavy is imported here:
torch and diffusers load when a model is first used.
"""

from __future__ import annotations

from sora_lite.engines.base import Engine


def resolve(name: str) -> Engine | None:
    """A `HubEngine` for `name`, or None when `name` is no model this package knows."""
    from sora_lite.engines.hub.loading import resolve_model

    ref = resolve_model(name)
    if ref is None:
        return None
    from sora_lite.engines.hub.engine import HubEngine

    return HubEngine(ref, name=name)

