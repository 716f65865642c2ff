"""The soundtrack library: spoken lines, mouth motion, a score on the cuts, place beds and the loudness of the mix.

Each check measures the output independently (energy per 10 ms, an envelope from scipy's Hilbert transform,
onset flux, pyloudnorm's BS.1770 meter, an 8× oversampled true peak) against what the code claims.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.sound import dialogue, mix, music, places, speech

FPS = 24


@pytest.fixture(autouse=True)
def _fresh_speech_cache(tmp_path, monkeypatch):
    """Every test synthesises for itself: a cache left by an earlier run must not hide a broken voice."""
    monkeypatch.setenv("SORA_LITE_CACHE_DIR", str(tmp_path / "cache"))
    speech.speak.cache_clear()
    assert speech._cache_dir() == tmp_path / "cache" / "speech"  # the one cache variable every cache reads


def test_quoted_lines_are_found_with_speaker_manner_and_voice() -> None:
    got = dialogue.find_lines('a man in a suit says "welcome to the show" to the camera')
    assert [(g.words, g.manner, g.voice) for g in got] == [("welcome to the show", "says", "man")]
    got = dialogue.find_lines("A woman whispers: “I know.” Then a little boy shouts \"Run!\"")
    assert [(g.words, g.manner, g.voice) for g in got] == [("I know.", "whispers", "woman"), ("Run!", "shouts", "child")]
    assert dialogue.find_lines('Narrator: "Once upon a time"')[0].words == "Once upon a time"
    assert dialogue.find_lines("a red ball rolls across the floor") == []
    assert dialogue.find_lines('a shop sign says "OPEN" in neon') == []  # on-screen text is not speech


def _voiced(track: np.ndarray, floor: float) -> np.ndarray:
    hop = SAMPLE_RATE // 100
    mono = np.abs(track).mean(axis=0) if track.ndim == 2 else np.abs(track)
    n = mono.size // hop
    rms = np.sqrt(np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1))
    return rms > floor


@pytest.mark.slow
def test_a_spoken_line_sounds_over_its_recorded_span_and_nowhere_else() -> None:
    line = dialogue.find_lines('a man says "welcome to the show"')[0]
    track, event = dialogue.place_line(line, start=0.8, pan=0.3, n_samples=4 * SAMPLE_RATE, source="man")
    assert event.kind == "speech" and event.words == "welcome to the show" and event.source == "man"
    assert 0.8 <= event.start < 1.0 < event.end < 3.0
    voiced = _voiced(track, floor=1e-3)
    t = (np.arange(voiced.size) + 0.5) / 100
    inside = (t >= event.start) & (t <= event.end)
    assert voiced[inside].mean() >= 0.9
    assert not voiced[(t < event.start - 0.05) | (t > event.end + 0.05)].any()
    # panned right of centre: more in the right channel
    assert np.abs(track[1]).sum() > np.abs(track[0]).sum()


@pytest.mark.slow
def test_voices_differ_per_character_and_lines_are_cached(tmp_path) -> None:
    man = speech.speak("Good morning everyone.", "man")
    woman = speech.speak("Good morning everyone.", "woman")
    assert abs(man.seconds - woman.seconds) / man.seconds < 0.2  # the same pace ...

    def pitch(audio: np.ndarray) -> float:  # ... a higher voice: the spectral centroid of the voiced part
        f, p = signal.welch(audio, SAMPLE_RATE, nperseg=4096)
        return float((f * p).sum() / p.sum())

    assert pitch(woman.audio) > 1.15 * pitch(man.audio)
    cached = list((tmp_path / "cache" / "speech").glob("*.npy"))
    assert len(cached) == 2
    speech.speak.cache_clear()
    again = speech.speak("Good morning everyone.", "man")  # from disk now
    np.testing.assert_array_equal(again.audio, man.audio)


def test_mouth_opens_with_the_speech_envelope_at_lag_zero() -> None:
    line = speech.speak("The quick brown fox jumps over the lazy dog.")
    start, n_frames = 0.5, int((0.5 + line.seconds + 0.5) * FPS)
    mouth = speech.mouth_openness(line.audio, start, FPS, n_frames)
    # an independent envelope: Hilbert magnitude, low-passed at 8 Hz, sampled at each frame's centre
    env = np.abs(signal.hilbert(line.audio.astype(np.float64)))
    b, a = signal.butter(2, 8 / (SAMPLE_RATE / 2))
    env = signal.filtfilt(b, a, env)
    centres = ((np.arange(n_frames) + 0.5) / FPS - start) * SAMPLE_RATE
    ref = np.where((centres >= 0) & (centres < env.size), env[np.clip(centres.astype(int), 0, env.size - 1)], 0.0)
    lags = range(-5, 6)
    corr = [np.corrcoef(np.roll(mouth, k), ref)[0, 1] for k in lags]
    assert abs(list(lags)[int(np.argmax(corr))]) <= 1 and max(corr) > 0.7
    assert mouth[: int(start * FPS) - 1].max() == 0  # closed before the line starts


def test_no_music_unless_asked_and_moods_from_words() -> None:
    assert music.mood_from_text("a red ball bounces on a wooden floor") is None
    assert music.mood_from_text("a dog runs on the beach, upbeat music") == "upbeat"
    assert music.mood_from_text("a dark alley at night with a tense score") == "tense"
    assert music.mood_from_text("a cafe scene with a lo-fi beat") == "lofi"
    assert music.mood_from_text("with music") == "upbeat"


@pytest.mark.parametrize("mood", ["upbeat", "tense", "calm"])
def test_score_accents_land_on_cuts_within_one_frame(mood: str) -> None:
    cuts = [1.37, 3.02, 4.5]
    track, events = music.score(6.0, mood, cuts, accents=[], seed=3)
    assert track.shape == (2, 6 * SAMPLE_RATE) and np.abs(track).max() <= 0.9 + 1e-6
    flux = music.onset_strength(track)
    hop_s = 1 / 200
    for cut in cuts:
        lo, hi = int((cut - 3 / FPS) / hop_s), int((cut + 3 / FPS) / hop_s)
        peak_t = (lo + int(np.argmax(flux[lo:hi]))) * hop_s
        assert abs(peak_t - cut) <= 1 / FPS, (cut, peak_t)
    assert [e.start for e in events if e.kind == "music_accent"] == cuts


def test_place_beds_are_seeded_quiet_and_named_by_words() -> None:
    assert places.beds_from_text("two cars collide at an intersection in the rain") == ["rain", "traffic"]
    assert places.beds_from_text("a dog runs along a beach at sunset") == ["wind", "waves"]
    assert places.beds_from_text("a red ball on a checker floor") == []
    for kind in places.BEDS:
        a, b = places.bed(kind, 2.0, seed=5), places.bed(kind, 2.0, seed=5)
        np.testing.assert_array_equal(a, b)
        rms = float(np.sqrt(np.mean(a.astype(np.float64) ** 2)))
        assert 0.001 < rms <= places.BED_RMS * 1.01 and a.shape == (2, 2 * SAMPLE_RATE)
    assert not np.array_equal(places.bed("rain", 2.0, 5), places.bed("rain", 2.0, 6))
    with pytest.raises(ValueError, match="choose one of"):
        places.bed("lava", 1.0, 0)


def _lufs(x: np.ndarray) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(np.asarray(x, dtype=np.float64).T))


def _true_peak_dbtp(x: np.ndarray) -> float:
    up = signal.resample_poly(np.asarray(x, dtype=np.float64), 8, 1, axis=-1)  # finer than the mix's own 4×
    return 20 * np.log10(np.abs(up).max())


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_the_mix_meets_the_loudness_target_and_ducks_under_speech() -> None:
    n = 5 * SAMPLE_RATE
    line = dialogue.find_lines('a woman says "this is the final countdown"')[0]
    talk, event = dialogue.place_line(line, start=1.0, pan=0.0, n_samples=n)
    score, _ = music.score(5.0, "epic", [2.5], [], seed=1)
    rng = np.random.default_rng(0)
    hits = np.zeros((2, n), dtype=np.float32)
    for t in (0.4, 2.5, 4.2):  # loud, short impacts: what makes limiting necessary
        at = int(t * SAMPLE_RATE)
        hits[:, at : at + 1500] = rng.standard_normal(1500) * np.exp(-np.arange(1500) / 300) * 0.9
    rain = places.bed("rain", 5.0, seed=2)
    out, report = mix.mix(talk, hits, score, rain)
    assert abs(_lufs(out) - mix.TARGET_LUFS) <= 0.5 and report.integrated_lufs == pytest.approx(_lufs(out), abs=0.01)
    assert _true_peak_dbtp(out) <= mix.TRUE_PEAK_DBTP + 0.1
    # ducking: the score alone, with and without the dialogue stem, measured inside the spoken span
    ducked, _ = mix.mix(talk * 1e-9 + talk, None, score, None, target_lufs=None)
    alone, _ = mix.mix(None, None, score, None, target_lufs=None)
    span = slice(int((event.start + 0.2) * SAMPLE_RATE), int((event.end - 0.1) * SAMPLE_RATE))
    music_only_ducked = ducked - mix.mix(talk, None, None, None, target_lufs=None)[0]
    ratio_db = 20 * np.log10(np.sqrt(np.mean(music_only_ducked[:, span] ** 2)) / np.sqrt(np.mean(alone[:, span] ** 2)))
    assert ratio_db <= -8.0


def test_a_quiet_place_stays_quiet_and_a_short_clip_says_it_was_not_measured() -> None:
    bed = places.bed("room", 3.0, 0)
    out, report = mix.mix(None, None, None, bed)
    np.testing.assert_allclose(out, bed, atol=1e-7)  # not raised to the target: a quiet room stays quiet
    assert report.integrated_lufs == pytest.approx(_lufs(bed), abs=0.01) and "ambience only" in report.note
    short, report = mix.mix(None, np.full((2, 1000), 0.1, dtype=np.float32))
    assert report.integrated_lufs is None and "400 ms" in report.note


def test_the_parse_says_what_will_be_heard() -> None:
    from sora_lite.engines.world.parse import parse_prompt

    got = parse_prompt('a man says "hello there" to the camera, upbeat music, rainy street')
    assert got.sound["lines"] == [{"words": "hello there", "voice": "man", "manner": "says", "speaker": "a man"}]
    assert got.sound["music"] == "upbeat" and got.sound["beds"] == ["rain", "traffic"]
    assert "music" in got.used and "music" not in got.ignored  # heard, so used
    quiet = parse_prompt("a red ball bounces on a wooden floor")
    assert quiet.sound == {"lines": [], "music": None, "beds": []}
