"""`python -m sora_lite moderate`: judge one prompt, a JSONL file of prompts, or print the evaluation table.

    python -m sora_lite moderate "a chef sharpening a knife"      → one JSON verdict
    python -m sora_lite moderate --jsonl prompts.jsonl             → one verdict per input line, in order
    python -m sora_lite moderate --eval [--split all|multilingual|ml-holdout9|ml-tuning|test|tune|FILE]
                                                                   → per language and per category
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from sora_lite.safety.moderation import PromptModerator, Verdict

GOAL = 0.95


def add_moderate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the `moderate` subcommand on an argparse subparsers object."""
    parser = subparsers.add_parser(
        "moderate", help="check prompts against the content policy",
        description="Check prompts against the content policy (sora_lite/safety/policy.md).")
    parser.add_argument("prompt", nargs="?", help="the prompt to check")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--jsonl", metavar="FILE",
                        help='read {"prompt": ...} lines ("-" for stdin); prints one verdict per line, in order')
    source.add_argument("--eval", action="store_true", help="print precision/recall per category on a labelled split")
    parser.add_argument("--split", default="all",
                        help="labelled split for --eval: all (English test + the blind and held-out multilingual "
                             "sets, the default), blind (ml-holdout13a, ml-holdout13b), held-out (ml-holdout8a, 8b, 9, "
                             "10, 11a, 11b, 12a, 12b), multilingual (ml-holdout2 ... 7b), "
                             "ml-unsupported (languages this instance does not judge), ml-tuning (what the lexicons "
                             "and concepts were tuned on: ml-dev ... ml-dev9, ml-dev10-*, ml-holdout ... "
                             "ml-holdout7b, ml-fresh), any of those by name, test, tune, or a JSONL path")
    parser.add_argument("--json", action="store_true", help="with --eval: print the report as JSON")
    parser.add_argument("--rules-only", action="store_true", help="skip the classifier (no model load)")
    parser.set_defaults(func=run_moderate)
    return parser


def _line_verdicts(stream: TextIO, moderator: PromptModerator) -> list[dict[str, Any]]:
    """Verdicts for each non-blank line; malformed lines get an error verdict instead of stopping the run."""
    slots: list[dict[str, Any] | None] = []
    prompts: list[str] = []
    where: list[int] = []
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prompt = row.get("prompt", row.get("text")) if isinstance(row, dict) else None
            if not isinstance(prompt, str):
                raise ValueError('expected an object with a string "prompt"')  # noqa: TRY004 — reported as a line error
        except ValueError as exc:
            slots.append({"line": number, "prompt": None, "verdict": "error", "category": None,
                          "reason": f"line {number}: {exc}"})
            continue
        where.append(len(slots))
        slots.append(None)
        prompts.append(prompt)
    for index, verdict in zip(where, moderator.moderate_many(prompts)):
        slots[index] = verdict.to_dict()
    return [s for s in slots if s is not None]


def run_moderate(args: argparse.Namespace) -> int:
    """Run the subcommand; returns the process exit code (0 ok, 1 eval below goal, 2 bad usage/input)."""
    moderator = PromptModerator(use_classifier=False) if args.rules_only else PromptModerator()
    if args.eval:
        from sora_lite.safety.evaluate import evaluate, format_report, load_named

        try:
            examples = load_named(args.split)
        except (OSError, ValueError) as exc:
            print(f"error: cannot read split {args.split!r}: {exc}", file=sys.stderr)
            return 2
        report = evaluate(examples, moderator, split=args.split)
        print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
        return 0 if report.meets_goals() else 1
    if args.jsonl:
        try:
            if args.jsonl == "-":
                rows = _line_verdicts(sys.stdin, moderator)
            else:
                with open(args.jsonl, encoding="utf-8") as stream:
                    rows = _line_verdicts(stream, moderator)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {args.jsonl}: {exc}", file=sys.stderr)
            return 2
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if args.prompt is None:
        print('error: give a prompt, --jsonl FILE or --eval (e.g. moderate "a cat on a skateboard")', file=sys.stderr)
        return 2
    verdict: Verdict = moderator.moderate(args.prompt)
    print(verdict.to_json())
    return 0
