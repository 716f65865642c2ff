"""The engine protocol, the request and result records, and the name → engine registry.

A door (app, CLI, eval) builds a `GenerationRequest`; `sora_lite.studio` picks the engine from the registry
and calls `generate`. Hub models register here as more entries, so no door knows which engine it talks to.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

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


class RequestError(ValueError):
    """A request that cannot be served as asked (bad size, bad spec ...); the message is for the user."""


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (missing weights, missing renderer); the message says how to fix it."""


class Cancelled(RuntimeError):
    """The caller cancelled the job between steps."""


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
            if not isinstance(self.shots, list) or not self.shots:
                raise RequestError("a storyboard needs a non-empty list of shots")
            if len(self.shots) > 12:
                raise RequestError(f"a storyboard may have at most 12 shots, got {len(self.shots)}")
            for i, shot in enumerate(self.shots):
                if not isinstance(shot, dict):
                    raise RequestError(f"shot {i + 1} must be an object with 'prompt' and optional 'camera', 'seconds'")


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


@runtime_checkable
class Engine(Protocol):
    name: str

    def availability(self) -> tuple[bool, str]:
        """(True, "") when the engine can run now, else (False, why and how to fix)."""
        ...

    def generate(
        self,
        request: GenerationRequest,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> GenerationResult:
        ...


_FACTORIES: dict[str, Callable[[], Engine]] = {}
_RESOLVERS: list[Callable[[str], Engine | None]] = []
_INSTANCES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def register_engine(name: str, factory: Callable[[], Engine]) -> None:
    """Register an engine factory; the engine is built lazily on first `get_engine(name)`."""
    _FACTORIES[name] = factory


def register_resolver(resolver: Callable[[str], "Engine | None"]) -> None:
    """Register a function that builds an engine for a name no factory has (e.g. a Hub id), or returns None."""
    _RESOLVERS.append(resolver)


def _load_builtin() -> None:
    # Imported for their registration side effect; kept here so every door sees the same engines.
    import sora_lite.engines.world  # noqa: F401

    try:
        import sora_lite.engines.hub  # noqa: F401
    except ImportError:  # the hub package is optional until its issue lands
        pass


def list_engines() -> list[str]:
    _load_builtin()
    return sorted(_FACTORIES)


def get_engine(name: str) -> Engine:
    _load_builtin()
    with _LOCK:
        if name in _INSTANCES:
            return _INSTANCES[name]
        if name in _FACTORIES:
            engine = _FACTORIES[name]()
        else:
            engine = next((e for e in (r(name) for r in _RESOLVERS) if e is not None), None)
            if engine is None:
                known = ", ".join(sorted(_FACTORIES)) or "none"
                raise RequestError(f"unknown engine or model {name!r}; known engines: {known}")
        _INSTANCES[name] = engine
        return engine
