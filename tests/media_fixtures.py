"""Odd test videos made with PyAV, for any test module that needs a file with a particular quirk.

Every picture can carry its frame index (8 black/white blocks, see `index_picture` / `read_index`), so a
test can check which frame a reader returned, even after lossy coding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VIDEO_CODEC = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9", ".avi": "mpeg4"}
AUDIO_ENCODER = {"aac": "aac", "mp3": "libmp3lame", "opus": "libopus", "vorbis": "vorbis", "pcm_s16le": "pcm_s16le"}


class UnsupportedCombination(Exception):
    """This FFmpeg build cannot put that codec in that container (tests skip such cases)."""


def index_picture(i: int, width: int, height: int) -> np.ndarray:
    """An RGB picture whose 4×2 grid of blocks spells i in binary (bit 0 top-left, row-major)."""
    img = np.zeros((height, width, 3), np.uint8)
    img[...] = 16
    for bit in range(8):
        if (i >> bit) & 1:
            r, c = divmod(bit, 4)
            img[r * height // 2 : (r + 1) * height // 2, c * width // 4 : (c + 1) * width // 4] = 235
    return img


def read_index(frame: np.ndarray) -> int:
    """Inverse of `index_picture` (reads each block's centre, so blur at the block edges does not matter)."""
    height, width = frame.shape[:2]
    value = 0
    for bit in range(8):
        r, c = divmod(bit, 4)
        y0, y1 = r * height // 2, (r + 1) * height // 2
        x0, x1 = c * width // 4, (c + 1) * width // 4
        cy, cx, hy, hx = (y0 + y1) // 2, (x0 + x1) // 2, max(1, (y1 - y0) // 4), max(1, (x1 - x0) // 4)
        if frame[cy - hy : cy + hy, cx - hx : cx + hx].mean() > 125:
            value |= 1 << bit
    return value


def corner_picture(width: int, height: int) -> np.ndarray:
    """Four coloured quadrants (red top-left, green top-right, blue bottom-left, white bottom-right):
    any rotation or flip changes it."""
    img = np.zeros((height, width, 3), np.uint8)
    h2, w2 = height // 2, width // 2
    img[:h2, :w2] = (220, 30, 30)
    img[:h2, w2:] = (30, 220, 30)
    img[h2:, :w2] = (30, 30, 220)
    img[h2:, w2:] = (230, 230, 230)
    return img


def click_track(seconds: float, rate: int, channels: int, click_at: float | None) -> np.ndarray:
    """A quiet 440 Hz tone with, optionally, one loud 2 ms burst starting at `click_at` seconds."""
    n = round(seconds * rate)
    t = np.arange(n) / rate
    audio = np.tile(0.05 * np.sin(2 * np.pi * 440 * t, dtype=np.float64), (channels, 1)).astype(np.float32)
    if click_at is not None:
        at = round(click_at * rate)
        burst = np.hanning(max(4, rate // 500)).astype(np.float32) * np.sign(np.sin(np.arange(max(4, rate // 500))))
        audio[:, at : at + len(burst)] = 0.9 * burst[: max(0, n - at)]
    return audio


def make_video(
    path: str | Path,
    *,
    frames: int = 10,
    fps: Fraction | int | str = 24,
    size: tuple[int, int] = (32, 32),
    codec: str | None = None,
    audio_codec: str | None = None,
    sample_rate: int = 48000,
    channels: int = 1,
    audio: np.ndarray | None = None,
    click_at: float | None = None,
    rotation: int = 0,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    bframes: int = 0,
    picture: Callable[[int, int, int], np.ndarray] = index_picture,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a small video with the quirks asked for, with PyAV.

    size is (width, height). pts (in `time_base` units, default 1/fps) gives irregular frame times (variable
    frame rate). rotation is the display-matrix rotation in degrees counter-clockwise (as PyAV reads it back).
    audio_codec is one of AUDIO_ENCODER's keys; the track lasts as long as the video.
    """
    path = Path(path)
    fps = Fraction(fps)
    width, height = size
    codec = codec or VIDEO_CODEC[path.suffix]
    tb = time_base or 1 / fps
    if path.suffix == ".avi" and audio_codec in ("vorbis", "opus"):
        # AVI has no proper mapping for these (FFmpeg writes Vorbis there, but its timing is unusable).
        raise UnsupportedCombination(f"{audio_codec} in .avi has no standard mapping")
    try:
        with av.open(str(path), "w") as container:
            v = container.add_stream(codec, rate=fps)
            v.width, v.height = width, height
            v.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
            v.time_base = tb
            v.codec_context.time_base = tb
            opts = dict(options or {})
            if codec == "libx264":
                opts.setdefault("crf", "12")
                opts.setdefault("preset", "ultrafast" if not bframes else "medium")
                opts["bf"] = str(bframes)
                if pts is not None:
                    opts.setdefault("x264-params", "force-cfr=0")
            elif codec == "libvpx-vp9":
                opts.update({"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"})
            elif codec == "mpeg4":
                opts.setdefault("qscale", "2")
                v.codec_context.qscale = 2
            v.options = opts
            if rotation:
                v.set_display_rotation(rotation)
            a = None
            if audio_codec is not None:
                extra = {"options": {"strict": "experimental"}} if audio_codec == "vorbis" else {}
                a = container.add_stream(AUDIO_ENCODER[audio_codec], rate=sample_rate, **extra)
                if audio_codec == "vorbis":
                    channels = 2  # FFmpeg's own Vorbis encoder only writes stereo
                a.layout = "mono" if channels == 1 else "stereo"
            times = list(pts) if pts is not None else list(range(frames))
            for i, p in enumerate(times):
                frame = av.VideoFrame.from_ndarray(picture(i, width, height), format="rgb24")
                frame = frame.reformat(format=v.pix_fmt)
                frame.pts = p
                frame.time_base = tb
                container.mux(v.encode(frame))
            container.mux(v.encode(None))
            if a is not None:
                seconds = float((times[-1] + 1) * tb) if pts is None else float(times[-1] * tb + 1 / fps)
                track = audio if audio is not None else click_track(seconds, sample_rate, channels, click_at)
                _encode_audio(container, a, track, sample_rate)
    except (av.error.FFmpegError, ValueError, NotImplementedError) as e:
        path.unlink(missing_ok=True)
        raise UnsupportedCombination(f"{codec}/{audio_codec} in {path.suffix}: {e}") from e
    return path


def _encode_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream,
                  audio: np.ndarray, rate: int) -> None:
    """Encode a whole track. AVI cannot store the negative start of an encoder's priming samples (the muxer
    would shift the video instead), so there the track starts at 0, as AVI writers do."""
    layout = stream.layout.name
    resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
    packets = []
    for at in range(0, audio.shape[1], 1024):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[:, at : at + 1024]), format="fltp",
                                           layout=layout)
        frame.sample_rate = rate
        frame.pts = at
        frame.time_base = Fraction(1, rate)
        for out in resampler.resample(frame):
            packets.extend(stream.encode(out))
    packets.extend(stream.encode(None))
    shift = -min((p.pts for p in packets if p.pts is not None), default=0)
    for packet in packets:
        if container.format.name == "avi" and shift > 0 and packet.pts is not None:
            packet.pts += shift
            packet.dts = packet.pts
        container.mux(packet)


def make_shuffled_pts_video(path: str | Path, *, frames: int = 10, size: tuple[int, int] = (32, 32)) -> Path:
    """An intra-only (MJPEG) Matroska file whose packets are stored out of presentation order: the picture
    with index i is shown at pts i, but pairs are swapped in the file (1, 0, 3, 2, ...)."""
    path = Path(path)
    width, height = size
    packets = []
    with av.open(str(path), "w") as container:
        v = container.add_stream("mjpeg", rate=24)
        v.width, v.height, v.pix_fmt = width, height, "yuvj420p"
        v.time_base = Fraction(1, 24)
        v.codec_context.time_base = Fraction(1, 24)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(index_picture(i, width, height), format="rgb24").reformat(
                format="yuvj420p")
            frame.pts = i
            frame.time_base = Fraction(1, 24)
            packets.extend(v.encode(frame))
        packets.extend(v.encode(None))
        order = [j ^ 1 if (j ^ 1) < len(packets) else j for j in range(len(packets))]
        for k, j in enumerate(order):
            packet = packets[j]
            packet.pts = j + 1
            packet.dts = k
            packet.stream = v
            container.mux(packet)
    return path


def truncate(path: str | Path, keep: float) -> Path:
    """Cut a file to the first `keep` fraction of its bytes (a half-finished download)."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def corrupt(path: str | Path, *, start: float = 0.3, length: int = 4096, seed: int = 0) -> Path:
    """Overwrite `length` bytes from `start` (a fraction of the file) with noise."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    at = int(len(data) * start)
    noise = np.random.default_rng(seed).integers(0, 256, size=min(length, len(data) - at), dtype=np.uint8)
    data[at : at + len(noise)] = noise.tobytes()
    path.write_bytes(bytes(data))
    return path


def make_png(path: str | Path, size: tuple[int, int] = (16, 16)) -> Path:
    """A real PNG (tests rename it to .mp4 to pose as a video)."""
    path = Path(path)
    with av.open(str(path), "w", format="image2") as container:
        s = container.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = size[0], size[1], "rgb24"
        frame = av.VideoFrame.from_ndarray(corner_picture(*size), format="rgb24")
        container.mux(s.encode(frame))
        container.mux(s.encode(None))
    return path


def make_audio_only(path: str | Path, *, seconds: float = 0.5, codec: str = "aac", rate: int = 48000) -> Path:
    """A sound file with no video stream (e.g. .m4a / .mp3 / .wav)."""
    path = Path(path)
    with av.open(str(path), "w") as container:
        a = container.add_stream(AUDIO_ENCODER[codec], rate=rate)
        a.layout = "mono"
        _encode_audio(container, a, click_track(seconds, rate, 1, None), rate)
    return path
