"""Limits on what media I/O accepts: anything beyond them is refused with a MediaError that names the limit.

One module so tests can lower a limit for every reader and writer at once (`monkeypatch.setattr(limits, ...)`).
"""

MAX_FILE_BYTES = 2 * 1024**3
MAX_SIDE = 8192
MAX_DURATION_S = 3600.0
MAX_CLIP_FRAMES = 20_000
MAX_CLIP_BYTES = 8 * 1024**3
MAX_IMAGE_BYTES = 64 * 1024**2

DEFAULT_MP4_CRF = 12  # libx264: round-trip PSNR >= 40 dB (luma; RGB on natural frames), see tests/test_media.py
DEFAULT_WEBM_CRF = 18  # libvpx-vp9 constant quality, same target
