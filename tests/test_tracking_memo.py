"""The tracker's per-clip memo: metrics scoring the same decoded clip share one tracking pass, and never
see another clip's results or each other's edits."""

from __future__ import annotations

import numpy as np

from eval.metrics import av_sync, physics, tracking


def falling_red_ball(n: int = 24, size: int = 64, x: int = 30) -> np.ndarray:
    frames = np.full((n, size, size, 3), 120, np.uint8)
    for i in range(n):
        y = min(size - 8, 4 + i * i // 12)
        frames[i, y - 4 : y + 4, x - 4 : x + 4] = (230, 20, 20)
    return frames


def test_metrics_on_one_clip_share_one_tracking_pass(monkeypatch) -> None:
    calls: list[int] = []
    real = tracking._track_hue

    def counting(frames, hue, label, bg):
        calls.append(hue)
        return real(frames, hue, label, bg)

    monkeypatch.setattr(tracking, "_track_hue", counting)
    monkeypatch.setattr(tracking, "_memo", tracking._ClipMemo())
    frames = falling_red_ball()
    audio = np.zeros((1, 16000), np.float32)
    audio[0, 8000:8100] = 0.5
    physics.score_sample(frames, 24, {"law": "free_fall", "object": "red ball"}, extra_laws=("rigidity",))
    av_sync.score_sample(frames, 24, audio, 16000)
    assert len(calls) == len(set(calls)) >= 1  # each hue tracked once for both metrics


def test_memo_is_per_array_and_hands_out_copies() -> None:
    frames = falling_red_ball()
    hue = tracking.hue_of(tracking.NAMED_COLORS["red"])
    first = tracking.track_hue(frames, hue, "a")
    first.centroid[:] = -1.0  # a caller editing its track must not change the next caller's
    second = tracking.track_hue(frames, hue, "b")
    assert second.label == "b" and (second.centroid[second.present] >= 0).all()
    moved = falling_red_ball(x=50)  # another clip: its own tracks, not the memo's
    other = tracking.track_hue(moved, hue, "c")
    assert np.nanmean(other.centroid[:, 0]) > np.nanmean(second.centroid[:, 0]) + 15
