"""Sound synthesis shared by the engines: modal impacts, friction noise, an ambience bed, stereo panning.

The world engine voices its simulation with it; the Hub engine's foley voices the impacts it sees. It sits in
the lowest layer (numpy and scipy only), so using it never initialises an engine's renderer (EGL, triton).

Every sound is caused by something the simulator recorded: an impact at its (sub-step) contact time,
sliding or rolling while bodies touch. Timbre comes from the material (a few damped modes per preset,
pitched by the object's size), loudness from the impulse, the pan from where the object is on screen.
Deterministic: all noise comes from generators seeded with the request seed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from sora_lite.common.quick_import import scipy_signal

signal = scipy_signal()  # `from scipy import signal`, ~0.3 s quicker (see quick_import.py)

SAMPLE_RATE = 48_000
ATTACK_S = 0.0005


@dataclass(frozen=True)
class Timbre:
    """Modal preset: frequencies (Hz, for a 0.15 m object), decay times (s, to -60 dB), gains; noise share."""

    freqs: tuple[float, ...]
    decays: tuple[float, ...]
    gains: tuple[float, ...]
    noise: float  # share of a short filtered-noise burst (the "thud" / "crunch")
    noise_cutoff: float  # Hz


TIMBRES: dict[str, Timbre] = {
    "rubber": Timbre((110, 240, 390), (0.06, 0.04, 0.03), (1.0, 0.5, 0.25), 0.5, 900),
    "wood": Timbre((420, 980, 1650, 2600), (0.12, 0.08, 0.05, 0.03), (1.0, 0.6, 0.4, 0.2), 0.35, 3000),
    "metal": Timbre((520, 1340, 2480, 3930, 5870), (1.4, 1.0, 0.7, 0.5, 0.35), (1.0, 0.7, 0.5, 0.35, 0.2), 0.1, 6000),
    "glass": Timbre((1800, 4100, 6900), (0.8, 0.5, 0.3), (1.0, 0.6, 0.35), 0.1, 8000),
    "stone": Timbre((300, 760, 1500), (0.05, 0.035, 0.02), (1.0, 0.5, 0.3), 0.6, 2500),
    "plastic": Timbre((700, 1600, 3000), (0.09, 0.06, 0.04), (1.0, 0.5, 0.3), 0.3, 4000),
    "grass": Timbre((90, 180), (0.04, 0.03), (1.0, 0.4), 0.8, 600),
}


def _pan_gains(x: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal-power pan; x in [-1, 1] (left to right of the frame)."""
    a = (np.clip(x, -1.0, 1.0) + 1.0) * math.pi / 4
    return np.cos(a), np.sin(a)


@dataclass(frozen=True)
class _Preset:
    """The parts of an impact that depend on the timbre alone, computed once per process."""

    t: np.ndarray  # sample times (s)
    decays: tuple[np.ndarray, ...]  # gain × decay envelope per mode
    burst_env: np.ndarray  # envelope of the noise burst
    burst_filter: tuple[np.ndarray, np.ndarray]  # low-pass (b, a) of the noise burst


BURST_SAMPLES = int(SAMPLE_RATE * 0.02)


@functools.cache
def _preset(t_def: Timbre) -> _Preset:
    longest = max(t_def.decays)
    n = int(SAMPLE_RATE * min(2.0, longest * 1.2 + 0.01))
    t = np.arange(n) / SAMPLE_RATE
    decays = tuple(g * np.exp(-6.91 * t / d) for d, g in zip(t_def.decays, t_def.gains))
    for a in (t, *decays):
        a.flags.writeable = False  # shared by every impact of this timbre
    burst_env = np.exp(-np.arange(BURST_SAMPLES) / (SAMPLE_RATE * 0.004))
    burst_env.flags.writeable = False
    return _Preset(t, decays, burst_env, _butter(2, min(t_def.noise_cutoff / (SAMPLE_RATE / 2), 0.99), "low"))


def impact_sound(timbre: str, impulse: float, size: float, rng: np.random.Generator) -> np.ndarray:
    """One impact, mono, starting at sample 0 with a 0.5 ms attack."""
    t_def = TIMBRES.get(timbre, TIMBRES["stone"])
    pre = _preset(t_def)
    t = pre.t
    pitch = math.sqrt(0.15 / max(size, 0.02))  # smaller objects ring higher
    out = np.zeros(t.size)
    for f, env in zip(t_def.freqs, pre.decays):
        f = min(f * pitch * (1.0 + rng.uniform(-0.02, 0.02)), SAMPLE_RATE * 0.45)
        out += env * np.sin(2 * math.pi * f * t + rng.uniform(0, 2 * math.pi))
    out /= sum(t_def.gains)
    if t_def.noise > 0:
        nb = BURST_SAMPLES
        burst = rng.standard_normal(nb) * pre.burst_env
        burst = signal.lfilter(*pre.burst_filter, burst)
        burst /= np.abs(burst).max() or 1.0
        out[:nb] = out[:nb] * (1 - t_def.noise) + burst * t_def.noise
    attack = max(1, int(ATTACK_S * SAMPLE_RATE))
    out[:attack] *= np.linspace(0.0, 1.0, attack)
    return (out * loudness_of(impulse)).astype(np.float32)


def loudness_of(impulse: float) -> float:
    """Peak gain of an impact: rises with the impulse (N·s) on a log scale, saturates at 0.9."""
    return min(0.9, 0.03 + 0.25 * math.log10(1.0 + max(impulse, 0.0)))


@dataclass
class Impact:
    time: float  # video seconds
    timbres: list[str]
    impulse: float
    size: float
    pan: float  # -1 .. 1


def add_panned(out: np.ndarray, mono: np.ndarray, start: int, pan: float) -> int:
    """Add a mono sound into a stereo track from sample `start`, equal-power panned (unity at centre), cut at
    the track's end; returns the sample where it ends."""
    end = min(out.shape[1], start + mono.size)
    left, right = _pan_gains(pan)
    out[0, start:end] += mono[: end - start] * float(left) * math.sqrt(2)
    out[1, start:end] += mono[: end - start] * float(right) * math.sqrt(2)
    return end


def mix_impacts(impacts: list[Impact], n_samples: int, seed: int) -> np.ndarray:
    """Place every impact at its sample (rounded), stereo."""
    out = np.zeros((2, n_samples), dtype=np.float32)
    for k, ev in enumerate(impacts):
        start = int(round(ev.time * SAMPLE_RATE))
        if start >= n_samples or start < 0:
            continue
        rng = np.random.default_rng([seed, k, 17])
        parts = [impact_sound(t, ev.impulse, ev.size, rng) for t in ev.timbres] or [impact_sound("stone", ev.impulse, ev.size, rng)]
        length = max(p.size for p in parts)
        mono = np.zeros(length, dtype=np.float32)
        for p in parts:
            mono[:p.size] += p / len(parts)
        add_panned(out, mono, start, ev.pan)
    return out


def friction_noise(frame_times: np.ndarray, slip: np.ndarray, roll: np.ndarray, pans: np.ndarray,
                   n_samples: int, seed: int) -> np.ndarray:
    """Sliding hiss (band-passed noise) and rolling rumble (low-passed) following per-frame speeds.

    slip, roll, pans: T×N per-frame values for each body.
    """
    out = np.zeros((2, n_samples), dtype=np.float32)
    if slip.size == 0 or (slip.max(initial=0) < 0.02 and roll.max(initial=0) < 0.02):
        return out
    t = np.arange(n_samples) / SAMPLE_RATE
    rng = np.random.default_rng([seed, 99])
    b_hiss, a_hiss = _butter(2, (1500 / (SAMPLE_RATE / 2), 6000 / (SAMPLE_RATE / 2)), "band")
    b_rum, a_rum = _butter(2, 220 / (SAMPLE_RATE / 2), "low")
    # Independent noises summed have the power of one noise with the summed power envelope, so each
    # channel filters one noise per kind instead of one per body; the power is summed per frame and
    # interpolated to the sample rate once per channel.
    moving = (slip.max(axis=0) >= 0.02) | (roll.max(axis=0) >= 0.02)
    s_env = np.clip(slip[:, moving], 0, 5.0)
    r_env = np.clip(roll[:, moving], 0, 5.0)
    left, right = _pan_gains(pans[:, moving])
    hiss_pow = np.zeros((2, n_samples))
    rumble_pow = np.zeros((2, n_samples))
    for ch, g in enumerate((left, right)):
        g2 = 2.0 * g * g
        hiss_pow[ch] = np.interp(t, frame_times, ((0.05 ** 2) * s_env * g2).sum(axis=1))
        rumble_pow[ch] = np.interp(t, frame_times, ((0.15 ** 2) * r_env * g2).sum(axis=1))
    for ch in range(2):
        if hiss_pow[ch].any():
            hiss = signal.lfilter(b_hiss, a_hiss, rng.standard_normal(n_samples))
            out[ch] += (hiss * np.sqrt(hiss_pow[ch])).astype(np.float32)
        if rumble_pow[ch].any():
            rumble = signal.lfilter(b_rum, a_rum, rng.standard_normal(n_samples))
            out[ch] += (rumble * np.sqrt(rumble_pow[ch])).astype(np.float32)
    return out


@functools.cache
def _butter(order: int, cutoff: float | tuple[float, float], btype: str) -> tuple[np.ndarray, np.ndarray]:
    """Butterworth (b, a), designed once per process: scipy's design costs more than filtering a burst."""
    b, a = signal.butter(order, cutoff, btype=btype)
    b.flags.writeable = a.flags.writeable = False
    return b, a


def ambience(kind: str, n_samples: int, seed: int) -> np.ndarray:
    """Outdoor wind (slowly swelling low noise, decorrelated L/R) or room tone (quiet, steady, dull)."""
    rng = np.random.default_rng([seed, 7])
    noise = rng.standard_normal((2, n_samples))
    if kind == "outdoor":
        b, a = _butter(2, 500 / (SAMPLE_RATE / 2), "low")
        bed = signal.lfilter(b, a, noise, axis=-1)
        t = np.arange(n_samples) / SAMPLE_RATE
        swell = 0.6 + 0.4 * np.sin(2 * math.pi * 0.17 * t + rng.uniform(0, 6.28)) * np.sin(2 * math.pi * 0.05 * t + 1.0)
        bed = bed / (bed.std() or 1.0) * 0.005 * swell  # about -46 dBFS RMS
    else:
        b, a = _butter(2, 250 / (SAMPLE_RATE / 2), "low")
        bed = signal.lfilter(b, a, noise, axis=-1)
        bed = bed / (bed.std() or 1.0) * 0.0012  # about -58 dBFS RMS
    return bed.astype(np.float32)


def master(tracks: list[np.ndarray]) -> np.ndarray:
    """Sum tracks; scale down (never clip) when the peak would exceed -0.5 dBFS."""
    mix = np.sum(tracks, axis=0).astype(np.float32)
    peak = float(np.abs(mix).max(initial=0.0))
    if peak > 0.944:
        mix *= 0.944 / peak
    return mix


def shift(audio: np.ndarray, ms: float) -> np.ndarray:
    """Delay (ms > 0) or advance (ms < 0) a track, keeping its length: the audio_shift perturbation."""
    n = int(round(ms * SAMPLE_RATE / 1000))
    out = np.zeros_like(audio)
    if n >= 0:
        out[:, n:] = audio[:, : audio.shape[1] - n] if n < audio.shape[1] else 0
    else:
        out[:, :n] = audio[:, -n:]
    return out


VOICE_PEAK = 0.5  # a voice line sits above the contact sounds (about -6 dBFS peak) but leaves headroom
VOICE_FADE_S = 0.02


def voice_line(samples: np.ndarray, rate: int, start: float, pan: float, n_samples: int,
               peak_to: float = VOICE_PEAK) -> np.ndarray:
    """A voice (a cameo's sample, a spoken line) as a stereo track: mono, resampled to SAMPLE_RATE, normalised
    to `peak_to`, panned to where the speaker is on screen and starting at `start` seconds (cut, with a short
    fade, at the clip's end)."""
    out = np.zeros((2, n_samples), dtype=np.float32)
    mono = np.asarray(samples, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    if rate != SAMPLE_RATE:
        g = math.gcd(int(rate), SAMPLE_RATE)
        mono = signal.resample_poly(mono, SAMPLE_RATE // g, int(rate) // g)
    begin = int(round(start * SAMPLE_RATE))
    if begin >= n_samples or mono.size == 0:
        return out
    mono = mono[: n_samples - begin]
    peak = float(np.abs(mono).max(initial=0.0))
    if peak <= 0:
        return out
    mono = mono * (peak_to / peak)
    fade = min(mono.size, int(VOICE_FADE_S * SAMPLE_RATE))
    if fade:
        mono[:fade] *= np.linspace(0.0, 1.0, fade)
        mono[-fade:] *= np.linspace(1.0, 0.0, fade)
    add_panned(out, mono, begin, pan)
    return out
