"""The paired signals AV sync compares, one pair per kind of clip, each sampled once per video frame.

Why two sources: on camera footage a talking face is the only thing whose motion follows the sound
continuously, and it does so through the mouth, not the head (the head's motion is what a global flow
follows); everything else makes sound at contacts, which show as a sudden change of motion somewhere in
the picture, not everywhere.

- "face": mouth opening from dlib's 68 landmarks (outer-lip gap over the eye distance) against the speech
  envelope (log energy of the 300–3000 Hz band). Both are band-passed to the syllable rate (2–8 Hz),
  so slow drifts (breathing, zoom) and frame-level jitter (landmark noise, codec noise) drop out. The face
  is found on a few probe frames and followed with cheap local searches, and the landmarks are found on
  the face cut out and enlarged (`eval.metrics.av_face`): faces of ~25 px are measured too.
- "motion": localised motion change against audio onsets. Farneback flow on a ≤ 96 px grey copy, one per
  frame pair; the velocity change along the motion (out − in, on the frame's own grid, the incoming flow warped there,
  minus the frame's median: camera shake) relative to the speed, per cell of a grid, plus a brightness-jump
  term (flashes, appearances). Cells are normalised by their own typical level and the most active quarter
  averaged — chosen by motion alone, never by the sound, so the significance test stays fair — and
  log-compressed, so one extreme frame (a cut, a flash) cannot carry the correlation alone. Audio:
  spectral flux (log-magnitude rise), log-compressed.

Every signal is smoothed over ≈ ±1 frame before it is compared: the lag must not depend on which single
frame an encoder happens to sharpen (stability across CRF re-encodes).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.ndimage
import scipy.signal

ANALYSIS_SIDE = 128
MOTION_SIDE = 96  # two flows per frame at 96 px cost about one at 128 px
RENDER_FLAT_SHARE = 0.45  # a clip looks rendered when this share of its pixels is exactly flat (looks_rendered)
RENDER_FLAT_LEVEL = 0.0  # |Laplacian| (grey levels, ≤ 128 px copy) at or below which a pixel counts as flat
GRID = 6  # motion cells per side
MOTION_FLOOR_PX = 2.0  # px/frame added to a cell's speed before dividing: above gravity's ½ px/frame² (see combine_cells)
ACTIVE_SHARE = 0.25  # the most active share of cells forms the visual event signal
FACE_MIN_SHARE = 0.25  # a face clip: a face in at least this share of the sampled frames ...
FACE_MIN_SECONDS = 2.0  # ... and for at least this long (the lag is judged on those frames only)
SPEECH_BAND_HZ = (300.0, 3000.0)
SYLLABLE_BAND_HZ = (2.0, 8.0)  # where mouth area and the speech envelope are coherent (Chandrasekaran et al. 2009: 2–7 Hz)


@dataclass
class PairedSignals:
    """One clip's audio and visual signals on the video's frame grid (index i = frame i).

    valid: frames where the visual signal exists (a face was found); the correlation uses only those.
    """

    source: str  # "face" | "motion"
    audio: np.ndarray
    visual: np.ndarray
    valid: np.ndarray
    note: str = ""


# --- audio ------------------------------------------------------------------------------------------------

def _frame_bins(times: np.ndarray, fps: float, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    bins = np.floor(times * fps + 0.5).astype(int)
    keep = (bins >= 0) & (bins < num_frames)
    return bins, keep


def speech_envelope(audio: np.ndarray, sample_rate: int, fps: float, num_frames: int) -> np.ndarray:
    """Log energy of the speech band (300–3000 Hz) per video frame (mean over the frame's hops)."""
    mono = audio.mean(0).astype(np.float64)
    hop = max(1, int(round(sample_rate / (fps * 4))))
    f, times, spec = scipy.signal.stft(mono, fs=sample_rate, window="hann", nperseg=4 * hop, noverlap=3 * hop,
                                       boundary=None, padded=False)
    band = (f >= SPEECH_BAND_HZ[0]) & (f <= min(SPEECH_BAND_HZ[1], 0.45 * sample_rate))
    energy = (np.abs(spec[band]) ** 2).sum(0)

    env = np.zeros(num_frames)
    count = np.zeros(num_frames)
    bins, keep = _frame_bins(times, fps, num_frames)
    np.add.at(env, bins[keep], energy[keep])
    np.add.at(count, bins[keep], 1)
    env = np.where(count > 0, env / np.maximum(count, 1), 0.0)
    floor = max(float(np.percentile(env, 95)) * 1e-4, 1e-12)  # silence floor: 40 dB under the loud part
    return np.log(env + floor)


def onset_envelope(audio: np.ndarray, sample_rate: int, fps: float, num_frames: int) -> np.ndarray:
    """Spectral flux (rise of log magnitude), max per video frame, log-compressed against its median."""
    mono = audio.mean(0).astype(np.float64)
    hop = max(1, int(round(sample_rate / (fps * 4))))
    _, times, spec = scipy.signal.stft(mono, fs=sample_rate, window="hann", nperseg=2 * hop, noverlap=hop)
    logmag = np.log1p(1000.0 * np.abs(spec))
    flux = np.maximum(np.diff(logmag, axis=1), 0.0).sum(0)
    env = np.zeros(num_frames)
    bins, keep = _frame_bins(times[1:], fps, num_frames)
    np.maximum.at(env, bins[keep], flux[keep])
    return compress_flux(env)


def compress_flux(env: np.ndarray) -> np.ndarray:
    """Spectral flux per frame, log-compressed against its median (`onset_envelope`'s last step)."""
    return np.log1p(env / (float(np.median(env)) + 1e-9))


# --- faces ------------------------------------------------------------------------------------------------

def mouth_opening(frames: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
    """(mouth opening per frame, NaN where no face; share of searched frames with a face).

    Opening = mean outer-lip gap (landmarks 50–58, 51–57, 52–56) / distance of the outer eye corners
    (36, 45): independent of face size and of zoom. (The outer lips move more and are located more surely
    by the 68-point model than the inner ones, which often close to a line.) The face is found on a few
    probe frames and followed from there (`eval.metrics.av_face.track_face`: cheap local searches), and
    the landmarks are found on the face cut out and enlarged, so that small faces (~25 px) are measured too.
    """
    from eval.metrics.av_face import fill_between, lip_gap, track_face
    from sora_lite.cameo.faces import landmark68_model

    predictor = landmark68_model()
    if predictor is None:  # no 68-point weights here: no face source
        return np.full(len(frames), np.nan), 0.0
    track = track_face(frames, fps, predictor)
    if track.share == 0.0:
        return np.full(len(frames), np.nan), 0.0
    return fill_between(lip_gap(track.points), track.step), track.share


# --- motion -----------------------------------------------------------------------------------------------

def flat_share(frames: np.ndarray, probes: int = 4) -> float:
    """Share of pixels whose grey |Laplacian| is ≤ `RENDER_FLAT_LEVEL` (0: exactly flat) on a ≤ 128 px copy of a
    few frames."""
    idx = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), probes)).astype(int))
    gray = small_gray(frames[idx]).astype(np.float32)
    return float(np.mean([(np.abs(cv2.Laplacian(g, cv2.CV_32F)) <= RENDER_FLAT_LEVEL).mean() for g in gray]))


def looks_rendered(frames: np.ndarray) -> bool:
    """Whether the clip looks like a flat-shaded render (the engine's scenes) rather than camera footage.

    Why: the events source (tracked saturated-colour objects, `eval.metrics.av_sync`) is precise on renders
    and useless on camera footage, where skin, sky and lawn become "objects" and codec noise in their
    centroids becomes impacts — and tracking them costs as much as the rest of the metric. A renderer's
    surfaces are exactly flat (no sensor noise, grain or texture): after downscaling, 52–57 % of the pixels of
    the engine's scenes (through an MP4 round trip; 61–67 % before it) have a grey Laplacian of exactly 0; on 14
    real clips 4–18 %, and 33 % for a still camera on a plain wall. (Flat to ±1 grey level does not separate
    them: 70–73 % against up to 66 %.) A camera clip taken for a render only costs time (both sources are tried,
    as before); a render taken for camera footage loses the precise source.
    """
    return len(frames) > 0 and flat_share(frames) >= RENDER_FLAT_SHARE


def small_gray(frames: np.ndarray, side: int = ANALYSIS_SIDE) -> np.ndarray:
    _, h, w, _ = frames.shape
    scale = min(1.0, side / max(h, w))
    size = (max(8, int(round(w * scale))), max(8, int(round(h * scale))))
    return np.stack([cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA) for f in frames])


def _flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 2, 9, 3, 5, 1.1, 0)


def local_motion_events(frames: np.ndarray) -> np.ndarray:
    """Per frame, how suddenly motion changed somewhere (see module docstring); index i = the frame the
    change shows in.

    The change is followed along the motion, not read at a fixed place: on frame i's own pixel grid the
    velocity out (flow i → i+1) minus the velocity in (`incoming_velocity`: the flow i−1 → i carried to where
    it arrives). An object merely entering a cell changes that cell's mean flow without any contact; its own
    velocity change does not. A steady fall (gravity) changes it a little every frame, an impact or a stop by
    about twice its speed. One Farneback flow per frame pair (the backward flow i → i−1 is not computed
    again: the forward one, warped, stands in for it), so the motion source costs half what it did.
    """
    gray = small_gray(frames, MOTION_SIDE)
    n = len(gray)
    cells = np.zeros((n, GRID * GRID))  # mean |acceleration| per cell at frame i
    speed = np.zeros((n, GRID * GRID))
    bright = np.zeros((n, GRID * GRID))  # mean |frame difference| into frame i
    if n < 2:
        return combine_cells(cells, speed, bright)
    # Cell means by area resizing (area = cell mean); all frames' differences at once, as one many-channel image.
    diff = np.abs(np.diff(gray.astype(np.float32), axis=0))  # (n−1) × h × w: into frames 1 … n−1
    bright[1:] = _cell_means(diff)
    maps = np.zeros((n, 2) + gray.shape[1:], np.float32)  # per frame: |acceleration|, speed in + out
    h, w = gray.shape[1:]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    prev = _flow(gray[0], gray[1])  # forward flow of frame i − 1 (on its own grid)
    for i in range(1, n - 1):
        fwd = _flow(gray[i], gray[i + 1])
        v_in = incoming_velocity(prev, gx, gy)
        acc = fwd - v_in  # v_out − v_in
        acc -= _median_vector(acc[::2, ::2])  # a shaking camera accelerates every pixel alike
        maps[i, 0] = _norm(acc)
        maps[i, 1] = _norm(fwd) + _norm(v_in)
        prev = fwd
    cells[1:-1] = _cell_means(maps[1:-1, 0])
    speed[1:-1] = _cell_means(maps[1:-1, 1])
    return combine_cells(cells, speed, bright)


def incoming_velocity(prev_flow: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """The velocity with which each pixel of frame i arrived, from the forward flow of frame i − 1 (on frame
    i − 1's grid): the flow read where the pixel came from, x − v(x) (one fixed-point step of x = p + v(p)).
    It stands in for −(flow i → i−1) at half the cost (the same vector on a steady translation). Read in
    place instead, the background a moving object uncovers would look like it stopped; what one step leaves
    (the object's first v pixels ahead read the old background) is what the in-place reading has too."""
    return cv2.remap(prev_flow, gx - prev_flow[..., 0], gy - prev_flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def _median_vector(field: np.ndarray) -> np.ndarray:
    """Per-component median of an h × w × 2 field: `np.median(field.reshape(-1, 2), axis=0)`, by one partition
    (np.median's own bookkeeping costs more than the work on a 48 × 36 field)."""
    comp = field.reshape(-1, 2).T.copy()
    m = comp.shape[1]
    k = m // 2
    if m % 2:
        return np.partition(comp, k, axis=1)[:, k]
    part = np.partition(comp, (k - 1, k), axis=1)
    return 0.5 * (part[:, k - 1] + part[:, k])


def _norm(v: np.ndarray) -> np.ndarray:
    """|v| per pixel of an h × w × 2 field: the same numbers as `np.linalg.norm(v, axis=2)`, several times faster."""
    x, y = v[..., 0], v[..., 1]
    return np.sqrt(x * x + y * y)


def _cell_means(maps: np.ndarray) -> np.ndarray:
    """k × h × w maps → k × GRID² cell means (area resizing, as per map). Where the cells are whole pixels,
    many maps go through OpenCV at once as channels of one image (its limit: 128); else one map at a time
    (OpenCV's general area resizing takes at most 4 channels)."""
    out = np.zeros((len(maps), GRID * GRID))
    if maps.shape[1] % GRID or maps.shape[2] % GRID:
        for k, m in enumerate(maps):
            out[k] = cv2.resize(m, (GRID, GRID), interpolation=cv2.INTER_AREA).reshape(-1)
        return out
    for s in range(0, len(maps), 128):
        chunk = np.ascontiguousarray(maps[s: s + 128].transpose(1, 2, 0))
        small = cv2.resize(chunk, (GRID, GRID), interpolation=cv2.INTER_AREA)
        out[s: s + 128] = small.reshape(GRID * GRID, -1).T
    return out


def combine_cells(accel: np.ndarray, speed: np.ndarray, bright: np.ndarray) -> np.ndarray:
    """Per-cell |velocity change|, speed in+out and |brightness change| (frames × cells) → the event signal.

    The change counts relative to the speed plus `MOTION_FLOOR_PX`: flow errors grow with speed, and a
    contact (a reversal or a stop: |Δv| ≈ speed) is ~1 at any speed — while gravity's steady pull, which
    turns a thrown object round at its apex silently, stays well below 1 (|Δv| ≈ g ≈ ½ px/frame² at the
    analysis size, against the floor). Without the floor an apex would look like a contact and periodic
    motion (juggling, bouncing, kick-ups) would match its sounds half a period off.
    """
    events = accel / (speed + MOTION_FLOOR_PX)
    # Brightness jumps far above the cell's local level (flashes, appearances), in the same units (px-ish).
    jump = np.maximum(bright - 3.0 * scipy.ndimage.median_filter(bright, size=(7, 1), mode="nearest"), 0.0)
    events = events + jump / 16.0  # a grey-level step of ≈ 16 counts like a full reversal
    activity = speed.mean(0) + bright.mean(0) / 4.0
    keep = np.argsort(-activity)[: max(1, int(round(ACTIVE_SHARE * GRID * GRID)))]
    sel = events[:, keep]
    scale = np.median(sel, axis=0) + 0.05 * (sel.max(0) + 1e-6)  # per cell: typical level, not 0
    # Squared against the typical level: a contact's change must stand out from pixel-step jitter.
    return ((sel / scale) ** 2).mean(1)


# --- selection ---------------------------------------------------------------------------------------------

def smooth(x: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    return scipy.ndimage.gaussian_filter1d(x.astype(np.float64), sigma, mode="nearest")


def syllable_band(x: np.ndarray, fps: float) -> np.ndarray:
    """Band-pass to the syllable rate (zero phase: no lag is added)."""
    lo, hi = SYLLABLE_BAND_HZ
    hi = min(hi, 0.45 * fps)
    sos = scipy.signal.butter(2, [lo, hi], btype="bandpass", fs=fps, output="sos")
    pad = min(len(x) - 1, 3 * int(round(fps / lo)))
    return scipy.signal.sosfiltfilt(sos, x, padlen=max(0, pad))


def paired_signals(frames: np.ndarray, fps: float, audio: np.ndarray, sample_rate: int, face: bool = True,
                   motion: bool = True, flux: np.ndarray | None = None) -> PairedSignals:
    """The face source when a face is in enough of the clip, else the localised-motion source (`motion=False`:
    source "none" with empty signals instead, so a caller can try something cheaper first). `flux`: the
    spectral flux per frame when the caller has it (`av_sync.audio_onset_envelope`: the same STFT)."""
    n = len(frames)
    opening, share = mouth_opening(frames, fps) if n >= 8 and face else (np.full(n, np.nan), 0.0)
    valid = np.isfinite(opening)
    if share >= FACE_MIN_SHARE and valid.sum() >= max(8, int(FACE_MIN_SECONDS * fps)):
        filled = np.interp(np.arange(n), np.flatnonzero(valid), opening[valid])
        visual = syllable_band(smooth(filled, 0.7), fps)
        speech = syllable_band(smooth(speech_envelope(audio, sample_rate, fps, n), 0.7), fps)
        return PairedSignals("face", speech, visual, valid, f"face in {share:.0%} of sampled frames")
    if not motion:
        return PairedSignals("none", np.zeros(n), np.zeros(n), np.zeros(n, bool), "no face")
    # Log-compressed like the audio onsets: one extreme frame (a cut, a flash) must not carry the correlation alone.
    visual = smooth(np.log1p(local_motion_events(frames)))
    onsets = smooth(onset_envelope(audio, sample_rate, fps, n) if flux is None else compress_flux(flux))
    return PairedSignals("motion", onsets, visual, np.ones(n, bool), "no face in most frames" if share else "no face")
