"""Convert a VideoMAE-v2 fine-tuned checkpoint (cd-FVD's `vit_g_hybrid_pt_1200e_ssv2_ft.pth`) into the
transformers `VideoMAEForVideoClassification` layout, so `--fvd-protocol cd-fvd --fvd-model <dir>` computes
cd-FVD's own features (VideoMAE-v2 ViT-g/14, 1408-d) through the project's VideoMAE extractor.

    python3 -m eval.features.videomae_v2 vit_g_hybrid_pt_1200e_ssv2_ft.pth out_dir/

The two architectures are the same computation under other names: Conv3d tubelet embedding, fixed
sinusoidal positions, pre-norm blocks with a fused qkv (query and value biases, no key bias), GELU MLP,
mean over tokens then `fc_norm`. Differences handled here: the fused qkv is split into query/key/value;
VideoMAE-v2's LayerNorms use eps 1e-6 while transformers' `fc_norm` is built with its default 1e-5, so the
eps is recorded in the config (`fc_norm_eps`) and the extractor sets it after loading. A checkpoint with
layer scale (`gamma_1`), cosine attention (`scale`) or learnable positions has no transformers
counterpart and is refused, naming the key.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

import torch

from eval.metrics.errors import MetricInputError

VIT_G14 = {"hidden_size": 1408, "num_hidden_layers": 40, "num_attention_heads": 16, "intermediate_size": 6144,
           "patch_size": 14, "image_size": 224, "num_frames": 16, "tubelet_size": 2}
EPS = 1e-6

_BLOCK = {
    "norm1.weight": "layernorm_before.weight", "norm1.bias": "layernorm_before.bias",
    "attn.proj.weight": "attention.output.dense.weight", "attn.proj.bias": "attention.output.dense.bias",
    "attn.q_bias": "attention.attention.query.bias", "attn.v_bias": "attention.attention.value.bias",
    "norm2.weight": "layernorm_after.weight", "norm2.bias": "layernorm_after.bias",
    "mlp.fc1.weight": "intermediate.dense.weight", "mlp.fc1.bias": "intermediate.dense.bias",
    "mlp.fc2.weight": "output.dense.weight", "mlp.fc2.bias": "output.dense.bias",
}
_TOP = {
    "patch_embed.proj.weight": "videomae.embeddings.patch_embeddings.projection.weight",
    "patch_embed.proj.bias": "videomae.embeddings.patch_embeddings.projection.bias",
    "fc_norm.weight": "fc_norm.weight", "fc_norm.bias": "fc_norm.bias",
    "head.weight": "classifier.weight", "head.bias": "classifier.bias",
}


def unwrap(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """cd-FVD's loader: the weights sit under 'model' or 'module' when present."""
    for key in ("model", "module"):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


def convert_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """VideoMAE-v2 names → transformers VideoMAEForVideoClassification names (qkv split in three)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key in _TOP:
            out[_TOP[key]] = value
            continue
        m = re.fullmatch(r"blocks\.(\d+)\.(.+)", key)
        if not m:
            raise MetricInputError(f"VideoMAE-v2 key {key!r} has no transformers counterpart (learnable pos_embed?)")
        layer, rest = m.groups()
        prefix = f"videomae.encoder.layer.{layer}."
        if rest == "attn.qkv.weight":
            q, k, v = value.chunk(3, dim=0)
            out[prefix + "attention.attention.query.weight"] = q
            out[prefix + "attention.attention.key.weight"] = k
            out[prefix + "attention.attention.value.weight"] = v
        elif rest in _BLOCK:
            out[prefix + _BLOCK[rest]] = value
        else:
            raise MetricInputError(f"VideoMAE-v2 key {key!r} has no transformers counterpart (layer scale / cosine attention?)")
    return out


def infer_config(state: dict[str, torch.Tensor], num_heads: int | None = None, num_frames: int = 16,
                 image_size: int | None = None) -> dict[str, Any]:
    """Sizes from the weights themselves; the head count is not in the weights (ViT-g/14: 16)."""
    proj = state["patch_embed.proj.weight"]  # D×3×tubelet×p×p
    hidden, _, tubelet, patch, _ = proj.shape
    layers = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    return {
        "hidden_size": int(hidden), "num_hidden_layers": layers, "patch_size": int(patch), "tubelet_size": int(tubelet),
        "num_attention_heads": num_heads or (16 if hidden == 1408 else max(1, hidden // 64)),
        "intermediate_size": int(state["blocks.0.mlp.fc1.weight"].shape[0]),
        "num_frames": num_frames, "image_size": image_size or (224 if patch in (14, 16) else patch * 2),
        "num_labels": int(state["head.weight"].shape[0]) if "head.weight" in state else 1,
    }


def convert(checkpoint: str | os.PathLike[str] | dict[str, Any], out_dir: str | os.PathLike[str],
            num_heads: int | None = None, image_size: int | None = None, num_frames: int = 16) -> Path:
    """Write a transformers folder (config + safetensors) that VideoMAEFeatures.load(out_dir) reads."""
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    raw = checkpoint if isinstance(checkpoint, dict) else torch.load(str(checkpoint), map_location="cpu", weights_only=False)
    state = unwrap(raw)
    if "fc_norm.weight" not in state:
        raise MetricInputError("not a mean-pooled VideoMAE-v2 fine-tuned checkpoint (no fc_norm): cd-FVD uses one")
    sizes = infer_config(state, num_heads=num_heads, num_frames=num_frames, image_size=image_size)
    config = VideoMAEConfig(**sizes, qkv_bias=True, use_mean_pooling=True, layer_norm_eps=EPS, hidden_act="gelu")
    config.fc_norm_eps = EPS  # VideoMAE-v2's fc_norm eps; transformers builds fc_norm with 1e-5
    config.converted_from = "VideoMAE-v2 (cd-FVD)"
    model = VideoMAEForVideoClassification(config)
    missing, unexpected = model.load_state_dict(convert_state_dict(state), strict=False)
    if unexpected or [k for k in missing if "position_embeddings" not in k]:
        raise MetricInputError(f"conversion left keys unmatched: missing {missing}, unexpected {unexpected}")
    out = Path(out_dir)
    model.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--num-heads", type=int, default=None, help="attention heads (default 16 for ViT-g/14)")
    args = ap.parse_args(argv)
    print(convert(args.checkpoint, args.out_dir, num_heads=args.num_heads))


if __name__ == "__main__":
    main()
