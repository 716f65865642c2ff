"""`quick_import.scipy_signal` (issue 15, CLI start-up) gives the ordinary `scipy.signal`: the same module and
functions, SciPy's docstring machinery restored afterwards; only the array-API note is missing from help()."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest


def test_it_is_scipy_signal_with_the_same_functions_and_results() -> None:
    code = ("import sys, numpy as np; from sora_lite.common.quick_import import scipy_signal; s = scipy_signal(); "
            "import scipy.signal, scipy._lib._array_api as api, scipy._lib._docscrape as ds; "
            "assert s is scipy.signal and sys.modules['scipy.signal'] is s; "
            "assert api.FunctionDoc is ds.FunctionDoc; "
            "b, a = s.butter(2, 500 / 24000); x = np.random.default_rng(0).standard_normal(4800); "
            "print(s.lfilter(b, a, x).tobytes().hex()[:64], 'Filter data' in (s.lfilter.__doc__ or ''))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    from scipy import signal

    b, a = signal.butter(2, 500 / 24000)
    x = np.random.default_rng(0).standard_normal(4800)
    assert out == [signal.lfilter(b, a, x).tobytes().hex()[:64], "True"]


def test_an_already_imported_scipy_signal_is_returned_as_is() -> None:
    from scipy import signal

    from sora_lite.common.quick_import import scipy_signal

    assert scipy_signal() is signal


@pytest.mark.slow
def test_scipy_stats_and_numpy_f2py_are_the_real_modules_after_and_find_peaks_cwt_still_works() -> None:
    """While scipy.signal loads, scipy.stats and numpy.f2py are stand-ins (signal needs one function of stats,
    for find_peaks_cwt; f2py only gets looked at); afterwards both are the real modules, and find_peaks_cwt
    gives SciPy's answer (computed in a process where nothing was stood in)."""
    code = ("import sys, numpy as np; from sora_lite.common.quick_import import scipy_signal; s = scipy_signal(); "
            "print('scipy.stats' in sys.modules, 'numpy.f2py' in sys.modules, 'numpy.testing' in sys.modules); x = np.sin(np.linspace(0, 20, 500)); "
            "print(list(s.find_peaks_cwt(x, np.arange(5, 20)))); "
            "import scipy.stats; from scipy import stats; "
            "print(stats is scipy.stats is sys.modules['scipy.stats'], type(stats).__name__, stats.norm.cdf(0.0)); "
            "print(type(np.f2py).__name__, np.f2py is sys.modules['numpy.f2py'], callable(np.f2py.run_main)); "
            "from numpy.testing import assert_allclose; print(np.testing is sys.modules['numpy.testing'], "
            "callable(assert_allclose))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    reference = ("import numpy as np, scipy.stats, scipy.signal as s; x = np.sin(np.linspace(0, 20, 500)); "
                 "print(list(s.find_peaks_cwt(x, np.arange(5, 20))))")
    expected = subprocess.run([sys.executable, "-c", reference], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert out == ["False False False", expected, "True module 0.5", "module True True", "True True"]


@pytest.mark.slow
def test_scipy_optimize_loads_only_when_used_and_what_uses_it_gives_scipy_s_answers() -> None:
    """scipy.optimize stands in while scipy.signal loads (interpolate binds minimize_scalar, filter design the
    module); band-stop order selection (optimize.fminbound) and a smoothing spline (minimize_scalar) then give
    the answers of a process where nothing was stood in, and scipy.optimize is the real module after."""
    use = ("x = np.linspace(0, 6, 60); y = np.sin(x) + 0.1 * np.cos(7 * x); "
           "print(s.buttord([0.2, 0.5], [0.3, 0.4], 3, 40)); "
           "print(np.round(make_smoothing_spline(x, y)(x[:5]), 10).tolist())")
    code = ("import sys, numpy as np; from sora_lite.common.quick_import import scipy_signal; s = scipy_signal(); "
            "print('scipy.optimize' in sys.modules); from scipy.interpolate import make_smoothing_spline; " + use +
            "; import scipy.optimize; from scipy import optimize; "
            "print(optimize is scipy.optimize is sys.modules['scipy.optimize'], type(optimize).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    reference = ("import numpy as np, scipy.optimize, scipy.signal as s; "
                 "from scipy.interpolate import make_smoothing_spline; " + use)
    expected = subprocess.run([sys.executable, "-c", reference], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    assert out == ["False", *expected, "True module"]
