"""Data derived from shipped files, kept on disk so that a new process does not derive it again.

Why: a CLI run is a new process. Building the moderation rule book's patterns from its YAML files (~7,500
terms turned into regex sources) and normalising the classifier's tuning prompts cost ~0.4 s of the 3 s a
4 s clip may take from the shell, and give the same result every time the files are the same. So each such
value is stored under a name with the key it was derived from (a digest of the files and of the code that
derives it); a different key, an unreadable file or any other failure means the value is derived again.
Values are plain data (marshal: dicts, lists, strings, numbers), never code or pickles.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CACHE_ENV = "SORA_LITE_CACHE_DIR"  # the same folder as the moderation classifier's cache
_PYTHON = f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:2]))}-marshal{marshal.version}"


def cache_root() -> Path:
    """$SORA_LITE_CACHE_DIR or ~/.cache/sora-lite (XDG_CACHE_HOME respected)."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                      os.path.expanduser("~/.cache"), "sora-lite")
    return Path(root)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` through a temporary file in the same folder; False (nothing written) on OSError:
    a read-only or full cache only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
        return True
    except OSError:
        return False


def digest(parts: Iterable[str | bytes]) -> str:
    """A key for derived data: SHA-256 over the parts, each length-prefixed (so part boundaries count)."""
    h = hashlib.sha256(_PYTHON.encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def source_digest(*folders: Path) -> str:
    """A digest of the Python code in `folders` (each file's name and bytes): derived data keyed by it is
    derived again after any edit of the code that derives it, without a hand-kept list of modules."""
    parts: list[str | bytes] = []
    for folder in folders:
        for path in sorted(Path(folder).glob("*.py")):
            parts += [path.name, path.read_bytes()]
    return digest(parts)


def _path(name: str) -> Path:
    return cache_root() / "derived" / f"{name}.marshal"


def load(name: str, key: str) -> Any | None:
    """The value stored under `name` when it was stored with `key`; else None."""
    try:
        stored = marshal.loads(_path(name).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
        return stored[1]
    return None


def store(name: str, key: str, value: Any) -> None:
    """Keep `value` under `name` for `key` (replacing what was there: one value per name)."""
    try:
        data = marshal.dumps((key, value))
    except ValueError:  # not plain data: a caller's bug, but caching is only an optimisation
        return
    write_atomic(_path(name), data)
