"""What the world engine shows of VBench's prompts: per dimension, the share with nothing unshown and the share
that fell back to the default object; human actions shown; spatial relations checked from the sidecar's pixel
positions; and a contact sheet (one frame per sampled prompt) for a person to judge recognisability.

    python bench/coverage.py PROMPTS_DIR [--sheet OUT.png] [--sample 4] [--check-spatial] [--jsonl OUT.jsonl]

PROMPTS_DIR is a folder with VBench's `prompts_per_dimension/*.txt` (or `*.txt` directly, one file per
dimension, as in Vchitect/VBench), or with `VBench_full_info.json` (the `vbench` wheel ships it). The prompt
list is not vendored here: get it from Vchitect/VBench or `pip download --no-deps vbench`.

Goals (issue 16): fallback ≤ 10 % in every dimension; nothing unshown on ≥ 80 % of object_class,
multiple_objects, color and spatial_relationship prompts, ≥ 60 % of scene and ≥ 80 % of appearance_style;
human_action shows the named action on ≥ 60 %.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")

from sora_lite.engines.world.parse import parse_prompt  # noqa: E402

GOALS = {"object_class": 0.8, "multiple_objects": 0.8, "color": 0.8, "spatial_relationship": 0.8, "scene": 0.6,
         "appearance_style": 0.8}
SKIP = {"aesthetic_quality", "imaging_quality", "background_consistency", "dynamic_degree", "motion_smoothness"}


def load_prompts(folder: Path) -> dict[str, list[str]]:
    """dimension → prompts, from VBench's per-dimension text files or its full-info JSON."""
    info = folder / "VBench_full_info.json"
    dims: dict[str, list[str]] = defaultdict(list)
    if info.is_file():
        for entry in json.loads(info.read_text(encoding="utf-8")):
            for d in entry["dimension"]:
                dims[d].append(entry["prompt_en"])
        return dict(dims)
    sub = folder / "prompts_per_dimension"
    files = sorted((sub if sub.is_dir() else folder).glob("*.txt"))
    for f in files:
        if f.stem in ("all_dimension", "all_category", "all_categories"):
            continue
        dims[f.stem] = [line.strip() for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not dims:
        raise SystemExit(f"no VBench prompt files in {folder} (expected prompts_per_dimension/*.txt or "
                         "VBench_full_info.json)")
    return dict(dims)


def action_shown(result) -> bool:
    """A person performs an action that reads as the one named (actions.json 'shown': true, not a stand-in)."""
    return any(a["shown"] is True and a["action"] not in ("stand", "still") for a in result.actions
               if "person" in (a["object"] or "") or a["action"] in _person_actions())


def _person_actions() -> set[str]:
    from sora_lite.engines.world import recipes

    return {k for k, a in recipes.actions()["actions"].items() if "person" in a.get("for", [])}


def render_one(prompt: str, seconds: float = 1.0, size: int = 256, fps: int = 8):
    from sora_lite.engines.base import GenerationRequest
    from sora_lite.engines.world.engine import WorldEngine

    eng = WorldEngine()
    return eng.generate(GenerationRequest(prompt=prompt, seconds=seconds, width=size, height=size, fps=fps, seed=0,
                                          options={"workers": 1}))


RELATIONS = ("on the left of", "on the right of", "on the top of", "on the bottom of")


def spatial_ok(prompt: str, result) -> bool | None:
    """The relation as said, from the sidecar's pixel centres on the last frame: left/right by x, top/bottom by y
    (y grows downward). None when the checker cannot judge: no relation it knows, or an object not visible."""
    low = prompt.lower()
    rel = next((r for r in RELATIONS if r in low), None)
    truth = result.ground_truth if isinstance(result.ground_truth, dict) else None
    if rel is None or not truth or not truth.get("frames"):
        return None
    seen = {o["name"]: o["pixel"] for o in truth["frames"][-1]["objects"]
            if o.get("visible") and o.get("pixel") and None not in o["pixel"]}
    names = list(truth["objects"])
    before, after = low.split(rel, 1)
    a_word = before.strip().split()[-1].rstrip("s") if before.strip() else ""
    b_word = after.replace(", front view", "").strip().split()[-1].rstrip("s") if after.strip() else ""
    a = next((n for n in names if a_word and a_word in n), None)
    b = next((n for n in names if b_word and b_word in n and n != a), None)
    if a is None or b is None or a not in seen or b not in seen:
        return None
    (ax, ay), (bx, by) = seen[a], seen[b]
    if rel == "on the left of":
        return ax < bx
    if rel == "on the right of":
        return ax > bx
    if rel == "on the top of":
        return ay < by
    return ay > by


def contact_sheet(items: list[tuple[str, str, object]], out: Path, cols: int = 6) -> None:
    from PIL import Image, ImageDraw

    tile, cap = 256, 34
    rows = (len(items) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile, rows * (tile + cap)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, (dim, prompt, frame) in enumerate(items):
        x, y = (i % cols) * tile, (i // cols) * (tile + cap)
        sheet.paste(Image.fromarray(frame), (x, y))
        text = f"[{dim}] {prompt}"
        draw.text((x + 3, y + tile + 2), text[:44], fill=(0, 0, 0))
        draw.text((x + 3, y + tile + 16), text[44:88], fill=(0, 0, 0))
    sheet.save(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prompts", type=Path, help="folder with VBench's prompt files")
    ap.add_argument("--sheet", type=Path, default=None, help="write a contact sheet PNG of sampled prompts")
    ap.add_argument("--sample", type=int, default=3, help="prompts per dimension on the contact sheet")
    ap.add_argument("--check-spatial", action="store_true", help="render spatial_relationship prompts and check "
                    "the relation from the sidecar's pixel positions (slow: one short clip per prompt)")
    ap.add_argument("--jsonl", type=Path, default=None, help="write every prompt's parse (JSON lines)")
    args = ap.parse_args()
    dims = load_prompts(args.prompts)
    out = open(args.jsonl, "w", encoding="utf-8") if args.jsonl else None
    print(f"{'dimension':<22} {'n':>4} {'nothing unshown':>16} {'fallback':>9}  goal")
    worst_fallback = 0.0
    verdicts = []
    for dim in sorted(dims):
        if dim in SKIP:
            continue
        prompts = dims[dim]
        clean = fallback = shown = 0
        for p in prompts:
            r = parse_prompt(p)
            clean += not r.unshown
            fallback += r.fallback
            shown += action_shown(r)
            if out:
                out.write(json.dumps({"dimension": dim, "prompt": p, **{k: v for k, v in r.to_dict().items() if k != "spec"}}) + "\n")
        n = len(prompts)
        goal = GOALS.get(dim)
        extra = ""
        if goal is not None:
            ok = clean / n >= goal
            verdicts.append(ok)
            extra = f"≥{goal:.0%} {'ok' if ok else 'MISSED'}"
        if dim == "human_action":
            ok = shown / n >= 0.6
            verdicts.append(ok)
            extra = f"action shown {shown / n:.0%} (≥60% {'ok' if ok else 'MISSED'})"
        worst_fallback = max(worst_fallback, fallback / n)
        print(f"{dim:<22} {n:>4} {clean / n:>15.0%} {fallback / n:>9.0%}  {extra}")
    fb_ok = worst_fallback <= 0.10
    print(f"worst fallback {worst_fallback:.0%} (≤10% {'ok' if fb_ok else 'MISSED'})")
    if out:
        out.close()
    if args.check_spatial and "spatial_relationship" in dims:
        good = bad = unsure = 0
        for p in dims["spatial_relationship"]:
            res = render_one(p, seconds=1.0, fps=8)
            ok = spatial_ok(p, res)
            if ok is None:
                unsure += 1
            elif ok:
                good += 1
            else:
                bad += 1
                print(f"  misplaced: {p}")
        judged = good + bad
        print(f"spatial relations placed as said: {good}/{judged} judged ({unsure} not judged: an object off screen "
              "or no relation the checker knows)")
    if args.sheet:
        import random

        rng = random.Random(0)
        items = []
        for dim in sorted(dims):
            if dim in SKIP:
                continue
            for p in rng.sample(dims[dim], min(args.sample, len(dims[dim]))):
                res = render_one(p, seconds=1.0, fps=8)
                frames = res.clip.frames
                items.append((dim, p, frames[len(frames) // 2]))
        contact_sheet(items, args.sheet)
        print(f"contact sheet: {args.sheet} ({len(items)} prompts)")


if __name__ == "__main__":
    main()
