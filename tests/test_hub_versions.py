"""The installed libraries accept what the Hub code passes, and the requirement floors say so.

`requirements.txt` pins diffusers at the first release whose `DiffusionPipeline.from_pretrained` takes `dtype=`
(0.40.0; earlier ones take only `torch_dtype=`, checked in the released wheels) and which has every pipeline
class and call argument the registry uses (LTX-2's `spatio_temporal_guidance_blocks` / `use_cross_timestep`
arrived in 0.38). The installed version is checked against that floor, and every argument the code passes
against the installed signatures.
"""

from __future__ import annotations

import importlib.metadata as md
import inspect
import re
from pathlib import Path

import pytest

diffusers = pytest.importorskip("diffusers")

from sora_lite.engines.hub import families  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIFFUSERS_FLOOR = (0, 40, 0)
# What engine._call always passes (filtered by each signature) and the conditioning arguments per task.
COMMON = {"prompt", "height", "width", "num_inference_steps", "guidance_scale", "generator", "output_type",
          "callback_on_step_end", "callback_on_step_end_tensor_inputs", "negative_prompt"}
TASK_ARGS = {"i2v": {"image"}, "ref": {"reference_images"}}
V2V_ARGS = {"LTX2ConditionPipeline": {"conditions"}, "LTXConditionPipeline": {"video", "frame_index", "strength"}}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def test_requirements_floor_matches_what_the_code_uses() -> None:
    line = next(ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.startswith("diffusers"))
    assert _version(line.split(">=")[1]) == DIFFUSERS_FLOOR, line
    assert _version(diffusers.__version__) >= DIFFUSERS_FLOOR
    src = inspect.getsource(diffusers.DiffusionPipeline.from_pretrained)
    assert 'kwargs.pop("dtype"' in src  # the argument loading.py passes


def test_every_argument_the_registry_passes_is_accepted_by_the_installed_pipelines() -> None:
    for fam in families.FAMILIES:
        for ckpt in fam.checkpoints:
            st = fam.settings_for(ckpt.hub_id)
            classes = {t: getattr(diffusers, ckpt.pipeline_for(fam, t)) for t in ckpt.tasks}
            params = {t: set(inspect.signature(c.__call__).parameters) for t, c in classes.items()}
            for task, accepted in params.items():
                name = classes[task].__name__
                assert COMMON <= accepted, (ckpt.hub_id, name, COMMON - accepted)
                need = TASK_ARGS.get(task, set()) | (V2V_ARGS.get(name, {"video", "strength"}) if task == "v2v" else set())
                assert need <= accepted, (ckpt.hub_id, name, need - accepted)
            for key in st.call_kwargs:  # each recommended argument reaches at least one of its pipelines
                assert any(key in a for a in params.values()), (ckpt.hub_id, key)
            core = {"spatio_temporal_guidance_blocks", "use_cross_timestep", "guidance_scale_2", "decode_timestep"}
            for key in core & set(st.call_kwargs):  # version settings reach every task's pipeline
                assert all(key in a for a in params.values()), (ckpt.hub_id, key)


def test_pipeline_construction_arguments_exist() -> None:
    """derive_pipeline builds task pipelines from the base's components: the classes still take them."""
    wan_i2v = inspect.signature(diffusers.WanImageToVideoPipeline.__init__).parameters
    assert {"boundary_ratio", "expand_timesteps", "image_encoder", "transformer_2"} <= set(wan_i2v)
    ltx2_cond = inspect.signature(diffusers.LTX2ConditionPipeline.__init__).parameters
    assert ltx2_cond["audio_scheduler"].default is None  # optional: the base LTX2Pipeline has none


def test_hf_cli_exists_and_messages_use_it() -> None:
    scripts = {e.name for e in md.entry_points(group="console_scripts")}
    assert "hf" in scripts  # huggingface_hub's CLI (the old huggingface-cli is gone in 1.x+)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "sora_lite").rglob("*.py")
                 if "huggingface-cli download" in p.read_text() and "hf download" not in p.read_text()]
    assert offenders == []  # where the old command is still named, the new one comes first
