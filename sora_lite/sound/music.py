"""A procedural score, synthesised in numpy: no soundfont, no MIDI player, nothing to download.

Why synthesis rather than a General MIDI soundfont: Debian's FluidR3 soundfont is 140 MB and needs
fluidsynth (a C library and a Python binding) to play; a few additive and subtractive voices in numpy
(kick, snare, hat, bass, chord pad, bell lead) are enough for a bed under picture and keep the engine
pure Python. A mood picks tempo, key, scale and which voices play (`MOODS`, data).

Timing is the point: every cut starts a new bar (the bar grid restarts at each cut, so the downbeat and a
crash land on the cut's exact sample), and the main impacts get an accent hit at their sample. A score is
only made when the prompt asks for music.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sora_lite.common.quick_import import scipy_signal
from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.sound.events import SoundEvent

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)


@dataclass(frozen=True)
class Mood:
    bpm: float
    root: int  # MIDI note of the key's root (bass octave)
    minor: bool
    drums: bool
    lead: bool
    brightness: float  # pad low-pass cutoff, Hz


MOODS: dict[str, Mood] = {
    "upbeat": Mood(bpm=120, root=43, minor=False, drums=True, lead=True, brightness=3500),
    "tense": Mood(bpm=88, root=38, minor=True, drums=True, lead=False, brightness=1200),
    "lofi": Mood(bpm=78, root=41, minor=False, drums=True, lead=False, brightness=1500),
    "calm": Mood(bpm=68, root=40, minor=False, drums=False, lead=True, brightness=2000),
    "sad": Mood(bpm=64, root=45, minor=True, drums=False, lead=True, brightness=1400),
    "epic": Mood(bpm=100, root=36, minor=True, drums=True, lead=True, brightness=4000),
}
# Words in a prompt that name a mood or a genre; "music" alone gives "upbeat".
MOOD_WORDS: dict[str, str] = {
    "upbeat": "upbeat", "happy": "upbeat", "cheerful": "upbeat", "pop": "upbeat", "energetic": "upbeat",
    "dance": "upbeat", "tense": "tense", "suspense": "tense", "suspenseful": "tense", "thriller": "tense",
    "dark": "tense", "horror": "tense", "lo-fi": "lofi", "lofi": "lofi", "chill": "lofi", "jazzy": "lofi",
    "hip-hop": "lofi", "calm": "calm", "peaceful": "calm", "ambient": "calm", "gentle": "calm",
    "relaxing": "calm", "sad": "sad", "melancholic": "sad", "melancholy": "sad", "emotional": "sad",
    "epic": "epic", "cinematic": "epic", "orchestral": "epic", "heroic": "epic", "dramatic": "epic",
}
MUSIC_WORDS = ("music", "score", "soundtrack", "beat", "song", "melody", "tune")
BEATS_PER_BAR = 4
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
PROGRESSION = (0, 5, 3, 4)  # i/I – vi/VI – iv/IV – v/V as scale degrees


def mood_from_text(text: str) -> str | None:
    """The mood a prompt asks music for, or None when it asks for none ("no music unless asked")."""
    words = [w.strip(".,;:!?\"'()").lower() for w in text.split()]
    if not any(w in MUSIC_WORDS or w.rstrip("s") in MUSIC_WORDS for w in words):
        return None
    for w in words:
        if w in MOOD_WORDS:
            return MOOD_WORDS[w]
    return "upbeat"


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _env(n: int, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    return np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)


def _kick(rng: np.random.Generator) -> np.ndarray:
    n = int(0.35 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    f = 45 + 90 * np.exp(-t / 0.04)
    return (np.sin(2 * math.pi * np.cumsum(f) / SAMPLE_RATE) * _env(n, 0.001, 0.12)).astype(np.float64)


def _snare(rng: np.random.Generator) -> np.ndarray:
    n = int(0.25 * SAMPLE_RATE)
    b, a = signal.butter(2, (1200 / (SAMPLE_RATE / 2), 7000 / (SAMPLE_RATE / 2)), "band")
    noise = signal.lfilter(b, a, rng.standard_normal(n))
    tone = np.sin(2 * math.pi * 190 * np.arange(n) / SAMPLE_RATE)
    return (0.7 * noise / (np.abs(noise).max() or 1) + 0.4 * tone) * _env(n, 0.001, 0.07)


def _hat(rng: np.random.Generator) -> np.ndarray:
    n = int(0.06 * SAMPLE_RATE)
    b, a = signal.butter(2, 7000 / (SAMPLE_RATE / 2), "high")
    noise = signal.lfilter(b, a, rng.standard_normal(n))
    return noise / (np.abs(noise).max() or 1) * _env(n, 0.0005, 0.015)


def _crash(rng: np.random.Generator) -> np.ndarray:
    n = int(1.2 * SAMPLE_RATE)
    b, a = signal.butter(2, 4000 / (SAMPLE_RATE / 2), "high")
    noise = signal.lfilter(b, a, rng.standard_normal(n))
    return noise / (np.abs(noise).max() or 1) * _env(n, 0.0005, 0.35)


def _tone(freq: float, n: int, harmonics: int, decay: float, attack: float = 0.005) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    wave = sum(np.sin(2 * math.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    return wave * _env(n, attack, decay)


def _add(track: np.ndarray, sound: np.ndarray, at: int, gain: float) -> None:
    if at >= track.size or at < 0:
        return
    end = min(track.size, at + sound.size)
    track[at:end] += gain * sound[: end - at]


def score(seconds: float, mood: str, cuts: list[float], accents: list[float], seed: int) -> tuple[np.ndarray, list[SoundEvent]]:
    """Stereo float32 score of `seconds`; bars restart at 0 and at every cut, accents land on their sample.

    Returns the track (peak 0.9, the mix sets its loudness) and its events (one "music" span, one
    "music_accent" per cut and accent)."""
    if mood not in MOODS:
        raise ValueError(f"unknown mood {mood!r}; choose one of {', '.join(MOODS)}")
    m = MOODS[mood]
    rng = np.random.default_rng([seed, 11])
    n = int(round(seconds * SAMPLE_RATE))
    drums, bass, pad, lead = (np.zeros(n) for _ in range(4))
    beat = 60.0 / m.bpm
    scale = MINOR if m.minor else MAJOR
    kick, snare, hat, crash = _kick(rng), _snare(rng), _hat(rng), _crash(rng)
    starts = sorted({0.0, *[c for c in cuts if 0 < c < seconds]})
    events: list[SoundEvent] = []
    for si, s0 in enumerate(starts):
        s1 = starts[si + 1] if si + 1 < len(starts) else seconds
        t, bar = s0, 0
        if si > 0:  # the cut itself: crash + kick on its exact sample
            _add(drums, crash, int(round(s0 * SAMPLE_RATE)), 0.35)
            events.append(SoundEvent("music_accent", s0, s0 + 0.05, detail={"on": "cut"}))
        while t < s1 - 1e-6:
            degree = PROGRESSION[(bar + si) % len(PROGRESSION)]
            chord = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
            bar_len = min(BEATS_PER_BAR * beat, s1 - t)
            at = int(round(t * SAMPLE_RATE))
            nb = int(round(bar_len * SAMPLE_RATE))
            for note in chord:  # pad: the chord for the bar, cut at the next cut
                _add(pad, _tone(_hz(m.root + 24 + note), nb, 3, bar_len * 0.9, attack=0.08), at, 0.12)
            for b in range(BEATS_PER_BAR):
                bt = t + b * beat
                if bt >= s1 - 1e-6:
                    break
                bi = int(round(bt * SAMPLE_RATE))
                _add(bass, _tone(_hz(m.root + chord[0] if b % 2 == 0 else m.root + chord[2]),
                                 int(beat * SAMPLE_RATE), 4, beat * 0.6), bi, 0.3)
                if m.drums:
                    if b in (0, 2):
                        _add(drums, kick, bi, 0.8)
                    else:
                        _add(drums, snare, bi, 0.45)
                    _add(drums, hat, bi + int(beat * SAMPLE_RATE / 2), 0.18)
                if m.lead and rng.random() < 0.6:
                    note = m.root + 36 + scale[int(rng.integers(0, 7))]
                    _add(lead, _tone(_hz(note), int(beat * SAMPLE_RATE), 2, beat * 0.5), bi, 0.1)
            t += BEATS_PER_BAR * beat
            bar += 1
    for a in accents:
        if 0 <= a < seconds:
            at = int(round(a * SAMPLE_RATE))
            _add(drums, kick, at, 0.7)
            _add(drums, crash, at, 0.2)
            events.append(SoundEvent("music_accent", a, a + 0.05, detail={"on": "impact"}))
    b, a = signal.butter(2, m.brightness / (SAMPLE_RATE / 2), "low")
    pad = signal.lfilter(b, a, pad)
    left = drums + bass + 0.8 * pad + 1.2 * lead
    right = drums + bass + 1.2 * pad + 0.8 * lead  # pad a little right, lead a little left: some width
    out = np.stack([left, right])
    peak = float(np.abs(out).max(initial=0.0))
    if peak > 0:
        out *= 0.9 / peak
    events.insert(0, SoundEvent("music", 0.0, seconds, detail={"mood": mood, "bpm": m.bpm}))
    return out.astype(np.float32), events


def onset_strength(track: np.ndarray, hop: int = SAMPLE_RATE // 200) -> np.ndarray:
    """Spectral flux per 5 ms hop of a (stereo) track: the summed rise of log magnitude over a 21 ms window
    centred on each hop — where an attack begins, without the ripple low notes give a plain RMS."""
    mono = np.asarray(track, dtype=np.float64)
    mono = mono.mean(axis=0) if mono.ndim == 2 else mono
    _, _, z = signal.stft(mono, fs=SAMPLE_RATE, nperseg=1024, noverlap=1024 - hop, boundary="even", padded=True)
    mag = np.log1p(1000 * np.abs(z))
    flux = np.maximum(np.diff(mag, axis=1, prepend=mag[:, :1]), 0.0).sum(axis=0)
    return flux[: mono.size // hop]
