"""Check, then write: the cameo checks run on the frames in memory before marks and encoding, nothing is
written when one refuses, the thumbnail comes from those frames, and the record says what was encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fake_engine
from sora_lite import studio as studio_mod
from sora_lite.cameo import usage
from sora_lite.cameo.grants import CameoDenied
from sora_lite.engines import GenerationRequest
from sora_lite.media import read_image
from sora_lite.studio import Studio


@pytest.fixture()
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Studio:
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path / "home"))
    fake_engine.register()
    return Studio(tmp_path / "home")


def _request() -> GenerationRequest:
    return GenerationRequest(prompt="a ball rolls", engine="fake", seconds=1, width=160, height=128, fps=10, seed=5)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".mp4", ".png", ".json"})


@pytest.mark.slow
def test_a_refused_face_check_writes_nothing(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[np.ndarray, str]] = []

    def refuse(store, request, user, frames, clip_id):  # noqa: ANN001, ANN202
        seen.append((np.asarray(frames), clip_id))
        assert not list(studio.clips_dir.glob(f"{clip_id}*")), "the check must run before anything is written"
        raise CameoDenied("the clip shows the likeness of @alice: the clip was not stored", "alice")

    monkeypatch.setattr(usage, "check_before_storing", refuse)
    before = _files(studio.home)
    with pytest.raises(CameoDenied):
        studio.generate(_request())
    assert _files(studio.home) == before
    assert studio.feed() == []
    frames, _ = seen[0]
    engine_frames = fake_engine.ENGINE.generate(_request()).clip.frames
    assert np.array_equal(frames, engine_frames), "the check sees the engine's frames, unmarked, in memory"


def test_no_stored_clip_is_decoded_again(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decode(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the flow decoded the written file")

    from sora_lite.cameo import matching

    monkeypatch.setattr(matching, "sample_frames", no_decode)
    monkeypatch.setattr(studio_mod, "read_image", no_decode)
    record = studio.generate(_request())
    assert Path(record.video_path).exists()
    assert record.thumbnail_path and Path(record.thumbnail_path).exists()


def test_the_thumbnail_is_the_marked_middle_frame_and_the_record_says_what_was_encoded(studio: Studio) -> None:
    record = studio.generate(_request())
    thumb = read_image(record.thumbnail_path)
    assert thumb.shape == (128, 160, 3)  # within THUMBNAIL_SIDE: kept at size
    middle = fake_engine.ENGINE.generate(_request()).clip.frames[5]
    assert np.abs(thumb.astype(int) - middle.astype(int)).mean() < 12  # marks change a few pixels, not the frame
    assert record.info["output"] == {"width": 160, "height": 128, "fps": 10.0, "frames": 10, "seconds": 1.0,
                                     "audio": True}
    assert GenerationRequest.from_dict(record.request).engine == "fake"


def test_a_failed_store_leaves_no_files(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    from sora_lite import feed

    def broken(*a, **k):  # noqa: ANN002, ANN003, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(feed, "save_clip", broken)
    before = _files(studio.clips_dir) if studio.clips_dir.exists() else []
    with pytest.raises(OSError):
        studio.generate(_request())
    assert (_files(studio.clips_dir) if studio.clips_dir.exists() else []) == before
