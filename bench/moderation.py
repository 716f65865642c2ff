"""How long prompt moderation takes per prompt, warm, per language (not a test: numbers depend on the machine).

    OMP_NUM_THREADS=2 python bench/moderation.py [--rounds 3] [--rules-only]

Loads the moderator once (rules, lexicons, language detector and, unless --rules-only, the English classifier),
warms it on every prompt, then times `moderate` one prompt at a time over the English test split and the
multilingual held-out sets (2, 3, 4) and prints median / p95 / max per language, and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sora_lite.safety.evaluate import SPLITS, load_named, load_split
from sora_lite.safety.moderation import PromptModerator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the prompts")
    parser.add_argument("--rules-only", action="store_true", help="without the English classifier")
    args = parser.parse_args()

    t0 = time.perf_counter()
    moderator = PromptModerator(use_classifier=not args.rules_only, endpoint="")
    examples = load_split(SPLITS["test"]) + load_named("multilingual")
    moderator.moderate_many([e.prompt for e in examples])  # cold: loads everything once
    print(f"cold start (load + first pass over {len(examples)} prompts): {time.perf_counter() - t0:.1f} s")

    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(max(1, args.rounds)):
        for e in examples:
            start = time.perf_counter()
            moderator.moderate(e.prompt)
            times[e.lang].append((time.perf_counter() - start) * 1000)
    every = [t for values in times.values() for t in values]
    print(f"{'lang':<6}{'prompts':>8}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    for lang, values in [*times.items(), ("all", every)]:
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{lang:<6}{len(values):>8}{statistics.median(values):>11.2f}{p95:>9.2f}{values[-1]:>9.2f}")
    print("load average (1, 5, 15 min) at the end:", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
