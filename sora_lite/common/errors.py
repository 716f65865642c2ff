"""The errors a request can end in, shared by every layer (cameo grants, moderation, the engines, the studio)."""

from __future__ import annotations


class RequestError(ValueError):
    """A request that cannot be served as asked (bad size, bad spec ...); the message is for the user."""


class EngineUnavailable(RuntimeError):
    """The engine cannot run here (missing weights, missing renderer); the message says how to fix it."""


class Cancelled(RuntimeError):
    """The caller cancelled the job between steps."""
