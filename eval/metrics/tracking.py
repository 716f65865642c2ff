"""A weight-free pixel tracker: per-object centroid, area and box in every frame.

Objects are found by colour (HSV hue for saturated colours), which suits rendered scenes with saturated
objects over a grey checker floor and a gradient sky; colours too close to the backdrop (a blue ball
under a blue sky) or achromatic ones fall back to background subtraction against the temporal median
frame (static camera). Per frame the largest connected component of an object's mask is its position.
Coordinates are pixels, x right, y *down*.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import cv2
import numpy as np

from eval.metrics.frames import as_frames
from sora_lite.engines.world.spec import COLORS

HUE_TOLERANCE = 12  # OpenCV hue units (0..179 ≙ 0..358°)
MIN_SATURATION = 110  # of 255
MIN_VALUE = 50
MAX_OBJECT_FRACTION = 0.2  # a component larger than this share of the frame is backdrop, not an object
HUE_BINS = 18

# Colour words name the world engine's palette: one table for the generator and the tracker.
NAMED_COLORS: dict[str, tuple[float, float, float]] = COLORS
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
        if word in NAMED_COLORS or word == "grey":
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
