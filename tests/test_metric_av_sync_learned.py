"""Synchformer (learned AV sync, DeSync) on tiny random models: key layout, loading, preprocessing, decoding."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from eval.features.synchformer import (
    DEFAULT_FILENAME,
    DEFAULT_REPO,
    DEFAULT_SYNCHFORMER,
    ASTBackbone,
    CheckpointMismatch,
    DividedAttention,
    SynchformerConfig,
    SynchformerModel,
    expected_state_shapes,
    load_synchformer,
)
from eval.metrics.av_sync_learned import (
    AST_MEAN,
    AST_STD,
    OFFSET_GRID_S,
    audio_segments,
    decode_offsets,
    log_mel,
    prepare_clip,
    resample_frames,
    score_clip,
    score_sample,
    video_segments,
    window_starts,
)
from eval.metrics.errors import MetricSkipped

TINY = SynchformerConfig.tiny()

# The checkpoint's layout, written from the reference code (v-iashin/Synchformer configs/sync.yaml, motionformer.py,
# video_model_builder.py, vit_helper.py, ast.py + hf_src/modeling_ast.py, sync_model.py, transformer.py; the
# av-benchmark Synchformer that strict-loads synchformer_state_dict.pth): block indices replaced by N.
D, FF = 768, 3072
POOL = {  # nn.TransformerEncoderLayer + the CLS token Synchformer adds (BaseEncoderLayer)
    "cls_token": (1, 1, D), "self_attn.in_proj_weight": (3 * D, D), "self_attn.in_proj_bias": (3 * D,),
    "self_attn.out_proj.weight": (D, D), "self_attn.out_proj.bias": (D,), "linear1.weight": (FF, D),
    "linear1.bias": (FF,), "linear2.weight": (D, FF), "linear2.bias": (D,), "norm1.weight": (D,),
    "norm1.bias": (D,), "norm2.weight": (D,), "norm2.bias": (D,),
}
MANIFEST: dict[str, tuple[int, ...]] = {
    "vfeat_extractor.cls_token": (1, 1, D),
    "vfeat_extractor.pos_embed": (1, 14 * 14 + 1, D),
    "vfeat_extractor.temp_embed": (1, 8, D),
    "vfeat_extractor.patch_embed.proj.weight": (D, 3, 16, 16),
    "vfeat_extractor.patch_embed.proj.bias": (D,),
    "vfeat_extractor.patch_embed_3d.proj.weight": (D, 3, 2, 16, 16),
    "vfeat_extractor.patch_embed_3d.proj.bias": (D,),
    **{f"vfeat_extractor.blocks.N.{n}.{p}": (D,) for n in ("norm1", "norm2", "norm3") for p in ("weight", "bias")},
    **{f"vfeat_extractor.blocks.N.{a}.qkv.weight": (3 * D, D) for a in ("attn", "timeattn")},
    **{f"vfeat_extractor.blocks.N.{a}.qkv.bias": (3 * D,) for a in ("attn", "timeattn")},
    **{f"vfeat_extractor.blocks.N.{a}.proj.weight": (D, D) for a in ("attn", "timeattn")},
    **{f"vfeat_extractor.blocks.N.{a}.proj.bias": (D,) for a in ("attn", "timeattn")},
    "vfeat_extractor.blocks.N.mlp.fc1.weight": (FF, D), "vfeat_extractor.blocks.N.mlp.fc1.bias": (FF,),
    "vfeat_extractor.blocks.N.mlp.fc2.weight": (D, FF), "vfeat_extractor.blocks.N.mlp.fc2.bias": (D,),
    "vfeat_extractor.norm.weight": (D,), "vfeat_extractor.norm.bias": (D,),
    **{f"vfeat_extractor.spatial_attn_agg.{k}": v for k, v in POOL.items()},
    "afeat_extractor.ast.embeddings.cls_token": (1, 1, D),
    "afeat_extractor.ast.embeddings.distillation_token": (1, 1, D),
    "afeat_extractor.ast.embeddings.position_embeddings": (1, 12 * 6 + 2, D),  # max_spec_t 66 → 12 × 6 patches
    "afeat_extractor.ast.embeddings.patch_embeddings.projection.weight": (D, 1, 16, 16),
    "afeat_extractor.ast.embeddings.patch_embeddings.projection.bias": (D,),
    **{f"afeat_extractor.ast.encoder.layer.N.attention.attention.{p}.{w}": (D, D) if w == "weight" else (D,)
       for p in ("query", "key", "value") for w in ("weight", "bias")},
    "afeat_extractor.ast.encoder.layer.N.attention.output.dense.weight": (D, D),
    "afeat_extractor.ast.encoder.layer.N.attention.output.dense.bias": (D,),
    "afeat_extractor.ast.encoder.layer.N.intermediate.dense.weight": (FF, D),
    "afeat_extractor.ast.encoder.layer.N.intermediate.dense.bias": (FF,),
    "afeat_extractor.ast.encoder.layer.N.output.dense.weight": (D, FF),
    "afeat_extractor.ast.encoder.layer.N.output.dense.bias": (D,),
    **{f"afeat_extractor.ast.encoder.layer.N.{n}.{p}": (D,) for n in ("layernorm_before", "layernorm_after")
       for p in ("weight", "bias")},
    "afeat_extractor.ast.layernorm.weight": (D,), "afeat_extractor.ast.layernorm.bias": (D,),
    **{f"afeat_extractor.freq_attn_agg.{k}": v for k, v in POOL.items()},
    "vproj.weight": (D, D), "vproj.bias": (D,), "aproj.weight": (D, D), "aproj.bias": (D,),
    "transformer.OFF_tok": (1, 1, D), "transformer.MOD_tok": (1, 1, D),
    **{f"transformer.{n}.{p}": (D,) for n in ("vis_in_lnorm", "aud_in_lnorm", "ln_f") for p in ("weight", "bias")},
    "transformer.pos_emb_cfg.pos_emb": (1, 198, D),  # 1 + 14·8 + 1 + 14·6
    **{f"transformer.blocks.N.{n}.{p}": (D,) for n in ("ln1", "ln2") for p in ("weight", "bias")},
    **{f"transformer.blocks.N.attn.{p}.weight": (D, D) for p in ("key", "query", "value", "proj")},
    **{f"transformer.blocks.N.attn.{p}.bias": (D,) for p in ("key", "query", "value", "proj")},
    "transformer.blocks.N.mlp.0.weight": (FF, D), "transformer.blocks.N.mlp.0.bias": (FF,),
    "transformer.blocks.N.mlp.2.weight": (D, FF), "transformer.blocks.N.mlp.2.bias": (D,),
    "transformer.off_head.weight": (21, D), "transformer.off_head.bias": (21,),
}
BLOCKS = {"vfeat_extractor.blocks": 12, "afeat_extractor.ast.encoder.layer": 12, "transformer.blocks": 3}


def _pattern(key: str) -> str:
    for prefix in BLOCKS:
        if key.startswith(prefix + "."):
            return re.sub(rf"^{re.escape(prefix)}\.\d+\.", prefix + ".N.", key)
    return key


def tiny_model(seed: int = 0) -> SynchformerModel:
    """Random weights (std 0.2; LayerNorm gains around 1) so the logits depend visibly on the input."""
    torch.manual_seed(seed)
    model = SynchformerModel(TINY)
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = model.get_submodule(name.rsplit(".", 1)[0])
            gain = isinstance(owner, torch.nn.LayerNorm) and name.endswith("weight")
            p.normal_(1.0 if gain else 0.0, 0.2)
    return model.eval()


def av_clip(seconds: float, fps: float = 25, rate: int = 16000, channels: int = 1, size: tuple[int, int] = (36, 48),
            seed: int = 0) -> tuple[np.ndarray, float, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (round(seconds * fps), *size, 3), dtype=np.uint8)
    audio = (0.1 * rng.standard_normal((channels, round(seconds * rate)))).astype(np.float32)
    return frames, fps, audio, rate


# --- layout and loading ---------------------------------------------------------------------------------

def test_full_size_keys_match_the_checkpoint_manifest() -> None:
    shapes = expected_state_shapes()  # built on the meta device: no memory, no init
    patterns: dict[str, tuple[int, ...]] = {}
    for key, shape in shapes.items():
        assert patterns.setdefault(_pattern(key), shape) == shape, key
    assert set(patterns) - set(MANIFEST) == set(), "keys the checkpoint does not have"
    assert set(MANIFEST) - set(patterns) == set(), "checkpoint keys the model lacks"
    assert {k: patterns[k] for k in MANIFEST} == MANIFEST
    for prefix, count in BLOCKS.items():
        indices = {int(k[len(prefix) + 1:].split(".")[0]) for k in shapes if k.startswith(prefix + ".")}
        assert indices == set(range(count)), prefix
    assert len(shapes) == 513
    assert sum(math.prod(s) for s in shapes.values()) == 237_460_245  # ≈ 950 MB in float32


def test_tiny_model_saved_and_loaded_gives_the_same_logits(tmp_path: Path) -> None:
    model = tiny_model()
    torch.manual_seed(1)
    video = torch.rand(1, 14, 16, 3, 32, 32) * 2 - 1
    mel = torch.randn(1, 14, 128, 66)
    with torch.no_grad():
        expected = model(video, mel)
    assert expected.shape == (1, 21) and torch.isfinite(expected).all()
    assert expected.std() > 1e-3  # a constant output would make the comparison below vacuous

    plain, wrapped = tmp_path / "synchformer_state_dict.pth", tmp_path / "24-01-04T16-39-21.pt"
    torch.save(model.state_dict(), plain)
    torch.save({"model": model.state_dict(), "epoch": 7}, wrapped)  # the original training checkpoint's form
    for path in (plain, wrapped, tmp_path):  # a folder holding synchformer_state_dict.pth works too
        loaded = load_synchformer(str(path), config=TINY)
        with torch.no_grad():
            got = loaded(video, mel)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
        assert not loaded.training

    with torch.no_grad():  # and the input matters: another clip, other logits
        assert not torch.allclose(loaded(video.flip(1), mel), expected, atol=1e-2)

    half = load_synchformer(str(plain), config=TINY, dtype=torch.bfloat16)  # --precision bf16
    assert next(half.parameters()).dtype == torch.bfloat16
    with torch.no_grad():
        got = half(video.bfloat16(), mel.bfloat16()).float()
    assert torch.softmax(got, -1).sub(torch.softmax(expected, -1)).abs().max() < 0.05


def test_loads_from_the_local_hub_cache_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(MetricSkipped) as skipped:
        load_synchformer(DEFAULT_SYNCHFORMER)
    assert f"hf download {DEFAULT_REPO} {DEFAULT_FILENAME}" in skipped.value.how_to_fix

    repo = tmp_path / "models--someone--sync"
    snapshot = repo / "snapshots" / ("a" * 40)
    (snapshot / "ext_weights").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    torch.save(tiny_model().state_dict(), snapshot / "ext_weights" / "synchformer_state_dict.pth")
    assert isinstance(load_synchformer("someone/sync", config=TINY), SynchformerModel)


def test_missing_weights_are_skipped_with_how_to_get_them() -> None:
    start = time.perf_counter()
    with pytest.raises(MetricSkipped) as skipped:
        load_synchformer("/nowhere/synchformer_state_dict.pth")
    print(f"skip took {time.perf_counter() - start:.3f} s")  # reported, not asserted
    assert "/nowhere/synchformer_state_dict.pth" in skipped.value.reason
    assert "huggingface.co/hkchengrex/MMAudio" in skipped.value.how_to_fix


def test_a_misfit_or_corrupt_file_gives_one_clear_error(tmp_path: Path) -> None:
    state = tiny_model().state_dict()
    path = tmp_path / "tiny.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatch, match=r"keys of another shape \(e\.g\. .*768"):
        load_synchformer(str(path))  # tiny weights, full-size config

    state.pop("transformer.off_head.bias")
    state["transformer.extra.weight"] = torch.zeros(1)
    torch.save(state, path)
    with pytest.raises(CheckpointMismatch) as err:
        load_synchformer(str(path), config=TINY)
    assert "1 missing keys (e.g. transformer.off_head.bias)" in err.value.reason
    assert "1 unexpected keys (e.g. transformer.extra.weight)" in err.value.reason

    path.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointMismatch, match="could not be read"):
        load_synchformer(str(path), config=TINY)


# --- the encoders against independent references -------------------------------------------------------

def test_ast_encoder_equals_transformers_ast_model() -> None:
    """Our AST (transformers-4 key names) against transformers' own ASTModel with the same weights."""
    from transformers import ASTConfig, ASTModel

    ours = ASTBackbone(TINY).eval()
    torch.manual_seed(2)
    with torch.no_grad():
        for name, p in ours.named_parameters():
            p.normal_(1.0 if "layernorm" in name and name.endswith("weight") else 0.0, 0.2)
    theirs = ASTModel(ASTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                                max_length=66, num_mel_bins=128)).eval()
    renames = [(r"encoder\.layer\.", "layers."), (r"attention\.attention\.query", "attention.q_proj"),
               (r"attention\.attention\.key", "attention.k_proj"), (r"attention\.attention\.value", "attention.v_proj"),
               (r"attention\.output\.dense", "attention.o_proj"), (r"intermediate\.dense", "mlp.fc1"),
               (r"\.output\.dense", ".mlp.fc2")]
    state = {}
    for key, value in ours.state_dict().items():
        for old, new in renames:
            key = re.sub(old, new, key)
        state[key] = value
    theirs.load_state_dict(state, strict=True)
    x = torch.randn(3, 66, 128)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(input_values=x).last_hidden_state, rtol=1e-4, atol=1e-4)


def test_divided_attention_equals_a_loop_over_groups() -> None:
    """Motionformer's divided attention written as loops: per group (a position over time, or a frame), the
    group's queries attend to [CLS, the group]; the CLS query attends to every token."""
    torch.manual_seed(3)
    dim, heads, frames, patches = 8, 2, 3, 4
    attn = DividedAttention(dim, heads)
    x = torch.randn(2, 1 + frames * patches, dim)
    d = dim // heads
    q, k, v = attn.qkv(x).chunk(3, -1)

    def head(t: torch.Tensor, h: int) -> torch.Tensor:
        return t[..., h * d:(h + 1) * d]

    def attend(qs: torch.Tensor, ks: torch.Tensor, vs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(qs @ ks.T / math.sqrt(d), dim=-1) @ vs

    for over_time in (True, False):
        expected = torch.zeros_like(x)
        for b in range(x.shape[0]):
            for h in range(heads):
                qh, kh, vh = head(q[b], h), head(k[b], h), head(v[b], h)
                expected[b, :1, h * d:(h + 1) * d] = attend(qh[:1], kh, vh)
                groups = range(patches) if over_time else range(frames)
                for g in groups:
                    idx = [1 + f * patches + g for f in range(frames)] if over_time else \
                          [1 + g * patches + n for n in range(patches)]
                    rows = [0, *idx]
                    expected[b, idx, h * d:(h + 1) * d] = attend(qh[idx], kh[rows], vh[rows])
        with torch.no_grad():
            torch.testing.assert_close(attn(x, frames, over_time), attn.proj(expected).detach(), rtol=1e-5, atol=1e-5)


def test_block_attends_over_time_with_timeattn_and_over_space_with_attn() -> None:
    """With the other branches silenced, `timeattn` only mixes one patch position across frames and `attn`
    only mixes patches of one frame (the checkpoint's names say which is which)."""
    from eval.features.synchformer import DividedSpaceTimeBlock

    torch.manual_seed(5)
    frames, patches, dim = 3, 4, 8
    x = torch.randn(1, 1 + frames * patches, dim)
    poked = x.clone()
    poked[0, 1] += torch.randn(dim)  # frame 0, position 0 (not a constant: LayerNorm would remove it)
    for silenced, same_group in (("attn", lambda f, n: n == 0), ("timeattn", lambda f, n: f == 0)):
        block = DividedSpaceTimeBlock(dim, heads=2, mlp_ratio=2).eval()
        with torch.no_grad():
            getattr(block, silenced).proj.weight.zero_()
            getattr(block, silenced).proj.bias.zero_()
            block.mlp.fc2.weight.zero_()
            block.mlp.fc2.bias.zero_()
            change = (block(poked, frames) - block(x, frames)).abs().amax(-1)[0, 1:].view(frames, patches)
        for f in range(frames):
            for n in range(patches):
                assert (change[f, n] > 1e-4) == same_group(f, n), (silenced, f, n)


# --- preprocessing ---------------------------------------------------------------------------------------

def _hand_mel_bank(n_freqs: int = 513, n_mels: int = 128, rate: int = 16000) -> np.ndarray:
    """HTK triangles on the linear-frequency grid (torchaudio's `melscale_fbanks` formula), unnormalised."""
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, rate / 2, n_freqs)
    points = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(rate / 2)), n_mels + 2))
    lower, centre, upper = points[:-2], points[1:-1], points[2:]
    rising = (freqs[:, None] - lower) / (centre - lower)
    falling = (upper - freqs[:, None]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def test_log_mel_matches_an_independent_spectrogram() -> None:
    """torch.stft path vs transformers.audio_utils.spectrogram (numpy framing: 400-sample frames zero-padded to
    1024) with a hand-built HTK filter bank: torchaudio's MelSpectrogram semantics, then log(x + 1e-6)."""
    from transformers.audio_utils import spectrogram, window_function

    rng = np.random.default_rng(4)
    t = np.arange(10240) / 16000
    wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    ours = log_mel(torch.from_numpy(wave)).numpy()
    power = spectrogram(wave.astype(np.float64), window_function(400, "hann", periodic=True), frame_length=400,
                        hop_length=160, fft_length=1024, power=2.0, center=True, pad_mode="reflect",
                        mel_filters=_hand_mel_bank(), mel_floor=1e-30, dtype=np.float64)
    reference = np.log(power + 1e-6)
    assert ours.shape == reference.shape == (128, 65)  # 1 + 10240 // 160 frames, padded to 66 later
    np.testing.assert_allclose(ours, reference, atol=2e-3)
    assert reference.std() > 1.0  # a real spectrum, not a constant


def test_odd_clip_resampling_and_segmenting_shapes() -> None:
    """2 s of 30 fps video and 44.1 kHz stereo: 50 frames at 25 fps, 32000 samples at 16 kHz, 5 segments."""
    frames, fps, audio, rate = av_clip(2.0, fps=30, rate=44100, channels=2, size=(36, 48))
    frames[:, 0, 0, 0] = np.arange(len(frames))  # each frame's index, to check which frames are picked
    assert list(resample_frames(frames, 30)[:, 0, 0, 0][:7]) == [0, 1, 2, 3, 4, 6, 7]  # ⌊k · 30 / 25⌋

    prepared = prepare_clip(frames, fps, audio, rate, image_size=32)
    assert prepared.frames.shape == (50, 32, 32, 3) and prepared.frames.dtype == np.uint8
    assert prepared.wave.shape == (32000,) and prepared.segments == 5
    video = video_segments(prepared.frames, range(prepared.segments))
    mel = audio_segments(prepared.wave, range(prepared.segments))
    assert video.shape == (5, 16, 3, 32, 32) and -1.0 <= float(video.min()) and float(video.max()) <= 1.0
    assert mel.shape == (5, 128, 66)
    # the 66th frame is the reference's zero padding of the log-mel, normalised like the rest
    torch.testing.assert_close(mel[..., -1], torch.full((5, 128), (0.0 - AST_MEAN) / (2 * AST_STD)))
    # portrait frames: short side (width) to 32, centre crop
    tall = prepare_clip(frames.transpose(0, 2, 1, 3), fps, audio, rate, image_size=32)
    assert tall.frames.shape == (50, 32, 32, 3)

    assert score_sample(tiny_model(), frames, fps, audio, rate).status == "too short"


def test_windows_follow_the_desync_protocol() -> None:
    assert window_starts(13) == [] and window_starts(14) == [0] and window_starts(24) == [0, 10]
    model = tiny_model()
    clip = av_clip(8.0, size=(32, 40))
    got = score_sample(model, *clip)
    assert got.status == "ok" and got.segments == 24
    assert [w.start_s for w in got.windows] == [0.0, 3.2]  # first and last 4.8 s of an 8 s clip
    assert got.desync == pytest.approx(np.mean([abs(w.offset_s) for w in got.windows]))
    assert all(w.offset_s in OFFSET_GRID_S for w in got.windows)
    assert sum(got.distribution) == pytest.approx(1.0)
    assert got.probability == pytest.approx(np.mean([max(w.distribution) for w in got.windows]))

    # the last window is the model on exactly those 4.8 s: cutting the clip there gives the same prediction
    frames, fps, audio, rate = clip
    tail = score_sample(model, frames[80:], fps, audio[:, 51200:], rate)
    assert len(tail.windows) == 1
    np.testing.assert_allclose(tail.windows[0].distribution, got.windows[1].distribution, atol=1e-5)

    # a 12 s clip: its middle is never read, and each window equals the model on exactly those 4.8 s
    frames, fps, audio, rate = av_clip(12.0, size=(32, 40), seed=3)
    long = score_sample(model, frames, fps, audio, rate)
    assert [w.start_s for w in long.windows] == [0.0, 7.04]  # 36 segments: windows at 0 and 22
    head = score_sample(model, frames[:120], fps, audio[:, :76800], rate)
    tail = score_sample(model, frames[176:], fps, audio[:, 112640:], rate)
    np.testing.assert_allclose(head.windows[0].distribution, long.windows[0].distribution, atol=1e-5)
    np.testing.assert_allclose(tail.windows[0].distribution, long.windows[1].distribution, atol=1e-5)

    from sora_lite.media import Clip

    silent = Clip(frames=frames, fps=fps, audio=np.zeros_like(audio), sample_rate=rate)
    assert score_clip(model, silent).status == "no audio"
    assert score_clip(model, Clip(frames=frames, fps=fps)).status == "no audio"


def test_offsets_decoded_by_hand() -> None:
    """Synchformer class i is −2 + 0.2 i s with positive = audio early; ours is the opposite sign."""
    logits = torch.zeros(2, 21)
    logits[0, 15] = math.log(20.0)  # class +1.0 s (audio early) → p = 20 / (20 + 20 · 1) = 0.5
    logits[1, 0] = 5.0  # class −2.0 s: the audio comes 2 s late
    (off0, p0, dist0), (off1, p1, _) = decode_offsets(logits)
    assert off0 == pytest.approx(-1.0) and p0 == pytest.approx(0.5)
    assert dist0[OFFSET_GRID_S.index(-1.0)] == pytest.approx(0.5) and dist0[0] == pytest.approx(0.025)
    assert off1 == pytest.approx(2.0) and p1 == pytest.approx(math.exp(5) / (math.exp(5) + 20))
    assert OFFSET_GRID_S[0] == -2.0 and OFFSET_GRID_S[10] == 0.0 and OFFSET_GRID_S[-1] == 2.0


def test_each_clip_gets_its_own_status() -> None:
    """Per sample, as eval.run records it: long clips scored, a short one "too short", a silent one "no audio"."""
    model = tiny_model()
    clips = [av_clip(5.0, seed=1), av_clip(6.0, seed=2), av_clip(3.0, seed=3)]
    frames, fps, audio, rate = av_clip(5.0, seed=4)
    clips.append((frames, fps, np.zeros_like(audio), rate))
    assert [score_sample(model, *clip).status for clip in clips] == ["ok", "ok", "too short", "no audio"]


# --- through `python -m eval.run` -----------------------------------------------------------------------

@pytest.mark.slow
def test_eval_run_scores_av_sync_learned_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--metrics av_sync_learned --sync-model FILE: a long clip is scored, a short one skipped with the reason,
    a silent one "no audio"; the settings column names the weights; missing weights skip every row."""
    import sys

    import pandas as pd

    import eval.features.synchformer as synchformer_module
    from eval import run as eval_run

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from eval_fixtures import RATE, clicks, moving_square, write

    weights = tmp_path / "tiny.pth"
    torch.save(tiny_model().state_dict(), weights)
    real_loader = synchformer_module.load_synchformer
    monkeypatch.setattr(synchformer_module, "load_synchformer",
                        lambda path, device="cpu", dtype=torch.float32: real_loader(path, device, config=TINY, dtype=dtype))
    folder = tmp_path / "videos"
    folder.mkdir()
    fps = 25
    write(folder / "long.mp4", moving_square(int(5.2 * fps)), clicks(5.2, [1.0, 2.5, 4.0]), fps=fps)
    write(folder / "short.mp4", moving_square(2 * fps), clicks(2.0, [1.0]), fps=fps)
    write(folder / "silent.mp4", moving_square(int(5.2 * fps)), np.zeros(int(5.2 * RATE), np.float32), fps=fps)
    out = tmp_path / "out"
    args = ["--generator", f"videos:{folder}", "--metrics", "av_sync_learned", "--out", str(out), "--no-progress"]
    assert eval_run.main([*args, "--sync-model", str(weights)]) == 0
    rows = pd.read_csv(out / "samples.csv", keep_default_na=False).set_index("video")
    rows.index = [Path(v).stem for v in rows.index]
    long = rows.loc["long"]
    assert long["status"] == "ok" and 0.0 <= float(long["value"]) <= 2.0
    details = json.loads(long["details"])
    assert abs(details["abs_offset_ms"] - abs(details["offset_ms"])) < 1e-9 and 0 < details["probability"] <= 1
    # 5.2 s at 25 fps = 15 segments: the first 14 and the last 14 (one segment, 0.32 s, later)
    assert details["window_starts_s"] == pytest.approx([0.0, 0.32]) and len(details["window_offsets_s"]) == 2
    assert rows.loc["short"]["status"] == "skipped" and "4.8 s" in rows.loc["short"]["error"]
    assert rows.loc["silent"]["status"] == "no audio"
    board = pd.read_csv(out / "leaderboard.csv", keep_default_na=False).iloc[0]
    assert board["settings"] == f"av_sync_learned={weights} fp32"
    assert float(board["av_sync_learned_mean"]) == pytest.approx(float(long["value"]))

    missing = tmp_path / "missing-out"
    assert eval_run.main([*args[:-3], "--out", str(missing), "--no-progress", "--sync-model",
                          str(tmp_path / "absent.pth")]) == 0
    skipped = pd.read_csv(missing / "samples.csv", keep_default_na=False)
    assert set(skipped["status"]) == {"skipped"} and "absent.pth" in skipped["error"].iloc[0]
