"""Camera poses and the projection of 3D points to pixels (the shots' paths are planned in `framing.py`).

The renderer and the ground truth both read `CameraPose`, so the pixel centres written to the sidecar
are exactly where the renderer drew the objects (MuJoCo's free camera: vertical field of view, the
camera sits `distance` behind `lookat` along the azimuth/elevation direction).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

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
