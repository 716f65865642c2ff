"""`python -m sora_lite verify clip.mp4 [--json]` (wired into sora_lite/__main__.py by the lead)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sora_lite.media import MediaError
from sora_lite.provenance.verify import VerifyReport, verify_file


def add_verify_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "verify", help="check a video's C2PA manifest and sora-lite watermark",
        description="Report whether FILE carries a valid C2PA manifest (valid / tampered / absent) and a "
                    "sora-lite invisible watermark (with the clip id it names).",
    )
    parser.add_argument("file", help="video file to check (.mp4, .mov, .webm …)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.set_defaults(func=run_verify)
    return parser


def run_verify(args: argparse.Namespace, *, store_lookup: Callable[[str], bool] | None = None,
               verify: Callable[[str], VerifyReport] | None = None) -> int:
    """Exit codes: 0 checked (see the report), 2 the file could not be read as a video.

    `verify` (e.g. `Studio().verify`: watermark lookup and reverse search in this instance's clips)
    replaces the plain `verify_file`."""
    try:
        report = verify(args.file) if verify is not None else verify_file(args.file, store_lookup=store_lookup)
    except MediaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if args.json else report.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sora_lite")
    add_verify_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
