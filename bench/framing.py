"""Subject framing of the world engine, measured on its own ground truth: the share of (shot, named object)
pairs in frame for at least 80 % of the shot's frames (issue 14's bar: ≥ 95 %).

    python bench/framing.py [--data tests/data/framing_prompts.jsonl] [--size 128] [--sheet /tmp/framing.png]
    python bench/framing.py --data tests/data/framing_prompts_heldout.jsonl   # VBench-like phrasing, held out

Each line of the data is {"id", "prompt"} or {"id", "shots": [{"prompt", "camera"?, "seconds"?}, ...]}; every
prompt uses only words the engine knows. Objects a shot's text lets leave ("rolls out of frame") are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from sora_lite.engines.base import GenerationRequest  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from sora_lite.engines.world.truth import in_frame_shares  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "framing_prompts.jsonl"


def request(case: dict, size: int, fps: int) -> GenerationRequest:
    shots = case.get("shots")
    seconds = case.get("seconds", 2.0 * len(shots) if shots else 4.0)
    return GenerationRequest(prompt=case.get("prompt", ""), shots=shots, seconds=seconds, width=size, height=size,
                             fps=fps, seed=case.get("seed", 0), options={"workers": 1})


def measure(cases: list[dict], size: int = 128, fps: int = 12, sheet: str | None = None) -> dict:
    engine = WorldEngine()
    pairs, strips = [], []
    for case in cases:
        res = engine.generate(request(case, size, fps))
        for s in in_frame_shares(res.ground_truth):
            pairs.append({"id": case["id"], **s})
        if sheet:
            idx = np.linspace(0, len(res.clip.frames) - 1, 8).astype(int)
            strips.append(np.concatenate([res.clip.frames[i] for i in idx], axis=1))
    good = [p for p in pairs if p["share"] >= 0.8]
    if sheet and strips:
        from PIL import Image

        Image.fromarray(np.concatenate(strips, axis=0)).save(sheet)
    return {"cases": len(cases), "pairs": len(pairs), "in_frame_80": len(good),
            "share": len(good) / max(1, len(pairs)), "misses": [p for p in pairs if p["share"] < 0.8]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--fps", type=int, default=12)
    ap.add_argument("--sheet", default=None, help="save a contact sheet (8 frames per case) here")
    args = ap.parse_args()
    cases = [json.loads(line) for line in Path(args.data).read_text().splitlines() if line.strip()]
    out = measure(cases, args.size, args.fps, args.sheet)
    n_prompts = sum(1 for c in cases if "prompt" in c)
    print(f"{n_prompts} prompts + {len(cases) - n_prompts} storyboards: {out['in_frame_80']} of {out['pairs']} "
          f"(shot, named object) pairs in frame for >= 80 % of the shot = {100 * out['share']:.1f} %")
    for m in out["misses"]:
        print(f"  miss: {m['id']} shot {m['shot']} {m['object']}: {100 * m['share']:.0f} %")


if __name__ == "__main__":
    main()
