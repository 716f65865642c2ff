"""AV sync on synthetic clips with known events: offset recovered and signed, AV-Align separates, silence."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics.av_sync import av_align_score, load_learned_sync_model, score_sample
from eval.metrics.errors import MetricSkipped

FPS, SR, T, SIZE = 24, 16000, 72, 96


def click_track(event_frames: np.ndarray, shift_frames: float, rng: np.random.Generator) -> np.ndarray:
    audio = rng.normal(0, 0.002, int(T / FPS * SR)).astype(np.float32)
    burst = (np.exp(-np.arange(400) / 60) * np.sin(np.arange(400) * 0.9) * 0.8).astype(np.float32)
    for e in event_frames:
        start = int(round((e + shift_frames) / FPS * SR))
        if 0 <= start < len(audio) - len(burst):
            audio[start : start + len(burst)] += burst
    return audio[None]


def events(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    while True:
        ev = np.sort(rng.choice(np.arange(8, T - 8), size=4, replace=False))
        if np.diff(ev).min() >= 5:
            return ev


def bouncing_square(ev: np.ndarray) -> np.ndarray:
    """A red square sliding at 1.5 px/frame (uneven pixel steps) that reverses at each event frame."""
    frames = np.full((T, SIZE, SIZE, 3), (40, 90, 160), np.uint8)
    x, v = SIZE / 2 - 6, 1.5
    for i in range(T):
        xi = int(round(x))
        frames[i, 24:36, xi : xi + 12] = (230, 30, 30)
        if i in ev:
            v = -v
        x += v
    return frames


def fading_flash(ev: np.ndarray) -> np.ndarray:
    """A white square that flashes on at each event frame and fades out over a few frames."""
    frames = np.full((T, SIZE, SIZE, 3), 30, np.uint8)
    level = np.zeros(T)
    for e in ev:
        level[e:] = np.maximum(level[e:], 0.75 ** np.arange(T - e))
    for i in range(T):
        frames[i, 30:60, 30:60] = np.uint8(30 + 200 * level[i])
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("make", [bouncing_square, fading_flash])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_offset_recovered_with_sign(make, seed: int) -> None:
    ev = events(seed)
    video = make(ev)
    rng = np.random.default_rng(100 + seed)
    in_sync = score_sample(video, FPS, click_track(ev, 0, rng), SR)
    assert in_sync.status == "ok"
    assert abs(in_sync.offset_frames) <= 1
    for shift in (-6, -3, 3, 6):
        shifted = score_sample(video, FPS, click_track(ev, shift, rng), SR)
        assert abs(shifted.offset_frames - shift) <= 1, (shift, shifted)
        assert np.sign(shifted.offset_ms) == np.sign(shift)  # positive = audio late
        assert shifted.offset_ms == pytest.approx(shifted.offset_frames * 1000 / FPS)
        assert in_sync.av_align > shifted.av_align


def test_sub_frame_shift() -> None:
    ev = events(3)
    result = score_sample(bouncing_square(ev), FPS, click_track(ev, 2.5, np.random.default_rng(0)), SR)
    assert 1.5 <= result.offset_frames <= 3.5


@pytest.mark.slow
def test_silent_clips_are_no_audio_not_scored() -> None:
    video = bouncing_square(events(0))
    for audio in (None, np.zeros((1, SR * 3), np.float32), np.zeros((2, 0), np.float32)):
        result = score_sample(video, FPS, audio, SR)
        assert result.status == "no audio" and np.isnan(result.av_align)
    ev = events(1)
    heard = score_sample(bouncing_square(ev), FPS, click_track(ev, 0, np.random.default_rng(1)), SR)
    assert heard.status == "ok" and heard.av_align > 0.5


def test_av_align_by_hand() -> None:
    assert av_align_score(np.array([10, 20, 30]), np.array([11, 25, 30])) == pytest.approx(2 / 4)
    assert av_align_score(np.array([10]), np.array([10, 11])) == pytest.approx(1 / 2)  # one-to-one
    assert av_align_score(np.array([5, 15]), np.array([8])) == 0.0


def test_learned_model_is_reported_skipped() -> None:
    with pytest.raises(MetricSkipped):
        load_learned_sync_model()


@pytest.mark.slow
def test_scorer_rows_for_av_sync() -> None:
    """Through the registry eval.run uses: silence → "no audio", a shift → its offset, bad frames → an error row."""
    from eval.generators import Sample
    from eval.scoring import SCORERS, ScorerOptions, run_scorer
    from sora_lite.media import Clip

    scorer = SCORERS["av_sync"](ScorerOptions())
    scorer.setup()
    sample = Sample(key="k", suite="av_sync", prompt_id="p", prompt="a square bounces", seed=0)
    ev = events(2)
    video = bouncing_square(ev)
    silent = run_scorer(scorer, Clip(frames=video, fps=FPS), sample)
    assert silent.status == "no audio" and silent.value is None
    audio = click_track(ev, 3, np.random.default_rng(0))
    ok = run_scorer(scorer, Clip(frames=video, fps=FPS, audio=audio, sample_rate=SR), sample)
    assert ok.status == "ok" and abs(ok.details["offset_frames"] - 3) <= 1
    short = Clip(frames=np.zeros((2, 8, 8, 3), np.uint8), fps=FPS, audio=audio[:, :2000], sample_rate=SR)
    bad = run_scorer(scorer, short, sample)
    assert bad.status == "error" and "frames" in bad.error


def _spikes(n: int, at: dict[int, float]) -> np.ndarray:
    env = np.zeros(n)
    for frame, height in at.items():
        env[frame] = height
    return env


def test_offset_when_the_advanced_audio_lost_its_first_onset():
    """A bouncing ball (a calibration scene): impacts at 10 (hardest), 21, 26, 31, weak spurious visual events
    at 4 and 14. The sound is advanced 10 frames, so the first impact's sound is cut off; the remaining three
    must still win over the lag where the spurious events and the strong first impact line up (+7, which the
    earlier correlation of envelopes picked)."""
    from eval.metrics.av_sync import estimate_offset

    video = _spikes(72, {4: 0.49, 10: 1.0, 14: 0.13, 21: 0.78, 26: 0.58, 31: 0.45})
    audio = _spikes(72, {11: 0.63, 17: 1.0, 20: 0.66})  # 21, 26/27, 30/31 heard 10 frames early
    lag, confidence = estimate_offset(audio, video)
    assert lag == pytest.approx(-10, abs=0.5)
    assert 0 < confidence <= 1


def test_offset_is_sub_frame_and_nan_without_any_match():
    from eval.metrics.av_sync import estimate_offset

    video = np.zeros(72)
    video[[19, 20, 21]] = [0.5, 1.0, 0.5]  # peak at 20.0
    video[[39, 40, 41]] = [0.5, 1.0, 0.5]
    audio = np.zeros(72)
    audio[[22, 23, 24]] = [0.2, 1.0, 0.8]  # parabola vertex at 23.25: 3.25 frames late
    audio[[42, 43, 44]] = [0.2, 1.0, 0.8]
    lag, _ = estimate_offset(audio, video)
    assert lag == pytest.approx(3.25, abs=0.05)
    lag, confidence = estimate_offset(_spikes(72, {5: 1.0}), _spikes(72, {60: 1.0}), max_lag=10)
    assert np.isnan(lag) and confidence == 0.0
