"""Cameos in the world engine: `@alice` becomes a character that wears the granted face and speaks the
granted voice sample at its first appearance, panned to it; nothing not granted is ever shown; and the
whole studio flow ends with the output check recognising the granted face."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import signal
from sqlalchemy import select

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test faces come from scikit-image")

import cameo_fixtures as fx  # noqa: E402
from sora_lite.engines.base import GenerationRequest, RequestError  # noqa: E402
from sora_lite.engines.world import audio as sound  # noqa: E402
from sora_lite.engines.world.engine import VOICE_DELAY_S, WorldEngine  # noqa: E402
from sora_lite.engines.world.parse import parse_prompt  # noqa: E402
from sora_lite.engines.world.spec import SceneSpec, SpecError  # noqa: E402

SIDE = 160


@pytest.fixture(scope="module")
def face_png(tmp_path_factory) -> Path:
    """The astronaut's face as the registry crops it (`registry._write_files`: margin 0.15, 256²)."""
    from sora_lite.cameo import faces

    image = fx.astronaut()
    box = faces.detect_faces(image)[0]
    path = tmp_path_factory.mktemp("cameo") / "face.png"
    Image.fromarray(faces.face_crop(image, box, size=256, margin=0.15)).save(path)
    return path


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def cameo(face: Path, voice: Path | None = None, handle: str = "alice") -> dict:
    return {"handle": handle, "cameo_id": "c1", "owner": handle, "kind": "owner", "grant_id": None,
            "display_name": handle, "face_texture": str(face), "voice": str(voice) if voice else None}


def render(prompt: str, cameos: list[dict] | None = None, seconds: float = 1.0, **kw):
    options = {"cameos": cameos} if cameos is not None else {}
    request = GenerationRequest(prompt=prompt, seconds=seconds, width=SIDE, height=SIDE, fps=8, seed=3,
                                options=options, **kw)
    return WorldEngine().generate(request)


# --- the parser ---------------------------------------------------------------------------------------------


def test_a_handle_is_one_character_standing_for_the_cameo():
    spec = parse_prompt("@Alice drops a red ball. Then @alice waves").spec
    assert [(o.shape, o.name, o.cameo) for o in spec.objects] == [("character", "@alice", "alice"), ("ball", "red ball", None)]
    assert spec.objects[1].height == 1.0  # the verb still finds its object
    res = parse_prompt("two @bob.smith stand next to a man")
    bob = [o for o in res.spec.objects if o.cameo]
    assert [(o.name, o.count) for o in bob] == [("@bob.smith", 1)] and any("one person" in n for n in res.notes)
    assert not [o for o in res.spec.objects if o.cameo is None and o.name.startswith("@")]
    assert all(o.cameo is None for o in parse_prompt("mail x@y.com about a ball").spec.objects)
    assert SceneSpec.from_json(spec.to_json()).objects[0].cameo == "alice"  # round-trips
    for bad, message in (({"shape": "ball", "cameo": "alice"}, "one character"), ({"shape": "character", "cameo": "@Al ice"}, "handle")):
        with pytest.raises(SpecError, match=message):
            SceneSpec.from_dict({"objects": [bad]})


# --- the face -----------------------------------------------------------------------------------------------


def face_region(result, name: str = "@alice") -> tuple[slice, slice]:
    """Where the face side of the character's head is drawn: its corners projected with the clip's camera
    (the proxy's geometry from `scene.py`: head centre 1.55 size above the body's main geom, face half-width
    FACE_HALF size, 0.3 size in front of it)."""
    from sora_lite.engines.world.camera import CameraPose, project
    from sora_lite.engines.world.scene import FACE_HALF

    frame = result.ground_truth["frames"][0]
    body = next(o for o in frame["objects"] if o["name"] == name)
    size = next(o for o in result.spec["objects"] if o["name"] == name)["size"]
    cx, cy, cz = body["position"]
    half = FACE_HALF * size * 0.9  # a little inside the edges
    corners = np.array([[cx + dx * half, cy - 0.3 * size, cz + 1.55 * size + dz * half] for dx in (-1, 1) for dz in (-1, 1)])
    cam = {k: v for k, v in frame["camera"].items() if k != "position"}
    px, _, _ = project(CameraPose(**cam), corners, np.zeros(4), SIDE, SIDE)
    x0, y0 = np.floor(px.min(axis=0)).astype(int)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int)
    assert 0 <= x0 < x1 <= SIDE and 0 <= y0 < y1 <= SIDE and (x1 - x0) >= 12, "the face is not in the frame"
    return slice(y0, y1), slice(x0, x1)


def correlation(crop: np.ndarray, texture: np.ndarray) -> float:
    h, w = crop.shape[:2]
    ref = np.asarray(Image.fromarray(texture).resize((w, h), Image.Resampling.BILINEAR), dtype=float).ravel()
    return float(np.corrcoef(crop.astype(float).ravel(), ref)[0, 1])


def test_the_character_wears_the_granted_face_and_nothing_else(face_png):
    prompt = "a medium shot of @alice"
    worn = render(prompt, [cameo(face_png)])
    plain = render(prompt)  # e.g. the CLI: the engine loads no face it was not given
    texture = np.asarray(Image.open(face_png).convert("RGB"))
    rows, cols = face_region(worn)
    assert correlation(worn.clip.frames[0][rows, cols], texture) > 0.6
    assert correlation(plain.clip.frames[0][rows, cols], texture) < 0.3
    assert worn.info["cameos"] == [{"handle": "alice", "object": "@alice", "face": True, "voice_at": None}]
    assert plain.info["cameos"][0]["face"] is False and "plain figure" in plain.info["cameos"][0]["note"]

    other = render(prompt, [cameo(face_png, handle="bob")])  # bob's grant does not put bob's face on @alice
    assert np.array_equal(other.clip.frames, plain.clip.frames)
    assert {c["handle"]: c["face"] for c in other.info["cameos"]} == {"alice": False, "bob": False}

    spec = {"objects": [{"shape": "character", "cameo": "alice", "name": "@alice"}], "camera": {"shot": "medium"}}
    from_spec = WorldEngine().generate(GenerationRequest(spec=spec, seconds=1, width=SIDE, height=SIDE, fps=8, seed=3))
    assert from_spec.info["cameos"][0]["face"] is False  # a spec names a cameo; only options show one


def test_bad_cameo_options_get_one_clear_error(face_png, tmp_path):
    with pytest.raises(RequestError, match="list of cameo objects"):
        render("@alice", cameos="alice")  # type: ignore[arg-type]
    with pytest.raises(RequestError, match="face texture of cameo @alice"):
        render("@alice", [cameo(tmp_path / "gone.png")])
    (tmp_path / "junk.wav").write_bytes(b"not audio")
    with pytest.raises(RequestError, match="voice sample of cameo @alice"):
        render("@alice", [cameo(face_png, tmp_path / "junk.wav")])


# --- the voice ----------------------------------------------------------------------------------------------


def test_the_voice_line_starts_at_the_first_appearance_panned_to_the_speaker(face_png, tmp_path):
    said = np.random.default_rng(0).uniform(-0.5, 0.5, 32_000)  # 2 s at 16 kHz, not periodic: one lag fits
    voice = write_wav(tmp_path / "voice.wav", said)
    res = render("a red ball rests to the left of @alice, wide shot, silent", [cameo(face_png, voice)], seconds=1.5)
    entry = res.info["cameos"][0]
    assert entry["voice_at"] == pytest.approx(VOICE_DELAY_S) and res.info["audio_source"].endswith("+ cameo voice")
    assert entry["voice_pan"] > 0.1  # @alice stands right of the ball

    audio = res.clip.audio
    reference = signal.resample_poly(said, 3, 1)[: sound.SAMPLE_RATE // 2]
    mono = audio.mean(axis=0)
    lags = signal.correlation_lags(mono.size, reference.size, mode="valid")
    xc = signal.correlate(mono, reference, mode="valid")
    assert lags[np.argmax(xc)] / sound.SAMPLE_RATE == pytest.approx(VOICE_DELAY_S, abs=0.005)
    voiced = slice(int(0.3 * sound.SAMPLE_RATE), int(1.4 * sound.SAMPLE_RATE))
    left, right = np.sqrt(np.mean(audio[:, voiced] ** 2, axis=1))
    assert right > 1.2 * left

    quiet = render("a red ball rests to the left of @alice, wide shot, silent", [cameo(face_png)], seconds=1.5)
    assert quiet.info["audio_source"] == "simulated contacts"
    # both mixes are gained to −16 LUFS (sound/mix.py: the quiet one's bounces too), so compare the voice's
    # presence where it starts, not the level
    lag = round(VOICE_DELAY_S * sound.SAMPLE_RATE)
    def voice_r(a: np.ndarray) -> float:
        return float(np.corrcoef(a.mean(axis=0)[lag:lag + reference.size], reference)[0, 1])
    assert voice_r(audio) > 0.8 and abs(voice_r(quiet.clip.audio)) < 0.2


def test_in_a_storyboard_the_line_comes_when_the_cameo_walks_in(face_png, tmp_path):
    voice = write_wav(tmp_path / "voice.wav", np.random.default_rng(1).uniform(-0.5, 0.5, 24_000))
    shots = [{"prompt": "a red ball", "seconds": 1}, {"prompt": "@alice stands next to it", "seconds": 1}]
    request = GenerationRequest(prompt="", shots=shots, width=128, height=128, fps=8,
                                options={"cameos": [cameo(face_png, voice)]})
    res = WorldEngine().generate(request)
    assert res.info["objects"] == ["red ball", "@alice"]
    assert res.info["cameos"][0]["voice_at"] == pytest.approx(1.0 + VOICE_DELAY_S)
    after_cut = int(0.9 * sound.SAMPLE_RATE)  # the ball's bounces in shot 1 are not the line
    tail = np.abs(res.clip.audio[:, after_cut:]).max(axis=0)
    loud = np.nonzero(tail > 0.5 * tail.max())[0]  # relative: the mix sets the clip's loudness (sora_lite.sound.mix)
    assert loud.size and (after_cut + loud[0]) / sound.SAMPLE_RATE == pytest.approx(1.0 + VOICE_DELAY_S, abs=0.03)


# --- the studio flow ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_studio_clip_shows_the_granted_cameo_and_the_output_check_recognises_it(tmp_path):
    from sora_lite import accounts
    from sora_lite.cameo import faces, grants, registry
    from sora_lite.media import read_video
    from sora_lite.store import AuditEntry
    from sora_lite.studio import Studio

    home = tmp_path / "home"
    studio = Studio(home)
    store = studio.store
    alice = accounts.create_account(store, "alice", "alice-password")
    bob = accounts.create_account(store, "bob", "bob-password")
    voice = write_wav(tmp_path / "voice.wav", fx.voiced_audio(2.0)[0])
    fx.verified_cameo(store, home, alice, "alice", fx.save(fx.astronaut(), tmp_path / "a.png"), tmp_path, voice=voice)
    grants.set_visibility(store, alice, "alice", "everyone")

    request = GenerationRequest(prompt="a medium shot of @alice", seconds=1, width=320, height=320, fps=8)
    record = studio.generate(request, user=bob)
    assert record.info["cameos"][0]["face"] and record.info["audio_source"].endswith("+ cameo voice")
    video = read_video(record.video_path)
    found = faces.detect_faces(video.frames[0])
    assert found, "the stored clip shows no face"
    with store.session() as s:
        seen = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "cameo.appearance")))
    assert [(e.details["clip_id"], e.details["named_in_prompt"]) for e in seen] == [(record.id, True)]
    assert np.abs(video.audio[:, int(0.3 * video.sample_rate):]).max() > 0.2  # the voice line, after muxing
