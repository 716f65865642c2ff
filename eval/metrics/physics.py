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

import cv2
import numpy as np

from eval.metrics.errors import MetricInputError
from eval.metrics.frames import as_frames
from eval.metrics.tracking import (
    ObjectTrack,
    background,
    camera_unsteady,
    foreground_mask,
    steadied,
    track_moving_object,
    track_objects,
)

NAN = float("nan")
STATIC_LAWS = {"stacking"}  # laws whose object may lawfully never move
MIN_FLIGHT_FRAMES = 6
# A jump: a step longer than 2× the neighbouring steps plus 4 % of the frame side, and at least 8 % of it.
JUMP_SPEED_FACTOR = 2.0
JUMP_MARGIN = 0.04
JUMP_MIN = 0.08
MIN_SMOOTH_TRAVEL = 1.5  # diameters one smooth stretch of the track must cover (see incoherent_track)
CONSTANCY_SLACK = 0.15  # |g₁ − g₂| / (|g₁| + |g₂|) allowed between a flight's halves (perspective), i.e. ~1.35×


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
    # Perspective and lens distortion change the apparent acceleration along a lawful path by tens of per cent
    # (a ball falling toward a tilted camera): differences up to CONSTANCY_SLACK are not held against it.
    spread = abs(g1 - g2) / (abs(g1) + abs(g2) + 1e-9)
    constancy = max(0.0, 1.0 - max(0.0, spread - CONSTANCY_SLACK) / (1.0 - CONSTANCY_SLACK))
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


def release_index(y: np.ndarray, x: np.ndarray | None = None, still_px: float = 1.5) -> int:
    """First index of the free part: a held object sits still (within `still_px`) until it is let go."""
    if len(y) < 3:
        return 0
    pos = np.stack([x if x is not None else np.zeros_like(y), y], axis=1)
    step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    k = 0
    while k < len(step) - 1 and step[k] <= still_px and step[k + 1] <= still_px * 2:
        k += 1
    return k


def check_free_fall(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    start, end = _longest_run(track)
    y = track.centroid[start:end, 1]
    release = release_index(y, track.centroid[start:end, 0])  # a ball held still before release is not falling yet
    y = y[release:]
    hits = impacts(y)
    stop = hits[0] if hits else len(y)  # the impact frame itself may already show the rebound
    # A soft landing (a cube that tumbles, a ball on a cushion) shows no sharp impact: the fall also ends where
    # one constant acceleration stops explaining the path.
    fall = _first_stretch(track, fps, start + release, start + release + stop)
    if fall is not None:
        stop = min(stop, fall)
    stop = min(stop, _landing(y, fps, stop, _tolerance(track)))
    if stop < MIN_FLIGHT_FRAMES:
        return _not_judged("free_fall", f"only {stop} frames of flight (need {MIN_FLIGHT_FRAMES})")
    t = np.arange(stop) / fps
    score, diag = _constant_acceleration(t, y[:stop], require_positive=True)
    diag["release_frame"] = start + release
    diag["contact_frame"] = start + release + stop if stop < len(y) else None
    diag["flight_frames"] = int(stop)
    return LawCheck("free_fall", float(score), diagnostics=diag)


def _landing(y: np.ndarray, fps: float, stop: int, tol: float) -> int:
    """Where a fall meets the ground without a sharp rebound: the first point that falls short of where the fall so
    far says it should be, after which the object goes no further down (it rests there or rises). A fall that
    slows in mid-air and keeps going is not a landing: that is for the law to judge."""
    t = np.arange(len(y)) / fps
    for j in range(5, stop):
        coeffs = np.polyfit(t[:j], y[:j], 2)
        short = float(np.polyval(coeffs, t[j])) - y[j]
        step = y[j - 1] - y[j - 2]
        if short > max(1.5 * tol, 0.2 * abs(step)) and float(np.max(y[j : j + 3])) - y[j] <= max(tol, 0.25 * abs(step)):
            return j  # the landing frame already shows the ground's push
    return stop


def _first_stretch(track: ObjectTrack, fps: float, start: int, end: int) -> int | None:
    """Length (frames from `start`) of the first stretch one quadratic explains within the tracking noise."""
    if end - start < 4:
        return None
    part = _copy_range(track, start, end)
    segs = flights(part, fps, max_gap=0)
    return (segs[0].end - start + 1) if segs and segs[0].start == start else None


def _copy_range(track: ObjectTrack, start: int, end: int) -> ObjectTrack:
    present = np.zeros_like(track.present)
    present[start:end] = track.present[start:end]
    return ObjectTrack(track.label, present, track.centroid, track.area, track.bbox, track.hue_hist, track.frame_size)


def flight_rises(track: ObjectTrack, fps: float) -> list[float]:
    """Heights of the bounces, from the free flights' fitted parabolas: contact level − apex, in time order.

    A flight whose apex lies inside it gives a rise; the contact level is where the flights end (the lowest
    point the track reaches, within the tracking noise). Tracking jitter while the ball settles cannot make
    a rise: only stretches that fit one shared acceleration count.
    """
    from_fits: list[float] = []
    group, _ = free_flights(track, fps)
    if len(group) < 2:
        return from_fits
    ends = [float(np.polyval(f.fy, f.end / fps)) for f in group] + [float(np.polyval(f.fy, f.start / fps)) for f in group]
    floor = float(np.percentile(ends, 90))
    for f in sorted(group, key=lambda f: f.start):
        a, b = f.fy[0], f.fy[1]
        if a <= 0:
            continue
        apex_t = -b / (2 * a)
        if (f.start - 1) / fps <= apex_t <= (f.end + 1) / fps:
            from_fits.append(floor - float(np.polyval(f.fy, apex_t)))
    return [r for r in from_fits if r >= 2 * _tolerance(track)]


def check_bounce(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    """Bounces lose height: from the free flights' apexes where two or more are seen (robust to jitter while the
    ball settles), else from the tracked rises between impacts."""
    rises = flight_rises(track, fps)
    if len(rises) >= 2:
        tol = 2 * _tolerance(track)
        factors = [min(1.0, a / b) ** 2 if b > a + tol else 1.0 for a, b in zip(rises, rises[1:])]
        return LawCheck("bounce", float(np.prod(factors)), diagnostics={"rises_px": rises, "from": "free flights"})
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
    """The object keeps existing and moves continuously: no jump between flights (frames cut, a stall then a
    jump), no hover in mid-flight, no vanishing at full size that leaves the bare backdrop behind.

    A track that ends because the object comes to rest, leaves the view or goes behind something is lawful:
    only a spot that then shows the plain backdrop (and an object that was not shrinking behind an edge)
    counts as a vanishing."""
    if not track.present.any():
        return _not_judged("permanence", f"'{track.label}' was never seen")
    events = continuity_events(track, fps, frames, bg)
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


def check_rigidity(track: ObjectTrack, fps: float, compactness: float | None = None, **_: Any) -> LawCheck:
    """Size stays put: area spread p90/p10 of the unclipped blob; judged only on a compact object.

    A bird, a pancake or a cloth changes its outline lawfully, and so does a flat thing turning, so a
    ragged or elongated silhouette (compactness < 0.5) is not judged. score = 1 − (ratio − 1.5) / 1.5.
    """
    if compactness is not None and compactness < 0.5:
        return _not_judged("rigidity", f"not a compact object (compactness {compactness:.2f}): its outline may change lawfully")
    # Alone in the air (no hand merged in), and away from the flight's ends: at a contact the ball squashes
    # lawfully and sits on the floor, where a backdrop made from the clip's own frames may hold it (resting there).
    flying = {int(i) for f in free_flights(track, fps)[0] for i in _inner(f.frames)}
    usable = [i for i in np.flatnonzero(track.present) if not track.touches_border(i)]
    if len(flying & set(usable)) >= 5:
        usable = sorted(flying & set(usable))
    if len(usable) < 3:
        return _not_judged("rigidity", "object seen unclipped in fewer than 3 frames")
    areas = track.area[usable]
    ratio = float(np.percentile(areas, 90) / max(np.percentile(areas, 10), 1.0))
    # A one-pixel error round a small blob's edge moves its area a lot: allow for it.
    d = _diameter(track)
    allow = max(1.5, 1.2 * ((d + 2) / max(d - 2, 1.0)) ** 2)
    return LawCheck(
        "rigidity", float(np.clip(1.0 - (ratio - allow) / 1.5, 0.0, 1.0)),
        diagnostics={"area_ratio_p90_p10": ratio, "allowed_ratio": allow},
    )


def _inner(frames: np.ndarray) -> np.ndarray:
    """A flight's frames without its first and last ones (two each on a flight of 10 or more)."""
    cut = 2 if len(frames) >= 10 else 1
    return frames[cut:-cut] if len(frames) > 2 * cut else frames[:0]


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
    perm, rigid = check_permanence(track, fps, **kwargs), check_rigidity(track, fps, **kwargs)
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


# --- free flight: where the laws of a thrown or dropped object apply ------------------------------------


@dataclass
class Flight:
    """One stretch of the track that one constant acceleration explains (a throw, a fall, a rise after a bounce)."""

    frames: np.ndarray  # frame indices (present frames only)
    fx: np.ndarray  # quadratic coefficients of x(t), t in seconds from the clip start
    fy: np.ndarray
    residual_px: float

    @property
    def start(self) -> int:
        return int(self.frames[0])

    @property
    def end(self) -> int:
        return int(self.frames[-1])

    @property
    def accel(self) -> np.ndarray:
        return np.array([2 * self.fx[0], 2 * self.fy[0]])

    def at(self, t: np.ndarray | float) -> np.ndarray:
        return np.stack([np.polyval(self.fx, t), np.polyval(self.fy, t)], axis=-1)


def _diameter(track: ObjectTrack) -> float:
    areas = track.area[track.present]
    return float(2 * np.sqrt(np.median(areas) / np.pi)) if len(areas) else 1.0


def _fit(t: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    deg = 2 if len(t) >= 3 else 1
    fx, fy = np.polyfit(t, c[:, 0], deg), np.polyfit(t, c[:, 1], deg)
    if deg == 1:
        fx, fy = np.r_[0.0, fx], np.r_[0.0, fy]
    res = np.hypot(c[:, 0] - np.polyval(fx, t), c[:, 1] - np.polyval(fy, t))
    return fx, fy, float(res.max()) if len(res) else 0.0


def _tolerance(track: ObjectTrack) -> float:
    """How far a tracked centroid strays from the true path (blur, codec, a blob's ragged edge), px."""
    return max(2.0, 0.2 * _diameter(track))


def flights(track: ObjectTrack, fps: float, max_gap: int = 3) -> list[Flight]:
    """Split the track greedily into stretches one quadratic (constant acceleration) explains to within the
    tracking noise; a contact, a catch, a throw or a cut starts a new stretch."""
    idx = np.flatnonzero(track.present)
    if len(idx) < 3:
        return []
    tol = _tolerance(track)
    out: list[Flight] = []
    k = 0
    while k < len(idx) - 2:
        j = k + 3
        while j < len(idx) and idx[j] - idx[j - 1] <= max_gap + 1:
            seg = idx[k : j + 1]
            _, _, res = _fit(seg / fps, track.centroid[seg])
            if res > tol:
                break
            j += 1
        seg = idx[k:j]
        fx, fy, res = _fit(seg / fps, track.centroid[seg])
        out.append(Flight(seg, fx, fy, res))
        k = j
    return out


def _moving_flights(track: ObjectTrack, fps: float, min_points: int = 5) -> list[Flight]:
    found = []
    for f in flights(track, fps):
        c = track.centroid[f.frames]
        if len(f.frames) >= min_points and float(np.ptp(c, axis=0).max()) >= max(4.0, 2 * _tolerance(track)):
            found.append(f)
    return found


def free_flights(track: ObjectTrack, fps: float, min_points: int = 5) -> tuple[list[Flight], int]:
    """The stretches in free flight: curved moving stretches whose accelerations agree with each other.

    Every free flight in a clip shares one acceleration (gravity, as the camera sees it); a hand carrying
    a ball, a kick or a catch bends the path some other way. The largest group (by frames) of curved
    stretches within 35 % of one another's acceleration is taken as the free flights. Returns them and the
    number of curved stretches considered. Only stretches bent mostly vertically (|a_x| ≤ 0.5 |a_y|) count.
    """
    tol = _tolerance(track)
    curved = []
    for f in _moving_flights(track, fps, min_points):
        span = (f.end - f.start) / fps
        ax, ay = f.accel
        # Bends visibly off a straight line, and mostly up or down: gravity is vertical in an upright picture and
        # in one turned upside down alike, while a hand carrying a ball in a scoop pulls it sideways as well.
        if float(np.hypot(ax, ay)) * span**2 / 8 >= 2 * tol and abs(ax) <= 0.5 * abs(ay):
            curved.append(f)
    if not curved:
        return [], 0
    weights = np.array([len(f.frames) for f in curved], float)
    acc = np.array([f.accel for f in curved])
    agree = np.linalg.norm(acc[:, None] - acc[None], axis=-1) <= 0.35 * np.linalg.norm(acc, axis=1)[:, None]
    support = agree.astype(float) @ weights
    # A hand that throws or catches pushes harder than gravity pulls (a throw leaves the hand faster than a fall
    # would), so of the well-supported groups the gentlest one is free flight; this holds upside down as well.
    strong = np.flatnonzero(support >= 0.5 * support.max())
    best = int(min(strong, key=lambda k: float(np.linalg.norm(acc[k]))))
    return [f for f, ok in zip(curved, agree[best]) if ok], len(curved)


def incoherent_track(track: ObjectTrack, fps: float) -> str:
    """Why a track is not one object moving (empty when it is): an object moves smoothly, so most of its
    points lie on stretches of ≥ 5 frames that one constant acceleration explains, and at least one such
    stretch travels. A chain of blobs hopping between a face, a hand and codec noise does not."""
    segs = flights(track, fps)
    points = int(track.present.sum())
    solid = sum(len(f.frames) for f in segs if len(f.frames) >= 5)
    moving = _moving_flights(track, fps)
    if not moving:
        return "no stretch of 5 frames in which the object moves smoothly"
    # One object's path carries it several of its own sizes in one smooth go; a face's or a hand's blob
    # shuffles about its place and only "travels" by hopping between stretches.
    diam = _diameter(track)
    reach = max(float(np.ptp(track.centroid[f.frames], axis=0).max()) for f in moving) / max(diam, 1.0)
    if reach < MIN_SMOOTH_TRAVEL:
        return (f"no smooth stretch travels {MIN_SMOOTH_TRAVEL:g} of the object's diameters (best {reach:.1f}): "
                "something shuffles in place, not an object in flight")
    if points and solid / points < 0.5:
        return f"only {solid} of {points} tracked points move smoothly: not one object's path"
    idx = np.flatnonzero(track.present)
    pairs = [(a, b) for a, b in zip(idx, idx[1:]) if b == a + 1]
    if pairs:
        jitter = float(np.median([abs(np.log(max(track.area[b], 1.0) / max(track.area[a], 1.0))) for a, b in pairs]))
        if jitter > 0.3:
            return f"the tracked blob changes size by {jitter:.0%} a frame: not one object"
    return ""


def check_gravity(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    """Free flights must accelerate downward in the picture: a clip turned upside down accelerates up.

    The free flights' common acceleration (`free_flights`) must point down: score 1 when its downward share
    (cosine with the image's down) is ≥ 0.8, 0 at ≤ 0.3.
    """
    group, curved = free_flights(track, fps)
    if not group:
        return _not_judged("gravity_direction", "no curved free flight seen (nothing thrown, dropped or bouncing)")
    weights = [len(f.frames) for f in group]
    a = np.average([f.accel for f in group], axis=0, weights=weights)
    down = float(a[1] / (np.linalg.norm(a) + 1e-9))
    score = float(np.clip((down - 0.3) / 0.5, 0.0, 1.0))
    return LawCheck("gravity_direction", score, diagnostics={
        "down_share": down, "accel_px_s2": a.tolist(), "free_flights": len(group), "curved_stretches": curved})


def check_projectile(track: ObjectTrack, fps: float, **_: Any) -> LawCheck:
    """A thrown object: steady horizontal velocity and constant downward acceleration in each free flight.

    Per flight of ≥ MIN_FLIGHT_FRAMES points: R² of the vertical quadratic × constancy of g between the
    halves × [g down] × horizontal steadiness (|a_x| small against |a_y|); the score is the length-weighted mean.
    """
    scores, weights, diags = [], [], []
    # The free flights; where none bends mostly vertically, every long moving stretch (a throw pushed sideways
    # mid-air is a violation to score, not a clip to skip).
    group = free_flights(track, fps, MIN_FLIGHT_FRAMES)[0] or _moving_flights(track, fps, MIN_FLIGHT_FRAMES)
    for f in group:
        t = f.frames / fps
        y, x = track.centroid[f.frames, 1], track.centroid[f.frames, 0]
        s_y, d = _constant_acceleration(t, y, require_positive=True)
        ax = 2 * np.polyfit(t, x, 2)[0]
        steady = float(np.clip(1.0 - (abs(ax) / (abs(d["g_px_s2"]) + 1e-9) - 0.2) / 0.6, 0.0, 1.0))
        scores.append(s_y * steady)
        weights.append(len(f.frames))
        diags.append({"frames": [f.start, f.end], "g_px_s2": d["g_px_s2"], "ax_px_s2": float(ax), "r2": d["r2"]})
    if not scores:
        return _not_judged("projectile", f"no free flight of {MIN_FLIGHT_FRAMES} or more frames")
    return LawCheck("projectile", float(np.average(scores, weights=weights)), diagnostics={"flights": diags[:8]})


def _looks_like_backdrop(frames: np.ndarray, bg: np.ndarray, box: np.ndarray, i: int, threshold: float = 24.0) -> bool:
    """Frame i shows the plain backdrop inside the box (nothing there: neither the object nor anything covering it)."""
    h, w = bg.shape[:2]
    x0, y0, x1, y1 = [int(round(v)) for v in box]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w - 1, x1), min(h - 1, y1)
    if x1 < x0 or y1 < y0:
        return False
    diff = np.abs(frames[i, y0 : y1 + 1, x0 : x1 + 1].astype(np.int16) - bg[y0 : y1 + 1, x0 : x1 + 1]).sum(-1)
    return float(np.percentile(diff, 90)) < threshold


def _picture_stalls(frames: np.ndarray, start: int, end: int) -> bool:
    """Frames start..end barely differ from each other compared with the clip's usual frame-to-frame change."""
    def change(i: int) -> float:
        return float(np.abs(frames[i + 1, ::4, ::4].astype(np.int16) - frames[i, ::4, ::4]).mean())

    inside = [change(i) for i in range(start, min(end, len(frames) - 1))]
    probe = np.linspace(0, len(frames) - 2, min(24, len(frames) - 1)).astype(int)
    usual = float(np.median([change(i) for i in probe])) if len(probe) else 0.0
    return bool(inside) and float(np.mean(inside)) < 0.25 * usual


def _law_moves(track: ObjectTrack, fps: float, s: int, e: int, tol: float, diam: float) -> bool:
    """Whether the path around frames s..e (fitted to three tracked frames on each side) carries the object
    clearly away from where it stands at s during them: at the top of a bounce it barely moves, lawfully."""
    seen = np.flatnonzero(track.present)
    # Three tracked frames each side (the stalled frames left out): short enough not to reach over a bounce.
    near = [i for i in seen if s - 6 <= i <= s][-3:] + [i for i in seen if e < i <= e + 7][:3]
    if len(near) < 3:
        return True
    t = np.array(near, float) / fps
    deg = 2 if len(near) >= 5 else 1
    fx, fy = np.polyfit(t, track.centroid[near, 0], deg), np.polyfit(t, track.centroid[near, 1], deg)
    ts = np.arange(s, e + 1) / fps
    path = np.stack([np.polyval(fx, ts), np.polyval(fy, ts)], 1)
    return float(np.linalg.norm(path - path[0], axis=1).max()) > max(2 * tol, 0.5 * diam)


def _stalls_in_flight(
    track: ObjectTrack, fps: float, frames: np.ndarray, tol: float, known: list[int]
) -> list[dict[str, Any]]:
    """The whole picture stands still for 3+ frames (repeated frames) while the object was moving just before and
    after: a camera does not stop time. A clip with a cadence of repeated frames throughout (a low frame rate
    padded up) is judged against its own cadence: only a stall twice as long as its usual repeats counts."""
    t = len(frames)
    if t < 6:
        return []
    change = np.array([float(np.abs(frames[i + 1, ::4, ::4].astype(np.int16) - frames[i, ::4, ::4]).mean())
                       for i in range(t - 1)])
    usual = float(np.median(change))
    if usual <= 0.0:
        return []
    still = change < 0.25 * usual  # frame i+1 repeats frame i
    runs = _runs(still)
    lengths = sorted(e - s for s, e in runs)
    cadence = lengths[len(lengths) // 2] if len(runs) >= 3 else 0  # repeats all through the clip
    c, seen = track.centroid, np.flatnonzero(track.present)
    found = []
    for s, e in runs:
        if e - s < max(2, 2 * cadence) or any(s <= k <= e for k in known):
            continue  # fewer than 3 identical frames, or already reported
        before = [i for i in seen if s - 6 <= i <= s]
        after = [i for i in seen if e <= i <= e + 6]
        if len(before) < 2 or len(after) < 2:
            continue
        v_before = np.linalg.norm(c[before[-1]] - c[before[0]]) / max(1, before[-1] - before[0])
        v_after = np.linalg.norm(c[after[-1]] - c[after[0]]) / max(1, after[-1] - after[0])
        # Moving on both sides at more than the tracking noise per frame, and not at a turning point (the top of
        # a bounce, where a clean render may repeat a frame): fast on both sides, or the path through it moves.
        fast = min(v_before, v_after) > 2 * tol
        if min(v_before, v_after) > tol and (fast or _law_moves(track, fps, s, e, tol, _diameter(track))):
            found.append({"kind": "froze", "frame": int(s), "frames": int(e - s + 1)})
    return found


def _blob_near(frames: np.ndarray, bg: np.ndarray, box: np.ndarray, area: float, i: int) -> bool:
    """Something of about the object's size differs from the backdrop within a few sizes of the box in frame i."""
    h, w = bg.shape[:2]
    side = max(box[2] - box[0], box[3] - box[1], 4.0)
    x0, y0 = int(max(0, box[0] - 2 * side)), int(max(0, box[1] - 2 * side))
    x1, y1 = int(min(w - 1, box[2] + 2 * side)), int(min(h - 1, box[3] + 2 * side))
    if x1 <= x0 or y1 <= y0:
        return False
    mask = foreground_mask(frames[i, y0 : y1 + 1, x0 : x1 + 1], bg[y0 : y1 + 1, x0 : x1 + 1]).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return any(stats[k, cv2.CC_STAT_AREA] >= 0.3 * area for k in range(1, count))


def continuity_events(track: ObjectTrack, fps: float, frames: np.ndarray | None, bg: np.ndarray | None) -> list[dict[str, Any]]:
    """Where a real object cannot go: a jump between consecutive flights (frames cut, or a stall then a jump),
    a hover in mid-flight, and a vanishing at full size where the spot then shows the bare backdrop."""
    events: list[dict[str, Any]] = []
    diam = _diameter(track)
    tol = _tolerance(track)
    segs = flights(track, fps)
    c = track.centroid

    def moving(f: Flight) -> bool:
        return len(f.frames) >= 4 and float(np.ptp(c[f.frames], axis=0).max()) >= max(4.0, 2 * tol)

    free = free_flights(track, fps)[0]
    g = np.average([f.accel for f in free], axis=0, weights=[len(f.frames) for f in free]) if free else None

    def free_like(f: Flight) -> bool:  # moves as the clip's free flights do (gravity alone)
        return g is not None and moving(f) and float(np.linalg.norm(f.accel - g)) <= 0.5 * float(np.linalg.norm(g))

    for k, (a, b) in enumerate(zip(segs, segs[1:])):
        if moving(a) and moving(b):  # two solid flights side by side must join up somewhere between them
            t = np.linspace(a.end / fps, b.start / fps, 9)
            gap = float(np.min(np.linalg.norm(a.at(t) - b.at(t), axis=1)))
            # Continuous motion (a bounce, a frame missed) meets whatever the speed; only a residual-sized miss is noise.
            # A short stretch's acceleration (a hand's throw, a kick) is known only roughly: carried across an
            # unseen gap it strays by about ¼|a|Δt² (the longer the gap and the harder the push, the more).
            dt = (b.start - a.end) / fps
            stray = 0.25 * (float(np.linalg.norm(a.accel)) + float(np.linalg.norm(b.accel))) * dt**2 if b.start - a.end > 1 else 0.0
            limit = max(3 * tol, 0.5 * diam) + a.residual_px + b.residual_px + stray
            if gap > limit:
                events.append({"kind": "jumped", "frame": b.start, "px": gap})
            elif b.start - a.end <= 1 and free_like(a) and free_like(b):
                # Two pieces of free flight back to back whose velocities differ: something struck the object. A
                # floor, a hand or a foot strikes from below or the side; a turn downward in mid-air (the top of
                # a flight cut out) has nothing to push it.
                tj = (a.end + b.start) / 2 / fps
                dv = (np.array([np.polyval(np.polyder(b.fx), tj), np.polyval(np.polyder(b.fy), tj)])
                      - np.array([np.polyval(np.polyder(a.fx), tj), np.polyval(np.polyder(a.fy), tj)])) / fps
                size = float(np.linalg.norm(dv))
                if size > max(2 * tol, 0.25 * diam) and dv[1] > 0.7 * size:
                    events.append({"kind": "struck from above", "frame": b.start, "px_per_frame": size})
    # A stall: the object stops dead for 3+ frames and then jumps on, while the whole picture stands still
    # (repeated frames); a catch stops the object, not the camera's noise.
    if frames is not None:
        idx = np.flatnonzero(track.present)
        step = np.r_[np.inf, np.linalg.norm(np.diff(c[idx], axis=0), axis=1)]
        k = 1
        while k < len(idx):
            j = k
            while j < len(idx) and step[j] <= 0.5 and idx[j] == idx[j - 1] + 1:
                j += 1
            if j - k >= 2:  # frames idx[k-1] .. idx[j-1]: 3 or more in one place
                after = step[j] if j < len(idx) else 0.0  # ... and jumps on: a ball coming to rest stays
                s0, e0 = int(idx[k - 1]), int(idx[j - 1])
                if after > tol and _picture_stalls(frames, s0, e0) and _law_moves(track, fps, s0, e0, tol, diam):
                    events.append({"kind": "froze", "frame": int(idx[k - 1]), "frames": int(j - k + 1)})
            k = j + 1
    if frames is not None:
        events += _stalls_in_flight(track, fps, frames, tol, [e["frame"] for e in events if e["kind"] == "froze"])
    if frames is not None and bg is not None:
        area = float(np.median(track.area[track.present])) if track.present.any() else 0.0
        runs = _runs(track.present)
        for (s0, e0), (s1, e1) in zip(runs, runs[1:]):
            if s1 - e0 < 2 or track.touches_border(e0 - 1) or track.touches_border(s1):
                continue
            full = track.area[e0 - 1] >= 0.6 * area and track.area[s1] >= 0.6 * area  # not a gradual occlusion
            mid = (e0 + s1) // 2
            w = (mid - e0 + 1) / (s1 - e0 + 1)
            box = track.bbox[e0 - 1] * (1 - w) + track.bbox[s1] * w
            if full and _looks_like_backdrop(frames, bg, box, mid) and not _blob_near(frames, bg, box, area, mid):
                events.append({"kind": "vanished", "frame": e0, "reappeared": s1})
        last = runs[-1][1] if runs else 0
        if runs and last <= track.num_frames - 3 and not track.touches_border(last - 1) and track.area[last - 1] >= 0.6 * area:
            # Gone for good: where it was heading shows the bare backdrop, and nothing its size is near.
            box = track.bbox[last - 1].copy()
            if last - 2 >= 0 and track.present[last - 2]:
                box += np.tile(track.centroid[last - 1] - track.centroid[last - 2], 2)
            later = [i for i in (last, last + 1) if i < track.num_frames]
            if all(_looks_like_backdrop(frames, bg, box, i) and not _blob_near(frames, bg, box, area, i) for i in later):
                events.append({"kind": "vanished", "frame": last, "reappeared": None})
    return events


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
    "projectile": check_projectile,
    "gravity_direction": check_gravity,
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
    "thrown": "projectile",
    "throw": "projectile",
    "juggling": "projectile",
    "upright": "gravity_direction",
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
    names = [n for n in [expectations.get("object"), *expectations.get("objects", [])] if n]
    names = list(dict.fromkeys(names))
    colour = expectations.get("color") or expectations.get("colour")
    label = str(names[0]) if names else "moving object"
    # A camera that zooms, rolls or follows the object puts its own motion into every pixel: no law can be read off.
    unsteady = camera_unsteady(video)
    if unsteady:
        checks = {law: _not_judged(law, f"cannot judge physics in this view: {unsteady}") for law in laws}
        checks["flicker"] = _not_judged("flicker", "the camera moves")
        checks["smoothness"] = _not_judged("smoothness", "the camera moves")
        head = checks[laws[0]]
        return PhysicsResult(law=laws[0], object=label, score=head.score, status=head.status, checks=checks)
    # The object must move: found by motion against the (steadied) backdrop, ranked by the named colour.
    moving = track_moving_object(video, label=str(names[0]) if names else "moving object",
                                 colour=colour if isinstance(colour, str) else None)
    view = steadied(video)
    bg = background(view)
    compactness: float | None = None
    incoherent = moving.track is not None and incoherent_track(moving.track, rate)
    if incoherent:
        moving.reason = incoherent
    if moving.track is not None and not incoherent:
        main = moving.track
        compactness = moving.compactness
    elif names and set(laws) <= STATIC_LAWS:  # a stack that stands still is still a stack to judge
        main = track_objects(video, names=names)[0]
    else:
        label = str(names[0]) if names else "moving object"
        why = f"'{label}' was never found moving" if names else "no trackable moving object"
        checks = {law: _not_judged(law, f"{why}: {moving.reason}") for law in laws}
        checks["flicker"] = temporal_flicker(video, background(video))
        checks["smoothness"] = _not_judged("smoothness", "no moving object")
        head = checks[laws[0]]
        return PhysicsResult(law=laws[0], object=label, score=head.score, status=head.status, checks=checks)
    others: list[ObjectTrack] = []
    if "collision" in laws:  # the other body: by colour, as named (or every hue seen)
        others = track_objects(video, names=names)[1:] if names else []
        if not others:
            others = [t for t in track_objects(video) if t.label != main.label]
    checks: dict[str, LawCheck] = {}
    for law in laws:
        if not main.present.any():
            checks[law] = _not_judged(law, f"'{main.label}' was never found in the frames")
        else:
            checks[law] = LAWS[law](main, rate, others=others, frames=view, bg=bg, compactness=compactness)
    checks["flicker"] = temporal_flicker(video, background(video))
    checks["smoothness"] = motion_smoothness([main])
    head = checks[laws[0]]
    return PhysicsResult(law=laws[0], object=main.label, score=head.score, status=head.status, checks=checks)


