"""The ground-truth sidecar: what really happened in a clip, in 3D and in pixels.

The eval toolkit calibrates its pixel trackers and physics metrics against this, so pixel centres come
from the same camera the renderer used (`camera.project`). JSON-able: lists and floats only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sora_lite.engines.world.camera import CameraPose, project
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
    visible: np.ndarray  # T×N bool (present and its centre in front of the camera and inside the frame)
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
            tr.visible[f, cols] = present & inside
            tr.slip[f, cols] = seg.slip[i]
            tr.roll[f, cols] = seg.roll[i]
    return tr


def _r(v: float, nd: int = 5) -> float | None:
    return None if not np.isfinite(v) else round(float(v), nd)


def ground_truth(track: Track, poses: list[CameraPose], fps: int, speed: float, width: int, height: int,
                 events: list[ContactEvent], shots: list[dict], perturbations: list[dict],
                 audio_shift_ms: float) -> dict:
    """The sidecar dict (see module doc). Coordinates: metres, z up; pixels: x right, y down, origin top-left."""
    frames = []
    for f in range(track.pos.shape[0]):
        objs = []
        for k, name in enumerate(track.names):
            if np.isnan(track.pos[f, k, 0]):
                continue
            objs.append({
                "name": name,
                "position": [_r(v) for v in track.pos[f, k]],
                "quaternion": [_r(v) for v in track.quat[f, k]],
                "velocity": [_r(v) for v in track.vel[f, k]],
                "pixel": [_r(v, 2) for v in track.pixel[f, k]],
                "radius_px": _r(track.radius_px[f, k], 2),
                "depth": _r(track.depth[f, k], 4),
                "present": bool(track.present[f, k]),
                "visible": bool(track.visible[f, k]),
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
