"""The face half of AV sync's paired signals: where the face is in every frame and its 68 landmarks, cheaply
and on small faces too.

Why not detect in every frame: dlib's HOG detector on a whole frame costs ~70 ms (one upsampling, needed
for faces of ~20 px), more than everything else the metric does. So the whole frame is searched only on a
few probe frames; after that the face is followed — each frame's face is searched again only inside a
small window around where it was, scaled so the face is `LOCAL_FACE_PX` wide there (a few ms, no
upsampling), every `LOCAL_DETECT_EVERY` frames, and boxes in between are interpolated.

Why the crop is enlarged before the landmarks: on a face 20–40 px wide the lips span a few pixels and
the 68-point model, run on the frame itself, returns a mouth that barely moves. Run on the face cut out
and enlarged to `LANDMARK_FACE_PX` (cubic), the same model follows the lips (the TEDx clip of the
real-footage set: face ≈ 30 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PROBE_SIDE = 320  # probe frames are searched on a copy this size, without upsampling (faces ≥ 80 px there) ...
PROBE_FRAMES = 4  # ... this many, spread over the clip
FINE_SIDE = 640  # none found: the middle probes again at up to this size, upsampled once (faces ≥ ~40 px there)
FINE_PROBES = 1  # ... this many of them (none with a face: not a face clip)
LOCAL_FACE_PX = 96  # the window around the last face is scaled so the face is this wide (HOG's 80 px template fits)
LOCAL_WINDOW = 0.5  # the window reaches this many face widths beyond the face on every side
LOCAL_DETECT_EVERY = 6  # frames between local searches; boxes in between are interpolated
LOST_AFTER = 3  # local searches in a row without a face: search the whole frame again (at the next probe step)
LANDMARK_FACE_PX = 160  # the face is cut out and resized to this width before the 68 landmarks
LANDMARK_MIN_HZ = 12.0  # landmarks on every k-th frame, k = ⌊fps / this⌋ (25–30 fps: every 2nd; the rest interpolated)
MIN_FACE_PX = 12  # smaller faces (in the frame) are not measured


@dataclass
class FaceTrack:
    """Per frame the 68 landmarks (n × 68 × 2, frame pixels; NaN where no face or not measured) and the share of
    searched frames with a face. `step`: landmarks were found on every `step`-th frame of each stretch with a
    face (and on its last frame); the frames between are for the caller to interpolate (`fill_between`)."""

    points: np.ndarray
    share: float
    step: int = 1


def _detect(image: np.ndarray, upsample: int) -> np.ndarray | None:
    """The largest face's box (x0, y0, x1, y1) in `image`, or None."""
    from sora_lite.cameo.faces import _LOCK, DETECTION_MIN_SCORE, _detector

    with _LOCK:
        rects, _, _ = _detector().run(np.ascontiguousarray(image), upsample, DETECTION_MIN_SCORE)
    if not len(rects):
        return None
    r = max(rects, key=lambda r: r.width() * r.height())
    return np.array([r.left(), r.top(), r.right(), r.bottom()], dtype=float)


def _scaled(image: np.ndarray, scale: float) -> np.ndarray:
    if abs(scale - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def detect_whole(frame: np.ndarray, fine: bool = False) -> np.ndarray | None:
    """A face anywhere in the frame: on a ≤ `PROBE_SIDE` copy without upsampling (a face ≥ 80 px there, ~40 %
    of its height: a talking head), or (`fine`) on a ≤ `FINE_SIDE` copy upsampled once (≥ ~40 px there; the
    speaker of a TEDx-like wide shot, ~35 px in a 454 px frame). ~10 ms and ~100–170 ms."""
    h, w = frame.shape[:2]
    scale = min(1.0, (FINE_SIDE if fine else PROBE_SIDE) / max(h, w))
    box = _detect(_scaled(frame, scale), 1 if fine else 0)
    return None if box is None else box / scale


def detect_near(frame: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The face again inside a window around `box` (the last place it was), scaled so it is `LOCAL_FACE_PX` wide."""
    h, w = frame.shape[:2]
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = side * (0.5 + LOCAL_WINDOW)
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    scale = LOCAL_FACE_PX / side
    found = _detect(_scaled(frame[y0:y1, x0:x1], scale), 0)
    if found is None:
        return None
    return found / scale + np.array([x0, y0, x0, y0], dtype=float)


def landmarks_enlarged(frame: np.ndarray, box: np.ndarray, predictor: object = None) -> np.ndarray | None:
    """68 landmarks (frame pixels) of the face in `box`, found on the face cut out and resized to
    `LANDMARK_FACE_PX` wide (module docstring)."""
    from sora_lite.cameo.faces import _LOCK, _dlib, landmark68_model

    predictor = predictor if predictor is not None else landmark68_model()
    if predictor is None:
        return None
    h, w = frame.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    if min(bw, bh) < MIN_FACE_PX:
        return None
    mx, my = 0.3 * bw, 0.3 * bh
    x0, y0 = int(max(0, np.floor(box[0] - mx))), int(max(0, np.floor(box[1] - my)))
    x1, y1 = int(min(w, np.ceil(box[2] + mx))), int(min(h, np.ceil(box[3] + my)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    scale = LANDMARK_FACE_PX / bw
    crop = frame[y0:y1, x0:x1]
    size = (max(8, int(round((x1 - x0) * scale))), max(8, int(round((y1 - y0) * scale))))
    crop = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    r = [int(round((box[0] - x0) * scale)), int(round((box[1] - y0) * scale)),
         int(round((box[2] - x0) * scale)), int(round((box[3] - y0) * scale))]
    with _LOCK:
        shape = predictor(np.ascontiguousarray(crop), _dlib().rectangle(*r))
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    return pts / scale + np.array([x0, y0], dtype=float)


def track_face(frames: np.ndarray, fps: float, predictor: object = None) -> FaceTrack:
    """Landmarks of the largest face in every frame it can be followed (module docstring). `predictor`: the
    68-point model when the caller already has it (looking it up again costs a package search)."""
    n = len(frames)
    points = np.full((n, 68, 2), np.nan)
    probe = np.unique(np.linspace(0, n - 1, min(n, PROBE_FRAMES)).astype(int))
    probed = {int(i): detect_whole(frames[int(i)]) for i in probe}
    if all(b is None for b in probed.values()):  # no large face: look for a small one on the middle probes
        middle = sorted(probed, key=lambda i: abs(i - (n - 1) / 2))[:FINE_PROBES]
        for i in middle:
            probed[i] = detect_whole(frames[i], fine=True)
            if probed[i] is not None:
                break
    if all(b is None for b in probed.values()):
        return FaceTrack(points, 0.0)
    boxes = np.full((n, 4), np.nan)
    for i, b in probed.items():
        if b is not None:
            boxes[i] = b
    searched = hits = 0
    last: np.ndarray | None = None
    misses = 0
    start = min(i for i, b in probed.items() if b is not None)
    every_whole = max(LOCAL_DETECT_EVERY, int(round(fps)))  # a lost face is searched for once a second
    for i in list(range(start, -1, -1)) + list(range(start + 1, n)):  # back to the clip's start, then forwards
        if i == start + 1:  # the forward pass starts again from the first found face
            last, misses = boxes[start].copy(), 0
        if np.isfinite(boxes[i, 0]):
            last, misses = boxes[i].copy(), 0
            continue
        if abs(i - start) % LOCAL_DETECT_EVERY and i not in (0, n - 1):
            continue
        if last is None and abs(i - start) % every_whole:
            continue
        searched += 1
        found = detect_near(frames[i], last) if last is not None else detect_whole(frames[i], fine=True)
        if found is None:
            misses += 1
            if misses >= LOST_AFTER:
                last = None
            continue
        hits += 1
        boxes[i], last, misses = found, found, 0
    found_idx = np.flatnonzero(np.isfinite(boxes[:, 0]))
    t = np.arange(n)
    filled = np.full((n, 4), np.nan)
    for c in range(4):
        filled[:, c] = np.interp(t, found_idx, boxes[found_idx, c])
    # Only between two found boxes no more than two search steps apart, or one step beyond either end.
    prev = np.searchsorted(found_idx, t, side="right") - 1
    nxt = np.searchsorted(found_idx, t, side="left")
    pi, ni = found_idx[np.maximum(prev, 0)], found_idx[np.minimum(nxt, len(found_idx) - 1)]
    ok = (np.abs(t - pi) <= LOCAL_DETECT_EVERY) | (np.abs(ni - t) <= LOCAL_DETECT_EVERY)
    ok |= (prev >= 0) & (nxt < len(found_idx)) & (ni - pi <= 2 * LOCAL_DETECT_EVERY)
    if predictor is None:
        from sora_lite.cameo.faces import landmark68_model

        predictor = landmark68_model()
    step = landmark_step(fps)
    for i in landmark_frames(ok, step):
        got = landmarks_enlarged(frames[i], filled[i], predictor)
        if got is not None:
            points[i] = got
    probe_hits = sum(b is not None for b in probed.values())
    share = (hits + probe_hits) / max(1, searched + len(probed))
    return FaceTrack(points, float(share), step)


def landmark_step(fps: float) -> int:
    """Landmarks on every k-th frame: k = ⌊fps / `LANDMARK_MIN_HZ`⌋ (at least 1).

    Why: the 68-point model is ~2–3 ms a call, most of what the face source costs, and the mouth signal is
    smoothed and band-passed to the syllable rate (2–8 Hz; its power is near 4 Hz) before it is compared, so
    ≥ 12 landmark samples a second carry it. Measured on the real talking-head clips (25–30 fps: every 2nd
    frame) the answers moved by ≤ 0.25 frames; at 22 fps every 2nd frame (11 Hz) turned one borderline
    abstention (a rival peak at 0.82 of the best) into an answer, hence the floor above 11 Hz."""
    return max(1, int(float(fps) // LANDMARK_MIN_HZ))


def landmark_frames(ok: np.ndarray, step: int) -> np.ndarray:
    """The frames of `ok` to measure: every `step`-th of each run of consecutive frames, and each run's last."""
    idx = np.flatnonzero(ok)
    if step <= 1 or idx.size == 0:
        return idx
    starts = np.r_[True, np.diff(idx) > 1]
    ends = np.r_[np.diff(idx) > 1, True]
    run_start = idx[starts][np.cumsum(starts) - 1]
    return idx[((idx - run_start) % step == 0) | ends]


def fill_between(values: np.ndarray, step: int) -> np.ndarray:
    """NaN frames lying between two finite ones at most `step` apart get the linear interpolation of the two;
    longer gaps (no face) stay NaN."""
    idx = np.flatnonzero(np.isfinite(values))
    if step <= 1 or idx.size < 2:
        return values
    out = values.copy()
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= step:
            out[a + 1: b] = values[a] + (values[b] - values[a]) * np.arange(1, b - a) / (b - a)
    return out


def lip_gap(points: np.ndarray, inner: bool = False) -> np.ndarray:
    """Per frame the mean vertical lip gap over the distance of the outer eye corners (36, 45): independent
    of face size and zoom. Outer lips (50–58, 51–57, 52–56) by default; inner (61–67, 62–66, 63–65)."""
    pairs = ((61, 67), (62, 66), (63, 65)) if inner else ((50, 58), (51, 57), (52, 56))
    eyes = np.linalg.norm(points[:, 45] - points[:, 36], axis=1)
    gap = np.mean([np.linalg.norm(points[:, a] - points[:, b], axis=1) for a, b in pairs], axis=0)
    return np.where(eyes >= 4, gap / np.maximum(eyes, 1e-9), np.nan)
