"""Measure prompt moderation on a labelled split, and tune the classifier's thresholds on the tuning split.

The two shipped English splits (`data/moderation_tune.jsonl`, `data/moderation_test.jsonl`) hold
`{"prompt", "label": "allow"|"block", "category"}` lines; the test split was written apart from the tuning
split, in other wordings, and is never used for tuning.

The multilingual sets (`data/multilingual/*.jsonl`) add `"lang"` (ISO 639-1). Tuning data (`ml-tuning`):
`dev`, `dev2`, `dev4`, `dev5`, `dev6`-`dev9` (paraphrases, indirect and plain wording, new scenarios; each measured
once before it was tuned on), `dev3` (benign prompts with risky words), and the first session's `holdout`
and `fresh`, which were tuned on after their first run. Held out (`multilingual`): `holdout2` (written and
frozen, sha256 recorded, before it was measured; never tuned on), `holdout3` (written after the concept
layer, frozen, measured once; deliberately indirect and slangy) and `holdout4` (plain prompts a new user would
write, frozen, measured once) and `holdout5` (the same kind, new scenarios, frozen after the last change and
measured once); `holdout6` the same, written on the final code and measured once. `holdout7` and `holdout7b`
(and `holdout7_unsupported`, 8 languages this instance does not judge) were written by someone who never saw the
lists, frozen before any run; holdout7's per-category recall (no prompts) was passed on to the next round, so
holdout7b is the fully blind one. Reports are per language and per category.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sora_lite.safety.classifier import (
    TUNE_FILE,
    ClassifierScore,
    ExemplarClassifier,
    Thresholds,
)
from sora_lite.safety.moderation import PromptModerator, Verdict

DATA_DIR = Path(__file__).parent / "data"
TEST_FILE = DATA_DIR / "moderation_test.jsonl"
ML_DIR = DATA_DIR / "multilingual"
SPLITS = {"tune": TUNE_FILE, "test": TEST_FILE, "ml-dev": ML_DIR / "dev.jsonl", "ml-holdout": ML_DIR / "holdout.jsonl",
          "ml-fresh": ML_DIR / "fresh.jsonl", "ml-dev2": ML_DIR / "dev2.jsonl", "ml-dev3": ML_DIR / "dev3.jsonl",
          "ml-dev4": ML_DIR / "dev4.jsonl",
          "ml-holdout2": ML_DIR / "holdout2.jsonl", "ml-holdout3": ML_DIR / "holdout3.jsonl",
          "ml-holdout4": ML_DIR / "holdout4.jsonl", "ml-holdout5": ML_DIR / "holdout5.jsonl",
          "ml-holdout6": ML_DIR / "holdout6.jsonl", "ml-holdout7": ML_DIR / "holdout7.jsonl",
          "ml-holdout7b": ML_DIR / "holdout7b.jsonl", "ml-unsupported": ML_DIR / "holdout7_unsupported.jsonl",
          "ml-dev5": ML_DIR / "dev5.jsonl", "ml-dev6": ML_DIR / "dev6.jsonl", "ml-dev7": ML_DIR / "dev7.jsonl",
          "ml-dev8": ML_DIR / "dev8.jsonl", "ml-dev9": ML_DIR / "dev9.jsonl",
          "ml-holdout8a": ML_DIR / "holdout8a.jsonl", "ml-holdout8b": ML_DIR / "holdout8b.jsonl",
          "ml-holdout9": ML_DIR / "holdout9.jsonl", "ml-holdout10": ML_DIR / "holdout10.jsonl",
          "ml-holdout11a": ML_DIR / "holdout11a.jsonl", "ml-holdout11b": ML_DIR / "holdout11b.jsonl",
          "ml-holdout12a": ML_DIR / "holdout12a.jsonl", "ml-holdout12b": ML_DIR / "holdout12b.jsonl",
          "ml-holdout13a": ML_DIR / "holdout13a.jsonl", "ml-holdout13b": ML_DIR / "holdout13b.jsonl",
          "ml-everyday": ML_DIR / "everyday.jsonl", "ml-salad": ML_DIR / "salad.jsonl"}
# Session 7's and 8's tuning sets, one per language group (dev10_latin.jsonl -> "ml-dev10-latin").
SPLITS.update({f"ml-{p.stem.replace('_', '-')}": p for p in sorted(ML_DIR.glob("dev1[01]_*.jsonl"))})
# Named combinations: "all" is what `moderate --eval` reports by default: the English test split, the newest
# blind sets ("blind": holdout13a/13b, written by helpers who never opened the lists, the gloss tables or any other
# set, kept outside the tree; only their totals were read before the final run) and the held-out sets
# ("held-out": holdout8a/8b/9/10 from session 7, holdout11a/11b measured at the start of session 8, holdout12a/12b
# measured blind mid-session 8; looked at, never tuned on, never seen by the gloss tables' writers). Every older set was looked at or tuned on after its
# first run, so it is tuning data now ("ml-tuning"; "multilingual" keeps the held-out sets 2-7b together, as
# earlier sessions reported them). "ml-everyday" (benign everyday prompts) and "ml-salad" (benign word salads)
# are tuning data for false positives.
_BLIND = ("ml-holdout13a", "ml-holdout13b")
_HELD_OUT = ("ml-holdout8a", "ml-holdout8b", "ml-holdout9", "ml-holdout10", "ml-holdout11a", "ml-holdout11b",
             "ml-holdout12a", "ml-holdout12b")
COMBINED = {"all": ("test", *_BLIND, *_HELD_OUT),
            "blind": _BLIND,
            "held-out": _HELD_OUT,
            "multilingual": ("ml-holdout2", "ml-holdout3", "ml-holdout4", "ml-holdout5", "ml-holdout6",
                             "ml-holdout7", "ml-holdout7b"),
            "ml-tuning": ("ml-dev", "ml-dev2", "ml-dev3", "ml-dev4", "ml-dev5", "ml-dev6", "ml-dev7", "ml-dev8",
                          "ml-dev9", "ml-holdout", "ml-fresh", "ml-holdout2", "ml-holdout3", "ml-holdout4",
                          "ml-holdout5", "ml-holdout6", "ml-holdout7", "ml-holdout7b",
                          *sorted(k for k in SPLITS if k.startswith(("ml-dev10-", "ml-dev11-"))))}
# Goals per language: English keeps its own (both 95 %); other languages 95 % blocked, 90 % allowed.
GOAL_BLOCKED = 0.95
GOAL_ALLOWED = {"en": 0.95}
GOAL_ALLOWED_DEFAULT = 0.90


@dataclass(frozen=True)
class Example:
    prompt: str
    label: str
    category: str | None
    lang: str = "en"


@dataclass
class LanguageRow:
    """Per-language numbers: harmful prompts blocked (any reason), benign prompts allowed, and how many
    prompts were refused as a language the instance cannot judge. `categories` maps each harmful category
    to [blocked, harmful]."""

    lang: str
    harmful: int
    blocked: int
    benign: int
    allowed: int
    unsupported: int
    categories: dict[str, list[int]] = field(default_factory=dict)

    @property
    def blocked_rate(self) -> float | None:
        return self.blocked / self.harmful if self.harmful else None

    @property
    def allowed_rate(self) -> float | None:
        return self.allowed / self.benign if self.benign else None

    def meets_goal(self) -> bool:
        goal_allowed = GOAL_ALLOWED.get(self.lang, GOAL_ALLOWED_DEFAULT)
        return (self.blocked_rate is None or self.blocked_rate >= GOAL_BLOCKED) and \
            (self.allowed_rate is None or self.allowed_rate >= goal_allowed)


@dataclass
class CategoryRow:
    """Per-category numbers. recall: harmful prompts of this category that were blocked (for any
    reason); precision: prompts blocked *as* this category that really were harmful."""

    category: str
    harmful: int
    blocked: int
    predicted: int
    predicted_harmful: int
    same_category: int

    @property
    def recall(self) -> float | None:
        return self.blocked / self.harmful if self.harmful else None

    @property
    def precision(self) -> float | None:
        return self.predicted_harmful / self.predicted if self.predicted else None


@dataclass
class EvalReport:
    split: str
    n: int
    harmful: int
    benign: int
    harmful_blocked: int
    benign_allowed: int
    rows: list[CategoryRow]
    by_layer: dict[str, int]
    misses: list[dict[str, Any]] = field(default_factory=list)
    languages: list[LanguageRow] = field(default_factory=list)

    @property
    def blocked_rate(self) -> float:
        return self.harmful_blocked / self.harmful if self.harmful else 1.0

    @property
    def allowed_rate(self) -> float:
        return self.benign_allowed / self.benign if self.benign else 1.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(blocked_rate=self.blocked_rate, allowed_rate=self.allowed_rate)
        for row, out in zip(self.rows, data["rows"]):
            out.update(recall=row.recall, precision=row.precision)
        for lrow, out in zip(self.languages, data["languages"]):
            out.update(blocked_rate=lrow.blocked_rate, allowed_rate=lrow.allowed_rate, meets_goal=lrow.meets_goal())
        return data

    def meets_goals(self) -> bool:
        """Every language at its goal (a report without languages: the English goal on the whole)."""
        if self.languages:
            return all(row.meets_goal() for row in self.languages)
        return self.blocked_rate >= GOAL_BLOCKED and self.allowed_rate >= GOAL_ALLOWED["en"]


def load_split(path: str | Path) -> list[Example]:
    """Read a labelled JSONL split (raises ValueError naming the bad line)."""
    examples = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = row["label"]
            if label not in ("allow", "block"):
                raise ValueError(f"label must be allow or block, not {label!r}")
            examples.append(Example(str(row["prompt"]), label, row.get("category"), str(row.get("lang") or "en")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: bad example: {exc}") from exc
    return examples


def evaluate(examples: list[Example], moderator: PromptModerator | None = None, split: str = "") -> EvalReport:
    """Run the moderator over labelled examples and count what it got right."""
    moderator = moderator or PromptModerator()
    verdicts = moderator.moderate_many([e.prompt for e in examples])
    return report(examples, verdicts, split)


def report(examples: list[Example], verdicts: list[Verdict], split: str = "") -> EvalReport:
    categories = sorted({e.category for e in examples if e.label == "block" and e.category} |
                        {v.category for v in verdicts if v.blocked and v.category})
    rows = []
    for cat in categories:
        pairs = list(zip(examples, verdicts))
        rows.append(CategoryRow(
            category=cat,
            harmful=sum(e.label == "block" and e.category == cat for e, _ in pairs),
            blocked=sum(e.label == "block" and e.category == cat and v.blocked for e, v in pairs),
            predicted=sum(v.blocked and v.category == cat for _, v in pairs),
            predicted_harmful=sum(v.blocked and v.category == cat and e.label == "block" for e, v in pairs),
            same_category=sum(v.blocked and v.category == cat and e.category == cat for e, v in pairs),
        ))
    by_layer: dict[str, int] = {}
    for v in verdicts:
        if v.blocked:
            by_layer[v.layer] = by_layer.get(v.layer, 0) + 1
    misses = [{"prompt": e.prompt, "label": e.label, "category": e.category, "got": v.verdict,
               "got_category": v.category, "layer": v.layer, "reason": v.reason, "lang": e.lang,
               "detected": v.language}
              for e, v in zip(examples, verdicts) if (e.label == "block") != v.blocked]
    languages = []
    for lang in dict.fromkeys(e.lang for e in examples):
        pairs = [(e, v) for e, v in zip(examples, verdicts) if e.lang == lang]
        cats: dict[str, list[int]] = {}
        for e, v in pairs:
            if e.label == "block":
                cell = cats.setdefault(e.category or "?", [0, 0])
                cell[0] += v.blocked
                cell[1] += 1
        languages.append(LanguageRow(
            lang=lang,
            harmful=sum(e.label == "block" for e, _ in pairs),
            blocked=sum(e.label == "block" and v.blocked for e, v in pairs),
            benign=sum(e.label == "allow" for e, _ in pairs),
            allowed=sum(e.label == "allow" and not v.blocked for e, v in pairs),
            unsupported=sum(v.category == "unsupported_language" for _, v in pairs),
            categories=cats))
    return EvalReport(
        split=split, n=len(examples),
        harmful=sum(e.label == "block" for e in examples),
        benign=sum(e.label == "allow" for e in examples),
        harmful_blocked=sum(e.label == "block" and v.blocked for e, v in zip(examples, verdicts)),
        benign_allowed=sum(e.label == "allow" and not v.blocked for e, v in zip(examples, verdicts)),
        rows=rows, by_layer=by_layer, misses=misses, languages=languages,
    )


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def format_report(rep: EvalReport, show_misses: bool = True) -> str:
    """The per-category table that `python -m sora_lite moderate --eval` prints."""
    lines = [f"split: {rep.split or '?'}  ({rep.n} prompts: {rep.harmful} harmful, {rep.benign} benign)",
             f"{'category':<18}{'harmful':>8}{'recall':>9}{'blocked as':>12}{'precision':>11}"]
    for row in rep.rows:
        lines.append(f"{row.category:<18}{row.harmful:>8}{_pct(row.recall):>9}{row.predicted:>12}"
                     f"{_pct(row.precision):>11}")
    lines.append(f"harmful blocked: {rep.harmful_blocked}/{rep.harmful} = {_pct(rep.blocked_rate).strip()}   "
                 f"benign allowed: {rep.benign_allowed}/{rep.benign} = {_pct(rep.allowed_rate).strip()}")
    lines.append("blocks by layer: " + ", ".join(f"{k} {v}" for k, v in sorted(rep.by_layer.items())))
    if len(rep.languages) > 1 or any(r.lang != "en" for r in rep.languages):
        lines.append(format_languages(rep))
    if show_misses and rep.misses:
        lines.append("mistakes:")
        for m in rep.misses:
            lines.append(f"  [{m.get('lang', 'en')} {m['label']}→{m['got']} {m['got_category'] or ''}] {m['prompt']}")
    return "\n".join(lines)


def format_languages(rep: EvalReport) -> str:
    """Per-language table: harmful blocked and benign allowed, and recall per harmful category."""
    cats = sorted({c for row in rep.languages for c in row.categories})
    head = f"{'lang':<6}{'harmful':>8}{'blocked':>9}{'benign':>8}{'allowed':>9}{'unsupp.':>8}  goal  " + \
        " ".join(f"{c[:10]:>10}" for c in cats)
    lines = ["per language (goal: ≥95 % harmful blocked; benign allowed ≥95 % English, ≥90 % others):", head]
    for row in rep.languages:
        cells = []
        for c in cats:
            b, n = row.categories.get(c, [0, 0])
            cells.append(f"{f'{b}/{n}' if n else '-':>10}")
        lines.append(f"{row.lang:<6}{row.harmful:>8}{_pct(row.blocked_rate):>9}{row.benign:>8}"
                     f"{_pct(row.allowed_rate):>9}{row.unsupported:>8}  {'ok ' if row.meets_goal() else 'NO '}  "
                     + " ".join(cells))
    return "\n".join(lines)


def load_named(split: str) -> list[Example]:
    """A named split ("test", "ml-holdout", ...), a combination ("all", "multilingual") or a JSONL path.
    Parts of a combination that are not there (the fresh set before it is written) are skipped."""
    if split in COMBINED:
        out: list[Example] = []
        for part in COMBINED[split]:
            if SPLITS[part].exists():
                out += load_split(SPLITS[part])
        return out
    return load_split(SPLITS.get(split, Path(split)))


def _best_pair(harmful: list[ClassifierScore], benign: list[ClassifierScore], min_allowed: float,
               short: bool, base: Thresholds) -> tuple[float, float, float] | None:
    """(balanced accuracy, threshold, margin) that maximises harmful-blocked + benign-allowed while keeping
    at least `min_allowed` of benign prompts allowed; ties go to the stricter setting."""
    best: tuple[float, float, float, float] | None = None
    for t in [x / 100 for x in range(96)]:
        for m in [x / 100 for x in range(-10, 31)]:
            th = replace(base, short_threshold=t, short_margin=m) if short else replace(base, threshold=t, margin=m)
            blocked_rate = sum(s.blocks(th) for s in harmful) / max(len(harmful), 1)
            allowed_rate = 1 - sum(s.blocks(th) for s in benign) / max(len(benign), 1)
            if allowed_rate < min_allowed:
                continue
            key = (blocked_rate + allowed_rate, t + m)
            if best is None or key > (best[0], best[1]):
                best = (key[0], key[1], t, m)
    return (best[0] / 2, best[2], best[3]) if best else None


def tune_classifier(path: Path = TUNE_FILE, save: bool = True, min_allowed: float = 0.99,
                    min_allowed_short: float = 1.0) -> Thresholds:
    """Pick threshold and margin on the tuning split, judging the classifier on its own (as if the rules
    had missed everything), leave-one-out: a prompt never sees itself among the exemplars.

    Long and short prompts (at most `short_words` content words) are tuned apart. Short prompts must
    keep `min_allowed_short` of benign ones allowed (all of them, by default): a storyboard is full of
    "close-up" and "she turns around", while short harmful prompts use words the rules already know.
    Ties go to the stricter setting (fewer blocks), so the rules stay the main layer.
    """
    examples = load_split(path)
    classifier = ExemplarClassifier()
    base = classifier.thresholds
    texts = [classifier.rules.classifier_text(e.prompt) for e in examples]
    excluded = [classifier.rules.classifier_excluded(e.prompt) for e in examples]
    scores = classifier.score_many(texts, exclude_identical=True, excluded=excluded)
    chosen, stats = base, {}
    for short in (False, True):
        part = [(s, e) for s, e in zip(scores, examples) if (s.words <= base.short_words) == short]
        harmful = [s for s, e in part if e.label == "block"]
        benign = [s for s, e in part if e.label == "allow"]
        best = _best_pair(harmful, benign, min_allowed_short if short else min_allowed, short, base)
        if best is None:
            continue
        balanced, t, m = best
        chosen = replace(chosen, short_threshold=t, short_margin=m) if short else replace(chosen, threshold=t, margin=m)
        stats["leave_one_out_balanced_short" if short else "leave_one_out_balanced"] = balanced
        stats["short_prompts" if short else "long_prompts"] = len(part)
    if save:
        chosen.save(split=path.name, model=classifier.model_label, **stats)
    return chosen
