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
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.generators import GeneratorError, RenderSettings, Sample, make_generator
from eval.metrics.errors import MetricSkipped
from eval.report import SetScore, leaderboard_frame, samples_frame, write_csvs, write_report
from eval.resources import Cost, measured
from eval.scoring import (
    Outcome,
    Scorer,
    ScorerOptions,
    fvd_set_score,
    leaderboard_measures,
    make_scorers,
    run_scorer,
    scorer_settings,
    silent,
    skipped_text,
)
from eval.suites import BUILTIN_SUITES, SuiteError, load_suites

STATE_GLOB = "samples*.jsonl"


class RunError(RuntimeError):
    """A run that cannot start or finish as asked; the message says what to change."""


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
    fvd_features: str = "i3d"
    fvd_model: str | None = None
    fvd_protocol: str = "sora-lite"
    clip_protocol: str = "sora-lite"
    clip_model: str | None = None
    clip_pretrained: str | None = None
    vlm_judge: str | None = None
    sync_model: str | None = None
    precision: str = "fp32"
    push_to_hub: str | None = None
    retry_errors: bool = False
    progress: bool = True


@dataclass
class RunResult:
    out: Path
    samples_csv: Path | None
    leaderboard_csv: Path | None
    report_md: Path | None
    scored: int  # samples scored in this call (all processes)
    resumed: int  # samples found already done (all processes)
    hub_error: str | None = None


# --- state ---------------------------------------------------------------------------------------------

def state_path(out: Path, rank: int) -> Path:
    return out / ("samples.jsonl" if rank == 0 else f"samples.rank{rank}.jsonl")


def read_state(out: Path) -> list[dict[str, Any]]:
    """Every sample record written so far by any process; a torn last line (killed mid-write) is ignored."""
    records = []
    for path in sorted(out.glob(STATE_GLOB)):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def done_metrics(records: list[dict[str, Any]], retry_errors: bool) -> dict[tuple[str, str], set[str]]:
    """(generator, sample key) → metrics already finished. Skips for missing weights are retried every run."""
    done: dict[tuple[str, str], set[str]] = {}
    for rec in records:
        got = done.setdefault((rec["generator"], rec["key"]), set())
        for row in rec["rows"]:
            if row.get("retry") or (retry_errors and row["status"] == "error"):
                got.discard(row["metric"])
            else:
                got.add(row["metric"])
    return done


def close_torn_line(path: Path) -> None:
    """End a line a killed process left half-written, so the next record starts on a line of its own."""
    if path.is_file() and path.stat().st_size:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def append_record(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


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


# --- one sample ----------------------------------------------------------------------------------------

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


# --- set-level metrics (FVD) ------------------------------------------------------------------------------

def reference_features(reference: str, scorer: Any, out: Path) -> np.ndarray:
    """Features of the reference set: a folder (or videos:<folder>) of videos or .npy files, or a Hub dataset."""
    from eval.metrics import fvd as fvd_metric
    from sora_lite.media import MediaError, read_video

    folder = Path(reference[len("videos:"):] if reference.startswith("videos:") else reference).expanduser()
    if folder.is_dir():
        from eval.generators import FolderGenerator

        videos = FolderGenerator(folder).files()
        if not videos:
            return fvd_metric.reference_features(folder)  # a folder of .npy / .npz features
        cache = out / f"reference_{scorer.extractor.name}.npz"
        names = [str(p) for p in videos]
        # Reused only for the same files, unchanged, through the same feature model at the same precision.
        model = scorer.settings() if hasattr(scorer, "settings") else getattr(scorer.options, "fvd_model", None)
        stamp = json.dumps({"model": model or "default",
                            "files": [[st.st_size, st.st_mtime_ns] for st in (p.stat() for p in videos)]})
        if cache.is_file():
            data = np.load(cache, allow_pickle=False)
            if list(data["files"]) == names and "stamp" in data and str(data["stamp"]) == stamp:
                return data["features"]
        feats, kept = [], []
        for p in videos:
            try:
                feats.append(scorer.features_of([read_video(p, with_audio=False).frames])[0])
                kept.append(str(p))
            except (MediaError, ValueError) as e:
                print(f"reference video {p} skipped: {e}", file=sys.stderr)
        if len(feats) < 2:
            raise MetricSkipped(
                f"the reference folder {folder} gave {len(feats)} usable videos", "FVD needs at least 2 reference videos"
            )
        arr = np.stack(feats)
        np.savez(cache, files=np.array(names), features=arr, stamp=np.array(stamp))
        return arr
    return fvd_metric.reference_features(reference)


def set_scores(
    records: list[dict[str, Any]], config: RunConfig, scorers: dict[str, Scorer], skipped: dict[str, str]
) -> tuple[dict[tuple[str, str], dict[str, SetScore]], list[str]]:
    notes: list[str] = []
    if "fvd" not in config.metrics or "fvd" in skipped:
        return {}, notes
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for rec in records:
        if "fvd" in rec.get("features", {}):
            suite = next((r["suite"] for r in rec["rows"]), "")
            groups.setdefault((rec["generator"], suite), {})[rec["key"]] = rec["features"]["fvd"]
    if not groups:
        return {}, notes
    if not config.reference:
        notes.append(
            "FVD: features were extracted but no reference set was given (pass --reference <folder|hub dataset|videos:...>)"
        )
        return {}, notes
    try:
        ref = reference_features(config.reference, scorers["fvd"], config.out)
    except MetricSkipped as e:
        notes.append(f"FVD skipped: {skipped_text(e)}")
        return {}, notes
    except Exception as e:
        notes.append(f"FVD reference {config.reference!r} could not be used: {type(e).__name__}: {e}")
        return {}, notes
    scores: dict[tuple[str, str], dict[str, SetScore]] = {}
    for key, by_sample in sorted(groups.items()):
        feats = np.asarray([by_sample[k] for k in sorted(by_sample)], dtype=np.float64)
        try:
            s = fvd_set_score(feats, ref, protocol=config.fvd_protocol)
        except Exception as e:
            notes.append(f"FVD for {key[0]} × {key[1]}: {type(e).__name__}: {e}")
            continue
        scores[key] = {"fvd": s}
        if s.warning:
            notes.append(f"FVD {key[0]} × {key[1]}: {s.warning}")
    return scores, notes


# --- the run -------------------------------------------------------------------------------------------

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


def checked_settings(out: Path, current: dict[str, str], records: list[dict[str, Any]]) -> dict[str, str]:
    """The settings of every metric scored in `out`, this run's included; a RunError when this run would
    add rows to a metric already scored there under other settings (another model, another precision)."""
    previous = recorded_settings(out)
    # Skipped rows hold no number (missing weights are retried every run), so they bind no settings.
    scored = {row["metric"] for rec in records for row in rec.get("rows", []) if row.get("status") != "skipped"}
    clashes = [m for m in current if m in scored and previous.get(m) not in (None, current[m])]
    if clashes:
        what = "; ".join(f"{m}: scored with '{previous[m]}', now '{current[m]}'" for m in clashes)
        raise RunError(
            f"{out} already holds rows scored under other settings ({what}). Rows with different models or "
            "precision are not comparable: rerun with the same flags to resume, or use a new --out"
        )
    return {**previous, **current}


def recorded_settings(out: Path) -> dict[str, str]:
    try:
        got = json.loads((out / "run.json").read_text()).get("metric_settings", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in got.items()} if isinstance(got, dict) else {}


def assemble(config: RunConfig, scorers: dict[str, Scorer], skipped: dict[str, str]) -> tuple[Path, Path, Path]:
    """samples.csv, leaderboard.csv and the report from every record in --out (all processes, all runs)."""
    records = read_state(config.out)
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rec in records:
        for row in rec["rows"]:
            latest[(row["generator"], row["sample"], row["metric"])] = {k: v for k, v in row.items() if k != "retry"}
    rows = list(latest.values())
    samples = samples_frame(rows)
    scores, notes = set_scores(records, config, scorers, skipped)
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
        scorers = make_scorers(config.metrics, ScorerOptions(
            device=device, fvd_features=config.fvd_features, fvd_model=config.fvd_model, clip_model=config.clip_model,
            clip_pretrained=config.clip_pretrained,
            fvd_protocol=config.fvd_protocol, clip_protocol=config.clip_protocol, seed=config.seeds[0] if config.seeds else 0,
            vlm_judge=config.vlm_judge,
            sync_model=config.sync_model,
            precision=config.precision,
        ))
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


# --- command line ----------------------------------------------------------------------------------------

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
    parts = text.lower().split("x")
    try:
        if len(parts) > 2:
            raise ValueError
        return int(parts[0]), int(parts[-1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size takes N or WxH in pixels, e.g. 256 or 320x240 (got {text!r})") from None


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
    p.add_argument("--fvd-features", choices=["i3d", "videomae"], default="i3d", help="FVD feature network (StyleGAN-V I3D or cd-FVD VideoMAE)")
    p.add_argument("--fvd-model", default=None, metavar="PATH_OR_ID",
                   help="i3d: the TorchScript detector file (default $SORA_LITE_I3D or ~/.cache/sora_lite/i3d_torchscript.pt); "
                        "videomae: a Hub id or local folder (default MCG-NJU/videomae-base-finetuned-ssv2)")
    p.add_argument("--fvd-protocol", choices=["sora-lite", "stylegan-v", "cd-fvd"], default="sora-lite",
                   help="how FVD is computed (eval/protocols.py): sora-lite (the project's own, not comparable with "
                        "published FVD), stylegan-v (I3D, Lanczos+crop+JPEG, seeded real-side offset, cov ÷N, N≤2048) "
                        "or cd-fvd (short side 256 + crop, random clips, cov ÷N; default VideoMAE-base is NOT cd-FVD's ViT-g)")
    p.add_argument("--clip-protocol", choices=["sora-lite", "torchmetrics", "evalcrafter", "vbench", "t2v_metrics"],
                   default="sora-lite", help="which tool's CLIP score recipe (model, frames, preprocessing, aggregation)")
    p.add_argument("--clip-model", default=None, help="open_clip model name (default ViT-B-32) or a transformers CLIP id / folder")
    p.add_argument("--clip-pretrained", default=None, help="open_clip pretrained tag or checkpoint file (default laion2b_s34b_b79k)")
    p.add_argument("--vlm-judge", default=None, metavar="ID_OR_DIR",
                   help="chat VLM for the physics_vlm metric: Hub id (local cache only) or folder (default Qwen/Qwen3-VL-2B-Instruct)")
    p.add_argument("--sync-model", default=None, metavar="PATH_OR_ID",
                   help="Synchformer weights for av_sync_learned: a .pth file, a folder, or owner/repo[/file] in the local "
                        "HF cache (default hkchengrex/MMAudio/ext_weights/synchformer_state_dict.pth)")
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
        fvd_features=args.fvd_features,
        fvd_model=args.fvd_model,
        fvd_protocol=args.fvd_protocol,
        clip_protocol=args.clip_protocol,
        clip_model=args.clip_model,
        clip_pretrained=args.clip_pretrained,
        vlm_judge=args.vlm_judge,
        sync_model=args.sync_model,
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
