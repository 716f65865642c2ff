"""verify_file / `python -m sora_lite verify`: a signed, marked clip checks out; a re-encoded copy loses
C2PA but keeps the watermark; tampering and bad files are reported clearly."""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from sora_lite.media import Clip, read_video, write_video
from sora_lite.provenance import ProvenanceClaims, apply_marks, sign_video, verify_file
from sora_lite.provenance.cli import add_verify_parser, run_verify

CLIP_ID = "9a8b7c6d5e4f3a2b"


def scene(frames: int = 48, size: int = 256) -> np.ndarray:
    rng = np.random.default_rng(5)
    base = cv2.GaussianBlur(rng.random((2 * size, 2 * size, 3)).astype(np.float32), (0, 0), 5)
    base = (base - base.min()) / (base.max() - base.min()) * 200 + 25
    out = []
    for i in range(frames):
        f = base[i : i + size, i : i + size].copy()
        cv2.circle(f, (int(size * (0.2 + 0.6 * i / frames)), size // 2), size // 9, (240, 220, 40), -1)
        out.append(f)
    return np.stack(out).astype(np.uint8)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def signed_clip(home, tmp_path_factory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("SORA_LITE_HOME", str(home))
    d = tmp_path_factory.mktemp("clips")
    marked = apply_marks(scene(), CLIP_ID, fps=24)
    plain = write_video(Clip(marked, Fraction(24)), d / "plain.mp4")
    claims = ProvenanceClaims.for_prompt("a yellow ball rolls", clip_id=CLIP_ID, engine="world")
    sign_video(plain, d / "signed.mp4", claims=claims)
    yield d / "signed.mp4"
    mp.undo()


@pytest.fixture(autouse=True)
def same_home(home, monkeypatch) -> None:
    """Verification runs as the instance that made the clip (same instance tag)."""
    monkeypatch.setenv("SORA_LITE_HOME", str(home))


def test_signed_marked_clip_verifies(signed_clip) -> None:
    report = verify_file(signed_clip, store_lookup=lambda field: CLIP_ID.startswith(field))
    assert report.c2pa.state == "valid"
    assert report.c2pa.claims["clip_id"] == CLIP_ID
    w = report.watermark
    assert w.found and w.clip_id == CLIP_ID[:12]
    assert w.from_this_instance is True and w.matches_clip is True
    assert w.confidence > 0.99 and w.bit_agreement > 0.95


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_reencoded_copy_loses_c2pa_but_keeps_the_watermark(signed_clip, tmp_path) -> None:
    clip = read_video(signed_clip)
    copy = write_video(Clip(clip.frames, clip.fps), tmp_path / "reencoded.mp4", crf=28)
    report = verify_file(copy, store_lookup=lambda field: False)
    assert report.c2pa.state == "absent"
    assert report.watermark.found and report.watermark.clip_id == CLIP_ID[:12]
    assert report.watermark.matches_clip is False


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_one_changed_byte_is_tampered_but_still_watermarked(signed_clip, tmp_path) -> None:
    data = bytearray(signed_clip.read_bytes())
    data[data.find(b"mdat") + 100] ^= 0x20
    bad = tmp_path / "tampered.mp4"
    bad.write_bytes(bytes(data))
    report = verify_file(bad)
    assert report.c2pa.state == "tampered"
    assert "TAMPERED" in report.summary()


@pytest.mark.slow
def test_unmarked_unsigned_clip(tmp_path) -> None:
    plain = write_video(Clip(scene(frames=24), Fraction(24)), tmp_path / "other.mp4")
    report = verify_file(plain)
    assert report.c2pa.state == "absent" and not report.watermark.found
    assert report.watermark.from_this_instance is None


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_verify_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.mark.slow  # several seconds; the quick tier keeps this module's other tests
def test_cli_json(signed_clip, capsys) -> None:
    assert run_verify(parse(["verify", str(signed_clip), "--json"])) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["c2pa"]["state"] == "valid"
    assert out["watermark"]["found"] is True and out["watermark"]["clip_id"] == CLIP_ID[:12]


def test_cli_text_and_bad_file(signed_clip, tmp_path, capsys) -> None:
    assert run_verify(parse(["verify", str(signed_clip)])) == 0
    assert "C2PA: valid" in capsys.readouterr().out
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    assert run_verify(parse(["verify", str(junk)])) == 2
    assert "error:" in capsys.readouterr().err
