"""Place and weather beds, procedural (seeded noise, filters and a few synthesised calls): rain (and drops
on surfaces), wind with gusts, waves, birds in a park, room tone, street traffic, crowd murmur.

Procedural rather than recorded: nothing to license or ship, any length without loops, deterministic from
the seed. Each bed is stereo float32 at a modest level (RMS about −40 dBFS before the mix sets loudness).
"""

from __future__ import annotations

import math

import numpy as np

from sora_lite.common.quick_import import scipy_signal
from sora_lite.common.sound import SAMPLE_RATE

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)

BED_RMS = 0.01  # about −40 dBFS: a bed, under everything else
# Words (prompt, scene, weather) → the beds they call for. Data: one line per word.
PLACE_WORDS: dict[str, tuple[str, ...]] = {
    "rain": ("rain",), "rainy": ("rain",), "raining": ("rain",), "storm": ("rain", "wind"), "drizzle": ("rain",),
    "thunderstorm": ("rain", "wind"), "wind": ("wind",), "windy": ("wind",), "breeze": ("wind",),
    "snow": ("wind",), "snowy": ("wind",), "blizzard": ("wind",), "desert": ("wind",), "mountain": ("wind",),
    "beach": ("waves", "wind"), "ocean": ("waves",), "sea": ("waves",), "waves": ("waves",), "shore": ("waves",),
    "coast": ("waves",), "lake": ("waves",), "park": ("birds",), "forest": ("birds", "wind"), "garden": ("birds",),
    "woods": ("birds",), "meadow": ("birds",), "birds": ("birds",), "street": ("traffic",), "city": ("traffic",),
    "road": ("traffic",), "traffic": ("traffic",), "intersection": ("traffic",), "highway": ("traffic",),
    "downtown": ("traffic", "crowd"), "crowd": ("crowd",), "market": ("crowd",), "stadium": ("crowd",),
    "concert": ("crowd",), "party": ("crowd",), "restaurant": ("crowd", "room"), "cafe": ("crowd", "room"),
    "kitchen": ("room",), "room": ("room",), "office": ("room",), "classroom": ("room",), "bedroom": ("room",),
    "living": ("room",), "studio": ("room",), "indoors": ("room",), "indoor": ("room",),
}
BEDS = ("rain", "wind", "waves", "birds", "room", "traffic", "crowd")


def beds_from_text(text: str) -> list[str]:
    """The beds a description calls for, in BEDS order, without repeats."""
    found: set[str] = set()
    for w in text.lower().replace("-", " ").split():
        found.update(PLACE_WORDS.get(w.strip(".,;:!?\"'()"), ()))
    return [b for b in BEDS if b in found]


def _filtered(rng: np.random.Generator, n: int, order: int, cutoff: float | tuple[float, float], btype: str) -> np.ndarray:
    nyq = SAMPLE_RATE / 2
    wn = tuple(c / nyq for c in cutoff) if isinstance(cutoff, tuple) else cutoff / nyq
    b, a = signal.butter(order, wn, btype)
    return signal.lfilter(b, a, rng.standard_normal((2, n)), axis=-1)


def _slow(rng: np.random.Generator, n: int, rate_hz: float) -> np.ndarray:
    """A smooth random curve around 1 (0.3–1.7), changing at about `rate_hz`."""
    knots = max(4, int(n / SAMPLE_RATE * rate_hz) + 4)
    y = rng.uniform(0.3, 1.7, knots)
    return np.interp(np.linspace(0, knots - 1, n), np.arange(knots), y)


def _level(bed: np.ndarray, rms: float = BED_RMS) -> np.ndarray:
    r = float(np.sqrt(np.mean(bed.astype(np.float64) ** 2))) if bed.size else 0.0
    return (bed * (rms / r) if r > 0 else bed).astype(np.float32)


def _rain(rng: np.random.Generator, n: int) -> np.ndarray:
    hiss = _filtered(rng, n, 2, (800.0, 9000.0), "band")
    drops = np.zeros((2, n))
    count = int(n / SAMPLE_RATE * 120)  # drops on surfaces: short bright ticks
    tick = np.exp(-np.arange(int(0.004 * SAMPLE_RATE)) / (0.0008 * SAMPLE_RATE))
    for at, ch, amp in zip(rng.integers(0, max(n - tick.size, 1), count), rng.integers(0, 2, count),
                           rng.uniform(0.5, 3.0, count)):
        drops[ch, at : at + tick.size] += amp * tick * rng.choice((-1.0, 1.0))
    return hiss / (hiss.std() or 1) + 0.6 * drops


def _wind(rng: np.random.Generator, n: int) -> np.ndarray:
    return _filtered(rng, n, 2, 600.0, "low") * _slow(rng, n, 0.4)


def _waves(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    period = rng.uniform(5.0, 8.0)
    swell = np.clip(np.sin(2 * math.pi * t / period + rng.uniform(0, 6.28)), 0, None) ** 2 + 0.15
    return _filtered(rng, n, 2, (150.0, 2500.0), "band") * swell


def _birds(rng: np.random.Generator, n: int) -> np.ndarray:
    out = 0.15 * _filtered(rng, n, 2, 400.0, "low")  # a little air under the calls
    seconds = n / SAMPLE_RATE
    for _ in range(int(seconds * 2.5)):
        at = int(rng.uniform(0, max(seconds - 0.3, 0.01)) * SAMPLE_RATE)
        length = int(rng.uniform(0.06, 0.18) * SAMPLE_RATE)
        tt = np.arange(length) / SAMPLE_RATE
        f0, f1 = rng.uniform(2500, 4500), rng.uniform(3000, 6000)
        freq = f0 + (f1 - f0) * tt / tt[-1] + 300 * np.sin(2 * math.pi * rng.uniform(20, 40) * tt)
        chirp = np.sin(2 * math.pi * np.cumsum(freq) / SAMPLE_RATE) * np.hanning(length)
        pan = rng.uniform(0.2, 0.8)
        end = min(n, at + length)
        out[0, at:end] += 3 * (1 - pan) * chirp[: end - at]
        out[1, at:end] += 3 * pan * chirp[: end - at]
    return out


def _room(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    hum = 0.05 * np.sin(2 * math.pi * 50 * t)
    return _filtered(rng, n, 2, 250.0, "low") + hum


def _traffic(rng: np.random.Generator, n: int) -> np.ndarray:
    rumble = _filtered(rng, n, 2, 200.0, "low")
    seconds = n / SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    for _ in range(max(1, int(seconds / 2.5))):  # cars passing: a swell that pans across
        centre, width = rng.uniform(0, seconds), rng.uniform(0.8, 2.0)
        env = np.exp(-((t - centre) / width) ** 2)
        pan = np.clip(0.5 + rng.choice((1.0, -1.0)) * (t - centre) / (2 * width), 0, 1)
        car = _filtered(rng, n, 2, (80.0, 1500.0), "band")[0] * env * 2.5
        rumble[0] += (1 - pan) * car
        rumble[1] += pan * car
    return rumble


def _crowd(rng: np.random.Generator, n: int) -> np.ndarray:
    voices = _filtered(rng, n, 2, (250.0, 3000.0), "band")
    syllables = _slow(rng, n, 8.0)  # many overlapping talkers: a fast, shallow level flutter
    return voices * (0.7 + 0.3 * syllables)


_MAKERS = {"rain": _rain, "wind": _wind, "waves": _waves, "birds": _birds, "room": _room,
           "traffic": _traffic, "crowd": _crowd}


def bed(kind: str, seconds: float, seed: int) -> np.ndarray:
    """One bed, stereo float32, `seconds` long, at BED_RMS (room tone 12 dB quieter)."""
    if kind not in _MAKERS:
        raise ValueError(f"unknown ambience {kind!r}; choose one of {', '.join(BEDS)}")
    n = int(round(seconds * SAMPLE_RATE))
    if n <= 0:
        return np.zeros((2, 0), dtype=np.float32)
    rng = np.random.default_rng([seed, 13, BEDS.index(kind)])
    return _level(_MAKERS[kind](rng, n), BED_RMS / 4 if kind == "room" else BED_RMS)
