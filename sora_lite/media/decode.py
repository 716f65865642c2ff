"""Reading video and audio through PyAV: probe, streamed frames, constant-rate clips, sampled frames."""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from sora_lite.media import limits
from sora_lite.media.clip import Clip, MediaError, VideoInfo
from sora_lite.media.files import _check_file, _reason, _user_errors

log = logging.getLogger(__name__)

_IMAGE_FORMATS = {"image2", "tty", "apng"}  # plus every "*_pipe" demuxer: stills, not videos
_TECHNICAL_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration", "software",
                   "creation_time", "handler_name", "vendor_id"}



def _open_input(path: str | os.PathLike[str]) -> av.container.InputContainer:
    p = _check_file(path)
    try:
        container = av.open(str(p), metadata_errors="replace")
    except av.error.FFmpegError as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise MediaError(f"{p.name} is not a video file PyAV can read ({reason})") from e
    except (OSError, ValueError) as e:
        raise MediaError(f"{p.name} cannot be opened ({e})") from e
    fmt = container.format.name
    if fmt in _IMAGE_FORMATS or fmt.endswith("_pipe"):
        container.close()
        raise MediaError(f"{p.name} is a still image ({fmt.removesuffix('_pipe')}), not a video")
    return container


def _video_stream(container: av.container.InputContainer, name: str) -> av.video.stream.VideoStream:
    streams = [
        s for s in container.streams.video if not (int(s.disposition) & int(av.stream.Disposition.attached_pic))
    ]
    if not streams:
        kinds = sorted({s.type for s in container.streams}) or ["nothing"]
        raise MediaError(f"{name} has no video stream (it holds: {', '.join(kinds)})")
    stream = streams[0]
    if stream.codec_context is None:
        raise MediaError(f"{name} uses a video codec this FFmpeg build cannot decode")
    w, h = stream.codec_context.width, stream.codec_context.height
    if w > limits.MAX_SIDE or h > limits.MAX_SIDE:
        raise MediaError(f"{name} is {w}×{h}; the limit is {limits.MAX_SIDE} pixels a side")
    if w <= 0 or h <= 0:
        raise MediaError(f"{name} has a video stream with no picture size (damaged header)")
    duration = _stream_duration(container, stream)
    if duration is not None and duration > limits.MAX_DURATION_S:
        raise MediaError(f"{name} lasts {duration / 60:.0f} min; the limit is {limits.MAX_DURATION_S / 60:.0f} min")
    stream.codec_context.thread_type = "AUTO"
    return stream


def _audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream | None:
    for s in container.streams.audio:
        if s.codec_context is not None and s.codec_context.sample_rate:
            return s
    return None


def _stream_duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska keeps per-stream durations as a tag
    if tag:
        with contextlib.suppress(ValueError):
            hours, minutes, seconds = tag.split(":")
            return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


# ------------------------------------------------------------------------------------------- geometry


def _stream_rotation(stream: av.video.stream.VideoStream) -> int:
    """Fallback for files that carry only the old `rotate` tag (degrees clockwise)."""
    tag = stream.metadata.get("rotate")
    if not tag:
        return 0
    try:
        return (-round(float(tag))) % 360
    except ValueError:
        return 0


def _rotation(frame: av.VideoFrame, fallback: int) -> int:
    try:
        r = frame.rotation
    except (AttributeError, ValueError):
        r = 0
    r = int(round((r or 0) / 90.0)) * 90 % 360
    return r or fallback


class _ToRGB:
    """Upright RGB arrays from decoded frames, through one swscale context for a whole decode pass.

    `frame.to_ndarray(format="rgb24")` builds a fresh swscale context for every frame, which costs more
    than the conversion itself (4× the time at 256²); one shared context gives the same pixels. One
    thread: the decoder's frame threads already keep the cores busy, and small frames gain nothing from
    slicing.
    """

    def __init__(self) -> None:
        self._reformatter = av.video.reformatter.VideoReformatter()

    def __call__(self, frame: av.VideoFrame, rotation: int, size: tuple[int, int] | None) -> np.ndarray:
        """RGB array, scaled back to the stream's first size if it changed mid-stream, turned upright."""
        if size is not None and (frame.width, frame.height) != size:
            frame = frame.reformat(width=size[0], height=size[1])
        rgb = self._reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
        if rotation:
            rgb = np.rot90(rgb, k=rotation // 90)
        return rgb

    def upright(self, frame: av.VideoFrame, rotation: int, size: tuple[int, int] | None) -> np.ndarray:
        """The same as a contiguous array of its own (the call's result may be a view)."""
        return np.ascontiguousarray(self(frame, rotation, size))


class _FrameBuffer:
    """A T×H×W×3 array filled in place, so each frame is copied once and no list of per-frame arrays (each
    holding a decoder buffer) waits to be stacked at the end."""

    _FIRST_BYTES = 256 * 1024**2  # most memory reserved up front on the header's word; more grows as needed

    def __init__(self, expected: int) -> None:
        self.expected = max(1, expected)
        self.data: np.ndarray | None = None
        self.count = 0

    def append(self, rgb: np.ndarray) -> None:
        if self.data is None:
            first = max(1, min(self.expected, self._FIRST_BYTES // max(1, rgb.nbytes)))
            self.data = np.empty((first, *rgb.shape), np.uint8)
        elif self.count == len(self.data):
            grown = np.empty((len(self.data) + max(16, len(self.data) // 2), *self.data.shape[1:]), np.uint8)
            grown[: self.count] = self.data
            self.data = grown
        self.data[self.count] = rgb
        self.count += 1

    def array(self) -> np.ndarray:
        assert self.data is not None
        if self.count == len(self.data):
            return self.data
        if self.count >= 0.9 * len(self.data):
            return self.data[: self.count]
        return self.data[: self.count].copy()  # the header promised far more: give the spare memory back


def _pick_fps(stream: av.video.stream.VideoStream) -> Fraction | None:
    """The exact nominal rate when it agrees with the average rate (keeps 30000/1001), else the average."""
    avg = stream.average_rate
    nominal = stream.guessed_rate or stream.base_rate
    if avg and nominal and abs(float(avg) / float(nominal) - 1) < 0.01:
        return Fraction(nominal)
    if avg and 0 < float(avg) <= 1000:
        return Fraction(avg)
    if nominal and 0 < float(nominal) <= 1000:
        return Fraction(nominal)
    return None


# ---------------------------------------------------------------------------------------------- probe


def _packet_times(container: av.container.InputContainer, stream: av.stream.Stream, limit: int) -> list[float]:
    times = []
    for packet in container.demux(stream):
        if packet.pts is not None and packet.size:
            times.append(float(packet.pts * packet.time_base))
        if len(times) >= limit:
            break
    return sorted(times)


def _looks_variable(times: list[float]) -> bool:
    gaps = np.diff(times[:-1]) if len(times) > 3 else np.array([])
    gaps = gaps[gaps > 0]
    return bool(len(gaps) >= 2 and gaps.max() > 1.1 * gaps.min() + 1e-4)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe a video file cheaply: headers, the first packets and at most one decoded frame."""
    p = _check_file(path)
    with _open_input(p) as container, _user_errors(p, "reading the file header"):
        stream = _video_stream(container, p.name)
        audio = _audio_stream(container)
        times = _packet_times(container, stream, limit=120)
        if not times:
            raise MediaError(f"{p.name} has a video stream with no frames in it")
        fps = _pick_fps(stream) or _fps_from_times(times)
        container.seek(0)
        rotation = 0
        with contextlib.suppress(av.error.FFmpegError, StopIteration):
            rotation = _rotation(next(container.decode(stream)), _stream_rotation(stream))
        duration = _stream_duration(container, stream) or (times[-1] - times[0] + 1 / float(fps))
        frames = stream.frames
        w, h = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(
            path=str(p),
            container=container.format.name,
            video_codec=stream.codec_context.name,
            width=w,
            height=h,
            fps=fps,
            duration=float(duration),
            num_frames=frames if frames else max(1, round(duration * float(fps))),
            num_frames_estimated=not frames,
            rotation=rotation,
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            channels=audio.codec_context.channels if audio is not None else None,
            variable_frame_rate=_looks_variable(times),
            size_bytes=p.stat().st_size,
            metadata=_user_tags(container),
        )


def _fps_from_times(times: list[float]) -> Fraction:
    gaps = np.diff(times)
    gaps = gaps[gaps > 0]
    if not len(gaps):
        return Fraction(25)
    return Fraction(1 / float(np.median(gaps))).limit_denominator(1001)


def _user_tags(container: av.container.InputContainer) -> dict[str, str]:
    """Container tags, keys lower-cased (Matroska upper-cases them on write)."""
    return {k.lower(): str(v) for k, v in container.metadata.items() if k.lower() not in _TECHNICAL_TAGS}


# --------------------------------------------------------------------------------------------- decode

_REORDER_DEPTH = 8  # frames held back to put out-of-order timestamps in order


@dataclass
class _DecodeState:
    """What a decode pass learned on the way (a generator cannot return it alongside its frames)."""

    truncated: bool = False
    reason: str = ""
    rotation: int = 0
    size: tuple[int, int] | None = None


def _decoded(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    start: float,
    state: _DecodeState,
    name: str,
    must_decode: bool = True,
    audio_packets: tuple[av.audio.stream.AudioStream, list[av.Packet]] | None = None,
) -> Iterator[tuple[float, av.VideoFrame]]:
    """Frames at or after `start - 1 frame`, sorted by presentation time, one at a time.

    Seeks to the keyframe before `start`; if the seek lands past it, decodes from the beginning instead.
    A decode error after at least one frame ends the stream and marks it truncated. With `audio_packets`
    (start 0 only) the audio stream's packets are collected on the way, so the sound needs no second open.
    """
    tb = stream.time_base
    tb_num, tb_den = (tb.numerator, tb.denominator) if tb else (0, 1)
    fps = _pick_fps(stream) or Fraction(25)
    early = start - 1 / float(fps)
    seeked = False
    if start > 0 and tb:
        container.seek(int(start / tb), stream=stream, backward=True, any_frame=False)
        seeked = True
    heap: list[tuple[float, int, av.VideoFrame]] = []
    count, last_out = 0, -math.inf
    fallback_rotation = _stream_rotation(stream)
    next_guess = 0.0

    def frames() -> Iterator[av.VideoFrame]:
        if audio_packets is None:
            for packet in container.demux(stream):
                yield from packet.decode()
            return
        audio_stream, collected = audio_packets
        for packet in container.demux(stream, audio_stream):
            if packet.stream.index == stream.index:
                yield from packet.decode()
            else:
                collected.append(packet)

    source = frames()
    while True:
        try:
            frame = next(source)
        except StopIteration:
            break
        except (av.error.FFmpegError, OSError, ValueError) as e:
            if count == 0 and not heap and must_decode:
                raise MediaError(f"{name} is damaged: no frame could be decoded ({_reason(e)})") from e
            state.truncated, state.reason = True, _reason(e)
            log.warning("%s: stopped at a decode error, keeping the frames before it (%s)", name, state.reason)
            break
        # pts·num/den in integers: the same correctly rounded float as float(pts * tb), without a Fraction.
        t = frame.pts * tb_num / tb_den if frame.pts is not None and tb else next_guess
        next_guess = t + 1 / float(fps)
        if seeked and count == 0 and not heap and t > start + 0.5 / float(fps):
            # The seek overshot (sparse index): start over from the beginning.
            seeked = False
            container.seek(0)
            source = frames()
            continue
        if state.size is None:
            state.size = (frame.width, frame.height)
            state.rotation = _rotation(frame, fallback_rotation)
        if t < early:
            continue
        heapq.heappush(heap, (t, count, frame))
        count += 1
        if len(heap) > _REORDER_DEPTH:
            t_out, _, f_out = heapq.heappop(heap)
            if t_out > last_out:
                last_out = t_out
                yield t_out, f_out
    while heap:
        t_out, _, f_out = heapq.heappop(heap)
        if t_out > last_out:
            last_out = t_out
            yield t_out, f_out
    if count == 0 and must_decode:
        raise MediaError(f"{name} has a video stream but no frame in it could be decoded")
    if not state.truncated and count and last_out < _declared_last_frame(stream, fps) - 1.5 / float(fps):
        # The stream ended quietly before the header's promise: a cut-off download or copy.
        state.truncated = True
        state.reason = f"the header promises frames up to {_declared_last_frame(stream, fps):.2f} s, the data ends at {last_out:.2f} s"
        log.warning("%s: %s", name, state.reason)


def _declared_last_frame(stream: av.video.stream.VideoStream, fps: Fraction) -> float:
    """When the header says the last frame is shown (-inf when it does not say)."""
    if stream.duration is None or not stream.time_base:
        return -math.inf
    begin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    return begin + float(stream.duration * stream.time_base) - 1 / float(fps)


def iter_frames(
    path: str | os.PathLike[str], *, start: float = 0.0, end: float | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time in seconds, upright RGB uint8 frame) for every frame in [start, end), streaming.

    These are the file's own frames at their own times (no resampling); a truncated file yields what
    decodes and logs a warning.
    """
    p = _check_file(path)
    _check_window(start, end)
    with _open_input(p) as container, _user_errors(p, "decoding the video"):
        stream = _video_stream(container, p.name)
        state = _DecodeState()
        to_rgb = _ToRGB()
        eps = 1e-6
        for t, frame in _decoded(container, stream, start, state, p.name):
            if t < start - eps:
                continue
            if end is not None and t >= end - eps:
                break
            yield t, to_rgb.upright(frame, state.rotation, state.size)


def _check_window(start: float, end: float | None) -> None:
    if not isinstance(start, (int, float)) or not math.isfinite(start) or start < 0:
        raise MediaError(f"start must be a time in seconds >= 0, got {start!r}")
    if end is not None and (not isinstance(end, (int, float)) or not math.isfinite(end) or end <= start):
        raise MediaError(f"end must be a time in seconds after start ({start}), got {end!r}")


class _ConstantRate:
    """Frames in presentation order → a constant-rate grid that starts at the first frame inside [start, end):
    every slot takes the nearer of the two frames around it; at most `limit` slots, within the size caps."""

    def __init__(self, name: str, fps: Fraction, start: float, end: float | None, limit: float, byte_cap: int,
                 expected: int, state: _DecodeState) -> None:
        self.name, self.start, self.end, self.limit, self.byte_cap, self.state = name, start, end, limit, byte_cap, state
        self.step = 1 / float(fps)
        self.tol = 0.01 * self.step  # timestamps rounded to the container's time base
        self.out = _FrameBuffer(min(limit, byte_cap, limits.MAX_CLIP_FRAMES, expected))
        self.to_rgb = _ToRGB()
        self.t0: float | None = None
        self.prev: tuple[float, av.VideoFrame] | None = None

    def slot(self, k: int) -> float:
        assert self.t0 is not None
        return self.t0 + k * self.step

    def take(self, frame: av.VideoFrame) -> None:
        if self.out.count >= limits.MAX_CLIP_FRAMES:
            raise MediaError(
                f"{self.name}: more than {limits.MAX_CLIP_FRAMES} frames in the requested window; the limit is "
                f"{limits.MAX_CLIP_FRAMES} (read a shorter window, or pass max_frames)"
            )
        if self.out.count >= self.byte_cap:
            raise MediaError(f"{self.name}: the window needs more than {limits.MAX_CLIP_BYTES / 1024**3:.0f} GiB of frames")
        self.out.append(self.to_rgb(frame, self.state.rotation, self.state.size))

    def offer(self, t: float, frame: av.VideoFrame) -> bool:
        """Place the frame shown at `t`; True when the grid is complete (window ended or limit reached)."""
        end, tol = self.end, self.tol
        if self.t0 is None:
            if t < self.start - tol:
                return False
            if end is not None and t >= end - tol:
                return True
            self.t0 = t
        # Every slot up to this frame's time is decided: it takes the nearer of the two frames around it.
        while self.slot(self.out.count) <= t + tol:
            s = self.slot(self.out.count)
            if end is not None and s >= end - tol:
                return True
            prev = self.prev
            self.take(prev[1] if prev is not None and abs(s - prev[0]) < abs(s - t) else frame)
            if self.out.count >= self.limit:
                return True
        self.prev = (t, frame)
        return False

    def finish(self) -> None:
        """End of stream: the last frame fills the slots up to half a frame after it."""
        prev, end, tol = self.prev, self.end, self.tol
        while prev is not None and self.t0 is not None and self.slot(self.out.count) < prev[0] + 0.5 * self.step - tol:
            if (end is not None and self.slot(self.out.count) >= end - tol) or self.out.count >= self.limit:
                break
            self.take(prev[1])


def _stream_fps(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> tuple[Fraction, bool]:
    """(the rate to resample to, whether finding it read packets and rewound the container)."""
    fps = _pick_fps(stream)
    if fps is not None:
        return fps, False
    fps = _fps_from_times(_packet_times(container, stream, limit=120))
    container.seek(0)
    return fps, True


def _clip_metadata(container: av.container.InputContainer, t0: float, state: _DecodeState) -> dict[str, Any]:
    metadata: dict[str, Any] = {**_user_tags(container), "start_time": t0}
    if state.truncated:
        metadata["truncated"] = True
        metadata["truncated_reason"] = state.reason
    return metadata


def read_video(
    path: str | os.PathLike[str],
    *,
    start: float = 0.0,
    end: float | None = None,
    max_frames: int | None = None,
    with_audio: bool = True,
) -> Clip:
    """Decode [start, end) into a constant-rate Clip (see the module notes on rate and placement)."""
    p = _check_file(path)
    _check_window(start, end)
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 1):
        raise MediaError(f"max_frames must be a positive whole number, got {max_frames!r}")
    with _open_input(p) as container, _user_errors(p, "decoding the video"):
        stream = _video_stream(container, p.name)
        audio_stream = _audio_stream(container) if with_audio else None
        fps, rewound = _stream_fps(container, stream)
        w, h = stream.codec_context.width, stream.codec_context.height
        state = _DecodeState()
        grid = _ConstantRate(p.name, fps, start, end, max_frames if max_frames is not None else math.inf,
                             max(1, limits.MAX_CLIP_BYTES // (w * h * 3)),
                             _expected_frames(container, stream, fps, start, end), state)
        reached_end = False
        # From the start, the sound's packets are gathered in the same pass (one open per file); not after a
        # rewind, which can start some codecs' audio elsewhere (see below).
        packets: list[av.Packet] | None = [] if audio_stream is not None and start == 0 and not rewound else None
        gather = (audio_stream, packets) if packets is not None else None
        for t, frame in _decoded(container, stream, start, state, p.name, audio_packets=gather):
            if grid.offer(t, frame):
                break
        else:
            reached_end = True
            grid.finish()
        if not grid.out.count:
            raise MediaError(f"{p.name} has no frames between {start:.3f} s and {end if end is not None else 'the end'}")
        t0 = grid.t0
        assert t0 is not None
        metadata = _clip_metadata(container, t0, state)
        got = None
        if audio_stream is not None and packets is not None and reached_end and not state.truncated:
            # The demuxer reached the end, so every audio packet is here: decode them as a fresh open would.
            with contextlib.suppress(av.error.FFmpegError, OSError, ValueError, MediaError):
                got = _audio_window(container, audio_stream, p.name, t0, t0 + grid.out.count * grid.step, packets)
    frames = grid.out.array()
    if got is None and audio_stream is not None:
        # Sound from a fresh open: rewinding this container (seek(0)) starts some codecs' audio elsewhere
        # (AAC priming, Opus pre-skip), so the samples would differ from `read_audio`'s.
        got = _read_audio_window(p, t0, t0 + len(frames) * grid.step)
    audio, rate = got if got is not None else (None, None)
    return Clip(frames=frames, fps=fps, audio=audio, sample_rate=rate, metadata=metadata)


def _expected_frames(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, fps: Fraction, start: float,
    end: float | None,
) -> int:
    """How many frames [start, end) should give, by the header (a guess to size the output; 1 if unknown)."""
    duration = _stream_duration(container, stream)
    if duration is None:
        return max(1, stream.frames or 1)
    first = float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0
    stop = first + duration if end is None else min(end, first + duration)
    return max(1, math.ceil((stop - max(start, first)) * float(fps)) + 1)


# ---------------------------------------------------------------------------------------------- audio


def read_audio(
    path: str | os.PathLike[str], *, start: float = 0.0, end: float | None = None
) -> tuple[np.ndarray, int] | None:
    """(float32 channels×samples, sample rate) for [start, end), sample 0 at `start`; None without sound.

    Works on audio-only files too. The stream's own rate and channel count are kept.
    """
    p = _check_file(path)
    _check_window(start, end)
    return _read_audio_window(p, float(start), end)


def _read_audio_window(p: Path, start: float, end: float | None) -> tuple[np.ndarray, int] | None:
    """Decode the first audio stream into [start, end); gaps stay silent, with `end` the array is exactly
    round((end - start) * rate) samples long."""
    with _open_input(p) as container, _user_errors(p, "decoding the audio"):
        stream = _audio_stream(container)
        if stream is None:
            return None
        return _audio_window(container, stream, p.name, start, end)


def _audio_window(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    name: str,
    start: float,
    end: float | None,
    packets: list[av.Packet] | None = None,
) -> tuple[np.ndarray, int]:
    """`_read_audio_window` on an open container: demuxed here, or from `packets` (all of the stream's
    packets from the start, gathered during a video pass)."""
    duration = _stream_duration(container, stream)
    if duration is not None and duration > limits.MAX_DURATION_S:
        raise MediaError(f"{name} lasts {duration / 60:.0f} min; the limit is {limits.MAX_DURATION_S / 60:.0f} min")
    ctx = stream.codec_context
    rate = int(ctx.sample_rate)
    channels = max(1, int(ctx.channels))
    resampler = av.AudioResampler(format="fltp")  # sample format only: rate and layout stay the stream's
    total = None if end is None else max(0, round((end - start) * rate))
    chunks: list[tuple[int, np.ndarray]] = []
    cursor: int | None = None  # where the next contiguous sample lands, relative to start

    def decode(seek: bool) -> Iterator[av.AudioFrame]:
        if packets is not None:
            for packet in packets:
                yield from packet.decode()
            return
        if seek and start > 0 and stream.time_base:
            container.seek(int(start / stream.time_base), stream=stream, backward=True, any_frame=False)
        try:
            for packet in container.demux(stream):
                yield from packet.decode()
        except (av.error.FFmpegError, OSError) as e:
            if cursor is None:
                raise
            log.warning("%s: audio stops at a decode error (%s)", name, _reason(e))

    slack = 2 + math.ceil(rate * float(stream.time_base or 0))
    source = decode(seek=True)
    first = True
    while (frame := next(source, None)) is not None:
        t = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
        if first and packets is None and t is not None and start > 0 and t > start + 0.05:
            # The seek overshot: decode from the beginning instead.
            container.seek(0)
            source = decode(seek=False)
            first = False
            continue
        first = False
        at = round((t - start) * rate) if t is not None else (cursor or 0)
        if cursor is not None and abs(at - cursor) <= slack:
            at = cursor  # keep a contiguous stream contiguous despite timestamps rounded to the time base
        for out in resampler.resample(frame):
            data = out.to_ndarray().reshape(-1, out.samples)[:channels]
            chunks.append((at, data.astype(np.float32, copy=False)))
            at += out.samples
        cursor = at
        if total is not None and at >= total:
            break
    if not chunks and end is None:
        return np.zeros((channels, 0), np.float32), rate
    length = total if total is not None else max((a + c.shape[1] for a, c in chunks), default=0)
    if length > limits.MAX_DURATION_S * rate:
        raise MediaError(f"{name}: the audio is longer than the {limits.MAX_DURATION_S / 60:.0f} min limit")
    audio = np.zeros((channels, length), np.float32)
    for at, data in chunks:
        lo, hi = max(at, 0), min(at + data.shape[1], length)
        if hi > lo:
            audio[: data.shape[0], lo:hi] = data[:, lo - at : hi - at]
    return audio, rate


# ------------------------------------------------------------------------------------------- sampling

_SEEK_GAP_S = 2.0  # further than this to the next wanted frame: seek instead of decoding through


def spread_indices(n_frames: int, count: int) -> np.ndarray:
    """At most `count` frame indices spread evenly over `n_frames`, first and last included (sorted, unique).

    The one rule for "look at a few frames of this clip" (moderation, cameo matching, the watermark reader).
    """
    if n_frames <= 0 or count <= 0:
        return np.zeros(0, dtype=int)
    return np.unique(np.linspace(0, n_frames - 1, min(count, n_frames)).round().astype(int))


def sample_frames(path: str | os.PathLike[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """n frames spread evenly from the first frame to the last, and their times (seconds).

    Target times are evenly spaced over [first, last frame time] (last estimated from the header); each
    target gets the decoded frame nearest to it, so a file with fewer than n frames repeats some. Holds
    two decoded frames at a time and seeks across long gaps.
    """
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= limits.MAX_CLIP_FRAMES:
        raise MediaError(f"n must be a whole number 1–{limits.MAX_CLIP_FRAMES}, got {n!r}")
    p = _check_file(path)
    with _open_input(p) as container, _user_errors(p, "decoding the video"):
        stream = _video_stream(container, p.name)
        fps, duration = _pick_fps(stream), _stream_duration(container, stream)
        if fps is None or not duration:  # the header is not enough: learn them from packet times, as probe does
            times = _packet_times(container, stream, limit=120)
            if not times:
                raise MediaError(f"{p.name} has a video stream with no frames in it")
            fps = fps or _fps_from_times(times)
            duration = duration or (times[-1] - times[0] + 1 / float(fps))
            container.seek(0)
        first_time = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        last_time = first_time + max(0.0, duration - 1 / float(fps))
        targets = np.linspace(first_time, last_time, n) if n > 1 else np.array([first_time])
        frames: list[np.ndarray] = []
        times: list[float] = []
        state = _DecodeState()
        to_rgb = _ToRGB()
        position = 0.0
        i = 0
        last: tuple[float, av.VideoFrame] | None = None
        while i < n:
            prev: tuple[float, av.VideoFrame] | None = None
            jumped = False
            for t, frame in _decoded(container, stream, position, state, p.name, must_decode=position == 0):
                while i < n and t >= targets[i]:
                    pick = prev if prev is not None and targets[i] - prev[0] < t - targets[i] else (t, frame)
                    frames.append(to_rgb(pick[1], state.rotation, state.size))
                    times.append(pick[0])
                    i += 1
                prev = last = (t, frame)
                if i < n and targets[i] - t > _SEEK_GAP_S:
                    position, jumped = float(targets[i]), True
                    break
            if not jumped:
                break
        while i < n and last is not None:  # targets past the last frame (a short or truncated file)
            frames.append(to_rgb(last[1], state.rotation, state.size))
            times.append(last[0])
            i += 1
    if not frames:
        raise MediaError(f"{p.name}: no frame could be sampled")
    return np.stack(frames), np.asarray(times, dtype=np.float64)


# -------------------------------------------------------------------------------------------- images
