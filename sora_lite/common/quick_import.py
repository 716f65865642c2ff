"""Imports that cost a CLI run noticeably, made cheaper without changing what is imported.

`scipy_signal`: SciPy (>= 1.15) rewrites the docstring of every function it tags with its array-API support
table (`scipy._lib._array_api.xp_capabilities`) while `scipy.signal` and what it pulls in (`scipy.stats`,
...) load: ~800 docstrings parsed and re-rendered with numpydoc's scraper, ~0.3 s of the ~3 s a 4 s clip
takes from the shell. The functions are the same either way; only their help() text lacks the table.
So the scraper is swapped for one that keeps the docstring as it is, for the time of that import only.
And whole packages load for nothing: `scipy.signal` imports all of `scipy.stats` (~0.2 s) for one function,
`scoreatpercentile`, which only `find_peaks_cwt` calls; and SciPy's copy of NumPy's namespace
(`array_api_compat.numpy`) touches every lazy NumPy submodule, `numpy.f2py` (~0.1 s, with
charset_normalizer) and `numpy.testing` (unittest) among them; `scipy.interpolate` (which `scipy.signal`
needs) imports all of `scipy.optimize` (~0.1 s, with the HiGHS solver) for `minimize_scalar`, which only
`make_smoothing_spline` calls, and `scipy.signal`'s filter design keeps a reference to it. While
`scipy.signal` loads, those are stand-ins whose names (any attribute) import the real module when first
used; the stand-ins are taken out of `sys.modules` and their parent packages right after, so a later import
gets the real module.
Anything unexpected (another SciPy layout, scipy.signal already loaded) imports it the ordinary way.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


class _OnUse(ModuleType):
    """A module that imports the real one (named the same) the first time one of its names is used."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real(self.__name__), name)


def _real(name: str) -> ModuleType:
    if isinstance(sys.modules.get(name), _OnUse):
        del sys.modules[name]
    return importlib.import_module(name)


def _scoreatpercentile(*args: Any, **kwargs: Any) -> Any:
    return _real("scipy.stats").scoreatpercentile(*args, **kwargs)


def _minimize_scalar(*args: Any, **kwargs: Any) -> Any:
    return _real("scipy.optimize").minimize_scalar(*args, **kwargs)


# what scipy.signal's import needs of them without using them: names bound at import time
_STAND_INS: dict[str, dict[str, Any]] = {"scipy.stats": {"scoreatpercentile": _scoreatpercentile}, "numpy.f2py": {},
                                         "numpy.testing": {},
                                         "scipy.optimize": {"minimize_scalar": _minimize_scalar}}


@contextmanager
def _standing_in(names: dict[str, dict[str, Any]]) -> Iterator[None]:
    placed: list[tuple[str, _OnUse]] = []
    for name, attrs in names.items():
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        if name in sys.modules or parent is None or child in vars(parent):
            continue  # loaded already (or cannot be stood in for cleanly): nothing to save
        stand_in = _OnUse(name)
        for key, value in attrs.items():
            setattr(stand_in, key, value)
        sys.modules[name] = stand_in
        setattr(parent, child, stand_in)
        placed.append((name, stand_in))
    try:
        yield
    finally:
        for name, stand_in in placed:
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
            parent_name, _, child = name.rpartition(".")
            parent = sys.modules.get(parent_name)
            if parent is not None and vars(parent).get(child) is stand_in:
                delattr(parent, child)


def scipy_signal() -> ModuleType:
    """`scipy.signal`, imported without re-rendering SciPy's docstrings (the same module and functions)."""
    if "scipy.signal" in sys.modules:
        return sys.modules["scipy.signal"]
    with _lock:
        import numpy  # noqa: F401 - the stand-ins' parent packages
        import scipy  # noqa: F401

        with _standing_in(_STAND_INS):
            try:
                from scipy._lib import _array_api as api

                original = api.FunctionDoc
            except (ImportError, AttributeError):
                from scipy import signal

                return signal
            api.FunctionDoc = _DocAsIs
            try:
                from scipy import signal
            finally:
                api.FunctionDoc = original
        return signal
