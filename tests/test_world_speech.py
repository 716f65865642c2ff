"""A quoted line through the world engine: the speaker says exactly it, its mouth moves with it, the camera
holds it and its head turns to whom it addresses (the camera here).

The mouth is measured from the rendered pixels (dark pixels at and below the sidecar's mouth pixel) and the
speech envelope from the clip's own audio, so neither side trusts the engine's own openness record.
"""

from __future__ import annotations

import numpy as np
import pytest

from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.engines.base import GenerationRequest
from sora_lite.engines.world.engine import WorldEngine
from sora_lite.sound import speech

FPS = 24
WORDS = "welcome to the show"


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SORA_LITE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))  # synthesised here, not read from a cache
    speech.speak.cache_clear()
    req = GenerationRequest(prompt=f'a close up of a man who says "{WORDS}" to the camera', seconds=2.5,
                            width=256, height=256, fps=FPS, seed=1)
    try:
        yield WorldEngine().generate(req)
    finally:
        mp.undo()


def _speech_event(result) -> dict:
    got = [e for e in result.ground_truth["sound_events"] if e["kind"] == "speech"]
    assert len(got) == 1, result.ground_truth["sound_events"]
    return got[0]


def _rms_per(audio: np.ndarray, hop: int) -> np.ndarray:
    mono = audio.mean(axis=0).astype(np.float64)
    n = mono.size // hop
    return np.sqrt(np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1))


@pytest.mark.slow
def test_the_quoted_line_is_spoken_over_its_span_and_nowhere_else(said) -> None:
    ev = _speech_event(said)
    assert ev["words"] == WORDS and ev["source"] == "person" and ev["detail"]["voice"] == "man"
    assert said.info["soundtrack"]["lines"][0]["start"] == pytest.approx(ev["start"], abs=0.05)
    # where the final mix is loud (10 ms frames within 20 dB of its loudest, gaps under 150 ms bridged): the
    # line's span, and nowhere else (the place's bed and the ducked effects stay more than 20 dB down)
    spans = speech.speech_spans(said.clip.audio.mean(axis=0), floor_db=-20.0)
    covered = sum(max(0.0, min(b, ev["end"]) - max(a, ev["start"])) for a, b in spans)
    assert covered >= 0.9 * (ev["end"] - ev["start"]), (spans, ev)
    assert all(a >= ev["start"] - 0.05 and b <= ev["end"] + 0.05 for a, b in spans), (spans, ev)
    assert "spoken lines" in said.info["audio_source"]


def _mouth_follows_the_voice(result, speaker: str, half: tuple[int, int]) -> None:
    """Dark pixels in a box around the sidecar's mouth pixel, per rendered frame, against the clip's own
    speech envelope: highest correlation at lag 0 ± 1 frame."""
    mouth = result.ground_truth["mouths"][speaker]
    frames = result.clip.frames
    n = frames.shape[0]
    area = np.zeros(n)
    hy, hx = half
    for f in range(n):
        px = mouth["pixel"][f]
        assert px is not None, f"the speaker's mouth is off screen in frame {f}"
        x, y = round(px[0]), round(px[1])
        box = frames[f, max(0, y - hy):y + hy + 2, max(0, x - hx):x + hx + 1].astype(int)
        area[f] = (box.max(axis=-1) < 45).sum()  # near-black pixels in the mouth box
    hop = SAMPLE_RATE // FPS
    env = np.sqrt(_rms_per(result.clip.audio, hop)[:n])  # the clip's own audio, per frame
    assert area.max() >= 3 and area[: int(0.3 * FPS)].max() <= 1, area  # opens while speaking, shut before
    lags = range(-3, 4)
    corr = [np.corrcoef(area[max(0, k):n + min(0, k)], env[max(0, -k):n - max(0, k)])[0, 1] for k in lags]
    best = list(lags)[int(np.nanargmax(corr))]
    assert abs(best) <= 1 and max(corr) > 0.6, dict(zip(lags, np.round(corr, 3)))
    # the sidecar records the openness it drew, in step with the envelope
    o = np.array(mouth["openness"])
    # (by viseme from Piper's phoneme timings: open vowels wide, bilabials shut — less like the loudness than the
    # envelope-driven mouth was: 0.74 measured on "good morning everyone", against 0.9 before)
    assert o.size == n and np.corrcoef(o, env)[0, 1] > 0.6


@pytest.mark.slow
def test_the_rendered_mouth_moves_with_the_speech_envelope_at_lag_zero(said) -> None:
    _mouth_follows_the_voice(said, "person", (2, 5))


@pytest.mark.slow
def test_a_cameo_characters_mouth_moves_too() -> None:
    """The character proxy a cameo stands for (here without a granted face: the plain head) speaks as well."""
    r = WorldEngine().generate(GenerationRequest(prompt='@alice says "good morning everyone" to the camera',
                                                 seconds=2.5, width=128, height=128, fps=FPS, seed=0))
    assert _speech_event(r)["source"] == "@alice"
    _mouth_follows_the_voice(r, "@alice", (4, 8))


@pytest.mark.slow
def test_the_speaker_is_kept_in_frame_and_faces_the_camera_while_it_speaks(said) -> None:
    ev = _speech_event(said)
    frames = said.ground_truth["frames"]
    for f in range(int(ev["start"] * FPS), min(len(frames), int(ev["end"] * FPS) + 1)):
        obj = next(o for o in frames[f]["objects"] if o["name"] == "person")
        assert obj["visible"], f
    assert "person" in said.info["shots"][0]["named"]
    assert said.ground_truth["mouths"]["person"]["faces"] == "camera"
    # facing the camera: the mouth is seen near the middle of the head, not at its edge (a profile)
    mid = int((ev["start"] + ev["end"]) / 2 * FPS)
    head = next(o for o in frames[mid]["objects"] if o["name"] == "person")
    mouth = said.ground_truth["mouths"]["person"]["pixel"][mid]
    person_x = head["pixel"][0]
    # (in profile, as the figure stands once it has spoken, the mouth sits ~0.1 radius off the body's axis)
    assert abs(mouth[0] - person_x) < 0.03 * head["radius_px"], (mouth, head["pixel"], head["radius_px"])
    last = said.ground_truth["mouths"]["person"]["pixel"][-1]
    assert abs(last[0] - person_x) > 0.06 * head["radius_px"]  # after the line the head turns back


def test_a_speaker_faces_the_person_it_addresses_else_the_camera() -> None:
    from sora_lite.engines.world.mouths import PlannedLine, addressees
    from sora_lite.sound.dialogue import find_lines

    line = find_lines('the man says "nice to meet you"')[0]
    to_cam = find_lines('the man says "hello camera"')[0]
    assert addressees([PlannedLine(line, 0, 0.3, 1.0, "man")], ["man", "woman"]) == {"man": "woman"}
    assert addressees([PlannedLine(line, 0, 0.3, 1.0, "man")], ["man"]) == {"man": None}
    assert addressees([PlannedLine(to_cam, 0, 0.3, 1.0, "man")], ["man", "woman"]) == {"man": None}


def test_speech_controls_for_av_sync_calibration() -> None:
    from eval.calibrate import EXTRA_FAMILIES, SCORER_OF, speech_controls

    assert "av_sync_speech" in EXTRA_FAMILIES and SCORER_OF["av_sync_speech"] == "av_sync"
    got = speech_controls(2, (2, 12), fps=24)
    assert [c.kind for c in got].count("in_sync") == 2
    assert all('says "' in c.prompt and c.spec["objects"][0]["recipe"] == "person" for c in got)
    shifts = sorted({c.shift_ms for c in got if c.kind == "shift"})
    assert shifts == pytest.approx([-2000 / 24, 2000 / 24, 12000 / 24])  # −12 frames would start before 0 s


@pytest.mark.slow
def test_audio_shift_moves_the_voice_but_not_the_mouth_or_the_sidecar() -> None:
    spec = {"objects": [{"shape": "prop", "recipe": "person", "name": "man"}], "ambience": False,
            "camera": {"move": "static", "shot": "close"}}
    prompt = 'a man says "good morning everyone" to the camera'
    engine = WorldEngine()
    runs = {}
    for ms in (0.0, 250.0):
        s = dict(spec, perturbations=[{"kind": "audio_shift", "at": 0.0, "target": 0, "amount": ms}] if ms else [])
        runs[ms] = engine.generate(GenerationRequest(prompt=prompt, spec=s, seconds=2.5, width=128, height=128,
                                                     fps=FPS, seed=0))
    a, b = (np.abs(runs[ms].clip.audio).mean(axis=0) for ms in (0.0, 250.0))
    hop = SAMPLE_RATE // 1000
    ea, eb = (x[: x.size // hop * hop].reshape(-1, hop).mean(axis=1) for x in (a, b))
    lags = np.arange(-400, 401)
    xc = [np.dot(ea[max(0, -k):ea.size - max(0, k)], eb[max(0, k):eb.size - max(0, -k)]) for k in lags]
    assert abs(int(lags[int(np.argmax(xc))]) - 250) <= 2  # the voice comes 250 ms late
    ev = {ms: _speech_event(runs[ms]) for ms in runs}
    assert ev[250.0]["start"] == pytest.approx(ev[0.0]["start"], abs=1e-3)  # recorded at the picture's time
    assert ev[250.0]["detail"]["audio_shift_s"] == pytest.approx(0.25, abs=1e-3)
    assert runs[250.0].ground_truth["mouths"]["man"]["openness"] == runs[0.0].ground_truth["mouths"]["man"]["openness"]
