"""The record of one made clip, shared by the studio (which makes it), the feed (which stores and lists it)
and the doors (which show it): in the lowest layer so the feed need not import the studio."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ClipRecord:
    """Everything known about one made clip; round-trips through JSON for the UI, the CSVs and the tests."""

    id: str
    prompt: str
    engine: str
    seed: int
    request: dict[str, Any]
    video_path: str
    spec: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    ground_truth_path: str | None = None
    thumbnail_path: str | None = None
    parent_id: str | None = None
    user: str | None = None
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    def public_dict(self, *roots: str | Path) -> dict[str, Any]:
        """The record for anyone to see: every server path under `roots` (the studio's home) cut to its file
        name, so a public record tells nobody where files live (the cameo's face texture included)."""
        prefixes = sorted({str(p) for r in roots for p in (Path(r), Path(r).resolve())}, key=len, reverse=True)
        return _without_paths(self.to_dict(), tuple(prefixes))


def _without_paths(value: Any, prefixes: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _without_paths(v, prefixes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_paths(v, prefixes) for v in value]
    if isinstance(value, str) and any(value.startswith(p + os.sep) or value == p for p in prefixes):
        return Path(value).name
    return value
