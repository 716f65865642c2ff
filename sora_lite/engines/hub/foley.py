"""Sound for silent video models: impacts placed at the motion events seen in the generated frames.

A silent model's clip is never presented as having sound: either foley finds motion events and the clip gets
impacts synthesized by the modal synthesis the world engine also uses (`sora_lite.common.sound`), with the source
recorded as "foley: motion events", or the clip stays silent and the record says "none".

Motion events are peaks of the frame-difference energy (mean absolute change between consecutive frames):
sudden changes — a hit, a bounce, a cut in motion — stand out from steady movement by their prominence.
The pan follows where on screen the change happened; the timbre comes from material words in the prompt.
When an audio model's weights are already on this machine (AudioLDM 2 or Stable Audio Open), an ambience
bed from the prompt is mixed underneath; it is never downloaded here.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sora_lite.common import sound as synth
from sora_lite.common.quick_import import scipy_signal

signal = scipy_signal()  # `from scipy import signal` (see common/quick_import.py)

log = logging.getLogger(__name__)

MIN_ENERGY = 0.6  # mean |Δ| in 0..255 units below which a clip counts as still
MIN_GAP_S = 0.12
AMBIENCE_MODELS = (("cvssp/audioldm2", "AudioLDM2Pipeline"), ("stabilityai/stable-audio-open-1.0", "StableAudioPipeline"))
AMBIENCE_GAIN = 0.06
_MATERIAL_WORDS = {
    "ball": "rubber", "rubber": "rubber", "bounce": "rubber", "wood": "wood", "wooden": "wood", "door": "wood",
    "table": "wood", "metal": "metal", "steel": "metal", "iron": "metal", "can": "metal", "bell": "metal",
    "glass": "glass", "bottle": "glass", "cup": "glass", "stone": "stone", "rock": "stone", "concrete": "stone",
    "plastic": "plastic", "toy": "plastic", "grass": "grass", "lawn": "grass", "footstep": "stone", "walk": "stone",
}


@dataclass
class MotionEvent:
    time: float  # seconds from the first frame
    strength: float  # 0..1, relative prominence
    pan: float  # -1 (left) .. 1 (right)


@dataclass
class FoleyResult:
    audio: np.ndarray | None  # float32 2×S, or None: the clip stays silent
    sample_rate: int | None
    source: str  # "foley: motion events" | "none"
    info: dict[str, Any] = field(default_factory=dict)


def motion_energy(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame mean |Δ| (0..255 units; 0 for the first frame) and the x-centroid of the change (-1..1)."""
    gray = frames[:, ::2, ::2].astype(np.float32).mean(axis=-1)
    diff = np.abs(np.diff(gray, axis=0))
    energy = np.concatenate([[0.0], diff.mean(axis=(1, 2))])
    xs = np.linspace(-1.0, 1.0, gray.shape[2], dtype=np.float32)
    col = diff.sum(axis=1)
    pans = np.concatenate([[0.0], (col * xs).sum(axis=1) / np.maximum(col.sum(axis=1), 1e-6)])
    return energy, pans


def motion_events(frames: np.ndarray, fps: float) -> list[MotionEvent]:
    """Peaks of the frame-difference energy that stand out from the clip's steady motion."""
    if len(frames) < 3:
        return []
    energy, pans = motion_energy(frames)
    if float(energy.max()) < MIN_ENERGY:
        return []
    baseline = signal.medfilt(energy, kernel_size=min(len(energy) // 2 * 2 + 1, 9))
    onset = np.clip(energy - baseline, 0.0, None)
    top = float(onset.max())
    if top < MIN_ENERGY / 2:
        return []
    peaks, props = signal.find_peaks(onset, prominence=max(top * 0.3, MIN_ENERGY / 2),
                                     distance=max(1, int(round(MIN_GAP_S * fps))))
    return [MotionEvent(time=float(p / fps), strength=float(min(1.0, prom / top)), pan=float(pans[p]))
            for p, prom in zip(peaks, props["prominences"])]


def timbre_of(prompt: str) -> str:
    words = [w.strip(".,;:!?\"'").lower() for w in prompt.split()]
    return next((_MATERIAL_WORDS[w] for w in words if w in _MATERIAL_WORDS), "wood")


def foley_for(frames: np.ndarray, fps: float, seed: int = 0, prompt: str = "") -> FoleyResult:
    """Impacts at the clip's motion events (plus an ambience bed when a local audio model exists), or silence."""
    events = motion_events(frames, fps)
    duration = len(frames) / fps
    n = int(math.ceil(duration * synth.SAMPLE_RATE))
    timbre = timbre_of(prompt)
    info: dict[str, Any] = {"events": [{"time": round(e.time, 4), "strength": round(e.strength, 3),
                                        "pan": round(e.pan, 3)} for e in events], "timbre": timbre}
    tracks = []
    if events:
        impacts = [synth.Impact(time=e.time, timbres=[timbre], impulse=0.3 + 4.0 * e.strength, size=0.15, pan=e.pan)
                   for e in events]
        tracks.append(synth.mix_impacts(impacts, n, seed))
    bed, bed_info = ambience_bed(prompt, duration, n, seed)
    info["ambience"] = bed_info
    if bed is not None:
        tracks.append(bed)
    if not tracks:
        info["why_silent"] = "no motion events in the frames and no local audio model for ambience"
        return FoleyResult(None, None, "none", info)
    source = "foley: motion events" if events else "foley: ambience model"
    if events and bed is not None:
        source = "foley: motion events + ambience model"
    return FoleyResult(synth.master(tracks), synth.SAMPLE_RATE, source, info)


def ambience_bed(prompt: str, duration: float, n: int, seed: int) -> tuple[np.ndarray | None, str]:
    """An ambience track from a text-to-audio model whose weights are already here; (None, why) otherwise."""
    from sora_lite.engines.hub.loading import weights_present

    present = next(((mid, cls) for mid, cls in AMBIENCE_MODELS if weights_present(mid)), None)
    if present is None or not prompt.strip():
        return None, "none (no AudioLDM 2 / Stable Audio Open weights on this machine)"
    model_id, class_name = present
    try:
        mono, rate = _run_audio_model(model_id, class_name, prompt, duration, seed)
    except Exception as e:  # an optional bed must never fail the clip
        log.warning("ambience model %s failed: %s", model_id, e)
        return None, f"none ({model_id} failed: {type(e).__name__})"
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), synth.SAMPLE_RATE)
    up = resample_poly(mono, synth.SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    up = np.pad(up, (0, max(0, n - up.size)))[:n]
    up = up / (np.abs(up).max() or 1.0) * AMBIENCE_GAIN
    return np.stack([up, up]), f"model {model_id}"


def _run_audio_model(model_id: str, class_name: str, prompt: str, duration: float, seed: int) -> tuple[np.ndarray, int]:
    import diffusers
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipe = getattr(diffusers, class_name).from_pretrained(model_id, dtype=dtype, local_files_only=True).to(device)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    text = f"ambient background sound of {prompt}"
    if class_name == "StableAudioPipeline":
        out = pipe(text, audio_end_in_s=max(duration, 1.0), num_inference_steps=50, generator=gen).audios
        audio = out[0].float().cpu().numpy().mean(axis=0)
        rate = int(pipe.vae.sampling_rate)
    else:
        out = pipe(text, audio_length_in_s=max(duration, 1.0), num_inference_steps=50, generator=gen).audios
        audio = np.asarray(out[0], dtype=np.float32)
        rate = 16000
    del pipe
    return audio, rate
