"""The one flow every door uses: a stored clip is marked, signed, attributed, and verifiable."""

from pathlib import Path

import pytest

from sora_lite.engines import GenerationRequest
from sora_lite.studio import Studio


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Studio:
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("SORA_LITE_HOME", str(home))
    yield Studio(home)
    mp.undo()


@pytest.fixture(scope="module")
def made(studio: Studio):
    req = GenerationRequest(prompt="a red rubber ball dropped from 1 metre onto a wooden floor", seconds=2,
                            width=256, height=256, fps=24, seed=3)
    return studio.generate(req)


@pytest.mark.slow
def test_clip_carries_valid_c2pa_and_watermark_of_this_instance(studio: Studio, made) -> None:
    report = studio.verify(made.video_path)
    assert report.c2pa.state == "valid"
    assert report.c2pa.claims["clip_id"] == made.id
    assert report.c2pa.claims["prompt_sha256"] == made.info["provenance"]["prompt_sha256"]
    assert made.prompt not in Path(made.video_path).read_bytes().decode("latin-1")
    assert report.watermark.found
    assert made.id.startswith(report.watermark.clip_id)
    assert report.watermark.matches_clip is True


@pytest.mark.slow
def test_remix_names_its_parent_as_ingredient(studio: Studio, made) -> None:
    child = studio.remix(made.id, "now the ball is blue")
    assert child.parent_id == made.id
    report = studio.verify(child.video_path)
    assert report.c2pa.state == "valid"
    assert "c2pa.edited" in report.c2pa.actions
    assert report.c2pa.ingredients, "a remix must carry its parent as a C2PA ingredient"


@pytest.mark.slow
def test_one_changed_byte_reads_as_tampered(studio: Studio, made, tmp_path: Path) -> None:
    data = bytearray(Path(made.video_path).read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 200] ^= 0xFF
    bad = tmp_path / "tampered.mp4"
    bad.write_bytes(bytes(data))
    assert studio.verify(bad).c2pa.state == "tampered"


def test_a_cancelled_job_writes_nothing_and_the_board_forgets_it(studio: Studio) -> None:
    import threading

    from sora_lite.engines import Cancelled
    from app_ui.sessions import CancelBoard

    board = CancelBoard()
    event = board.start("session-a")
    assert board.cancel("session-a") and event.is_set()
    assert not board.cancel("session-b")
    before = set(studio.clips_dir.glob("*.mp4"))
    with pytest.raises(Cancelled):
        studio.generate(GenerationRequest(prompt="a red ball bounces", seconds=2, width=128, height=128), cancel=event)
    assert set(studio.clips_dir.glob("*.mp4")) == before
    board.finish("session-a", event)
    assert not board.cancel("session-a")
    assert isinstance(board.start("session-a"), threading.Event)
