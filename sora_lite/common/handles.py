"""Cameo handles: `@alice` in a prompt names the cameo registered under the handle `alice`.

A shared word (the world parser, the spec and the cameo registry all read handles), so it lives in the lowest layer."""

from __future__ import annotations

import re

HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9_.]{1,29}$")
# A mention: @ not preceded by a word character (so e-mail addresses are not mentions), then the handle.
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.]{1,29})(?![\w@])")


class HandleError(ValueError):
    """A handle that cannot be used; the message says what a handle may contain."""


def normalize_handle(handle: str) -> str:
    """`@Alice` or `alice` → `alice`; raises HandleError for anything that is not a valid handle."""
    if not isinstance(handle, str):
        raise HandleError("a cameo handle must be text, like @alice")
    name = handle.strip().lstrip("@").lower()
    if not HANDLE_RE.match(name):
        raise HandleError(
            f"{handle!r} is not a valid cameo handle: 2 to 30 characters, letters, digits, '_' or '.', "
            "starting with a letter or digit (e.g. @alice)"
        )
    return name


def mentioned_handles(prompt: str) -> list[str]:
    """The cameo handles a prompt mentions, normalised, in order of first mention, without repeats."""
    seen: list[str] = []
    for match in MENTION_RE.finditer(prompt or ""):
        name = match.group(1).rstrip(".").lower()  # "with @alice." ends a sentence, not the handle
        if HANDLE_RE.match(name) and name not in seen:
            seen.append(name)
    return seen
