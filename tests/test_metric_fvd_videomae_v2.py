"""The VideoMAE-v2 → transformers converter on tiny random weights: cd-FVD's forward_features is reproduced.

`RefViT` re-types VideoMAE-v2's fine-tune VisionTransformer (modeling_finetune.py: PatchEmbed, Attention
with fused qkv and q/v biases, Block, sinusoid table, forward_features with mean pooling + fc_norm), with
the same parameter names, so its random state dict is a checkpoint in VideoMAE-v2's own layout.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from eval.features.videomae import VideoMAEFeatures
from eval.features.videomae_v2 import convert, convert_state_dict
from eval.metrics.errors import MetricInputError


def get_sinusoid_encoding_table(n_position: int, d_hid: int) -> torch.Tensor:
    def get_position_angle_vec(position):
        return [position / np.power(10000, 2 * (hid_j // 2) / d_hid) for hid_j in range(d_hid)]

    sinusoid_table = np.array([get_position_angle_vec(pos_i) for pos_i in range(n_position)])
    sinusoid_table[:, 0::2] = np.sin(sinusoid_table[:, 0::2])
    sinusoid_table[:, 1::2] = np.cos(sinusoid_table[:, 1::2])
    return torch.tensor(sinusoid_table, dtype=torch.float, requires_grad=False).unsqueeze(0)


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.randn(dim) * 0.1)
        self.v_bias = nn.Parameter(torch.randn(dim) * 0.1)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        qkv_bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias, requires_grad=False), self.v_bias))
        qkv = F.linear(input=x, weight=self.qkv.weight, bias=qkv_bias)
        qkv = qkv.reshape(B, N, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, -1)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, norm_layer) -> None:
        super().__init__()
        self.norm1, self.attn = norm_layer(dim), Attention(dim, num_heads)
        self.norm2, self.mlp = norm_layer(dim), Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, patch: int, dim: int, tubelet: int) -> None:
        super().__init__()
        self.proj = nn.Conv3d(3, dim, kernel_size=(tubelet, patch, patch), stride=(tubelet, patch, patch))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class RefViT(nn.Module):
    def __init__(self, img: int = 28, patch: int = 14, dim: int = 24, depth: int = 2, heads: int = 2,
                 mlp_ratio: float = 48 / 11, frames: int = 4, tubelet: int = 2, classes: int = 5) -> None:
        super().__init__()
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.patch_embed = PatchEmbed(patch, dim, tubelet)
        self.pos_embed = get_sinusoid_encoding_table((img // patch) ** 2 * (frames // tubelet), dim)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, norm_layer) for _ in range(depth)])
        self.norm = nn.Identity()
        self.fc_norm = norm_layer(dim)
        self.head = nn.Linear(dim, classes)
        for ln in [self.fc_norm, *[b.norm1 for b in self.blocks], *[b.norm2 for b in self.blocks]]:
            nn.init.normal_(ln.weight, 1.0, 0.2)
            nn.init.normal_(ln.bias, 0.0, 0.2)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        B = x.size(0)
        x = self.patch_embed(x)
        x = x + self.pos_embed.expand(B, -1, -1).type_as(x).to(x.device).clone().detach()
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        return self.fc_norm(x.mean(1))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[RefViT, Path]:
    torch.manual_seed(0)
    ref = RefViT().eval()
    out = convert({"model": ref.state_dict()}, tmp_path_factory.mktemp("v2") / "vit-g-tiny",
                  num_heads=2, image_size=28, num_frames=4)
    return ref, out


def test_converted_videomae_v2_reproduces_forward_features(converted: tuple[RefViT, Path]) -> None:
    ref, folder = converted
    extractor = VideoMAEFeatures.load(folder)
    assert extractor.feature_dim == 24 and extractor.model.fc_norm.eps == 1e-6  # VideoMAE-v2's eps, not 1e-5
    video = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 3), dtype=np.uint8)
    ours = extractor([video])[0]
    x = torch.from_numpy(video).permute(3, 0, 1, 2).float()[None] / 255  # B×C×T×H×W, as VideoMAE-v2 takes it
    with torch.no_grad():
        expected = ref.forward_features(x)[0].double().numpy()
        np.testing.assert_allclose(ours, expected, atol=2e-6, rtol=0)  # fc_norm at eps 1e-5 would be ~1e-5 off
        # The classifier maps too: logits equal head(forward_features).
        logits = extractor.model(pixel_values=x.permute(0, 2, 1, 3, 4)).logits[0]
        torch.testing.assert_close(logits, ref.head(ref.forward_features(x))[0], atol=2e-6, rtol=0)


def test_converter_refuses_layouts_it_cannot_map() -> None:
    torch.manual_seed(1)
    state = RefViT().state_dict()
    with pytest.raises(MetricInputError, match="gamma_1"):
        convert_state_dict({**state, "blocks.0.gamma_1": torch.ones(24)})
    with pytest.raises(MetricInputError, match="pos_embed"):
        convert_state_dict({**state, "pos_embed": torch.zeros(1, 8, 24)})
