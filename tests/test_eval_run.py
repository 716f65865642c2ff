"""`python -m eval.run`: odd files keep their own rows, resume skips finished work, CSV shape, Hub push offline,
engine generators, and a two-process sharded run equal to a single-process one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eval import run as eval_run
from eval.report import leaderboard_columns, mean_ci
from eval.scoring import SCORERS, Outcome, leaderboard_measures, register_scorer
from sora_lite.engines import GenerationResult, register_engine
from sora_lite.media import Clip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fixtures import RATE, clicks, moving_square, odd_folder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class ProbeScorer:
    """Records what the run handed the metric: the decoded size (rotation applied) and the frame count."""

    name = "probe"
    needs_audio = False
    calls: list[str] = []
    interrupt_at: int | None = None

    def __init__(self, options) -> None:
        pass

    def setup(self) -> None:
        pass

    def score(self, clip: Clip, sample) -> Outcome:
        ProbeScorer.calls.append(sample.key)
        if ProbeScorer.interrupt_at is not None and len(ProbeScorer.calls) == ProbeScorer.interrupt_at:
            raise KeyboardInterrupt  # the user pressing Ctrl-C mid-run
        return Outcome(float(clip.frames.mean()), details={"height": clip.height, "width": clip.width, "frames": clip.num_frames})


@pytest.fixture(autouse=True)
def probe_metric():
    register_scorer("probe", ProbeScorer)
    ProbeScorer.calls, ProbeScorer.interrupt_at = [], None
    yield
    SCORERS.pop("probe", None)


@pytest.fixture(scope="module")
def odd(tmp_path_factory) -> dict[str, Path]:
    return odd_folder(tmp_path_factory.mktemp("odd"))


def _run(*args: str) -> int:
    return eval_run.main([*args, "--no-progress"])


@pytest.mark.slow
def test_odd_files_each_get_their_rows_and_good_rows_are_kept(odd, tmp_path, capsys):
    folder = odd["good"].parent
    assert _run("--generator", f"videos:{folder}", "--metrics", "probe,av_sync,clip", "--out", str(tmp_path)) == 0
    df = pd.read_csv(tmp_path / "samples.csv", keep_default_na=False)
    assert len(df) == 6 * 3
    assert set(df.groupby("sample").size()) == {3}
    row = {(Path(v).name, m): r for v, m, r in zip(df["video"], df["metric"], df.to_dict("records"))}

    for metric in ("probe", "av_sync"):
        bad = row[("corrupt.mp4", metric)]
        assert bad["status"] == "error" and "unreadable video" in bad["error"] and "corrupt.mp4" in bad["error"]
    assert row[("silent.mp4", "av_sync")]["status"] == "no audio"
    assert row[("silent.mp4", "probe")]["status"] == "ok"
    # Decoded and scored, each its own row. The fixture's square glides at one speed while clicks sound, so
    # there is no visual event to line up: av_sync may abstain ("uncertain", with its reason) but not fail.
    for name in ("good.mp4", "rotated.mp4", "vfr.mp4", "exotic.avi"):
        assert row[(name, "probe")]["status"] == "ok", name
        av = row[(name, "av_sync")]
        assert av["status"] == "ok" or (av["status"] == "uncertain" and av["error"]), (name, av["status"], av["error"])
    rotated = json.loads(row[("rotated.mp4", "probe")]["details"])
    assert (rotated["height"], rotated["width"]) == (128, 96)  # upright: the 90° display rotation applied
    assert json.loads(row[("vfr.mp4", "probe")]["details"])["frames"] >= 20

    # CLIP weights are not on this machine: skipped, with the reason and how to get them, on every row.
    clip_rows = df[df["metric"] == "clip"]
    assert set(clip_rows["status"]) == {"skipped"} and clip_rows["error"].str.contains("download").all()
    # prompts.jsonl: a suite + id pulls that prompt's expectations, a file without an entry has no prompt.
    good = row[("good.mp4", "probe")]
    assert good["suite"] == "physics" and good["prompt_id"] == "phys-sliding_friction-01"
    assert row[("silent.mp4", "probe")]["prompt"] == ""

    lb = pd.read_csv(tmp_path / "leaderboard.csv", keep_default_na=False)
    # A table a person can read: only columns of leaderboard_columns, none empty on every row, and what each
    # metric cost (wall time, peak memory) and how many samples it answered / skipped next to its score.
    assert set(lb.columns) <= set(leaderboard_columns(leaderboard_measures()))
    assert all((lb[c].astype(str) != "").any() for c in lb.columns)
    assert {"probe_mean", "probe_ci_low", "probe_n", "probe_seconds", "probe_peak_mib", "clip_skipped"} <= set(lb.columns)
    assert "fvd_mean" not in lb.columns  # not run: no empty column for it
    assert set(zip(lb["generator"], lb["suite"])) == {(f"videos:{folder.name}", "physics"), (f"videos:{folder.name}", "videos")}
    videos = lb[lb["suite"] == "videos"].iloc[0]
    assert videos["n_samples"] == 5 and videos["n_errors"] == 2 and videos["probe_n"] == 4
    assert "clip: " in videos["skipped"] and videos["toolkit_version"].startswith("sora-lite")
    for name in ("report.md", "report.html", "means.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.slow
def test_resume_after_interruption_does_not_redo_finished_samples(odd, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("good", "silent", "rotated", "vfr"):
        shutil.copy(odd[name], folder / f"{name}.mp4")
    out = tmp_path / "out"
    ProbeScorer.interrupt_at = 3
    with pytest.raises(KeyboardInterrupt):
        _run("--generator", f"videos:{folder}", "--metrics", "probe", "--out", str(out))
    first = list(ProbeScorer.calls[:2])
    state = out / "samples.jsonl"
    assert len(state.read_text().splitlines()) == 2
    with open(state, "a") as f:
        f.write('{"generator": "videos:videos", "key": "file/vfr.mp4", "ro')  # torn line from a kill mid-write

    ProbeScorer.calls, ProbeScorer.interrupt_at = [], None
    assert _run("--generator", f"videos:{folder}", "--metrics", "probe", "--out", str(out)) == 0
    assert sorted(ProbeScorer.calls) == sorted({f"file/{n}.mp4" for n in ("good", "silent", "rotated", "vfr")} - set(first))
    df = pd.read_csv(out / "samples.csv")
    assert len(df) == 4 and df["sample"].is_unique

    # A third run has nothing left to do; adding a metric scores only that metric.
    ProbeScorer.calls = []
    assert _run("--generator", f"videos:{folder}", "--metrics", "probe,av_sync", "--out", str(out)) == 0
    assert ProbeScorer.calls == []
    df = pd.read_csv(out / "samples.csv")
    assert len(df) == 8 and set(df["metric"]) == {"probe", "av_sync"}


@pytest.mark.slow
def test_push_to_hub_offline_is_a_clear_error_and_keeps_the_local_copy(odd, tmp_path, capsys):
    from datasets import load_from_disk

    folder = tmp_path / "v"
    folder.mkdir()
    shutil.copy(odd["good"], folder / "a.mp4")
    rc = _run("--generator", f"videos:{folder}", "--metrics", "probe", "--out", str(tmp_path / "o"),
              "--push-to-hub", "someone/sora-lite-leaderboard")
    err = capsys.readouterr().err
    assert rc == 3
    assert "someone/sora-lite-leaderboard" in err and "Nothing is lost" in err and "hub_dataset" in err
    assert (tmp_path / "o" / "samples.csv").is_file() and (tmp_path / "o" / "leaderboard.csv").is_file()
    assert len(load_from_disk(str(tmp_path / "o" / "hub_dataset" / "samples"))) == 1
    assert len(load_from_disk(str(tmp_path / "o" / "hub_dataset" / "leaderboard"))) == 1


class FakeEngine:
    """A registered engine that draws a moving square with two clicks; counts its calls."""

    name = "fake-eval"
    calls = 0

    def availability(self):
        return True, ""

    def generate(self, request, progress=None, cancel=None):
        FakeEngine.calls += 1
        n = int(request.seconds * request.fps)
        frames = moving_square(n, request.width, request.height, color=(30, 30 + 100 * (request.seed % 2), 220))
        audio = clicks(request.seconds, [0.3, 0.7])
        return GenerationResult(clip=Clip(frames, Fraction(request.fps), audio, RATE), info={"prompt": request.prompt},
                                ground_truth={"contacts": []})


@pytest.mark.slow
def test_engine_generator_makes_one_video_per_prompt_and_seed_and_reuses_them(tmp_path):
    register_engine("fake-eval", FakeEngine)
    suite = tmp_path / "two.jsonl"
    suite.write_text('{"id": "p1", "text": "a blue square"}\n{"id": "p2", "text": "a cyan square", "expectations": {"events": 2}}\n')
    args = ["--generator", "fake-eval", "--suites", str(suite), "--seeds", "0,1", "--metrics", "probe,av_sync",
            "--size", "128", "--seconds", "1", "--fps", "12", "--out", str(tmp_path / "o")]
    FakeEngine.calls = 0
    assert _run(*args) == 0
    assert FakeEngine.calls == 4
    videos = sorted(p.name for p in (tmp_path / "o" / "videos" / "fake-eval" / "two").glob("*.mp4"))
    assert videos == ["p1_s0.mp4", "p1_s1.mp4", "p2_s0.mp4", "p2_s1.mp4"]
    assert (tmp_path / "o" / "videos" / "fake-eval" / "two" / "p1_s0.truth.json").is_file()
    df = pd.read_csv(tmp_path / "o" / "samples.csv", keep_default_na=False)
    assert len(df) == 8 and set(df[df["metric"] == "probe"]["status"]) == {"ok"}
    assert set(df[df["metric"] == "av_sync"]["status"]) <= {"ok", "uncertain"}  # scored or abstained, never failed
    av = df[(df["metric"] == "av_sync") & (df["prompt_id"] == "p2")]
    assert all(json.loads(d)["events_expected"] == 2 for d in av["details"])
    # Videos already made are never remade, even when their scores were lost.
    (tmp_path / "o" / "samples.jsonl").unlink()
    assert _run(*args) == 0
    assert FakeEngine.calls == 4


@pytest.mark.slow
def test_world_engine_generator_scores_a_suite_prompt(tmp_path):
    rc = _run("--generator", "world", "--suites", "av_sync", "--limit", "1", "--metrics", "av_sync,probe",
              "--size", "128", "--seconds", "1.5", "--fps", "12", "--out", str(tmp_path))
    assert rc == 0
    df = pd.read_csv(tmp_path / "samples.csv", keep_default_na=False)
    assert set(df["generator"]) == {"world"} and set(df["suite"]) == {"av_sync"}
    # The run machinery: the engine made the clip and each metric gave its row. A 1.5 s clip at 12 fps holds
    # too few events for av_sync to beat its shuffled-audio null every time, so it may abstain, with the reason.
    assert set(df[df["metric"] == "probe"]["status"]) == {"ok"}, df[["metric", "status", "error"]]
    av = df[df["metric"] == "av_sync"].iloc[0]
    assert av["status"] == "ok" or (av["status"] == "uncertain" and "not significant" in av["error"]), (av["status"], av["error"])
    assert json.loads(df[df["metric"] == "probe"]["details"].iloc[0])["height"] == 128


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metrics", "vibes"], "unknown metric"),
        (["--suites", "nonsense"], "unknown suite"),
    ],
)
def test_bad_arguments_exit_with_one_clear_message(odd, tmp_path, capsys, args, message):
    assert _run("--generator", f"videos:{odd['good'].parent}", "--out", str(tmp_path), *args) == 2
    assert message in capsys.readouterr().err


def test_hub_model_without_weights_fails_before_any_work(tmp_path, capsys):
    model = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    assert _run("--generator", model, "--suites", "physics", "--limit", "1", "--out", str(tmp_path)) == 2
    assert model in capsys.readouterr().err
    assert not (tmp_path / "samples.jsonl").exists()


def test_missing_folder_and_bad_seeds(tmp_path, capsys):
    assert _run("--generator", f"videos:{tmp_path / 'nope'}", "--out", str(tmp_path / "o")) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        _run("--seeds", "zero", "--out", str(tmp_path / "o"))
    assert e.value.code == 2


def test_mean_ci_is_a_percentile_bootstrap_that_stays_in_range():
    from scipy import stats

    # Against scipy's percentile bootstrap (another resampler, so equal up to Monte-Carlo error).
    x = np.random.default_rng(3).uniform(0, 1, 40)
    m, lo, hi = mean_ci(x)
    ref = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=20000, random_state=1).confidence_interval
    assert m == pytest.approx(np.mean(x)) and lo == pytest.approx(ref.low, abs=0.01) and hi == pytest.approx(ref.high, abs=0.01)
    # n = 2 of a 0-1 score: a Student-t interval is [-5.9, 6.9]; the bootstrap stays within what was seen.
    m, lo, hi = mean_ci([0.0, 1.0])
    t = stats.t.interval(0.95, 1, loc=0.5, scale=stats.sem([0.0, 1.0]))
    assert t[0] < -1 and 0.0 <= lo <= m <= hi <= 1.0
    assert mean_ci([0.7, 0.7, 0.7])[1:] == (pytest.approx(0.7), pytest.approx(0.7))
    assert mean_ci(x) == mean_ci(x)  # seeded: a rerun gives the same interval
    assert np.isnan(mean_ci([1.0])[1]) and np.isnan(mean_ci([])[0])


@pytest.mark.slow
def test_two_processes_write_the_same_csvs_as_one(odd, tmp_path):
    folder = odd["good"].parent
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    common = ["-m", "eval.run", "--generator", f"videos:{folder}", "--metrics", "av_sync,clip", "--no-progress", "--device", "cpu"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, *common, "--out", str(single)], env=env, check=True, capture_output=True, timeout=300)
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         *common, "--out", str(sharded)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (sharded / "samples.rank1.jsonl").is_file()  # the second process really scored a share
    cost = re.compile(r"(^|_)(seconds|peak_mib|cuda_peak_mib)$")  # what a call cost: wall time differs run to run
    for name in ("samples.csv", "leaderboard.csv"):
        a, b = pd.read_csv(single / name), pd.read_csv(sharded / name)
        assert list(a.columns) == list(b.columns) and any(cost.search(c) for c in a.columns)
        results = [c for c in a.columns if not cost.search(c)]
        pd.testing.assert_frame_equal(a[results], b[results])


class TinyFeatures:
    """A stand-in for I3D with the same interface: colour statistics of the first frames, 6-d."""

    name = "tiny"
    feature_dim = 6

    def __call__(self, videos):
        return np.stack([np.concatenate([v[:16].mean(axis=(0, 1, 2)), v[:16].std(axis=(0, 1, 2))]) for v in videos]).astype(np.float64)


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
@pytest.mark.filterwarnings("ignore:.*compute.*called before")  # update_features fills FVD's states directly
def test_fvd_is_computed_per_generator_and_suite_against_a_reference_folder(odd, tmp_path):
    from eval.metrics.fvd import FVD
    from eval.scoring import FVDScorer

    class TinyFVD(FVDScorer):
        def setup(self) -> None:
            self.extractor = TinyFeatures()

    original = SCORERS["fvd"]
    register_scorer("fvd", TinyFVD)
    try:
        gen, ref = tmp_path / "gen", tmp_path / "ref"
        gen.mkdir(), ref.mkdir()
        for k in range(3):
            (gen / f"g{k}.mp4").write_bytes(odd["good"].read_bytes())
        shutil.copy(odd["rotated"], gen / "g3.mp4")
        for k, name in enumerate(("good", "vfr", "silent", "rotated")):
            shutil.copy(odd[name], ref / f"r{k}.mp4")
        out = tmp_path / "o"
        assert _run("--generator", f"videos:{gen}", "--metrics", "fvd", "--reference", str(ref), "--out", str(out)) == 0
    finally:
        register_scorer("fvd", original)
    lb = pd.read_csv(out / "leaderboard.csv")
    row = lb.iloc[0]
    assert row["fvd_n"] == 4 and np.isfinite(row["fvd_mean"]) and row["fvd_ci_low"] <= row["fvd_ci_high"]
    # The same number straight from the metric on the same features.
    from sora_lite.media import read_video

    tiny = TinyFeatures()
    fake = tiny([read_video(p).frames for p in sorted(gen.glob("*.mp4"))])
    real = tiny([read_video(p).frames for p in sorted(ref.glob("*.mp4"))])
    metric = FVD(feature_dim=6)
    metric.update_features(real, real=True)
    metric.update_features(fake, real=False)
    assert row["fvd_mean"] == pytest.approx(metric.compute()["fvd"], rel=1e-6)
    assert "FVD" in (out / "report.md").read_text()  # the small-N warning is in the report
    assert (out / "reference_tiny.npz").is_file()  # reference features cached for the next run


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*compute.*called before")
def test_fvd_model_flag_loads_a_videomae_folder(odd, tmp_path):
    """--fvd-features videomae --fvd-model <folder>: the real loader reads a (tiny, random) local model."""
    import torch
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    config = VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=16,
                            num_hidden_layers=1, num_attention_heads=2, intermediate_size=24, num_labels=3,
                            use_mean_pooling=True)
    torch.manual_seed(0)
    VideoMAEForVideoClassification(config).save_pretrained(tmp_path / "tiny-videomae")
    gen = tmp_path / "gen"
    gen.mkdir()
    for k, name in enumerate(("good", "vfr", "silent")):
        shutil.copy(odd[name], gen / f"g{k}.mp4")
    out = tmp_path / "o"
    assert _run("--generator", f"videos:{gen}", "--metrics", "fvd", "--fvd-features", "videomae", "--fvd-model",
                str(tmp_path / "tiny-videomae"), "--reference", str(gen), "--out", str(out)) == 0
    row = pd.read_csv(out / "leaderboard.csv").iloc[0]
    assert row["fvd_n"] == 3 and row["fvd_mean"] == pytest.approx(0.0, abs=1e-6)  # the set against itself
    missing = tmp_path / "o2"
    assert _run("--generator", f"videos:{gen}", "--metrics", "fvd", "--fvd-features", "videomae", "--fvd-model",
                str(tmp_path / "absent"), "--reference", str(gen), "--out", str(missing)) == 0
    skipped = pd.read_csv(missing / "leaderboard.csv", keep_default_na=False).iloc[0]["skipped"]
    assert "absent" in skipped


def test_reference_feature_cache_is_keyed_by_model_and_file_state(odd, tmp_path):
    from types import SimpleNamespace

    calls: list[str] = []

    class Stub:
        def __init__(self, model, precision="fp32"):
            self.options = SimpleNamespace(fvd_model=model, precision=precision)
            self.extractor = SimpleNamespace(name="stub")

        def settings(self):
            return f"{self.options.fvd_model} {self.options.precision}"

        def features_of(self, clips):
            calls.append(self.options.fvd_model)
            return [np.full(3, float(len(calls)))]

    ref = tmp_path / "ref"
    ref.mkdir()
    for k, name in enumerate(("good", "vfr")):
        shutil.copy(odd[name], ref / f"r{k}.mp4")
    first = eval_run.reference_features(str(ref), Stub("a"), tmp_path)
    again = eval_run.reference_features(str(ref), Stub("a"), tmp_path)
    assert len(calls) == 2 and np.array_equal(first, again)  # cached: same files, same model
    eval_run.reference_features(str(ref), Stub("b"), tmp_path)
    assert calls[-2:] == ["b", "b"]  # another model: computed again
    os.utime(ref / "r0.mp4", ns=(1, 1))
    eval_run.reference_features(str(ref), Stub("b"), tmp_path)
    assert len(calls) == 6  # a changed file: computed again
    eval_run.reference_features(str(ref), Stub("b", precision="bf16"), tmp_path)
    assert len(calls) == 8  # the same model at another precision: computed again


class PrecisionProbe(ProbeScorer):
    """A learned-looking metric whose settings follow --precision."""

    name = "pprobe"

    def __init__(self, options) -> None:
        self.options = options

    def settings(self) -> str:
        return f"probe-model {self.options.precision}"


@pytest.mark.slow
def test_settings_are_recorded_and_a_folder_is_not_resumed_under_other_settings(odd, tmp_path, capsys):
    register_scorer("pprobe", PrecisionProbe)
    try:
        folder = tmp_path / "videos"
        folder.mkdir()
        for name in ("good", "rotated"):
            shutil.copy(odd[name], folder / f"{name}.mp4")
        out = tmp_path / "out"
        base = ("--generator", f"videos:{folder}", "--metrics", "pprobe,physics", "--out", str(out))
        assert _run(*base, "--precision", "bf16") == 0
        row = pd.read_csv(out / "leaderboard.csv", keep_default_na=False).iloc[0]
        assert row["settings"] == "physics=weight-free; pprobe=probe-model bf16"
        assert json.loads((out / "run.json").read_text())["metric_settings"]["pprobe"] == "probe-model bf16"

        ProbeScorer.calls = []
        assert _run(*base) == 2  # default fp32 on a folder scored at bf16: refused, nothing rescored
        err = capsys.readouterr().err
        assert "pprobe: scored with 'probe-model bf16', now 'probe-model fp32'" in err and "new --out" in err
        assert ProbeScorer.calls == []
        assert len(pd.read_csv(out / "samples.csv")) == 4  # what was there is untouched

        assert _run(*base, "--precision", "bf16") == 0  # the same flags resume
        assert ProbeScorer.calls == []
        assert _run("--generator", f"videos:{folder}", "--metrics", "physics", "--out", str(out)) == 0  # other metrics still run
        row = pd.read_csv(out / "leaderboard.csv", keep_default_na=False).iloc[0]
        assert row["settings"] == "physics=weight-free; pprobe=probe-model bf16"  # earlier rows keep their settings
    finally:
        SCORERS.pop("pprobe", None)


def test_rows_skipped_for_missing_weights_bind_no_settings(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"metric_settings": {"clip": "A fp32", "physics": "weight-free"}}))
    rows = [{"metric": "clip", "status": "skipped"}, {"metric": "physics", "status": "ok"}]
    records = [{"rows": rows}]
    assert eval_run.checked_settings(tmp_path, {"clip": "B bf16"}, records) == {"clip": "B bf16", "physics": "weight-free"}
    rows[0]["status"] = "ok"
    with pytest.raises(eval_run.RunError, match="clip: scored with 'A fp32', now 'B bf16'"):
        eval_run.checked_settings(tmp_path, {"clip": "B bf16"}, records)


def test_scorer_settings_name_the_model_and_precision():
    from eval.scoring import ScorerOptions, make_scorers, scorer_settings

    fp32 = scorer_settings(make_scorers(["clip", "fvd", "av_sync"], ScorerOptions()))
    bf16 = scorer_settings(make_scorers(["clip", "fvd"], ScorerOptions(precision="bf16", fvd_features="videomae")))
    assert fp32 == {"clip": "ViT-B-32/laion2b_s34b_b79k fp32", "fvd": "i3d:default fp32", "av_sync": "weight-free"}
    assert bf16 == {"clip": "ViT-B-32/laion2b_s34b_b79k bf16", "fvd": "videomae:MCG-NJU/videomae-base-finetuned-ssv2 bf16"}
