"""The `physics` family of `python -m eval.calibrate --real DIR`: controls cut from real ball footage.

Positives are windows of real clips in which a ball flies (the manifest's `law` free_fall / bouncing /
projectile and its `window_s`; sliding sub-windows of it give more samples). Each window yields, when it
applies, five negatives, each scored by the same `physics` scorer as `eval.run` (headline = the lowest
judged check):

- `flip`: the whole window turned upside down (every frame flipped vertically);
- `reverse`: the window played backwards — only where the original shows bounces (time-reversed
  bounces gain height; a reversed throw is still a lawful throw);
- `cut`: a third of the frames of the longest free flight removed, where it moves fastest (it jumps ahead);
- `paint_out`: the object painted over with the backdrop for that third (it vanishes and returns);
- `freeze`: the first frame of that third repeated over it (the picture stalls, then the object jumps).

The flight, the object's box and the backdrop come from the metric's own tracker on the unaltered window;
a window without a flight of ≥ 11 frames gives no cut / paint-out / freeze control. All clips go through an
MP4 write + read (CRF 18) like a user's file. No-object controls: the talking-head / speech clips (kind
"av") and synthetic stills (3 and 48 frames of one frame) must get no number at all: the table counts
the numbers given (`answered`), which should be 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eval.calibrate_real import RealClip, RealConfig, skip_row

FLIGHT_LAWS = ("free_fall", "bouncing", "bounce", "projectile")
CONTROLS = ("flip", "reverse", "cut", "paint_out", "freeze")
CONTROL_TEXT = {
    "flip": "lawful vs whole-clip vertical flip",
    "reverse": "lawful vs time-reversed bounces",
    "cut": "lawful vs frames cut mid-flight",
    "paint_out": "lawful vs object painted out",
    "freeze": "lawful vs frozen frames",
}
SUB_WINDOW_S = 1.6  # sliding sub-windows: long enough for a drop and a bounce at 25-30 fps
SUB_STEP_S = 0.6
MAX_SUB_WINDOWS = 4  # per clip (time per clip)
MAX_WINDOW_S = 4.0  # a manifest window longer than this is used through its sub-windows alone
NO_OBJECT_CATEGORIES = ("talking head", "speech")  # the av clips a ball law can never apply to
ENCODE_CRF = 18


@dataclass
class Window:
    clip: str
    start: int  # frame index in the decoded clip
    end: int
    expectations: dict[str, Any]
    held_out: bool = False
    frames: np.ndarray | None = field(default=None, repr=False)
    fps: float = 25.0


def _expectations(clip: RealClip) -> dict[str, Any]:
    law = {"bounce": "bouncing"}.get(str(clip.law), str(clip.law or "projectile"))
    out: dict[str, Any] = {"law": law}
    if clip.meta.get("object"):
        out["object"] = str(clip.meta["object"])
    colour = clip.meta.get("colour") or clip.meta.get("color")
    if isinstance(colour, str) and colour not in ("n/a", ""):
        out["color"] = colour
    return out


def ball_windows(clip: RealClip, config: RealConfig) -> list[Window]:
    """The manifest's window and up to MAX_SUB_WINDOWS sliding sub-windows of it."""
    video = clip.load()
    fps = float(video.fps)
    total = video.num_frames
    lo, hi = clip.window_s if clip.window_s else (0.0, total / fps)
    hi = min(hi, lo + config.max_seconds)
    a, b = max(0, int(round(lo * fps))), min(total, int(round(hi * fps)) + 1)
    size, step = int(round(SUB_WINDOW_S * fps)), max(1, int(round(SUB_STEP_S * fps)))
    spans = [(a, b)] if b - a <= MAX_WINDOW_S * fps else []  # a long take is judged in its sub-windows only
    if b - a > size + step:
        starts = list(range(a, b - size + 1, step))
        pick = np.linspace(0, len(starts) - 1, min(MAX_SUB_WINDOWS, len(starts))).round().astype(int)
        spans += [(starts[k], starts[k] + size) for k in dict.fromkeys(pick.tolist())]
    return [Window(clip.name, s, e, _expectations(clip), clip.held_out, video.frames[s:e], fps) for s, e in spans]


def _through_file(frames: np.ndarray, fps: float, path: Path) -> Any:
    from sora_lite.media import Clip, read_video, write_video

    write_video(Clip(frames=np.ascontiguousarray(frames), fps=fps), path, crf=ENCODE_CRF)
    return read_video(path)


def _flight_plan(frames: np.ndarray, fps: float, expectations: dict[str, Any]) -> dict[str, Any] | None:
    """The longest free flight (≥ 9 frames) the metric's tracker sees in the unaltered window, with boxes."""
    from eval.metrics.physics import free_flights
    from eval.metrics.tracking import camera_shifts, track_moving_object

    moving = track_moving_object(frames, str(expectations.get("object", "moving object")), expectations.get("color"))
    if moving.track is None:
        return None
    group, _ = free_flights(moving.track, fps)
    group = [f for f in group if len(f.frames) >= 11]
    if not group:
        return None
    flight = max(group, key=lambda f: len(f.frames))
    idx = flight.frames
    third = max(3, min(len(idx) // 3, len(idx) - 8))
    # Where the object moves fastest (a stretch cut out at the apex, where it hardly moves, shows nothing),
    # leaving at least 4 tracked frames of the flight on each side.
    pos = moving.track.centroid[idx]
    step = np.r_[0.0, np.linalg.norm(np.diff(pos, axis=0), axis=1)]
    starts = range(4, len(idx) - third - 4 + 1)
    best = max(starts, key=lambda k: float(step[k : k + third].sum()))
    mid = idx[best : best + third]
    shifts = camera_shifts(frames)
    boxes = {int(i): moving.track.bbox[i] + np.tile(shifts[i], 2) for i in idx}  # back into the frame's own view
    return {"middle": [int(i) for i in mid], "boxes": boxes}


def _backdrop(frames: np.ndarray) -> np.ndarray:
    step = max(1, len(frames) // 32)
    return np.median(frames[::step], axis=0).astype(np.uint8)


def make_control(kind: str, frames: np.ndarray, plan: dict[str, Any] | None) -> np.ndarray | None:
    """The negative of one kind built from a lawful window, or None where it does not apply."""
    if kind == "flip":
        return np.ascontiguousarray(frames[:, ::-1])
    if kind == "reverse":
        return np.ascontiguousarray(frames[::-1])
    if plan is None:
        return None
    mid = plan["middle"]
    if kind == "cut":
        keep = np.setdiff1d(np.arange(len(frames)), np.arange(mid[0], mid[-1] + 1))
        return np.ascontiguousarray(frames[keep])
    if kind == "freeze":
        out = frames.copy()
        out[mid[0] : mid[-1] + 1] = frames[mid[0]]
        return out
    if kind == "paint_out":
        out = frames.copy()
        bg = _backdrop(frames)
        h, w = frames.shape[1:3]
        for i in mid:
            x0, y0, x1, y1 = plan["boxes"][i]
            pad = 0.4 * max(x1 - x0, y1 - y0) + 3
            xa, ya = int(max(0, x0 - pad)), int(max(0, y0 - pad))
            xb, yb = int(min(w, x1 + pad + 1)), int(min(h, y1 + pad + 1))
            out[i, ya:yb, xa:xb] = bg[ya:yb, xa:xb]
        return out
    raise ValueError(f"unknown control {kind}")


def _score(scorer: Any, clip: Any, key: str, expectations: dict[str, Any]) -> tuple[float | None, str, str]:
    from eval.generators import Sample
    from eval.scoring import run_scorer

    sample = Sample(key=key, suite="calibration-real-physics", prompt_id=key, prompt=None, seed=None,
                    expectations=dict(expectations))
    got = run_scorer(scorer, clip, sample)
    return got.value, got.status, got.error


def _stills(clips: list[RealClip]) -> list[tuple[str, np.ndarray, float]]:
    """Synthetic stills: one real frame held (3 frames, like a keyboard photo, and 2 s), plus a flat noise still."""
    base = None
    for c in clips:
        try:
            base = c.load().frames[0]
            break
        except Exception:  # an unreadable clip is another family's row, not a lost still
            continue
    rng = np.random.default_rng(0)
    if base is None:
        base = rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)
    noisy = np.clip(np.repeat(base[None], 48, axis=0).astype(np.int16) + rng.integers(-2, 3, size=(48, *base.shape)), 0, 255)
    return [("still-3-frames", np.repeat(base[None], 3, axis=0), 25.0),
            ("still-2s", np.repeat(base[None], 48, axis=0), 24.0),
            ("still-2s-sensor-noise", noisy.astype(np.uint8), 24.0)]


def physics_family(clips: list[RealClip], config: RealConfig, workdir: Path) -> pd.DataFrame:
    from tqdm.auto import tqdm

    from eval.calibrate import auroc
    from eval.scoring import PhysicsScorer, ScorerOptions

    scorer = PhysicsScorer(ScorerOptions())
    scorer.setup()
    ball = [c for c in clips if c.kind in ("physics", "unknown") and (c.law in FLIGHT_LAWS or (c.kind == "unknown"))]
    no_object = [c for c in clips if c.kind == "av" and any(k in c.category.lower() for k in NO_OBJECT_CATEGORIES)]
    rows: list[dict[str, Any]] = []
    windows = [w for c in ball for w in ball_windows(c, config)]
    work = tqdm(windows, desc="calibrate physics (real)", disable=not config.progress, unit="window")
    for n, win in enumerate(work):
        assert win.frames is not None
        key = f"{win.clip}[{win.start}:{win.end}]"
        lawful = _through_file(win.frames, win.fps, workdir / f"w{n}.mp4")
        value, status, error = _score(scorer, lawful, key, win.expectations)
        base = {"clip": win.clip, "window": key, "held_out": win.held_out, "law": win.expectations["law"]}
        rows.append({**base, "kind": "lawful", "label": 1, "score": value, "status": status, "error": error})
        plan = _flight_plan(lawful.frames, win.fps, win.expectations)
        bounces = scorer_bounces(lawful, win)
        for kind in CONTROLS:
            if kind == "reverse" and not bounces:
                continue
            frames = make_control(kind, lawful.frames, plan)
            if frames is None or len(frames) < 3:
                continue
            control = _through_file(frames, win.fps, workdir / f"w{n}-{kind}.mp4")
            value, status, error = _score(scorer, control, f"{key}:{kind}", win.expectations)
            rows.append({**base, "kind": kind, "label": 0, "score": value, "status": status, "error": error})
    absent: list[dict[str, Any]] = []
    for c in no_object:
        video = c.load()
        frames = video.frames[: int(min(config.max_seconds, 8.0) * float(video.fps))]
        for law in ("bouncing", "projectile"):
            value, status, error = _score(scorer, type(video)(frames=frames, fps=video.fps), c.name,
                                          {"law": law, "object": "ball"})
            absent.append({"clip": c.name, "law": law, "score": value, "status": status, "error": error,
                           "held_out": c.held_out})
    for name, frames, fps in _stills(clips):
        from sora_lite.media import Clip

        value, status, error = _score(scorer, Clip(frames=frames, fps=fps), name, {"law": "bouncing", "object": "ball"})
        absent.append({"clip": name, "law": "bouncing", "score": value, "status": status, "error": error,
                       "held_out": False})

    scores = pd.DataFrame(rows)
    nothing = pd.DataFrame(absent)
    config.out.mkdir(parents=True, exist_ok=True)
    scores.to_csv(config.out / "physics_real_scores.csv", index=False)
    nothing.to_csv(config.out / "physics_real_no_object.csv", index=False)
    table: list[dict[str, Any]] = []
    subsets = [("all", scores)]
    if not scores.empty and scores["held_out"].any():
        subsets.append(("held out", scores[scores["held_out"]]))
    for subset, part in subsets:
        if part.empty:
            table.append(skip_row("physics", "lawful vs perturbed", "no real clip with a flying ball (law free_fall, "
                                  "bouncing or projectile) in the folder", subset))
            continue
        pos = part[part["label"] == 1]
        for kind in ["all", *CONTROLS]:
            neg = part[part["label"] == 0] if kind == "all" else part[part["kind"] == kind]
            both = pd.concat([pos, neg])
            vals = pd.to_numeric(both["score"], errors="coerce")
            ok = vals.notna()
            table.append({
                "metric": "physics" if kind == "all" else f"physics.{kind}",
                "controls": "lawful vs perturbed" if kind == "all" else CONTROL_TEXT[kind],
                "negative": kind, "subset": subset,
                "n_positive": int(((both["label"] == 1) & ok).sum()), "n_negative": int(((both["label"] == 0) & ok).sum()),
                "n_unscored": int((~ok).sum()),
                "auroc": auroc(vals[ok].tolist(), both.loc[ok, "label"].astype(int).tolist()) if len(neg) else math.nan,
                "status": "ok" if len(neg) else "skipped",
                "reason": "" if len(neg) else f"no window where the {kind} control applies",
            })
    if not nothing.empty:
        answered = int(pd.to_numeric(nothing["score"], errors="coerce").notna().sum())
        table.append({"metric": "physics.no_object", "controls": "talking heads and stills must be skipped",
                      "negative": "no object", "subset": "all", "n_positive": 0, "n_negative": len(nothing),
                      "n_unscored": len(nothing) - answered, "auroc": math.nan, "status": "ok",
                      "reason": f"{answered} number(s) given on {len(nothing)} clip×law runs without a trackable moving object",
                      "answered": answered})
    frame = pd.DataFrame(table)
    frame.attrs["markdown"] = _markdown(scores, nothing)
    return frame


def scorer_bounces(clip: Any, win: Window) -> bool:
    """Whether the unaltered window shows bounces (≥ 2 rises): only then is time reversal a violation."""
    from eval.metrics.physics import score_sample

    got = score_sample(clip.frames, win.fps, {**win.expectations, "law": "bouncing"})
    return not math.isnan(got.checks["bounce"].score)


def _markdown(scores: pd.DataFrame, nothing: pd.DataFrame) -> str:
    lines = ["## Physics on real footage: scores per window and control", ""]
    if not scores.empty:
        pivot = scores.assign(score=pd.to_numeric(scores["score"], errors="coerce")).pivot_table(
            index="window", columns="kind", values="score", aggfunc="first")
        cols = [c for c in ["lawful", *CONTROLS] if c in pivot.columns]
        from eval.report import markdown_table

        lines += [markdown_table(pivot[cols].round(2).reset_index()), ""]
    if not nothing.empty:
        shown = nothing.assign(score=nothing["score"].map(lambda v: "—" if v is None or v != v else f"{v:.2f}"))
        lines += ["No-object controls (every row should be skipped):", "",
                  *[f"- {r.clip} ({r.law}): {r.status}{' = ' + r.score if r.score != '—' else ''}" for r in shown.itertuples()], ""]
    return "\n".join(lines)
