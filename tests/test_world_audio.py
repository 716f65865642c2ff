"""Sound made from contacts: timbre by material, loudness by impulse, placement, pan, ambience, shift."""

import numpy as np
import pytest

from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world import audio as sound
from sora_lite.engines.world.engine import WorldEngine

SR = sound.SAMPLE_RATE


def decay_time(x: np.ndarray) -> float:
    env = np.abs(x)
    peak = env.max()
    return float(np.nonzero(env > peak * 0.01)[0][-1] / SR)


def centroid(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


def test_timbre_follows_material():
    rng = lambda: np.random.default_rng(0)  # noqa: E731
    metal = sound.impact_sound("metal", 5.0, 0.1, rng())
    rubber = sound.impact_sound("rubber", 5.0, 0.1, rng())
    glass = sound.impact_sound("glass", 5.0, 0.1, rng())
    assert decay_time(metal) > 4 * decay_time(rubber)
    assert centroid(glass) > 2 * centroid(rubber)
    small = sound.impact_sound("wood", 5.0, 0.05, rng())
    big = sound.impact_sound("wood", 5.0, 0.3, rng())
    assert centroid(small) > centroid(big)  # smaller objects ring higher


def test_loudness_follows_impulse():
    gains = [sound.loudness_of(i) for i in (0.01, 0.5, 5.0, 50.0)]
    assert gains == sorted(gains) and gains[0] < gains[-1] / 5
    rng = lambda: np.random.default_rng(1)  # noqa: E731
    assert np.abs(sound.impact_sound("wood", 20.0, 0.1, rng())).max() > np.abs(sound.impact_sound("wood", 0.2, 0.1, rng())).max()


def test_impacts_are_placed_at_their_sample_and_panned():
    hits = [sound.Impact(0.25, ["wood"], 5.0, 0.1, -1.0), sound.Impact(0.6, ["wood"], 5.0, 0.1, 1.0)]
    mix = sound.mix_impacts(hits, SR, seed=0)
    assert mix.shape == (2, SR) and mix.dtype == np.float32
    onset = int(np.argmax(np.abs(mix).max(axis=0) > 1e-4))
    assert abs(onset - 0.25 * SR) <= 2
    first, second = slice(int(0.25 * SR), int(0.5 * SR)), slice(int(0.6 * SR), SR)
    assert np.abs(mix[0, first]).sum() > 10 * np.abs(mix[1, first]).sum()  # hard left
    assert np.abs(mix[1, second]).sum() > 10 * np.abs(mix[0, second]).sum()  # hard right


def test_friction_noise_only_while_sliding():
    times = np.arange(24) / 24
    slip = np.zeros((24, 1))
    slip[12:, 0] = 1.0
    out = sound.friction_noise(times, slip, np.zeros_like(slip), np.zeros_like(slip), SR, seed=0)
    assert np.abs(out[:, : SR // 3]).max() < 1e-6
    assert np.abs(out[:, int(0.6 * SR):]).std() > 1e-3


def test_shift_moves_everything_by_the_milliseconds():
    x = np.zeros((2, 1000), np.float32)
    x[:, 100] = 1.0
    assert int(np.argmax(sound.shift(x, 10.0)[0])) == 100 + 480 // 1
    assert int(np.argmax(sound.shift(x, -1.0)[0])) == 52


SLIDE = {
    "objects": [{"shape": "cube", "material": "wood", "size": 0.1, "position": [-1.0, 0.0, 0.1005], "velocity": [3.0, 0.0, 0.0]}],
    "camera": {"distance": 5.0},
}


def clip_audio(spec: dict, **kw) -> tuple[np.ndarray, dict]:
    res = WorldEngine().generate(GenerationRequest(spec=spec, seconds=1.0, width=128, height=128, fps=12, **kw))
    return res.clip.audio, res.ground_truth


def test_ambience_follows_environment_and_can_be_off():
    quiet = {"objects": [{"shape": "ball", "size": 0.1, "position": [0, 0, 0.1]}], "ambience": False}
    audio, _ = clip_audio(quiet)
    assert np.abs(audio).max() < 1e-4  # a ball at rest, no ambience: silence
    outdoor, _ = clip_audio({**quiet, "ambience": True})
    room, _ = clip_audio({**quiet, "ambience": True, "environment": {"backdrop": "room"}})
    assert outdoor.std() > 1e-3 and room.std() > 1e-4
    assert outdoor.std() > 1.5 * room.std()  # wind is louder than room tone


def test_sliding_cube_makes_friction_noise_that_pans_right():
    audio, gt = clip_audio({**SLIDE, "ambience": False})
    assert gt["frames"][0]["objects"][0]["pixel"][0] < gt["frames"][6]["objects"][0]["pixel"][0]  # moves right
    early = audio[:, int(0.05 * SR): int(0.25 * SR)]
    assert np.abs(early).std() > 1e-3  # it slides from the start
    late = audio[:, int(0.4 * SR): int(0.6 * SR)]
    # further right on screen → louder in the right channel than at the start
    assert late[1].std() / late[0].std() > early[1].std() / early[0].std()


def test_audio_shift_perturbation_delays_the_impacts():
    drop = {"objects": [{"shape": "ball", "size": 0.1, "position": [0, 0, 0.6]}], "ambience": False}
    plain, gt = clip_audio(drop)
    shifted, gt2 = clip_audio({**drop, "perturbations": [{"kind": "audio_shift", "amount": 80.0}]})
    on1 = int(np.argmax(np.abs(plain).max(axis=0) > 0.02))
    on2 = int(np.argmax(np.abs(shifted).max(axis=0) > 0.02))
    assert on2 - on1 == pytest.approx(0.080 * SR, abs=2)
    assert gt2["audio_shift_ms"] == 80.0 and gt["audio_shift_ms"] == 0.0
