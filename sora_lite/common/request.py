"""The request and result records every door, engine and check shares: `GenerationRequest`, `GenerationResult`.

A door (app, CLI, eval) builds a `GenerationRequest`; moderation and the cameo checks read it; an engine
returns a `GenerationResult`. Low in the layers so that reading a request never imports an engine.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from sora_lite.common.errors import RequestError
from sora_lite.common.storyboard import check_shots

if TYPE_CHECKING:  # a record names its clip type; media is a layer above
    from sora_lite.media import Clip

# progress(stage, fraction_done_of_that_stage); stages: "parse", "simulate", "render", "audio", "encode", ...
ProgressFn = Callable[[str, float], None]

MIN_SIZE, MAX_SIZE = 128, 1024
MIN_FPS, MAX_FPS = 8, 60
MIN_SECONDS, MAX_SECONDS = 1.0, 20.0
MAX_PROMPT_CHARS = 2000


def has_words(text: str) -> bool:
    """Whether `text` has at least one letter or digit: zero-width characters, emoji, punctuation and
    spaces alone describe nothing, so they count as an empty prompt."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


@dataclass
class GenerationRequest:
    """What a user asked for. Round-trips through JSON (`to_dict` / `from_dict`).

    image: path of a still to animate. spec: a scene spec dict (world engine) that replaces the parse of
    `prompt`. shots: a storyboard, a list of {"prompt": str, "camera": str, "seconds": float, "spec": {...}}.
    parent_video: path of the clip a remix starts from. options: engine-specific extras (for the world
    engine e.g. {"perturbations": [...], "ground_truth": true}).
    """

    prompt: str = ""
    image: str | None = None
    seconds: float = 4.0
    width: int = 256
    height: int = 256
    fps: int = 24
    seed: int = 0
    spec: dict[str, Any] | None = None
    shots: list[dict[str, Any]] | None = None
    engine: str = "world"
    parent_video: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationRequest":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise RequestError(f"unknown request fields: {sorted(unknown)}")
        return cls(**data)

    def validate(self) -> None:
        """Reject what no engine can serve, with a message a user understands."""
        if not isinstance(self.prompt, str):
            raise RequestError("prompt must be text")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise RequestError(f"prompt is {len(self.prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
        if not has_words(self.prompt) and not self.spec and not self.shots and not self.image:
            raise RequestError("the prompt is empty: describe a scene, or pass a scene spec or a storyboard")
        for name in ("width", "height"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not MIN_SIZE <= v <= MAX_SIZE:
                raise RequestError(f"{name} must be an integer from {MIN_SIZE} to {MAX_SIZE} pixels, got {v!r}")
        if not isinstance(self.fps, int) or isinstance(self.fps, bool) or not MIN_FPS <= self.fps <= MAX_FPS:
            raise RequestError(f"fps must be an integer from {MIN_FPS} to {MAX_FPS}, got {self.fps!r}")
        try:
            seconds = float(self.seconds)
        except (TypeError, ValueError):
            raise RequestError(f"seconds must be a number, got {self.seconds!r}") from None
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise RequestError(f"duration must be from {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds, got {self.seconds!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise RequestError(f"seed must be an integer from 0 to 2**32-1, got {self.seed!r}")
        if self.shots is not None:
            check_shots(self.shots)


@dataclass
class GenerationResult:
    """What an engine made.

    spec: the scene spec actually used (world engine) or None. info: JSON-able facts for the record:
    words used / ignored, what was snapped, how the audio was made ("audio_source"), shot boundaries
    ("shots": [{"index", "start_frame", "end_frame", "prompt", "camera"}]), per-stage timings.
    ground_truth: per-frame poses and contact events (world engine), or None.
    """

    clip: Clip
    spec: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    ground_truth: dict[str, Any] | None = None


def parse_size(text: str | int) -> tuple[int, int]:
    """The one reading of a size a user types (app, CLI, eval): "N" for N×N, or "WxH" ("×" and spaces allowed).
    Whether the size is allowed is `GenerationRequest.validate`'s business; this only reads it."""
    raw = str(text).strip().lower().replace("×", "x")
    parts = [p.strip() for p in raw.split("x")]
    try:
        if len(parts) > 2 or not all(parts):
            raise ValueError
        width, height = (int(parts[0]), int(parts[-1]))
    except ValueError:
        raise RequestError(f"size must be N or WxH in pixels (e.g. 256 or 512x288), got {text!r}") from None
    return width, height
