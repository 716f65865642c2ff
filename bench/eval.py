"""Throughput of the eval toolkit per stage, next to the reference implementations, in one run.

    python bench/eval.py [--clips 64] [--size 256] [--seconds 2] [--work runs/bench-eval] [--random-weights]

1. makes --clips world-engine clips from the physics, av_sync and multishot suites (kept in --work for reruns);
2. decode: `sora_lite.media.read_video` vs `ffmpeg -f null` on the same files (goal ≥ 0.7× ffmpeg's fps);
3. features: CLIP frame embeddings and I3D/VideoMAE FVD features when their weights are here (else
   reported skipped, with the reason), and torchmetrics CLIPScore on the same frames as the reference;
4. each weight-free metric (av_sync, physics, multishot) on the decoded clips, clips/s;
5. Fréchet distance on 400-d features (I3D's size): ours vs `scipy.linalg.sqrtm` (goal within 2× of scipy's
   time) and the difference in value;
6. whole eval (`python -m eval.run`, one decode shared by every metric) vs the same metrics run one at a
   time, each with its own decode, as separate reference tools would (goal ≥ 3× faster).

--random-weights (timing only: scores are meaningless). No checkpoint can be downloaded here, but compute
cost does not depend on weight values, so the real architectures with random init (bench/references.py
builds them from configs, offline, once, into --work/random-weights) time like the real models:
- ours: ONE `python -m eval.run --metrics clip,fvd,av_sync,physics` with a random open_clip ViT-B-32 file
  (--clip-pretrained) and the cd-FVD recipe (--fvd-protocol cd-fvd --fvd-model <random VideoMAE-base
  folder>: a VideoMAE-base, not cd-FVD's ViT-g/14 — the bench times, it does not reproduce their numbers),
  reference set = the same files;
- the references, each its own process with its own decode of every file, as a researcher chaining the
  authors' tools would: torchmetrics CLIPScore (transformers CLIP ViT-B/32, 8 frames per video), cd-FVD
  (16 frames, VideoMAE, scipy sqrtm), AV-Align (TempoTokens' av_align.py: Farneback flow on full-size
  frames + librosa onsets), and our physics metric alone (it has no external tool);
- ratio = (sum of the references' wall times) / (the one eval.run's), with and without FVD: FVD's VideoMAE
  forward is the same work on both sides and dominates on a CPU;
- ours again with `--precision bf16` (the networks in bfloat16: fast on GPUs and AMX CPUs), with the drift it
  causes in CLIPScore and FVD on the same clips.
Stages 3–5 then use the same random models (ours in-process on the shared decode, plus torchmetrics
CLIPScore on the same frames).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MUJOCO_GL", "egl")

from eval.generators import EngineGenerator, RenderSettings
from eval.metrics.errors import MetricSkipped
from eval.scoring import SCORERS, ScorerOptions, run_scorer
from eval.suites import load_suite

sys.path.insert(0, str(ROOT / "bench"))
import references  # bench/references.py: the reference tools and the random-weight models

WEIGHT_FREE = ("av_sync", "physics")


def make_clips(n: int, settings: RenderSettings, work: Path) -> list:
    gen = EngineGenerator("world", settings)
    gen.check()
    suites = [load_suite("physics"), load_suite("av_sync"), load_suite("multishot")]
    queues = [list(s.prompts) for s in suites]
    prompts = []
    while any(queues):  # round-robin over the suites, so any --clips gets a mix
        prompts += [q.pop(0) for q in queues if q]
    plan = gen.plan(suites, [0])
    by_id = {s.prompt_id: s for s in plan}
    samples = [by_id[p.id] for p in prompts][:n]
    t0 = time.perf_counter()
    made = [gen.produce(s, work) for s in samples]
    print(f"clips: {len(made)} world-engine clips at {settings.width}² × {settings.seconds:g} s ready in "
          f"{time.perf_counter() - t0:.1f} s (cached ones are reused)")
    return made


def bench_decode(paths: list[Path]) -> tuple[list, float]:
    """Timed as eval.run decodes: one clip in memory at a time. (Holding all 64 at 512² — 2.4 GB of fresh
    pages — measures the kernel's page faults, not the decoder: ~2.5× slower here.)"""
    from sora_lite.media import read_video

    frames = 0
    t0 = time.perf_counter()
    for p in paths:
        frames += read_video(p).num_frames
    ours = time.perf_counter() - t0
    clips = [read_video(p) for p in paths]  # kept for the later stages, untimed
    line = f"decode   sora_lite.media.read_video: {frames / ours:8.0f} frames/s ({ours:.2f} s, RGB arrays + audio, one clip at a time)"
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        t0 = time.perf_counter()
        for p in paths:
            subprocess.run([ffmpeg, "-v", "error", "-i", str(p), "-f", "null", "-"], check=True)
        per_file = time.perf_counter() - t0
        # One process for every file, so ffmpeg's start-up (~tens of ms) is paid once: the stricter reference.
        cmd = [ffmpeg, "-v", "error"]
        for p in paths:
            cmd += ["-i", str(p)]
        for k in range(len(paths)):
            cmd += ["-map", f"{k}:v:0", "-map", f"{k}:a:0?"]
        t0 = time.perf_counter()
        subprocess.run([*cmd, "-f", "null", "-"], check=True)
        one = time.perf_counter() - t0
        t0 = time.perf_counter()  # the same, converted to RGB like read_video's frames
        subprocess.run([*cmd, "-pix_fmt", "rgb24", "-f", "null", "-"], check=True)
        rgb = time.perf_counter() - t0
        line += (f"\n         ffmpeg -f null, one process per file: {frames / per_file:8.0f} frames/s ({per_file:.2f} s)"
                 f"\n         ffmpeg -f null, all files in one process: {frames / one:8.0f} frames/s ({one:.2f} s)"
                 f"  → ours = {one / ours:.2f}× ffmpeg's speed (goal ≥ 0.7×)"
                 f"\n         ffmpeg -pix_fmt rgb24 -f null, one process: {frames / rgb:8.0f} frames/s ({rgb:.2f} s)"
                 f"  → ours = {rgb / ours:.2f}× (same output format as read_video)")
    else:
        line += "\n         ffmpeg not found: `apt-get install -y ffmpeg` for the reference"
    print(line)
    return clips, ours


def feature_scorers(weights: references.RandomWeights | None) -> dict[str, object]:
    """CLIP and FVD scorers set up for stage 3: the default checkpoints, or the random models; a scorer
    whose weights are missing is returned as the MetricSkipped that says why."""
    got: dict[str, object] = {}
    for name in ("clip", "fvd"):
        options = ScorerOptions()
        if weights is not None:
            options = ScorerOptions(fvd_features="videomae", fvd_model=str(weights.videomae_dir),
                                    clip_model=references.OPEN_CLIP_MODEL, clip_pretrained=str(weights.open_clip_file))
        scorer = SCORERS[name](options)
        try:
            scorer.setup()
        except MetricSkipped as e:
            got[name] = e
            continue
        got[name] = scorer
    return got


def bench_features(clips: list, samples: list, weights: references.RandomWeights | None = None) -> None:
    for name, scorer in feature_scorers(weights).items():
        label = {"clip": "CLIP alignment", "fvd": "FVD features"}[name]
        if isinstance(scorer, MetricSkipped):
            print(f"features {label}: skipped — {scorer.reason} ({scorer.how_to_fix})")
            continue
        t0 = time.perf_counter()
        outcomes = [run_scorer(scorer, clip, sample) for clip, sample in zip(clips, samples)]
        dt = time.perf_counter() - t0
        ok = sum(o.status == "ok" for o in outcomes)
        model = scorer.encoder.name if name == "clip" else scorer.extractor.name
        print(f"features {label} ({os.path.basename(model)}): {len(clips) / dt:6.2f} clips/s ({ok} of {len(clips)} scored)")
        if name == "clip":
            bench_clipscore_reference(clips, samples, dt, weights)


def bench_clipscore_reference(clips: list, samples: list, ours: float, weights: references.RandomWeights | None) -> None:
    """torchmetrics CLIPScore on the same 8 uniformly sampled frames per clip (transformers weights needed)."""
    import torch

    from eval.metrics.frames import uniform_indices

    if weights is not None:
        model = str(weights.hf_clip_dir)
        metric = references.torchmetrics_clipscore(weights.hf_clip_dir)
    else:
        from torchmetrics.multimodal.clip_score import CLIPScore

        model = os.environ.get("SORA_LITE_CLIPSCORE_MODEL", "openai/clip-vit-base-patch32")
        try:
            metric = CLIPScore(model_name_or_path=model)
        except Exception as e:  # no local weights
            print(f"         torchmetrics CLIPScore reference: skipped — {model} not available locally ({type(e).__name__})")
            return
    t0 = time.perf_counter()
    for clip, sample in zip(clips, samples):
        frames = clip.frames[uniform_indices(clip.num_frames, 8)]
        metric.update(torch.from_numpy(frames).permute(0, 3, 1, 2), [sample.prompt] * len(frames))
    ref = time.perf_counter() - t0
    print(f"         torchmetrics CLIPScore (reference, same frames): {len(clips) / ref:6.2f} clips/s → ours {ref / ours:.2f}×")


def bench_metrics(clips: list, samples: list) -> None:
    for name in (*WEIGHT_FREE, "multishot"):  # multishot scores the storyboard clips, skips the rest
        scorer = SCORERS[name](ScorerOptions())
        scorer.setup()
        t0 = time.perf_counter()
        outcomes = [run_scorer(scorer, c, s) for c, s in zip(clips, samples)]
        dt = time.perf_counter() - t0
        ok = sum(o.status == "ok" for o in outcomes)
        print(f"metric   {name:9s}: {len(clips) / dt:6.2f} clips/s ({ok} of {len(clips)} scored, the rest skipped/no audio)")


def bench_frechet(n: int = 256, dim: int = 400, repeat: int = 5) -> None:
    import scipy.linalg

    from eval.metrics.frechet import frechet_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, dim)), rng.normal(0.1, 1.1, size=(n, dim))
    # Only the arithmetic is compared here: both sides get the same covariances (np.cov's ÷(N−1); the
    # references' FeatureStats use ÷N, see tests/test_protocols_fvd.py for that golden test).
    m1, m2, c1, c2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)

    def scipy_fd() -> float:
        root = scipy.linalg.sqrtm(c1 @ c2)
        return float(np.real((m1 - m2) @ (m1 - m2) + np.trace(c1) + np.trace(c2) - 2 * np.trace(root)))

    def best(fn) -> tuple[float, float]:
        times, value = [], 0.0
        for _ in range(repeat):
            t0 = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - t0)
        return min(times), value

    ours_t, ours_v = best(lambda: frechet_distance(m1, c1, m2, c2))
    ref_t, ref_v = best(scipy_fd)
    print(f"frechet  {dim}-d, N={n}: ours {ours_t * 1000:.1f} ms, scipy.linalg.sqrtm {ref_t * 1000:.1f} ms "
          f"→ ours takes {ours_t / ref_t:.2f}× scipy's time (goal ≤ 2×); |Δ| = {abs(ours_v - ref_v) / abs(ref_v):.1e} relative")


def link_folder(samples: list, folder: Path) -> None:
    """The clips as one flat `videos:` folder: symlinks, their .truth.json sidecars, and a prompts.jsonl
    giving each file its prompt, suite and id (so eval.run sees the expectations the in-process stages do)."""
    folder.mkdir(parents=True)
    rows = []
    for s in samples:
        src = Path(s.video_path)
        name = f"{src.parent.name}_{src.name}"
        os.symlink(src.resolve(), folder / name)
        if s.ground_truth_path:
            os.symlink(Path(s.ground_truth_path).resolve(), (folder / name).with_suffix(".truth.json"))
        rows.append(json.dumps({"file": name, "prompt": s.prompt, "suite": s.suite, "id": s.prompt_id}))
    (folder / "prompts.jsonl").write_text("\n".join(rows) + "\n")


def eval_run(folder: Path, metrics: str, out: Path, extra: list[str] | None = None, env: dict[str, str] | None = None) -> float:
    """Wall seconds of one `python -m eval.run` on the folder; its output is shown only when it fails."""
    cmd = [sys.executable, "-m", "eval.run", "--generator", f"videos:{folder}", "--metrics", metrics,
           "--out", str(out), "--no-progress", "--device", "cpu", *(extra or [])]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"eval.run failed ({' '.join(cmd)}):\n{done.stdout}\n{done.stderr}")
    return wall


def scored_counts(out: Path) -> dict[str, str]:
    """metric → 'ok/total' from an eval.run's samples.jsonl: a timing where a metric was skipped is void."""
    counts: dict[str, list[int]] = {}
    for line in (out / "samples.jsonl").read_text().splitlines():
        for row in json.loads(line)["rows"]:
            c = counts.setdefault(row["metric"], [0, 0])
            c[0] += row["status"] in ("ok", "no audio")
            c[1] += 1
    return {m: f"{ok}/{n}" for m, (ok, n) in counts.items()}


def bench_whole(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        whole = eval_run(folder, ",".join(WEIGHT_FREE), Path(tmp) / "whole")
        apart = sum(eval_run(folder, m, Path(tmp) / f"only-{m}") for m in WEIGHT_FREE)
    print(f"whole    eval.run {'+'.join(WEIGHT_FREE)} in one pass: {whole:.1f} s; one tool per metric: {apart:.1f} s "
          f"→ {apart / whole:.2f}× faster (goal ≥ 3× once CLIP and FVD, which need weights, join the pass; "
          f"--random-weights times them)")


# --- --random-weights: the one eval.run vs the references, metric by metric -------------------------------

def run_reference(tool: str, args: list[str]) -> tuple[float, dict]:
    """One reference tool in its own process: (wall seconds, its own JSON timing line)."""
    cmd = [sys.executable, str(ROOT / "bench" / "references.py"), tool, *args]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"reference {tool} failed ({' '.join(cmd)}):\n{done.stdout}\n{done.stderr}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def print_reference(label: str, wall: float, n: int, got: dict | None = None) -> None:
    line = f"  {label:40s} {wall:7.1f} s  {n / wall:6.2f} clips/s"
    if got is not None:
        line += f"  (load {got['load_s']:.1f} s, decode {got['decode_s']:.1f} s, compute {got['compute_s']:.1f} s)"
        if got["notes"]:
            line += f"  [{len(got['notes'])} files not scored: {got['notes'][0]} ...]"
    print(line)


def bench_whole_random(folder: Path, weights: references.RandomWeights, n: int) -> None:
    ours_args = ["--clip-model", references.OPEN_CLIP_MODEL, "--clip-pretrained", str(weights.open_clip_file),
                 "--fvd-protocol", "cd-fvd", "--fvd-model", str(weights.videomae_dir), "--reference", f"videos:{folder}"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        print(f"whole    {n} clips, reference set for FVD = the same {n} files (FVD runs VideoMAE on 2×{n} videos on both sides)")
        whole = eval_run(folder, "clip,fvd,av_sync,physics", out / "all", ours_args, weights.env())
        print(f"  ours: eval.run clip,fvd,av_sync,physics  {whole:7.1f} s  {n / whole:6.2f} clips/s  "
              f"scored {scored_counts(out / 'all')}")
        no_fvd = eval_run(folder, "clip,av_sync,physics", out / "no-fvd", ours_args[:4], weights.env())
        print(f"  ours: eval.run clip,av_sync,physics      {no_fvd:7.1f} s  {n / no_fvd:6.2f} clips/s")
        bf16 = ["--precision", "bf16"]
        whole16 = eval_run(folder, "clip,fvd,av_sync,physics", out / "all-bf16", ours_args + bf16, weights.env())
        print(f"  ours --precision bf16, all four          {whole16:7.1f} s  {n / whole16:6.2f} clips/s")
        no_fvd16 = eval_run(folder, "clip,av_sync,physics", out / "no-fvd-bf16", ours_args[:4] + bf16, weights.env())
        print(f"  ours --precision bf16, without FVD       {no_fvd16:7.1f} s  {n / no_fvd16:6.2f} clips/s")
        print_precision_drift(out / "all", out / "all-bf16")

        print("  references, each its own process and decode:")
        clip_wall, clip_got = run_reference("clipscore", ["--folder", str(folder), "--model", str(weights.hf_clip_dir)])
        print_reference("torchmetrics CLIPScore (8 frames)", clip_wall, n, clip_got)
        fvd_wall, fvd_got = run_reference(
            "cdfvd", ["--folder", str(folder), "--reference", str(folder), "--model", str(weights.videomae_dir)])
        print_reference("cd-FVD recipe (VideoMAE-base, not cd-FVD's ViT-g; scipy sqrtm)", fvd_wall, n, fvd_got)
        av_wall, av_got = run_reference("avalign", ["--folder", str(folder)])
        print_reference("AV-Align (Farneback + librosa onsets)", av_wall, n, av_got)
        phys_wall = eval_run(folder, "physics", out / "physics")
        print_reference("physics (our metric alone, eval.run)", phys_wall, n)

    dim = int(json.loads((weights.videomae_dir / "config.json").read_text())["hidden_size"])
    set_s = time_fvd_set_score(n, dim)
    print(f"  of ours' FVD: the set score with its 200-round bootstrap CI ({n}×{dim} features, in-process) takes "
          f"{set_s:.1f} s; cd-FVD computes one distance and no CI")
    refs_all = clip_wall + fvd_wall + av_wall + phys_wall
    refs_no_fvd = refs_all - fvd_wall
    print(f"  with FVD:    references {refs_all:.1f} s / ours {whole:.1f} s → {refs_all / whole:.2f}× faster (goal ≥ 3×)")
    print(f"  with FVD, ours less its bootstrap CI ({whole:.1f} − {set_s:.1f} s, an estimate): "
          f"{refs_all / max(whole - set_s, 1e-9):.2f}× faster")
    print(f"  without FVD: references {refs_no_fvd:.1f} s / ours {no_fvd:.1f} s → {refs_no_fvd / no_fvd:.2f}× faster "
          "(FVD's VideoMAE forward is the same work on both sides)")
    print(f"  --precision bf16: with FVD {refs_all / whole16:.2f}×, without FVD {refs_no_fvd / no_fvd16:.2f}× faster "
          "than the fp32 references (see the drift line above for what it costs)")


def print_precision_drift(fp32_out: Path, bf16_out: Path) -> None:
    """How far bf16 moves the numbers of the same run: per-video CLIPScore and the FVD value.

    Random weights give near-zero CLIP cosines, so this drift is a rough guide for real weights, not a bound."""
    import pandas as pd

    a = pd.read_csv(fp32_out / "samples.csv").query("metric == 'clip' and status == 'ok'").set_index("sample")["value"]
    b = pd.read_csv(bf16_out / "samples.csv").query("metric == 'clip' and status == 'ok'").set_index("sample")["value"]
    diff = (a - b.reindex(a.index)).abs()
    print(f"  bf16 vs fp32 on the same clips: CLIPScore |Δ| mean {diff.mean():.4f}, max {diff.max():.4f} points "
          f"(fp32 mean {a.mean():.3f})")

    def features(out: Path) -> dict[str, np.ndarray]:
        recs = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines() if line.strip()]
        return {r["key"]: np.asarray(r["features"]["fvd"]) for r in recs if "fvd" in r.get("features", {})}

    fa, fb = features(fp32_out), features(bf16_out)
    keys = sorted(set(fa) & set(fb))
    if len(keys) >= 2:
        from eval.metrics.frechet import frechet_distance_rows

        x, y = np.stack([fa[k] for k in keys]), np.stack([fb[k] for k in keys])
        rel = np.linalg.norm(x - y, axis=1) / np.linalg.norm(x, axis=1)
        gap = frechet_distance_rows(x, y)
        print(f"  FVD features of the same {len(keys)} videos: relative change mean {rel.mean():.2e}, max {rel.max():.2e}; "
              f"Fréchet distance fp32 set ↔ bf16 set {gap:.3g}")


def time_fvd_set_score(n: int, dim: int) -> float:
    """Seconds of eval.run's FVD set score (distance + bootstrap CI) on n random dim-d features per side."""
    from eval.scoring import fvd_set_score

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(n, dim)), rng.normal(0.1, 1.1, size=(n, dim))
    t0 = time.perf_counter()
    fvd_set_score(fake, real)
    return time.perf_counter() - t0


RANDOM_BANNER = "!" * 100 + "\n!!  timing only: random weights of the real architectures; scores are meaningless\n" + "!" * 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-eval")
    ap.add_argument("--random-weights", action="store_true",
                    help="time CLIP and FVD with random weights of the real architectures, against the reference tools")
    args = ap.parse_args()
    if args.random_weights:
        print(RANDOM_BANNER)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would interleave with the table
    settings = RenderSettings(width=args.size, height=args.size, fps=args.fps, seconds=args.seconds)
    # cached clips are keyed by their settings: a rerun at another size must not reuse 256² files
    samples = make_clips(args.clips, settings, args.work / f"{args.size}px_{args.seconds:g}s_{args.fps}fps")
    weights = references.build_random_weights(args.work / "random-weights") if args.random_weights else None
    paths = [Path(s.video_path) for s in samples]
    clips, _ = bench_decode(paths)
    bench_features(clips, samples, weights)
    bench_metrics(clips, samples)
    bench_frechet()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "videos"
        link_folder(samples, folder)
        if weights is None:
            bench_whole(folder)
        else:
            bench_whole_random(folder, weights, len(samples))
            print(RANDOM_BANNER)


if __name__ == "__main__":
    main()
