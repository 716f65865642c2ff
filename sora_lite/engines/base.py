"""The engine protocol and the name → engine registry.

A door (app, CLI, eval) builds a `GenerationRequest`; `sora_lite.studio` picks the engine from the registry
and calls `generate`. The registry is a table of names to "module:attribute" paths resolved on first use
(the way diffusers' lazy import structure maps names to modules): nothing here imports an engine, so
importing the registry is cheap and makes no loop, and an engine whose module fails to import says so
(the ImportError surfaces as `EngineUnavailable` with its cause, never silently).

The request/result records and the errors live in `sora_lite.common` (every layer reads them); they are
re-exported here so `from sora_lite.engines.base import GenerationRequest` keeps working.
"""

from __future__ import annotations

import importlib
import threading
from typing import Callable, Protocol, runtime_checkable

from sora_lite.common.errors import Cancelled, EngineUnavailable, RequestError
from sora_lite.common.request import (
    MAX_FPS,
    MAX_PROMPT_CHARS,
    MAX_SECONDS,
    MAX_SIZE,
    MIN_FPS,
    MIN_SECONDS,
    MIN_SIZE,
    GenerationRequest,
    GenerationResult,
    ProgressFn,
    has_words,
)

__all__ = [
    "BUILTIN_ENGINES", "BUILTIN_RESOLVERS", "Cancelled", "Engine", "EngineUnavailable", "GenerationRequest",
    "GenerationResult", "MAX_FPS", "MAX_PROMPT_CHARS", "MAX_SECONDS", "MAX_SIZE", "MIN_FPS", "MIN_SECONDS",
    "MIN_SIZE", "ProgressFn", "RequestError", "get_engine", "has_words", "list_engines", "register_engine",
    "register_resolver", "resolve_path",
]


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
        cancel: "threading.Event | None" = None,
    ) -> GenerationResult:
        ...


# name → "module:factory" (a class or a function with no arguments), imported when the name is first asked for.
BUILTIN_ENGINES: dict[str, str] = {
    "world": "sora_lite.engines.world.engine:WorldEngine",
}
# "module:function" taking a name no table entry has (a Hub id, a family, a local folder) → Engine or None.
BUILTIN_RESOLVERS: tuple[str, ...] = (
    "sora_lite.engines.hub:resolve",
)

_FACTORIES: dict[str, Callable[[], Engine] | str] = dict(BUILTIN_ENGINES)
_RESOLVERS: list[Callable[[str], Engine | None] | str] = list(BUILTIN_RESOLVERS)
_INSTANCES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def resolve_path(path: str) -> Callable:
    """The object a "module:attribute" path names. An engine that cannot be imported is `EngineUnavailable`
    with the import's own message (chained), not a missing entry."""
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise EngineUnavailable(f"{module_name} cannot be imported here: {e}") from e
    return getattr(module, attr)


def register_engine(name: str, factory: Callable[[], Engine] | str) -> None:
    """Register an engine factory (or a "module:Class" path); the engine is built on first `get_engine(name)`."""
    _FACTORIES[name] = factory


def register_resolver(resolver: Callable[[str], Engine | None] | str) -> None:
    """Register a function (or "module:function" path) that builds an engine for a name no factory has."""
    _RESOLVERS.append(resolver)


def list_engines() -> list[str]:
    return sorted(_FACTORIES)


def get_engine(name: str) -> Engine:
    with _LOCK:
        if name in _INSTANCES:
            return _INSTANCES[name]
        if name in _FACTORIES:
            factory = _FACTORIES[name]
            engine = (resolve_path(factory) if isinstance(factory, str) else factory)()
        else:
            engine = None
            for resolver in _RESOLVERS:
                engine = (resolve_path(resolver) if isinstance(resolver, str) else resolver)(name)
                if engine is not None:
                    break
            if engine is None:
                known = ", ".join(sorted(_FACTORIES)) or "none"
                raise RequestError(f"unknown engine or model {name!r}; known engines: {known}")
        _INSTANCES[name] = engine
        return engine
