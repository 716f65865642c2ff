"""The AV-sync path's cheaper arithmetic gives the same numbers as the plain formulas it replaced (so the
speed-ups cannot move a decision): per-pixel flow magnitude, cell means, lag correlations."""

from __future__ import annotations

import cv2
import numpy as np

from eval.metrics import av_sources, av_sync


def _reference_correlations(audio: np.ndarray, visual: np.ndarray, valid: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """The centred Pearson correlation per lag, written out plainly (the version before the speed-up)."""
    a = np.atleast_2d(audio)
    n = a.shape[1]
    out = np.full((a.shape[0], len(lags)), np.nan)
    for j, lag in enumerate(lags):
        t = np.arange(max(0, -lag), min(n, n - lag))
        t = t[valid[t]]
        if len(t) < av_sync.MIN_OVERLAP_FRAMES:
            continue
        x = visual[t] - visual[t].mean()
        y = a[:, t + lag] - a[:, t + lag].mean(1, keepdims=True)
        den = np.sqrt((x**2).sum() * (y**2).sum(1))
        out[:, j] = np.where(den > 1e-12, (y @ x) / np.maximum(den, 1e-12), 0.0)
    return out


def test_norm_is_numpys_norm_bit_for_bit() -> None:
    v = np.random.default_rng(0).normal(size=(72, 96, 2)).astype(np.float32) * 5
    assert np.array_equal(av_sources._norm(v), np.linalg.norm(v, axis=2))


def test_cell_means_equal_one_resize_per_map_also_past_opencvs_channel_limit() -> None:
    for shape in ((300, 72, 96), (20, 70, 95)):  # whole-pixel cells (batched), and not (one map at a time)
        maps = np.random.default_rng(1).random(shape).astype(np.float32)
        want = np.stack([cv2.resize(m, (av_sources.GRID,) * 2, interpolation=cv2.INTER_AREA).reshape(-1) for m in maps])
        assert np.array_equal(av_sources._cell_means(maps), want)
        assert np.array_equal(av_sources._cell_means(maps[:1]), want[:1])


def test_lag_correlations_match_the_centred_formula() -> None:
    rng = np.random.default_rng(2)
    n = 120
    audio = rng.normal(size=(50, n)) + 3.0  # an offset: the uncentred sums must not lose it
    visual = rng.normal(size=n)
    lags = np.arange(-18, 19)
    for valid in (np.ones(n, bool), rng.random(n) > 0.3):
        got = av_sync.lag_correlations(audio, visual, valid, lags)
        want = _reference_correlations(audio, visual, valid, lags)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.nanmax(np.abs(got - want)) < 1e-12


def test_a_constant_audio_stretch_correlates_zero_not_noise() -> None:
    audio = np.r_[np.full(30, 3.3), np.linspace(0, 1, 30)]
    visual = np.random.default_rng(3).normal(size=60)
    r = av_sync.lag_correlations(audio, visual, np.ones(60, bool), np.array([-30, 0]))[0]
    assert r[0] == 0.0 and abs(r[1]) > 0.0
