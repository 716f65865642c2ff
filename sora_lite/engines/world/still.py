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
- The picture's ground below the horizon is a lit layer on the floor (`fit_ground`: objects shadow it), and
  things standing on that ground are cut out and stand upright at their own depth (`picture_layers`,
  `fit_layers`): parallax between the layers as the camera moves.
- Where it fails: README ("Picture layers"); a photo without a visible horizon (top-down, close-ups of walls)
  gets a guessed one — set options.horizon (the app's slider) then.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from sora_lite.engines.base import RequestError
from sora_lite.engines.world.camera import CameraPose
from sora_lite.media import read_image

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


def estimate_horizon(image: str | np.ndarray) -> float:
    """The automatic horizon (0 top .. 1 bottom, two decimals) of a still file or array: the app's slider default."""
    if isinstance(image, np.ndarray):
        img = image
    else:
        img = read_still(str(image), 256, 256)  # the estimate is per row: a small copy gives the same row share
    return round(still_ground(img).horizon, 2)


def horizon_options(value: float | None) -> dict[str, float]:
    """Request options for the app's horizon slider: 0 or None means "estimate it from the picture"."""
    if value is None or float(value) <= 0.0:
        return {}
    still_ground(np.zeros((2, 2, 3), np.uint8), float(value))  # one clear error for a value outside 0..1
    return {"horizon": float(value)}


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


# ---------------------------------------------------------------- picture layers (foreground pop-up)

LAYER_MIN_AREA = 0.004  # a foreground part covers at least this share of the picture
LAYER_MIN_RISE = 0.06  # … and rises at least this share of the height above where it stands
LAYER_CELLS = 64  # the layer mesh's cells per short side of the picture
WORK_SIDE = 192  # the split is computed on a copy of about this short side (GrabCut's cost)
COLOUR_FAR = 22.0  # CIELAB distance from every ground colour that makes a pixel a foreground candidate
GROUND_SHARE = 0.2  # a colour cluster of the ground band counts as ground when it holds this share
FOCUS_RATIO = 3.0  # local Laplacian energy this many times the ground's median: an in-focus candidate


@dataclass
class PictureLayer:
    """One standing thing in the picture, cut out to stand upright at its own depth (a pop-up)."""

    mask: np.ndarray  # H×W bool, the still's pixels it covers
    base_row: int  # the lowest row it covers: where it stands on the picture's ground
    base_col: float  # the mean column of its lowest pixels
    cues: str  # which cues seeded it ("colour", "focus")


def picture_layers(img: np.ndarray, horizon: float) -> list[PictureLayer]:
    """Standing foreground things of a still, weight-free: a GrabCut (colour models + graph cut on edges)
    seeded from the picture's ground and sky, with candidates from colour (far from every ground colour) and
    focus (local Laplacian energy well above the ground's); a part counts when it is large enough, stands on
    the visible ground (its lowest row below the horizon) and rises above where it stands.

    Why GrabCut: its colour GMMs and edge-weighted graph cut need no weights and give clean outlines from
    rough seeds; the seeds carry the scene knowledge (ground below the horizon, sky above). Failure cases:
    README ("Picture layers").
    """
    import cv2

    h, w = img.shape[:2]
    hz = int(round(horizon * h))
    if hz >= 0.92 * h or min(h, w) < 32:
        return []
    f = WORK_SIDE / min(h, w) if min(h, w) > WORK_SIDE else 1.0
    sw, sh = max(16, round(w * f)), max(16, round(h * f))
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA) if f != 1.0 else img.copy()
    shz = int(round(horizon * sh))
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    ground = lab[shz + max(1, (sh - shz) // 3):].reshape(-1, 3)  # the nearer two thirds of the ground
    if len(ground) < 16:
        return []
    k = min(4, len(ground))
    _, labels, centres = cv2.kmeans(ground, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5), 2,
                                    cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    centres = centres[share >= GROUND_SHARE]  # the ground's own colours; a thing standing on it is a minority
    dist = np.min(np.linalg.norm(lab[..., None, :] - centres[None, None], axis=-1), axis=-1)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = cv2.GaussianBlur(cv2.Laplacian(gray, cv2.CV_32F) ** 2, (0, 0), 3.0)
    focus = energy / (float(np.median(energy[shz:])) + 1e-3)
    rows = np.arange(sh)[:, None] * np.ones((1, sw))
    below = rows >= shz + 0.03 * sh
    colour_seed = below & (dist > COLOUR_FAR)
    focus_seed = below & (focus > FOCUS_RATIO) & (dist > 0.5 * COLOUR_FAR)
    seed = cv2.morphologyEx((colour_seed | focus_seed).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0
    if seed.sum() < LAYER_MIN_AREA * sh * sw * 0.5:
        return []
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    mask[seed] = cv2.GC_PR_FGD
    sure_ground = (rows >= shz + 0.05 * sh) & (dist < 0.4 * COLOUR_FAR) & ~seed
    mask[sure_ground] = cv2.GC_BGD
    mask[: max(1, int(0.03 * sh))] = cv2.GC_BGD  # the top edge: sky or far backdrop
    if not (mask == cv2.GC_BGD).any():
        return []
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return []
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    full = cv2.resize(fg, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(full.astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        base = y + bh - 1
        if area < LAYER_MIN_AREA * h * w or base < hz + 0.04 * h or base - y < LAYER_MIN_RISE * h:
            continue  # too small, standing beyond the horizon (the backdrop shows it), or lying flat
        part = labels == i
        cols = np.nonzero(part[base])[0]
        small_part = cv2.resize(part.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
        cues = [c for c, s in (("colour", colour_seed), ("focus", focus_seed)) if (s & small_part).any()]
        out.append(PictureLayer(part, base, float(cols.mean()), "+".join(cues) or "graph cut"))
    return out


def fit_layers(img: np.ndarray, layers: list[PictureLayer], pose: CameraPose, width: int,
               height: int) -> list[tuple[list[float], list[float], list[int]]]:
    """Each layer as an upright mesh (vertices, texcoords into the still, faces) standing where its lowest pixels
    meet the picture's ground, facing the first camera: seen from that camera it covers exactly its pixels of
    the still, so the first view is unchanged, and as the camera moves it slides against the ground and the
    backdrop by its own depth (parallax). Cells of the mesh are LAYER_CELLS per short side (blocky outline)."""
    right, up, fwd = pose.basis()
    cam = pose.position()
    focal = (height / 2) / math.tan(math.radians(pose.fovy) / 2)
    flat = np.array([fwd[0], fwd[1], 0.0])
    flat /= np.linalg.norm(flat) + 1e-12

    def ray(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return fwd + ((px - width / 2) / focal)[..., None] * right - ((py - height / 2) / focal)[..., None] * up

    meshes = []
    cell = max(2, int(round(min(width, height) / LAYER_CELLS)))
    for layer in layers:
        r = ray(np.array(layer.base_col + 0.5), np.array(layer.base_row + 1.0))
        if r[2] >= -1e-6:
            continue
        foot = cam + r * (-cam[2] / r[2])  # where it stands on the ground (z = 0)
        covered = _cells(layer.mask, cell)
        ys, xs = np.nonzero(covered)
        corners: dict[tuple[int, int], int] = {}
        faces: list[int] = []
        for cy, cx in zip(ys.tolist(), xs.tolist()):
            ids = []
            for dy, dx in ((0, 0), (0, 1), (1, 1), (1, 0)):
                key = (cy + dy, cx + dx)
                if key not in corners:
                    corners[key] = len(corners)
                ids.append(corners[key])
            faces += [ids[0], ids[2], ids[1], ids[0], ids[3], ids[2]]  # facing the camera
        if not faces:
            continue
        keys = np.array(list(corners), dtype=np.float64)
        py = np.minimum(keys[:, 0] * cell, height)
        px = np.minimum(keys[:, 1] * cell, width)
        rays = ray(px, py)
        t = float((foot - cam) @ flat) / (rays @ flat)
        verts = cam + rays * t[:, None]
        tex = np.stack([px / width, py / height], -1)
        meshes.append(([float(v) for v in verts.ravel()], [float(v) for v in tex.ravel()], faces))
    return meshes


def _cells(mask: np.ndarray, cell: int) -> np.ndarray:
    """Cells (cell × cell px) that hold any pixel of the mask grown by one pixel."""
    import cv2

    grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    h, w = grown.shape
    ch, cw = -(-h // cell), -(-w // cell)
    padded = np.zeros((ch * cell, cw * cell), bool)
    padded[:h, :w] = grown
    return padded.reshape(ch, cell, cw, cell).any(axis=(1, 3))


def behind_layers(img: np.ndarray, layers: list[PictureLayer]) -> np.ndarray:
    """The still with its foreground layers painted out (OpenCV's Telea inpainting), for the ground and backdrop
    layers: what the moving camera sees where a standing thing moved away from its own picture."""
    import cv2

    if not layers:
        return img
    hole = np.zeros(img.shape[:2], np.uint8)
    for layer in layers:
        hole |= layer.mask.astype(np.uint8)
    hole = cv2.dilate(hole, np.ones((5, 5), np.uint8))
    return cv2.inpaint(np.ascontiguousarray(img), hole, 5, cv2.INPAINT_TELEA)


def read_still(path: str, width: int, height: int) -> np.ndarray:
    """The request's image as uint8 H×W×3, resized to the clip's size."""
    try:
        img = np.asarray(read_image(path))
    except Exception as e:  # noqa: BLE001 - any unreadable image is the user's file problem
        raise RequestError(f"could not read the image {os.path.basename(str(path))!r}: {e}") from None
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.shape[:2] != (height, width):
        from PIL import Image

        img = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((width, height), Image.Resampling.LANCZOS))
    return np.ascontiguousarray(img, dtype=np.uint8)
