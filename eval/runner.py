"""The run behind `python -m eval.run` (its docstring tells how to call it): plan the samples, make and score
each one, append its rows to the state file, then build the CSVs and the report from every record.

Split along its seams: `eval.run_state` (state files), `eval.run_sets` (FVD set scoring), this module (the
run), `eval.run` (the command line).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eval.generators import RenderSettings, Sample, make_generator
from eval.metrics.errors import MetricSkipped
from eval.report import leaderboard_frame, samples_frame, write_csvs, write_report
from eval.resources import Cost, measured
from eval.run_sets import set_scores
from eval.run_state import (
    RunError,
    append_record,
    checked_settings,
    close_torn_line,
    done_metrics,
    read_state,
    recorded_settings,
    state_path,
)
from eval.scoring import (
    Outcome,
    Scorer,
    ScorerOptions,
    leaderboard_measures,
    make_scorers,
    run_scorer,
    scorer_settings,
    silent,
    skipped_text,
)
from eval.suites import SuiteError, load_suites


@dataclass
class RunConfig:
    generator: str = "world"
    suites: list[str] = field(default_factory=lambda: ["alignment"])
    metrics: list[str] = field(default_factory=lambda: ["clip"])
    reference: str | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    limit: int | None = None
    out: Path = Path("runs/latest")
    device: str = "auto"
    width: int = 256
    height: int = 256
    seconds: float | None = None
    fps: int = 24
    # each metric's own settings, {metric: {key: value}}, the keys its registry entry declares (eval.scoring)
    metric_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    precision: str = "fp32"
    push_to_hub: str | None = None
    retry_errors: bool = False
    progress: bool = True


    def __getattr__(self, name: str) -> Any:  # older field names (`fvd_protocol` ...), read through the registry
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.scorer_options(), name)

    def scorer_options(self, device: str = "cpu") -> ScorerOptions:
        return ScorerOptions(device=device, seed=self.seeds[0] if self.seeds else 0, precision=self.precision,
                             metric_args=self.metric_args)


@dataclass
class RunResult:
    out: Path
    samples_csv: Path | None
    leaderboard_csv: Path | None
    report_md: Path | None
    scored: int  # samples scored in this call (all processes)
    resumed: int  # samples found already done (all processes)
    hub_error: str | None = None


def _row(
    generator: str, sample: Sample, metric: str, outcome: Outcome, retry: bool = False, cost: Cost | None = None
) -> dict[str, Any]:
    row = {
        "generator": generator,
        "suite": sample.suite,
        "sample": sample.key,
        "prompt_id": sample.prompt_id,
        "seed": sample.seed,
        "prompt": sample.prompt or "",
        "video": sample.video_path or "",
        "metric": metric,
        "value": outcome.value,
        "status": outcome.status,
        "error": outcome.error,
        "details": outcome.details,
    }
    if cost is not None:
        row.update(seconds=round(cost.seconds, 4), peak_mib=round(cost.peak_mib, 1))
        if cost.cuda_peak_mib is not None:
            row["cuda_peak_mib"] = round(cost.cuda_peak_mib, 1)
    if retry:
        row["retry"] = True
    return row


def score_clip(
    scorers: dict[str, Scorer], names: list[str], clip: Any, sample: Sample
) -> dict[str, tuple[Outcome, Cost | None]]:
    """Every requested metric on one decoded clip, with what each call cost (wall time, peak memory);
    sound metrics on a soundless clip say "no audio" (and cost nothing)."""
    outcomes: dict[str, tuple[Outcome, Cost | None]] = {}
    quiet = silent(clip)
    for name in names:
        if getattr(scorers[name], "needs_audio", False) and quiet:
            outcomes[name] = (Outcome(None, "no audio", quiet), None)
        else:
            outcomes[name] = measured(lambda: run_scorer(scorers[name], clip, sample))
    return outcomes


def process_sample(
    generator: Any, sample: Sample, todo: list[str], skipped: dict[str, str], scorers: dict[str, Scorer], out: Path
) -> dict[str, Any]:
    """Make (if needed), decode and score one sample; every failure becomes rows, never an exception."""
    from sora_lite.media import MediaError, read_video

    gen_name = generator.name
    record: dict[str, Any] = {"generator": gen_name, "key": sample.key, "rows": [], "features": {}}
    for m in todo:
        if m in skipped:
            record["rows"].append(_row(gen_name, sample, m, Outcome(None, "skipped", skipped[m]), retry=True))
    active = [m for m in todo if m not in skipped]
    if not active:
        return record

    def fail(why: str) -> dict[str, Any]:
        record["rows"] += [_row(gen_name, sample, m, Outcome(None, "error", why)) for m in active]
        return record

    try:
        sample = generator.produce(sample, out)
    except Exception as e:  # engine errors of every kind end this sample only
        return fail(f"generation failed: {type(e).__name__}: {e}")
    try:
        clip = read_video(sample.video_path)
    except MediaError as e:
        return fail(f"unreadable video: {e}")
    except Exception as e:  # a decoder bug on an exotic file must not end the run either
        return fail(f"unreadable video: {type(e).__name__}: {e}")
    for name, (outcome, cost) in score_clip(scorers, active, clip, sample).items():
        record["rows"].append(_row(gen_name, sample, name, outcome, cost=cost))
        if outcome.feature is not None:
            record["features"][name] = outcome.feature
    return record


def _distributed(device: str) -> Any:
    """accelerate's process state when started by `accelerate launch` / `torchrun`, else None (no process group).

    Without a GPU (or with --device cpu) the processes talk over gloo: accelerate only does that when told cpu=True.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=device == "cpu" or not torch.cuda.is_available())
    if state.num_processes != world:
        raise RunError(
            f"started as {world} processes but accelerate set up {state.num_processes}: launch with "
            "`accelerate launch --multi_gpu --num_processes N -m eval.run ...` or `torchrun --nproc_per_node N -m eval.run ...`"
        )
    return state


def _device(choice: str, state: Any) -> str:
    import torch

    if choice == "auto":
        if state is not None:
            return str(state.device)
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise RunError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    if choice == "cuda" and state is not None:
        return str(state.device)
    return choice


def assemble(config: RunConfig, scorers: dict[str, Scorer], skipped: dict[str, str]) -> tuple[Path, Path, Path]:
    """samples.csv, leaderboard.csv and the report from every record in --out (all processes, all runs)."""
    records = read_state(config.out)
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rec in records:
        for row in rec["rows"]:
            latest[(row["generator"], row["sample"], row["metric"])] = {k: v for k, v in row.items() if k != "retry"}
    rows = list(latest.values())
    samples = samples_frame(rows)
    scores, notes = set_scores(records, config.metrics, config.reference, config.out, scorers, skipped)
    present = set(samples["metric"]) if not samples.empty else set()
    measures = leaderboard_measures(sorted(present))
    shown = [m for m in measures if m in present or m in config.metrics]
    recorded = recorded_settings(config.out)  # this run's merged in at its start (`checked_settings`)
    settings = "; ".join(f"{m}={recorded[m]}" for m in measures if m in present and recorded.get(m))
    leaderboard = leaderboard_frame(samples, scores, metrics=measures, settings=settings)
    s_path, l_path = write_csvs(config.out, samples, leaderboard)
    md, _ = write_report(config.out, samples, leaderboard, shown, notes=notes)
    return s_path, l_path, md


def push_to_hub(out: Path, repo: str) -> str | None:
    """Save `datasets` copies of the CSVs under out/hub_dataset/, then push them as two configs of one Hub repo.

    Returns the error text, if any; the local copies stay either way.
    """
    import pandas as pd
    from datasets import Dataset

    parts = {}
    local = out / "hub_dataset"
    if local.is_dir():
        import shutil

        shutil.rmtree(local)  # rebuilt from the CSVs, which hold everything it had
    for name in ("samples", "leaderboard"):
        df = pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""])
        parts[name] = Dataset.from_pandas(df, preserve_index=False)
        parts[name].save_to_disk(str(local / name))
    try:
        for name, dataset in parts.items():
            dataset.push_to_hub(repo, config_name=name, split="train")
    except Exception as e:  # offline, no token, no rights: one clear message, the files stay
        return (
            f"could not push to the Hub repo {repo!r}: {type(e).__name__}: {e}. Nothing is lost: the CSVs are in "
            f"{out} and the datasets are saved under {local}. Where there is network, log in (`hf auth login`) and run "
            f"`python -c \"from datasets import load_from_disk; [load_from_disk('{local}/' + c).push_to_hub('{repo}', "
            f"config_name=c) for c in ('samples', 'leaderboard')]\"`."
        )
    return None


def run(config: RunConfig) -> RunResult:
    state = _distributed(config.device)
    rank = state.process_index if state is not None else 0
    world = state.num_processes if state is not None else 1
    is_main = rank == 0
    config.out.mkdir(parents=True, exist_ok=True)
    try:
        suites = load_suites(config.suites, limit=config.limit) if config.suites else []
    except SuiteError as e:
        raise RunError(str(e)) from None
    if not suites and not config.generator.startswith("videos:"):
        raise RunError("no suites given: pass e.g. --suites alignment,physics")
    settings = RenderSettings(width=config.width, height=config.height, fps=config.fps, seconds=config.seconds)
    generator = make_generator(config.generator, settings)
    generator.check()
    device = _device(config.device, state)
    try:
        scorers = make_scorers(config.metrics, config.scorer_options(device))
    except ValueError as e:
        raise RunError(str(e)) from None
    skipped: dict[str, str] = {}
    for name, scorer in scorers.items():
        try:
            scorer.setup()
        except MetricSkipped as e:
            skipped[name] = skipped_text(e)
            if is_main:
                print(f"metric {name} skipped: {skipped[name]}", file=sys.stderr)

    samples = generator.plan(suites, config.seeds)
    if config.limit is not None and generator.name.startswith("videos:"):
        samples = samples[: config.limit]
    if "fvd" in scorers and hasattr(scorers["fvd"], "plan"):
        sizes: dict[str, int] = {}
        for s in samples:
            sizes[s.suite] = sizes.get(s.suite, 0) + 1
        scorers["fvd"].plan(list(sizes.values()), resample=getattr(scorers["fvd"], "args", {}).get("resample", True))
    records = read_state(config.out)
    settings_by_metric = checked_settings(config.out, scorer_settings(scorers), records)
    done = done_metrics(records, config.retry_errors)
    mine = samples[rank::world]
    path = state_path(config.out, rank)
    close_torn_line(path)
    if is_main:
        (config.out / "run.json").write_text(json.dumps(
            {**asdict(config), "out": str(config.out), "metric_settings": settings_by_metric}, indent=2
        ))

    from tqdm.auto import tqdm

    if not config.progress:
        import datasets

        datasets.disable_progress_bars()
    scored = resumed = 0
    label = f"{generator.name} [{rank + 1}/{world}]" if world > 1 else generator.name
    bar = tqdm(mine, desc=label, position=rank, disable=not config.progress, unit="video")
    for sample in bar:
        finished = done.get((generator.name, sample.key), set())
        todo = [m for m in config.metrics if m not in finished]
        if not todo:
            resumed += 1
            continue
        record = process_sample(generator, sample, todo, skipped, scorers, config.out)
        append_record(path, record)
        scored += 1
    bar.close()

    if state is not None:
        from accelerate.utils import gather_object

        state.wait_for_everyone()
        counts = gather_object([(scored, resumed)])
        scored, resumed = sum(c[0] for c in counts), sum(c[1] for c in counts)
    result = RunResult(config.out, samples_csv=None, leaderboard_csv=None, report_md=None, scored=scored, resumed=resumed)
    if is_main:
        result.samples_csv, result.leaderboard_csv, result.report_md = assemble(config, scorers, skipped)
        if config.push_to_hub:
            result.hub_error = push_to_hub(config.out, config.push_to_hub)
    if state is not None:
        state.wait_for_everyone()
    return result
