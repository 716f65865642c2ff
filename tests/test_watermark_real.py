"""The invisible mark on camera footage: the hardest real clip (a talking head before a star-spangled flag, a
static textured background) keeps the exact payload after CRF 28 + half size + 10 % crop; the mark's sign
modulation keeps the PSNR; unmarked camera footage does not read as marked (bench/watermark_real.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_watermark import crop_centre, crop_corner, h264, half, moving_textured_clip

from sora_lite.media import read_video
from sora_lite.provenance import apply_marks, invisible

REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"
FLAG = REAL / "av_talkinghead_retalk3.mp4"


def test_modulation_alternates_and_keeps_the_energy() -> None:
    sign = invisible.modulation(48, 24.0)
    assert abs(float(np.mean(sign**2)) - 1.0) < 1e-5
    assert (sign > 0.5).any() and (sign < -0.5).any()  # both signs within 2 s
    assert abs(float(sign.mean())) < 0.2  # balanced: a static scene cancels
    assert np.array_equal(invisible.modulation(1, 24.0), np.ones(1, np.float32))
    frames = moving_textured_clip(seed=4, frames=48)
    marked = invisible.embed(frames, bytes(8))
    assert invisible.psnr(marked, frames) >= 38.0


@pytest.fixture(scope="module")
def flag_clip() -> np.ndarray:
    if not FLAG.is_file():
        pytest.skip(f"no real footage at {FLAG}")
    return read_video(FLAG, end=2.0, with_audio=False).frames


@pytest.mark.slow
@pytest.mark.parametrize("crop", [crop_centre, crop_corner])
def test_flag_clip_keeps_the_exact_payload(flag_clip, crop, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SORA_LITE_HOME", str(tmp_path))
    payload = invisible.make_payload("7e57f1a9c0de0001", b"\x4a\x17")
    marked = apply_marks(flag_clip, payload, fps=25.0)
    reading = invisible.read(crop(half(h264(h264(marked, 20), 28))))
    assert reading.found and reading.payload_hex == payload.hex(), reading
    assert invisible.psnr(invisible.embed(flag_clip, payload, fps=25.0), flag_clip) >= 38.0


@pytest.mark.slow
def test_unmarked_camera_footage_reads_as_unmarked(flag_clip) -> None:
    for variant in (flag_clip, half(h264(flag_clip, 28))):
        reading = invisible.read(variant)
        assert not reading.found, reading
