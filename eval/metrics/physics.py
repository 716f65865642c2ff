"""Physical plausibility from pixels: tracked objects checked against the law the prompt expects.

Every check returns a score in [0, 1] (1 = lawful) with diagnostics, or NaN with a status saying why it
could not judge (object never seen, too few frames of flight, no bounce to compare). Image coordinates:
pixels, y *down*, time in seconds from `fps`.

- free_fall: flight until the first impact; quadratic fit y = c + b·t + ½·g·t². score = R² × constancy ×
  [g > 0 in both halves], constancy = 1 − |g₁ − g₂| / (|g₁| + |g₂|) from separate fits to the two halves
  of the flight. Diagnostics: g estimate (px/s²), R², contact frame.
- bounce (energy): rise heights (impact level − apex) including the initial drop; each rise above the
  previous one costs (previous / this)²; score = product.
- permanence: gaps ≥ 2 frames in the track that are not explained by leaving the frame or by something
  else covering the spot, and jumps (teleports): one step far longer than the object's own steps just
  before and after it (a fast drop is lawful); score = 1 / (1 + count).
- rigidity: area spread p90/p10 of the unclipped blob; score = 1 − (ratio − 1.25), clipped.
- collision: velocity changes of two objects around their closest approach must be opposite;
  score = max(0, −cos(Δv₁, Δv₂)); the magnitude ratio vs. an area-based mass proxy is a diagnostic.
- pendulum: half-periods of the horizontal swing; score = (1 − CV/0.25) × amplitude-not-growing factor.
- sliding (friction): speed must not grow once moving; score = 1 − share of growing steps.
- rolling (ramp): constant acceleration along the main motion axis (as free fall, any direction).
- stacking / toppling: permanence × rigidity.
Always also: flicker (mean abs frame difference over static background, 0–255 units; score = 1 − f/10)
and smoothness (median |jerk| of centroids over median speed; score = 1 / (1 + ratio)).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torchmetrics import Metric

from eval.metrics.errors import MetricInputError
from eval.metrics.frames import as_frames
from eval.metrics.tracking import ObjectTrack, background, foreground_mask, track_objects

NAN = float("nan")
MIN_FLIGHT_FRAMES = 6
# A jump: a step longer than 2× the neighbouring steps plus 4 % of the frame side, and at least 8 % of it.
JUMP_SPEED_FACTOR = 2.0
JUMP_MARGIN = 0.04
JUMP_MIN = 0.08


@dataclass
class LawCheck:
    law: str
    score: float
    status: str = "ok"
    diagnostics: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhysicsResult:
    law: str
    object: str
    score: float
    status: str
    checks: dict[str, LawCheck]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _not_judged(law: str, why: str, **diagnostics: Any) -> LawCheck:
    return LawCheck(law=law, score=NAN, status=why, diagnostics=diagnostics)


# --- trajectory helpers ------------------------------------------------------------------------


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of consecutive present frames."""
    runs, start = [], None
    for i, p in enumerate(present):
        if p and start is None:
            start = i
        if not p and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(present)))
    return runs


def _longest_run(track: ObjectTrack) -> tuple[int, int]:
    runs = _runs(track.present)
    return max(runs, key=lambda r: r[1] - r[0]) if runs else (0, 0)


def impacts(y: np.ndarray) -> list[int]:
    """Frames (indices into y) where a downward motion is reversed abruptly — a contact, not a smooth turn."""
    if len(y) < 4:
        return []
    vy = np.diff(y)  # vy[i]: motion from frame i to i+1 (positive = down)
    free = np.abs(np.diff(vy))
    step = float(np.median(free)) if len(free) else 0.0
    found = []
    for i in range(1, len(y) - 1):
        before, after = vy[i - 1], vy[i]
        if before > 0.5 and after <= 0.25 * before and before - after > 2.5 * step + 1.0:
            if y[i] >= y[i - 1] and (i + 1 >= len(y) or y[i] >= y[i + 1]):
                found.append(i)
    return found


def _quadratic_fit(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coeffs = np.polyfit(t, y, 2)
    residual = y - np.polyval(coeffs, t)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 1e-9 else 0.0
    return coeffs, r2


def _constant_acceleration(t: np.ndarray, s: np.ndarray, require_positive: bool) -> tuple[float, dict[str, Any]]:
    coeffs, r2 = _quadratic_fit(t, s)
    half = len(t) // 2
    g1 = 2 * _quadratic_fit(t[: half + 1], s[: half + 1])[0][0]
    g2 = 2 * _quadratic_fit(t[half:], s[half:])[0][0]
    g = 2 * coeffs[0]
    constancy = max(0.0, 1.0 - abs(g1 - g2) / (abs(g1) + abs(g2) + 1e-9))
    same_sign = (g1 > 0 and g2 > 0) if require_positive else (g1 * g2 > 0)
    score = max(r2, 0.0) * constancy * float(same_sign)
    return score, {
        "g_px_s2": float(g),
        "g_first_half": float(g1),
        "g_second_half": float(g2),
        "r2": float(r2),
        "constancy": float(constancy),
    }


# --- law checks --------------------------------------------------------------------------------


def check_free_fall(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    start, end = _longest_run(track)
    y = track.centroid[start:end, 1]
    hits = impacts(y)
    stop = hits[0] if hits else len(y)  # the impact frame itself may already show the rebound
    if stop < MIN_FLIGHT_FRAMES:
        return _not_judged("free_fall", f"only {stop} frames of flight (need {MIN_FLIGHT_FRAMES})")
    t = np.arange(stop) / fps
    score, diag = _constant_acceleration(t, y[:stop], require_positive=True)
    diag["contact_frame"] = start + hits[0] if hits else None
    diag["flight_frames"] = int(stop)
    return LawCheck("free_fall", float(score), diagnostics=diag)


def check_bounce(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    y = track.centroid[:, 1]
    runs = _runs(track.present)
    hits = [s + i for s, e in runs for i in impacts(y[s:e])]
    if not hits:
        return _not_judged("bounce", "no bounce seen")
    rises: list[float] = []
    s0 = runs[0][0]
    drop = y[s0 : hits[0] + 1]
    if len(drop) > 2 and abs(drop[1] - drop[0]) < 0.25 * max(float(np.abs(np.diff(drop)).max()), 1e-9):
        rises.append(float(drop[-1] - drop.min()))  # dropped from rest: the drop height counts
    bounds = hits + [track.num_frames]
    for k, hit in enumerate(hits):
        segment = y[hit : bounds[k + 1]]
        top = int(np.nanargmin(segment))
        if _left_through_top(track, hit, bounds[k + 1]) or 0 < top < len(segment) - 1:
            rises.append(float(y[hit] - segment[top]))  # leaving through the top: at least this high
    rises = [r for r in rises if r >= 2.0]  # rises below 2 px are rounding, not bounces
    if len(rises) < 2:
        return _not_judged("bounce", "fewer than two rises to compare", rises=rises)
    factors = [min(1.0, a / b) ** 2 for a, b in zip(rises, rises[1:])]
    return LawCheck("bounce", float(np.prod(factors)), diagnostics={"rises_px": rises, "impact_frames": hits})


def _left_through_top(track: ObjectTrack, start: int, end: int) -> bool:
    """Between start and end the object disappears right after touching the top edge."""
    for i in range(start, min(end, track.num_frames) - 1):
        if track.present[i] and not track.present[i + 1] and track.bbox[i, 1] <= 2:
            return True
    return False


def _occluded(frames: np.ndarray, bg: np.ndarray, box: np.ndarray, i: int) -> bool:
    """Something other than the backdrop covers most of the box in frame i."""
    x0, y0, x1, y1 = [int(round(v)) for v in box]
    region = foreground_mask(frames[i, y0 : y1 + 1, x0 : x1 + 1], bg[y0 : y1 + 1, x0 : x1 + 1])
    return region.size > 0 and float(region.mean()) > 0.5


def check_permanence(
    track: ObjectTrack, fps: float, frames: np.ndarray | None = None, bg: np.ndarray | None = None, **_: Any
) -> LawCheck:
    present = track.present
    if not present.any():
        return _not_judged("permanence", f"'{track.label}' was never seen")
    events: list[dict[str, Any]] = []
    runs = _runs(present)
    for (_, e0), (s1, _) in zip(runs, runs[1:]):
        if s1 - e0 >= 2 and not _gap_explained(track, frames, bg, e0 - 1, e0, s1):
            events.append({"kind": "vanished", "frame": e0, "reappeared": s1})
    last_end = runs[-1][1]
    if last_end < len(present) - 1 and not _gap_explained(track, frames, bg, last_end - 1, last_end, None):
        events.append({"kind": "vanished", "frame": last_end, "reappeared": None})
    first = runs[0][0]
    if (
        first >= 2
        and not track.touches_border(first)
        and not (frames is not None and bg is not None and _occluded(frames, bg, track.bbox[first], first - 1))
    ):
        events.append({"kind": "appeared", "frame": first})
    events += _teleports(track)
    return LawCheck("permanence", 1.0 / (1.0 + len(events)), diagnostics={"events": events})


def _gap_explained(
    track: ObjectTrack, frames: np.ndarray | None, bg: np.ndarray | None, last: int, gap: int, back: int | None
) -> bool:
    if track.touches_border(last) or (back is not None and track.touches_border(back)):
        return True  # left (or re-entered) the view
    return frames is not None and bg is not None and _occluded(frames, bg, track.bbox[last], gap)


def _teleports(track: ObjectTrack) -> list[dict[str, Any]]:
    """Steps far longer than the object's own speed just before and after them.

    Lawful motion changes a step's length by at most ~g/fps² per frame, and an impact reverses a step
    without lengthening it, so a fast drop (long steps on both sides) is not a jump; a teleport is one
    long step between ordinary ones.
    """
    h, w = track.frame_size
    side = min(h, w)
    jumps = []
    for s, e in _runs(track.present):
        d = np.linalg.norm(np.diff(track.centroid[s:e], axis=0), axis=1)
        for k in range(len(d)):
            neighbours = d[max(0, k - 1) : k].tolist() + d[k + 1 : k + 2].tolist()
            if not neighbours:
                continue
            limit = max(JUMP_SPEED_FACTOR * max(neighbours) + JUMP_MARGIN * side, JUMP_MIN * side)
            if d[k] > limit:
                jumps.append({"kind": "jumped", "frame": s + k + 1, "px": float(d[k])})
    return jumps


def check_rigidity(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    usable = [i for i in np.flatnonzero(track.present) if not track.touches_border(i)]
    if len(usable) < 3:
        return _not_judged("rigidity", "object seen unclipped in fewer than 3 frames")
    areas = track.area[usable]
    ratio = float(np.percentile(areas, 90) / max(np.percentile(areas, 10), 1.0))
    return LawCheck(
        "rigidity", float(np.clip(1.0 - (ratio - 1.25), 0.0, 1.0)), diagnostics={"area_ratio_p90_p10": ratio}
    )


def check_collision(track: ObjectTrack, fps: float, others: list[ObjectTrack] | None = None, **_: Any) -> LawCheck:
    other = next((o for o in (others or []) if o.present.any()), None)
    if other is None:
        return _not_judged("collision", "needs a second tracked object")
    both = np.flatnonzero(track.present & other.present)
    if len(both) < 7:
        return _not_judged("collision", "the two objects are seen together in fewer than 7 frames")
    dist = np.linalg.norm(track.centroid[both] - other.centroid[both], axis=1)
    k = int(both[np.argmin(dist)])
    dv = []
    for tr in (track, other):
        before = [i for i in range(k - 4, k - 1) if 0 <= i and tr.present[i] and tr.present[i + 1]]
        after = [i for i in range(k + 1, k + 4) if i + 1 < tr.num_frames and tr.present[i] and tr.present[i + 1]]
        if not before or not after:
            return _not_judged("collision", "closest approach too near the clip's ends")
        v_before = np.mean([tr.centroid[i + 1] - tr.centroid[i] for i in before], axis=0)
        v_after = np.mean([tr.centroid[i + 1] - tr.centroid[i] for i in after], axis=0)
        dv.append((v_after - v_before) * fps)
    n1, n2 = float(np.linalg.norm(dv[0])), float(np.linalg.norm(dv[1]))
    if max(n1, n2) < 1e-6:
        return LawCheck("collision", 0.0, diagnostics={"contact_frame": k, "note": "no velocity change"})
    cos = float(dv[0] @ dv[1] / (n1 * n2)) if min(n1, n2) > 1e-6 else 0.0
    mass_ratio = float((np.nanmedian(other.area[other.present]) / np.nanmedian(track.area[track.present])) ** 1.5)
    return LawCheck(
        "collision",
        float(max(0.0, -cos)),
        diagnostics={
            "contact_frame": k,
            "cos_dv": cos,
            "dv_ratio": n1 / max(n2, 1e-9),
            "mass_ratio_from_area": mass_ratio,
        },
    )


def check_pendulum(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    start, end = _longest_run(track)
    x = track.centroid[start:end, 0]
    if len(x) < 8:
        return _not_judged("pendulum", "fewer than 8 tracked frames")
    swing = x - np.median(x)
    crossings = np.flatnonzero(np.sign(swing[1:]) * np.sign(swing[:-1]) < 0)
    if len(crossings) < 3:
        return _not_judged("pendulum", "fewer than 3 swings seen", crossings=crossings.tolist())
    halves = np.diff(crossings) / fps
    cv = float(np.std(halves) / max(np.mean(halves), 1e-9))
    amplitudes = [float(np.abs(swing[a : b + 1]).max()) for a, b in zip(crossings, crossings[1:])]
    growth = float(np.prod([min(1.0, a / max(b, 1e-9)) ** 2 for a, b in zip(amplitudes, amplitudes[1:])]))
    score = max(0.0, 1.0 - cv / 0.25) * growth
    return LawCheck(
        "pendulum",
        float(score),
        diagnostics={"period_s": float(2 * np.mean(halves)), "period_cv": cv, "amplitudes_px": amplitudes},
    )


def _smoothed_speed(track: ObjectTrack) -> np.ndarray:
    start, end = _longest_run(track)
    c = track.centroid[start:end]
    speed = np.linalg.norm(np.diff(c, axis=0), axis=1)
    return np.convolve(speed, np.ones(3) / 3, "valid") if len(speed) >= 3 else speed


def check_sliding(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    speed = _smoothed_speed(track)
    moving = np.flatnonzero(speed > 0.3)
    if len(moving) < 4:
        return _not_judged("sliding", "the object barely moves")
    s = speed[moving[0] :]
    growing = np.diff(s) > 0.15 * max(float(s.max()), 1.0)
    return LawCheck(
        "sliding",
        float(1.0 - growing.mean()),
        diagnostics={"start_speed_px_frame": float(s[0]), "end_speed_px_frame": float(s[-1])},
    )


def check_rolling(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    start, end = _longest_run(track)
    c = track.centroid[start:end]
    if len(c) < MIN_FLIGHT_FRAMES:
        return _not_judged("rolling", "too few tracked frames")
    centred = c - c.mean(0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    s = centred @ axis
    if s[-1] < s[0]:
        s = -s
    score, diag = _constant_acceleration(np.arange(len(s)) / fps, s, require_positive=False)
    return LawCheck("rolling", float(score), diagnostics=diag)


def check_stacking(track: ObjectTrack, fps: float, **kwargs: Any) -> LawCheck:
    perm, rigid = check_permanence(track, fps, **kwargs), check_rigidity(track, fps)
    parts = [s for s in (perm.score, rigid.score) if not math.isnan(s)]
    return LawCheck(
        "stacking",
        float(np.prod(parts)) if parts else NAN,
        diagnostics={"permanence": perm.score, "rigidity": rigid.score},
    )


def temporal_flicker(frames: np.ndarray, bg: np.ndarray) -> LawCheck:
    # Static = close to the median frame once each frame's global brightness offset is removed, so a
    # flickering but otherwise still backdrop still counts as background.
    ref = bg.astype(np.float32).mean(-1)
    sampled = frames[:: max(1, len(frames) // 16)].astype(np.float32).mean(-1)
    offsets = np.median((sampled - ref).reshape(len(sampled), -1), axis=1)
    static = (np.abs(sampled - ref - offsets[:, None, None]) < 10).mean(0) >= 0.95
    if static.sum() < 16 or len(frames) < 2:
        return _not_judged("flicker", "no static background to measure")
    # In integers: Σ channels (≤ 765) per pixel, |Δ| between frames, summed over the static pixels, / 3.
    total = frames[..., 0].astype(np.int16)
    total += frames[..., 1]
    total += frames[..., 2]
    change = np.abs(np.diff(total, axis=0))
    change[:, ~static] = 0
    flicker = float(change.sum(dtype=np.int64)) / (int(static.sum()) * len(change)) / 3.0
    return LawCheck("flicker", float(np.clip(1.0 - flicker / 10.0, 0.0, 1.0)), diagnostics={"mean_abs_diff": flicker})


def motion_smoothness(tracks: list[ObjectTrack]) -> LawCheck:
    ratios = []
    for tr in tracks:
        start, end = _longest_run(tr)
        c = tr.centroid[start:end]
        if len(c) >= 6:
            jerk = np.linalg.norm(np.diff(c, n=3, axis=0), axis=1)
            speed = np.linalg.norm(np.diff(c, axis=0), axis=1)
            ratios.append(float(np.median(jerk) / (np.median(speed) + 1.0)))
    if not ratios:
        return _not_judged("smoothness", "no object tracked for 6 frames")
    ratio = float(np.mean(ratios))
    return LawCheck("smoothness", 1.0 / (1.0 + ratio), diagnostics={"jerk_over_speed": ratio})


LAWS: dict[str, Callable[..., LawCheck]] = {
    "free_fall": check_free_fall,
    "bounce": check_bounce,
    "permanence": check_permanence,
    "rigidity": check_rigidity,
    "collision": check_collision,
    "pendulum": check_pendulum,
    "sliding": check_sliding,
    "rolling": check_rolling,
    "stacking": check_stacking,
}
ALIASES = {
    "falling": "free_fall",
    "fall": "free_fall",
    "gravity": "free_fall",
    "bouncing": "bounce",
    "energy": "bounce",
    "bouncing_energy": "bounce",
    "energy_conservation": "bounce",
    "object_permanence": "permanence",
    "occlusion": "permanence",
    "continuity": "permanence",
    "collision_momentum": "collision",
    "momentum": "collision",
    "sliding_friction": "sliding",
    "friction": "sliding",
    "rolling_ramp": "rolling",
    "ramp": "rolling",
    "rolling_on_a_ramp": "rolling",
    "toppling": "stacking",
    "stacking_toppling": "stacking",
}


def canonical_law(law: str) -> str:
    key = law.strip().lower().replace(" ", "_").replace("-", "_").replace("/", "_")
    key = ALIASES.get(key, key)
    if key not in LAWS:
        raise MetricInputError(f"unknown physics law '{law}'; known: {sorted(LAWS)} (and aliases {sorted(ALIASES)})")
    return key


def _pick_main(tracks: list[ObjectTrack]) -> ObjectTrack:
    def motion(tr: ObjectTrack) -> float:
        c = tr.centroid[tr.present]
        return float(np.ptp(c, axis=0).sum()) if len(c) else -1.0

    return max(tracks, key=motion)


def score_sample(
    frames: Any, fps: float | Fraction, expectations: dict[str, Any], extra_laws: Sequence[str] = ()
) -> PhysicsResult:
    """One clip + the prompt's expectation ({"law": ..., "object": "red ball"}) → per-law scores.

    `extra_laws` (e.g. ("permanence", "rigidity")) are checked on the same tracks in the same pass and
    land in `checks` next to the expected law; the headline `score` stays the expected law's. Without a
    "law" in the expectations, the first extra law is the headline.
    """
    if not isinstance(expectations, dict):
        raise MetricInputError('physics needs expectations like {"law": "free_fall", "object": "red ball"}')
    laws = [canonical_law(str(x)) for x in [expectations.get("law"), *extra_laws] if x]
    if not laws:
        raise MetricInputError('physics needs expectations like {"law": "free_fall", "object": "red ball"}')
    laws = list(dict.fromkeys(laws))
    rate = float(fps)
    if rate <= 0:
        raise MetricInputError(f"fps must be positive, got {fps}")
    video = as_frames(frames, min_frames=3)
    bg = background(video)
    names = [n for n in [expectations.get("object"), *expectations.get("objects", [])] if n]
    names = list(dict.fromkeys(names))
    tracks = track_objects(video, names=names or None)
    main = tracks[0] if names else _pick_main(tracks)
    others = [t for t in tracks if t is not main]
    if len(others) == 0 and "collision" in laws:
        others = [t for t in track_objects(video) if t.label != main.label]
    checks: dict[str, LawCheck] = {}
    for law in laws:
        if not main.present.any():
            checks[law] = _not_judged(law, f"'{main.label}' was never found in the frames")
        else:
            checks[law] = LAWS[law](main, rate, others=others, frames=video, bg=bg)
    checks["flicker"] = temporal_flicker(video, bg)
    checks["smoothness"] = motion_smoothness([t for t in tracks if t.present.any()])
    head = checks[laws[0]]
    return PhysicsResult(law=laws[0], object=main.label, score=head.score, status=head.status, checks=checks)


class PhysicsConsistency(Metric):
    """Mean law score (over clips the law could be judged on), per law, plus flicker and smoothness."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in (*LAWS, "flicker", "smoothness"):
            self.add_state(f"{name}_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{name}_n", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
        self.add_state("unjudged", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, frames: Any, fps: float | Fraction, expectations: dict[str, Any]) -> None:  # type: ignore[override]
        result = score_sample(frames, fps, expectations)
        for name, check in result.checks.items():
            if not math.isnan(check.score):
                setattr(self, f"{name}_sum", getattr(self, f"{name}_sum") + check.score)
                setattr(self, f"{name}_n", getattr(self, f"{name}_n") + 1)
        if math.isnan(result.score):
            self.unjudged += 1

    def compute(self) -> dict[str, float]:
        out: dict[str, float] = {}
        law_sum, law_n = 0.0, 0
        for name in (*LAWS, "flicker", "smoothness"):
            n = int(getattr(self, f"{name}_n"))
            if n:
                out[name] = float(getattr(self, f"{name}_sum")) / n
                out[f"{name}_n"] = n
                if name in LAWS:
                    law_sum += float(getattr(self, f"{name}_sum"))
                    law_n += n
        out["physics"] = law_sum / law_n if law_n else NAN
        out["n"] = law_n
        out["unjudged"] = int(self.unjudged)
        return out
