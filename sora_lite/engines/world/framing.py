"""Subject-aware camera planning: each shot's camera path from the simulated motion of what the shot is about.

The simulation runs before rendering, so every body's path over a shot is known when its camera is planned.
The planner picks the shot's subjects (what its text names; else what moves; else what the previous shot
framed), then solves for a smooth camera path that keeps every subject — centre and bounding radius — inside a
safe share of the frame for the whole shot, honouring the shot size (close / medium / wide), lens, height and
move asked for:

- static (or orbit, dolly, zoom): one look-at point, the distance that holds the whole action. A camera that
  was not told to stay still *tracks* (a smoothed look-at path, no per-frame look-at) when holding the action
  from one place would need more than `track_ratio` times the asked distance: a close-up of a rolling marble
  follows it rather than turning into a wide shot. "static camera" keeps it still and widens instead.
- follow: tracks the followed object; the other subjects are kept in by distance.
- pan / tilt: the camera stays put and turns — a gentle sweep sized to the lens, or, when the subjects travel,
  a pan that keeps turning toward them.

Distances come in closed form (a point p with bounding radius r is inside the safe frame when
D ≥ (|p·right| + r) / (safe·tan(fov/2)) − p·forward, p relative to the look-at point), so planning costs a few
milliseconds. Subjects a frame-exit phrase names ("rolls out of frame") are not held. The decision — which
subjects, why, how — goes into the clip's record and ground-truth sidecar.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from sora_lite.engines.world.camera import CameraPose, fovy_from_lens
from sora_lite.engines.world.scene import Body, floor_height, ramp_geometry
from sora_lite.engines.world.spec import CameraSpec, SceneSpec

RULES_PATH = Path(__file__).with_name("framing.json")
HEAD_ABOVE_CENTRE = 1.55  # a character's head centre above its main geom's centre, in units of its size (scene.py)
HEAD_RADIUS = 0.5  # the head's bounding radius, in units of the character's size
CHEST_RADIUS = 0.45  # what of the body below the head a close or medium shot keeps, in units of its size
FLOOR_MARGIN = 3.0  # metres of floor kept around everything a shot films


@lru_cache(maxsize=1)
def rules() -> dict[str, Any]:
    return json.loads(RULES_PATH.read_text(encoding="utf-8"))


@dataclass
class FramingDecision:
    """Why a shot's camera looks where it looks; JSON-able, written to the record and the sidecar."""

    shot: int
    subjects: list[str]
    why: str  # "named in the shot's text" | "what moves" | "kept from the previous shot" | ...
    exits: list[str] = field(default_factory=list)  # named, but the text lets them leave the frame
    mode: str = "static"  # static | tracking | pan | pan-follow
    move: str = "static"
    shot_size: str = "wide"
    distance: list[float] = field(default_factory=list)  # metres, [least, most] over the shot
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- which bodies a shot is about ------------------------------------------------------------------------
def moving_bodies(pos: np.ndarray, hidden: np.ndarray) -> list[int]:
    """Bodies that travel at least `moving_metres` over the shot (path length, visible frames)."""
    if pos.shape[0] < 2:
        return []
    step = np.linalg.norm(np.diff(pos, axis=0), axis=-1)
    step = np.where(hidden[1:] | hidden[:-1], 0.0, step)
    travelled = np.nan_to_num(step).sum(axis=0)
    return [int(k) for k in np.flatnonzero(travelled >= rules()["moving_metres"])]


def choose_subjects(bodies: list[Body], named: list[str], exits: list[str], target: str | None,
                    pos: np.ndarray, hidden: np.ndarray, previous: list[str]) -> tuple[list[int], str]:
    """Indices of the bodies the camera must hold, and why: named → camera target → moving → previous → all."""
    index = {b.name: b.index for b in bodies}
    out = set(exits)
    if target:
        t = target.lower().strip()
        hit = [b.index for b in bodies if b.name.lower() == t] or [b.index for b in bodies if t in b.name.lower()]
        target_idx = hit[:1]
    else:
        target_idx = []
    chosen = [index[n] for n in named if n in index and n not in out]
    if chosen:
        return sorted(set(chosen) | set(target_idx)), "named in the shot's text"
    if target_idx and bodies[target_idx[0]].name not in out:
        return target_idx, "the camera's target"
    moving = [k for k in moving_bodies(pos, hidden) if bodies[k].name not in out]
    if moving:
        return moving, "what moves (the text names nothing to frame)"
    kept = [index[n] for n in previous if n in index and n not in out]
    if kept:
        return kept, "kept from the previous shot"
    rest = [b.index for b in bodies if b.name not in out]
    if rest:
        return rest, "the whole scene"
    return [], "nothing to hold: every named object may leave the frame"


# --- the geometry -----------------------------------------------------------------------------------------
def _forward(az: np.ndarray, el: np.ndarray) -> np.ndarray:
    az, el = np.radians(az), np.radians(el)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)


def _basis(az: np.ndarray, el: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame (right, up, forward), each T×3, as `CameraPose.basis`."""
    f = _forward(az, el)
    right = np.cross(f, np.array([0.0, 0.0, 1.0]))
    right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
    up = np.cross(right, f)
    return right, up, f


def required_distance(lookat: np.ndarray, az: np.ndarray, el: np.ndarray, fovy: np.ndarray, aspect: float,
                      pts: np.ndarray, radii: np.ndarray, mask: np.ndarray, safe: float) -> np.ndarray:
    """Per frame, the least camera distance from `lookat` (T×3) that holds every masked point (T×K×3, radius
    K) inside the safe frame, for the per-frame orientation (az, el, fovy: T). 0 where nothing is held."""
    right, up, f = _basis(az, el)
    rel = pts - lookat[:, None, :]
    x = np.abs(np.einsum("tkc,tc->tk", rel, right)) + radii[None, :]
    y = np.abs(np.einsum("tkc,tc->tk", rel, up)) + radii[None, :]
    z = np.einsum("tkc,tc->tk", rel, f)
    tan_v = np.tan(np.radians(fovy) / 2)[:, None] * safe
    need = np.maximum(np.maximum(x / (tan_v * aspect), y / tan_v), radii[None, :] + 0.1) - z
    need = np.where(mask, need, 0.0)
    return need.max(axis=1) if need.shape[1] else np.zeros(len(lookat))


def _fits(poses_l: np.ndarray, poses_c: np.ndarray, fovy: np.ndarray, aspect: float, pts: np.ndarray,
          radii: np.ndarray, mask: np.ndarray, safe: float) -> np.ndarray:
    """Per (frame, subject): inside the safe frame, for cameras at poses_c looking at poses_l (T×3 each)."""
    d = poses_l - poses_c
    f = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    right = np.cross(f, np.array([0.0, 0.0, 1.0]))
    right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
    up = np.cross(right, f)
    rel = pts - poses_c[:, None, :]
    depth = np.einsum("tkc,tc->tk", rel, f)
    x = np.abs(np.einsum("tkc,tc->tk", rel, right)) + radii[None, :]
    y = np.abs(np.einsum("tkc,tc->tk", rel, up)) + radii[None, :]
    tan_v = np.tan(np.radians(fovy) / 2)[:, None] * safe
    ok = (depth > radii[None, :]) & (x <= tan_v * aspect * depth + 1e-9) & (y <= tan_v * depth + 1e-9)
    return ok | ~mask


def _ease(n: int) -> np.ndarray:
    u = np.arange(n) / max(1, n - 1)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def _group_sphere(pts: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, float]:
    lo = (pts - radii[:, None]).min(axis=0)
    hi = (pts + radii[:, None]).max(axis=0)
    centre = (lo + hi) / 2
    return centre, float(np.max(np.linalg.norm(pts - centre, axis=1) + radii))


def _smooth(path: np.ndarray, fps: int) -> np.ndarray:
    s = rules()["smooth_seconds"]
    out = path.copy()
    out[:, :2] = gaussian_filter1d(path[:, :2], max(0.5, s["horizontal"] * fps), axis=0, mode="nearest")
    out[:, 2] = gaussian_filter1d(path[:, 2], max(0.5, s["vertical"] * fps), axis=0, mode="nearest")
    return out


def _upper_smooth(need: np.ndarray, fps: int) -> np.ndarray:
    """A smooth curve at or above `need` (distances): a running maximum, then a Gaussian."""
    sigma = max(0.5, rules()["smooth_seconds"]["horizontal"] * fps)
    env = maximum_filter1d(need, size=int(6 * sigma) + 1, mode="nearest")
    return np.maximum(gaussian_filter1d(env, sigma, mode="nearest"), need)


# --- the plan ---------------------------------------------------------------------------------------------
def plan_shot(index: int, spec: SceneSpec, cam: CameraSpec, bodies: list[Body], pos: np.ndarray,
              hidden: np.ndarray, aspect: float, fps: int, named: list[str], exits: list[str],
              previous: list[str], explicit_static: bool, room: float = 1.0, quat: np.ndarray | None = None,
              widened: bool = False, levelled: bool = False,
              speakers: Collection[str] = ()) -> tuple[list[CameraPose], FramingDecision]:
    """The camera poses of one shot (one per frame of `pos`, T×N×3; `quat` T×N×4 turns a person's head with
    them) and the decision behind them; `room` < 1 keeps the subjects further inside (image-to-video moves
    the camera after planning); `speakers` (bodies that speak in this shot) are framed waist up when the shot
    is not wide."""
    r = rules()
    n = pos.shape[0]
    safe = float(r["safe"]) * room
    subj, why = choose_subjects(bodies, named, exits, cam.target, pos, hidden, previous)
    decision = FramingDecision(index, [bodies[k].name for k in subj], why, sorted(exits), move=cam.move,
                               shot_size=cam.shot)
    pts, radii, mask = _subject_points(bodies, subj, pos, hidden, cam.shot, quat, speakers)
    framed = [bodies[k].name for k in subj if bodies[k].name in speakers]
    if framed and cam.shot != "wide":
        how = "head and shoulders, the face large" if cam.shot == "close" else "waist up, the face seen"
        decision.notes.append(f"{', '.join(framed)} speaks: framed {how}")
    fovy0 = fovy_from_lens(cam.lens_mm)
    az, el, fovy, dfac = _move_curves(cam, n, fovy0)
    d_shot, d_max = _shot_distance(spec, cam, bodies, radii, aspect, fovy0)

    def again_with(change: dict[str, Any], note: str, **once: bool) -> tuple[list[CameraPose], FramingDecision]:
        """The shot planned again with camera settings changed (a wider lens, a lower angle: each at most once)."""
        poses, again = plan_shot(index, spec, CameraSpec(**{**asdict(cam), **change}), bodies, pos, hidden, aspect,
                                 fps, named, exits, previous, explicit_static, room, quat,
                                 **{"widened": widened, "levelled": levelled, **once}, speakers=speakers)
        again.notes.append(note)
        return poses, again

    if cam.move in ("pan", "tilt"):
        poses, mode, d_used = _plan_pan(cam, pts, radii, mask, az, el, fovy, aspect, safe, d_shot, d_max, fps,
                                        float(r["track_ratio"]), explicit_static)
        decision.mode = mode
    else:
        lookat, d0, need_max = _look_path(cam, [bodies[k].name for k in subj], pts, radii, mask, az, el, fovy,
                                          aspect, safe, d_shot, d_max, dfac, fps, explicit_static, decision)
        if not widened and float(np.max(d0)) >= d_max * 0.999 and cam.lens_mm > 10.0:
            # even the farthest camera cannot hold them at this lens: a wider lens for this shot
            lens = max(10.0, cam.lens_mm * d_max / (need_max * 1.1))
            return again_with({"lens_mm": lens}, f"a {lens:.0f} mm lens instead of {cam.lens_mm:.0f} mm: at "
                              f"{d_max:.0f} m the asked lens could not hold the subjects", widened=True)
        d_used = d0 * dfac
        poses = [CameraPose([float(v) for v in lookat[i]], float(d_used[i]), float(az[i]), float(el[i]),
                            float(fovy[i])) for i in range(n)]
    ground = floor_height(spec)
    low = min(p.position()[2] for p in poses)
    if not levelled and cam.elevation > 0 and low < ground + 0.05:
        # looking up from this far back would put the camera under the floor: as low an angle as fits instead
        sin_el = min((p.lookat[2] - ground - 0.05) / max(p.distance, 1e-6) for p in poses)
        el = max(-10.0, math.degrees(math.asin(max(-1.0, min(1.0, sin_el)))) - 1.0)
        return again_with({"elevation": el}, f"{el:.0f}° instead of {cam.elevation:.0f}° up: from that far back "
                          "the asked low angle would put the camera under the floor", levelled=True)
    _keep_above_ground(poses, ground, TABLE_HALF if spec.environment.table else None)
    decision.distance = [round(float(np.min(d_used)), 3), round(float(np.max(d_used)), 3)]
    return poses, decision


def _subject_points(bodies: list[Body], subj: list[int], pos: np.ndarray, hidden: np.ndarray, shot: str,
                    quat: np.ndarray | None, speakers: Collection[str] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the camera must hold, per frame: points (T×K×3), their radii (K) and where they count (T×K); a
    person in a close or medium shot counts as head and chest, and so does a speaking figure (a person
    recipe in `speakers`: waist up, or head and shoulders in a close-up, `framing.json` "speaker"); with no
    subject, everything where it starts."""
    n = pos.shape[0]
    radii = np.array([bodies[k].radius for k in subj], dtype=float)
    if subj:
        pts = pos[:, subj, :].astype(float)
        hid = hidden[:, subj]
        if shot != "wide":  # a person in a close or medium shot: the head (a cameo's face) down to the chest
            heads = [j for j, k in enumerate(subj) if bodies[k].shape == "character"
                     or (bodies[k].name in speakers and bodies[k].half is not None)]
            extra, head_radii = [], []
            sp = rules()["speaker"]
            for j in heads:
                body = bodies[subj[j]]
                up = np.tile([0.0, 0.0, 1.0], (n, 1))
                if quat is not None:  # the body's own up axis: a person who falls over has the head at the side
                    w, x, y, z = (quat[:, subj[j], c] for c in range(4))
                    up = np.nan_to_num(np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], -1),
                                       nan=0.0)
                if body.shape == "character":
                    extra.append(pts[:, j, :] + HEAD_ABOVE_CENTRE * body.size * up)
                    radii[j] = CHEST_RADIUS * body.size  # the centre stays, as the chest
                    head_radii.append(HEAD_RADIUS * body.size)
                else:  # a figure whose hull is its height: its centre (the hips) up to its head; in a close-up
                    # the centre point moves up to the shoulders: head and shoulders, the face large
                    h = 2.0 * float(body.half[2])  # type: ignore[index]
                    extra.append(pts[:, j, :] + sp["head_above_centre"] * h * up)
                    if shot == "close":
                        pts[:, j, :] = pts[:, j, :] + sp["close_shoulders_above_centre"] * h * up
                        radii[j] = sp["close_shoulders_radius"] * h
                    else:
                        radii[j] = sp["centre_radius"] * h
                    head_radii.append(sp["head_radius"] * h)
            if heads:
                pts = np.concatenate([pts, np.stack(extra, axis=1)], axis=1)
                radii = np.concatenate([radii, head_radii])
                hid = np.concatenate([hid, hidden[:, [subj[j] for j in heads]]], axis=1)
        mask = ~hid & np.isfinite(pts).all(axis=-1)
    else:  # everything named may leave: frame where things start, and let them go
        pts = np.repeat(pos[:1], n, axis=0).astype(float)
        radii = np.array([b.radius for b in bodies], dtype=float)
        mask = np.ones(pts.shape[:2], dtype=bool)
    pts = np.where(mask[..., None], pts, 0.0)
    if not mask.any():  # every subject hidden for the whole shot (a vanish control): frame where they were
        pts = pos[:1, subj if subj else slice(None), :].repeat(n, axis=0).astype(float)
        mask = np.ones(pts.shape[:2], dtype=bool)
        radii = radii if subj else np.array([b.radius for b in bodies], dtype=float)
    return pts, radii, mask


def head_offset(body: Body) -> tuple[float, float] | None:
    """(Height of the head's centre above the body's centre, head radius), metres, in the body's own up axis,
    for a figure with a head (a character, a person recipe); None for anything else. The sidecar counts a
    figure visible when its head is in the frame, even with its centre (the hips) below a close-up's edge."""
    if body.shape == "character":
        return HEAD_ABOVE_CENTRE * body.size, HEAD_RADIUS * body.size
    if body.half is None or not body.recipe:
        return None
    from sora_lite.engines.world import recipes as R

    if R.recipes().get(body.recipe, {}).get("mover") != "person":
        return None
    sp = rules()["speaker"]
    h = 2.0 * float(body.half[2])
    return sp["head_above_centre"] * h, sp["head_radius"] * h


def head_points(bodies: list[Body], pos: np.ndarray, quat: np.ndarray) -> np.ndarray:
    """Per frame and body (T×N×3), where its head is (`head_offset`, along the body's own up axis); NaN for a
    body with no head."""
    out = np.full(pos.shape, np.nan)
    for k, body in enumerate(bodies):
        off = head_offset(body)
        if off is None:
            continue
        w, x, y, z = (quat[:, k, c] for c in range(4))
        up = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], -1)
        out[:, k] = pos[:, k] + off[0] * up
    return out


def _move_curves(cam: CameraSpec, n: int, fovy0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: azimuth, elevation, field of view and distance factor of the asked move (orbit, zoom, dolly)."""
    sign = float(cam.direction or 1)
    e = _ease(n)
    az = np.full(n, float(cam.azimuth))
    el = np.full(n, float(cam.elevation))
    fovy = np.full(n, fovy0)
    dfac = np.ones(n)
    if cam.move == "orbit":
        deg = float(rules()["orbit_degrees"])
        az = az + sign * (2 * deg * e - deg)
    elif cam.move == "zoom":
        k = (1.0 - 0.4 * e) if sign > 0 else (0.6 + 0.4 * e)
        fovy = np.degrees(2 * np.arctan(math.tan(math.radians(fovy0) / 2) * k))
    elif cam.move == "dolly":
        dfac = (1.0 - 0.35 * e) if sign > 0 else (0.65 + 0.35 * e)
    return az, el, fovy, dfac


def _shot_distance(spec: SceneSpec, cam: CameraSpec, bodies: list[Body], radii: np.ndarray, aspect: float,
                   fovy0: float) -> tuple[float, float]:
    """The distance of the asked shot size, and the farthest the camera may go.

    The largest subject spans `fill` of the frame's height (its width, in a tall frame); a wide shot also holds
    everything in the scene where it starts (and the ramp). Holding every subject for the whole shot comes on
    top (`_look_path`)."""
    r = rules()
    tan_min = math.tan(math.radians(fovy0) / 2) * min(1.0, aspect)
    d_shot = float(radii.max()) / (float(r["fill"][cam.shot]) * tan_min)
    if cam.shot == "wide":
        every = [np.asarray(b.pos, dtype=float) for b in bodies]
        rad = [b.radius for b in bodies]
        if spec.environment.ramp_angle is not None:
            top, _, _ = ramp_geometry(spec.environment.ramp_angle)
            every.append(np.array([top[0], 0.0, top[2] + floor_height(spec)]))
            rad.append(0.1)
        _, scene_r = _group_sphere(np.array(every), np.array(rad))
        d_shot = max(d_shot, 1.15 * scene_r / tan_min)
    if cam.distance is not None:
        d_shot = float(cam.distance)
    d_min = max(float(r["min_distance"]), float(radii.max()) + 0.15 if radii.size else 0.0)
    d_shot = min(max(d_shot, d_min), float(r["max_distance"]))
    return d_shot, float(r["max_distance"])


def _look_path(cam: CameraSpec, names: list[str], pts: np.ndarray, radii: np.ndarray, mask: np.ndarray,
               az: np.ndarray, el: np.ndarray, fovy: np.ndarray, aspect: float, safe: float, d_shot: float,
               d_max: float, dfac: np.ndarray, fps: int, explicit_static: bool,
               decision: FramingDecision) -> tuple[np.ndarray, np.ndarray, float]:
    """Where the camera looks and how far back it stands, per frame (before the move's distance factor), and
    the distance it needed: one fixed look-at point when that holds the subjects from not too far, else a
    tracking path; the choice goes to `decision`."""
    r = rules()
    n = pts.shape[0]
    # one look-at point for the whole shot: the middle of everything the subjects do
    lo = np.where(mask[..., None], pts - radii[None, :, None], np.inf).min(axis=(0, 1))
    hi = np.where(mask[..., None], pts + radii[None, :, None], -np.inf).max(axis=(0, 1))
    fixed = np.repeat(((lo + hi) / 2)[None, :], n, axis=0)
    need_fixed = required_distance(fixed, az, el, fovy, aspect, pts, radii, mask, safe) / dfac
    d_fixed = max(d_shot, float(need_fixed.max()))
    track = cam.move == "follow" or (not explicit_static and d_fixed > r["track_ratio"] * d_shot)
    if not track:
        decision.mode = "static" if cam.move in ("static", "follow") else cam.move
        if d_fixed > 1.05 * d_shot:
            decision.notes.append(f"pulled back {d_fixed / d_shot:.1f}x from the asked {cam.shot} shot to keep "
                                  "the subjects in frame for the whole shot")
        return fixed, np.full(n, min(d_fixed, d_max)), d_fixed
    follow_idx = None
    if cam.move == "follow" and cam.target:
        follow_idx = next((i for i, nm in enumerate(names) if nm.lower() == cam.target.lower()), None)
    lookat = _centroid_path(pts, radii, mask, follow_idx)
    lookat = _smooth(lookat, fps)
    need = np.maximum(required_distance(lookat, az, el, fovy, aspect, pts, radii, mask, safe) / dfac, d_shot)
    if need.max() <= r["track_ratio"] * d_shot:  # one distance holds it: the subject keeps its size
        d0 = np.full(n, min(float(need.max()), d_max))
    else:
        d0 = np.minimum(_upper_smooth(need, fps), d_max)
    decision.mode = "tracking"
    if cam.move not in ("follow",):
        decision.notes.append(f"the camera tracks the subjects: they travel further than a {cam.shot} shot "
                              "holds from one place")
    return lookat, d0, float(np.max(need))


def _centroid_path(pts: np.ndarray, radii: np.ndarray, mask: np.ndarray, follow: int | None) -> np.ndarray:
    """Per frame, the middle of the subjects' bounding box (or the followed one), holding through gaps."""
    n = pts.shape[0]
    out = np.zeros((n, 3))
    last = None
    for t in range(n):
        m = mask[t] if follow is None else (mask[t] & (np.arange(mask.shape[1]) == follow))
        if not m.any():
            m = mask[t]
        if m.any():
            p, rr = pts[t][m], radii[m]
            last = ((p - rr[:, None]).min(axis=0) + (p + rr[:, None]).max(axis=0)) / 2
        out[t] = last if last is not None else 0.0
    first = next((t for t in range(n) if mask[t].any()), 0)
    out[:first] = out[first]
    return out


def _plan_pan(cam: CameraSpec, pts: np.ndarray, radii: np.ndarray, mask: np.ndarray, az: np.ndarray,
              el: np.ndarray, fovy: np.ndarray, aspect: float, safe: float, d_shot: float, d_max: float, fps: int,
              track_ratio: float, explicit_static: bool) -> tuple[list[CameraPose], str, np.ndarray]:
    """The camera stays put and turns. A sweep sized to the lens (the subjects stay in at both ends), or,
    when the subjects travel further than the sweep holds, a pan that keeps turning toward them."""
    r = rules()
    n = pts.shape[0]
    sign = float(cam.direction or 1)
    e = _ease(n)
    half_h = math.degrees(math.atan(math.tan(math.radians(float(fovy[0])) / 2) * aspect))
    half_v = math.degrees(math.atan(math.tan(math.radians(float(fovy[0])) / 2)))
    lo = np.where(mask[..., None], pts - radii[None, :, None], np.inf).min(axis=(0, 1))
    hi = np.where(mask[..., None], pts + radii[None, :, None], -np.inf).max(axis=(0, 1))
    middle = (lo + hi) / 2
    f0 = _forward(np.array([az[0]]), np.array([el[0]]))[0]
    if cam.move == "pan":
        amp = min(float(r["pan_degrees"]), 0.6 * half_h * safe)
        az_t, el_t = az - sign * (-amp + 2 * amp * e), el.copy()  # azimuth grows to the left
    else:
        amp = min(float(r["tilt_degrees"]), 0.6 * half_v * safe)
        az_t, el_t = az.copy(), el + sign * (-amp + 2 * amp * e)
    f_t = _forward(az_t, el_t)

    def sweep(dc: float) -> tuple[np.ndarray, np.ndarray]:
        c = middle - dc * f0
        return np.repeat(c[None, :], n, axis=0), c[None, :] + dc * f_t

    def aim(dc: float) -> tuple[np.ndarray, np.ndarray]:
        path = _smooth(_centroid_path(pts, radii, mask, None), fps)
        c = path.mean(axis=0) - dc * f0
        return np.repeat(c[None, :], n, axis=0), path

    def least(make) -> float:  # noqa: ANN001 - one of the two makers above
        lo_d, hi_d = d_shot, d_max
        c, l = make(hi_d)
        if not _fits(l, c, fovy, aspect, pts, radii, mask, safe).all():
            return hi_d
        c, l = make(lo_d)
        if _fits(l, c, fovy, aspect, pts, radii, mask, safe).all():
            return lo_d
        for _ in range(24):
            mid = (lo_d + hi_d) / 2
            c, l = make(mid)
            if _fits(l, c, fovy, aspect, pts, radii, mask, safe).all():
                hi_d = mid
            else:
                lo_d = mid
        return hi_d

    d_sweep = least(sweep)
    mode = "pan" if cam.move == "pan" else "tilt"
    make = sweep
    if d_sweep > track_ratio * d_shot and not explicit_static:
        d_aim = least(aim)
        if d_aim < d_sweep:
            make, mode = aim, f"{mode}-follow"
    dc = d_sweep if make is sweep else least(aim)
    c, l = make(dc)
    d = np.linalg.norm(l - c, axis=-1)
    f = (l - c) / np.maximum(d[:, None], 1e-9)
    az_p = np.degrees(np.arctan2(f[:, 1], f[:, 0]))
    el_p = np.degrees(np.arcsin(np.clip(f[:, 2], -1, 1)))
    poses = [CameraPose([float(v) for v in l[i]], float(d[i]), float(az_p[i]), float(el_p[i]), float(fovy[i]))
             for i in range(n)]
    return poses, mode, d


TABLE_HALF = (1.25, 0.75)  # metres: the table top's half-size (scene.py's table, 2.4 × 1.4 m) and a little margin


def _keep_above_ground(poses: list[CameraPose], ground: float, table: tuple[float, float] | None = None) -> None:
    """A low angle pulled far back would put the camera under the floor: lift the look-at point instead.

    With a table, its top is the ground only where the camera is over it: beyond its edge the floor is 0 (a marble
    that rolled off the table was lost when the look-at was held 0.4 m above it, held-out framing prompt vb-26)."""
    for p in poses:
        pos = p.position()
        under = ground if table is None or (abs(pos[0]) <= table[0] and abs(pos[1]) <= table[1]) else 0.0
        if pos[2] < under + 0.05:
            p.lookat[2] += under + 0.05 - pos[2]


def poses_to_arrays(poses: list[CameraPose]) -> dict[str, np.ndarray]:
    return {"position": np.array([p.position() for p in poses]), "lookat": np.array([p.lookat for p in poses])}


def entry_names(spec: SceneSpec, entries: list[int]) -> list[str]:
    """Body names of the given object entries (an entry of count 3 is three bodies)."""
    names, out, k = spec.object_names(), [], 0
    for i, o in enumerate(spec.objects):
        if i in entries:
            out += names[k:k + o.count]
        k += o.count
    return out


def says_static(text: str) -> bool:
    """True when the text asks for a camera that stays still ("static camera", "locked off", "tripod")."""
    if not isinstance(text, str) or not text.strip():
        return False
    words = " " + " ".join(re.findall(r"[a-z0-9']+", text.lower())) + " "
    return any(f" {w} " in words for w in rules()["static_words"])


@lru_cache(maxsize=1)
def _shot_words() -> tuple[str, ...]:
    """The camera phrases that ask for a shot size ("close up", "wide shot", "medium" ...), from the parser's
    vocabulary."""
    vocab = json.loads(RULES_PATH.with_name("vocabulary.json").read_text(encoding="utf-8"))
    return tuple(sorted(k for k, v in vocab.get("camera", {}).items() if isinstance(v, dict) and "shot" in v))


def says_shot_size(text: str) -> bool:
    """True when the text asks for a shot size (close / medium / wide and their synonyms)."""
    if not isinstance(text, str) or not text.strip():
        return False
    words = " " + " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))) + " "
    return any(f" {w} " in words for w in _shot_words())


def speaker_camera(cam: CameraSpec, text: str) -> CameraSpec:
    """The camera of a shot in which someone speaks: a medium shot (the speaker waist up, the face seen) unless
    the text asks for a shot size or a distance."""
    if says_shot_size(text) or cam.distance is not None or cam.shot == rules()["speaker"]["shot"]:
        return cam
    return CameraSpec(**{**asdict(cam), "shot": rules()["speaker"]["shot"]})


def floor_reach(pos: np.ndarray, poses: list[CameraPose]) -> float:
    """Half-size of a floor that reaches under everything a shot films (its bodies and where the camera looks,
    with room around), in whole metres, at least the usual floor: the renderer draws only as much floor as a
    shot needs (a floor to the horizon costs render time)."""
    from sora_lite.engines.world.scene import FLOOR_HALF, FLOOR_HALF_MAX

    looks = np.array([p.lookat for p in poses])
    bodies = float(np.nanmax(np.abs(pos[..., :2]))) if np.isfinite(pos).any() else 0.0
    need = max(bodies, float(np.abs(looks[:, :2]).max())) + FLOOR_MARGIN  # the ground around what is filmed
    return float(min(FLOOR_HALF_MAX, max(FLOOR_HALF, math.ceil(need))))
