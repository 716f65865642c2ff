"""Image-to-video without weights: the still is the first frame, its horizon sets the camera's angle, and the
prompt's objects stand on the ground the picture shows.

How (chosen for being weight-free and predictable):
- Horizon: the row where the picture's mean colour changes most between a band above and a band below (sky
  against ground, wall against floor), searched between 15 % and 85 % of the height; a weak edge falls back to
  40 %. `options["horizon"]` (0..1 from the top) overrides it. The horizon row fixes the camera's pitch: a
  ground plane seen by a camera pitched down by θ has its horizon tan θ / tan(fov/2) half-heights above the
  centre, so the simulated floor (z = 0, hidden) lines up with the picture's ground.
- The picture hangs on a plane behind the action, sized so that it fills the first frame exactly at the
  planned camera (padded by mirroring, so the gentle push-in never sees its edge). The first frame is the still
  alone; the objects enter from the second frame, standing, rolling and bouncing on the picture's ground.
- Where it fails: the picture stays one flat layer (no parallax inside it), objects cast no shadow on it (its
  ground is not a surface the renderer lights), and a photo without a visible horizon (top-down, close-ups of
  walls) gets a guessed one — set options.horizon then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sora_lite.engines.base import RequestError
from sora_lite.engines.world.camera import CameraPose

DEFAULT_HORIZON = 0.4
MIN_EDGE = 12.0  # mean colour difference (0..255 scale) below which the edge is too weak to trust
PUSH_IN = 0.06  # share of the distance the camera moves in over a clip
DRIFT_DEGREES = 2.0  # sideways turn around the subjects over a clip, toward where they go
STILL_ROOM = 0.85  # the first view keeps the subjects this much further inside the frame, for the push-in


@dataclass
class StillGround:
    horizon: float  # row of the horizon, 0 (top) .. 1 (bottom)
    source: str  # how it was found

    def elevation(self, fovy: float) -> float:
        """Camera pitch (degrees, negative = down) that puts the ground plane's horizon at `horizon`."""
        t = (0.5 - self.horizon) * 2 * math.tan(math.radians(fovy) / 2)
        return float(min(-3.0, max(-45.0, -math.degrees(math.atan(t)))))


def still_ground(img: np.ndarray, horizon: object = None) -> StillGround:
    """The picture's horizon: the user's (options.horizon), else the strongest sky/ground colour edge."""
    if horizon is not None:
        if isinstance(horizon, bool) or not isinstance(horizon, (int, float)) or not 0.0 <= float(horizon) <= 1.0:
            raise RequestError(f"options.horizon must be a number from 0 (top) to 1 (bottom), got {horizon!r}")
        return StillGround(float(horizon), "set by the user")
    rows = img.astype(np.float32).mean(axis=1)  # H×3 mean colour per row
    h = rows.shape[0]
    band = max(2, h // 12)
    best, at = 0.0, None
    for r in range(int(0.15 * h), int(0.85 * h) + 1):
        above, below = rows[max(0, r - band):r], rows[r:r + band]
        if len(above) == 0 or len(below) == 0:
            continue
        d = float(np.linalg.norm(above.mean(axis=0) - below.mean(axis=0)))
        if d > best:
            best, at = d, r
    if at is None or best < MIN_EDGE:
        return StillGround(DEFAULT_HORIZON, "no clear horizon in the picture: a default")
    return StillGround(at / h, "estimated from the strongest colour edge across the picture")


def fit_still(img: np.ndarray, pose: CameraPose, width: int, height: int,
              pad: float) -> tuple[np.ndarray, tuple[float, float, list[float], list[float]]]:
    """The padded picture and the plane (half w, half h, centre, xyaxes) on which it fills the frame at `pose`."""
    pad_w, pad_h = int(round(width * pad)), int(round(height * pad))
    pixels = np.ascontiguousarray(np.pad(img, ((pad_h, pad_h), (pad_w, pad_w), (0, 0)), mode="reflect"))
    right, up, fwd = pose.basis()
    plane_dist = backdrop_depth(pose)
    half_h = plane_dist * math.tan(math.radians(pose.fovy) / 2)
    half_w = half_h * width / height
    centre = pose.position() + plane_dist * fwd
    size = (half_w * pixels.shape[1] / width, half_h * pixels.shape[0] / height,
            [float(v) for v in centre], [float(v) for v in (*right, *up)])
    return pixels, size


def backdrop_depth(pose: CameraPose) -> float:
    """How far along the view the picture's backdrop stands: well behind the action."""
    return pose.distance + max(2.0, 0.8 * pose.distance)


def still_camera_path(first: CameraPose, n: int, pos: np.ndarray | None = None) -> list[CameraPose]:
    """From the picture's own view, a slow push-in with a slight turn toward where the objects go (pos: T×N×3),
    so they move against the picture and stay in frame."""
    right, _, _ = first.basis()
    sign = 1.0
    if pos is not None and len(pos) > 1:
        moved = float(np.nanmean((pos[-1] - pos[0]) @ right))
        sign = -1.0 if moved > 0 else 1.0  # azimuth grows to the left: turn right for things going right
    out = []
    for i in range(n):
        u = i / max(1, n - 1)
        e = 0.5 - 0.5 * math.cos(math.pi * u)
        out.append(CameraPose(list(first.lookat), first.distance * (1 - PUSH_IN * e), first.azimuth + sign * DRIFT_DEGREES * e,
                              first.elevation, first.fovy))
    return out


GROUND_TEXELS = 512  # the ground layer's texture side


def fit_ground(img: np.ndarray, pose: CameraPose, width: int, height: int,
               far_depth: float) -> tuple[tuple[float, float, list[float]], np.ndarray]:
    """The picture's ground as a layer on the floor (z = 0): a rectangle under the first view, out to where the
    backdrop stands (`far_depth` along the view), textured by projecting each of its points into the still
    through the first camera — so at that camera it shows exactly the picture's lower part, and as the camera
    moves the near ground slides faster than the far (parallax), and objects on it shadow it."""
    from scipy.ndimage import map_coordinates

    right, up, fwd = pose.basis()
    cam = pose.position()
    focal = (height / 2) / math.tan(math.radians(pose.fovy) / 2)

    def ground_at(px: float, py: float) -> np.ndarray | None:
        ray = fwd + ((px - width / 2) / focal) * right - ((py - height / 2) / focal) * up
        if ray[2] >= -1e-6:
            return None
        return cam + ray * (-cam[2] / ray[2])

    near = [ground_at(x, height) for x in (0.0, float(width))]
    if any(p is None for p in near):
        raise RequestError("the picture's horizon is below its bottom edge: set options.horizon")
    # the far edge: ground points at the backdrop's depth along the view
    far_y = cam[1] + (far_depth + cam[2] * fwd[2]) / max(1e-6, fwd[1])  # the backdrop meets the ground here
    xs = [p[0] for p in near]
    span = max(xs) - min(xs)
    x0, x1 = min(xs) - 0.6 * span - far_depth * 0.4, max(xs) + 0.6 * span + far_depth * 0.4
    # stop short of the backdrop (no seam where the two meet: the backdrop shows the same rows behind)
    y0, y1 = min(p[1] for p in near) - 0.05 * span, far_y - 0.03 * far_depth
    n = GROUND_TEXELS
    u = (np.arange(n) + 0.5) / n
    gx = x0 + u * (x1 - x0)
    gy = y1 - u * (y1 - y0)  # texture row 0 is the far (+y) edge
    X, Y = np.meshgrid(gx, gy)
    rel = np.stack([X - cam[0], Y - cam[1], -cam[2] * np.ones_like(X)], axis=-1)
    depth = rel @ fwd
    px = width / 2 + focal * (rel @ right) / np.maximum(depth, 1e-6)
    py = height / 2 - focal * (rel @ up) / np.maximum(depth, 1e-6)
    src = img.astype(np.float32)
    tex = np.stack([map_coordinates(src[..., c], [py - 0.5, px - 0.5], order=1, mode="mirror") for c in range(3)], -1)
    size = ((x1 - x0) / 2, (y1 - y0) / 2, [float((x0 + x1) / 2), float((y0 + y1) / 2), 0.0005])
    return size, np.ascontiguousarray(np.clip(tex, 0, 255).astype(np.uint8))
