"""Reverse search: a perceptual fingerprint of every stored clip, so `verify` can still name the clip when the
watermark and C2PA are gone (re-encoded, resized, cropped, mirrored, trimmed).

Why a fingerprint on top of the watermark: the mark is a signal we add and an attacker can try to remove;
the fingerprint is a summary of what the clip *looks and sounds like*, kept in our own database, so only
changing the content itself defeats it.

Video: keyframes every STEP_S seconds; each becomes 32×32 thumbnails of luma and two opponent-colour
channels, whose 8×8 low-frequency DCT coefficients (DC dropped) are thresholded at their median: 3 × 63
bits, plus a mask of the 60 % of bits farthest from the median (the stored side compares only those: the
others flip under any re-encode). A hue signature (share of saturated pixels per hue bin, on a log scale)
is added, because our engine makes the same scene with a yellow or a red ball and the layout bits see one
scene. The stored side keeps the hash of the whole frame and of nine 90 % crops (centre, four corners,
four sides), so a cropped copy meets a hash of about the same region (crop synchronisation); the query side is hashed as
seen and mirrored, so a mirrored copy matches too. Two clips match when, at the best time offset and the
best (crop, mirror) pair, the mean distance of the worst quarter of aligned keyframes is ≤
VIDEO_MAX_DISTANCE over ≥ MIN_KEYFRAMES keyframes (see `video_distance`).

Audio: a Haitsma–Kalker style hash (32 bits per 46 ms hop: signs of energy differences across 33 bands of
300–2000 Hz and across time), robust to AAC re-encoding and untouched by mirroring or cropping. Silent
hops carry no bits (masked). Audio matches when the bit error rate over ≥ MIN_AUDIO_HOPS aligned loud
hops is ≤ AUDIO_MAX_BER.

Thresholds and measured hit and false-match rates: bench/fingerprint.py (README "Safety and provenance").
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from sora_lite.store import Store

log = logging.getLogger(__name__)

VERSION = 1
STEP_S = 0.25  # one keyframe every quarter second
THUMB = 32
DCT_BLOCK = 8
CHANNELS = 3
BITS_PER_CHANNEL = DCT_BLOCK * DCT_BLOCK - 1
HASH_BITS = CHANNELS * BITS_PER_CHANNEL  # 189
HASH_WORDS = 3  # 189 bits packed into three uint64 words
CROP_KEEP = 0.9
HUE_BINS = 12
COLOUR_THUMB = 64
MIN_SATURATION = 0.3
COLOUR_EPS = 0.002  # a hue bin below ~0.2 % of the frame counts as empty
RELIABLE_SHARE = 0.6  # share of each channel's bits compared (see `_hash_thumbs`)
STORED_VARIANTS = ("full", "centre90", "tl90", "tr90", "bl90", "br90", "no_left10", "no_right10", "no_top10",
                   "no_bottom10")
QUERY_VARIANTS = ("as_seen", "mirrored")
MIN_SIDE = 32
MIN_KEYFRAMES = 4  # one second of overlap at least
VIDEO_MAX_DISTANCE = 0.20  # see `video_distance`; measured in bench/fingerprint.py
COLOUR_WEIGHT = 0.2
WORST_SHARE = 0.25
MAX_KEYFRAMES = 480  # the first 2 min are fingerprinted (memory and search time grow with n × m)
AUDIO_RATE = 5512
AUDIO_FRAME = 2048  # 0.37 s analysis window
AUDIO_HOP = 256  # 46 ms between sub-fingerprints
AUDIO_BANDS = 33
AUDIO_FMIN, AUDIO_FMAX = 300.0, 2000.0
AUDIO_SILENCE_DB = -55.0  # hops quieter than this (band energy, dBFS) carry no bits
MIN_AUDIO_HOPS = 40  # ~2 s of sound
AUDIO_MAX_BER = 0.30  # Haitsma–Kalker use 0.35 over 256 hops; we have fewer hops, so stricter


class FingerprintError(ValueError):
    """Frames or audio the fingerprint cannot be computed from; the message says what to pass."""


@dataclass
class Fingerprint:
    """Perceptual hashes of one clip.

    video: uint64 (keyframes, variants, 2, HASH_WORDS): hash and reliable-bit mask; audio: uint32 (hops,)
    with `audio_mask` (hops,) bool (False: a silent hop, no bits). Stored clips carry STORED_VARIANTS,
    queries QUERY_VARIANTS.
    """

    video: np.ndarray
    colour: np.ndarray  # float32 (keyframes, HUE_BINS): see `colour_signature`
    audio: np.ndarray | None = None
    audio_mask: np.ndarray | None = None
    step_s: float = STEP_S
    version: int = VERSION

    @property
    def keyframes(self) -> int:
        return int(self.video.shape[0])

    @property
    def loud_hops(self) -> int:
        return 0 if self.audio_mask is None else int(self.audio_mask.sum())

    def to_blobs(self) -> dict[str, Any]:
        """Columns for the store: raw little-endian bytes plus their shapes."""
        audio = self.audio if self.audio is not None else np.zeros(0, np.uint32)
        mask = self.audio_mask if self.audio_mask is not None else np.zeros(0, bool)
        return {
            "version": self.version, "step_s": self.step_s,
            "video_shape": list(self.video.shape),
            "video_hashes": self.video.astype("<u8").tobytes(),
            "colour": self.colour.astype("<f2").tobytes(),
            "audio_hashes": audio.astype("<u4").tobytes(),
            "audio_mask": np.packbits(mask.astype(bool)).tobytes(),
            "audio_hops": int(audio.shape[0]),
        }

    @classmethod
    def from_blobs(cls, row: dict[str, Any]) -> "Fingerprint":
        video = np.frombuffer(row["video_hashes"], "<u8").astype(np.uint64).reshape(row["video_shape"])
        hops = int(row.get("audio_hops") or 0)
        audio = mask = None
        if hops:
            audio = np.frombuffer(row["audio_hashes"], "<u4").astype(np.uint32)
            mask = np.unpackbits(np.frombuffer(row["audio_mask"], np.uint8))[:hops].astype(bool)
        colour = np.frombuffer(row["colour"], "<f2").astype(np.float32).reshape(video.shape[0], HUE_BINS)
        return cls(video=video, colour=colour, audio=audio, audio_mask=mask, step_s=float(row["step_s"]),
                   version=int(row["version"]))


@dataclass
class FingerprintMatch:
    """How well a query matches one stored clip. `matched`: video or audio cleared its threshold."""

    clip_id: str
    matched: bool
    video_distance: float | None = None  # see `video_distance` (0 identical … ~0.5 unrelated)
    video_keyframes: int = 0
    offset_s: float = 0.0  # where the query starts in the stored clip
    mirrored: bool = False
    crop: str = "full"
    audio_ber: float | None = None
    audio_hops: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def video_matched(self) -> bool:
        return self.video_distance is not None and self.video_distance <= VIDEO_MAX_DISTANCE

    @property
    def audio_matched(self) -> bool:
        return self.audio_ber is not None and self.audio_ber <= AUDIO_MAX_BER

    def to_dict(self) -> dict[str, Any]:
        return {"clip_id": self.clip_id, "matched": self.matched, "video_distance": self.video_distance,
                "video_keyframes": self.video_keyframes, "offset_s": self.offset_s, "mirrored": self.mirrored,
                "crop": self.crop, "audio_ber": self.audio_ber, "audio_hops": self.audio_hops,
                "video_matched": self.video_matched, "audio_matched": self.audio_matched}


# ---------------------------------------------------------------- video hashes

_MEDIAN_RANK = BITS_PER_CHANNEL // 2


def _crops(h: int, w: int) -> list[tuple[int, int, int, int]]:
    """(y0, y1, x0, x1) of each stored variant."""
    hh, ww = round(h * CROP_KEEP), round(w * CROP_KEEP)
    cy, cx = (h - hh) // 2, (w - ww) // 2
    return [(0, h, 0, w), (cy, cy + hh, cx, cx + ww), (0, hh, 0, ww), (0, hh, w - ww, w), (h - hh, h, 0, ww),
            (h - hh, h, w - ww, w), (0, h, w - ww, w), (0, h, 0, ww), (h - hh, h, 0, w), (0, hh, 0, w)]


def _channels(rgb: np.ndarray) -> np.ndarray:
    """3×THUMB×THUMB float32: luma and two opponent colours (R−G, (R+G)/2−B) of an area-averaged thumbnail."""
    small = cv2.resize(rgb, (THUMB, THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    return np.stack([0.299 * r + 0.587 * g + 0.114 * b, r - g, 0.5 * (r + g) - b])


def _pack(bits: list[np.ndarray]) -> np.ndarray:
    flat = np.concatenate(bits + [np.zeros(HASH_WORDS * 64 - HASH_BITS, bool)])
    return np.packbits(flat).view(">u8").astype(np.uint64)


def _hash_thumbs(chans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CHANNELS×THUMB×THUMB → (hash, reliable-bit mask), each HASH_WORDS uint64.

    A bit is its low DCT coefficient above the channel's median; it is *reliable* when the coefficient is
    among the RELIABLE_SHARE farthest from that median (a coefficient near the median flips under the
    slightest re-encode, and the stored side knows which ones those are).
    """
    bits, reliable = [], []
    for ch in chans:
        coeffs = cv2.dct(ch)[:DCT_BLOCK, :DCT_BLOCK].ravel()[1:]
        med = np.partition(coeffs, _MEDIAN_RANK)[_MEDIAN_RANK]
        bits.append(coeffs > med)
        margin = np.abs(coeffs - med)
        reliable.append(margin >= np.quantile(margin, 1.0 - RELIABLE_SHARE))
    return _pack(bits), _pack(reliable)


def colour_signature(rgb: np.ndarray) -> np.ndarray:
    """(HUE_BINS,) share of the frame's pixels that are saturated, per hue bin: mirror- and nearly
    crop-invariant, and what tells our engine's yellow-ball clip from the same scene with a red ball
    (the layout hash sees one scene)."""
    small = cv2.resize(rgb, (COLOUR_THUMB, COLOUR_THUMB), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    sat = hsv[:, 1] / 255.0
    weight = np.where((sat >= MIN_SATURATION) & (hsv[:, 2] >= 40), sat, 0.0)
    bins = (hsv[:, 0] * HUE_BINS / 256.0).astype(np.int64) % HUE_BINS
    return (np.bincount(bins, weights=weight, minlength=HUE_BINS) / len(sat)).astype(np.float32)


def colour_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over hue bins of |log((a+ε)/(b+ε))| / log(1/ε): on a log scale a small red ball instead of a
    yellow one counts, while the sky both share cancels; a bin under ε is as good as empty."""
    return np.abs(np.log((a + COLOUR_EPS) / (b + COLOUR_EPS))).sum(axis=-1) / math.log(1 / COLOUR_EPS)


def frame_hashes(rgb: np.ndarray, *, stored: bool) -> np.ndarray:
    """(variants, 2, HASH_WORDS) hash and reliable-bit mask of one RGB frame: stored side (crops) or query
    side (as seen, mirrored)."""
    if stored:
        h, w = rgb.shape[:2]
        return np.stack([np.stack(_hash_thumbs(_channels(rgb[y0:y1, x0:x1]))) for y0, y1, x0, x1 in _crops(h, w)])
    chans = _channels(rgb)
    return np.stack([np.stack(_hash_thumbs(chans)), np.stack(_hash_thumbs(chans[:, :, ::-1].copy()))])


def pick_keyframes(timed_frames: Iterable[tuple[float, np.ndarray]], step_s: float = STEP_S) -> list[np.ndarray]:
    """The frame shown at each keyframe time (the last frame starting at or before it), from a stream of
    (seconds, frame); times count from the first frame, so a trimmed copy starts at its own 0."""
    out: list[np.ndarray] = []
    last: np.ndarray | None = None
    t0: float | None = None
    for t, frame in timed_frames:
        t0 = t if t0 is None else t0
        while last is not None and len(out) < MAX_KEYFRAMES and (t - t0) > len(out) * step_s + 1e-6:
            out.append(last)
        if len(out) >= MAX_KEYFRAMES:
            break
        last = frame
    if last is not None and len(out) < MAX_KEYFRAMES:
        out.append(last)
    return out


def video_hashes(frames: np.ndarray | list[np.ndarray], fps: float | None = None, *, stored: bool,
                 step_s: float = STEP_S) -> tuple[np.ndarray, np.ndarray]:
    """(hashes (keyframes, variants, 2, HASH_WORDS), colour (keyframes, HUE_BINS)) for RGB frames at `fps`
    (or already one per keyframe if fps is None)."""
    if len(frames) == 0:
        raise FingerprintError("no frames to fingerprint")
    first = frames[0]
    if not isinstance(first, np.ndarray) or first.ndim != 3 or first.shape[2] != 3 or first.dtype != np.uint8:
        raise FingerprintError(f"frames must be uint8 H×W×3 RGB, got {getattr(first, 'shape', type(first))}")
    if min(first.shape[:2]) < MIN_SIDE:
        raise FingerprintError(f"frames of {first.shape[1]}×{first.shape[0]} are too small to fingerprint "
                               f"(≥ {MIN_SIDE} px)")
    keys = list(frames) if fps is None else pick_keyframes(((i / fps, f) for i, f in enumerate(frames)), step_s)
    return (np.stack([frame_hashes(f, stored=stored) for f in keys]),
            np.stack([colour_signature(f) for f in keys]))


# ---------------------------------------------------------------- audio hashes


def audio_hashes(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint32 sub-fingerprints, bool loud mask) of float audio channels×samples at `rate`."""
    from scipy.signal import resample_poly

    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    audio = np.asarray(audio, np.float64)
    g = math.gcd(int(rate), AUDIO_RATE)
    mono = resample_poly(audio, AUDIO_RATE // g, int(rate) // g) if rate != AUDIO_RATE else audio
    if len(mono) < AUDIO_FRAME + AUDIO_HOP:
        return np.zeros(0, np.uint32), np.zeros(0, bool)
    n = 1 + (len(mono) - AUDIO_FRAME) // AUDIO_HOP
    idx = np.arange(AUDIO_FRAME)[None, :] + AUDIO_HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(mono[idx] * np.hanning(AUDIO_FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(AUDIO_FRAME, 1 / AUDIO_RATE)
    edges = np.geomspace(AUDIO_FMIN, AUDIO_FMAX, AUDIO_BANDS + 1)
    band = np.stack([spec[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in zip(edges[:-1], edges[1:])], 1)
    energy = band + 1e-12
    d = np.diff(energy, axis=1)  # (n, 32): E(m) - E(m+1) with a sign flip that does not matter
    bits = (d[1:] - d[:-1]) > 0  # (n-1, 32)
    loud_db = 10 * np.log10(energy.sum(axis=1) / (AUDIO_FRAME * AUDIO_FRAME / 4) + 1e-20)
    mask = (loud_db[1:] > AUDIO_SILENCE_DB) & (loud_db[:-1] > AUDIO_SILENCE_DB)
    words = np.packbits(bits, axis=1).view(">u4").ravel().astype(np.uint32)
    return words, mask


# ---------------------------------------------------------------- files and clips


def fingerprint_frames(frames: np.ndarray, fps: float, audio: np.ndarray | None = None,
                       sample_rate: int | None = None, *, stored: bool) -> Fingerprint:
    """The fingerprint of decoded frames (T×H×W×3 uint8 RGB) and optional audio."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4:
        raise FingerprintError(f"frames must be a T×H×W×3 uint8 array, got {getattr(frames, 'shape', type(frames))}")
    video, colour = video_hashes(list(frames), float(fps), stored=stored)
    fp = Fingerprint(video=video, colour=colour)
    if audio is not None and sample_rate:
        fp.audio, fp.audio_mask = audio_hashes(audio, int(sample_rate))
    return fp


def fingerprint_file(path: str | Path, *, stored: bool) -> Fingerprint:
    """Stream a video file (keyframes only are kept) and its sound into a fingerprint. Raises MediaError."""
    from sora_lite.media import iter_frames, read_audio

    keys = pick_keyframes(iter_frames(path))
    if not keys:
        raise FingerprintError(f"{Path(path).name} has no video frames to fingerprint")
    video, colour = video_hashes(keys, None, stored=stored)
    fp = Fingerprint(video=video, colour=colour)
    sound = read_audio(path)
    if sound is not None:
        fp.audio, fp.audio_mask = audio_hashes(sound[0][:, : int(MAX_KEYFRAMES * STEP_S * sound[1])], sound[1])
    return fp


# ---------------------------------------------------------------- matching

_POP8 = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    return _POP8[x.view(np.uint8)].reshape(*x.shape, x.dtype.itemsize).sum(axis=-1, dtype=np.int64)


def video_distance(query: Fingerprint, stored: Fingerprint) -> tuple[float, int, int, int, int]:
    """Best (distance, keyframes, offset, query variant, stored variant) over time offsets.

    A keyframe pair's distance is the share of the stored side's reliable layout bits that differ, plus
    COLOUR_WEIGHT × their colour distance. A clip's distance at one alignment is the mean of the worst
    quarter of its keyframes (WORST_SHARE): two of our clips that share an empty floor for most of their
    length differ only where their objects are, and a plain mean would dilute that. Offsets let the query
    start anywhere in the stored clip (or the stored clip start inside the query).
    """
    n, m = query.keyframes, stored.keyframes
    qv, sv = query.video.shape[1], stored.video.shape[1]
    colour = COLOUR_WEIGHT * colour_distance(query.colour[:, None, :], stored.colour[None, :, :])  # (n, m)
    d = np.empty((n, m, qv, sv), np.float32)
    for s in range(sv):  # variant by variant: (n, m, words) at a time, not all of them at once
        sh, sm = stored.video[:, s, 0], stored.video[:, s, 1]
        reliable = np.maximum(_popcount(sm).sum(axis=-1), 1)[None, :]
        for q in range(qv):
            x = (query.video[:, q, 0][:, None, :] ^ sh[None, :, :]) & sm[None, :, :]
            d[:, :, q, s] = _popcount(x).sum(axis=-1) / reliable + colour
    best = (math.inf, 0, 0, 0, 0)
    need = min(MIN_KEYFRAMES, n, m)
    for off in range(-(n - need), m - need + 1):  # query keyframe i ↔ stored keyframe i + off
        i0, i1 = max(0, -off), min(n, m - off)
        if i1 - i0 < need:
            continue
        diag = np.sort(d[np.arange(i0, i1), np.arange(i0, i1) + off], axis=0)  # (k, Q, S), ascending
        worst = diag[int(math.floor((i1 - i0) * (1 - WORST_SHARE))):].mean(axis=0)
        q, s = np.unravel_index(int(np.argmin(worst)), worst.shape)
        if float(worst[q, s]) < best[0]:
            best = (float(worst[q, s]), i1 - i0, off, int(q), int(s))
    return best


def audio_ber(query: np.ndarray, qmask: np.ndarray, stored: np.ndarray, smask: np.ndarray) -> tuple[float | None, int]:
    """Lowest bit error rate over offsets with ≥ MIN_AUDIO_HOPS loud hops in both; (None, 0) if none has."""
    n, m = len(query), len(stored)
    if n == 0 or m == 0:
        return None, 0
    best: tuple[float | None, int] = (None, 0)
    step = 1
    for off in range(-(n - 1), m, step):
        i0, i1 = max(0, -off), min(n, m - off)
        if i1 - i0 < MIN_AUDIO_HOPS:
            continue
        both = qmask[i0:i1] & smask[i0 + off : i1 + off]
        k = int(both.sum())
        if k < MIN_AUDIO_HOPS:
            continue
        errs = _popcount(query[i0:i1][both] ^ stored[i0 + off : i1 + off][both]).sum() / (32.0 * k)
        if best[0] is None or errs < best[0]:
            best = (float(errs), k)
    return best


def compare(query: Fingerprint, clip_id: str, stored: Fingerprint) -> FingerprintMatch:
    """Match a query fingerprint (as seen + mirrored) against one stored clip's (crop variants)."""
    dist, keys, off, q, s = video_distance(query, stored)
    match = FingerprintMatch(clip_id=clip_id, matched=False, video_distance=dist if keys else None,
                             video_keyframes=keys, offset_s=off * stored.step_s, mirrored=q == 1,
                             crop=STORED_VARIANTS[s] if s < len(STORED_VARIANTS) else str(s))
    if keys < MIN_KEYFRAMES:
        match.video_distance = None
        match.reasons.append(f"only {keys} keyframes overlap (need {MIN_KEYFRAMES})")
    if query.audio is not None and stored.audio is not None and query.audio_mask is not None \
            and stored.audio_mask is not None:
        match.audio_ber, match.audio_hops = audio_ber(query.audio, query.audio_mask, stored.audio, stored.audio_mask)
    match.matched = match.video_matched or match.audio_matched
    return match


def search(query: Fingerprint, candidates: Iterable[tuple[str, Fingerprint]], limit: int = 3) -> list[FingerprintMatch]:
    """Matches among `candidates`, best first (video distance, then audio BER); unmatched ones are dropped."""
    found = [m for cid, fp in candidates if (m := compare(query, cid, fp)).matched]
    found.sort(key=lambda m: (m.video_distance if m.video_matched else 1.0 + (m.audio_ber or 1.0)))
    return found[:limit]


# ---------------------------------------------------------------- the store

def index_clip(store: "Store", clip_id: str, video_path: str | Path) -> Fingerprint | None:
    """Fingerprint a stored clip's file and keep it in the database (replacing an older one).

    A clip without a fingerprint is still a clip: a file that cannot be read returns None and is logged,
    it does not undo the clip.
    """
    from sora_lite.media import MediaError
    from sora_lite.store import ClipFingerprint

    try:
        fp = fingerprint_file(video_path, stored=True)
    except (MediaError, FingerprintError) as exc:
        log.warning("no fingerprint for clip %s: %s", clip_id, exc)
        return None
    with store.session() as s:
        row = s.get(ClipFingerprint, clip_id) or ClipFingerprint(clip_id=clip_id)
        for key, value in fp.to_blobs().items():
            setattr(row, key, value)
        s.add(row)
    return fp


def stored_fingerprints(store: "Store") -> Iterator[tuple[str, Fingerprint]]:
    """Every fingerprint of this instance's clips (deleted clips included: they were still made here)."""
    from sqlalchemy import select

    from sora_lite.store import ClipFingerprint

    with store.session() as s:
        rows = s.execute(select(ClipFingerprint).where(ClipFingerprint.version == VERSION)).scalars().all()
        blobs = [(r.clip_id, {c: getattr(r, c) for c in ("version", "step_s", "video_shape", "video_hashes", "colour",
                                                          "audio_hashes", "audio_mask", "audio_hops")}) for r in rows]
    for clip_id, blob in blobs:
        yield clip_id, Fingerprint.from_blobs(blob)


def search_store(store: "Store", query: Fingerprint, limit: int = 3) -> list[FingerprintMatch]:
    """This instance's clips that `query` matches, best first."""
    return search(query, stored_fingerprints(store), limit=limit)
