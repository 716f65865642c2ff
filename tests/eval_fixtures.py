"""Small odd videos for the eval tests, written with PyAV: good, silent, corrupt, rotated, variable-rate."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

W, H, FPS, SECONDS = 128, 96, 12, 2.0
RATE = 16000


def moving_square(n: int, w: int = W, h: int = H, color: tuple[int, int, int] = (220, 30, 30)) -> np.ndarray:
    frames = np.full((n, h, w, 3), 40, np.uint8)
    for i in range(n):
        x = int(4 + (w - 24) * i / max(1, n - 1))
        frames[i, h // 2 - 8 : h // 2 + 8, x : x + 16] = color
    return frames


def clicks(seconds: float, at: list[float], rate: int = RATE) -> np.ndarray:
    audio = np.zeros(int(seconds * rate), np.float32)
    for t in at:
        k = int(t * rate)
        n = min(800, audio.size - k)
        audio[k : k + n] += 0.8 * np.exp(-np.arange(n) / 120.0) * np.sin(np.arange(n) * 0.6)
    return audio


def write(path: Path, frames: np.ndarray, audio: np.ndarray | None = None, rotation: int = 0,
          times: list[float] | None = None, fps: int = FPS, codec: str = "libx264", audio_codec: str = "aac") -> Path:
    """times: per-frame presentation times in seconds (variable rate) instead of a constant `fps`."""
    with av.open(str(path), "w") as c:
        vs = c.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if times is not None:
            vs.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            vs.set_display_rotation(rotation)
        aus = None
        if audio is not None:
            aus = c.add_stream(audio_codec, rate=RATE)
            aus.layout = "mono"
            sample_format = aus.codec_context.codec.audio_formats[0].name
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            if times is not None:
                frame.pts, frame.time_base = int(round(times[i] * 1000)), Fraction(1, 1000)
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if aus is not None:
            step = 1024
            for k in range(0, audio.size, step):
                chunk = audio[None, k : k + step]
                if sample_format.startswith("s16"):
                    chunk = (chunk * 32767).astype(np.int16)
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format=sample_format, layout="mono")
                af.sample_rate, af.pts = RATE, k
                for p in aus.encode(af):
                    c.mux(p)
            for p in aus.encode():
                c.mux(p)
    return path


def odd_folder(folder: Path) -> dict[str, Path]:
    """good.mp4, silent.mp4 (no audio track), corrupt.mp4, rotated.mp4 (90°), vfr.mp4, exotic.avi (MPEG-4 Part 2 +
    PCM in AVI), plus prompts.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)
    n = int(SECONDS * FPS)
    frames = moving_square(n)
    sound = clicks(SECONDS, [0.5, 1.2])
    files = {
        "good": write(folder / "good.mp4", frames, sound),
        "silent": write(folder / "silent.mp4", frames),
        "rotated": write(folder / "rotated.mp4", frames, sound, rotation=90),
    }
    times = list(np.cumsum([0.0] + [1 / 12 if i % 3 else 1 / 6 for i in range(n - 1)]))
    files["vfr"] = write(folder / "vfr.mp4", frames, sound, times=times)
    files["exotic"] = write(folder / "exotic.avi", frames, sound, codec="mpeg4", audio_codec="pcm_s16le")
    good = files["good"].read_bytes()
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(good[:64] + bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)))
    files["corrupt"] = corrupt
    (folder / "prompts.jsonl").write_text(
        '{"file": "good.mp4", "prompt": "a red square slides to the right", "suite": "physics", "id": "phys-sliding_friction-01"}\n'
        '{"file": "rotated.mp4", "prompt": "a red square slides to the right"}\n'
    )
    return files
