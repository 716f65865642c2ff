"""The output face check on small faces: a world render at 256² and 128² of a character wearing alice's
face (~25-55 px, which plain HOG detection misses) is blocked for bob, who has no grant, and allowed for
alice once her cameo is verified. (Our own engine is also stopped on the request: test_cameo_likeness.)"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

pytest.importorskip("dlib", reason="the cameo face detector needs dlib-bin")
pytest.importorskip("skimage", reason="the test faces come from scikit-image")

import cameo_fixtures as fx  # noqa: E402
from sora_lite import accounts  # noqa: E402
from sora_lite.cameo import faces  # noqa: E402
from sora_lite.cameo.grants import CameoDenied  # noqa: E402
from sora_lite.cameo.matching import check_output_faces  # noqa: E402
from sora_lite.engines.base import GenerationRequest  # noqa: E402
from sora_lite.engines.world.engine import WorldEngine  # noqa: E402
from sora_lite.store import AuditEntry, open_store  # noqa: E402

pytestmark = pytest.mark.skipif(faces.representation_method() != faces.EMBEDDING_METHOD,
                                reason="needs dlib's face embedding (face_recognition_models)")


@pytest.mark.slow
def test_a_small_painted_face_is_found_and_blocked_without_a_grant(tmp_path):
    store = open_store(home=tmp_path / "home")
    alice = accounts.create_account(store, "alice", "alice-password")
    bob = accounts.create_account(store, "bob", "bob-password")
    info = fx.verified_cameo(store, tmp_path / "home", alice, "alice", fx.save(fx.astronaut(), tmp_path / "a.png"), tmp_path)
    wearing = [{"handle": "bob", "cameo_id": "x", "owner": "bob", "kind": "owner", "grant_id": None,
                "display_name": "bob", "face_texture": info.face_texture, "voice": None}]
    for side in (256, 128):
        request = GenerationRequest(prompt="a medium shot of @bob", seconds=1, width=side, height=side, fps=8, seed=1,
                                    options={"cameos": wearing})
        frames = WorldEngine().generate(request).clip.frames
        _, found = faces.detect_small_faces(frames[0])
        assert found, f"no face found in the {side}² render"
        size = found[0].w / faces.upscale_factor(frames[0])
        assert size <= 60, size  # a small face, in the render's own pixels
        if side == 128:
            assert faces.detect_faces(frames[0]) == []  # what the check saw before enlarging frames
        with pytest.raises(CameoDenied, match="@alice"):
            check_output_faces(store, frames, bob, clip_id=f"c{side}")
        assert check_output_faces(store, frames, alice).matches[0].handle == "alice"
    with store.session() as s:
        blocked = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "cameo.output_block")))
        told = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "cameo.likeness_blocked")))
    assert [e.details["clip_id"] for e in blocked] == ["c256", "c128"] and {e.user_id for e in told} == {alice.id}

    plain = WorldEngine().generate(GenerationRequest(prompt="a medium shot of @bob", seconds=1, width=128, height=128,
                                                     fps=8, seed=1)).clip.frames
    assert check_output_faces(store, plain, bob).matches == []  # a plain figure matches nobody


def test_upscale_factor_targets_faces_of_about_18_px():
    assert faces.upscale_factor(np.zeros((128, 128, 3), np.uint8)) == 4
    assert faces.upscale_factor(np.zeros((256, 320, 3), np.uint8)) == 2
    assert faces.upscale_factor(np.zeros((720, 1280, 3), np.uint8)) == 1
