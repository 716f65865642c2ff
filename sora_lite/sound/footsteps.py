"""Footsteps, jump landings and hand claps of the articulated figures, by floor material and gait.

Each contact event of a figure (animate.py: a leg's swing reaching the ground, hands meeting) becomes one
short sound starting at its sample, like an impact (`common.sound.mix_impacts`): a heel strike, then for a
walk or a run the toe a few ms later, through a filter set by the floor (wood knocks hollow, tile clicks
bright, grass and sand are soft and dull, snow crunches). A run is louder and brighter than a walk and its
heel–toe gap is shorter; a landing is the loudest and lowest. Deterministic per seed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sora_lite.common.quick_import import scipy_signal
from sora_lite.common.sound import SAMPLE_RATE, add_panned
from sora_lite.sound.events import SoundEvent

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)


@dataclass(frozen=True)
class Floor:
    """How a floor answers a foot: noise band (Hz), decay (s), resonant modes (Hz) and their share, level."""

    band: tuple[float, float]
    decay: float
    modes: tuple[float, ...]
    tonal: float
    gain: float
    grains: int  # crunch: extra small clicks over the decay (snow, gravel)


FLOORS: dict[str, Floor] = {
    "wood": Floor((150, 3500), 0.07, (180.0, 430.0), 0.45, 1.0, 0),
    "tile": Floor((600, 9000), 0.035, (1900.0,), 0.15, 0.9, 0),
    "concrete": Floor((300, 6000), 0.04, (), 0.0, 0.85, 0),
    "grass": Floor((200, 1800), 0.09, (), 0.0, 0.55, 6),
    "sand": Floor((80, 900), 0.10, (), 0.0, 0.5, 0),
    "snow": Floor((900, 5000), 0.12, (), 0.0, 0.6, 14),
    "carpet": Floor((60, 700), 0.05, (), 0.0, 0.35, 0),
}
# the engine's floor names (spec.FLOORS) → the material a foot hears
MATERIAL_OF = {"wood": "wood", "tiles": "tile", "marble": "tile", "checker": "concrete", "concrete": "concrete",
               "asphalt": "concrete", "rock": "concrete", "grass": "grass", "field": "grass", "dirt": "sand",
               "sand": "sand", "snow": "snow", "carpet": "carpet"}
GAITS = {  # level (dB), brightness (× the band's top), heel-to-toe gap (s; 0: one strike)
    "walk": (0.0, 1.0, 0.028),
    "run": (5.0, 1.5, 0.012),
    "landing": (8.0, 0.8, 0.0),
    "clap": (2.0, 1.0, 0.0),
}
RUNNING = {"run", "jog", "sprint", "treadmill_run", "basketball"}
LANDING = {"jump", "aerobics", "cheerleading"}
ATTACK_S = 0.0005


def material_of(floor: str) -> str:
    return MATERIAL_OF.get(floor, "concrete")


def gait_of(action: str | None, kind: str) -> str:
    """walk / run / landing / clap from the figure's action and the contact's kind ("step" or "hand")."""
    if kind == "hand":
        return "clap"
    if action in LANDING:
        return "landing"
    return "run" if action in RUNNING else "walk"


@functools.cache
def _bandpass(lo: float, hi: float) -> np.ndarray:
    hi = min(hi, SAMPLE_RATE * 0.45)
    return signal.butter(2, [lo / (SAMPLE_RATE / 2), hi / (SAMPLE_RATE / 2)], "bandpass", output="sos")


def _strike(fl: Floor, bright: float, rng: np.random.Generator) -> np.ndarray:
    n = int(SAMPLE_RATE * (fl.decay * 2.5 + 0.01))
    t = np.arange(n) / SAMPLE_RATE
    env = np.exp(-6.91 * t / fl.decay)
    noise = signal.sosfilt(_bandpass(fl.band[0], fl.band[1] * bright), rng.standard_normal(n))
    noise /= np.abs(noise).max() or 1.0
    out = noise * env * (1 - fl.tonal)
    for f in fl.modes:
        out += fl.tonal * np.sin(2 * math.pi * f * (1 + rng.uniform(-0.03, 0.03)) * t) * np.exp(-6.91 * t / (fl.decay * 1.5)) / len(fl.modes)
    for _ in range(fl.grains):  # crunch: small clicks scattered over the decay
        at = int(rng.uniform(0.005, fl.decay * 1.5) * SAMPLE_RATE)
        k = min(n - at, int(0.003 * SAMPLE_RATE))
        if k > 0:
            out[at:at + k] += rng.standard_normal(k) * 0.35 * np.exp(-np.arange(k) / (0.0008 * SAMPLE_RATE))
    attack = max(1, int(ATTACK_S * SAMPLE_RATE))
    out[:attack] *= np.linspace(0.0, 1.0, attack)
    return out


def footstep_sound(material: str, gait: str, rng: np.random.Generator) -> np.ndarray:
    """One contact's sound, mono, starting at sample 0 (the moment the foot or the hands meet)."""
    if material not in FLOORS:
        raise ValueError(f"unknown floor material {material!r}; choose one of {', '.join(FLOORS)}")
    if gait not in GAITS:
        raise ValueError(f"unknown gait {gait!r}; choose one of {', '.join(GAITS)}")
    level_db, bright, gap = GAITS[gait]
    fl = FLOORS["tile"] if gait == "clap" else FLOORS[material]
    if gait == "clap":  # skin on skin: a bright, short burst whatever the floor
        fl = Floor((800, 4000), 0.03, (), 0.0, 0.9, 0)
    heel = _strike(fl, bright, rng)
    out = heel.copy()
    if gap > 0:
        toe = _strike(fl, bright * 1.2, rng) * 0.55
        k = int(gap * SAMPLE_RATE)
        out = np.concatenate([out, np.zeros(k)])
        out[k:k + toe.size] += toe[: out.size - k]
    out /= np.abs(out).max() or 1.0
    return (out * fl.gain * 0.5 * 10 ** (level_db / 20)).astype(np.float32)


@dataclass(frozen=True)
class Footfall:
    time: float  # video seconds: the contact
    source: str  # the figure
    material: str
    gait: str
    pan: float  # -1 … 1


def mix_footsteps(steps: list[Footfall], n_samples: int, seed: int) -> tuple[np.ndarray, list[SoundEvent]]:
    """Every footfall at its sample (rounded), stereo; and its ground-truth event (kind "footstep", or "clap"
    for hands meeting)."""
    out = np.zeros((2, n_samples), dtype=np.float32)
    events = []
    for k, st in enumerate(steps):
        start = round(st.time * SAMPLE_RATE)
        if not 0 <= start < n_samples:
            continue
        mono = footstep_sound(st.material, st.gait, np.random.default_rng([seed, k, 29]))
        end = add_panned(out, mono, start, st.pan)
        events.append(SoundEvent("clap" if st.gait == "clap" else "footstep", st.time, end / SAMPLE_RATE, source=st.source,
                                 detail={"material": st.material, "gait": st.gait}))
    return out, events
