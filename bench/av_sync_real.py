"""Time per clip of the weight-free AV-sync path: the new one (`eval.metrics.av_sync.score_sample`: face or
localised-motion source, significance test) against the old one (audio onsets + tracked-colour / global-flow
events matched per lag, no test), on the same decoded clips.

    python bench/av_sync_real.py [--dir ../shared/realfootage] [--max-seconds 8] [--repeat 3] [--only GRID,drum]

Prints one line per clip (frames, old s, new s, ratio, the new path's source and status) and the totals.
`--repeat N`: each path runs N times in turn (old, new, old, new, ...) and the fastest run counts — on a shared
machine the minimum is the least disturbed measurement of the same work. The CPU-time columns (this process's
CPU seconds, all threads) are the steadier measure there: a busy machine delays a run, it does not add CPU work.
The old path is rebuilt here from the functions the module still has (what `score_sample` ran before).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.metrics import av_sync, tracking  # noqa: E402
from sora_lite.media import read_video  # noqa: E402


def old_path(frames: np.ndarray, fps: float, audio: np.ndarray, sr: int) -> float:
    a = av_sync.audio_onset_envelope(audio, sr, fps, len(frames))
    v = np.sqrt(av_sync.visual_event_envelope(frames))
    av_sync.av_align_score(av_sync.envelope_peaks(a), av_sync.envelope_peaks(v))
    return av_sync.estimate_offset(a, v)[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "realfootage")
    p.add_argument("--max-seconds", type=float, default=8.0)
    p.add_argument("--repeat", type=int, default=1, help="runs per path; the fastest counts")
    p.add_argument("--only", default="", help="comma-separated substrings of clip names to time")
    args = p.parse_args()
    files = sorted(f for f in args.dir.glob("*.mp4")
                   if not args.only or any(k and k in f.stem for k in args.only.split(",")))
    # Models load once per process (eval.run does the same): the face detector and the 68-point landmarks.
    from sora_lite.cameo.faces import _detector, landmark68_model

    _detector()
    landmark68_model()
    total_old = total_new = cpu_old_total = cpu_new_total = 0.0
    print(f"{'clip':34s} {'frames':>6s} {'old s':>7s} {'new s':>7s} {'ratio':>6s} {'old cpu':>7s} {'new cpu':>7s} "
          f"{'ratio':>6s}  source/status")
    for f in files:
        clip = read_video(f)
        if not clip.has_audio:
            continue
        n = min(clip.num_frames, int(round(args.max_seconds * float(clip.fps))))
        audio = clip.audio[:, : int(round(n / float(clip.fps) * clip.sample_rate))]
        old = new = cpu_old = cpu_new = float("inf")
        for _ in range(max(1, args.repeat)):
            tracking._memo = tracking._ClipMemo()  # neither path may reuse the other's (or its own last) tracking
            frames = clip.frames[:n].copy()
            t, c = time.perf_counter(), time.process_time()
            old_path(frames, float(clip.fps), audio, clip.sample_rate)
            old, cpu_old = min(old, time.perf_counter() - t), min(cpu_old, time.process_time() - c)
            tracking._memo = tracking._ClipMemo()
            frames = clip.frames[:n].copy()
            t, c = time.perf_counter(), time.process_time()
            got = av_sync.score_sample(frames, clip.fps, audio, clip.sample_rate)
            new, cpu_new = min(new, time.perf_counter() - t), min(cpu_new, time.process_time() - c)
        total_old, total_new = total_old + old, total_new + new
        cpu_old_total, cpu_new_total = cpu_old_total + cpu_old, cpu_new_total + cpu_new
        print(f"{f.stem:34s} {n:6d} {old:7.2f} {new:7.2f} {new / old:6.2f} {cpu_old:7.2f} {cpu_new:7.2f} "
              f"{cpu_new / max(cpu_old, 1e-9):6.2f}  {got.source}/{got.status}", flush=True)
    print(f"{'total':34s} {'':6s} {total_old:7.2f} {total_new:7.2f} {total_new / max(total_old, 1e-9):6.2f} "
          f"{cpu_old_total:7.2f} {cpu_new_total:7.2f} {cpu_new_total / max(cpu_old_total, 1e-9):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
