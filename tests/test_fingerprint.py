"""Reverse search: a stored clip's fingerprint still names it after CRF 28 + half size + 10 % crop + mirror
(watermark and C2PA gone), through `Studio.verify` and the CLI; other clips and real camera footage do not
match; bad input gets one clear error."""

from __future__ import annotations

import argparse
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from test_watermark import crop_corner, h264, half, moving_textured_clip

from sora_lite.engines import GenerationRequest
from sora_lite.media import Clip, read_video, write_video
from sora_lite.provenance import fingerprint as fp
from sora_lite.provenance.cli import run_verify

REAL = Path(__file__).resolve().parents[2] / "shared" / "realfootage"


def attack(frames: np.ndarray) -> np.ndarray:
    """CRF 28, half size, a 10 % corner crop, mirrored: what a re-upload that dodges the mark looks like."""
    return np.ascontiguousarray(crop_corner(half(h264(frames, 28)))[:, :, ::-1])


def tune(seed: int, seconds: float = 3.0, rate: int = 16_000) -> np.ndarray:
    """A little melody (random notes, 0.25 s each) with noise: sound with structure for the audio hash."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    notes = rng.uniform(300, 1800, size=int(seconds * 4) + 1)
    sig = np.sin(2 * np.pi * notes[(t * 4).astype(int)] * t) + 0.05 * rng.standard_normal(len(t))
    return (0.3 * sig).astype(np.float32)[None]


@pytest.mark.slow
def test_attacked_copy_matches_and_others_do_not() -> None:
    original = moving_textured_clip(seed=21, frames=72)
    stored = fp.fingerprint_frames(original, 24, stored=True)
    query = fp.fingerprint_frames(attack(original), 24, stored=False)
    match = fp.compare(query, "a", stored)
    assert match.matched and match.video_matched and match.mirrored, match
    assert match.video_distance <= 0.5 * fp.VIDEO_MAX_DISTANCE
    for seed in (22, 23):
        other = fp.fingerprint_frames(attack(moving_textured_clip(seed=seed, frames=72)), 24, stored=False)
        assert not fp.compare(other, "b", stored).matched


def test_trimmed_copy_is_found_at_its_offset() -> None:
    original = moving_textured_clip(seed=24, frames=96)
    stored = fp.fingerprint_frames(original, 24, stored=True)
    query = fp.fingerprint_frames(h264(original[36:84], 28), 24, stored=False)
    match = fp.compare(query, "a", stored)
    assert match.video_matched and abs(match.offset_s - 1.5) < 0.3, match


def test_audio_hash_survives_noise_and_resampling_and_tells_tunes_apart() -> None:
    from scipy.signal import resample_poly

    a, b = tune(1), tune(2)
    ha, ma = fp.audio_hashes(a, 16_000)
    noisy = resample_poly(a[0] + 0.02 * np.random.default_rng(0).standard_normal(a.shape[1]), 441, 160)
    hq, mq = fp.audio_hashes(noisy[None], 44_100)
    hb, mb = fp.audio_hashes(b, 16_000)
    same, _ = fp.audio_ber(hq, mq, ha, ma)
    other, _ = fp.audio_ber(hb, mb, ha, ma)
    assert same is not None and same <= fp.AUDIO_MAX_BER - 0.05, same
    assert other is not None and other > 0.4, other
    _, mask = fp.audio_hashes(np.zeros((1, 48_000), np.float32), 16_000)
    assert not mask.any()  # silence carries no bits, so it cannot match anything


def test_fingerprint_round_trips_through_the_store_format() -> None:
    clip = moving_textured_clip(seed=25, frames=24)
    a = fp.fingerprint_frames(clip, 24, tune(3, 1.0), 16_000, stored=True)
    b = fp.Fingerprint.from_blobs(a.to_blobs())
    assert np.array_equal(a.video, b.video) and np.allclose(a.colour, b.colour, atol=1e-3)
    assert np.array_equal(a.audio, b.audio) and np.array_equal(a.audio_mask, b.audio_mask)


@pytest.mark.parametrize("bad", [np.zeros((0, 64, 64, 3), np.uint8), np.zeros((4, 8, 8, 3), np.uint8),
                                 np.zeros((4, 64, 64, 3), np.float32), np.zeros((64, 64, 3), np.uint8)])
def test_bad_frames_get_one_clear_error(bad) -> None:
    with pytest.raises(fp.FingerprintError, match="frames|too small"):
        fp.fingerprint_frames(bad, 24, stored=True)


@pytest.fixture(scope="module")
def studio_with_clips(tmp_path_factory):
    """Two world-engine clips made and stored by the Studio (so fingerprinted on save)."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("SORA_LITE_HOME", str(home))
    from sora_lite.studio import Studio

    studio = Studio(home)
    made = [studio.generate(GenerationRequest(prompt=p, seconds=2, width=256, height=256, fps=24, seed=s))
            for p, s in (("a green ball rolls down a ramp", 4), ("three blue cubes on a table at night", 2))]
    yield studio, made, home
    mp.undo()


@pytest.mark.slow
def test_studio_verify_names_the_clip_after_the_mark_and_c2pa_are_gone(studio_with_clips, tmp_path) -> None:
    studio, made, _ = studio_with_clips
    for record in made:
        clip = read_video(record.video_path)
        copy = write_video(Clip(attack(clip.frames), clip.fps, clip.audio, clip.sample_rate), tmp_path / "copy.mp4")
        report = studio.verify(copy)
        assert report.c2pa.state == "absent"
        assert report.fingerprint.checked and report.fingerprint.made_here, report.fingerprint
        assert report.fingerprint.clip_id == record.id, report.fingerprint
        assert f"made here: clip {record.id}" in report.summary()


@pytest.mark.slow
def test_real_footage_is_not_made_here(studio_with_clips, tmp_path) -> None:
    studio, _, _ = studio_with_clips
    files = sorted(REAL.glob("*.mp4"))[:3]
    if not files:
        pytest.skip(f"no real footage at {REAL}")
    for path in files:
        report = studio.verify(path)
        assert report.fingerprint.checked and not report.fingerprint.made_here, (path.name, report.fingerprint)
        assert "no clip of this instance" in report.summary()


@pytest.mark.slow
def test_cli_verify_reports_the_reverse_search(studio_with_clips, tmp_path, capsys, monkeypatch) -> None:
    _, made, home = studio_with_clips
    monkeypatch.setenv("SORA_LITE_HOME", str(home))
    clip = read_video(made[0].video_path)
    copy = write_video(Clip(attack(clip.frames), Fraction(clip.fps)), tmp_path / "copy.mp4")
    from sora_lite.cli import run_verify as cli_verify

    assert cli_verify(argparse.Namespace(file=str(copy), json=False)) == 0
    assert f"made here: clip {made[0].id}" in capsys.readouterr().out
    # without an instance to search, the report says the search was not run
    assert run_verify(argparse.Namespace(file=str(copy), json=False)) == 0
    assert "Reverse search: not run" in capsys.readouterr().out
