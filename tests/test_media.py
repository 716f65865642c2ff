"""sora_lite.media: round trips, every container × audio codec, odd timing and geometry, and bad inputs.

Every odd file is made here with PyAV (tests/media_fixtures.py); sizes stay tiny so the module runs fast.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from media_fixtures import (
    UnsupportedCombination,
    corner_picture,
    corrupt,
    index_picture,
    make_audio_only,
    make_png,
    make_shuffled_pts_video,
    make_video,
    read_index,
    truncate,
)
from sora_lite import media
from sora_lite.media import (
    Clip,
    MediaError,
    iter_frames,
    probe,
    read_audio,
    read_image,
    read_video,
    sample_frames,
    write_gif,
    write_thumbnail,
    write_video,
)

SR = 48000


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def luma(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])


def natural_frames(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """A stand-in for camera footage: 1/f luminance texture with smooth colour, panning."""
    rng = np.random.default_rng(seed)
    fy, fx = np.fft.fftfreq(2 * h)[:, None], np.fft.fftfreq(2 * w)[None, :]
    r = np.maximum(np.hypot(fy, fx), 1 / (2 * h))

    def field(alpha: float) -> np.ndarray:
        x = np.real(np.fft.ifft2(r**-alpha * np.exp(2j * np.pi * rng.random(r.shape))))
        return x / np.abs(x).max()

    lum = field(1.0) * 0.5 + 0.5
    ca, cb = field(2.0), field(2.0)
    rgb = np.clip(np.stack([lum + 0.15 * ca, lum - 0.1 * ca + 0.1 * cb, lum - 0.15 * cb], -1), 0, 1)
    big = (rgb * 255).astype(np.uint8)
    return np.stack([big[k : k + h, 2 * k : 2 * k + w] for k in range(t)])


def synthetic_frames(t: int, h: int, w: int) -> np.ndarray:
    """A stand-in for the world engine's renders: gradient sky, moving saturated ball, checker floor."""
    yy, xx = np.mgrid[:h, :w]
    out = np.zeros((t, h, w, 3), np.uint8)
    for k in range(t):
        out[k, ..., 0], out[k, ..., 1], out[k, ..., 2] = xx * 255 // w, yy * 255 // h, 80
        ball = (xx - 8 - 3 * k) ** 2 + (yy - h // 2) ** 2 < (h // 6) ** 2
        out[k][ball] = (230, 40, 40)
        floor = yy >= h - h // 4
        out[k][floor] = ((((xx // 8 + yy // 8) % 2) * 200 + 30)[floor])[:, None]
    return out


# ------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_round_trip_quality_and_click_alignment(tmp_path: Path, suffix: str) -> None:
    click = 0.4
    audio = np.zeros((2, SR), np.float32)
    audio[:, round(click * SR)] = 0.9
    for name, frames in [("natural", natural_frames(12, 96, 128)), ("synthetic", synthetic_frames(12, 96, 96))]:
        clip = Clip(frames, Fraction(24), audio, SR, {"title": "a ball", "comment": "sora-lite"})
        path = write_video(clip, tmp_path / f"{name}{suffix}")
        back = read_video(path)
        assert back.frames.shape == frames.shape
        assert back.fps == 24
        # The target: >= 40 dB on luma for any content and on RGB for natural content. Saturated sharp colour
        # edges lose chroma detail to 4:2:0 subsampling (needed for browsers), whatever the CRF.
        assert psnr(luma(back.frames), luma(frames)) >= 40, name
        if name == "natural":
            assert psnr(back.frames, frames) >= 40
        assert back.sample_rate == SR and back.audio is not None and back.audio.shape[0] == 2
        # The clip's audio covers exactly its frames, and the click lands on its sample (±1 ms).
        assert back.audio.shape[1] == round(clip.duration * SR)
        found = np.argmax(np.abs(back.audio[0])) / SR
        assert abs(found - click) <= 0.001, (name, found)
        assert back.metadata["title"] == "a ball" and back.metadata["comment"] == "sora-lite"


def test_mp4_is_h264_aac_faststart_and_silent_clip_has_no_audio_stream(tmp_path: Path) -> None:
    frames = synthetic_frames(6, 32, 32)
    with_sound = write_video(Clip(frames, 24, np.zeros((1, 4000), np.float32), 16000), tmp_path / "a.mp4")
    info = probe(with_sound)
    assert (info.video_codec, info.audio_codec, info.sample_rate, info.channels) == ("h264", "aac", 16000, 1)
    data = with_sound.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: playable while downloading
    silent = write_video(Clip(frames, 24), tmp_path / "b.mp4")
    assert not probe(silent).has_audio
    assert read_video(silent).audio is None
    assert read_audio(silent) is None
    webm = probe(write_video(Clip(frames, 24, np.zeros((2, 4410), np.float32), 44100), tmp_path / "c.webm"))
    assert (webm.video_codec, webm.audio_codec, webm.sample_rate) == ("vp9", "opus", 48000)


def test_odd_sizes_are_padded_to_even(tmp_path: Path) -> None:
    frames = synthetic_frames(4, 33, 47)
    back = read_video(write_video(Clip(frames, 12), tmp_path / "odd.mp4"))
    assert back.frames.shape == (4, 34, 48, 3)
    assert psnr(luma(back.frames[:, :33, :47]), luma(frames)) >= 38
    # The padding repeats the last row/column.
    assert np.abs(back.frames[:, 33].astype(int) - back.frames[:, 32].astype(int)).mean() < 6


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    bad = Clip(np.zeros((3, 16, 16, 3), np.uint8), 24, np.full((1, 100), np.nan, np.float32), SR)
    with pytest.raises(MediaError, match="NaN"):
        write_video(bad, tmp_path / "x.mp4")
    with pytest.raises(MediaError, match="use one of"):
        write_video(Clip(np.zeros((2, 8, 8, 3), np.uint8), 24), tmp_path / "x.flv")
    with pytest.raises(MediaError, match="does not exist"):
        write_video(Clip(np.zeros((2, 8, 8, 3), np.uint8), 24), tmp_path / "missing" / "x.mp4")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------- reading

CONTAINERS = [".mp4", ".mkv", ".mov", ".webm", ".avi"]
AUDIO = ["aac", "mp3", "opus", "vorbis", "pcm_s16le", None]


@pytest.mark.parametrize("audio_codec", AUDIO)
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_every_container_and_audio_codec_reads(tmp_path: Path, suffix: str, audio_codec: str | None) -> None:
    try:
        path = make_video(tmp_path / f"v{suffix}", frames=10, size=(32, 16), audio_codec=audio_codec, click_at=0.2)
    except UnsupportedCombination as e:
        pytest.skip(f"this FFmpeg cannot mux it: {e}")
    clip = read_video(path)
    assert clip.frames.shape == (10, 16, 32, 3) and clip.fps == 24
    assert [read_index(f) for f in clip.frames] == list(range(10))
    info = probe(path)
    assert (info.width, info.height, info.has_audio) == (32, 16, audio_codec is not None)
    if audio_codec is None:
        assert clip.audio is None
        return
    assert clip.audio is not None and clip.audio.dtype == np.float32 and clip.sample_rate == SR
    assert clip.audio.shape[1] == round(clip.duration * SR)
    assert np.isfinite(clip.audio).all() and np.abs(clip.audio).max() > 0.3
    if suffix != ".avi":  # AVI cannot store an encoder's priming offset, so its sound may start late
        onset = np.argmax(np.abs(clip.audio[0]) > 0.3) / SR
        assert abs(onset - 0.2) <= 0.002, onset


@pytest.mark.parametrize("audio_codec", [c for c in AUDIO if c])
@pytest.mark.parametrize("suffix", CONTAINERS)
def test_sound_gathered_in_the_video_pass_equals_a_fresh_read(tmp_path: Path, suffix: str, audio_codec: str) -> None:
    """read_video takes the audio packets while it demuxes the picture (one open per file); the samples must be
    exactly those a separate read_audio of the same window decodes (priming, pre-skip and all)."""
    try:
        path = make_video(tmp_path / f"v{suffix}", frames=30, size=(32, 16), audio_codec=audio_codec, click_at=0.3,
                          bframes=2 if suffix != ".avi" else 0)
    except UnsupportedCombination as e:
        pytest.skip(f"this FFmpeg cannot mux it: {e}")
    for clip in (read_video(path), read_video(path, end=0.5), read_video(path, max_frames=7)):
        start = clip.metadata["start_time"]
        fresh = read_audio(path, start=start, end=start + clip.num_frames / float(clip.fps))
        assert fresh is not None and clip.audio is not None
        np.testing.assert_array_equal(clip.audio, fresh[0])
        assert clip.sample_rate == fresh[1]


def test_fractional_rate_is_kept_exactly(tmp_path: Path) -> None:
    path = make_video(tmp_path / "ntsc.mp4", frames=12, fps=Fraction(30000, 1001), audio_codec="aac")
    clip = read_video(path)
    assert clip.fps == Fraction(30000, 1001) and probe(path).fps == Fraction(30000, 1001)
    assert [read_index(f) for f in clip.frames] == list(range(12))
    assert clip.audio is not None and clip.audio.shape[1] == round(12 * 1001 / 30000 * SR)


def test_variable_frame_rate_is_resampled_to_the_average_rate_by_time(tmp_path: Path) -> None:
    times_ms = [0, 40, 60, 160, 200, 240, 400, 440, 480, 520]
    path = make_video(tmp_path / "vfr.mkv", pts=times_ms, time_base=Fraction(1, 1000), fps=25)
    info = probe(path)
    assert info.variable_frame_rate
    native = list(iter_frames(path))
    assert [round(t * 1000) for t, _ in native] == times_ms
    assert [read_index(f) for _, f in native] == list(range(10))
    clip = read_video(path)
    step = 1 / float(clip.fps)
    assert 15 <= float(clip.fps) <= 30
    # Every slot shows the frame nearest its time.
    for k, frame in enumerate(clip.frames):
        nearest = int(np.argmin([abs(k * step - t / 1000) for t in times_ms]))
        assert abs(times_ms[read_index(frame)] / 1000 - k * step) <= abs(times_ms[nearest] / 1000 - k * step) + 1e-6
    assert not probe(make_video(tmp_path / "cfr.mkv")).variable_frame_rate


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_gives_upright_frames(tmp_path: Path, rotation: int) -> None:
    w, h = 48, 32
    path = make_video(tmp_path / f"r{rotation}.mp4", frames=3, size=(w, h), rotation=rotation,
                      picture=lambda i, w, h: corner_picture(w, h))
    info = probe(path)
    assert info.rotation == rotation
    assert (info.width, info.height) == ((h, w) if rotation in (90, 270) else (w, h))
    clip = read_video(path)
    expected = np.rot90(corner_picture(w, h), k=rotation // 90)  # the display matrix turns counter-clockwise
    assert clip.frames.shape[1:3] == expected.shape[:2]
    assert np.abs(clip.frames[0].astype(int) - expected.astype(int)).mean() < 8
    _, first = next(iter_frames(path))
    assert first.shape == expected.shape


def test_b_frames_come_back_in_presentation_order(tmp_path: Path) -> None:
    path = make_video(tmp_path / "bf.mp4", frames=16, bframes=3)
    clip = read_video(path)
    assert [read_index(f) for f in clip.frames] == list(range(16))


def test_out_of_order_timestamps_are_sorted(tmp_path: Path) -> None:
    path = make_shuffled_pts_video(tmp_path / "shuffled.mkv", frames=10)
    frames = list(iter_frames(path))
    times = [t for t, _ in frames]
    assert times == sorted(times)
    assert [read_index(f) for _, f in frames] == list(range(10))
    assert [read_index(f) for f in read_video(path).frames] == list(range(10))


def test_window_reading(tmp_path: Path) -> None:
    path = make_video(tmp_path / "w.mp4", frames=48, fps=24, audio_codec="aac", click_at=1.25,
                      options={"g": "12"})
    clip = read_video(path, start=1.0, end=1.5)
    assert [read_index(f) for f in clip.frames] == list(range(24, 36))
    assert clip.metadata["start_time"] == pytest.approx(1.0, abs=1e-3)
    assert clip.audio is not None and clip.audio.shape[1] == SR // 2
    onset = np.argmax(np.abs(clip.audio[0]) > 0.3) / SR
    assert abs(onset - 0.25) <= 0.002  # the audio starts at the window start
    assert read_video(path, max_frames=5).num_frames == 5
    assert [read_index(f) for f in read_video(path, start=0.5, max_frames=3).frames] == [12, 13, 14]
    assert [read_index(f) for _, f in iter_frames(path, start=1.9)] == [46, 47]
    sound, rate = read_audio(path, start=1.0, end=1.5)
    assert rate == SR and sound.shape == (1, SR // 2)
    assert abs(np.argmax(np.abs(sound[0]) > 0.3) / SR - 0.25) <= 0.002
    assert read_video(path, with_audio=False).audio is None


def test_sample_frames_returns_the_right_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_video(tmp_path / "s.mp4", frames=40, fps=10, options={"g": "5"})  # 4 s: seeks across gaps
    frames, times = sample_frames(path, 5)
    assert frames.shape == (5, 32, 32, 3)
    indices = [read_index(f) for f in frames]
    assert indices == [0, 10, 20, 29, 39]
    assert np.allclose(times, np.array(indices) / 10)
    long = make_video(tmp_path / "long.mp4", frames=100, fps=10, size=(16, 16), options={"g": "10"})
    seeking = sample_frames(long, 4)  # targets 3.3 s apart: seeks
    assert [read_index(f) for f in seeking[0]] == [0, 33, 66, 99]
    monkeypatch.setattr(media.decode, "_SEEK_GAP_S", float("inf"))  # decode straight through instead
    straight = sample_frames(long, 4)
    assert np.array_equal(seeking[0], straight[0]) and np.allclose(seeking[1], straight[1])
    one, t = sample_frames(path, 1)
    assert read_index(one[0]) == 0 and t[0] == 0
    many, _ = sample_frames(make_video(tmp_path / "short.mp4", frames=3), 6)  # fewer frames than asked
    assert [read_index(f) for f in many] == [0, 0, 1, 1, 2, 2]


def test_read_audio_of_audio_only_files(tmp_path: Path) -> None:
    sound, rate = read_audio(make_audio_only(tmp_path / "s.m4a", seconds=0.5))
    assert rate == SR and sound.shape[0] == 1 and abs(sound.shape[1] - SR // 2) <= 1024
    with pytest.raises(MediaError, match="no video stream"):
        read_video(tmp_path / "s.m4a")


def test_truncated_file_keeps_what_decodes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "t.mp4", frames=48, size=(64, 64),
                      picture=lambda i, w, h: np.random.default_rng(i).integers(0, 255, (h, w, 3), np.uint8))
    # Rewrite with faststart so the header survives the cut, as a half-finished download of our own files.
    clip = read_video(path)
    faststart = write_video(clip, tmp_path / "fs.mp4", crf=10)
    truncate(faststart, 0.5)
    cut = read_video(faststart)
    assert 1 <= cut.num_frames < 48
    assert cut.metadata.get("truncated") is True
    truncate(path, 0.5)  # moov at the end: nothing left to index the frames
    with pytest.raises(MediaError):
        read_video(path)


# ------------------------------------------------------------------------------------------ bad input


def _bad_files(tmp: Path) -> dict[str, Path]:
    good = make_video(tmp / "good.mp4", frames=6)
    files = {
        "missing": tmp / "nope.mp4",
        "folder": tmp,
        "empty": tmp / "empty.mp4",
        "text": tmp / "notes.mp4",
        "png": make_png(tmp / "still.png").rename(tmp / "still.mp4"),
        "audio only": make_audio_only(tmp / "sound.mp4"),
        "garbage": tmp / "garbage.mkv",
        "header cut": tmp / "cut.mp4",
        "corrupt": corrupt(make_video(tmp / "corrupt.mp4", frames=6), start=0.0, length=10_000),
    }
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not a video\n" * 50)
    files["garbage"].write_bytes(np.random.default_rng(1).integers(0, 256, 5000, np.uint8).tobytes())
    files["header cut"].write_bytes(good.read_bytes()[:200])
    return files


def test_every_bad_input_raises_media_error_only(tmp_path: Path) -> None:
    files = _bad_files(tmp_path)
    messages = {}
    for label, path in files.items():
        for call in (probe, read_video, lambda p: list(iter_frames(p)), lambda p: sample_frames(p, 3)):
            try:
                call(path)
            except MediaError as e:
                messages[label] = str(e)
            except Exception as e:  # noqa: BLE001 - this is the point of the test
                pytest.fail(f"{label}: {call} raised {type(e).__name__}: {e}")
            else:
                pytest.fail(f"{label}: {call} raised nothing")
    assert "empty (0 bytes)" in messages["empty"]
    assert "does not exist" in messages["missing"]
    assert "still image" in messages["png"]
    assert "no video stream" in messages["audio only"]
    assert "not a video file" in messages["text"]
    assert all(path.name in messages[label] or str(path) in messages[label] for label, path in files.items())


def test_damage_in_the_middle_gives_frames_or_media_error(tmp_path: Path) -> None:
    for seed in range(3):
        path = corrupt(make_video(tmp_path / f"d{seed}.mp4", frames=24, size=(64, 64), audio_codec="aac"),
                       start=0.5, length=300, seed=seed)
        for call in (probe, read_video, read_audio, lambda p: list(iter_frames(p)), lambda p: sample_frames(p, 4)):
            try:
                call(path)
            except MediaError:
                pass


def test_limits_are_named_in_the_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_video(tmp_path / "v.mp4", frames=30, size=(64, 32))
    monkeypatch.setattr(media.limits, "MAX_SIDE", 48)
    with pytest.raises(MediaError, match="limit is 48"):
        read_video(path)
    monkeypatch.setattr(media.limits, "MAX_SIDE", 8192)
    monkeypatch.setattr(media.limits, "MAX_CLIP_FRAMES", 20)
    with pytest.raises(MediaError, match="limit is 20"):
        read_video(path)
    assert read_video(path, max_frames=10).num_frames == 10
    monkeypatch.setattr(media.limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(MediaError, match="limit"):
        probe(path)
    with pytest.raises(MediaError):
        read_video(path, start=-1)
    with pytest.raises(MediaError):
        read_video(path, start=1, end=0.5)


# --------------------------------------------------------------------------------------------- images


def test_read_image_formats_orientation_and_bad_images(tmp_path: Path) -> None:
    from PIL import Image

    picture = corner_picture(40, 20)
    Image.fromarray(picture).save(tmp_path / "a.png")
    assert np.array_equal(read_image(tmp_path / "a.png"), picture)
    assert np.array_equal(read_image((tmp_path / "a.png").read_bytes()), picture)
    Image.fromarray(picture).convert("RGBA").save(tmp_path / "rgba.png")
    assert read_image(tmp_path / "rgba.png").shape == (20, 40, 3)
    # EXIF orientation 6: stored sideways, shown turned 90° clockwise.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(picture).save(tmp_path / "o.jpg", exif=exif, quality=95)
    upright = read_image(tmp_path / "o.jpg")
    assert upright.shape == (40, 20, 3)
    assert np.abs(upright.astype(int) - np.rot90(picture, k=-1).astype(int)).mean() < 10

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "cut.png").write_bytes((tmp_path / "a.png").read_bytes()[:60])
    make_video(tmp_path / "v.mp4", frames=3).rename(tmp_path / "video.png")
    Image.new("L", (9000, 10)).save(tmp_path / "huge.png")
    for name in ["empty.png", "cut.png", "video.png", "huge.png", "missing.png"]:
        with pytest.raises(MediaError):
            read_image(tmp_path / name)
    with pytest.raises(MediaError, match="limit is 8192"):
        read_image(tmp_path / "huge.png")
    with pytest.raises(MediaError):
        read_image(b"")


def test_thumbnail_and_gif(tmp_path: Path) -> None:
    from PIL import Image

    clip = Clip(np.stack([index_picture(i, 64, 32) for i in range(24)]), 24)
    thumb = write_thumbnail(clip, tmp_path / "t.jpg", max_side=32)
    with Image.open(thumb) as img:
        assert img.size == (32, 16)
    assert read_index(read_image(thumb)) == 12  # the middle frame
    write_thumbnail(clip.frames[0], tmp_path / "f.png")
    gif = write_gif(clip, tmp_path / "a.gif", max_side=32, fps=12)
    with Image.open(gif) as img:
        assert img.size == (32, 16) and img.n_frames == 12
        assert sum(img.info["duration"] for _ in range(1)) > 0
    with pytest.raises(MediaError):
        write_thumbnail(np.zeros((4, 4), np.uint8), tmp_path / "x.png")
    with pytest.raises(MediaError):
        write_gif(clip, tmp_path / "a.mp4")


def test_decoded_pixels_match_pyav_rgb_conversion(tmp_path: Path) -> None:
    """The shared swscale context gives exactly the pixels of PyAV's own per-frame conversion."""
    import av

    path = make_video(tmp_path / "px.mp4", frames=6, bframes=2)
    with av.open(str(path)) as container:
        expected = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    assert np.array_equal(read_video(path).frames, expected)
    assert np.array_equal(np.stack([f for _, f in iter_frames(path)]), expected)
    sampled, _ = sample_frames(path, 6)
    assert np.array_equal(sampled, expected)


@pytest.mark.parametrize("guess", [1, 1000])
def test_wrong_header_frame_count_still_gives_every_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guess: int
) -> None:
    """The output array is sized from the header; too small grows, too large is trimmed to a compact copy."""
    path = make_video(tmp_path / "g.mp4", frames=40)
    expected = read_video(path).frames
    monkeypatch.setattr(media.decode, "_expected_frames", lambda *a: guess)
    got = read_video(path).frames
    assert np.array_equal(got, expected)
    assert got.base is None or got.base.shape[0] <= int(got.shape[0] / 0.9) + 1
