"""Memory policy calls (offload, tiling), out-of-memory handling and LTX-2 audio length, on a CPU.

The GPU is faked only where the loader asks about it (`torch.cuda.is_available`, `mem_get_info`); the
offload / tiling / `.to` calls are recorded instead of run, so the policy's decisions are checked on the real
tiny pipelines without a GPU.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from hub_fixtures import RELEASED_VOCODER, TinyFolders  # noqa: E402
from sora_lite.engines import EngineUnavailable, GenerationRequest, get_engine  # noqa: E402
from sora_lite.engines.hub import loading  # noqa: E402
from sora_lite.engines.hub.engine import HubEngine  # noqa: E402

GIB = 2**30


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub_memory")
    yield TinyFolders(root)
    loading.release_resident()


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch):
    """A CUDA device with `free` GiB free; offload, tiling and device moves are recorded, not run."""
    from diffusers import DiffusionPipeline

    seen: list[str] = []
    state = {"free": 80.0}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (int(state["free"] * GIB), 80 * GIB))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    monkeypatch.setattr(DiffusionPipeline, "enable_model_cpu_offload",
                        lambda self, *a, **k: seen.append(f"{type(self).__name__}.model_offload"))
    monkeypatch.setattr(DiffusionPipeline, "enable_sequential_cpu_offload",
                        lambda self, *a, **k: seen.append(f"{type(self).__name__}.sequential_offload"))
    monkeypatch.setattr(DiffusionPipeline, "to", lambda self, *a, **k: seen.append(f"{type(self).__name__}.to{a}") or self)
    for vae_cls in ("AutoencoderKLLTX2Video", "AutoencoderKLWan"):
        import diffusers

        cls = getattr(diffusers, vae_cls)
        monkeypatch.setattr(cls, "enable_tiling", lambda self, *a, **k: seen.append(f"{type(self).__name__}.tiling"))
        monkeypatch.setattr(cls, "enable_slicing", lambda self, *a, **k: seen.append(f"{type(self).__name__}.slicing"))
    loading.release_resident()
    yield SimpleNamespace(seen=seen, state=state)
    loading.release_resident()


def test_plan_tiles_the_vae_when_the_model_just_fits() -> None:
    ltx2 = loading.choose_memory_plan(64, "bfloat16", free_gib=79, cuda=True)
    assert (ltx2.offload, ltx2.vae_tiling) == ("none", True) and "tiling" in ltx2.reason
    small = loading.choose_memory_plan(16, "bfloat16", free_gib=79, cuda=True)
    assert (small.offload, small.vae_tiling) == ("none", False)
    plan = loading.choose_memory_plan(16, "bfloat16", free_gib=79, cuda=True, component_dtypes={"vae": "float32"})
    assert plan.load_dtype() == {"default": torch.bfloat16, "vae": torch.float32}


def test_each_checkpoint_loads_at_its_own_dtypes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *a: (79 * GIB, 80 * GIB))
    cases = {
        "THUDM/CogVideoX-2b": torch.float16,
        "THUDM/CogVideoX-5b": torch.bfloat16,
        "Lightricks/LTX-2": torch.bfloat16,
        "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers": {"default": torch.bfloat16, "vae": torch.float32,
                                                 "image_encoder": torch.float32},
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers": {"default": torch.bfloat16, "vae": torch.float32},
    }
    for model_id, want in cases.items():
        assert loading.plan_for(get_engine(model_id).ref).load_dtype() == want, model_id


@pytest.mark.slow
def test_model_offload_and_tiling_are_applied_to_every_task_pipeline(folders, fake_gpu) -> None:
    fake_gpu.state["free"] = 40.0  # LTX-2 needs ~64 GiB: half fits → model offload + tiling
    ref = get_engine(str(folders["ltx2"])).ref
    _, plan = loading.acquire_pipeline(ref, "t2v")
    assert (plan.offload, plan.vae_tiling, plan.dtype) == ("model", True, "bfloat16")
    loading.acquire_pipeline(ref, "i2v")
    assert fake_gpu.seen == ["LTX2Pipeline.model_offload", "AutoencoderKLLTX2Video.tiling",
                             "LTX2ImageToVideoPipeline.model_offload", "AutoencoderKLLTX2Video.tiling"]
    assert loading.resident_actions() == ["LTX2Pipeline: enable_model_cpu_offload", "LTX2Pipeline: vae.enable_tiling",
                                          "LTX2ImageToVideoPipeline: enable_model_cpu_offload",
                                          "LTX2ImageToVideoPipeline: vae.enable_tiling"]


@pytest.mark.slow
def test_a_model_that_just_fits_is_moved_whole_and_decodes_in_tiles(folders, fake_gpu) -> None:
    fake_gpu.state["free"] = 79.0  # ~64 GiB of weights leave ~15 GiB
    _, plan = loading.acquire_pipeline(get_engine(str(folders["ltx2"])).ref, "t2v")
    assert plan.offload == "none" and plan.vae_tiling
    assert fake_gpu.seen == ["LTX2Pipeline.to('cuda',)", "AutoencoderKLLTX2Video.tiling"]


def test_sequential_offload_when_less_than_half_fits(folders, fake_gpu) -> None:
    fake_gpu.state["free"] = 6.0
    _, plan = loading.acquire_pipeline(get_engine(str(folders["wan"])).ref, "t2v")
    assert plan.offload == "sequential"
    assert fake_gpu.seen == ["WanPipeline.sequential_offload", "AutoencoderKLWan.tiling", "AutoencoderKLWan.slicing"]


def _oom(*args, **kwargs):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_while_loading_is_engine_unavailable(folders, monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import WanPipeline

    loading.release_resident()
    monkeypatch.setattr(WanPipeline, "from_pretrained", classmethod(lambda cls, *a, **k: _oom()))
    with pytest.raises(EngineUnavailable, match=r"engine unavailable: .* ran out of GPU memory while loading"):
        loading.acquire_pipeline(get_engine(str(folders["wan"])).ref, "t2v")
    assert loading.resident_key() is None


def test_out_of_memory_while_preparing_a_task_pipeline_is_engine_unavailable(folders, monkeypatch) -> None:
    loading.release_resident()
    ref = get_engine(str(folders["wan"])).ref
    loading.acquire_pipeline(ref, "t2v")
    monkeypatch.setattr(loading, "derive_pipeline", _oom)
    with pytest.raises(EngineUnavailable, match="while preparing WanVideoToVideoPipeline"):
        loading.acquire_pipeline(ref, "v2v")
    assert loading.resident_key() is None  # the half-built state is dropped, not kept


def test_out_of_memory_during_the_call_is_engine_unavailable(folders, monkeypatch) -> None:
    import functools

    from diffusers import WanPipeline

    loading.release_resident()
    monkeypatch.setattr(WanPipeline, "__call__", functools.wraps(WanPipeline.__call__)(_oom))
    req = GenerationRequest(prompt="a ball", options={"size": [64, 64], "num_frames": 5, "steps": 1, "foley": False})
    with pytest.raises(EngineUnavailable, match=r"engine unavailable: .*ran out of GPU memory at 64×64, 5 frames"):
        get_engine(str(folders["wan"])).generate(req)


@pytest.mark.slow
def test_ltx2_audio_covers_the_video_and_padding_is_reported(folders) -> None:
    """With the released vocoder's upsampling, the model's own audio covers (almost) all of the video; the
    record says how much of the muxed track is padding (the old tiny vocoder made 2 % of it)."""
    loading.release_resident()
    opts = {"steps": 2, "guidance": 1.0, "size": [64, 64], "num_frames": 9,
            "pipeline_kwargs": {"stg_scale": 0.0, "audio_stg_scale": 0.0, "spatio_temporal_guidance_blocks": None,
                                "modality_scale": 1.0, "audio_modality_scale": 1.0}}
    res = get_engine(str(folders["ltx2"])).generate(GenerationRequest(prompt="a red ball", options=opts))
    audio = res.info["audio"]
    assert audio["sample_rate"] == RELEASED_VOCODER["output_sampling_rate"] == res.clip.sample_rate
    assert audio["clip_samples"] == round(9 / 24 * 24000) == res.clip.audio.shape[1]
    # 9 frames → 9 audio latents → 33 causal mel frames × 240 = 7920 samples: all but ~45 ms (the old tiny
    # vocoder, upsampling ×4 instead of ×240, made 132 samples: 98 % of the track was padding)
    assert audio["model_samples"] >= 0.85 * audio["clip_samples"] and audio["padded_seconds"] <= 0.05, audio
    assert "silence" in audio["note"]
    assert audio["padded_seconds"] == pytest.approx(max(0, audio["clip_samples"] - audio["model_samples"]) / 24000,
                                                    abs=1e-4)


def test_audio_rate_falls_back_to_the_vocoders_output_rate() -> None:
    vocoder = SimpleNamespace(config=SimpleNamespace(upsample_factors=list(RELEASED_VOCODER["upsample_factors"])))
    pipe = SimpleNamespace(vocoder=vocoder, audio_sampling_rate=16000, audio_hop_length=160)
    assert HubEngine._audio_rate(pipe) == 24000  # not the audio VAE's 16 kHz mel rate
    vocoder.config.output_sampling_rate = 48000
    assert HubEngine._audio_rate(pipe) == 48000
    with pytest.raises(EngineUnavailable, match="sample rate"):
        HubEngine._audio_rate(SimpleNamespace(vocoder=SimpleNamespace(config=SimpleNamespace())))


def test_no_second_gpu_reservation_inside_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's handler holds the ZeroGPU reservation; the loader runs the call as it is."""
    import importlib
    import sys
    import types

    scheduled: list = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda *a, **k: scheduled.append((a, k)) or (lambda fn: fn)
    monkeypatch.setitem(sys.modules, "spaces", fake)
    importlib.reload(loading)
    try:
        assert loading.run_on_gpu(lambda: 7, 100.0) == 7 and scheduled == []
    finally:
        monkeypatch.delitem(sys.modules, "spaces")
        importlib.reload(loading)


def test_gpu_reservation_comes_from_the_recommended_settings() -> None:
    world = loading.gpu_reservation_seconds("world", 4.0, 256, 256)
    assert world == loading.DEFAULT_RESERVATION_S
    ltx2 = loading.gpu_reservation_seconds("Lightricks/LTX-2", 5.0, 768, 512)
    wan_small = loading.gpu_reservation_seconds("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", 5.0, 832, 480)
    assert 60 <= wan_small < ltx2 <= 1800
    assert loading.gpu_reservation_seconds("Lightricks/LTX-2", 10.0, 768, 512) > ltx2
    fam = get_engine("ltx2").ref.family
    one_pass = loading.estimate_seconds(fam, 768, 512, 121, 30, guidance=1.0)
    full = loading.estimate_seconds(fam, 768, 512, 121, 30, guidance=3.0)
    assert fam.passes_per_step == 4  # CFG (2) + STG (1) + modality (1) transformer passes per step
    assert (full - 30) / (one_pass - 30) == pytest.approx(4 / 3)  # the fixed 20 s + 10 s/shot aside
    assert np.isfinite(one_pass)


@pytest.mark.slow
def test_app_reserves_the_gpu_once_with_the_estimated_duration() -> None:
    """app.py's handlers carry the only spaces.GPU; its duration reads the request's engine, seconds, size."""
    import app

    generate = app._reservation(2, 3, 4)  # generate(prompt, image, engine, seconds, size, ...)
    ltx2 = generate("a ball", None, "Lightricks/LTX-2", 5.0, "768x512")
    assert ltx2 == loading.gpu_reservation_seconds("Lightricks/LTX-2", 5.0, 768, 512) > 120
    assert generate("a ball", None, "world", 5.0, "256x256") == loading.DEFAULT_RESERVATION_S
    assert generate("a ball", None, "Lightricks/LTX-2", 5.0, "not a size") == loading.DEFAULT_RESERVATION_S
