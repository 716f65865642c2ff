"""Watermark robustness and false positives: `python bench/watermark.py [--clips N] [--size 256] [--frames 48]`.

Prints, per transform, the mean and worst payload bit accuracy and the share of clips where the mark
was found, over N textured moving clips; then the false-positive rate on N unmarked clips (raw and
CRF 28), and the PSNR of marked vs unmarked frames.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_watermark import ATTACKS, half, h264, moving_textured_clip  # noqa: E402

from sora_lite.provenance import invisible  # noqa: E402

TRANSFORMS = {"none": lambda f: f, **ATTACKS, "crf23+half": lambda f: half(h264(f, 23))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=10)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--frames", type=int, default=48)
    args = ap.parse_args()
    acc: dict[str, list[float]] = {k: [] for k in TRANSFORMS}
    found: dict[str, list[bool]] = {k: [] for k in TRANSFORMS}
    psnrs, false_pos, read_s = [], [], []
    for seed in range(args.clips):
        frames = moving_textured_clip(seed=1000 + seed, frames=args.frames, size=args.size)
        payload = np.random.default_rng(seed).bytes(8)
        marked = invisible.embed(frames, payload)
        psnrs.append(invisible.psnr(marked, frames))
        for name, attack in TRANSFORMS.items():
            t0 = time.perf_counter()
            reading = invisible.read(attack(marked))
            read_s.append(time.perf_counter() - t0)
            acc[name].append(invisible.bit_accuracy(reading, payload))
            found[name].append(reading.found and reading.payload_hex == payload.hex())
        unmarked = moving_textured_clip(seed=5000 + seed, frames=args.frames, size=args.size)
        false_pos += [invisible.read(unmarked).found, invisible.read(h264(unmarked, 28)).found]
    print(f"{args.clips} clips, {args.size}², {args.frames} frames; PSNR marked vs unmarked: "
          f"mean {np.mean(psnrs):.2f} dB, min {np.min(psnrs):.2f} dB; read time mean {np.mean(read_s):.2f} s")
    print(f"{'transform':28s} {'bit acc mean':>12s} {'bit acc min':>12s} {'found+exact':>12s}")
    for name in TRANSFORMS:
        print(f"{name:28s} {np.mean(acc[name]):12.4f} {np.min(acc[name]):12.4f} {np.mean(found[name]):12.2%}")
    print(f"false positives on unmarked video: {sum(false_pos)}/{len(false_pos)} = {np.mean(false_pos):.2%}")


if __name__ == "__main__":
    main()
