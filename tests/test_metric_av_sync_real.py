"""AV sync that knows when it cannot judge (significance test, `uncertain`), its two visual sources, and the
real-footage calibration framework (`python -m eval.calibrate --real DIR`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eval.metrics.av_sync import block_shuffled, lag_correlations, score_sample, lag_against_null

FPS, SR = 24, 16000
REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"
REAL = REAL if REAL.is_dir() else Path("/work/shared/realfootage")


def flashes(times: list[int], n: int, size: int = 64) -> np.ndarray:
    frames = np.full((n, size, size, 3), 30, np.uint8)
    level = np.zeros(n)
    for e in times:
        level[e:] = np.maximum(level[e:], 0.7 ** np.arange(n - e))
    frames[:, 16:48, 16:48] = (30 + 200 * level)[:, None, None, None].astype(np.uint8)
    return frames


def clicks(times: list[float], n: int, rng: np.random.Generator, fps: float = FPS) -> np.ndarray:
    """A click at each of `times` (frames at `fps`) over `n` frames of faint noise."""
    audio = rng.normal(0, 0.002, int(n / fps * SR)).astype(np.float32)
    burst = (np.exp(-np.arange(400) / 60) * np.sin(np.arange(400) * 0.9) * 0.8).astype(np.float32)
    for t in times:
        s = int(round(t / fps * SR))
        if 0 <= s < len(audio) - 400:
            audio[s: s + 400] += burst
    return audio[None]


def test_lag_correlation_finds_a_known_lag_and_the_null_keeps_the_signal_values():
    rng = np.random.default_rng(0)
    v = rng.normal(size=120)
    a = np.roll(v, 5) + 0.1 * rng.normal(size=120)  # audio 5 frames late
    lags = np.arange(-10, 11)
    r = lag_correlations(a, v, np.ones(120, bool), lags)[0]
    assert lags[int(np.argmax(r))] == 5 and r.max() > 0.9
    s = block_shuffled(a, 6, 4, rng)
    assert s.shape == (4, 120) and np.allclose(np.sort(s, axis=1), np.sort(a)[None].repeat(4, 0))
    test = lag_against_null(a, v, np.ones(120, bool), FPS, max_lag=10)
    assert abs(test.lag_frames - 5) < 0.5 and test.p_value < 0.01


@pytest.mark.slow
def test_irregular_events_are_answered_with_the_shift():
    n = 96
    times = [9, 20, 27, 45, 52, 70, 83]
    video = flashes(times, n)
    got = score_sample(video, FPS, clicks([t + 4 for t in times], n, np.random.default_rng(1)), SR)
    assert got.status == "ok", got.reason
    assert abs(got.offset_frames - 4) <= 1 and got.offset_ms > 0 and 0 < got.confidence <= 1


@pytest.mark.slow
def test_unrelated_sound_is_uncertain_with_a_reason_not_a_number():
    n = 96
    video = flashes([9, 20, 27, 45, 52, 70, 83], n)
    rng = np.random.default_rng(3)
    got = score_sample(video, FPS, clicks(sorted(rng.uniform(2, n - 2, 7)), n, rng), SR)
    assert got.status == "uncertain"
    assert math.isnan(got.offset_ms) and math.isnan(got.offset_frames)
    assert "not significant" in got.reason or "several lags" in got.reason
    assert np.isfinite(got.best_lag_frames)  # the unsupported lag stays visible as a diagnostic


def test_periodic_sound_and_motion_are_uncertain():
    """A steady beat matches at every multiple of its period: no single lag may be claimed."""
    n = 120
    times = list(range(6, n - 4, 8))
    got = score_sample(flashes(times, n), FPS, clicks([t + 2 for t in times], n, np.random.default_rng(4)), SR)
    assert got.status == "uncertain", (got.offset_frames, got.p_value)


@pytest.mark.slow
def test_scorer_row_for_uncertain_has_no_value_and_says_why():
    from eval.generators import Sample
    from eval.scoring import SCORERS, ScorerOptions, run_scorer
    from sora_lite.media import Clip

    n = 96
    rng = np.random.default_rng(3)
    clip = Clip(frames=flashes([9, 20, 27, 45, 52, 70, 83], n), fps=FPS,
                audio=clicks(sorted(rng.uniform(2, n - 2, 7)), n, rng), sample_rate=SR)
    scorer = SCORERS["av_sync"](ScorerOptions())
    scorer.setup()
    out = run_scorer(scorer, clip, Sample(key="k", suite="s", prompt_id="p", prompt="", seed=0))
    assert out.status == "uncertain" and out.value is None and out.error
    assert out.details["answered"] is False


# --- the real-footage calibration framework ----------------------------------------------------------------

def _write_clip(path: Path, shift: int = 0) -> None:
    from sora_lite.media import Clip, write_video

    n = 72
    times = [9, 20, 27, 45, 52]
    write_video(Clip(frames=flashes(times, n), fps=FPS, audio=clicks([t + shift for t in times], n,
                                                                       np.random.default_rng(0)), sample_rate=SR), path)


def test_discover_clips_with_and_without_a_manifest(tmp_path):
    from eval.calibrate_real import discover_clips

    _write_clip(tmp_path / "a.mp4")
    _write_clip(tmp_path / "b.mp4")
    (tmp_path / "notes.txt").write_text("not a clip")
    clips = discover_clips(tmp_path, held_out=("b",))
    assert [c.name for c in clips] == ["a", "b"] and [c.held_out for c in clips] == [False, True]
    assert clips[0].kind == "unknown" and clips[0].window_s is None
    assert clips[0].load().has_audio and clips[0].has_audio
    (tmp_path / "manifest.json").write_text(json.dumps([{"file": "a.mp4", "kind": "av", "category": "talking head",
                                                         "law": "n/a", "window_s": [0.5, 2.0]}]))
    a = discover_clips(tmp_path)[0]
    assert (a.kind, a.category, a.law, a.window_s) == ("av", "talking head", None, (0.5, 2.0))
    with pytest.raises(FileNotFoundError):
        discover_clips(tmp_path / "nothing")


def test_framework_runs_registered_families_and_writes_one_table(tmp_path, monkeypatch):
    from eval import calibrate_real as cr

    _write_clip(tmp_path / "a.mp4")

    def fake(clips, config, workdir):
        assert workdir.is_dir() and config.out.is_dir()
        df = pd.DataFrame([{"metric": "fake.x", "controls": "a vs b", "negative": "all", "n_positive": len(clips),
                            "n_negative": 0, "n_unscored": 0, "auroc": 1.0, "status": "ok", "reason": "",
                            "extra": 7}])
        df.attrs["markdown"] = "## fake section"
        return df

    def broken(clips, config, workdir):
        raise RuntimeError("boom")

    monkeypatch.setitem(cr.REAL_FAMILIES, "fake", fake)
    monkeypatch.setitem(cr.REAL_FAMILIES, "broken", broken)
    got = cr.calibrate_real(tmp_path, tmp_path / "out", families=("fake", "broken"))
    t = pd.read_csv(got.csv)
    assert list(t.columns[:10]) == cr.SUMMARY_COLUMNS and "extra" in t.columns
    assert t.loc[t["metric"] == "fake.x", "subset"].iloc[0] == "all"
    assert (t.loc[t["family"] == "broken", "status"] == "skipped").all() and "boom" in t["reason"].fillna("").str.cat()
    assert "## fake section" in got.markdown.read_text()
    with pytest.raises(ValueError):
        cr.calibrate_real(tmp_path, tmp_path / "out", families=("nope",))


def test_cli_dispatches_real_and_names_a_missing_folder(tmp_path, capsys):
    from eval.calibrate import main

    assert main(["--real", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "no folder" in capsys.readouterr().err


def test_shifted_control_is_a_true_shift_without_padding():
    from eval.calibrate_real_av import shifted
    from sora_lite.media import Clip

    n = 48
    audio = np.arange(int(n / FPS * SR), dtype=np.float32)[None] / 1e5
    clip = Clip(frames=np.zeros((n, 8, 8, 3), np.uint8), fps=FPS, audio=audio, sample_rate=SR)
    late = shifted(clip, 4, 100.0)
    assert late.num_frames == n - 4 and late.audio.shape[1] == pytest.approx((n - 4) / FPS * SR, abs=1)
    assert late.audio[0, 0] == 0.0  # video frame 4 now plays the sound of frame 0: 4 frames late
    early = shifted(clip, -4, 100.0)
    assert early.audio[0, 0] == pytest.approx(audio[0, round(4 / FPS * SR)])


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "av_dog_barking_pomeranian.mp4").is_file(), reason="real footage not here")
def test_real_barking_dog_shifted_8_frames_is_found():
    from eval.calibrate_real_av import shifted
    from sora_lite.media import read_video

    clip = shifted(read_video(REAL / "av_dog_barking_pomeranian.mp4"), 8, 6.0)
    got = score_sample(clip.frames, clip.fps, clip.audio, clip.sample_rate)
    assert got.status == "ok" and abs(got.offset_frames - 8) <= 2, got.reason


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "av_speech_grid_bbaf2n.mp4").is_file(), reason="real footage not here")
def test_real_talking_head_uses_the_face_source():
    from sora_lite.media import read_video

    clip = read_video(REAL / "av_speech_grid_bbaf2n.mp4")
    got = score_sample(clip.frames, clip.fps, clip.audio, clip.sample_rate)
    assert got.source == "face" and got.status in ("ok", "uncertain")
    if got.status == "ok":
        assert abs(got.offset_frames) <= 2
