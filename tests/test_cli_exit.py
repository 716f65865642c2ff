"""`python -m sora_lite` ends without the interpreter's teardown (issue 15, CLI start-up), yet keeps what a
normal exit does that matters: the exit status, atexit handlers, flushed output."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def test_exit_now_keeps_the_status_the_atexit_handlers_and_buffered_output() -> None:
    done = _run("import atexit, sys; from sora_lite.cli import exit_now; "
                "atexit.register(lambda: print('handler ran')); print('buffered', end=' '); "
                "sys.stderr.write('err'); exit_now(3); print('never')")
    assert done.returncode == 3
    assert done.stdout == "buffered handler ran\n" and done.stderr == "err"


def test_exit_now_waits_for_a_running_thread_by_leaving_the_normal_exit_to_do_it() -> None:
    done = _run("import threading, time, sys; from sora_lite.cli import exit_now; "
                "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))); t.start(); "
                "sys.exit(exit_now(4))")
    assert done.returncode == 4 and done.stdout == "thread done\n"


@pytest.mark.slow  # a fresh interpreter that loads the moderation (~3 s)
def test_the_module_entry_point_returns_the_commands_status() -> None:
    bad = subprocess.run([sys.executable, "-m", "sora_lite", "generate", "a cat", "--out", "x.gif"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert bad.returncode == 2 and "--out must end in .mp4" in bad.stderr
    usage = subprocess.run([sys.executable, "-m", "sora_lite", "generate", "--size", "nope"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert usage.returncode == 2 and "usage:" in usage.stderr


@pytest.mark.parametrize("user_value, expected", [(None, {1}), ("2", {2})])
def test_the_command_line_runs_numpy_s_blas_on_one_thread_unless_told_otherwise(user_value: str | None,
                                                                                expected: set[int]) -> None:
    """`python -m sora_lite` asks OpenBLAS for one thread before NumPy loads (cli.quiet_blas); a value the user
    set is kept."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if user_value is not None:
        env["OPENBLAS_NUM_THREADS"] = user_value
    code = ("import atexit, runpy, sys; sys.argv = ['sora_lite', 'parse', 'a red ball bounces']; "
            "atexit.register(lambda: print('BLAS', sorted({p['num_threads'] for p in "
            "__import__('threadpoolctl').threadpool_info() if p['internal_api'] == 'openblas'}))); "
            "runpy.run_module('sora_lite', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("BLAS")][-1]
    assert set(ast.literal_eval(line.removeprefix("BLAS "))) == expected
