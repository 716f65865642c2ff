"""`python -m sora_lite models`: the Hub model registry, what each checkpoint can do, and whether it is here.

The lead wires `add_models_parser` / `run_models` into `sora_lite/cli.py`. Listing reads only the local
Hugging Face cache (no network, no torch).
"""

from __future__ import annotations

import argparse
import json

from sora_lite.engines.hub.families import FAMILIES, TASK_LABELS
from sora_lite.engines.hub.loading import hub_offline, registry_rows


def add_models_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("models", help="list the Hub video models sora-lite can run and whether their weights are here")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--family", help="only this family (e.g. ltx2, wan, ltx-video, cogvideox)")
    return p


def run_models(args: argparse.Namespace) -> int:
    rows = registry_rows()
    if getattr(args, "family", None):
        rows = [r for r in rows if r["family"] == args.family]
        if not rows:
            names = ", ".join(f.name for f in FAMILIES)
            print(f"error: no family {args.family!r}; families: {names}")
            return 2
    if getattr(args, "json", False):
        print(json.dumps(rows, indent=2))
        return 0
    by_family = {f.name: f for f in FAMILIES}
    for name in dict.fromkeys(r["family"] for r in rows):
        fam = by_family[name]
        sound = "video + synchronized audio" if fam.makes_audio else "silent (foley from motion events)"
        print(f"{fam.label}  [{fam.name}]  {sound}")
        print(f"  frames {fam.frame_rule[0]}k+{fam.frame_rule[1]} (max {fam.max_frames}), sizes multiple of "
              f"{fam.resolution_multiple} (trained {fam.default_size[0]}x{fam.default_size[1]}), {fam.native_fps} fps, "
              f"{fam.default_steps} steps, guidance {fam.default_guidance:g}")
        for r in (r for r in rows if r["family"] == name):
            mark = "ready" if r["weights_present"] else "not downloaded"
            tasks = ", ".join(TASK_LABELS[t] for t in r["tasks"])
            rec = r["recommended"]
            print(f"  - {r['model_id']:<42} {mark:<15} ~{r['approx_memory_gib']:g} GiB  {tasks}")
            print(f"      runs with {rec['steps']} steps, guidance {rec['guidance']:g}, {rec['size'][0]}x{rec['size'][1]}, "
                  f"{rec['dtype']}" + "".join(f" ({k} {v})" for k, v in rec["component_dtypes"].items())
                  + "".join(f", {k}={v}" for k, v in rec["call_kwargs"].items()))
        print()
    missing = [r["model_id"] for r in rows if not r["weights_present"]]
    if missing:
        where = " (HF_HUB_OFFLINE is set: nothing will be downloaded)" if hub_offline() else ""
        print(f"Get a model with `hf download ID`{where}; gated models need HF_TOKEN. "
              "Then: python -m sora_lite generate \"PROMPT\" --model ID")
    return 0
