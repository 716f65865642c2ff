"""The ground-truth sidecar: what really happened in a clip, in 3D and in pixels.

The eval toolkit calibrates its pixel trackers and physics metrics against this, so pixel centres come
from the same camera the renderer used (`camera.project`). JSON-able: lists and floats only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sora_lite.engines.world.camera import CameraPose, project
from sora_lite.engines.world.framing import head_points
from sora_lite.engines.world.simulate import ContactEvent, Segment

VERSION = 1


@dataclass
class Track:
    """Per-frame arrays over the whole clip, one column per named object (absent → NaN / False)."""

    names: list[str]
    pos: np.ndarray  # T×N×3
    quat: np.ndarray  # T×N×4
    vel: np.ndarray  # T×N×3
    pixel: np.ndarray  # T×N×2
    radius_px: np.ndarray  # T×N
    depth: np.ndarray  # T×N
    present: np.ndarray  # T×N bool (exists and not vanished)
    visible: np.ndarray  # T×N bool (present, and its centre, or a figure's head, in front of the camera and in frame)
    slip: np.ndarray  # T×N
    roll: np.ndarray  # T×N


def build_track(segments: list[Segment], poses: list[CameraPose], width: int, height: int) -> Track:
    names: list[str] = []
    for seg in segments:
        for b in seg.scene.bodies:
            if b.name not in names:
                names.append(b.name)
    t = sum(s.n_frames for s in segments)
    n = len(names)
    tr = Track(
        names=names,
        pos=np.full((t, n, 3), np.nan), quat=np.full((t, n, 4), np.nan), vel=np.full((t, n, 3), np.nan),
        pixel=np.full((t, n, 2), np.nan), radius_px=np.full((t, n), np.nan), depth=np.full((t, n), np.nan),
        present=np.zeros((t, n), bool), visible=np.zeros((t, n), bool),
        slip=np.zeros((t, n)), roll=np.zeros((t, n)),
    )
    for seg in segments:
        cols = [names.index(b.name) for b in seg.scene.bodies]
        radii = np.array([b.radius for b in seg.scene.bodies])
        heads = head_points(seg.scene.bodies, seg.pos, seg.quat)  # NaN for a body with no head
        has_head = np.isfinite(heads).all(axis=-1)
        for i in range(seg.n_frames):
            f = seg.start_frame + i
            tr.pos[f, cols] = seg.pos[i]
            tr.quat[f, cols] = seg.quat[i]
            tr.vel[f, cols] = seg.vel[i]
            px, rpx, depth = project(poses[f], seg.pos[i], radii, width, height)
            tr.pixel[f, cols] = px
            tr.radius_px[f, cols] = rpx
            tr.depth[f, cols] = depth
            present = ~seg.hidden[i]
            tr.present[f, cols] = present
            inside = (depth > 0) & (px[:, 0] >= 0) & (px[:, 0] < width) & (px[:, 1] >= 0) & (px[:, 1] < height)
            if has_head[i].any():  # a figure whose head is in the frame is seen, its centre (the hips) out of a close-up
                hp, _, hd = project(poses[f], np.nan_to_num(heads[i]), radii, width, height)
                inside |= has_head[i] & (hd > 0) & (hp[:, 0] >= 0) & (hp[:, 0] < width) \
                    & (hp[:, 1] >= 0) & (hp[:, 1] < height)
            tr.visible[f, cols] = present & inside
            tr.slip[f, cols] = seg.slip[i]
            tr.roll[f, cols] = seg.roll[i]
    return tr


def _rounded(values: np.ndarray, nd: int) -> list:
    """`values` as nested lists rounded like Python's `round(v, nd)` (NaN/inf → None), without a Python
    call per number. numpy's round (scale, rint, divide) agrees with Python's correctly rounded one except
    next to a decimal tie (where the scaling's rounding error can flip the result) and for huge values: those
    few go through `round`."""
    out = np.round(values, nd)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        scaled = np.abs(values * 10.0 ** nd)
        exact = finite & (np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6 + 1e-15 * scaled) & (scaled < 2.0 ** 50)
    if not exact.all():
        out = out.astype(object)
        for i in zip(*np.nonzero(finite & ~exact)):
            out[i] = round(float(values[i]), nd)
        out[~finite] = None
    return out.tolist()


def ground_truth(track: Track, poses: list[CameraPose], fps: int, speed: float, width: int, height: int,
                 events: list[ContactEvent], shots: list[dict], perturbations: list[dict],
                 audio_shift_ms: float) -> dict:
    """The sidecar dict (see module doc). Coordinates: metres, z up; pixels: x right, y down, origin top-left."""
    pos, quat, vel = _rounded(track.pos, 5), _rounded(track.quat, 5), _rounded(track.vel, 5)
    pixel, radius_px, depth = _rounded(track.pixel, 2), _rounded(track.radius_px, 2), _rounded(track.depth, 4)
    present, visible = track.present.tolist(), track.visible.tolist()
    exists = ~np.isnan(track.pos[..., 0])
    frames = []
    for f in range(track.pos.shape[0]):
        objs = []
        for k in np.flatnonzero(exists[f]).tolist():
            objs.append({
                "name": track.names[k],
                "position": pos[f][k],
                "quaternion": quat[f][k],
                "velocity": vel[f][k],
                "pixel": pixel[f][k],
                "radius_px": radius_px[f][k],
                "depth": depth[f][k],
                "present": present[f][k],
                "visible": visible[f][k],
            })
        pose = poses[f].to_dict()
        frames.append({"frame": f, "time": round(f / fps, 6), "camera": {k: (v if not isinstance(v, float) else round(v, 6)) for k, v in pose.items()}, "objects": objs})
    return {
        "version": VERSION,
        "fps": fps,
        "width": width,
        "height": height,
        "speed": speed,
        "objects": track.names,
        "frames": frames,
        "contacts": [e.to_dict() for e in events],
        "shots": shots,
        "perturbations": perturbations,
        "audio_shift_ms": audio_shift_ms,
        "conventions": {
            "position": "metres, world frame, z up; centre of the object's main geom",
            "quaternion": "w, x, y, z; world frame",
            "pixel": "x right, y down, origin at the top-left corner of the image (pixel (i, j) spans [j, j+1) × [i, i+1)); projected centre",
            "time": "video seconds; simulated time = video time × speed",
            "contact.frame": "first frame at or after the contact time",
        },
    }


def in_frame_shares(truth: dict) -> list[dict]:
    """For each shot and each object its text names (less those it lets exit), the share of the shot's frames
    in which the object is visible (present, centre inside the picture), read from a sidecar."""
    frames = truth["frames"]
    out = []
    for shot in truth.get("shots", []):
        span = frames[shot["start_frame"]:shot["end_frame"]]
        for name in shot.get("named", []):
            if name in shot.get("exits", []):
                continue
            seen = sum(1 for f in span for o in f["objects"] if o["name"] == name and o["visible"])
            out.append({"shot": shot["index"], "object": name, "share": seen / max(1, len(span))})
    return out
