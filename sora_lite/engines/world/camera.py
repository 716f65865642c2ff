"""Camera framing, moves over a shot, and projection of 3D points to pixels.

The renderer and the ground truth both read `CameraPose`, so the pixel centres written to the sidecar
are exactly where the renderer drew the objects (MuJoCo's free camera: vertical field of view, the
camera sits `distance` behind `lookat` along the azimuth/elevation direction).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sora_lite.engines.world.scene import Body, floor_height
from sora_lite.engines.world.spec import CameraSpec, SceneSpec

SHOT_SCALE = {"wide": 1.0, "medium": 0.6, "close": 0.35}
SENSOR_HEIGHT_MM = 24.0  # full-frame


@dataclass
class CameraPose:
    lookat: list[float]
    distance: float
    azimuth: float  # degrees
    elevation: float  # degrees
    fovy: float  # degrees, vertical

    def forward(self) -> np.ndarray:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])

    def position(self) -> np.ndarray:
        return np.asarray(self.lookat, dtype=float) - self.distance * self.forward()

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, up, forward) unit vectors in world coordinates."""
        f = self.forward()
        right = np.cross(f, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right) or 1.0
        up = np.cross(right, f)
        return right, up, f

    def to_dict(self) -> dict:
        d = asdict(self)
        d["position"] = [float(v) for v in self.position()]
        return d


def fovy_from_lens(lens_mm: float) -> float:
    return math.degrees(2 * math.atan(SENSOR_HEIGHT_MM / (2 * lens_mm)))


def find_target(spec_target: str | None, bodies: list[Body]) -> int | None:
    """Index of the body a camera should frame or follow: exact name, then a name containing the words."""
    if not spec_target or not bodies:
        return None
    t = spec_target.lower().strip()
    for b in bodies:
        if b.name.lower() == t:
            return b.index
    for b in bodies:
        if t in b.name.lower():
            return b.index
    return None


def base_pose(spec: SceneSpec, cam: CameraSpec, bodies: list[Body], aspect: float) -> CameraPose:
    """Frame the whole scene (wide), or a part of it (medium, close), from the spec's angle and lens."""
    fovy = fovy_from_lens(cam.lens_mm)
    ground = floor_height(spec)
    pts = np.array([b.pos for b in bodies] + ([b.pivot for b in bodies if b.pivot is not None]), dtype=float)
    radii = np.array([b.radius for b in bodies] + [0.05 for b in bodies if b.pivot is not None])
    lo = (pts - radii[:, None]).min(axis=0)
    hi = (pts + radii[:, None]).max(axis=0)
    lo[2] = min(lo[2], ground)
    if spec.environment.ramp_angle is not None:
        lo[0] = min(lo[0], -1.6 * math.cos(math.radians(spec.environment.ramp_angle)))
    centre = (lo + hi) / 2
    pose = CameraPose([float(v) for v in centre], 1.0, cam.azimuth, cam.elevation, fovy)
    right, up, fwd = pose.basis()
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]) - centre
    half_w = float(np.abs(corners @ right).max())
    half_h = float(np.abs(corners @ up).max())
    half_d = float(np.abs(corners @ fwd).max())
    tan = math.tan(math.radians(fovy) / 2)
    dist = max(half_h / tan, half_w / (tan * aspect)) * 1.2 + half_d
    dist = max(dist, 1.2)
    target = find_target(cam.target, bodies)
    scale = SHOT_SCALE[cam.shot]
    if target is not None or cam.shot != "wide":
        b = bodies[target if target is not None else 0]
        if target is not None or cam.shot == "close":
            pose.lookat = [float(v) for v in b.pos]
            if b.shape == "character":  # frame a character's head (a cameo's face), not its torso
                pose.lookat[2] += 0.6 * b.size
            pose.lookat[2] = max(pose.lookat[2] - (0.3 if cam.move == "follow" else 0.0), ground + b.size)
    pose.distance = cam.distance if cam.distance is not None else max(0.4, dist * scale)
    return pose


def camera_path(cam: CameraSpec, base: CameraPose, n_frames: int, follow: np.ndarray | None = None) -> list[CameraPose]:
    """One pose per frame of a shot; a move runs over the whole shot with an ease-in-out curve.

    follow: per-frame position (n_frames×3) of the followed object, for the "follow" move.
    """
    poses = []
    sign = float(getattr(cam, "direction", 1) or 1)
    smoothed = np.asarray(base.lookat, dtype=float)
    for i in range(n_frames):
        u = i / max(1, n_frames - 1)
        e = 0.5 - 0.5 * math.cos(math.pi * u)
        p = CameraPose(list(base.lookat), base.distance, base.azimuth, base.elevation, base.fovy)
        if cam.move == "pan":
            # The camera stays put and turns: rotate the look-at point around the camera position.
            pos = base.position()
            az = base.azimuth - sign * (-12.0 + 24.0 * e)  # azimuth grows to the left
            p.azimuth = az
            p.lookat = [float(v) for v in pos + base.distance * p.forward()]
        elif cam.move == "tilt":
            pos = base.position()
            p.elevation = base.elevation + sign * (-6.0 + 12.0 * e)
            p.lookat = [float(v) for v in pos + base.distance * p.forward()]
        elif cam.move == "orbit":
            p.azimuth = base.azimuth + sign * (60.0 * e - 30.0)
        elif cam.move == "dolly":
            p.distance = base.distance * (1.0 - 0.35 * e) if sign > 0 else base.distance * (0.65 + 0.35 * e)
        elif cam.move == "zoom":
            tan0 = math.tan(math.radians(base.fovy) / 2)
            p.fovy = math.degrees(2 * math.atan(tan0 * ((1.0 - 0.4 * e) if sign > 0 else (0.6 + 0.4 * e))))
        elif cam.move == "follow" and follow is not None:
            smoothed = smoothed * 0.6 + 0.4 * follow[i] if i else follow[0].astype(float)
            p.lookat = [float(v) for v in smoothed]
        poses.append(p)
    return poses


def project(pose: CameraPose, points: np.ndarray, radii: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel centres (N×2, x right, y down), pixel radii (N) and depths (N) of world points."""
    right, up, fwd = pose.basis()
    rel = np.asarray(points, dtype=float) - pose.position()
    depth = rel @ fwd
    safe = np.where(depth > 1e-6, depth, 1e-6)
    focal = (height / 2) / math.tan(math.radians(pose.fovy) / 2)
    px = width / 2 + focal * (rel @ right) / safe
    py = height / 2 - focal * (rel @ up) / safe
    r_px = focal * np.asarray(radii, dtype=float) / safe
    return np.stack([px, py], axis=-1), r_px, depth
