"""Writing a clip encodes its sound on a second thread (issue 15, CLI start-up: ~0.1 s of a 4 s clip). What
must not change: the file interleaves sound with the frames, the same clip gives the same bytes, and an
error while encoding the sound is one MediaError with no file left behind."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sora_lite.media import Clip, MediaError, write_video
from sora_lite.media import encode


def _clip(seconds: float = 2.0, fps: int = 24, rate: int = 48000) -> Clip:
    n = int(seconds * fps)
    frames = np.zeros((n, 128, 160, 3), dtype=np.uint8)
    for i in range(n):
        frames[i, :, (i * 3) % 160:] = 180
    t = np.arange(int(seconds * rate)) / rate
    audio = np.stack([0.3 * np.sin(2 * np.pi * 330 * t), 0.3 * np.sin(2 * np.pi * 440 * t)]).astype(np.float32)
    return Clip(frames=frames, fps=fps, audio=audio, sample_rate=rate)


def test_sound_is_interleaved_with_the_frames_and_the_bytes_repeat(tmp_path: Path) -> None:
    clip = _clip()
    first, second = write_video(clip, tmp_path / "a.mp4"), write_video(clip, tmp_path / "b.mp4")
    assert first.read_bytes() == second.read_bytes()
    order = []
    with av.open(str(first)) as container:
        for packet in container.demux():
            if packet.size:
                order.append((packet.stream.type, float(packet.pts * packet.time_base)))
    kinds = [kind for kind, _ in order]
    assert kinds.count("audio") > 10 and kinds.count("video") == 48
    # interleaved, not one stream after the other: sound packets appear throughout the file
    first_video, last_video = kinds.index("video"), len(kinds) - 1 - kinds[::-1].index("video")
    assert any(k == "audio" for k in kinds[first_video:last_video])
    audio_times = [t for kind, t in order if kind == "audio"]
    assert audio_times == sorted(audio_times)


def test_an_error_while_encoding_the_sound_is_one_media_error_and_leaves_no_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: encode._AudioFeed, seconds: float) -> list[av.Packet]:
        raise ValueError("sound encoder broke")

    monkeypatch.setattr(encode._AudioFeed, "until", broken)
    out = tmp_path / "clip.mp4"
    with pytest.raises(MediaError, match="sound encoder broke"):
        write_video(_clip(), out)
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no partial file either
