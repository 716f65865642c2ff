"""Real-time factor of the world engine: clip seconds / wall seconds, 5 s at 24 fps with audio.

    python bench/engine.py [--sizes 256 512] [--repeat 2] [--workers 2] [--quality fast]

Goal (issue 2): ≥ 10× real time at 256² on 2 CPU cores. The first run also pays for starting the
helper render process; the best of `--repeat` runs is reported, with the per-stage times.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.base import GenerationRequest  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from sora_lite.engines.world.render import warm_pool  # noqa: E402

SPEC = {
    "objects": [
        {"shape": "ball", "color": "red", "material": "rubber", "size": 0.12, "count": 2},
        {"shape": "cube", "color": "blue", "material": "wood", "size": 0.1, "count": 3},
        {"shape": "domino", "color": "yellow", "material": "wood", "size": 0.12, "count": 6},
    ],
    "environment": {"floor": "wood"},
    "lighting": {"time_of_day": "afternoon", "shadows": True},
    "camera": {"move": "orbit"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quality", default="fast", choices=["fast", "high"])
    args = ap.parse_args()
    engine = WorldEngine()
    if args.workers > 1:
        warm_pool()
    print(f"cpus={os.cpu_count()} MUJOCO_GL={os.environ.get('MUJOCO_GL')} workers={args.workers} quality={args.quality}")
    for size in args.sizes:
        best = None
        for _ in range(args.repeat):
            req = GenerationRequest(spec=SPEC, seconds=args.seconds, width=size, height=size, fps=args.fps, seed=0,
                                    options={"workers": args.workers, "quality": args.quality})
            t0 = time.perf_counter()
            res = engine.generate(req)
            wall = time.perf_counter() - t0
            if best is None or wall < best[0]:
                best = (wall, res.info["timings"])
        wall, timings = best  # type: ignore[misc]
        stages = " ".join(f"{k}={v:.3f}s" for k, v in timings.items())
        print(f"{size}x{size} {args.seconds:g}s@{args.fps}fps: wall {wall:.2f}s, real-time factor {args.seconds / wall:.1f}x ({stages})")


if __name__ == "__main__":
    main()
