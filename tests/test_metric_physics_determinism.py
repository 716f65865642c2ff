"""Same input, same number: the physics metric and the MP4 round trip of its real-footage calibration.

Two runs of `python -m eval.calibrate --real DIR --families physics` on the same folder once gave different
tables (a soccer window scored 0 in one run and 0.81 in another). The cause was the encoder: on an AVX-512
CPU x264 wrote different bytes for the same frames from one write to the next, so the decoded window the
metric saw changed. These tests write and score a real 270-px-wide phone window more than once, in one
process and in another with other thread counts, and demand identical output.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"
SOCCER = "phys_soccer_keepyuppy"
ROOT = Path(__file__).resolve().parents[1]

needs_footage = pytest.mark.skipif(not (REAL / f"{SOCCER}.mp4").is_file(), reason="needs ../shared/realfootage")


def _windows() -> list:
    from eval.calibrate_real import RealConfig, discover_clips
    from eval.calibrate_real_physics import ball_windows

    clip = next(c for c in discover_clips(REAL) if c.name == SOCCER)
    return ball_windows(clip, RealConfig(progress=False))


def _digest(a: np.ndarray) -> str:
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def _score_window(index: int, workdir: Path) -> dict:
    """The family's own path: MP4 write + read, then the physics scorer (value, status, reason, details)."""
    from eval.calibrate_real_physics import _through_file
    from eval.generators import Sample
    from eval.scoring import PhysicsScorer, ScorerOptions, run_scorer

    win = _windows()[index]
    clip = _through_file(win.frames, win.fps, workdir / f"w{index}.mp4")
    sample = Sample(key="k", suite="determinism", prompt_id="k", prompt=None, seed=None,
                    expectations=dict(win.expectations))
    got = run_scorer(PhysicsScorer(ScorerOptions()), clip, sample)
    return {"frames": _digest(clip.frames), "value": got.value, "status": got.status, "error": got.error,
            "details": json.loads(json.dumps(got.details, sort_keys=True, default=str))}


@pytest.mark.slow
@needs_footage
def test_the_same_frames_always_encode_to_the_same_decoded_pixels(tmp_path: Path) -> None:
    """Writes interleaved with reads (as the calibration does) once gave a different file almost every time."""
    from eval.calibrate_real_physics import _through_file

    wins = _windows()[:2]
    seen: dict[int, set[str]] = {0: set(), 1: set()}
    for _ in range(3):
        for k, win in enumerate(wins):
            seen[k].add(_digest(_through_file(win.frames, win.fps, tmp_path / f"w{k}.mp4").frames))
    assert all(len(v) == 1 for v in seen.values()), seen


@pytest.mark.slow
@needs_footage
def test_a_real_window_scores_identically_twice_and_with_other_thread_counts(tmp_path: Path) -> None:
    import cv2

    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        first = _score_window(0, tmp_path)
        cv2.setNumThreads(2)
        second = _score_window(0, tmp_path)
    finally:
        cv2.setNumThreads(before)
    assert first["value"] is not None  # a judged window, not two identical skips
    assert first == second
    # Another process with two OpenMP / OpenCV threads gives the same number, to the last bit.
    code = ("import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from tests.test_metric_physics_determinism import _score_window; "
            "print(json.dumps(_score_window(0, Path(sys.argv[2]))))")
    (tmp_path / "other").mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENCV_FOR_THREADS_NUM": "2"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT), str(tmp_path / "other")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    third = json.loads(out.stdout.strip().splitlines()[-1])
    assert third == json.loads(json.dumps(first))
