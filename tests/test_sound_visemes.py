"""The mouth moves by viseme from Piper's phoneme timings: open vowels wide, bilabials shut, in step with the voice.

The timings come from the voice's model patched to output each phoneme's duration (needs `onnx`); the
envelope check is independent of them (Hilbert magnitude of the synthesised audio), so a shifted or wrong
timing fails it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.sound import speech

FPS = 24


@pytest.fixture(autouse=True)
def _fresh_speech_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SORA_LITE_CACHE_DIR", str(tmp_path / "cache"))
    speech.speak.cache_clear()


def test_viseme_table_opens_vowels_and_shuts_bilabials() -> None:
    ph = (("m", 0.0, 0.1), ("ˈ", 0.1, 0.15), ("ɑ", 0.15, 0.3), ("ː", 0.3, 0.35), ("p", 0.35, 0.4), (" ", 0.4, 0.5))
    o = speech.viseme_openness(ph)
    assert o[0] == 0.0 and o[4] == 0.0  # m, p
    assert o[2] == 1.0 and o[1] == o[2] and o[3] == o[2]  # stress takes the next, length the previous
    assert o[5] < 0.1
    mouth = speech.mouth_openness(np.ones(SAMPLE_RATE, np.float32), 0.0, 20, 12, ph)  # 50 ms frames
    assert mouth[0] == 0.0 and mouth[4] == pytest.approx(1.0) and mouth[7] == 0.0 and mouth[11] == 0.0


@pytest.mark.slow
def test_a_line_carries_phoneme_timings_and_the_mouth_follows_them() -> None:
    pytest.importorskip("onnx", reason="phoneme timings need the onnx package (requirements.txt)")
    line = speech.speak("Please bring me a mop, Bob.")
    assert line.phonemes, "Piper gave no phoneme timings"
    ends = [b for _, _, b in line.phonemes]
    assert ends == sorted(ends) and abs(ends[-1] - line.seconds) < 0.05  # timings cover the audio
    start, n = 0.5, int((0.5 + line.seconds + 0.5) * FPS)
    mouth = speech.mouth_openness(line.audio, start, FPS, n, line.phonemes)
    assert mouth[: int(start * FPS) - 1].max() == 0 and mouth.max() > 0.5
    # bilabials shut it: the frames whose middle falls in an m, b or p are less open than those in an open vowel
    def at(kinds: str) -> list[float]:
        return [mouth[int((start + (a + b) / 2) * FPS)] for p, a, b in line.phonemes if p in kinds]
    assert np.mean(at("mbp")) < 0.5 * np.mean(at("aɑæɒɔ"))
    # in step with the voice: an independent envelope correlates best at lag 0 ± 1 frame
    env = signal.filtfilt(*signal.butter(2, 8 / (SAMPLE_RATE / 2)), np.abs(signal.hilbert(line.audio.astype(np.float64))))
    centres = ((np.arange(n) + 0.5) / FPS - start) * SAMPLE_RATE
    ref = np.where((centres >= 0) & (centres < env.size), env[np.clip(centres.astype(int), 0, env.size - 1)], 0.0)
    lags = range(-5, 6)
    corr = [np.corrcoef(np.roll(mouth, k), ref)[0, 1] for k in lags]
    assert abs(list(lags)[int(np.argmax(corr))]) <= 1 and max(corr) > 0.6, dict(zip(lags, np.round(corr, 2)))
    # the same timings shifted by 4 frames lose the lag
    late = tuple((p, a + 4 / FPS, b + 4 / FPS) for p, a, b in line.phonemes)
    shifted = speech.mouth_openness(line.audio, start, FPS, n, late)
    corr = [np.corrcoef(np.roll(shifted, k), ref)[0, 1] for k in lags]
    assert abs(list(lags)[int(np.argmax(corr))]) >= 3
