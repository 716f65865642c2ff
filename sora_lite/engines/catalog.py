"""What the engine pickers offer: the registered engines, then every Hub checkpoint with whether it can run here.

Gradio dropdowns cannot grey out an entry, so a checkpoint without weights is labelled with the reason and
the command that fetches it; picking it anyway fails within seconds with the same message (EngineUnavailable).
"""

from __future__ import annotations

from dataclasses import dataclass

from sora_lite.engines.base import list_engines


@dataclass
class EngineChoice:
    value: str  # what GenerationRequest.engine gets
    label: str  # what the picker shows
    available: bool
    why_not: str = ""


def engine_choices() -> list[EngineChoice]:
    choices = [EngineChoice(name, f"{name} (embedded, no weights needed)" if name == "world" else name, True)
               for name in list_engines()]
    from sora_lite.engines.hub.loading import registry_rows

    for row in registry_rows():
        status = "ready" if row["weights_present"] else "not downloaded"
        sound = "with sound" if row["makes_audio"] else "foley sound"
        label = f"{row['model_id']} — {row['label']}, {sound}, ~{row['approx_memory_gib']:g} GiB — {status}"
        choices.append(EngineChoice(row["model_id"], label, bool(row["weights_present"]), row["why_not"]))
    return choices


def unavailable_note(choices: list[EngineChoice]) -> str:
    """Markdown listing the models that cannot run here and how to get each."""
    missing = [c for c in choices if not c.available]
    if not missing:
        return ""
    lines = [f"- `{c.value}`: {c.why_not}" for c in missing]
    return ("**Hub models without weights here** (picking one fails fast with this message; set `HF_HOME` to "
            "your cache, and `HF_TOKEN` for gated models):\n" + "\n".join(lines))
