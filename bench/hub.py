"""Per-step denoising time and peak memory of each Hub family's transformer at its published architecture.

No checkpoint can be downloaded here, so each family's denoiser is instantiated with random weights from its
published `transformer/config.json` (values below, from the Hub repos' configs and diffusers' conversion
scripts). The text encoder is bypassed (random `prompt_embeds` of the published width), the VAE is a
few-channel stand-in with the real compression ratios (so latent token counts are real), and the pipeline
runs with `output_type="latent"`, so what is timed is the family's real denoising loop.

    python bench/hub.py                      # CPU: depth cut to --layers, reduced size
    python bench/hub.py --full               # GPU: full depth, the family's default size, ± offload

Each case runs at the family's recommended guidance (`families.Settings`: CFG, and for LTX-2.0 STG on its
block and modality guidance, i.e. 4 transformer passes per step) and once at guidance 1.0 (one pass); the
ratio is the measured passes per step, which `loading.estimate_seconds` (the `spaces.GPU` duration) uses as
`Family.passes_per_step`. On a cut-down CPU model STG's block index is clamped to the last kept block.

On CPU the per-step time is measured at `--layers` blocks and also scaled linearly to the published depth
(blocks dominate the cost). Memory: peak CUDA allocation on GPU; on CPU the process's peak RSS growth.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hub_fixtures import tiny_gemma3, tiny_t5, tiny_tokenizer  # noqa: E402
from sora_lite.engines.hub.families import family_named  # noqa: E402
from sora_lite.engines.hub.loading import estimate_seconds  # noqa: E402

# Published transformer configs (only the keys that differ from the diffusers class defaults).
WAN_1_3B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
WAN22_5B = dict(WAN_1_3B, num_attention_heads=24, ffn_dim=14336, in_channels=48, out_channels=48)
LTX_VIDEO_2B = dict(in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32,
                    attention_head_dim=64, cross_attention_dim=2048, num_layers=28, caption_channels=4096,
                    qk_norm="rms_norm_across_heads")
COGVIDEOX_5B = dict(num_attention_heads=48, attention_head_dim=64, in_channels=16, out_channels=16,
                    time_embed_dim=512, text_embed_dim=4096, num_layers=42, sample_width=90, sample_height=60,
                    sample_frames=49, patch_size=2, temporal_compression_ratio=4, max_text_seq_length=226,
                    use_rotary_positional_embeddings=True)
LTX2_19B: dict[str, Any] = {}  # LTX2VideoTransformer3DModel's defaults are the released LTX-2 configuration

# Where each denoiser config comes from, printed under the table. "verified": every value above was compared
# with a published source (found with a code search; no Hub config.json could be fetched here); "estimated":
# not checked against one. The stand-in VAEs and text encoders are never the real ones (see the module docstring).
CONFIG_CHECKS: dict[str, tuple[str, str]] = {
    "wan": ("verified", "Wan team config wan_t2v_1_3B (dim 1536 = 12×128 heads, ffn 8960, 30 layers, freq 256, "
                        "qk/cross-attn norm, eps 1e-6); text_dim 4096 = umT5-XXL; rope_max_seq_len is the "
                        "diffusers default (estimated)"),
    "wan2.2-ti2v": ("verified", "Wan team config wan_ti2v_5B (dim 3072 = 24×128, ffn 14336, 30 layers, in_dim 48, "
                                "text_dim 4096, VAE stride 4×16×16)"),
    "ltx-video": ("verified", "diffusers scripts/convert_ltx_to_diffusers.py builds LTXVideoTransformer3DModel() "
                              "with its defaults, which equal the values above (128 ch, 32×64 heads, 2048 wide, "
                              "28 layers, caption 4096)"),
    "cogvideox": ("verified", "CogVideoX-5b transformer config as copied in public code (48×64 heads, 42 layers, "
                              "time_embed 512, text 4096, sample 90×60×49, patch 2, RoPE, max text 226)"),
    "ltx2": ("verified", "diffusers scripts/convert_ltx2_to_diffusers.py version 2.0 transformer = the class "
                         "defaults (128 ch, 32×128 video heads, 32×64 audio heads, 48 layers, caption 3840); "
                         "estimated: rope_type (class default; the released connectors use 'split'), the audio "
                         "VAE (class defaults, base_channels 128 = packed audio latent width) and the connectors "
                         "(1 layer, no Gemma stack: they run once per call, not per step)"),
}


@dataclass
class Case:
    family: str
    text_dim: int
    build: Callable[[int], Any]  # num_layers (or 0 for the published depth) → pipeline
    layers: int  # published depth


def _wan(cfg: dict[str, Any], z_dim: int, expand: bool) -> Callable[[int], Any]:
    def build(layers: int) -> Any:
        from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

        extra = dict(in_channels=12, out_channels=12, is_residual=True, patch_size=2, scale_factor_spatial=16,
                     latents_mean=[0.0] * 48, latents_std=[1.0] * 48) if z_dim == 48 else {}
        vae = AutoencoderKLWan(base_dim=3, z_dim=z_dim, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                               temperal_downsample=[False, True, True], **extra)
        tr = WanTransformer3DModel(**{**cfg, "num_layers": layers or cfg["num_layers"]})
        return WanPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae, transformer=tr,
                           scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0), expand_timesteps=expand)
    return build


def _ltx_video(layers: int) -> Any:
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    vae = AutoencoderKLLTXVideo(latent_channels=128, block_out_channels=(8, 8, 8, 8),
                                decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1,) * 5,
                                decoder_layers_per_block=(1,) * 5)
    tr = LTXVideoTransformer3DModel(**{**LTX_VIDEO_2B, "num_layers": layers or LTX_VIDEO_2B["num_layers"]})
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=tiny_t5(),
                       tokenizer=tiny_tokenizer(), transformer=tr)


def _cogvideox(layers: int) -> Any:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    vae = AutoencoderKLCogVideoX(down_block_types=("CogVideoXDownBlock3D",) * 4,
                                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                 latent_channels=16, layers_per_block=1, norm_num_groups=2)
    tr = CogVideoXTransformer3DModel(**{**COGVIDEOX_5B, "num_layers": layers or COGVIDEOX_5B["num_layers"]})
    return CogVideoXPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae, transformer=tr,
                             scheduler=CogVideoXDDIMScheduler())


def _ltx2(layers: int) -> Any:
    from diffusers import (AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, FlowMatchEulerDiscreteScheduler,
                           LTX2Pipeline, LTX2VideoTransformer3DModel)
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    tr = LTX2VideoTransformer3DModel(**{**LTX2_19B, "num_layers": layers or 48})
    connectors = LTX2TextConnectors(text_proj_in_factor=1, video_connector_num_layers=1,
                                    audio_connector_num_layers=1)
    vae = AutoencoderKLLTX2Video(block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8),
                                 layers_per_block=(1,) * 5, decoder_layers_per_block=(1,) * 4,
                                 spatial_compression_ratio=32, temporal_compression_ratio=8)
    # The audio latents' normalisation buffers have `base_channels` entries and must match the packed audio
    # latent width (latent_channels 8 × 64 mel bins / 4 = 128): base_channels stays at the published 128.
    audio_vae = AutoencoderKLLTX2Audio(base_channels=128, num_res_blocks=1)
    vocoder = LTX2Vocoder(in_channels=audio_vae.config.output_channels * audio_vae.config.mel_bins,
                          hidden_channels=16, upsample_kernel_sizes=[4], upsample_factors=[2],
                          resnet_kernel_sizes=[3], resnet_dilations=[[1]])
    return LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae,
                        text_encoder=tiny_gemma3(), tokenizer=tiny_tokenizer(), connectors=connectors,
                        transformer=tr, vocoder=vocoder)


CASES = {
    "wan": Case("wan", 4096, _wan(WAN_1_3B, 16, False), 30),
    "wan2.2-ti2v": Case("wan2.2-ti2v", 4096, _wan(WAN22_5B, 48, True), 30),
    "ltx-video": Case("ltx-video", 4096, _ltx_video, 28),
    "cogvideox": Case("cogvideox", 4096, _cogvideox, 42),
    "ltx2": Case("ltx2", 3840, _ltx2, 48),
}


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_case(case: Case, device: str, layers: int, width: int, height: int, frames: int, steps: int,
             offload: bool, real_guidance: bool = True) -> dict[str, Any]:
    fam = family_named(case.family)
    st = fam.settings_for(fam.default_id)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    pipe = case.build(layers).to(dtype=dtype)
    if offload:
        pipe.transformer.enable_group_offload(onload_device=torch.device("cuda"), offload_device=torch.device("cpu"),
                                              offload_type="block_level", num_blocks_per_group=1)
        for name in ("vae", "audio_vae", "connectors", "text_encoder", "vocoder"):
            if getattr(pipe, name, None) is not None:
                getattr(pipe, name).to("cuda")
    else:
        pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    params = sum(p.numel() for p in pipe.transformer.parameters()) / 1e9
    seq = 226 if case.family == "cogvideox" else 128
    embeds = torch.randn(1, seq, case.text_dim, dtype=dtype, device=device)
    guidance = st.guidance if real_guidance else 1.0
    kwargs: dict[str, Any] = dict(prompt_embeds=embeds, height=height, width=width, num_frames=frames,
                                  num_inference_steps=steps, guidance_scale=guidance, output_type="latent")
    if guidance > 1.0:
        kwargs["negative_prompt_embeds"] = torch.randn_like(embeds)
    if case.family in ("ltx-video", "ltx2"):
        kwargs["prompt_attention_mask"] = torch.ones(1, seq, dtype=torch.long, device=device)
        if guidance > 1.0:
            kwargs["negative_prompt_attention_mask"] = kwargs["prompt_attention_mask"]
    if case.family == "ltx2":
        if real_guidance:
            extra = dict(st.call_kwargs)
            top = (layers or case.layers) - 1
            extra["spatio_temporal_guidance_blocks"] = [min(b, top) for b in extra["spatio_temporal_guidance_blocks"]]
            kwargs.update(extra)
        else:
            kwargs.update(stg_scale=0.0, audio_stg_scale=0.0, spatio_temporal_guidance_blocks=None,
                          audio_guidance_scale=1.0, modality_scale=1.0, audio_modality_scale=1.0)
    if case.family == "cogvideox":
        kwargs["max_sequence_length"] = seq
    stamps: list[float] = []

    def on_step(p: Any, i: int, t: Any, kw: dict[str, Any]) -> dict[str, Any]:
        if device == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return kw

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    rss0 = _peak_rss_gib()
    t0 = time.perf_counter()
    pipe(**kwargs, callback_on_step_end=on_step)
    per_step = [b - a for a, b in zip([t0] + stamps[:-1], stamps)][1:] or [stamps[0] - t0]  # first step warms up
    step_s = sum(per_step) / len(per_step)
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else max(0.0, _peak_rss_gib() - rss0)
    used_layers = layers or case.layers
    row = {"family": case.family, "device": device, "offload": "group(block)" if offload else "none",
           "guidance": f"{guidance:g}" + (" +STG+modality" if case.family == "ltx2" and real_guidance else ""),
           "layers": f"{used_layers}/{case.layers}", "params_B": round(params, 2), "size": f"{width}x{height}x{frames}",
           "step_s": round(step_s, 3), "step_s_full_depth": round(step_s * case.layers / used_layers, 2),
           "peak_gib": round(peak, 2), "native": f"{fam.default_size[0]}x{fam.default_size[1]}@{fam.native_fps}fps",
           "config": CONFIG_CHECKS.get(case.family, ("estimated", ""))[0]}
    del pipe
    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(CASES))
    ap.add_argument("--full", action="store_true", help="full depth at the family's default size (needs CUDA)")
    ap.add_argument("--layers", type=int, default=1, help="blocks kept on CPU runs")
    ap.add_argument("--size", type=int, nargs=2, default=(256, 256), metavar=("W", "H"))
    ap.add_argument("--frames", type=int, default=None, help="default: the family's 1-second frame count")
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args(argv)
    cuda = torch.cuda.is_available()
    if args.full and not cuda:
        print("--full needs a CUDA GPU; running the reduced CPU bench instead", file=sys.stderr)
    rows = []
    for name in args.families.split(","):
        case, fam = CASES[name], family_named(name)
        frames = args.frames or fam.snap_frames(fam.native_fps)
        if args.full and cuda:
            w, h = fam.default_size
            configs = [(0, False), (0, True)]
        else:
            w, h = fam.snap_size(*args.size)
            configs = [(args.layers, False)]
        for layers, offload in configs:
            pair = []
            for real in (False, True):  # one pass, then the recommended guidance
                try:
                    pair.append(run_case(case, "cuda" if cuda else "cpu", layers, w, h, frames, args.steps, offload,
                                         real))
                except Exception as e:  # one family failing (e.g. out of memory) must not hide the others
                    pair.append({"family": name, "offload": "group(block)" if offload else "none",
                                 "error": f"{type(e).__name__}: {str(e)[:120]}"})
                print(pair[-1], file=sys.stderr, flush=True)
            if all("error" not in r for r in pair):
                one, real_row = pair
                real_row["passes"] = round(real_row["step_s"] / max(one["step_s"], 1e-9), 2)
                real_row["passes_assumed"] = fam.passes_per_step
                st = fam.settings_for(fam.default_id)
                real_row["gpu_estimate_s"] = round(estimate_seconds(fam, *st.size, fam.snap_frames(
                    5 * fam.native_fps, st.max_frames), st.steps, 1, st.guidance), 1)
            rows.extend(pair)
    cols = ["family", "device", "offload", "guidance", "layers", "params_B", "size", "step_s", "step_s_full_depth",
            "passes", "passes_assumed", "gpu_estimate_s", "peak_gib", "native", "config"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        if "error" in r:
            print(f"| {r['family']} | error: {r['error']} |")
        else:
            print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print("\nConfig sources (verified = compared with a published config; estimated = not checked):")
    for name in dict.fromkeys(r["family"] for r in rows):
        status, source = CONFIG_CHECKS.get(name, ("estimated", "no source recorded"))
        print(f"- {name}: {status}: {source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
