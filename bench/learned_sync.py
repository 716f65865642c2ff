"""Time of the optional learned AV-sync metric (Synchformer, `--metrics av_sync_learned`) per clip.

    python bench/learned_sync.py [--seconds 4.9] [--size 256]

No checkpoint can be downloaded here, but compute does not depend on weight values: the full-size model
is built with random weights and timed on one random clip, at fp32 and bf16 (`--precision`), preprocessing
included. The offsets it prints are meaningless. A clip of 4.8–5.1 s is one window; longer clips are two
(first and last 4.8 s, sharing the segments they overlap on).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.features.synchformer import SynchformerConfig, SynchformerModel  # noqa: E402
from eval.metrics.av_sync_learned import score_sample  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=4.9)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    torch.manual_seed(0)
    start = time.perf_counter()
    model = SynchformerModel(SynchformerConfig()).eval().to(args.device)
    print(f"Synchformer, full size, random weights: built in {time.perf_counter() - start:.1f} s on {args.device}")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (int(args.seconds * args.fps), args.size, args.size, 3), dtype=np.uint8)
    audio = (0.1 * rng.standard_normal(int(args.seconds * 48_000))).astype(np.float32)
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        model = model.to(dtype)
        start = time.perf_counter()
        got = score_sample(model, frames, args.fps, audio, 48_000)
        took = time.perf_counter() - start
        print(f"  {name}: {args.seconds:g} s clip at {args.size}² → {len(got.windows)} window(s) in {took:.1f} s "
              f"({took / max(len(got.windows), 1):.1f} s per window; status {got.status})")


if __name__ == "__main__":
    main()
