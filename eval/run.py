"""`python -m eval.run`: score a generator on prompt suites and write samples.csv, leaderboard.csv and a report.

    python -m eval.run --generator world --suites physics,av_sync --metrics physics,av_sync --limit 8 --out runs/w
    python -m eval.run --generator videos:./outputs --metrics av_sync,physics --out runs/mine
    accelerate launch --multi_gpu --num_processes 2 -m eval.run ...   # shards samples, same CSVs
    torchrun --nproc_per_node 2 -m eval.run ...                        # the same without accelerate's launcher

Sharded runs split the samples round-robin (accelerate's PartialState gives rank and world size; without a
GPU the processes talk over gloo). Results merge through the state files rather than through metric
states: every process appends its records, and the main process builds the CSVs from all of them after a
barrier, so a sharded run, a resumed run and a single run give the same numbers.

Resumable: each finished sample's rows are appended (one JSON line per sample, flushed and fsynced) to
`samples.jsonl` in --out (`samples.rank<k>.jsonl` for the other processes of a sharded run); a rerun
skips every sample × metric already there. An out folder is cumulative: runs of several generators into
the same folder give a leaderboard with one row per generator × suite.

This module is the command line; the run is `eval.runner`, its state files `eval.run_state`, FVD set scoring
`eval.run_sets`. Their names are re-exported here, so `from eval.run import run, RunConfig` keeps working.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from eval.generators import GeneratorError
from eval.run_sets import reference_features  # noqa: F401  (re-exported: the old home of these names)
from eval.run_state import RunError, checked_settings  # noqa: F401
from eval.runner import RunConfig, RunResult, run  # noqa: F401
from eval.scoring import SCORERS, check_metric_args, metric_options, parse_metric_args
from eval.suites import BUILTIN_SUITES, SuiteError
from sora_lite.common.errors import RequestError
from sora_lite.common.request import parse_size


def _csv_list(text: str) -> list[str]:
    return [t for t in (s.strip() for s in text.split(",")) if t]


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes whole numbers separated by commas, e.g. 0,1 (got {text!r})") from None
    if not seeds or any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"--seeds needs at least one seed ≥ 0 (got {text!r})")
    return seeds


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except RequestError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _metric_args(text: str) -> dict[str, dict[str, Any]]:
    try:
        return parse_metric_args(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


class _MergeArgs(argparse.Action):
    """--metric-args may be given more than once: the settings add up (a later value for a key wins)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        merged = {name: dict(v) for name, v in (getattr(namespace, self.dest, None) or {}).items()}
        for name, settings in values.items():
            merged.setdefault(name, {}).update(settings)
        setattr(namespace, self.dest, merged)


ALIAS_PREFIX = "metric_arg:"


def metric_args_of(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """--metric-args, with the older per-metric flags folded in (an explicit --metric-args value wins)."""
    merged = {name: dict(values) for name, values in (getattr(args, "metric_args", None) or {}).items()}
    for dest, value in vars(args).items():
        if dest.startswith(ALIAS_PREFIX):
            name, _, key = dest[len(ALIAS_PREFIX):].partition(".")
            merged.setdefault(name, {}).setdefault(key, value)
    return check_metric_args(merged)


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number ≥ 1, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval.run", description="Score a video generator on prompt suites.")
    p.add_argument("--generator", default="world", help="world | <hub model id> | videos:<folder> (default: world)")
    p.add_argument("--suites", type=_csv_list, default=None,
                   help=f"comma-separated: {', '.join(BUILTIN_SUITES)}, a .jsonl path or a Hub dataset id "
                        "(default: alignment; for videos:<folder> the suites its prompts.jsonl names)")
    p.add_argument("--metrics", type=_csv_list, default=["clip", "av_sync", "physics"],
                   help="comma-separated: clip, fvd, av_sync, av_sync_learned, physics, physics_vlm, multishot "
                        "(default: clip,av_sync,physics)")
    p.add_argument("--reference", default=None,
                   help="FVD reference: a folder of videos or .npy features, videos:<folder>, or a Hub dataset id")
    p.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated seeds per prompt (default: 0)")
    p.add_argument("--limit", type=_positive, default=None, help="at most N prompts per suite (N files for videos:)")
    p.add_argument("--out", type=Path, default=Path("runs/latest"),
                   help="output folder; rerun with the same folder to resume")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    p.add_argument("--size", type=_size, default=(256, 256), help="N or WxH for generated clips (default 256)")
    p.add_argument("--seconds", type=float, default=None, help="clip length (default 4 s; a storyboard's own total)")
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--metric-args", type=_metric_args, default={}, metavar="METRIC.KEY=VALUE,...", action=_MergeArgs,
                   help="each metric's own settings, e.g. clip.protocol=vbench,fvd.model=/path/i3d.pt; the settings: "
                        + "; ".join(f"{name}: {', '.join(options)}" for name in SCORERS
                                    if (options := metric_options(name))))
    # The flags runs used before --metric-args, generated from the registry: each sets one metric setting.
    for name in SCORERS:
        for option in metric_options(name).values():
            if option.flag is None:
                continue
            dest = f"{ALIAS_PREFIX}{name}.{option.key}"
            if option.flag_value is not None:
                p.add_argument(option.flag, dest=dest, action="store_const", const=option.flag_value,
                               default=argparse.SUPPRESS, help=f"= --metric-args {name}.{option.key}={option.flag_value}")
            else:
                p.add_argument(option.flag, dest=dest, choices=option.choices, default=argparse.SUPPRESS,
                               metavar=None if option.choices else option.key.upper(),
                               help=f"{name}: {option.help} (= --metric-args {name}.{option.key}=...)")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="learned models' forward pass: fp32 (default; matches the reference tools) or bf16 "
                        "(3-5x faster on GPUs and AMX CPUs, scores move slightly; see eval/precision.py)")
    p.add_argument("--push-to-hub", default=None, metavar="REPO", help="push samples + leaderboard as a datasets dataset to this Hub repo")
    p.add_argument("--retry-errors", action="store_true", help="on resume, score again the samples that ended in an error")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def config_from_args(args: argparse.Namespace) -> RunConfig:
    suites = args.suites
    if suites is None:
        suites = [] if args.generator.startswith("videos:") else ["alignment"]
    return RunConfig(
        generator=args.generator,
        suites=suites,
        metrics=args.metrics,
        reference=args.reference,
        seeds=args.seeds,
        limit=args.limit,
        out=args.out,
        device=args.device,
        width=args.size[0],
        height=args.size[1],
        seconds=args.seconds,
        fps=args.fps,
        metric_args=metric_args_of(args),
        precision=args.precision,
        push_to_hub=args.push_to_hub,
        retry_errors=args.retry_errors,
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    try:
        result = run(config)
    except (RunError, GeneratorError, SuiteError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result.leaderboard_csv is not None:
        print(f"scored {result.scored} new samples ({result.resumed} already done); wrote {result.samples_csv}, "
              f"{result.leaderboard_csv} and {result.report_md}")
    if result.hub_error:
        print(f"error: {result.hub_error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
