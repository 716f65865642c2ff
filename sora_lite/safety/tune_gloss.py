"""Build the glossed exemplars (data/gloss_exemplars.jsonl) and choose when a gloss blocks
(data/gloss_thresholds.json), from the multilingual tuning data only — never a blind set.

The gloss classifier's examples are the English ones plus every non-English tuning prompt, glossed. Tuning
scores each tuning prompt's gloss against those examples *minus every example from the same file* (a file
often holds one scenario in several languages, so leaving out only the prompt itself would let its
translations vote), and searches the grid below. A point is admissible when it newly blocks at most
`--max-fp` of the benign prompts of every language that the rules and lexicons allow (word salads included);
of those, the one whose glosses alone block the most harmful prompts, less the benign ones newly blocked, wins
(ties: the stricter point). The
lexicons were tuned on these prompts and already block ~98 % of them, so "newly blocked" says little here;
the glosses' recall on their own is the guide to wordings no list names.

    python -m sora_lite.safety.tune_gloss --build    # after editing a gloss table: rebuild the exemplars
    python -m sora_lite.safety.tune_gloss            # print the best points and per-language effect
    python -m sora_lite.safety.tune_gloss --write    # and store the best
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from sora_lite.safety.classifier import ClassifierScore, Thresholds
from sora_lite.safety.evaluate import COMBINED, ML_DIR, SPLITS, Example, load_split
from sora_lite.safety.gloss import (
    EXEMPLARS_FILE,
    THRESHOLDS_FILE,
    GlossThresholds,
    gloss,
)
from sora_lite.safety.moderation import PromptModerator

EVERYDAY = "everyday.jsonl"  # benign everyday prompts in the ten languages: exemplars and tuning
SALAD = "salad.jsonl"  # benign word salads: tuning only (false positives), never exemplars


@dataclass(frozen=True)
class Glossed:
    example: Example
    source: str  # the file it came from
    coverage: float
    english: str  # as the classifier reads it


def _sources(include_salad: bool) -> list[tuple[str, list[Example]]]:
    out = [(name, [e for e in load_split(SPLITS[name]) if e.lang != "en"]) for name in COMBINED["ml-tuning"]]
    out.append((EVERYDAY, load_split(ML_DIR / EVERYDAY)))
    if include_salad:
        out.append((SALAD, load_split(ML_DIR / SALAD)))
    return out


def glossed_examples(moderator: PromptModerator, include_salad: bool) -> list[Glossed]:
    out = []
    for source, examples in _sources(include_salad):
        for e in examples:
            g = gloss(e.prompt, e.lang)
            if g is None or not g.english:
                continue
            english = moderator.rules.classifier_text(g.english)
            if english:
                out.append(Glossed(e, source, g.coverage, english))
    return out


def build(moderator: PromptModerator) -> int:
    rows = [{"english": g.english, "category": g.example.category if g.example.label == "block" else None,
             "lang": g.example.lang, "source": g.source}
            for g in glossed_examples(moderator, include_salad=False)]
    EXEMPLARS_FILE.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def _scores(moderator: PromptModerator, items: list[Glossed]) -> list[ClassifierScore]:
    """The gloss classifier's score of each gloss, leaving out the exemplars from its own file."""
    clf = moderator.gloss_classifier
    clf.load()
    exemplar_sources = clf.extra_groups or []  # the file each glossed exemplar came from
    # the glossed exemplars come last in the classifier's examples (ExemplarClassifier._examples)
    source = np.array([""] * (len(clf._labels) - len(exemplar_sources)) + exemplar_sources, dtype=object)
    return clf.score_many([g.english for g in items],
                          excluded=[moderator.rules.classifier_excluded(g.english) for g in items],
                          ignore=[source == g.source for g in items])


def grid() -> list[GlossThresholds]:
    return [GlossThresholds(cov, Thresholds(threshold=thr, margin=mar, short_threshold=max(thr, 0.45) + 0.1,
                                            short_margin=round(mar + 0.05, 2)))
            for cov, thr, mar in itertools.product((0.5, 0.6, 0.7, 0.8), [x / 100 for x in range(30, 66)],
                                                   [x / 100 for x in range(0, 22, 2)])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sora_lite.safety.tune_gloss", description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true", help=f"rebuild {EXEMPLARS_FILE.name} and stop")
    parser.add_argument("--max-fp", type=float, default=0.01, help="most benign prompts of one language newly blocked")
    parser.add_argument("--write", action="store_true", help=f"store the best point in {THRESHOLDS_FILE.name}")
    parser.add_argument("--show", type=int, default=10, help="how many points to print")
    args = parser.parse_args(argv)
    os.environ["SORA_LITE_MODERATION_GLOSS"] = "off"  # the verdicts without glosses
    moderator = PromptModerator()
    if args.build:
        print(f"wrote {build(moderator)} glossed exemplars to {EXEMPLARS_FILE}")
        return 0
    items = glossed_examples(moderator, include_salad=True)
    base = moderator.moderate_many([g.example.prompt for g in items])
    scores = _scores(moderator, items)
    langs = sorted({g.example.lang for g in items})
    harmful = Counter(g.example.lang for g in items if g.example.label == "block")
    benign = Counter(g.example.lang for g in items if g.example.label != "block")
    blocked = Counter(g.example.lang for g, v in zip(items, base) if g.example.label == "block" and v.blocked)
    ranked = []
    for point in grid():
        alone, caught, wrong = Counter(), Counter(), Counter()
        for g, v, sc in zip(items, base, scores):
            if g.coverage < point.coverage or not sc.blocks(point.classifier):
                continue
            lang = g.example.lang
            if g.example.label == "block":
                alone[lang] += 1
                caught[lang] += not v.blocked
            elif not v.blocked:
                wrong[lang] += 1
        if all(wrong[lang] <= args.max_fp * benign[lang] for lang in langs):
            ranked.append(((sum(alone.values()) - sum(wrong.values()), -sum(wrong.values()), point.classifier.threshold,
                            point.classifier.margin, -point.coverage), point, alone, caught, wrong))
    ranked.sort(key=lambda r: r[0], reverse=True)
    total = sum(harmful.values())
    print(f"{len(items)} glossed tuning prompts ({total} harmful; {sum(blocked.values())} blocked without glosses)")
    if not ranked:
        print("no admissible point")
        return 1
    for key, point, alone, caught, wrong in ranked[: args.show]:
        print(f"coverage>={point.coverage:.1f} threshold {point.classifier.threshold:.2f} margin "
              f"{point.classifier.margin:.2f}: glosses alone block {sum(alone.values())}/{total} harmful; "
              f"newly blocked +{sum(caught.values())} harmful, {sum(wrong.values())} benign")
    _, best, alone, caught, wrong = ranked[0]
    print("lang  harmful  glosses alone   blocked before -> after   benign newly blocked")
    for lang in langs:
        n = harmful[lang] or 1
        print(f"{lang:5} {harmful[lang]:4}   {alone[lang] / n:6.1%}        {blocked[lang] / n:6.1%} -> "
              f"{(blocked[lang] + caught[lang]) / n:6.1%}   {wrong[lang]}/{benign[lang]}")
    if args.write:
        best.classifier.save(THRESHOLDS_FILE, coverage=best.coverage, max_fp=args.max_fp,
                             tuned_on="ml-tuning (non-English) + everyday + salad, leaving out each prompt's own file",
                             tuning_prompts=len(items), glosses_alone_blocked=sum(alone.values()),
                             newly_blocked_harmful=sum(caught.values()), newly_blocked_benign=sum(wrong.values()))
        print(f"wrote {THRESHOLDS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
