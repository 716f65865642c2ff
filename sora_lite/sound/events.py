"""One record per sound the soundtrack contains, for the ground-truth sidecar (so AV metrics can be checked
on speech, footsteps and music as they are on impacts)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SoundEvent:
    kind: str  # "speech", "footstep", "impact", "music_accent", "music", "ambience"
    start: float  # seconds from the clip's first sample
    end: float
    source: str | None = None  # the object that makes it (a character for speech, a body for footsteps)
    words: str | None = None  # speech only: exactly the line spoken
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = round(self.start, 5), round(self.end, 5)
        return {k: v for k, v in d.items() if v not in (None, {})}
