"""Engines turn a `GenerationRequest` into a `GenerationResult`; the registry maps names to engines."""

from sora_lite.engines.base import (
    Cancelled,
    Engine,
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
    ProgressFn,
    RequestError,
    get_engine,
    list_engines,
    register_engine,
    register_resolver,
)

__all__ = [
    "Cancelled",
    "Engine",
    "EngineUnavailable",
    "GenerationRequest",
    "GenerationResult",
    "ProgressFn",
    "RequestError",
    "get_engine",
    "list_engines",
    "register_engine",
    "register_resolver",
]
