"""Clips in memory and on disk: the one place that reads and writes video and audio.

Everything else in sora-lite hands `Clip` records around and calls `write_video` / `read_video` here.
Every failure to read or write a file is raised as one `MediaError` with a message a user can act on.

Reading streams frames one at a time through PyAV: nothing holds a whole file in memory unless a caller
asks for a `Clip`. Decisions worth knowing:

- Times are the file's own presentation times in seconds (`frame.time`), frames sorted by them.
- `read_video` returns a constant-rate `Clip`: the rate is the stream's exact rate (e.g. 30000/1001), or
  its average rate when the file has a variable frame rate; each output slot t0 + k/fps takes the decoded
  frame nearest in time (for a constant-rate file that is every frame, unchanged).
- Audio in a `Clip` starts at the time of the clip's first frame (`metadata["start_time"]`).
- Rotation metadata (display matrix, or the old `rotate` tag) is applied: frames come back upright.
- A truncated file returns what decodes, with `metadata["truncated"] = True`; zero decodable frames is
  a `MediaError`.
- Writing MP4 pads odd widths/heights by one edge-replicated column/row (H.264 4:2:0 needs even sizes):
  nothing is lost, and a read-back is that one pixel larger.

A package split along its seams: `clip` (records), `decode`, `encode`, `images`; `limits` holds the caps,
`files` the shared file checks. Import the public names from `sora_lite.media`.
"""

from sora_lite.media.clip import Clip, MediaError, VideoInfo
from sora_lite.media.decode import (
    iter_frames,
    probe,
    read_audio,
    read_video,
    sample_frames,
    spread_indices,
)
from sora_lite.media.encode import write_video
from sora_lite.media.images import read_image, write_gif, write_thumbnail
from sora_lite.media.limits import (
    DEFAULT_MP4_CRF,
    DEFAULT_WEBM_CRF,
    MAX_CLIP_BYTES,
    MAX_CLIP_FRAMES,
    MAX_DURATION_S,
    MAX_FILE_BYTES,
    MAX_IMAGE_BYTES,
    MAX_SIDE,
)

__all__ = [
    "Clip",
    "DEFAULT_MP4_CRF",
    "DEFAULT_WEBM_CRF",
    "MAX_CLIP_BYTES",
    "MAX_CLIP_FRAMES",
    "MAX_DURATION_S",
    "MAX_FILE_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_SIDE",
    "MediaError",
    "VideoInfo",
    "iter_frames",
    "probe",
    "read_audio",
    "read_image",
    "read_video",
    "sample_frames",
    "spread_indices",
    "write_gif",
    "write_thumbnail",
    "write_video",
]
