"""Image-to-video through the studio flow (issue 14): the delivered first frame is the still within 35 dB PSNR after
the marks and H.264, the visible label is still on it, and easing the invisible mark in after the still costs the
reader little (CRF 28 + half size + 10 % crop)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).parent))

from test_watermark import crop_centre, crop_corner, h264, half  # noqa: E402
from test_world_i2v import photo  # noqa: E402

from sora_lite.provenance import apply_marks, invisible  # noqa: E402
from sora_lite.provenance.marks import STILL_FIRST_FRAME  # noqa: E402
from sora_lite.provenance.visible import add_visible_mark  # noqa: E402

SIDE = 256
CLIP_ID = "7a1c0de5eed0b0a7"


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = (a.astype(float) - b.astype(float)) ** 2
    mse = float(d[mask].mean() if mask is not None else d.mean())
    return float("inf") if mse == 0 else 10 * math.log10(255**2 / mse)


def test_the_mark_eases_in_after_the_still() -> None:
    ramp = invisible.ease_in(48, 24.0, STILL_FIRST_FRAME)
    assert ramp[0] == pytest.approx(STILL_FIRST_FRAME)
    assert np.all(np.diff(ramp) >= 0) and np.all(ramp[int(invisible.EASE_IN_S * 24):] == 1.0)
    assert np.all(invisible.ease_in(48, 24.0, 1.0) == 1.0)
    with pytest.raises(invisible.WatermarkError, match="first frame"):
        invisible.ease_in(48, 24.0, 1.5)


def test_from_still_changes_only_the_first_half_second() -> None:
    rng = np.random.default_rng(0)
    frames = np.clip(rng.normal(120, 20, (24, 96, 96, 3)), 0, 255).astype(np.uint8)
    full = apply_marks(frames, bytes(8), fps=24, visible=False)
    eased = apply_marks(frames, bytes(8), fps=24, visible=False, from_still=True)
    assert psnr(eased[0], frames[0]) > psnr(full[0], frames[0]) + 6  # ~0.3 of the mark's amplitude: +10 dB
    assert np.array_equal(eased[int(invisible.EASE_IN_S * 24):], full[int(invisible.EASE_IN_S * 24):])


@pytest.fixture(scope="module")
def still_clip(tmp_path_factory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(still, delivered frames, engine frames): the test picture animated by the world engine through
    `create_clip` (visible label, invisible mark eased in, H.264 at the default CRF, C2PA)."""
    from sora_lite.engines.base import GenerationRequest
    from sora_lite.engines.world.engine import WorldEngine
    from sora_lite.media import read_video
    from sora_lite.studio import create_clip

    d = tmp_path_factory.mktemp("still")
    old = os.environ.get("SORA_LITE_HOME")
    os.environ["SORA_LITE_HOME"] = str(d / "home")
    try:
        still = photo(SIDE, SIDE)
        Image.fromarray(still).save(d / "still.png")
        req = GenerationRequest(prompt="a blue ball rolls across the table", image=str(d / "still.png"), seconds=2.0,
                                width=SIDE, height=SIDE, fps=24, seed=0, engine="world")
        rec = create_clip(req, d / "out" / f"{CLIP_ID}.mp4", clip_id=CLIP_ID)
        delivered = read_video(rec.video_path).frames
        raw = WorldEngine().generate(req).clip.frames
    finally:
        if old is None:
            os.environ.pop("SORA_LITE_HOME", None)
        else:
            os.environ["SORA_LITE_HOME"] = old
    return still, delivered, raw


@pytest.mark.slow
def test_the_delivered_first_frame_is_the_still(still_clip) -> None:
    still, delivered, _ = still_clip
    label = np.abs(add_visible_mark(still[None], fps=24)[0].astype(int) - still).sum(-1) > 0
    assert 0.002 < label.mean() < 0.02, "the visible label must be on the first frame, small"
    assert psnr(delivered[0], still) >= 35.0, psnr(delivered[0], still)  # whole frame, label included
    assert psnr(delivered[0], still, ~label) >= 36.0  # outside the label: the encoder's 4:2:0 loss dominates


@pytest.mark.slow
def test_easing_the_mark_in_costs_the_reader_little(still_clip) -> None:
    still, delivered, raw = still_clip
    assert invisible.read(delivered).found
    payload = invisible.make_payload(CLIP_ID, b"\x4a\x17")
    for attack in (lambda f: crop_centre(half(h264(f, 28))), lambda f: crop_corner(half(h264(f, 28)))):
        eased = invisible.read(attack(apply_marks(raw, payload, fps=24, from_still=True)))
        full = invisible.read(attack(apply_marks(raw, payload, fps=24)))
        assert eased.found and eased.payload_hex == payload.hex(), eased
        # measured: 0.3–0.7 lower (of ~6; the reader's own spread between near-identical clips is ~0.3), far
        # above the reader's threshold invisible.MIN_SYMBOL_Z = 3
        assert eased.symbol_z > full.symbol_z - 1.0, (eased.symbol_z, full.symbol_z)
        assert eased.symbol_z > invisible.MIN_SYMBOL_Z + 1.5
