"""Synchformer (Iashin et al., ICASSP 2024): the audio–visual offset classifier behind the "DeSync" metric.

Written out as plain torch modules so the weights of the published checkpoint load with
`load_state_dict(strict=True)`: every attribute name below is a key prefix in that file. The layout was
derived from `v-iashin/Synchformer` (`model/sync_model.py`, `model/modules/transformer.py`,
`feat_extractors/visual/motionformer.py` + `motionformer_src/{video_model_builder,vit_helper}.py`,
`feat_extractors/audio/ast.py` + `hf_src/modeling_ast.py`, `configs/sync.yaml`) and checked against
`hkchengrex/av-benchmark`'s strict loader of `synchformer_state_dict.pth` (the file MMAudio hosts).

    video (B, S, 16, 3, 224, 224) ─► vfeat_extractor (Motionformer) ─► (B, S, 8, 768) ─► vproj ─┐
    mel   (B, S, 128, 66)         ─► afeat_extractor (AST)         ─► (B, S, 6, 768) ─► aproj ─┤
        transformer: [OFF] v… [MOD] a… + pos ─► 3 blocks ─► off_head(OFF token) ─► 21 logits ◄──┘

- Motionformer: ViT-B/16 on 2-frame tubelets (Conv3d 2×16×16), 8 × 14 × 14 tokens per 16-frame segment,
  *divided* space–time attention (time first, then space; the CLS token attends to everything), then per
  time step a `TransformerEncoderLayer` with its own CLS token pools the 14 × 14 patches (pre-norm, GELU).
- AST: the Audio Spectrogram Transformer (16 × 16 patches, stride 10, CLS + distillation token) with the
  key names of transformers 4.27 (`encoder.layer.N.attention.attention.query` …), which the checkpoint
  carries. transformers 5 renames these keys (`layers.N.attention.q_proj` …) and maps them only inside
  `from_pretrained`, so the encoder is written here; `tests/test_metric_av_sync_learned.py` checks it
  against `transformers.ASTModel` on the same weights. A `TransformerEncoderLayer` pools the 12 frequency
  patches per time step, giving 6 tokens per 0.64 s segment.
- Global transformer: minGPT blocks over [OFF, 14·8 visual, MOD, 14·6 audio] = 198 tokens, a learned
  positional embedding, and a 21-way head over offsets −2.0 … +2.0 s in 0.2 s steps.
  **Synchformer's class sign: positive = the audio is *early*** (in training the audio crop starts
  `offset` seconds after the video crop, `dataset/transforms.py::TemporalCropAndOffset`). The metric in
  `eval.metrics.av_sync_learned` flips it to sora-lite's convention (positive = audio late).

Weights are never downloaded: `load_synchformer` reads a local file or the local Hugging Face cache and
raises `MetricSkipped` (with the exact command to fetch the file) when neither has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from eval.metrics.errors import MetricSkipped

DEFAULT_REPO = "hkchengrex/MMAudio"
DEFAULT_FILENAME = "ext_weights/synchformer_state_dict.pth"
DEFAULT_SYNCHFORMER = f"{DEFAULT_REPO}/{DEFAULT_FILENAME}"
ORIGINAL_CHECKPOINT_URL = ("https://a3s.fi/swift/v1/AUTH_a235c0f452d648828f745589cde1219a/sync/sync_models/"
                           "24-01-04T16-39-21/24-01-04T16-39-21.pt")


@dataclass(frozen=True)
class SynchformerConfig:
    """Sizes of the model; the defaults are the published checkpoint's (`configs/sync.yaml`)."""

    image_size: int = 224
    patch_size: int = 16
    tubelet_frames: int = 2  # Motionformer's PATCH_SIZE_TEMP
    segment_frames: int = 16
    video_dim: int = 768
    video_depth: int = 12
    video_heads: int = 12
    mlp_ratio: int = 4
    num_mel_bins: int = 128
    spec_frames: int = 66  # AST `max_spec_t`: 0.64 s of 10 ms hops, padded by one frame
    audio_patch: int = 16
    audio_stride: int = 10
    audio_dim: int = 768
    audio_depth: int = 12
    audio_heads: int = 12
    audio_intermediate: int = 3072
    audio_layer_norm_eps: float = 1e-12  # ASTConfig default
    dim: int = 768  # global transformer width
    global_layers: int = 3
    global_heads: int = 8
    segments: int = 14  # per window: 14 half-overlapping 0.64 s segments = 4.8 s
    num_offsets: int = 21
    max_offset_s: float = 2.0

    @property
    def patches_per_side(self) -> int:
        return self.image_size // self.patch_size

    @property
    def video_tokens_per_segment(self) -> int:
        return self.segment_frames // self.tubelet_frames

    @property
    def audio_grid(self) -> tuple[int, int]:
        """(frequency patches, time patches) of one segment's spectrogram."""
        f = (self.num_mel_bins - self.audio_patch) // self.audio_stride + 1
        t = (self.spec_frames - self.audio_patch) // self.audio_stride + 1
        return f, t

    @property
    def sequence_length(self) -> int:
        """Tokens in the global transformer: OFF + visual + MOD + audio."""
        return 2 + self.segments * (self.video_tokens_per_segment + self.audio_grid[1])

    @classmethod
    def tiny(cls) -> SynchformerConfig:
        """A few-thousand-parameter model with the real token layout (for tests)."""
        return cls(image_size=32, video_dim=32, video_depth=2, video_heads=2, audio_dim=32, audio_depth=2,
                   audio_heads=2, audio_intermediate=64, dim=32, global_layers=2, global_heads=2)


def _encoder_layer(dim: int, heads: int, feedforward: int) -> dict[str, Any]:
    """Keyword arguments of the CLS-pooling layers, as Synchformer builds them (pre-norm, GELU, eps 1e-6)."""
    return {"d_model": dim, "nhead": heads, "dim_feedforward": feedforward, "dropout": 0.0,
            "activation": nn.GELU(), "batch_first": True, "layer_norm_eps": 1e-6, "norm_first": True}


class CLSPoolingLayer(nn.TransformerEncoderLayer):
    """One pre-norm encoder layer over [CLS, tokens…]; returns the CLS output (Synchformer's BaseEncoderLayer)."""

    def __init__(self, dim: int, heads: int, feedforward: int) -> None:
        super().__init__(**_encoder_layer(dim, heads, feedforward))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """x: (N, L, D) → (N, D)."""
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        return super().forward(x)[:, 0]


# --- visual: Motionformer ---------------------------------------------------------------------------------

class PatchEmbedding(nn.Module):
    """A strided convolution whose output cells become tokens (flattened in the conv's own order)."""

    def __init__(self, proj: nn.Module) -> None:
        super().__init__()
        self.proj = proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class DividedAttention(nn.Module):
    """Attention within groups of patch tokens (same position across frames, or same frame); the CLS token
    attends to all tokens, and every group also sees the CLS key/value (Motionformer's `DividedAttention`)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, frames: int, over_time: bool) -> torch.Tensor:
        """x: (B, 1 + frames·patches, D), patches frame-major. over_time: group by position, else by frame."""
        b, length, dim = x.shape
        patches = (length - 1) // frames
        q, k, v = (t.view(b, length, self.heads, dim // self.heads).transpose(1, 2) for t in self.qkv(x).chunk(3, -1))
        cls_out = F.scaled_dot_product_attention(q[:, :, :1], k, v)  # (B, H, 1, d)

        def grouped(t: torch.Tensor) -> torch.Tensor:  # (B, H, F·N, d) → (B, H, groups, group_len, d)
            t = t[:, :, 1:].unflatten(2, (frames, patches))
            return t.transpose(2, 3) if over_time else t

        qg, kg, vg = grouped(q), grouped(k), grouped(v)
        groups = qg.shape[2]
        cls_k = k[:, :, :1].unsqueeze(2).expand(-1, -1, groups, -1, -1)
        cls_v = v[:, :, :1].unsqueeze(2).expand(-1, -1, groups, -1, -1)
        out = F.scaled_dot_product_attention(qg, torch.cat([cls_k, kg], 3), torch.cat([cls_v, vg], 3))
        if over_time:
            out = out.transpose(2, 3)
        out = torch.cat([cls_out, out.flatten(2, 3)], dim=2)  # (B, H, 1 + F·N, d)
        return self.proj(out.transpose(1, 2).reshape(b, length, dim))


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class DividedSpaceTimeBlock(nn.Module):
    """Time attention (norm3), then space attention (norm1), then the MLP (norm2), each residual."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = DividedAttention(dim, heads)
        self.timeattn = DividedAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim, dim * mlp_ratio)
        self.norm3 = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        x = x + self.timeattn(self.norm3(x), frames, over_time=True)
        x = x + self.attn(self.norm1(x), frames, over_time=False)
        return x + self.mlp(self.norm2(x))


class MotionformerEncoder(nn.Module):
    """16 RGB frames → one feature per tubelet time step (8 × D), spatially pooled by attention."""

    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        c = config
        dim, p = c.video_dim, c.patch_size
        self.config = config
        # The 2-D patch embedding is unused at 2-frame tubelets but is in the checkpoint, so it stays.
        self.patch_embed = PatchEmbedding(nn.Conv2d(3, dim, kernel_size=p, stride=p))
        self.patch_embed_3d = PatchEmbedding(nn.Conv3d(3, dim, kernel_size=(c.tubelet_frames, p, p),
                                                       stride=(c.tubelet_frames, p, p)))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, c.patches_per_side**2 + 1, dim))
        self.temp_embed = nn.Parameter(torch.zeros(1, c.video_tokens_per_segment, dim))
        self.blocks = nn.ModuleList(DividedSpaceTimeBlock(dim, c.video_heads, c.mlp_ratio)
                                    for _ in range(c.video_depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.spatial_attn_agg = CLSPoolingLayer(dim, c.video_heads, dim * c.mlp_ratio)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """video: (N, 3, frames, H, W), normalised to [-1, 1] → (N, frames / tubelet, D)."""
        n = video.shape[0]
        x = self.patch_embed_3d(video)  # (N, t·h·w, D), time-major
        times = self.config.video_tokens_per_segment
        patches = x.shape[1] // times
        if x.shape[1] != times * patches or patches != self.pos_embed.shape[1] - 1:
            raise ValueError(f"Motionformer expects {self.config.segment_frames} frames of "
                             f"{self.config.image_size}² px, got {tuple(video.shape[2:])}")
        x = torch.cat([self.cls_token.expand(n, -1, -1), x], dim=1)
        space = self.pos_embed[:, 1:].repeat(1, times, 1)  # the same spatial table for every time step
        time = self.temp_embed.repeat_interleave(patches, dim=1)
        x = x + torch.cat([self.pos_embed[:, :1], space + time], dim=1)
        for block in self.blocks:
            x = block(x, frames=times)
        x = self.norm(x[:, 1:])  # the ViT's CLS token is not used for features
        x = x.view(n * times, patches, -1)
        return self.spatial_attn_agg(x).view(n, times, -1)


# --- audio: AST -------------------------------------------------------------------------------------------

class ASTEmbeddings(nn.Module):
    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        dim = config.audio_dim
        f, t = config.audio_grid
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.distillation_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.patch_embeddings = nn.Module()
        self.patch_embeddings.projection = nn.Conv2d(1, dim, kernel_size=config.audio_patch, stride=config.audio_stride)
        self.position_embeddings = nn.Parameter(torch.zeros(1, f * t + 2, dim))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (N, frequency, time) → (N, 2 + f·t, D), patches frequency-major (as the conv lays them out)."""
        n = mel.shape[0]
        x = self.patch_embeddings.projection(mel.unsqueeze(1)).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(n, -1, -1), self.distillation_token.expand(n, -1, -1), x], dim=1)
        return x + self.position_embeddings


class Dense(nn.Module):
    """A container holding one Linear named `dense` (the transformers-4 key layout)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(x)


class ASTSelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(dim, dim)
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, dim = x.shape
        q, k, v = (p(x).view(b, length, self.heads, dim // self.heads).transpose(1, 2)
                   for p in (self.query, self.key, self.value))
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, length, dim)


class ASTAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attention = ASTSelfAttention(dim, heads)
        self.output = Dense(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.attention(x))


class ASTLayer(nn.Module):
    """Pre-norm ViT layer: x + attn(LN(x)), then x + fc2(gelu(fc1(LN(x))))."""

    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        dim, eps = config.audio_dim, config.audio_layer_norm_eps
        self.attention = ASTAttention(dim, config.audio_heads)
        self.intermediate = Dense(dim, config.audio_intermediate)
        self.output = Dense(config.audio_intermediate, dim)
        self.layernorm_before = nn.LayerNorm(dim, eps=eps)
        self.layernorm_after = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.layernorm_before(x))
        return x + self.output(F.gelu(self.intermediate(self.layernorm_after(x))))


class ASTBackbone(nn.Module):
    """transformers' `ASTModel` (v4 key names), returning the last hidden state."""

    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        self.embeddings = ASTEmbeddings(config)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(ASTLayer(config) for _ in range(config.audio_depth))
        self.layernorm = nn.LayerNorm(config.audio_dim, eps=config.audio_layer_norm_eps)

    def forward(self, mel_time_major: torch.Tensor) -> torch.Tensor:
        """mel_time_major: (N, time, frequency), AST's `input_values` layout → (N, 2 + f·t, D)."""
        x = self.embeddings(mel_time_major.transpose(1, 2))
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x)


class ASTEncoder(nn.Module):
    """One segment's log-mel (frequency × 66 frames) → 6 time tokens (D), frequency pooled by attention."""

    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        self.config = config
        self.ast = ASTBackbone(config)
        self.freq_attn_agg = CLSPoolingLayer(config.audio_dim, config.audio_heads, config.audio_intermediate)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (N, frequency, time) → (N, time patches, D)."""
        c = self.config
        if tuple(mel.shape[1:]) != (c.num_mel_bins, c.spec_frames):
            raise ValueError(f"AST expects {c.num_mel_bins} mel bins × {c.spec_frames} frames, "
                             f"got {tuple(mel.shape[1:])}")
        n = mel.shape[0]
        f, t = c.audio_grid
        x = self.ast(mel.transpose(1, 2))[:, 2:]  # drop CLS and distillation tokens
        x = x.view(n, f, t, -1).transpose(1, 2).reshape(n * t, f, -1)  # one sequence over frequency per time step
        return self.freq_attn_agg(x).view(n, t, -1)


# --- global transformer ----------------------------------------------------------------------------------

class SelfAttention(nn.Module):
    """minGPT's attention with separate key / query / value projections (Synchformer's names)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.key = nn.Linear(dim, dim)
        self.query = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, length, dim = x.shape
        q, k, v = (p(x).view(b, length, self.heads, dim // self.heads).transpose(1, 2)
                   for p in (self.query, self.key, self.value))
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, length, dim))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.ln2 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        # Indices 0 and 2 are the checkpoint's `mlp.0` / `mlp.2`; the trailing dropout is identity at test time.
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class PositionalEmbedding(nn.Module):
    """A learned table added to the whole sequence (Synchformer's `RandInitPositionalEncoding`)."""

    def __init__(self, length: int, dim: int) -> None:
        super().__init__()
        self.pos_emb = nn.Parameter(torch.zeros(1, length, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pos_emb


class GlobalTransformer(nn.Module):
    """[OFF, visual…, MOD, audio…] → offset logits read from the OFF token."""

    def __init__(self, config: SynchformerConfig) -> None:
        super().__init__()
        dim = config.dim
        self.vis_in_lnorm = nn.LayerNorm(dim)
        self.aud_in_lnorm = nn.LayerNorm(dim)
        self.OFF_tok = nn.Parameter(torch.zeros(1, 1, dim))
        self.MOD_tok = nn.Parameter(torch.zeros(1, 1, dim))
        # "_cfg" is the checkpoint's name for this module (`transformer.pos_emb_cfg.pos_emb`).
        self.pos_emb_cfg = PositionalEmbedding(config.sequence_length, dim)
        self.blocks = nn.Sequential(*(Block(dim, config.global_heads) for _ in range(config.global_layers)))
        self.ln_f = nn.LayerNorm(dim)
        self.off_head = nn.Linear(dim, config.num_offsets)

    def forward(self, visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        b = visual.shape[0]
        x = torch.cat([self.OFF_tok.expand(b, -1, -1), self.vis_in_lnorm(visual),
                       self.MOD_tok.expand(b, -1, -1), self.aud_in_lnorm(audio)], dim=1)
        if x.shape[1] != self.pos_emb_cfg.pos_emb.shape[1]:
            raise ValueError(f"the global transformer takes {self.pos_emb_cfg.pos_emb.shape[1]} tokens "
                             f"(a window of fixed length), got {x.shape[1]}")
        x = self.ln_f(self.blocks(self.pos_emb_cfg(x)))
        return self.off_head(x[:, 0])


class SynchformerModel(nn.Module):
    """The whole classifier; `forward(video, mel)` gives the 21 offset logits of each window."""

    def __init__(self, config: SynchformerConfig | None = None) -> None:
        super().__init__()
        self.config = config or SynchformerConfig()
        c = self.config
        self.vfeat_extractor = MotionformerEncoder(c)
        self.afeat_extractor = ASTEncoder(c)
        self.vproj = nn.Linear(c.video_dim, c.dim)
        self.aproj = nn.Linear(c.audio_dim, c.dim)
        self.transformer = GlobalTransformer(c)

    def extract_vfeats(self, video: torch.Tensor) -> torch.Tensor:
        """video: (B, S, frames, 3, H, W) in [-1, 1] → (B, S, 8, D_video); segments are independent."""
        b, s = video.shape[:2]
        x = video.flatten(0, 1).permute(0, 2, 1, 3, 4)  # (B·S, 3, frames, H, W)
        return self.vfeat_extractor(x).unflatten(0, (b, s))

    def extract_afeats(self, mel: torch.Tensor) -> torch.Tensor:
        """mel: (B, S, 128, 66) normalised log-mel → (B, S, 6, D_audio)."""
        b, s = mel.shape[:2]
        return self.afeat_extractor(mel.flatten(0, 1)).unflatten(0, (b, s))

    def compare_v_a(self, vfeats: torch.Tensor, afeats: torch.Tensor) -> torch.Tensor:
        """Segment features of one window each → (B, 21) logits."""
        v = self.vproj(vfeats).flatten(1, 2)
        a = self.aproj(afeats).flatten(1, 2)
        return self.transformer(v, a)

    def forward(self, video: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
        return self.compare_v_a(self.extract_vfeats(video), self.extract_afeats(mel))


def expected_state_shapes(config: SynchformerConfig | None = None) -> dict[str, tuple[int, ...]]:
    """Every checkpoint key and its shape, from a model built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        model = SynchformerModel(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


# --- loading ---------------------------------------------------------------------------------------------

class CheckpointMismatch(MetricSkipped):
    """The file was found but is not a Synchformer state dict of this shape (the metric cannot run)."""


def _how_to_get(path_or_id: str) -> str:
    fetch = (f"run `hf download {DEFAULT_REPO} {DEFAULT_FILENAME}` on a machine with network and copy the cache "
             "into $HF_HOME (default ~/.cache/huggingface), or download "
             f"https://huggingface.co/{DEFAULT_REPO}/resolve/main/{DEFAULT_FILENAME} (or the original "
             f"{ORIGINAL_CHECKPOINT_URL}) and pass its path")
    if path_or_id == DEFAULT_SYNCHFORMER:
        return fetch
    return f"check the path or Hub id '{path_or_id}'; for the default weights, {fetch}"


def _hub_parts(path_or_id: str) -> tuple[str, str] | None:
    """'owner/repo' (default filename) or 'owner/repo/path/in/repo.pth' → (repo_id, filename)."""
    if path_or_id.startswith((".", "/", "~")) or "\\" in path_or_id:
        return None
    parts = path_or_id.split("/")
    if len(parts) == 2:
        return path_or_id, DEFAULT_FILENAME
    if len(parts) > 2:
        return "/".join(parts[:2]), "/".join(parts[2:])
    return None


def resolve_checkpoint(path_or_id: str = DEFAULT_SYNCHFORMER) -> Path:
    """A local file, or the file's copy in the local Hugging Face cache; MetricSkipped otherwise (no network)."""
    local = Path(path_or_id).expanduser()
    if local.is_file():
        return local
    if local.is_dir():  # an MMAudio / av-benchmark checkout or a weights folder
        for inside in (Path(DEFAULT_FILENAME).name, DEFAULT_FILENAME):
            if (local / inside).is_file():
                return local / inside
    hub = _hub_parts(path_or_id)
    if hub is not None:
        from huggingface_hub import try_to_load_from_cache

        try:
            cached = try_to_load_from_cache(*hub)
        except ValueError:  # not a valid repo id: fall through to "not found"
            cached = None
        if isinstance(cached, str) and Path(cached).is_file():
            return Path(cached)
    raise MetricSkipped(f"Synchformer weights '{path_or_id}' are not on this machine (no local file, not in the "
                        "Hugging Face cache; nothing is downloaded)", _how_to_get(path_or_id))


def _state_dict_of(obj: Any, source: Path) -> dict[str, torch.Tensor]:
    """The tensors of a plain state dict or of a training checkpoint's `model` entry."""
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointMismatch(f"'{source}' holds no state dict of tensors",
                                 "pass synchformer_state_dict.pth or the original 24-01-04T16-39-21.pt")
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):  # saved from DistributedDataParallel
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _check_fits(state: Mapping[str, torch.Tensor], expected: Mapping[str, tuple[int, ...]], source: Path) -> None:
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshapen = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if not (missing or unexpected or misshapen):
        return
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected)):
        if keys:
            parts.append(f"{len(keys)} {label} keys (e.g. {', '.join(keys[:4])})")
    if misshapen:
        shown = ", ".join(f"{k} {tuple(state[k].shape)} ≠ {expected[k]}" for k in misshapen[:3])
        parts.append(f"{len(misshapen)} keys of another shape (e.g. {shown})")
    raise CheckpointMismatch(f"'{source}' is not a Synchformer checkpoint of this size: " + "; ".join(parts),
                             "pass synchformer_state_dict.pth (MMAudio / av-benchmark) or the original "
                             "24-01-04T16-39-21.pt, and the matching SynchformerConfig")


def load_synchformer(path_or_id: str = DEFAULT_SYNCHFORMER, device: str | torch.device = "cpu",
                     config: SynchformerConfig | None = None, dtype: torch.dtype = torch.float32) -> SynchformerModel:
    """Load Synchformer from a local `.pth`/`.pt` or the local HF cache, strictly; never downloads.

    `dtype`: the weights' precision (float32 as the reference; bfloat16 is faster on GPUs, see eval.precision).

    Missing → `MetricSkipped` with the command to fetch it; a file that is not a fitting state dict →
    `CheckpointMismatch` (a `MetricSkipped`) naming a few missing / unexpected / misshapen keys.
    """
    path = resolve_checkpoint(str(path_or_id))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt, truncated, or pickled objects beyond tensors
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointMismatch(
            f"'{path}' could not be read as a tensors-only torch checkpoint ({first})",
            "re-download the file; a training checkpoint with other Python objects can be reduced once, on a "
            "trusted file, with `torch.save(torch.load(p, weights_only=False)['model'], 'synchformer_state_dict.pth')`",
        ) from exc
    config = config or SynchformerConfig()
    state = _state_dict_of(obj, path)
    _check_fits(state, expected_state_shapes(config), path)
    with torch.device("meta"):
        model = SynchformerModel(config)
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device=device, dtype=dtype).eval()


__all__ = [
    "DEFAULT_SYNCHFORMER",
    "CheckpointMismatch",
    "SynchformerConfig",
    "SynchformerModel",
    "expected_state_shapes",
    "load_synchformer",
    "resolve_checkpoint",
]
