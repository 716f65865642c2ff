"""Balance before loudness: sparse soft contacts reach the web target without a bed pumped up under them.

Every level is measured independently of the mix's own bookkeeping: pyloudnorm's meter, an 8× oversampled
true peak, RMS in windows where only the bed sounds.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest
from scipy import signal

from sora_lite.common import sound
from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.sound import mix, places

SECONDS = 5.0
N = int(SECONDS * SAMPLE_RATE)


def lufs(x: np.ndarray) -> float:
    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(np.asarray(x, dtype=np.float64).T))


def true_peak_dbtp(x: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(signal.resample_poly(np.asarray(x, dtype=np.float64), 8, 1, axis=-1)).max()))


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def knocks(times: list[float], impulse: float = 0.3, timbre: str = "wood") -> np.ndarray:
    """A few soft contacts as the engine makes them (modal impacts, the engine's own levels)."""
    return sound.mix_impacts([sound.Impact(t, [timbre], impulse, 0.1, 0.0) for t in times], N, seed=0)


def test_the_fast_meter_equals_pyloudnorm() -> None:
    rng = np.random.default_rng(0)
    for x in (knocks([0.5, 2.0]), places.bed("rain", SECONDS, 1), sound.ambience("outdoor", N, 2),
              0.1 * rng.standard_normal((2, N)) * np.linspace(0, 1, N)):
        assert mix._loudness(x) == pytest.approx(lufs(x), abs=0.01)


@pytest.mark.parametrize("times", [[0.6], [0.6, 1.4, 2.9], [0.6, 0.95, 1.25, 1.5, 1.7, 1.85]])
def test_sparse_soft_contacts_meet_the_target_and_dominate_their_moment(times: list[float]) -> None:
    effects = knocks(times)
    bed = sound.ambience("outdoor", N, 3)
    out, report = mix.mix(None, effects, None, bed)
    assert abs(lufs(out) - mix.TARGET_LUFS) <= 1.0 and true_peak_dbtp(out) <= mix.TRUE_PEAK_DBTP + 0.05, report
    # the first contact is the first thing over half the loudest sample, at its own sample (±1 ms)
    env = np.abs(out).max(axis=0)
    assert abs(int(np.argmax(env > 0.5 * env.max())) / SAMPLE_RATE - times[0]) <= 0.001
    # the bed where nothing else sounds (after the last knock has rung out) sits ≥ 20 dB under the knocks
    quiet = out[:, int((times[-1] + 0.8) * SAMPLE_RATE):]
    knock = out[:, int(times[0] * SAMPLE_RATE):int((times[0] + 0.4) * SAMPLE_RATE)]
    assert rms_db(knock) - rms_db(quiet) >= mix.AMBIENCE_BELOW_LU


def test_the_bed_is_tied_under_the_foreground_not_pumped_with_it() -> None:
    bed = sound.ambience("outdoor", N, 4)
    outs = [mix.mix(None, knocks([0.5, 1.5, 2.5, 3.5], impulse=i), None, bed)[0] for i in (0.05, 0.5, 5.0)]
    quiet = [rms_db(o[:, int(4.3 * SAMPLE_RATE):]) for o in outs]
    # contacts 20 dB apart in impulse, each mix at the target: the bed lands at the same level under them
    assert max(quiet) - min(quiet) < 1.0, quiet
    assert all(abs(lufs(o) - mix.TARGET_LUFS) <= 1.0 for o in outs)


def test_the_effects_transients_are_held_but_keep_their_onsets() -> None:
    effects = knocks([0.5, 2.0], impulse=2.0)
    held = mix.transient_control(effects)
    ratio = lambda x: 20 * np.log10(np.abs(x).max()) - mix._loudness(x)  # peak to loudness
    assert ratio(effects) - ratio(held) >= 5.0
    for t in (0.5, 2.0):
        a = int(t * SAMPLE_RATE)
        seg = np.abs(held[:, a - 480:a + 4800]).max(axis=0)
        assert abs(int(np.argmax(seg > 0.2 * seg.max())) - 480) <= 48  # within 1 ms


def test_silent_physics_keeps_the_bed_as_it_was_made() -> None:
    bed = sound.ambience("room", N, 5)
    faint = np.zeros((2, N), dtype=np.float32)
    faint[:, 1000] = 1e-4  # one contact far under the audible floor (−80 dBFS)
    out, report = mix.mix(None, faint, None, bed)
    assert "no audible event" in report.note
    np.testing.assert_allclose(out, faint + bed, atol=1e-7)
