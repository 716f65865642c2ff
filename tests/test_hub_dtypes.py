"""A bf16 model stays bf16 when the engine switches tasks (t2v → i2v → v2v → t2v) on one resident model.

The CPU plan is float32, so the default tests cannot see a dtype change; here the memory plan is replaced by a
bfloat16 one (on the CPU), the tiny pipelines are really loaded in bfloat16, and after every task switch each
module the task pipelines share is checked: same object as the base pipeline's, every parameter still
bfloat16 (float32 only where the checkpoint's settings keep a component in float32, e.g. Wan's VAE).
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from hub_fixtures import TinyFolders  # noqa: E402
from sora_lite.engines import GenerationRequest, get_engine  # noqa: E402
from sora_lite.engines.hub import loading  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub_dtypes")
    yield TinyFolders(root)
    loading.release_resident()


@pytest.fixture
def bf16_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bfloat16 plan on the CPU: what a GPU plan would load, without a GPU."""

    def plan(need_gib: float, family_dtype: str, *args, **kwargs) -> loading.MemoryPlan:
        p = loading.MemoryPlan("cpu", "bfloat16", "none", False, False, None, need_gib, "test: bf16 on CPU")
        if hasattr(p, "component_dtypes"):
            p.component_dtypes = dict(kwargs.get("component_dtypes") or {})
        return p

    monkeypatch.setattr(loading, "choose_memory_plan", plan)
    loading.release_resident()
    yield
    loading.release_resident()


def _modules(pipe) -> dict[str, torch.nn.Module]:
    return {k: v for k, v in pipe.components.items() if isinstance(v, torch.nn.Module)}


def _dtypes(module: torch.nn.Module) -> set[torch.dtype]:
    return {p.dtype for p in module.parameters()} | {b.dtype for b in module.buffers() if b.is_floating_point()}


def _snapshot(pipe) -> dict[str, dict[str, torch.dtype]]:
    return {k: {n: p.dtype for n, p in m.named_parameters()} for k, m in _modules(pipe).items()}


def _check_loaded(pipe, keep_f32: set[str]) -> None:
    """Right after loading: float32 components all float32; every other component bf16 except the few
    layers its class keeps in float32 (`_keep_in_fp32_modules`, e.g. Wan's time embedder)."""
    for name, module in _modules(pipe).items():
        params = list(module.parameters())
        if name in keep_f32:
            assert {p.dtype for p in params} == {torch.float32}, f"{name} should be float32"
            continue
        bf16 = sum(p.numel() for p in params if p.dtype == torch.bfloat16)
        assert bf16 >= 0.5 * sum(p.numel() for p in params), f"{name} is not a bf16 module after loading"


def _check(pipe, base, loaded: dict, where: str) -> None:
    """Every shared module's parameters have exactly the dtypes they were loaded with (base included)."""
    for name, module in _modules(pipe).items():
        got = {n: p.dtype for n, p in module.named_parameters()}
        changed = sorted({f"{got[n]}" for n in got if got[n] != loaded[name].get(n)})
        assert not changed, f"{where}: {type(pipe).__name__}.{name} parameters changed to {changed}"
    assert _snapshot(base) == loaded, f"{where}: the base pipeline's modules changed dtype"


@pytest.mark.slow
@pytest.mark.parametrize("name,tasks,keep_f32", [
    ("ltx2", ["t2v", "i2v", "v2v", "t2v"], set()),
    ("ltx-video", ["t2v", "i2v", "v2v", "t2v"], set()),
    ("wan", ["t2v", "v2v", "t2v"], {"vae"}),
    ("wan2.2-ti2v", ["t2v", "i2v", "t2v"], {"vae"}),
])
def test_bf16_model_stays_bf16_across_task_switches(name: str, tasks: list[str], keep_f32: set[str], folders,
                                                    bf16_plan) -> None:
    ref = get_engine(str(folders[name])).ref
    base, _ = loading.acquire_pipeline(ref, tasks[0])
    transformer = base.transformer
    _check_loaded(base, keep_f32)  # the test really holds bf16 weights
    loaded = _snapshot(base)
    for task in tasks[1:]:
        pipe, _ = loading.acquire_pipeline(ref, task)
        for k, module in _modules(pipe).items():  # shared, not copied
            if k in _modules(base):
                assert module is _modules(base)[k], f"{name} {task}: {k} is a copy, not the resident module"
        _check(pipe, base, loaded, f"{name} after switching to {task}")
    assert base.transformer is transformer


@pytest.mark.slow
def test_wan_runs_in_bf16_with_its_vae_in_float32(folders, bf16_plan, tmp_path: Path) -> None:
    """The mixed-dtype Wan pipeline (bf16 transformer, float32 VAE) really runs: t2v, then v2v on the same
    resident model, and nothing is recast in between."""
    import numpy as np

    from sora_lite.media import Clip, write_video

    folder = folders["wan"]
    engine = get_engine(str(folder))
    opts = {"steps": 2, "guidance": 1.0, "size": [64, 64], "num_frames": 5, "foley": False}
    res = engine.generate(GenerationRequest(prompt="a red ball", engine=str(folder), options=opts))
    assert res.info["memory"]["dtype"] == "bfloat16"
    assert res.info["memory"]["component_dtypes"] == {"vae": "float32", "image_encoder": "float32"}
    parent = tmp_path / "parent.mp4"
    write_video(Clip(frames=np.random.default_rng(0).integers(0, 255, (8, 64, 64, 3), dtype=np.uint8), fps=8),
                parent)
    res2 = engine.generate(GenerationRequest(prompt="a blue ball", engine=str(folder), parent_video=str(parent),
                                             options=opts))
    assert res2.info["pipeline"] == "WanVideoToVideoPipeline"
    pipe, _ = loading.acquire_pipeline(engine.ref, "t2v")
    assert torch.bfloat16 in {p.dtype for p in pipe.transformer.parameters()}
    assert {p.dtype for p in pipe.vae.parameters()} == {torch.float32}
    assert {p.dtype for p in pipe.text_encoder.parameters()} == {torch.bfloat16}
