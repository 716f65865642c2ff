"""Throughput of the eval toolkit per stage, next to the reference implementations, in one run.

    python bench/eval.py [--clips 64] [--size 256] [--seconds 2] [--work runs/bench-eval]

1. makes --clips world-engine clips from the physics, av_sync and multishot suites (kept in --work for reruns);
2. decode: `sora_lite.media.read_video` vs `ffmpeg -f null` on the same files (goal ≥ 0.7× ffmpeg's fps);
3. features: CLIP frame embeddings and I3D/VideoMAE FVD features when their weights are here (else
   reported skipped, with the reason), and torchmetrics CLIPScore on the same frames as the reference;
4. each weight-free metric (av_sync, physics, multishot) on the decoded clips, clips/s;
5. Fréchet distance on 400-d features (I3D's size): ours vs `scipy.linalg.sqrtm` (goal within 2× of scipy's
   time) and the difference in value;
6. whole eval (`python -m eval.run`, one decode shared by every metric) vs the same metrics run one at a
   time, each with its own decode, as separate reference tools would (goal ≥ 3× faster).
"""

from __future__ import annotations

import argparse
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

from eval.generators import EngineGenerator, RenderSettings  # noqa: E402
from eval.metrics.errors import MetricSkipped  # noqa: E402
from eval.scoring import SCORERS, ScorerOptions, run_scorer  # noqa: E402
from eval.suites import load_suite  # noqa: E402

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


def bench_features(clips: list, samples: list) -> None:
    for name, label in (("clip", "CLIP alignment"), ("fvd", "FVD features")):
        scorer = SCORERS[name](ScorerOptions())
        try:
            scorer.setup()
        except MetricSkipped as e:
            print(f"features {label}: skipped — {e.reason} ({e.how_to_fix})")
            continue
        t0 = time.perf_counter()
        for clip, sample in zip(clips, samples):
            run_scorer(scorer, clip, sample)
        dt = time.perf_counter() - t0
        print(f"features {label}: {len(clips) / dt:6.2f} clips/s")
        if name == "clip":
            bench_clipscore_reference(clips, samples, dt)


def bench_clipscore_reference(clips: list, samples: list, ours: float) -> None:
    """torchmetrics CLIPScore on the same 8 uniformly sampled frames per clip (transformers weights needed)."""
    import torch
    from torchmetrics.multimodal.clip_score import CLIPScore

    from eval.metrics.frames import uniform_indices

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
    print(f"         torchmetrics CLIPScore (reference): {len(clips) / ref:6.2f} clips/s → ours {ref / ours:.2f}×")


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


def bench_whole(folder: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        def run(metrics: str, out: str) -> float:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "eval.run", "--generator", f"videos:{folder}", "--metrics", metrics,
                            "--out", str(Path(tmp) / out), "--no-progress", "--device", "cpu"],
                           env=env, check=True, capture_output=True)
            return time.perf_counter() - t0

        whole = run(",".join(WEIGHT_FREE), "whole")
        apart = sum(run(m, f"only-{m}") for m in WEIGHT_FREE)
    print(f"whole    eval.run {'+'.join(WEIGHT_FREE)} in one pass: {whole:.1f} s; one tool per metric: {apart:.1f} s "
          f"→ {apart / whole:.2f}× faster (goal ≥ 3× once CLIP and FVD, which need weights, join the pass)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--fps", type=int, default=24)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench-eval")
    args = ap.parse_args()
    settings = RenderSettings(width=args.size, height=args.size, fps=args.fps, seconds=args.seconds)
    samples = make_clips(args.clips, settings, args.work)
    paths = [Path(s.video_path) for s in samples]
    clips, _ = bench_decode(paths)
    bench_features(clips, samples)
    bench_metrics(clips, samples)
    bench_frechet()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        for p in paths:
            os.symlink(p.resolve(), folder / f"{p.parent.name}_{p.name}")
        bench_whole(folder)


if __name__ == "__main__":
    main()
