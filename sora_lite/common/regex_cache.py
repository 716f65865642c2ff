"""Compiled regular expressions kept on disk between processes.

Why: the moderation rule book compiles ~430 patterns (some are alternations of thousands of words) in every
new process, ~0.4 s of CPU, most of a CLI run's moderation cost. `re` keeps compiled patterns only in
memory, and pickling a pattern stores its source (unpickling compiles it again). What takes the time is
the pure-Python part of `re.compile` (parsing, code generation); the last step, `_sre.compile`, turns the
generated code into the pattern in microseconds. So this keeps that code on disk, keyed by the pattern's
source and flags, and by the interpreter's regex engine version (`_sre.MAGIC`, `CODESIZE`, the Python
version): a pattern built from it compares equal (`==`: same source, flags and code) to `re.compile`'s.

Every failure (no cache folder, an unreadable or foreign file, an interpreter without these internals, a
built pattern that is not equal to `re.compile`'s) falls back to `re.compile`: it only costs time.
"""

from __future__ import annotations

import marshal
import re
import sys
import threading
from pathlib import Path
from typing import Any

from sora_lite.common.disk_cache import cache_root, write_atomic

try:
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    _KEY = f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}-{_sre.MAGIC}-{_sre.CODESIZE}"
except (ImportError, AttributeError):  # another interpreter: no cache
    _sre = None  # type: ignore[assignment]
    _KEY = ""

def _generated(source: str, flags: int) -> tuple[Any, ...]:
    """What `re._compiler.compile` hands to `_sre.compile` after the pattern itself (Python 3.11-3.13)."""
    parsed = _parser.parse(source, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # Plain ints: the code holds int subclasses (opcode names), which marshal does not take.
    return (int(flags | parsed.state.flags), [int(c) for c in code], int(parsed.state.groups - 1),
            {str(k): int(v) for k, v in groupindex.items()}, tuple(indexgroup))


class RegexCache:
    """`compile` like `re.compile`, from a file of generated code; `save` rewrites the file when something
    was compiled anew, with what this process compiled (so patterns of edited rule files do not pile up)."""

    def __init__(self, name: str, folder: Path | None = None) -> None:
        self.path = (folder or cache_root() / "regex") / f"{name}-{_KEY}.marshal" if _KEY else None
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, int], tuple[Any, ...]] | None = None
        self._used: set[tuple[str, int]] = set()
        self._changed = False

    def _load(self) -> dict[tuple[str, int], tuple[Any, ...]]:
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                try:
                    entries = marshal.loads(self.path.read_bytes())
                    if isinstance(entries, dict):
                        self._entries = entries
                except (OSError, ValueError, EOFError, TypeError):
                    pass
        return self._entries

    def compile(self, source: str, flags: int = 0) -> re.Pattern[str]:
        if not _KEY or not isinstance(source, str):
            return re.compile(source, flags)
        flags = int(flags)
        key = (source, flags)
        with self._lock:
            entries = self._load()
            entry = entries.get(key)
            self._used.add(key)
        if entry is not None:
            try:
                return _sre.compile(source, *entry)
            except Exception:  # noqa: BLE001, S110 - a damaged entry: compile as usual below
                pass
        pattern = re.compile(source, flags)  # raises re.error for a bad pattern, as always
        try:
            entry = _generated(source, flags)
            if _sre.compile(source, *entry) == pattern:
                with self._lock:
                    entries[key] = entry
                    self._changed = True
        except Exception:  # noqa: BLE001, S110 - internals changed: this pattern is just not cached
            pass
        return pattern

    def save(self) -> None:
        """Write the file when patterns were compiled anew (atomically; a read-only folder only costs time)."""
        with self._lock:
            if not self._changed or self.path is None or self._entries is None:
                return
            entries = {k: v for k, v in self._entries.items() if k in self._used}
            try:
                data = marshal.dumps(entries)
            except ValueError:
                return
            if write_atomic(self.path, data):
                self._changed = False
