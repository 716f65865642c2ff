"""The Hub registry, model resolution, memory policy, the `models` listing and foley — no pipelines run here."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sora_lite.engines import RequestError, get_engine
from sora_lite.engines.hub import families, foley, loading
from sora_lite.engines.hub.cli import add_models_parser, run_models
from sora_lite.engines.hub.engine import HubEngine
from sora_lite.engines.hub.families import FAMILIES, TASKS, family_named, family_of_model_index


def test_every_family_entry_is_complete_and_consistent() -> None:
    assert {f.name for f in FAMILIES} >= {"ltx2", "wan", "wan2.2-ti2v", "ltx-video", "cogvideox"}
    import diffusers

    for fam in FAMILIES:
        assert fam.checkpoints and fam.pipelines.get("t2v") or fam.pipelines.get("i2v")
        for task, cls in fam.pipelines.items():
            assert task in TASKS and hasattr(diffusers, cls), (fam.name, cls)
        for ckpt in fam.checkpoints:
            assert set(ckpt.tasks) <= set(fam.pipelines), (fam.name, ckpt.hub_id)
            assert set(ckpt.pipelines) <= set(ckpt.tasks), (fam.name, ckpt.hub_id)
            assert all(hasattr(diffusers, cls) for cls in ckpt.pipelines.values()), (fam.name, ckpt.hub_id)
            assert ckpt.approx_memory_gib > 0
        m, o = fam.frame_rule
        assert fam.max_frames % m == o
        assert json.loads(json.dumps(fam.to_dict()))["name"] == fam.name
    ltx2 = family_named("LTX-2")
    assert ltx2.default_id == "Lightricks/LTX-2" and ltx2.makes_audio
    assert not any(f.makes_audio for f in FAMILIES if f.name != "ltx2")
    assert family_named("wan").pipelines["ref"] == "WanVACEPipeline"


@pytest.mark.parametrize("name,asked,expected", [
    ("ltx2", 24, 25), ("ltx2", 1, 9), ("ltx2", 1000, 257), ("wan", 16, 17), ("wan", 80, 81), ("wan", 200, 81),
    ("cogvideox", 49, 49), ("cogvideox", 8, 9), ("ltx-video", 121, 121),
])
def test_frame_rules(name: str, asked: int, expected: int) -> None:
    fam = family_named(name)
    got = fam.snap_frames(asked)
    m, o = fam.frame_rule
    assert got == expected and (got - o) % m == 0


def test_size_snaps_to_the_multiple() -> None:
    assert family_named("ltx2").snap_size(250, 130) == (256, 128)
    assert family_named("wan").snap_size(830, 479) == (832, 480)
    assert family_named("wan").snap_size(3, 3) == (16, 16)


def test_model_index_picks_the_family() -> None:
    assert family_of_model_index({"_class_name": "WanPipeline"}).name == "wan"
    assert family_of_model_index({"_class_name": "WanPipeline", "expand_timesteps": True}).name == "wan2.2-ti2v"
    assert family_of_model_index({"_class_name": "LTX2Pipeline"}).name == "ltx2"
    assert family_of_model_index({"_class_name": "StableDiffusionPipeline"}) is None


def test_resolver_builds_engines_for_names_ids_and_folders(tmp_path: Path) -> None:
    e = get_engine("ltx2")
    assert isinstance(e, HubEngine) and e.ref.model_id == "Lightricks/LTX-2" and e.ref.tasks == ("t2v", "i2v", "v2v")
    assert get_engine("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers").ref.tasks == ("i2v",)
    folder = tmp_path / "my-cog"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "CogVideoXVideoToVideoPipeline"}))
    ref = get_engine(str(folder)).ref
    assert ref.family.name == "cogvideox" and ref.tasks == ("t2v", "v2v") and ref.local_dir
    vace = get_engine("Wan-AI/Wan2.1-VACE-1.3B-diffusers").ref  # VACE weights need VACE's pipeline for t2v
    assert vace.class_name == "WanVACEPipeline" and vace.tasks == ("ref", "t2v")
    assert vace.pipeline_for("t2v") == vace.pipeline_for("ref") == "WanVACEPipeline"
    assert vace.pipeline_for("i2v") is None
    assert get_engine("Wan-AI/Wan2.1-T2V-1.3B-Diffusers").ref.pipeline_for("t2v") == "WanPipeline"
    vace_folder = tmp_path / "my-vace"
    vace_folder.mkdir()
    (vace_folder / "model_index.json").write_text(json.dumps({"_class_name": "WanVACEPipeline"}))
    assert get_engine(str(vace_folder)).ref.pipeline_for("t2v") == "WanVACEPipeline"
    odd = tmp_path / "sd"
    odd.mkdir()
    (odd / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(RequestError, match="cannot drive"):
        get_engine(str(odd))
    with pytest.raises(RequestError, match="unknown engine or model"):
        get_engine("nobody/not-a-cached-model")


def test_importing_the_package_loads_no_torch() -> None:
    code = ("import sys; from sora_lite.engines import get_engine; get_engine('wan'); "
            "import sora_lite.engines.hub.cli; print('torch' in sys.modules, 'diffusers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["False", "False"]


def test_memory_policy_follows_free_gpu_memory() -> None:
    assert loading.choose_memory_plan(20, "bfloat16", cuda=False).device == "cpu"
    full = loading.choose_memory_plan(20, "bfloat16", free_gib=78, cuda=True)
    assert (full.device, full.offload, full.vae_tiling) == ("cuda", "none", False)
    model = loading.choose_memory_plan(64, "bfloat16", free_gib=40, cuda=True)
    assert (model.offload, model.vae_tiling) == ("model", True)
    seq = loading.choose_memory_plan(64, "bfloat16", free_gib=16, cuda=True)
    assert (seq.offload, seq.vae_tiling, seq.vae_slicing) == ("sequential", True, True)


def test_gpu_estimate_grows_with_work() -> None:
    fam = family_named("wan")
    small = loading.estimate_seconds(fam, 256, 256, 17, 20)
    big = loading.estimate_seconds(fam, 832, 480, 81, 50)
    assert 20 < small < big


def test_models_listing_says_what_each_can_do_and_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_models_parser(parser.add_subparsers(dest="command"))
    assert run_models(parser.parse_args(["models"])) == 0
    out = capsys.readouterr().out
    assert "Lightricks/LTX-2" in out and "video + synchronized audio" in out
    assert "not downloaded" in out and "hf download" in out
    assert run_models(parser.parse_args(["models", "--json", "--family", "wan"])) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["family"] for r in rows} == {"wan"} and all(r["why_not"] for r in rows if not r["weights_present"])
    assert run_models(parser.parse_args(["models", "--family", "nope"])) == 2


def _square_video(stop_at: int, n: int = 24, size: int = 64) -> np.ndarray:
    """A bright square sliding right, slamming to a halt at frame `stop_at`, then a jolt back."""
    frames = np.zeros((n, size, size, 3), dtype=np.uint8)
    for t in range(n):
        x = min(t, stop_at) * 2 + (6 if t == stop_at + 1 else 0)
        frames[t, 24:40, x:x + 12] = 255
    return frames


def test_foley_places_impacts_at_motion_events() -> None:
    frames = _square_video(stop_at=12)
    events = foley.motion_events(frames, fps=24.0)
    assert events, "the jolt must be found"
    assert any(abs(e.time - 13 / 24) <= 1.5 / 24 for e in events)
    res = foley.foley_for(frames, 24.0, seed=1, prompt="a wooden block slides")
    assert res.source == "foley: motion events" and res.sample_rate == 48_000
    assert res.audio.shape[0] == 2 and abs(res.audio.shape[1] / 48_000 - 1.0) < 0.01
    assert res.info["timbre"] == "wood"
    onset = int(np.argmax(np.abs(res.audio[0]) > 0.01)) / 48_000
    assert min(abs(onset - e.time) for e in events) < 0.01


def test_foley_leaves_a_still_clip_silent() -> None:
    frames = np.full((16, 32, 32, 3), 90, dtype=np.uint8)
    res = foley.foley_for(frames, 16.0)
    assert res.audio is None and res.source == "none" and "why_silent" in res.info


def test_engine_snaps_and_records_without_loading(tmp_path: Path) -> None:
    from sora_lite.engines import GenerationRequest

    eng = get_engine("wan")
    info: dict = {"snapped": {}}
    req = GenerationRequest(prompt="x", seconds=2.0, fps=24, width=250, height=250)
    assert eng._snap_size(req, {}, info) == (256, 256)
    shots = eng._plan_shots(req, {}, 16, info)
    assert shots[0].frames == 33 and info["snapped"]["frames"] == {"asked": 32, "used": 33, "rule": "4k+1"}
    with pytest.raises(RequestError, match="options.size"):
        eng._snap_size(req, {"size": [0, "a"]}, info)
    i2v_only = get_engine("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers")
    with pytest.raises(RequestError, match=r"pass an image.*Wan2.1-T2V-1.3B"):
        i2v_only._first_call(req, {}, (256, 256), 17)
    with pytest.raises(RequestError, match="reference images"):
        get_engine("ltx2")._first_call(req, {"reference_images": ["x.png"]}, (256, 256), 17)


def test_registry_rows_are_json() -> None:
    rows = loading.registry_rows()
    assert len(rows) == sum(len(f.checkpoints) for f in families.FAMILIES)
    json.dumps(rows)
    a14b = next(r for r in rows if r["model_id"] == "Wan-AI/Wan2.2-T2V-A14B-Diffusers")["recommended"]
    assert a14b["call_kwargs"] == {"guidance_scale_2": 3.0} and a14b["steps"] == 40 and a14b["source"]


def test_models_listing_shows_each_checkpoints_settings(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_models_parser(parser.add_subparsers(dest="command"))
    assert run_models(parser.parse_args(["models", "--family", "wan"])) == 0
    out = capsys.readouterr().out
    assert "runs with 40 steps, guidance 4, 1280x720, bfloat16 (vae float32) (image_encoder float32), guidance_scale_2=3.0" in out
