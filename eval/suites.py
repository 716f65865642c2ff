"""Prompt suites: load one by name (`prompts/<name>.jsonl`), from a local JSONL file, or from a Hub dataset id.

Everything goes through the `datasets` library so a suite published on the Hub and one on disk load the
same way. Each row has `id`, `text`, `tags` and `expectations` (see prompts/README.md).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
BUILTIN_SUITES = ("alignment", "physics", "av_sync", "multishot")
# What a built-in suite must hold; the tests check the shipped files against it.
MIN_COUNTS = {"alignment": 100, "physics": 60, "av_sync": 30, "multishot": 10}
PHYSICS_LAWS = (
    "free_fall",
    "bouncing",
    "sliding_friction",
    "collision",
    "pendulum",
    "rolling_ramp",
    "stacking",
    "object_permanence",
    "projectile",
)


class SuiteError(ValueError):
    """A suite that cannot be loaded or is malformed; the message says which and what to do."""


@dataclass
class PromptItem:
    """One prompt of a suite; `expectations` are the machine-checkable facts the metrics test against."""

    id: str
    text: str
    tags: list[str] = field(default_factory=list)
    expectations: dict[str, Any] = field(default_factory=dict)
    suite: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Suite:
    name: str
    source: str  # the file or Hub id it came from
    prompts: list[PromptItem]

    def __len__(self) -> int:
        return len(self.prompts)


def load_suite(name: str, limit: int | None = None, split: str = "train") -> Suite:
    """Load a suite: a built-in name, a path to a .jsonl/.json file, or a Hub dataset id ("user/name")."""
    if not isinstance(name, str) or not name.strip():
        raise SuiteError(f"a suite must be a name ({', '.join(BUILTIN_SUITES)}), a JSONL path or a Hub dataset id")
    name = name.strip()
    if name in BUILTIN_SUITES:
        path = PROMPTS_DIR / f"{name}.jsonl"
        if not path.is_file():
            raise SuiteError(f"built-in suite {name!r} is missing: expected {path}")
        rows, source, suite_name = _load_local(path), str(path), name
    elif Path(name).expanduser().exists() or name.endswith((".jsonl", ".json")):
        path = Path(name).expanduser()
        if not path.is_file():
            raise SuiteError(f"suite file {path} does not exist")
        rows, source, suite_name = _load_local(path), str(path), path.stem
    elif "/" in name:
        rows, source, suite_name = _load_hub(name, split), name, name.rsplit("/", 1)[-1]
    else:
        raise SuiteError(
            f"unknown suite {name!r}: use one of {', '.join(BUILTIN_SUITES)}, a path to a .jsonl file, "
            "or a Hub dataset id like 'user/my-prompts'"
        )
    prompts = _validate(rows, source, suite_name)
    if limit is not None:
        if limit < 1:
            raise SuiteError(f"--limit must be at least 1, got {limit}")
        prompts = prompts[:limit]
    return Suite(name=suite_name, source=source, prompts=prompts)


def load_suites(names: str | list[str], limit: int | None = None) -> list[Suite]:
    """Load a comma-separated list (as `--suites` gives it) or a list of suite names."""
    if isinstance(names, str):
        names = [n for n in (s.strip() for s in names.split(",")) if n]
    if not names:
        raise SuiteError("no suites given: pass e.g. --suites alignment,physics")
    suites = [load_suite(n, limit=limit) for n in names]
    seen: dict[str, str] = {}
    for s in suites:
        if s.name in seen:
            raise SuiteError(f"two suites are both named {s.name!r} ({seen[s.name]} and {s.source}); rename one file")
        seen[s.name] = s.source
    return suites


def _load_local(path: Path) -> list[dict[str, Any]]:
    from datasets import load_dataset

    try:
        ds = load_dataset("json", data_files=str(path), split="train")
    except Exception as e:  # datasets wraps JSON and Arrow errors in several types
        raise SuiteError(f"cannot read suite file {path}: {type(e).__name__}: {e}") from None
    return [dict(r) for r in ds]


def _load_hub(dataset_id: str, split: str) -> list[dict[str, Any]]:
    from datasets import load_dataset

    try:
        ds = load_dataset(dataset_id, split=split)
    except Exception as e:  # offline, missing, gated: all end the same way for the user
        cache = os.environ.get("HF_HOME", str(Path.home() / ".cache" / "huggingface"))
        raise SuiteError(
            f"cannot load the Hub dataset {dataset_id!r} (split {split!r}): {type(e).__name__}: {e}. "
            f"If this machine is offline, download it where there is network with "
            f"`hf download --repo-type dataset {dataset_id}` (older: `huggingface-cli download --repo-type dataset "
            f"{dataset_id}`) and copy the cache into HF_HOME (now {cache}), or pass a local JSONL path instead."
        ) from None
    return [dict(r) for r in ds]


def _drop_nulls(value: Any) -> Any:
    # Arrow fills keys missing from one row with None when it merges row schemas; they were never written.
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _validate(rows: list[dict[str, Any]], source: str, suite_name: str) -> list[PromptItem]:
    if not rows:
        raise SuiteError(f"suite {source} has no prompts")
    prompts: list[PromptItem] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        where = f"{source} row {i}"
        pid, text = row.get("id"), row.get("text")
        if not isinstance(pid, (str, int)) or str(pid).strip() == "":
            raise SuiteError(f"{where}: every prompt needs an 'id'")
        pid = str(pid)
        if pid in seen:
            raise SuiteError(f"{where}: id {pid!r} appears twice; ids must be unique within a suite")
        seen.add(pid)
        if not isinstance(text, str) or not text.strip():
            raise SuiteError(f"{where} ({pid}): 'text' must be a non-empty string")
        tags = row.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise SuiteError(f"{where} ({pid}): 'tags' must be a list of strings")
        expectations = _drop_nulls(row.get("expectations") or {})
        if not isinstance(expectations, dict):
            raise SuiteError(f"{where} ({pid}): 'expectations' must be an object")
        law = expectations.get("law")
        if law is not None and law not in PHYSICS_LAWS:
            raise SuiteError(f"{where} ({pid}): unknown law {law!r}; choose one of {', '.join(PHYSICS_LAWS)}")
        shots = expectations.get("shots")
        if shots is not None and (not isinstance(shots, list) or not all(isinstance(s, dict) and s.get("prompt") for s in shots)):
            raise SuiteError(f"{where} ({pid}): 'expectations.shots' must be a list of objects with a 'prompt'")
        prompts.append(PromptItem(id=pid, text=text.strip(), tags=tags, expectations=expectations, suite=suite_name))
    return prompts
