"""Shared test set-up: headless rendering, a private SORA_LITE_HOME per test process, cached bytecode, and
how many processes `pytest` runs the tests in (pytest-xdist, `-n auto` in pytest.ini)."""

import atexit
import os
import shutil
import sys
import tempfile

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# Clips, keys and the database of the tests go to a folder of their own (one per test process, removed at the
# end), never to the user's instance (~/.sora_lite) and never shared by two xdist workers: the workers inherit
# the environment of the process that started them, so a home another test process made is replaced here.
_OWNER = "SORA_LITE_TESTS_HOME_OWNER"
if not os.environ.get("SORA_LITE_HOME") or os.environ.get(_OWNER, str(os.getpid())) != str(os.getpid()):
    _home = tempfile.mkdtemp(prefix="sora-lite-tests-")
    os.environ["SORA_LITE_HOME"], os.environ[_OWNER] = _home, str(os.getpid())
    atexit.register(shutil.rmtree, _home, True)

# pytest keeps its assertion-rewritten test modules (and Python its .pyc files) only when bytecode may be
# written; with PYTHONDONTWRITEBYTECODE set (some sandboxes and CI images set it) every run, and every xdist
# worker, would rewrite all ~230 test files again (~3 s each time). The caches are in __pycache__ (ignored by git).
sys.dont_write_bytecode = False

# Most rooms of the house run on two cores here; more workers than that only add start-up (each imports torch,
# diffusers, MuJoCo) and memory (~2 GB each).
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):  # noqa: ARG001 - pytest-xdist's hook
    """`-n auto`: one worker per usable core, at most MAX_WORKERS; 0 (no workers, run here) on one core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, MAX_WORKERS)
