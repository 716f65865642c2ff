"""Consistency across cuts in a multi-shot clip (storyboard): does each object keep its look and place?

For every cut between shot k and shot k+1:
- colour: hue-histogram intersection (Σ min) of the object's pixels in the two shots; an object that is
  found in one shot but not the other (e.g. it changed colour, so its colour no longer finds it) scores 0.
  Named objects ("red ball") are tracked by their colour; with no names, the hue histogram of every
  saturated object-sized blob in the shot stands for "the cast".
- position: the object's normalised centroid in the last frames before the cut vs the first frames after
  it; score = max(0, 1 − distance / 0.5 of the frame diagonal). A deliberate camera change legitimately
  moves things, so this is reported separately and not folded into `score`.
- learned (when a CLIP encoder is given): cosine of image embeddings of the frames either side of the cut.
score = mean colour consistency over cuts (and objects).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import cv2
import numpy as np

from eval.metrics.errors import MetricInputError
from eval.metrics.frames import as_frames
from eval.metrics.tracking import HUE_BINS, MAX_OBJECT_FRACTION, MIN_SATURATION, MIN_VALUE, ObjectTrack, track_objects

EDGE_FRAMES = 3  # frames either side of a cut used for positions and embeddings


@dataclass
class MultiShotResult:
    status: str
    score: float = float("nan")
    color_consistency: float = float("nan")
    position_consistency: float = float("nan")
    learned_consistency: float = float("nan")
    cuts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shot_ranges(shots: Sequence[Any], num_frames: int) -> list[tuple[int, int]]:
    """[start, end) per shot from start frames ([0, 36, 60]) or the engine's shot records
    ([{"start_frame": 0, "end_frame": 36}, ...], end exclusive)."""
    if not shots:
        raise MetricInputError("multi-shot consistency needs the shot boundaries")
    if isinstance(shots[0], dict):
        ranges = [(int(s["start_frame"]), int(s["end_frame"])) for s in shots]
    else:
        starts = sorted(int(s) for s in shots)
        if starts[0] != 0:
            starts = [0, *starts]
        ranges = list(zip(starts, [*starts[1:], num_frames]))
    for start, end in ranges:
        if not 0 <= start < end <= num_frames:
            raise MetricInputError(f"shot [{start}, {end}) does not fit a {num_frames}-frame clip")
    return ranges


def cast_hue_histogram(frames: np.ndarray) -> np.ndarray:
    """Hue histogram of saturated, object-sized blobs (backdrop-sized regions left out)."""
    _, h, w, _ = frames.shape
    hist = np.zeros(HUE_BINS)
    for frame in frames[:: max(1, len(frames) // 8)]:
        hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
        sat = ((hsv[..., 1] >= MIN_SATURATION) & (hsv[..., 2] >= MIN_VALUE)).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(sat, connectivity=8)
        for k in range(1, count):
            if 4 <= stats[k, cv2.CC_STAT_AREA] <= MAX_OBJECT_FRACTION * h * w:
                hist += np.histogram(hsv[..., 0][labels == k], bins=HUE_BINS, range=(0, 180))[0]
    return hist / hist.sum() if hist.sum() else hist


def _intersection(a: np.ndarray, b: np.ndarray) -> float:
    if a.sum() == 0 or b.sum() == 0:
        return 0.0
    return float(np.minimum(a, b).sum())


def _edge_position(track: ObjectTrack, frames: range) -> np.ndarray | None:
    idx = [i for i in frames if 0 <= i < track.num_frames and track.present[i]]
    if not idx:
        return None
    h, w = track.frame_size
    return track.centroid[idx].mean(0) / np.array([w, h], float)


def score_sample(
    frames: Any, shots: Sequence[Any], objects: list[str] | None = None, encoder: Any = None
) -> MultiShotResult:
    """One storyboard clip + its shot boundaries (+ the names that must persist) → consistency scores."""
    video = as_frames(frames)
    ranges = shot_ranges(shots, len(video))
    if len(ranges) < 2:
        return MultiShotResult(status="single shot")
    cuts = []
    for (s0, e0), (s1, e1) in zip(ranges, ranges[1:]):
        first, second = video[s0:e0], video[s1:e1]
        cut: dict[str, Any] = {"cut_frame": s1}
        if objects:
            colours, positions = [], []
            for a, b in zip(track_objects(first, names=objects), track_objects(second, names=objects)):
                colours.append(_intersection(a.hue_hist, b.hue_hist) if a.present.any() and b.present.any() else 0.0)
                pa, pb = (
                    _edge_position(a, range(len(first) - EDGE_FRAMES, len(first))),
                    _edge_position(b, range(EDGE_FRAMES)),
                )
                if pa is not None and pb is not None:
                    positions.append(max(0.0, 1.0 - float(np.linalg.norm(pa - pb)) / (0.5 * math.sqrt(2))))
            cut["color"] = float(np.mean(colours))
            cut["position"] = float(np.mean(positions)) if positions else float("nan")
        else:
            cut["color"] = _intersection(cast_hue_histogram(first), cast_hue_histogram(second))
            cut["position"] = float("nan")
        if encoder is not None:
            emb = encoder.image_embeddings(np.concatenate([first[-1:], second[:1]]))
            cut["learned"] = float(emb[0] @ emb[1])
        cuts.append(cut)

    def mean_of(key: str) -> float:
        values = [c[key] for c in cuts if key in c and not math.isnan(c[key])]
        return float(np.mean(values)) if values else float("nan")

    colour = mean_of("color")
    return MultiShotResult(
        status="ok",
        score=colour,
        color_consistency=colour,
        position_consistency=mean_of("position"),
        learned_consistency=mean_of("learned"),
        cuts=cuts,
    )


