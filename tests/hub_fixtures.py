"""Tiny random-weight diffusers pipelines of every registry family, built offline from configs.

Shapes follow diffusers' own fast tests (tests/pipelines/{ltx2,wan,ltx,cogvideo}); the tokenizers those
tests download (`hf-internal-testing/tiny-random-t5`, `tiny-gemma3`) are replaced by a word-level tokenizer
and randomly initialised encoders built here, so nothing touches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

# LTX2Vocoder's class defaults, which diffusers' conversion script uses for the released LTX-2 vocoder.
RELEASED_VOCODER = {"upsample_kernel_sizes": (16, 15, 8, 4, 4), "upsample_factors": (6, 5, 2, 2, 2),
                    "output_sampling_rate": 24000}

WORDS = ("a the red blue ball bouncing on wooden floor robot dancing cat dog sky walks street shot one two "
         "three and of in with slowly camera").split()


def tiny_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "<bos>": 3}
    for w in WORDS:
        vocab.setdefault(w, len(vocab))
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   bos_token="<bos>", model_max_length=64)


def tiny_t5() -> Any:
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    return T5EncoderModel(T5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                                   relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1))


def tiny_gemma3() -> Any:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    torch.manual_seed(0)
    cfg = Gemma3Config(
        text_config=dict(vocab_size=64, hidden_size=32, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=1, head_dim=8, max_position_embeddings=256,
                         sliding_window=16),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=16, patch_size=8),
        mm_tokens_per_image=4,
    )
    return Gemma3ForConditionalGeneration(cfg)


def build_ltx2() -> Any:
    from diffusers import (AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, FlowMatchEulerDiscreteScheduler,
                           LTX2Pipeline, LTX2VideoTransformer3DModel)
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    text_encoder = tiny_gemma3()
    tcfg = text_encoder.config.text_config
    torch.manual_seed(0)
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=tcfg.hidden_size, rope_double_precision=False, rope_type="split")
    torch.manual_seed(0)
    connectors = LTX2TextConnectors(
        caption_channels=tcfg.hidden_size, text_proj_in_factor=tcfg.num_hidden_layers + 1,
        video_connector_num_attention_heads=4, video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatiotemporal",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    torch.manual_seed(0)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    torch.manual_seed(0)
    # The released vocoder's upsampling (6·5·2·2·2 = 240 samples per mel frame; 16 kHz / hop 160 = 100 mel
    # frames/s → 24 kHz), so the tiny model makes as much audio per second of video as the real one.
    vocoder = LTX2Vocoder(
        in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins, hidden_channels=64,
        out_channels=2, upsample_kernel_sizes=list(RELEASED_VOCODER["upsample_kernel_sizes"]),
        upsample_factors=list(RELEASED_VOCODER["upsample_factors"]), resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]], leaky_relu_negative_slope=0.1,
        output_sampling_rate=RELEASED_VOCODER["output_sampling_rate"])
    return LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae,
                        text_encoder=text_encoder, tokenizer=tiny_tokenizer(), connectors=connectors,
                        transformer=transformer, vocoder=vocoder)


def _wan_transformer(in_channels: int, out_channels: int) -> Any:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    return WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                 in_channels=in_channels, out_channels=out_channels, text_dim=32, freq_dim=256,
                                 ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                                 rope_max_seq_len=32)


def build_wan() -> Any:
    """Wan 2.1-shaped text-to-video (its weights also serve video-to-video)."""
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    return WanPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), transformer=_wan_transformer(16, 16),
                       transformer_2=None)


def build_wan22_ti2v() -> Any:
    """Wan 2.2 TI2V-5B-shaped (48-channel VAE, expand_timesteps): one checkpoint for text and image to video."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
                           latents_mean=[0.0] * 48, latents_std=[1.0] * 48, dim_mult=[1, 1, 1, 1],
                           num_res_blocks=1, scale_factor_spatial=16, scale_factor_temporal=4,
                           temperal_downsample=[False, True, True])
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    return WanPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae, scheduler=scheduler,
                       transformer=_wan_transformer(48, 48), transformer_2=None, expand_timesteps=True)


def build_ltx_video() -> Any:
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                        num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                        num_layers=1, caption_channels=32)
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(  # decoder mirrors the encoder, so frames and pixels come back 1:1
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, False, False), decoder_spatio_temporal_scaling=(True, True, False, False),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, patch_size=1, patch_size_t=1, encoder_causal=True,
        decoder_causal=False)
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=tiny_t5(),
                       tokenizer=tiny_tokenizer(), transformer=transformer)


def _cog_vae() -> Any:
    from diffusers import AutoencoderKLCogVideoX

    torch.manual_seed(0)
    return AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)


def build_cogvideox() -> Any:
    from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel, DDIMScheduler

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=8, sample_height=8, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16)  # trained size 8 latents × 8 = 64 px
    return CogVideoXPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=_cog_vae(),
                             transformer=transformer, scheduler=DDIMScheduler())


def build_cogvideox_i2v() -> Any:
    from diffusers import CogVideoXImageToVideoPipeline, CogVideoXTransformer3DModel, DDIMScheduler

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=8, sample_height=8, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True)
    return CogVideoXImageToVideoPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=_cog_vae(),
                                         transformer=transformer, scheduler=DDIMScheduler())


BUILDERS: dict[str, Callable[[], Any]] = {
    "ltx2": build_ltx2,
    "wan": build_wan,
    "wan2.2-ti2v": build_wan22_ti2v,
    "ltx-video": build_ltx_video,
    "cogvideox": build_cogvideox,
    "cogvideox-i2v": build_cogvideox_i2v,
}


def save_tiny(name: str, folder: Path) -> Path:
    """Build the tiny pipeline `name` and save it as a diffusers folder (what `hf download` gives)."""
    BUILDERS[name]().save_pretrained(folder)
    return folder


class TinyFolders(dict):
    """name → a saved tiny pipeline folder under `root`, built the first time a test asks for it."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> Path:
        self[name] = save_tiny(name, self.root / name)
        return self[name]
