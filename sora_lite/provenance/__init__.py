"""Provenance: the visible label, the invisible watermark, C2PA signing and the verifier.

The studio flow calls `apply_marks` on the frames before muxing and `sign_video` after; anyone can run
`verify_file` (or `python -m sora_lite verify FILE`) on a file later.
"""

from sora_lite.provenance.c2pa_sign import ProvenanceClaims, SigningError, prompt_sha256, sign_video
from sora_lite.provenance.invisible import WatermarkError, WatermarkReading, clip_field
from sora_lite.provenance.marks import apply_marks, payload_for
from sora_lite.provenance.verify import VerifyReport, verify_file

__all__ = [
    "ProvenanceClaims", "SigningError", "VerifyReport", "WatermarkError", "WatermarkReading",
    "apply_marks", "clip_field", "payload_for", "prompt_sha256", "sign_video", "verify_file",
]
