"""Writing clips to MP4 / MOV / MKV / WebM through PyAV, atomically."""

from __future__ import annotations

import functools
import os
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from sora_lite.media import limits
from sora_lite.media.clip import Clip, MediaError, check_clip
from sora_lite.media.files import _publish, _user_errors


@dataclass(frozen=True)
class _Recipe:
    """How one container suffix is written."""

    format: str
    video_codec: str
    audio_codec: str
    default_crf: int
    audio_rates: tuple[int, ...]  # rates the audio codec takes; others are resampled to the first


_RECIPES = {
    ".mp4": _Recipe("mp4", "libx264", "aac", limits.DEFAULT_MP4_CRF, (48000, 44100, 32000, 24000, 22050, 16000)),
    ".mov": _Recipe("mov", "libx264", "aac", limits.DEFAULT_MP4_CRF, (48000, 44100, 32000, 24000, 22050, 16000)),
    ".mkv": _Recipe("matroska", "libx264", "aac", limits.DEFAULT_MP4_CRF, (48000, 44100, 32000, 24000, 22050, 16000)),
    ".webm": _Recipe("webm", "libvpx-vp9", "libopus", limits.DEFAULT_WEBM_CRF, (48000, 24000, 16000, 12000, 8000)),
}


_CHROMA_FILTER = av.video.reformatter.Interpolation.BICUBIC | av.video.reformatter.Interpolation.ACCURATE_RND


def write_video(clip: Clip, path: str | os.PathLike[str], *, crf: int | None = None) -> Path:
    """Encode `clip` by suffix (.mp4/.mov/.mkv: H.264 yuv420p + AAC; .webm: VP9 + Opus), atomically.

    The file appears complete or not at all. A clip without audio gets no audio stream. String values in
    `clip.metadata` become container tags. Odd sizes are padded to even (see module notes).
    """
    out = Path(path)
    recipe = _RECIPES.get(out.suffix.lower())
    if recipe is None:
        raise MediaError(f"cannot write {out.name}: use one of {', '.join(_RECIPES)}")
    check_clip(clip)
    if crf is not None and (not isinstance(crf, int) or not 0 <= crf <= 51):
        raise MediaError(f"crf must be a whole number 0–51 (lower is better quality), got {crf!r}")
    if not out.parent.is_dir():
        raise MediaError(f"cannot write {out}: the folder {out.parent} does not exist")
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=f".part{out.suffix}")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _user_errors(out, "writing the video"):
            _encode(clip, tmp, recipe, recipe.default_crf if crf is None else crf)
            _publish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out

def _encode(clip: Clip, tmp: Path, recipe: _Recipe, crf: int) -> None:
    options = {"movflags": "+faststart+use_metadata_tags"} if recipe.format in ("mp4", "mov") else {}
    with av.open(str(tmp), mode="w", format=recipe.format, options=options) as container:
        for key, value in clip.metadata.items():
            if isinstance(key, str) and isinstance(value, str):
                container.metadata[key] = value
        v = container.add_stream(recipe.video_codec, rate=clip.fps)
        v.width = clip.width + clip.width % 2
        v.height = clip.height + clip.height % 2
        v.pix_fmt = "yuv420p"
        v.codec_context.colorspace = av.video.reformatter.Colorspace.ITU709
        v.codec_context.color_range = av.video.reformatter.ColorRange.MPEG
        v.codec_context.color_primaries = av.video.reformatter.ColorPrimaries.BT709
        v.codec_context.color_trc = av.video.reformatter.ColorTrc.BT709
        if recipe.video_codec == "libx264":
            v.options = {"crf": str(crf), "preset": "veryfast", **_x264_deterministic()}
        else:
            v.options = {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": "5", "row-mt": "1"}
        a = None
        audio = None
        if clip.has_audio:
            assert clip.audio is not None and clip.sample_rate is not None
            rate = clip.sample_rate if clip.sample_rate in recipe.audio_rates else recipe.audio_rates[0]
            a = container.add_stream(recipe.audio_codec, rate=rate)
            a.layout = "mono" if clip.audio.shape[0] == 1 else "stereo"
            a.bit_rate = 96_000 * clip.audio.shape[0]
            audio = np.clip(clip.audio, -1.0, 1.0)

        # The sound is encoded on another thread while the frames are (both are C code that lets go of the
        # GIL: ~0.15 s of a 4 s clip's write); each frame's packets are then muxed with the sound up to that
        # frame's end, in the order a single thread would mux them, so the file is the same byte for byte.
        sound = (_SoundPackets(_AudioFeed(a, audio, clip.sample_rate), clip.num_frames, clip.fps)
                 if a is not None and audio is not None else None)
        video: list[list[av.Packet]] = []
        try:
            for i in range(clip.num_frames):
                rgb = clip.frames[i]
                if rgb.shape[0] % 2 or rgb.shape[1] % 2:
                    rgb = np.pad(rgb, ((0, rgb.shape[0] % 2), (0, rgb.shape[1] % 2), (0, 0)), mode="edge")
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                frame = frame.reformat(
                    format="yuv420p",
                    dst_colorspace=av.video.reformatter.Colorspace.ITU709,
                    dst_color_range=av.video.reformatter.ColorRange.MPEG,
                    interpolation=_CHROMA_FILTER,  # sharper 4:2:0 chroma than the bilinear default
                )
                frame.pts = i
                frame.time_base = Fraction(1) / clip.fps
                video.append(v.encode(frame))
            video_tail = v.encode(None)
        finally:
            if sound is not None:
                sound.wait()  # the container must not close under the audio thread
        steps = sound.result() if sound is not None else None
        for i, packets in enumerate(video):
            container.mux(packets)
            if steps is not None:
                container.mux(steps[i])  # interleave: sound up to the end of this frame
        container.mux(video_tail)
        if steps is not None:
            container.mux(steps[-1])


def _x264_deterministic() -> dict[str, str]:
    """x264 options that keep its output a function of the frames alone.

    Why: on a CPU with AVX-512, x264's AVX-512 code gave different bytes (and decoded pixels) for the same
    frames from one write to the next within a process (seen on a 270×480 phone clip); the physics calibration
    then changed between two runs. Without AVX-512 (AVX2 kept: same speed here) the output is the same every
    time. Only where /proc/cpuinfo shows AVX-512; elsewhere x264 picks its own code as before.
    """
    return {"x264-params": "asm=AVX2,Cache64"} if {"avx512f", "avx2"} <= _cpu_flags() else {}


@functools.cache
def _cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none: not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


class _AudioFeed:
    """Encodes the audio in steps (up to a time), resampling only when the codec needs another rate; each
    step returns the packets it made."""

    def __init__(self, stream: av.audio.stream.AudioStream, audio: np.ndarray, rate: int) -> None:
        self.stream, self.audio, self.rate = stream, audio, rate
        self.layout = stream.layout.name
        self.resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=self.layout,
                                           rate=stream.rate)
        self.at = 0

    def until(self, seconds: float) -> list[av.Packet]:
        packets: list[av.Packet] = []
        stop = min(self.audio.shape[1], round(seconds * self.rate))
        while self.at < stop:
            n = min(4096, stop - self.at)
            chunk = np.ascontiguousarray(self.audio[:, self.at : self.at + n])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.layout)
            frame.sample_rate = self.rate
            frame.pts = self.at
            frame.time_base = Fraction(1, self.rate)
            for out in self.resampler.resample(frame):
                packets += self.stream.encode(out)
            self.at += n
        return packets

    def finish(self) -> list[av.Packet]:
        packets = self.until(self.audio.shape[1] / self.rate)
        for out in self.resampler.resample(None):
            packets += self.stream.encode(out)
        return packets + self.stream.encode(None)


class _SoundPackets:
    """The audio's packets, step by step (one step per video frame, then the rest), made on a thread."""

    def __init__(self, feed: _AudioFeed, num_frames: int, fps: int) -> None:
        self._steps: list[list[av.Packet]] = []
        self._error: BaseException | None = None

        def work() -> None:
            try:
                self._steps = [feed.until(float((i + 1) / fps)) for i in range(num_frames)] + [feed.finish()]
            except BaseException as exc:  # noqa: BLE001 - handed to the writing thread, which raises it
                self._error = exc

        self._thread = threading.Thread(target=work, name="sora-lite-audio-encode", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> list[list[av.Packet]]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._steps
