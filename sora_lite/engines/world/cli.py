"""`python -m sora_lite parse "PROMPT" | --jsonl FILE`: what the world engine will show for a prompt, as JSON.

Objects (names, the recipes they are built from, their actions), the place, weather and look, and the honest
lists: words used and ignored, things named that it cannot show (`unshown`), things shown by a stand-in
(`approximated`), and notes. The app's parse view shows the same (`parse_view`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sora_lite.engines.base import RequestError

MAX_LINES = 100_000  # a JSONL run reads at most this many prompts


def parse_view(prompt: str, with_spec: bool = False) -> dict[str, Any]:
    """The parse of one prompt as the CLI prints it (the scene spec only when asked: it is long)."""
    from sora_lite.engines.world.parse import parse_prompt

    out = parse_prompt(prompt).to_dict()
    spec = out.pop("spec")
    result = {"prompt": prompt, **out}
    if with_spec:
        result["spec"] = spec
    return result


def add_parse_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="show what the world engine will show for a prompt (JSON), or for every line "
                                     "of a file (JSON lines)")
    p.add_argument("prompt", nargs="?", help="the prompt text")
    p.add_argument("--jsonl", metavar="FILE", help="a text file with one prompt a line; prints one JSON object a line")
    p.add_argument("--spec", action="store_true", help="include the full scene spec")


def run_parse(args: argparse.Namespace) -> int:
    if (args.prompt is None) == (args.jsonl is None):
        raise RequestError("give a prompt or --jsonl FILE (one of the two)")
    if args.prompt is not None:
        print(json.dumps(parse_view(args.prompt, args.spec), indent=2, ensure_ascii=False))
        return 0
    path = Path(args.jsonl)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RequestError(f"prompt file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise RequestError(f"cannot read prompt file {path}: {e}") from None
    for line in lines[:MAX_LINES]:
        if line.strip():
            sys.stdout.write(json.dumps(parse_view(line.strip(), args.spec), ensure_ascii=False) + "\n")
    return 0
