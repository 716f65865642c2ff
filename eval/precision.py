"""Numeric precision of the learned metrics' forward passes (CLIP, VideoMAE, the VLM judge, the sync model).

`fp32` (the default) computes as the reference tools do, so scores match torchmetrics' CLIPScore and cd-FVD
to float tolerance and rows from different machines can share a leaderboard. `bf16` runs the networks'
weights and activations in bfloat16: on GPUs and on CPUs with AMX (Xeon Sapphire Rapids and later) this
is 3–5× faster, and it moves scores slightly (measured in bench/eval.py: CLIPScore by about 0.01–0.05
points, per-video features by ~0.3 % relative). A run records its precision in `run.json` and in the
leaderboard's `settings` column, and will not resume a folder scored at another precision.
The TorchScript I3D detector (StyleGAN-V's FVD) always runs in fp32: its protocol fixes it. The VLM judge
under `fp32` keeps its own default (bf16 on a GPU, the precision those models ship in; fp32 on a CPU).
"""

from __future__ import annotations

import torch

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16}


def model_dtype(precision: str) -> torch.dtype:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}") from None
