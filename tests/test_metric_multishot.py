"""Multi-shot consistency on synthetic storyboards: kept colour/position vs a changed colour or place."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eval.metrics.errors import MetricInputError
from eval.metrics.multishot import score_sample, shot_ranges

H = W = 80


def storyboard(second_rgb=(217, 25, 25), second_xy=(32, 40), seed: int = 0) -> np.ndarray:
    """Shot 1: a red ball over a light room; cut at frame 12 to a darker, differently lit angle."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((24, H, W, 3), np.uint8)
    frames[:12] = (200, 200, 205)
    frames[12:] = (90, 95, 110)
    yy, xx = np.mgrid[0:H, 0:W]
    for i in range(24):
        x, y = (30 + 0.2 * i, 40) if i < 12 else (second_xy[0] + 0.2 * (i - 12), second_xy[1])
        rgb = (217, 25, 25) if i < 12 else second_rgb
        frames[i][(xx - x) ** 2 + (yy - y) ** 2 <= 36] = rgb
    return np.clip(frames.astype(np.int16) + rng.integers(-3, 4, frames.shape), 0, 255).astype(np.uint8)


def test_shot_ranges_forms() -> None:
    assert shot_ranges([12], 24) == [(0, 12), (12, 24)]
    assert shot_ranges([{"start_frame": 0, "end_frame": 10}, {"start_frame": 10, "end_frame": 24}], 24) == [
        (0, 10),
        (10, 24),
    ]
    with pytest.raises(MetricInputError):
        shot_ranges([30], 24)


@pytest.mark.parametrize("objects", [["red ball"], None])
def test_colour_kept_vs_changed(objects) -> None:
    for seed in range(3):
        kept = score_sample(storyboard(seed=seed), [0, 12], objects)
        changed = score_sample(storyboard(second_rgb=(25, 170, 40), seed=seed), [0, 12], objects)
        assert kept.status == changed.status == "ok"
        assert kept.color_consistency > 0.8 > 0.2 > changed.color_consistency


def test_position_kept_vs_moved() -> None:
    kept = score_sample(storyboard(), [12], ["red ball"])
    moved = score_sample(storyboard(second_xy=(70, 12)), [12], ["red ball"])
    assert kept.position_consistency > 0.9 > 0.5 > moved.position_consistency


class MeanColourEncoder:
    """A stand-in learned encoder: unit mean-colour embedding (exercises the learned path)."""

    name = "mean-colour"

    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(frames.reshape(len(frames), -1, 3).mean(1)).float() - 128
        return x / x.norm(dim=-1, keepdim=True)


def test_learned_path_and_metric_aggregate() -> None:
    rows = [score_sample(v, [12], ["red ball"], encoder=MeanColourEncoder())
            for v in (storyboard(), storyboard(second_rgb=(25, 170, 40)))]
    assert 0.3 < float(np.mean([r.color_consistency for r in rows])) < 0.7  # the suite mean eval.report takes
    assert all(-1.0 <= r.learned_consistency <= 1.0 for r in rows)
    assert score_sample(storyboard(), [0], ["red ball"]).status == "single shot"
