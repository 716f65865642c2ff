"""Imports that cost a CLI run noticeably, made cheaper without changing what is imported.

`scipy_signal`: SciPy (>= 1.15) rewrites the docstring of every function it tags with its array-API support
table (`scipy._lib._array_api.xp_capabilities`) while `scipy.signal` and what it pulls in (`scipy.stats`,
...) load: ~800 docstrings parsed and re-rendered with numpydoc's scraper, ~0.3 s of the ~3 s a 4 s clip
takes from the shell. The functions are the same either way; only their help() text lacks the table.
So the scraper is swapped for one that keeps the docstring as it is, for the time of that import only.
And `scipy.signal` imports all of `scipy.stats` (~0.2 s more) for one function, `scoreatpercentile`, which
only `find_peaks_cwt` calls: while `scipy.signal` loads, `scipy.stats` is a stand-in whose
`scoreatpercentile` (and any other name) imports the real `scipy.stats` when first used; the stand-in is
taken out of `sys.modules` right after, so a later `import scipy.stats` is the real module.
Anything unexpected (another SciPy layout, scipy.signal already loaded) imports it the ordinary way.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.Lock()


class _DocAsIs:
    """Stands in for numpydoc's FunctionDoc in `xp_capabilities`: `doc["Notes"].append(...)` is accepted
    and dropped, and str() gives a signature line plus the original docstring, which is what the decorator
    keeps (it cuts the first line)."""

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self._doc = getattr(func, "__doc__", None) or ""
        self._sections: dict[str, list[Any]] = {}

    def __getitem__(self, key: str) -> list[Any]:
        return self._sections.setdefault(key, [])

    def __setitem__(self, key: str, value: Any) -> None:
        self._sections[key] = value

    def __str__(self) -> str:
        return "\n" + self._doc


def _real_stats() -> ModuleType:
    stand_in = sys.modules.get("scipy.stats")
    if isinstance(stand_in, _StatsOnUse):
        del sys.modules["scipy.stats"]
    return importlib.import_module("scipy.stats")


class _StatsOnUse(ModuleType):
    """`scipy.stats` while `scipy.signal` loads: every name is the real module's, imported on first use."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_stats(), name)


def _scoreatpercentile(*args: Any, **kwargs: Any) -> Any:
    return _real_stats().scoreatpercentile(*args, **kwargs)


def scipy_signal() -> ModuleType:
    """`scipy.signal`, imported without re-rendering SciPy's docstrings (the same module and functions)."""
    if "scipy.signal" in sys.modules:
        return sys.modules["scipy.signal"]
    with _lock:
        try:
            from scipy._lib import _array_api as api

            original = api.FunctionDoc
        except (ImportError, AttributeError):
            from scipy import signal

            return signal
        api.FunctionDoc = _DocAsIs
        stand_in = None
        if "scipy.stats" not in sys.modules:
            stand_in = _StatsOnUse("scipy.stats")
            stand_in.scoreatpercentile = _scoreatpercentile  # type: ignore[attr-defined]
            sys.modules["scipy.stats"] = stand_in
        try:
            from scipy import signal
        finally:
            api.FunctionDoc = original
            if stand_in is not None and sys.modules.get("scipy.stats") is stand_in:
                del sys.modules["scipy.stats"]
        return signal
