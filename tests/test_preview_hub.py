"""Hub models show a rough latent picture between denoising steps (issue 14), through the studio flow, on a
tiny random Wan pipeline (no weights needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

from hub_fixtures import save_tiny  # noqa: E402
from sora_lite.engines import GenerationRequest  # noqa: E402
from sora_lite.engines.hub import loading  # noqa: E402
from sora_lite.engines.hub.engine import latent_preview  # noqa: E402
from sora_lite.studio import create_clip  # noqa: E402


def test_latent_preview_reads_grid_latents_and_skips_packed_ones():
    torch = pytest.importorskip("torch")
    wan = torch.randn(1, 16, 3, 8, 10)  # B×C×F×H×W
    cog = torch.randn(1, 3, 16, 8, 10)  # B×F×C×H×W
    for lat in (wan, cog):
        img = latent_preview(lat)
        assert img.shape == (64, 80, 3) and img.dtype == np.uint8 and img.min() == 0 and img.max() == 255
    assert latent_preview(torch.randn(1, 40, 128)) is None  # LTX packs its latents into tokens
    assert latent_preview(None) is None


@pytest.mark.slow
def test_a_hub_model_previews_each_denoising_step(tmp_path: Path):
    folder = save_tiny("wan", tmp_path / "wan")
    got: list[tuple[int, tuple]] = []
    req = GenerationRequest(prompt="a red ball", engine=str(folder),
                            options={"steps": 3, "guidance": 1.0, "size": [64, 64], "num_frames": 5})
    try:
        create_clip(req, tmp_path / "clip.mp4", preview=lambda i, img: got.append((i, img.shape)))
    finally:
        loading.release_resident()
    assert [i for i, _ in got] == [0, 1, 2]
    assert all(len(shape) == 3 and shape[2] == 3 for _, shape in got)
