"""Decode throughput of `sora_lite.media` next to ffmpeg producing the same RGB frames.

    python bench/media.py [--clips 16] [--seconds 2] [--fps 24] [--sizes 256 512] [--repeat 3] [--work runs/bench-media]

Writes --clips clips per size with `write_video` (moving texture + a tone, like engine clips; kept in --work
for reruns), then times, best of --repeat:

- `read_video(path)` (frames + audio, what eval and the app call), and `read_video(path, with_audio=False)`;
- `iter_frames(path)`, consuming every frame;
- `sample_frames(path, 16)` (reported in sampled frames/s and files/s);
- the reference: `ffmpeg -i f.mp4 -f rawvideo -pix_fmt rgb24 -` to /dev/null, one process per file and
  all files in one process (ffmpeg's start-up paid once: the stricter reference).

Goal (issue 4): read_video ≥ 0.7× ffmpeg-to-RGB in frames/s. Note `uptime`'s load next to the numbers:
the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sora_lite.media import Clip, iter_frames, read_video, sample_frames, write_video


def make_clips(n: int, size: int, seconds: float, fps: int, work: Path) -> list[Path]:
    """Textured, moving frames (so the encoder has real work) with a stereo tone, cached by name."""
    work.mkdir(parents=True, exist_ok=True)
    count = round(seconds * fps)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 40, (size, size, 3), dtype=np.uint8)
    paths = []
    for k in range(n):
        path = work / f"clip_{size}_{k:03d}.mp4"
        paths.append(path)
        if path.exists():
            continue
        frames = np.empty((count, size, size, 3), np.uint8)
        for i in range(count):
            phase = (i + 7 * k) / fps
            r = 127 + 100 * np.sin(6 * xx + 3 * phase)
            g = 127 + 100 * np.sin(5 * yy - 2 * phase + k)
            b = 127 + 100 * np.sin(4 * (xx + yy) + phase)
            frame = np.stack([r, g, b], axis=-1).astype(np.uint8)
            cx, cy = int(size * (0.2 + 0.6 * ((i / count + k / n) % 1))), size // 2
            frame[max(0, cy - size // 8) : cy + size // 8, max(0, cx - size // 8) : cx + size // 8] = (220, 40, 40)
            frames[i] = frame // 2 + noise
        rate = 48000
        t = np.arange(round(seconds * rate)) / rate
        audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)]).astype(np.float32)
        write_video(Clip(frames=frames, fps=Fraction(fps), audio=audio, sample_rate=rate), path)
    return paths


def best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    """(best wall time in seconds, units the run reported)."""
    best, units = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        units = run()
        best = min(best, time.perf_counter() - t0)
    return best, units


def bench_size(paths: list[Path], repeat: int) -> None:
    frames_total = sum(read_video(p, with_audio=False).num_frames for p in paths)  # also warms the file cache
    rows: list[tuple[str, float, float]] = []

    def rate(label: str, run: Callable[[], int]) -> float:
        seconds, units = best_of(repeat, run)
        rows.append((label, units / seconds, seconds))
        return units / seconds

    ours = rate("read_video (frames + audio)", lambda: sum(read_video(p).num_frames for p in paths))
    rate("read_video(with_audio=False)", lambda: sum(read_video(p, with_audio=False).num_frames for p in paths))
    rate("iter_frames", lambda: sum(sum(1 for _ in iter_frames(p)) for p in paths))
    sampled = rate("sample_frames(n=16) [sampled frames/s]", lambda: sum(len(sample_frames(p, 16)[0]) for p in paths))
    ffmpeg = shutil.which("ffmpeg")
    ref = None
    if ffmpeg:
        rgb = ["-f", "rawvideo", "-pix_fmt", "rgb24"]

        def per_file() -> int:
            for p in paths:
                subprocess.run([ffmpeg, "-v", "error", "-i", str(p), *rgb, "-"], check=True, stdout=subprocess.DEVNULL)
            return frames_total

        def one_process() -> int:
            cmd = [ffmpeg, "-v", "error", "-y"]
            for p in paths:
                cmd += ["-i", str(p)]
            for k in range(len(paths)):
                cmd += ["-map", f"{k}:v:0", *rgb, "/dev/null"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            return frames_total

        ref_per_file = rate("ffmpeg → rgb24, one process per file", per_file)
        ref = rate("ffmpeg → rgb24, all files in one process", one_process)
    for label, fps, seconds in rows:
        print(f"  {label:44s} {fps:8.0f} /s  ({seconds:.3f} s)")
    print(f"  sample_frames: {sampled / 16:.1f} files/s")
    if ref:
        print(f"  read_video = {ours / ref:.2f}× ffmpeg one process, {ours / ref_per_file:.2f}× ffmpeg per file"
              f" (goal ≥ 0.7×)")
    else:
        print("  ffmpeg not found: `apt-get install -y ffmpeg` for the reference")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-media")
    args = ap.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
    for size in args.sizes:
        paths = make_clips(args.clips, size, args.seconds, args.fps, args.work)
        print(f"{len(paths)} clips at {size}², {args.seconds:g} s × {args.fps} fps, best of {args.repeat}:")
        bench_size(paths, args.repeat)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
