"""AV sync, session 6: the followed face (cheap, small faces), the visual-lead correction, the rival rule for
quasi-periodic sources, the log-compressed motion signal and the sparse event null."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval.metrics import av_sync
from eval.metrics.av_sync import (
    Events,
    LagTest,
    block_shuffled,
    match_scores,
    match_scores_sparse,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"


def _reference_block_shuffled(signal: np.ndarray, block: int, count: int, rng: np.random.Generator) -> np.ndarray:
    n = len(signal)
    starts = np.arange(0, n, block)
    out = np.empty((count, n))
    for k in range(count):
        rolled = np.roll(signal, int(rng.integers(n)))
        out[k] = np.concatenate([rolled[s: s + block] for s in starts[rng.permutation(len(starts))]])
    return out


@pytest.mark.parametrize("block", [2, 5, 13])
def test_block_shuffle_by_index_equals_roll_and_concatenate(block: int) -> None:
    x = np.random.default_rng(1).normal(size=77)
    got = block_shuffled(x, block, 40, np.random.default_rng(0))
    assert np.array_equal(got, _reference_block_shuffled(x, block, 40, np.random.default_rng(0)))
    assert np.allclose(np.sort(got, axis=1), np.sort(x)[None, :])  # every copy keeps the values


def test_sparse_event_match_equals_the_dense_one() -> None:
    rng = np.random.default_rng(3)
    for n, m, v in ((300, 14, 9), (90, 3, 20), (200, 24, 1)):
        times = rng.uniform(0, n - 1, (50, m))
        weights = rng.uniform(0.3, 1.0, (50, m))
        video = Events(rng.uniform(0, n - 1, v), rng.uniform(0.3, 1.0, v))
        lags = np.arange(-18, 18.01, 0.25)
        dense = match_scores(times, weights, video, lags, n)
        sparse = match_scores_sparse(times, weights, video, lags, n)
        assert np.abs(dense - sparse).max() < 1e-5
        assert (dense > 0).any()


def test_sparse_event_match_finds_a_planted_lag() -> None:
    video = Events(np.array([20.0, 47.3, 80.1, 121.6]), np.ones(4))
    audio_t = video.times + 5.25
    lags = np.arange(-18, 18.01, 0.25)
    scores = match_scores_sparse(audio_t[None], np.ones((1, 4)), video, lags, 160)[0]
    assert lags[int(np.argmax(scores))] == pytest.approx(5.25)


def test_rival_rule_for_quasi_periodic_sources_uses_the_ratio_only() -> None:
    # A rival that beats the null on its own (p ≤ α) but reaches only 60 % of the best: the syllable rate's
    # side peak of a strong true peak — not ambiguous for the face or the (jackknifed) motion source.
    side = LagTest(lag_frames=1.0, correlation=0.5, p_value=0.001, z_score=6.0, rival_p=0.005, rival_ratio=0.6,
                   rival_by_ratio=True)
    assert not side.ambiguous(0.02)
    assert LagTest(**{**side.__dict__, "rival_ratio": 0.85}).ambiguous(0.02)  # nearly as high: ambiguous
    assert LagTest(**{**side.__dict__, "rival_by_ratio": False}).ambiguous(0.02)  # events etc.: p rule kept


def test_lag_against_null_marks_the_rule_it_was_asked_for() -> None:
    rng = np.random.default_rng(0)
    x = scipy_smooth(rng.normal(size=200))
    y = np.roll(x, 3)
    plain = av_sync.lag_against_null(y, x, np.ones(200, bool), 25.0, surrogates=200)
    speech = av_sync.lag_against_null(y, x, np.ones(200, bool), 25.0, surrogates=200, syllabic=True)
    assert not plain.rival_by_ratio and speech.rival_by_ratio
    assert speech.lag_frames == pytest.approx(3.0, abs=0.3)


def scipy_smooth(x: np.ndarray) -> np.ndarray:
    import scipy.ndimage

    return scipy.ndimage.gaussian_filter1d(x, 1.5)


def test_motion_signal_is_log_compressed(monkeypatch) -> None:
    """One extreme frame (a cut, a flash) must not carry the motion source's correlation alone."""
    from eval.metrics import av_sources

    raw = np.ones(60)
    raw[10] = 400.0
    monkeypatch.setattr(av_sources, "local_motion_events", lambda frames: raw)
    frames = np.zeros((60, 16, 16, 3), np.uint8)
    audio = np.random.default_rng(0).normal(size=(1, 16000 * 60 // 25)) * 0.1
    got = av_sources.paired_signals(frames, 25.0, audio, 16000, face=False)
    assert got.source == "motion"
    assert got.visual.max() < 8.0  # log1p(400) ≈ 6, not 400


def test_visual_lead_is_stated_and_plausible() -> None:
    # The documented correction: the mouth leads the voice by tens of ms (Schwartz & Savariaux 2014: 20–120 ms).
    assert 20.0 <= av_sync.VISUAL_LEAD_MS <= 120.0


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "av_speech_grid_bbaf2n.mp4").is_file(), reason="real footage not here")
def test_face_is_followed_with_few_whole_frame_searches(monkeypatch) -> None:
    from eval.metrics import av_face
    from sora_lite.media import read_video

    calls = []
    real = av_face.detect_whole
    monkeypatch.setattr(av_face, "detect_whole", lambda frame, fine=False: calls.append(fine) or real(frame, fine))
    clip = read_video(REAL / "av_speech_grid_bbaf2n.mp4")
    track = av_face.track_face(clip.frames, float(clip.fps))
    assert len(calls) <= av_face.PROBE_FRAMES + av_face.FINE_PROBES
    assert track.share > 0.9 and track.step == 2  # 25 fps: landmarks on every 2nd frame
    gap = av_face.fill_between(av_face.lip_gap(track.points), track.step)
    assert np.isfinite(gap).mean() > 0.9
    assert np.nanstd(gap) > 0.02  # the lips move while the speaker talks


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "av_speech_tedx_lrs3.mp4").is_file(), reason="real footage not here")
def test_small_face_in_a_wide_shot_is_found_and_answers_the_shift() -> None:
    """The TEDx speaker's face is ~30 px: found by the fine probe, measured on the enlarged crop."""
    from eval.calibrate_real_av import shifted
    from sora_lite.media import read_video

    clip = shifted(read_video(REAL / "av_speech_tedx_lrs3.mp4"), -8, 10.0)  # as the calibration cuts it
    got = av_sync.score_sample(clip.frames, clip.fps, clip.audio, clip.sample_rate)
    assert got.source == "face"
    assert got.status == "ok" and abs(got.offset_frames - (-8)) <= 2, got.reason
