"""Physics checks on numpy-drawn clips with known physics: lawful clips must score above violations."""

from __future__ import annotations

import numpy as np
import pytest

from eval.metrics.errors import MetricInputError
from eval.metrics.physics import impacts, score_sample
from eval.metrics.tracking import track_objects

FPS, H, W = 24, 96, 96
SEEDS = range(5)


def backdrop() -> np.ndarray:
    """A saturated blue-sky gradient over a grey checker floor, like the world engine's renders."""
    img = np.zeros((H, W, 3), np.float32)
    top, horizon = np.array([0.25, 0.5, 0.9]), np.array([0.75, 0.85, 0.95])
    for r in range(H // 2):
        img[r] = top + (horizon - top) * r / (H // 2)
    yy, xx = np.mgrid[H // 2 : H, 0:W]
    light = ((yy // 8 + xx // 8) % 2).astype(bool)
    img[H // 2 :] = np.where(light[..., None], [0.78, 0.78, 0.8], [0.32, 0.34, 0.38])
    return (img * 255).astype(np.uint8)


def draw(frames: np.ndarray, i: int, x: float, y: float, r: float = 5.0, rgb=(217, 25, 25)) -> None:
    yy, xx = np.mgrid[0:H, 0:W]
    d2 = (xx - x) ** 2 + (yy - y) ** 2
    inside = d2 <= r * r
    shade = 1.0 - 0.35 * np.clip(((xx - x + r / 3) ** 2 + (yy - y + r / 3) ** 2) / (r * r), 0, 1)
    frames[i][inside] = (np.array(rgb)[None] * shade[inside][:, None]).astype(np.uint8)


def clip_from_path(path: list[tuple[float, float] | None], rng: np.random.Generator) -> np.ndarray:
    frames = np.repeat(backdrop()[None], len(path), axis=0)
    for i, p in enumerate(path):
        if p is not None:
            draw(frames, i, *p)
    noise = rng.integers(-3, 4, size=frames.shape)
    return np.clip(frames.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def fall_path(seed: int, flip: bool) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    g, y0, x = rng.uniform(150, 220), rng.uniform(8, 14), rng.uniform(30, 66)
    path, y, v = [], y0, 0.0
    for i in range(22):
        path.append((x, y))
        accel = -g if flip and i >= 11 else g
        v += accel / FPS
        y += v / FPS
    return path


def bounce_path(seed: int, restitution: float, frames: int = 72) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    g, floor, y, x = rng.uniform(500, 700), 84.0, rng.uniform(30, 40), rng.uniform(30, 66)
    v, path, sub = 0.0, [], 20
    for _ in range(frames):
        path.append((x, y))
        for _ in range(sub):
            v += g / FPS / sub
            y += v / FPS / sub
            if y >= floor and v > 0:
                y, v = floor, -v * restitution
        y = max(y, 6.0)
    return path


def slide_path(seed: int, vanish: bool, teleport: bool = False) -> list[tuple[float, float] | None]:
    rng = np.random.default_rng(seed)
    y, x, v = rng.uniform(20, 40), 15.0, rng.uniform(1.2, 1.8)
    path: list[tuple[float, float] | None] = []
    for i in range(40):
        pos = (x + v * i + (25 if teleport and i >= 20 else 0), y)
        path.append(None if vanish and 18 <= i < 27 else pos)
    return path


def auroc(lawful: list[float], violating: list[float]) -> float:
    pairs = [(a > b) + 0.5 * (a == b) for a in lawful for b in violating]
    return float(np.mean(pairs))


def score(frames: np.ndarray, law: str) -> float:
    return score_sample(frames, FPS, {"law": law, "object": "red ball"}).score


def test_tracker_finds_red_ball_over_sky_and_checker() -> None:
    path = fall_path(0, flip=False)
    frames = clip_from_path(path, np.random.default_rng(0))
    (track,) = track_objects(frames, names=["red ball"])
    assert track.present.all()
    np.testing.assert_allclose(track.centroid, np.array(path), atol=0.8)
    assert np.all(np.abs(track.area - np.pi * 25) < 25)
    auto = track_objects(frames)  # no names: discovers the red hue, ignores the sky
    assert len(auto) == 1 and np.allclose(auto[0].centroid, track.centroid)


@pytest.mark.slow
def test_free_fall_lawful_vs_gravity_flip() -> None:
    lawful, flipped = [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        lawful.append(score(clip_from_path(fall_path(seed, False), rng), "free_fall"))
        flipped.append(score(clip_from_path(fall_path(seed, True), rng), "free_fall"))
    assert auroc(lawful, flipped) == 1.0
    assert min(lawful) > 0.8 and max(flipped) < 0.3


def test_free_fall_g_estimate_by_hand() -> None:
    path = fall_path(1, flip=False)
    g_true = np.random.default_rng(1).uniform(150, 220)
    result = score_sample(
        clip_from_path(path, np.random.default_rng(1)), FPS, {"law": "free fall", "object": "red ball"}
    )
    assert result.checks["free_fall"].diagnostics["g_px_s2"] == pytest.approx(g_true, rel=0.1)


@pytest.mark.slow
def test_bounce_decreasing_vs_increasing_apexes() -> None:
    lawful, gaining = [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        lawful.append(score(clip_from_path(bounce_path(seed, 0.7), rng), "bouncing"))
        gaining.append(score(clip_from_path(bounce_path(seed, 1.15), rng), "energy"))
    assert auroc(lawful, gaining) == 1.0
    assert min(lawful) > 0.9 and max(gaining) < 0.8


def test_impacts_are_abrupt_reversals_only() -> None:
    y = np.array([0, 1, 3, 6, 10, 15, 21, 17, 14, 12, 11, 11.5, 13], float)  # a bounce at index 6
    assert impacts(y) == [6]
    smooth = np.array([0, 2, 3.5, 4.5, 5, 5, 4.5, 3.5, 2], float)  # a smooth turn (gravity flip)
    assert impacts(smooth) == []


@pytest.mark.slow
def test_permanence_vanish_and_teleport_vs_stays() -> None:
    stays, broken = [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        stays.append(score(clip_from_path(slide_path(seed, False), rng), "object_permanence"))
        broken.append(score(clip_from_path(slide_path(seed, True), rng), "object_permanence"))
        broken.append(score(clip_from_path(slide_path(seed, False, teleport=True), rng), "object_permanence"))
    assert auroc(stays, broken) == 1.0
    assert min(stays) == 1.0


def test_occlusion_explains_a_gap() -> None:
    rng = np.random.default_rng(0)
    frames = clip_from_path(slide_path(0, False), rng)
    frames[:, 20:50, 40:60] = (120, 110, 100)  # a grey pillar in front of the ball's path
    result = score_sample(frames, FPS, {"law": "permanence", "object": "red ball"})
    assert result.score == 1.0, result.checks["permanence"].diagnostics


def test_rigidity_stable_vs_shrinking() -> None:
    rng = np.random.default_rng(0)
    path = slide_path(0, False)
    stable = clip_from_path(path, rng)
    shrinking = np.repeat(backdrop()[None], len(path), axis=0)
    for i, p in enumerate(path):
        draw(shrinking, i, *p, r=8.0 - 5.0 * i / len(path))
    assert score(stable, "rigidity") > 0.9 > 0.3 > score(shrinking, "rigidity")


@pytest.mark.slow
def test_pendulum_regular_vs_irregular() -> None:
    t = np.arange(96) / FPS
    regular = [(48 + 25 * np.sin(2 * np.pi * t_ / 1.0), 40.0) for t_ in t]
    chirp = [(48 + 25 * np.sin(2 * np.pi * (0.6 * t_ + 0.5 * t_**2)), 40.0) for t_ in t]
    rng = np.random.default_rng(0)
    assert score(clip_from_path(regular, rng), "pendulum") > 0.7 > score(clip_from_path(chirp, rng), "pendulum")


def test_collision_opposite_velocity_changes() -> None:
    frames_ok = np.repeat(backdrop()[None], 30, axis=0)
    frames_bad = frames_ok.copy()
    for i in range(30):
        # two balls approach and bounce apart (lawful) vs both deflect the same way (unlawful)
        a_ok = 20 + 1.5 * i if i < 15 else 42.5 - 1.5 * (i - 15)
        b_ok = 76 - 1.5 * i if i < 15 else 53.5 + 1.5 * (i - 15)
        draw(frames_ok, i, a_ok, 30, rgb=(217, 25, 25))
        draw(frames_ok, i, b_ok, 30, rgb=(25, 180, 50))
        a_bad = 20 + 1.5 * i if i < 15 else 42.5 - 1.5 * (i - 15)
        b_bad = 76 - 1.5 * i if i < 15 else 53.5 - 3.0 * (i - 15)
        draw(frames_bad, i, a_bad, 30, rgb=(217, 25, 25))
        draw(frames_bad, i, b_bad, 40, rgb=(25, 180, 50))
    expect = {"law": "collision", "object": "red ball", "objects": ["green ball"]}
    assert score_sample(frames_ok, FPS, expect).score > 0.9
    assert score_sample(frames_bad, FPS, expect).score < 0.5


def test_flicker_and_smoothness_and_metric_aggregate() -> None:
    rng = np.random.default_rng(0)
    steady = clip_from_path(fall_path(0, False), rng)
    flickering = np.clip(
        steady.astype(np.int16) + (np.arange(len(steady)) % 2 * 40)[:, None, None, None], 0, 255
    ).astype(np.uint8)
    a = score_sample(steady, FPS, {"law": "free_fall", "object": "red ball"}).checks
    b = score_sample(flickering, FPS, {"law": "free_fall", "object": "red ball"}).checks
    assert a["flicker"].score > 0.8 > b["flicker"].score
    assert a["smoothness"].score > 0.5
    expect = {"law": "free_fall", "object": "red ball"}
    scores = [score_sample(c, FPS, expect).score for c in (steady, clip_from_path(fall_path(0, True), rng))]
    assert 0.3 < float(np.mean(scores)) < 0.8  # the suite mean eval.report takes over the per-sample rows


def test_extra_laws_in_one_pass() -> None:
    frames = clip_from_path(slide_path(0, True), np.random.default_rng(0))
    result = score_sample(frames, FPS, {"law": "rigidity", "object": "red ball"}, extra_laws=["object_permanence"])
    assert result.law == "rigidity" and result.score > 0.9
    assert result.checks["permanence"].score == 0.5
    only_extra = score_sample(frames, FPS, {"object": "red ball"}, extra_laws=["permanence"])
    assert only_extra.law == "permanence" and only_extra.score == 0.5


def test_unknown_law_and_missing_object() -> None:
    frames = clip_from_path(fall_path(0, False), np.random.default_rng(0))
    with pytest.raises(MetricInputError, match="unknown physics law"):
        score_sample(frames, FPS, {"law": "levitation"})
    result = score_sample(frames, FPS, {"law": "free_fall", "object": "purple cube"})
    assert np.isnan(result.score) and "never found" in result.status
