"""Policy (policy.md), prompt moderation and output moderation: the checks every clip passes once, in the studio flow.

The names below load on first use (PEP 562), so that importing one submodule (e.g. `safety.language` in the
CLI's language helper process) does not load the rules, the classifier and NumPy."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
           "PromptModerator": "sora_lite.safety.moderation",
           "Verdict": "sora_lite.safety.moderation",
           "moderate_prompt": "sora_lite.safety.moderation",
           "moderate_prompts": "sora_lite.safety.moderation",
           "warm_up": "sora_lite.safety.moderation",
           "OutputVerdict": "sora_lite.safety.output",
           "moderate_output": "sora_lite.safety.output",
}

__all__ = ["OutputVerdict", "PromptModerator", "Verdict", "moderate_output", "moderate_prompt", "moderate_prompts",
           "warm_up"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
