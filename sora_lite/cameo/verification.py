"""Liveness-style verification: a random challenge (a code to say aloud, a head turn), then the owner's
recording of it is checked with what this machine has.

What can be checked offline, and how (each is one `Check` in the result, with ran / passed / detail):
- face_present: one face in at least 75 % of 16 sampled frames (dlib HOG detector, always available).
- same_person: those faces match the registered photos. Only a face-recognition model makes this a real
  identity check; with the fallback representation it runs but is marked weak and cannot verify.
- head_turn: the nose moves the asked way relative to the eyes (5-point landmarks; needs the landmark
  model). Directions are the person's own: "turn to your left" moves the nose toward the image's right
  in an unmirrored recording.
- speech_energy: the recording has voice-band sound in enough of its length. This shows someone made
  sound, not what was said.
- spoken_code: the code was said, read by a Whisper model (transformers) from a local folder named by
  `$SORA_LITE_WHISPER_DIR`. Without it: "not checked".

The cameo is "verified" only when every check ran, passed, and the identity check was strong; otherwise it
stays "unverified", and the stored status lists exactly what ran, what passed and what did not run.
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
from sora_lite.media import MediaError, read_audio, sample_frames
from sora_lite.store import Store, utcnow
from sora_lite.store.audit import log_action

CHALLENGE_TTL = timedelta(minutes=10)
MAX_RECORDING_BYTES = 60 * 2**20
FRAMES = 16
MIN_FACE_FRACTION = 0.75
MIN_MATCH_FRACTION = 0.6
MIN_YAW_SHIFT = 0.12  # nose offset change, in eye-span units; a frontal face jitters by ~0.02
SPEECH_BAND = (85.0, 4000.0)
MIN_VOICED_FRACTION = 0.2
MIN_BAND_SHARE = 0.6
NUMBER_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())}
CHECKS = ("face_present", "same_person", "head_turn", "speech_energy", "spoken_code")

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
        return (f"Record a short selfie video: look at the camera, say the code {' '.join(self.code)} aloud, "
                f"then turn your head to your {self.turn} and back. The challenge expires at {self.expires_at} UTC.")

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


def _face_checks(frames: np.ndarray, refs: list[faces.FaceVector], turn: str) -> list[Check]:
    found = [faces.detect_faces(f) for f in frames]
    single = [(i, boxes[0]) for i, boxes in enumerate(found) if len(boxes) == 1]
    crowded = sum(len(b) > 1 for b in found)
    n = len(frames)
    present = len(single) >= MIN_FACE_FRACTION * n and crowded == 0
    checks = [Check("face_present", True, present,
                    f"one face in {len(single)} of {n} frames" + (f"; {crowded} frames show more than one face" if crowded else ""))]
    if not single:
        checks.append(Check("same_person", False, None, "no face to compare"))
        checks.append(Check("head_turn", False, None, "no face to follow"))
        return checks

    results = [faces.compare(faces.represent(frames[i], box), refs) for i, box in single]
    results = [r for r in results if r is not None]
    if not results:
        checks.append(Check("same_person", False, None, "the registered photos have no comparable representation"))
    else:
        matched = sum(r.same_person for r in results)
        ok = matched >= MIN_MATCH_FRACTION * len(results)
        method = results[0].method
        weak = "" if results[0].strong else " (weak fallback representation: not an identity check)"
        checks.append(Check("same_person", True, ok, f"{matched} of {len(results)} faces match the photos by {method}{weak}"))

    yaws = [faces.yaw(box) for _, box in single]
    if any(y is None for y in yaws):
        checks.append(Check("head_turn", False, None, f"no landmark model ({faces.MODEL_FILES[0]}) to measure the head turn"))
    else:
        checks.append(_turn_check([float(y) for y in yaws if y is not None], turn))
    return checks


def _turn_check(yaws: list[float], turn: str) -> Check:
    """The person's own left = the nose toward the image's right (positive yaw) in an unmirrored video."""
    start = float(np.median(yaws[: max(1, len(yaws) // 4)]))
    sign = 1.0 if turn == "left" else -1.0
    shift = max(sign * (y - start) for y in yaws)
    wrong = max(-sign * (y - start) for y in yaws)
    ok = shift >= MIN_YAW_SHIFT and shift > wrong
    return Check("head_turn", True, ok, f"asked {turn}: nose moved {shift:.2f} eye-spans that way, {wrong:.2f} the other way "
                                        f"(need {MIN_YAW_SHIFT:.2f})")


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
        frames, _ = sample_frames(p, FRAMES)
        audio = read_audio(p)
    except MediaError as e:
        raise CameoError(f"the verification recording could not be read: {e}") from None

    checks = _face_checks(frames, refs, challenge.turn)
    checks.append(_speech_check(audio))
    checks.append(_code_check(audio, challenge.code, transcribe if transcribe is not None else whisper_transcriber()))
    strong = any(c.name == "same_person" and c.ran and "weak" not in c.detail for c in checks)
    verified = all(c.ran and c.passed for c in checks) and strong
    failed = [c.name for c in checks if c.ran and not c.passed]
    skipped = [c.name for c in checks if not c.ran]
    summary = "verified: every check ran and passed" if verified else (
        "unverified" + (f"; failed: {', '.join(failed)}" if failed else "")
        + (f"; not checked: {', '.join(skipped)}" if skipped else "")
        + ("; identity compared only by the weak fallback" if not strong and not skipped and not failed else ""))
    result = Verification(name, "verified" if verified else "unverified", checks, summary, utcnow().isoformat())
    with store.session() as s:
        row = live_cameo_row(s, name)
        row.details = {**(row.details or {}), "verification": {**result.to_dict(), "challenge_id": challenge.id}}
        log_action(s, owner.id, "cameo.verify", f"@{name}", {"status": result.status, "failed": failed, "not_checked": skipped})
    return result
