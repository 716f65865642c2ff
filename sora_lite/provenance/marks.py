"""The one call the studio flow makes before muxing: visible label + invisible watermark on every frame."""

from __future__ import annotations

import numpy as np

from sora_lite.provenance import invisible
from sora_lite.provenance.keys import instance_tag
from sora_lite.provenance.visible import add_visible_mark


def payload_for(payload: bytes | str) -> bytes:
    """A clip id (str) becomes clip field + this instance's tag; 6 bytes get the tag; 8 bytes pass as is."""
    if isinstance(payload, str):
        if not payload.strip():
            raise invisible.WatermarkError("the clip id to watermark is empty")
        return invisible.make_payload(payload, instance_tag())
    if isinstance(payload, (bytes, bytearray)):
        if len(payload) == invisible.PAYLOAD_BYTES:
            return bytes(payload)
        if len(payload) == 6:
            return bytes(payload) + instance_tag()
    raise invisible.WatermarkError(
        f"payload must be a clip id (str), 6 bytes (clip field) or 8 bytes (clip field + tag), got {payload!r:.40}"
    )


# Image-to-video: the invisible mark starts at this share of its strength on the first frame (the user's still)
# and eases in over invisible.EASE_IN_S. Measured in tests/test_watermark_still.py (issue 14).
STILL_FIRST_FRAME = 0.3


def apply_marks(frames: np.ndarray, payload: bytes | str, *, fps: float = 24.0, visible: bool = True,
                strength: float = invisible.DEFAULT_STRENGTH, from_still: bool = False) -> np.ndarray:
    """Return marked uint8 T×H×W×3 frames: the moving label (if `visible`), then the invisible watermark.

    The watermark goes last so it also covers the label's pixels; the input array is not changed.
    `from_still` (image-to-video: frame 0 is the user's picture) eases the invisible mark in from
    STILL_FIRST_FRAME of its strength; the visible label is the same on every clip.
    """
    invisible._check_frames(frames)
    data = payload_for(payload)
    out = add_visible_mark(frames, fps=fps) if visible else frames
    return invisible.embed(out, data, strength=strength, fps=fps,
                           first_frame=STILL_FIRST_FRAME if from_still else 1.0)
