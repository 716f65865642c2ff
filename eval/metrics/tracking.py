"""A weight-free pixel tracker: per-object centroid, area and box in every frame.

Objects are found by colour (HSV hue for saturated colours), which suits rendered scenes with saturated
objects over a grey checker floor and a gradient sky; colours too close to the backdrop (a blue ball
under a blue sky) or achromatic ones fall back to background subtraction against the temporal median
frame (static camera). Per frame the largest connected component of an object's mask is its position.
Coordinates are pixels, x right, y *down*.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from eval.metrics.frames import as_frames

HUE_TOLERANCE = 12  # OpenCV hue units (0..179 ≙ 0..358°)
MIN_SATURATION = 110  # of 255
MIN_VALUE = 50
MAX_OBJECT_FRACTION = 0.2  # a component larger than this share of the frame is backdrop, not an object
HUE_BINS = 18

# Colour words: the eval's own table (data), so it judges any video without a generator's palette.
NAMED_COLORS: dict[str, tuple[float, float, float]] = {
    k: tuple(v) for k, v in json.loads((Path(__file__).with_name("colours.json")).read_text()).items()
    if not k.startswith("_")
}
ACHROMATIC = {"white", "black", "gray", "grey", "silver"}


@dataclass
class ObjectTrack:
    """One object through a clip; arrays have one entry per frame (NaN / 0 where the object is not seen)."""

    label: str
    present: np.ndarray  # bool[T]
    centroid: np.ndarray  # float[T, 2] (x, y) px
    area: np.ndarray  # float[T] px²
    bbox: np.ndarray  # float[T, 4] (x0, y0, x1, y1) px
    hue_hist: np.ndarray = field(default_factory=lambda: np.zeros(HUE_BINS))  # normalised, over all frames
    frame_size: tuple[int, int] = (0, 0)  # (height, width)

    @property
    def num_frames(self) -> int:
        return int(len(self.present))

    def touches_border(self, i: int, margin: int = 2) -> bool:
        h, w = self.frame_size
        x0, y0, x1, y1 = self.bbox[i]
        return bool(x0 <= margin or y0 <= margin or x1 >= w - 1 - margin or y1 >= h - 1 - margin)


class _ClipMemo(threading.local):
    """What several metrics compute from the same clip (HSV frames, the median frame, hue tracks), kept for
    the one frames array in hand so a whole-eval pass (physics, AV sync, multishot on one decode) computes
    each once. Keyed by the array's identity through a weak reference; one clip per thread. Frames must not
    be changed in place between calls (no metric does)."""

    def __init__(self) -> None:
        self.ref: weakref.ReferenceType[np.ndarray] | None = None
        self.values: dict[Any, Any] = {}

    def get(self, frames: np.ndarray, key: Any, make: Callable[[], Any]) -> Any:
        if self.ref is None or self.ref() is not frames:
            self.ref, self.values = weakref.ref(frames), {}
        if key not in self.values:
            self.values[key] = make()
        return self.values[key]

    def peek(self, frames: np.ndarray, key: Any) -> Any:
        return self.values.get(key) if self.ref is not None and self.ref() is frames else None


_memo = _ClipMemo()
HSV_MEMO_BYTES = 512 * 1024**2  # larger clips convert frame by frame instead of holding a second copy


class _HSVFrames:
    """HSV of each frame, converted on first use and kept (unless the clip is too large to double)."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames
        self.keep = frames.nbytes <= HSV_MEMO_BYTES
        self.done: dict[int, np.ndarray] = {}

    def __getitem__(self, i: int) -> np.ndarray:
        hsv = self.done.get(i)
        if hsv is None:
            hsv = cv2.cvtColor(self.frames[i], cv2.COLOR_RGB2HSV)
            if self.keep:
                self.done[i] = hsv
        return hsv


def _hsv(frames: np.ndarray) -> _HSVFrames:
    return _memo.get(frames, "hsv", lambda: _HSVFrames(frames))


def _copy(track: ObjectTrack, label: str) -> ObjectTrack:
    """A caller's own copy of a memoised track (callers may edit their arrays)."""
    return replace(track, label=label, present=track.present.copy(), centroid=track.centroid.copy(),
                   area=track.area.copy(), bbox=track.bbox.copy(), hue_hist=track.hue_hist.copy())


def color_of(name: str) -> str | None:
    """The palette colour word in an object name ("red ball" → "red"), if any."""
    words = name.lower().replace("-", " ").split()
    for word in words:
        if word in NAMED_COLORS:
            return "gray" if word == "grey" else word
    return None


def hue_of(rgb: tuple[float, float, float]) -> int:
    pixel = np.uint8([[[int(round(c * 255)) for c in rgb]]])
    return int(cv2.cvtColor(pixel, cv2.COLOR_RGB2HSV)[0, 0, 0])


def background(frames: np.ndarray) -> np.ndarray:
    """Temporal median of (up to 32) frames: the static scene for a static camera."""
    def median() -> np.ndarray:
        step = max(1, len(frames) // 32)
        return np.median(frames[::step], axis=0).astype(np.uint8)

    return _memo.get(frames, "background", median)


def hue_mask(hsv: np.ndarray, hue: int) -> np.ndarray:
    """Saturated, bright pixels within ±HUE_TOLERANCE of `hue` on the hue circle (OpenCV's 0..179)."""
    lo, hi = hue - HUE_TOLERANCE, hue + HUE_TOLERANCE
    mask = cv2.inRange(hsv, (max(lo, 0), MIN_SATURATION, MIN_VALUE), (min(hi, 179), 255, 255))
    if lo < 0:  # the range wraps past 0 or 179
        mask |= cv2.inRange(hsv, (lo + 180, MIN_SATURATION, MIN_VALUE), (179, 255, 255))
    if hi > 179:
        mask |= cv2.inRange(hsv, (0, MIN_SATURATION, MIN_VALUE), (hi - 180, 255, 255))
    return mask.astype(bool)


def foreground_mask(frame: np.ndarray, bg: np.ndarray, threshold: int = 40) -> np.ndarray:
    """Pixels whose summed |RGB − background| exceeds `threshold`."""
    diff = cv2.absdiff(frame, bg)
    total = diff[..., 0].astype(np.uint16)
    total += diff[..., 1]
    total += diff[..., 2]
    return total > threshold


def _hue_histogram(hsv: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Counts of the masked pixels' hues in HUE_BINS equal bins over 0..179."""
    return np.bincount(hsv[..., 0][mask] // (180 // HUE_BINS), minlength=HUE_BINS)[:HUE_BINS]


def _largest_component(mask: np.ndarray, min_area: int, max_area: float) -> tuple[float, np.ndarray, np.ndarray] | None:
    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    best = None
    for k in range(1, count):
        area = stats[k, cv2.CC_STAT_AREA]
        if min_area <= area <= max_area and (best is None or area > stats[best, cv2.CC_STAT_AREA]):
            best = k
    if best is None:
        return None
    x, y, w, h = stats[best, :4]
    return float(stats[best, cv2.CC_STAT_AREA]), centroids[best], np.array([x, y, x + w - 1, y + h - 1], float)


def _clean(mask: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)


def _empty_track(label: str, t: int, size: tuple[int, int]) -> ObjectTrack:
    return ObjectTrack(
        label=label,
        present=np.zeros(t, bool),
        centroid=np.full((t, 2), np.nan),
        area=np.zeros(t),
        bbox=np.full((t, 4), np.nan),
        frame_size=size,
    )


def track_hue(frames: np.ndarray, hue: int, label: str, bg: np.ndarray | None = None) -> ObjectTrack:
    """Follow the largest blob of one hue; blobs as large as the backdrop are cut down to what moved."""
    if bg is not None and bg is not _memo.peek(frames, "background"):
        return _track_hue(frames, hue, label, bg)  # someone else's backdrop: not the shared result
    return _copy(_memo.get(frames, ("hue", hue), lambda: _track_hue(frames, hue, label, None)), label)


def _track_hue(frames: np.ndarray, hue: int, label: str, bg: np.ndarray | None) -> ObjectTrack:
    t, h, w, _ = frames.shape
    track = _empty_track(label, t, (h, w))
    min_area, max_area = max(4, int(h * w * 2e-4)), MAX_OBJECT_FRACTION * h * w
    hist = np.zeros(HUE_BINS)
    hsv_frames = _hsv(frames)
    for i, frame in enumerate(frames):
        hsv = hsv_frames[i]
        mask = _clean(hue_mask(hsv, hue))
        if mask.sum() > max_area:  # merged with a same-coloured backdrop: keep only what differs from it
            bg = background(frames) if bg is None else bg
            mask = _clean(mask & foreground_mask(frame, bg))
        found = _largest_component(mask, min_area, max_area)
        if found is None:
            continue
        track.present[i] = True
        track.area[i], track.centroid[i], track.bbox[i] = found
        hist += _hue_histogram(hsv, mask)
    track.hue_hist = hist / hist.sum() if hist.sum() else hist
    return track


def track_foreground(frames: np.ndarray, label: str = "foreground", bg: np.ndarray | None = None) -> ObjectTrack:
    """Background subtraction fallback: the largest blob that differs from the median frame."""
    if bg is not None and bg is not _memo.peek(frames, "background"):
        return _track_foreground(frames, label, bg)
    return _copy(_memo.get(frames, "foreground", lambda: _track_foreground(frames, label, None)), label)


def _track_foreground(frames: np.ndarray, label: str, bg: np.ndarray | None) -> ObjectTrack:
    t, h, w, _ = frames.shape
    bg = background(frames) if bg is None else bg
    track = _empty_track(label, t, (h, w))
    min_area, max_area = max(4, int(h * w * 2e-4)), MAX_OBJECT_FRACTION * h * w
    hist = np.zeros(HUE_BINS)
    for i, frame in enumerate(frames):
        mask = _clean(foreground_mask(frame, bg))
        found = _largest_component(mask, min_area, max_area)
        if found is None:
            continue
        track.present[i] = True
        track.area[i], track.centroid[i], track.bbox[i] = found
        hist += _hue_histogram(_hsv(frames)[i], mask)
    track.hue_hist = hist / hist.sum() if hist.sum() else hist
    return track


def discover_hues(frames: np.ndarray, max_objects: int = 6) -> list[int]:
    """Hues of saturated, object-sized blobs seen in the clip (backdrop-sized regions ignored)."""
    return list(_memo.get(frames, ("hues", max_objects), lambda: _discover_hues(frames, max_objects)))


def _discover_hues(frames: np.ndarray, max_objects: int) -> list[int]:
    t, h, w, _ = frames.shape
    votes = np.zeros(180)
    hsv_frames = _hsv(frames)
    for i in range(0, t, max(1, t // 12)):
        hsv = hsv_frames[i]
        sat = (hsv[..., 1] >= MIN_SATURATION) & (hsv[..., 2] >= MIN_VALUE)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(_clean(sat).astype(np.uint8), connectivity=8)
        for k in range(1, count):
            if max(4, h * w * 2e-4) <= stats[k, cv2.CC_STAT_AREA] <= MAX_OBJECT_FRACTION * h * w:
                hues = hsv[..., 0][labels == k]
                votes += np.bincount(hues, minlength=180)[:180]
    hues: list[int] = []
    smoothed = np.convolve(np.r_[votes[-6:], votes, votes[:6]], np.ones(7), "same")[6:-6]
    while len(hues) < max_objects and smoothed.max() > 0:
        peak = int(np.argmax(smoothed))
        if smoothed[peak] < 0.02 * smoothed.sum() and hues:
            break
        hues.append(peak)
        for d in range(-2 * HUE_TOLERANCE, 2 * HUE_TOLERANCE + 1):
            smoothed[(peak + d) % 180] = 0
    return hues


def track_objects(frames: np.ndarray, names: list[str] | None = None, max_objects: int = 6) -> list[ObjectTrack]:
    """Tracks for named objects ("red ball" → red hue; achromatic → foreground), else for every hue seen."""
    video = as_frames(frames)
    bg = background(video)
    if names:
        tracks = []
        for name in names:
            colour = color_of(name)
            if colour is None or colour in ACHROMATIC:
                tracks.append(track_foreground(video, label=name, bg=bg))
            else:
                tracks.append(track_hue(video, hue_of(NAMED_COLORS[colour]), label=name, bg=bg))
        return tracks
    tracks = [track_hue(video, hue, label=f"hue {hue * 2}°", bg=bg) for hue in discover_hues(video, max_objects)]
    tracks = [tr for tr in tracks if tr.present.any()]
    return tracks or [track_foreground(video, bg=bg)]


# --- a moving object on camera footage ------------------------------------------------------------------
# The hue tracker above suits flat-coloured renders. Camera footage needs motion first: the object the
# prompt names is a compact thing that moves against a static (or steadied) backdrop; its colour only ranks
# candidates (a desaturated basketball is still orange in hue, and a static orange fence never moves).

ACHROMATIC_CHROMA = 12.0  # CIELAB chroma below which a pixel has no hue to speak of
HUE_WINDOW_DEG = 25.0  # a named colour matches hue angles within this (CIELAB a*b* plane)
MIN_MOVING_FRAMES = 6
MIN_TRAVEL_DIAMETERS = 2.0  # the object's path must span at least this many of its own diameters
MIN_COMPACTNESS = 0.5  # a ball 0.8-1.0, a tumbling box ~0.6; a waving hand, a face or a mouth lower
MIN_TRAVEL_FRACTION = 0.05  # ... and this share of the frame's short side (jitter of a small blob is not travel)


@dataclass
class ColourPrior:
    """What the prompt says the object looks like: hue angles in the CIELAB a*b* plane and/or a lightness class."""

    words: list[str]
    hues: list[float]  # degrees
    lightness: list[str]  # "white" | "black" | "gray"


def colour_prior(*texts: str | None) -> ColourPrior | None:
    """Colour words in the object's name or colour text ("yellow-green", "red, cyan, yellow"), or None."""
    text = " ".join(t.lower() for t in texts if isinstance(t, str))
    words = [w for w in re.findall(r"[a-z]+", text) if w in NAMED_COLORS]
    if not words:
        return None
    hues: list[float] = []
    light: list[str] = []
    for w in dict.fromkeys(words):
        if w in ACHROMATIC or w in ("cream",):
            light.append({"silver": "gray", "grey": "gray", "cream": "white"}.get(w, w))
        else:
            hues.append(_lab_hue(NAMED_COLORS[w]))
    for a, b in re.findall(r"([a-z]+)-([a-z]+)", text):  # "yellow-green": also the hue between the two
        if a in NAMED_COLORS and b in NAMED_COLORS and a not in ACHROMATIC and b not in ACHROMATIC:
            ha, hb = _lab_hue(NAMED_COLORS[a]), _lab_hue(NAMED_COLORS[b])
            hues.append(float(np.degrees(np.angle(np.exp(1j * np.radians(ha)) + np.exp(1j * np.radians(hb))))) % 360)
    return ColourPrior(words=list(dict.fromkeys(words)), hues=hues, lightness=light)


def _lab_hue(rgb: tuple[float, float, float]) -> float:
    lab = cv2.cvtColor(np.float32([[rgb]]), cv2.COLOR_RGB2LAB)[0, 0]
    return float(np.degrees(np.arctan2(lab[2], lab[1])) % 360)


def colour_match_mask(pixels_rgb: np.ndarray, prior: ColourPrior | None) -> np.ndarray:
    """Per pixel (any shape ×3, uint8): does its colour agree with the prior (all True without a prior)."""
    shape = pixels_rgb.shape[:-1]
    if prior is None or pixels_rgb.size == 0:
        return np.ones(shape, bool)
    lab = cv2.cvtColor(pixels_rgb.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    lum, a, b = lab[:, 0] * (100 / 255), lab[:, 1] - 128, lab[:, 2] - 128
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a)) % 360
    ok = np.zeros(len(lab), bool)
    for h in prior.hues:  # any chroma above the floor of "no hue at all": desaturated objects keep their hue
        d = np.abs((hue - h + 180) % 360 - 180)
        ok |= (chroma >= 4.0) & (d <= HUE_WINDOW_DEG)
    grey = chroma < ACHROMATIC_CHROMA * 2
    for word in prior.lightness:
        if word == "white":
            ok |= grey & (lum >= 50)
        elif word == "black":
            ok |= grey & (lum <= 30)
        else:
            ok |= grey & (lum > 25) & (lum < 80)
    return ok.reshape(shape)


def colour_agreement(pixels_rgb: np.ndarray, prior: ColourPrior | None) -> float:
    """Share of the pixels (N×3 uint8) whose colour agrees with the prior (1.0 without a prior)."""
    if prior is None or len(pixels_rgb) == 0:
        return 1.0
    return float(colour_match_mask(pixels_rgb, prior).mean())


def camera_shifts(frames: np.ndarray) -> np.ndarray:
    """Per-frame (dx, dy) translation of the view against the first frame (phase correlation on grey frames).

    A tripod or a steady hand gives sub-pixel values; a drifting phone gives tens of pixels, which would
    otherwise read as every pixel moving.
    """
    def make() -> np.ndarray:
        t, h, w, _ = frames.shape
        scale = min(1.0, 240 / max(h, w))
        size = (max(16, int(w * scale)), max(16, int(h * scale)))
        grey = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA).astype(np.float32)
                for f in frames]
        window = cv2.createHanningWindow(size, cv2.CV_32F)
        shifts = np.zeros((t, 2))
        gx, gy = cv2.Sobel(grey[0], cv2.CV_32F, 1, 0), cv2.Sobel(grey[0], cv2.CV_32F, 0, 1)
        grad = np.hypot(gx, gy)
        textured = grad >= np.percentile(grad, 50)
        for i in range(1, t):
            (dx, dy), response = cv2.phaseCorrelate(grey[0], grey[i], window)
            if response < 0.05 or abs(dx) + abs(dy) < 0.25:
                continue
            # Keep the shift only if it makes most of the picture agree (the median pixel): a moving object
            # can pull the correlation peak, but it cannot make the backdrop line up.
            back = cv2.warpAffine(grey[i], np.float32([[1, 0, -dx], [0, 1, -dy]]), size, borderMode=cv2.BORDER_REPLICATE)
            m = max(2, int(abs(dx)) + 2), max(2, int(abs(dy)) + 2)
            inner = (slice(m[1], -m[1]), slice(m[0], -m[0]))
            edges = textured[inner]  # flat sky or road agrees under any shift: judge on the textured half
            moved = float(np.median(np.abs(back[inner] - grey[0][inner])[edges]))
            held = float(np.median(np.abs(grey[i][inner] - grey[0][inner])[edges]))
            if moved < 0.8 * held:
                shifts[i] = (dx / scale, dy / scale)
        return shifts

    return _memo.get(frames, "camera_shifts", make)


@dataclass
class CameraMotion:
    """How the view moves over a clip, from background features tracked frame to frame (pyramidal LK + RANSAC
    similarity), chained: `path` is the view's (dx, dy) against the first frame in px, `scale` its zoom."""

    path: np.ndarray  # float[T, 2]
    scale: np.ndarray  # float[T]
    rotation_deg: np.ndarray  # float[T]
    features: int  # median number of background features per frame pair (few: the estimate means little)


# A view that moves more than this cannot be read as a still view (pixels would show the camera's motion).
CAMERA_ZOOM_LIMIT = 0.08  # |scale − 1| over the clip (a hand-held still camera's breathing stays well below)
CAMERA_ROTATION_LIMIT_DEG = 3.0
CAMERA_UNDONE_FRACTION = 0.05  # of the short side: a pan or tilt this large that steadying by translation misses


def camera_motion(frames: np.ndarray) -> CameraMotion:
    """The camera's motion over the clip (see CameraMotion), robust to a small moving object (RANSAC)."""
    def make() -> CameraMotion:
        t, h, w, _ = frames.shape
        scale = min(1.0, 240 / max(h, w))
        size = (max(16, int(w * scale)), max(16, int(h * scale)))
        grey = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA) for f in frames]
        path, zoom, rot = np.zeros((t, 2)), np.ones(t), np.zeros(t)
        m_total = np.eye(3)
        counts = []
        for i in range(1, t):
            pts = cv2.goodFeaturesToTrack(grey[i - 1], maxCorners=300, qualityLevel=0.01, minDistance=5)
            step = np.eye(3)
            if pts is not None and len(pts) >= 12:
                nxt, ok, _ = cv2.calcOpticalFlowPyrLK(grey[i - 1], grey[i], pts, None, winSize=(15, 15), maxLevel=3)
                good = ok.ravel() == 1
                counts.append(int(good.sum()))
                if good.sum() >= 12:
                    m, inl = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.RANSAC, ransacReprojThreshold=1.0)
                    if m is not None and inl is not None and inl.sum() >= max(8, 0.4 * good.sum()):
                        moves = (np.abs(m[:, 2]).max() > 0.3 or abs(np.hypot(m[0, 0], m[1, 0]) - 1) > 0.003
                                 or abs(m[1, 0]) > 0.002)
                        if moves:  # below this a still camera's noise would add up over the clip
                            step = np.vstack([m, [0, 0, 1]])
            else:
                counts.append(0)
            m_total = step @ m_total
            a, b = m_total[0, 0], m_total[1, 0]
            zoom[i] = float(np.hypot(a, b))
            rot[i] = float(np.degrees(np.arctan2(b, a)))
            centre = np.array([size[0] / 2, size[1] / 2, 1.0])
            path[i] = (m_total @ centre)[:2] - centre[:2]
        return CameraMotion(path / scale, zoom, rot, int(np.median(counts)) if counts else 0)

    return _memo.get(frames, "camera_motion", make)


def camera_unsteady(frames: np.ndarray) -> str:
    """Why the camera moves too much for physics in pixels (empty when the view holds still or steadying by
    translation undoes its drift): a zoom, a roll, or a pan / tilt the translation steadying does not follow."""
    video = as_frames(frames)
    if len(video) < 3:
        return ""
    motion = camera_motion(video)
    if motion.features < 20:
        return ""  # a featureless view (sky, a plain wall): nothing to measure the camera by
    side = min(video.shape[1:3])
    zoom = float(np.abs(motion.scale - 1).max())
    if zoom > CAMERA_ZOOM_LIMIT:
        return f"the camera zooms or moves in ({zoom:.0%} change of scale): sizes and speeds in the picture are the camera's"
    roll = float(np.abs(motion.rotation_deg).max())
    if roll > CAMERA_ROTATION_LIMIT_DEG:
        return f"the camera rolls ({roll:.1f}°): 'down' in the picture changes over the clip"
    limit = max(6.0, CAMERA_UNDONE_FRACTION * side)
    moved = float(np.linalg.norm(motion.path, axis=1).max())
    left = float(np.linalg.norm(motion.path - camera_shifts(video), axis=1).max())
    if moved > limit and left > limit:
        return (f"the camera pans or tilts ({moved:.0f} px over the clip) and steadying cannot undo it: motion in the "
                "picture would be the camera's")
    return ""


def steadied(frames: np.ndarray) -> np.ndarray:
    """The frames moved back by the camera's translation (unchanged when the view holds still within 1 px)."""
    def make() -> np.ndarray:
        shifts = camera_shifts(frames)
        if np.abs(shifts).max() <= 1.0:
            return frames
        h, w = frames.shape[1:3]
        out = np.empty_like(frames)
        for i, f in enumerate(frames):
            m = np.float32([[1, 0, -shifts[i, 0]], [0, 1, -shifts[i, 1]]])
            out[i] = cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        return out

    return _memo.get(frames, "steadied", make)


@dataclass
class _Blob:
    frame: int
    centroid: np.ndarray
    area: float
    bbox: np.ndarray
    compact: float  # 1 = a filled round blob, 0 = a streak or a ragged region
    colour: float  # agreement with the prompt's colour


@dataclass
class MovingObject:
    """The moving object chosen for the prompt's name, or the reason there is none."""

    track: ObjectTrack | None
    reason: str = ""
    colour_match: float = float("nan")
    compactness: float = float("nan")
    travel_diameters: float = float("nan")
    candidates: int = 0


def _motion_blobs(frames: np.ndarray, prior: ColourPrior | None) -> list[list[_Blob]]:
    t, h, w, _ = frames.shape
    bg = background(frames)
    min_area, max_area = max(8, int(h * w * 1.5e-4)), 0.08 * h * w
    # Noise level of this footage: median summed |frame − backdrop| (codec grain, sensor noise, flicker).
    sample = frames[:: max(1, t // 8)]
    noise = float(np.median(np.abs(sample.astype(np.int16) - bg.astype(np.int16)).sum(-1)))
    threshold = max(36.0, 4.0 * noise)
    blobs: list[list[_Blob]] = []
    for i in range(t):
        f = frames[i]
        diff = cv2.absdiff(f, bg).astype(np.uint16).sum(-1)
        # Moved: differs from the frames two steps away (a slow object moves its whole edge by then).
        prev_d = cv2.absdiff(f, frames[max(0, i - 2)]).astype(np.uint16).sum(-1) if i > 0 else None
        next_d = cv2.absdiff(f, frames[min(t - 1, i + 2)]).astype(np.uint16).sum(-1) if i + 1 < t else None
        moved = np.zeros((h, w), bool)
        for d in (prev_d, next_d):
            if d is not None:
                moved |= d > threshold
        raw = diff > threshold
        masks = [cv2.morphologyEx(raw.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 3), np.uint8))]  # joins interlaced fields
        if prior is not None:  # the named colour splits the object off a hand or a face it overlaps
            coloured = np.zeros((h, w), bool)
            coloured[raw] = colour_match_mask(f[raw], prior)  # only where something differs from the backdrop
            masks.insert(0, cv2.morphologyEx(coloured.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
        found: list[_Blob] = []
        for mask in masks:
            count, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
            for k in range(1, count):
                area = int(stats[k, cv2.CC_STAT_AREA])
                if not (min_area <= area <= max_area):
                    continue
                x, y, bw, bh = stats[k, :4]
                cx, cy = cents[k]
                if any(b.bbox[0] <= cx <= b.bbox[2] and b.bbox[1] <= cy <= b.bbox[3] and 0.5 < area / b.area < 2.0
                       for b in found):
                    continue  # the same blob from both masks
                region = labels[y : y + bh, x : x + bw] == k
                if not moved[y : y + bh, x : x + bw][region].mean() > 0.15:  # it must move in this frame
                    continue
                fill = area / float(bw * bh)
                aspect = max(bw, bh) / max(1, min(bw, bh))
                compact = float(np.clip((fill - 0.35) / 0.4, 0, 1) * np.clip((4.0 - aspect) / 2.5, 0, 1))
                pixels = f[y : y + bh, x : x + bw][region & raw[y : y + bh, x : x + bw]]
                found.append(_Blob(i, cents[k].astype(float), float(area), np.array([x, y, x + bw - 1, y + bh - 1], float),
                                   compact, colour_agreement(pixels[:: max(1, len(pixels) // 400)], prior)))
        # Keep the likeliest few per frame (a busy frame must not cost quadratic linking).
        # Ties broken by position and size, not by the order connected components happen to be labelled in.
        found.sort(key=lambda b: (-(b.colour * (0.3 + b.compact)), -b.area, float(b.centroid[1]), float(b.centroid[0])))
        blobs.append(found[:12])
    return blobs


def _link(blobs: list[list[_Blob]], max_gap: int = 3) -> list[list[_Blob]]:
    """Greedy nearest-neighbour linking with a constant-velocity prediction (gated by the object's size)."""
    active: list[list[_Blob]] = []
    done: list[list[_Blob]] = []
    for i, frame_blobs in enumerate(blobs):
        still = []
        for tr in active:
            (still if i - tr[-1].frame <= max_gap else done).append(tr)
        active = still
        pairs = []
        for a, tr in enumerate(active):
            last = tr[-1]
            v = (last.centroid - tr[-2].centroid) / max(1, last.frame - tr[-2].frame) if len(tr) > 1 else np.zeros(2)
            dt = i - last.frame
            pred = last.centroid + v * dt
            diam = 2 * np.sqrt(last.area / np.pi)
            gate = 2.0 * diam + 2.0 * np.linalg.norm(v) * dt + 4  # an impact reverses v: up to 2|v| off
            for b, blob in enumerate(frame_blobs):
                d = float(np.linalg.norm(blob.centroid - pred))
                size_ok = 0.25 < blob.area / last.area < 4.0  # motion blur stretches a fast object
                if d <= gate and size_ok and abs(blob.colour - last.colour) < 0.5:
                    pairs.append((d / gate, a, b))
        used_a, used_b = set(), set()
        for _, a, b in sorted(pairs):
            if a in used_a or b in used_b:
                continue
            active[a].append(frame_blobs[b])
            used_a.add(a)
            used_b.add(b)
        active += [[blob] for b, blob in enumerate(frame_blobs) if b not in used_b]
    return done + active


def track_moving_object(frames: np.ndarray, label: str = "object", colour: str | None = None) -> MovingObject:
    """The compact object that travels (≥ MIN_TRAVEL_DIAMETERS of its size over ≥ MIN_MOVING_FRAMES frames),
    best matching the colour words in `label` / `colour`; coordinates in the steadied view.

    Returns a MovingObject whose `track` is None with the reason when nothing qualifies (a still, a talking
    head, a landscape): the caller then skips rather than scores.
    """
    video = as_frames(frames)
    t, h, w, _ = video.shape
    if t < MIN_MOVING_FRAMES:
        return MovingObject(None, f"only {t} frames: too short to see an object move (need {MIN_MOVING_FRAMES})")
    prior = colour_prior(label, colour)
    steady = steadied(video)
    key = ("moving", label, colour)
    return _memo.get(video, key, lambda: _choose_moving(steady, label, prior))


def _choose_moving(frames: np.ndarray, label: str, prior: ColourPrior | None) -> MovingObject:
    t, h, w, _ = frames.shape
    tracklets = [tr for tr in _link(_motion_blobs(frames, prior)) if len(tr) >= 3]
    if not tracklets:
        return MovingObject(None, "nothing in the clip moves against the backdrop")

    def travel(tr: list[_Blob]) -> float:
        c = np.array([b.centroid for b in tr])
        diam = 2 * np.sqrt(np.median([b.area for b in tr]) / np.pi)
        return float(np.ptp(c, axis=0).max() / max(diam, 1.0))

    side = min(h, w)

    def span(tr: list[_Blob]) -> float:
        return float(np.ptp(np.array([b.centroid for b in tr]), axis=0).max())

    def merit(tr: list[_Blob]) -> float:
        colour = float(np.mean([b.colour for b in tr]))
        compact = float(np.mean([b.compact for b in tr]))
        far = min(1.0, travel(tr) / (2 * MIN_TRAVEL_DIAMETERS)) * min(1.0, span(tr) / (MIN_TRAVEL_FRACTION * 3 * side))
        return (0.05 + colour) * (0.1 + compact) * far * np.log1p(len(tr))

    tracklets.sort(key=merit, reverse=True)
    best = tracklets[0]
    chain = _chain(best, tracklets)
    c = np.array([b.centroid for b in chain])
    moving = (len(chain) >= MIN_MOVING_FRAMES and travel(chain) >= MIN_TRAVEL_DIAMETERS
              and span(chain) >= MIN_TRAVEL_FRACTION * side)
    colour = float(np.mean([b.colour for b in chain]))
    compact = float(np.mean([b.compact for b in chain]))
    result = MovingObject(None, colour_match=colour, compactness=compact, travel_diameters=travel(chain),
                          candidates=len(tracklets))
    if not moving:
        result.reason = (f"no compact object travels: the best candidate moves {travel(chain):.1f} of its own "
                         f"diameters ({span(chain):.0f} px) over {len(chain)} frames (need {MIN_TRAVEL_DIAMETERS:g} "
                         f"and {MIN_TRAVEL_FRACTION:.0%} of the frame over {MIN_MOVING_FRAMES})")
        return result
    if compact < MIN_COMPACTNESS:
        result.reason = f"the moving thing is not a compact object (compactness {compact:.2f}): a body part or a region"
        return result
    if prior is not None and colour < 0.15:
        result.reason = f"no moving object has the colour named ({', '.join(prior.words)}); best agreement {colour:.2f}"
        return result
    track = _empty_track(label, t, (h, w))
    for b in chain:
        track.present[b.frame] = True
        track.centroid[b.frame] = b.centroid
        track.area[b.frame] = b.area
        track.bbox[b.frame] = b.bbox
    del c
    _fill_still(frames, track)
    result.track = track
    return result


def _mean_colour(frames: np.ndarray, track: ObjectTrack, r: int) -> np.ndarray:
    """Mean RGB of a small disc at the object's centre over (up to 16 of) its tracked frames."""
    seen = np.flatnonzero(track.present)
    seen = seen[np.linspace(0, len(seen) - 1, min(16, len(seen))).astype(int)]
    cols = []
    for i in seen:
        cx, cy = int(round(track.centroid[i, 0])), int(round(track.centroid[i, 1]))
        patch = frames[i, max(0, cy - r) : cy + r + 1, max(0, cx - r) : cx + r + 1].reshape(-1, 3)
        if len(patch):
            cols.append(patch.mean(0))
    return np.median(cols, axis=0) if cols else np.zeros(3)


def _fill_still(frames: np.ndarray, track: ObjectTrack, reach: int = 12) -> None:
    """Frames where the object is there but barely moves (a swing's turning point, a ball coming to rest):
    the same-sized blob that differs from the backdrop right where the object was, next to a tracked frame."""
    bg = background(frames)
    t = track.num_frames
    area = float(np.median(track.area[track.present]))
    diam = 2 * np.sqrt(area / np.pi)
    look = _mean_colour(frames, track, max(1, int(0.35 * diam)))  # a ghost of the backdrop has another colour
    for direction in (1, -1):
        order = range(t) if direction == 1 else range(t - 1, -1, -1)
        for i in order:
            j = i - direction
            if track.present[i] or not (0 <= j < t) or not track.present[j]:
                continue
            anchor = track.centroid[j]
            mask = foreground_mask(frames[i], bg).astype(np.uint8)
            count, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
            best, best_d = None, 0.5 * diam + 3
            for k in range(1, count):
                d = float(np.linalg.norm(cents[k] - anchor))
                if d <= best_d and 0.5 < stats[k, cv2.CC_STAT_AREA] / area < 2.0:
                    cx, cy = int(round(cents[k][0])), int(round(cents[k][1]))
                    r = max(1, int(0.35 * diam))
                    patch = frames[i, max(0, cy - r) : cy + r + 1, max(0, cx - r) : cx + r + 1].reshape(-1, 3)
                    if len(patch) and float(np.abs(patch.mean(0) - look).sum()) <= 60:
                        best, best_d = k, d
            if best is None:
                continue
            x, y, bw, bh = stats[best, :4]
            track.present[i] = True
            track.centroid[i] = cents[best]
            track.area[i] = float(stats[best, cv2.CC_STAT_AREA])
            track.bbox[i] = (x, y, x + bw - 1, y + bh - 1)


def _chain(best: list[_Blob], tracklets: list[list[_Blob]], max_gap: int = 8) -> list[_Blob]:
    """Extend the best tracklet with others that continue it (same size, near where it was heading)."""
    chain = list(best)
    used = {id(best)}
    changed = True
    while changed:
        changed = False
        for tr in tracklets:
            if id(tr) in used:
                continue
            for forward in (True, False):
                end, start = (chain[-1], tr[0]) if forward else (tr[-1], chain[0])
                if start.frame == end.frame and len(tr) > 1:  # both saw the same frame: keep one
                    start = tr[1] if forward else start
                    end = end if forward else tr[-2]
                gap = start.frame - end.frame
                if not 1 <= gap <= max_gap:
                    continue
                ref = chain if forward else tr
                v = (ref[-1].centroid - ref[-2].centroid) if len(ref) > 1 else np.zeros(2)
                diam = 2 * np.sqrt(end.area / np.pi)
                steps = np.linalg.norm(np.diff([b.centroid for b in ref], axis=0), axis=1) if len(ref) > 1 else np.zeros(1)
                usual = float(np.median(steps))  # while unseen it may have gone on at its usual pace
                if np.linalg.norm(end.centroid + v * gap - start.centroid) <= 2 * diam + 2.5 * (np.linalg.norm(v) + usual) * gap + 4 \
                        and 0.33 < np.median([b.area for b in tr]) / np.median([b.area for b in chain]) < 3.0 and abs(np.mean([b.colour for b in tr]) - np.mean([b.colour for b in chain])) < 0.4:
                    if forward:
                        chain = chain + [b for b in tr if b.frame > chain[-1].frame]
                    else:
                        chain = [b for b in tr if b.frame < chain[0].frame] + chain
                    used.add(id(tr))
                    changed = True
                    break
    return chain
