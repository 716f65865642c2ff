"""What reaches each pipeline call, per family and task: recommended settings, remix input, snapped size/frames.

The pipelines are the tiny random ones, really loaded; their `__call__` is replaced by a recorder that keeps
the signature (the engine filters arguments by it) and returns blank frames of the asked shape, so a
1280×720 request costs nothing and the assertions are about the arguments, not the pictures.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("diffusers")

from hub_fixtures import TinyFolders  # noqa: E402
from sora_lite.engines import GenerationRequest, RequestError, get_engine  # noqa: E402
from sora_lite.engines.hub import families, loading  # noqa: E402
from sora_lite.engines.hub.engine import HubEngine  # noqa: E402
from sora_lite.media import Clip, write_video  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub_settings")
    yield TinyFolders(root)
    loading.release_resident()


def record_calls(monkeypatch: pytest.MonkeyPatch, *classes: type) -> list[dict]:
    """Replace each class's __call__ by a recorder (signature kept) that returns blank frames (and audio)."""
    import torch

    calls: list[dict] = []
    for cls in classes:
        original = cls.__call__

        def fake(self, *args, _cls=cls, **kwargs):
            calls.append({"pipeline": _cls.__name__, "scheduler": dict(self.scheduler.config), **kwargs})
            n = kwargs.get("num_frames") or len(kwargs.get("video") or []) or 9
            frames = np.zeros((1, n, kwargs["height"], kwargs["width"], 3), np.float32)
            audio = torch.zeros(1, 2, int(n / kwargs.get("frame_rate", 24) * 24000))
            return SimpleNamespace(frames=frames, audio=audio)

        monkeypatch.setattr(cls, "__call__", functools.wraps(original)(fake))
    return calls


def _engine(folder: Path, as_id: str | None = None) -> HubEngine:
    """The engine for a tiny folder; `as_id`: with the settings of that registry checkpoint."""
    ref = get_engine(str(folder)).ref
    if as_id:
        ref = dataclasses.replace(ref, model_id=as_id, settings=ref.family.settings_for(as_id))
    return HubEngine(ref)


def _parent(tmp_path: Path, n: int = 12, size: int = 64) -> tuple[str, np.ndarray]:
    """Smooth coloured gradients that drift frame by frame (they survive the H.264 round trip)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    frames = np.stack([np.stack([(x * 3 + 9 * t) % 256, (y * 3) % 256, np.full_like(x, 20 * t % 256)], -1)
                       for t in range(n)]).astype(np.uint8)
    path = tmp_path / "parent.mp4"
    write_video(Clip(frames=frames, fps=12), path)
    return str(path), frames


def _req(folder: Path, **fields) -> GenerationRequest:
    options = {"size": [64, 64], "foley": False, **fields.pop("options", {})}
    return GenerationRequest(prompt="a red ball", engine=str(folder), options=options, **fields)


def test_ltx2_0_runs_with_its_own_version_settings(folders, monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import LTX2Pipeline

    calls = record_calls(monkeypatch, LTX2Pipeline)
    res = _engine(folders["ltx2"], "Lightricks/LTX-2").generate(_req(folders["ltx2"]))
    [kw] = calls
    assert kw["spatio_temporal_guidance_blocks"] == [29] and kw["use_cross_timestep"] is False
    assert kw["guidance_scale"] == 3.0 and kw["num_inference_steps"] == 30
    assert kw["stg_scale"] == 1.0 and kw["modality_scale"] == 3.0 and kw["audio_guidance_scale"] == 7.0
    assert kw["negative_prompt"] == families.LTX_NEGATIVE
    st = res.info["settings"]
    assert st["passed"]["spatio_temporal_guidance_blocks"] == [29] and st["passed"]["use_cross_timestep"] is False
    assert "LTX-2.0" in st["source"] and st["dropped"] == []


def test_user_options_override_the_recommended_settings_and_the_record_says_so(folders, monkeypatch) -> None:
    from diffusers import LTX2Pipeline

    calls = record_calls(monkeypatch, LTX2Pipeline)
    opts = {"steps": 3, "guidance": 1.0, "negative_prompt": "ugly",
            "pipeline_kwargs": {"spatio_temporal_guidance_blocks": None, "not_an_argument": 1}}
    res = _engine(folders["ltx2"]).generate(_req(folders["ltx2"], options=opts))
    [kw] = calls
    assert kw["num_inference_steps"] == 3 and kw["guidance_scale"] == 1.0 and kw["negative_prompt"] == "ugly"
    assert kw["spatio_temporal_guidance_blocks"] is None and "not_an_argument" not in kw
    st = res.info["settings"]
    assert st["dropped"] == ["not_an_argument"]
    assert set(st["from_options"]) >= {"steps", "guidance", "negative_prompt", "spatio_temporal_guidance_blocks"}


def test_ltx2_remix_passes_the_parent_video_as_a_condition(folders, monkeypatch, tmp_path: Path) -> None:
    from diffusers import LTX2ConditionPipeline

    calls = record_calls(monkeypatch, LTX2ConditionPipeline)
    path, frames = _parent(tmp_path)
    res = _engine(folders["ltx2"]).generate(_req(folders["ltx2"], parent_video=path,
                                                options={"num_frames": 9, "remix_strength": 0.7}))
    [kw] = calls
    [cond] = kw["conditions"]
    assert len(cond.frames) == kw["num_frames"] == 9 and cond.index == 0
    assert cond.strength == pytest.approx(0.3)  # keep = 1 − remix strength
    first = np.asarray(cond.frames[0]).astype(int)
    assert np.abs(first - frames[0].astype(int)).mean() < 20  # the parent's pixels (after an H.264 round trip)
    assert res.info["conditioning"].startswith("parent video")


@pytest.mark.slow
@pytest.mark.parametrize("height,shift", [(480, 3.0), (720, 5.0)])
def test_wan21_t2v_settings_and_flow_shift_by_resolution(height: int, shift: float, folders, monkeypatch) -> None:
    from diffusers import WanPipeline

    calls = record_calls(monkeypatch, WanPipeline)
    width = 832 if height == 480 else 1280
    res = _engine(folders["wan"], "Wan-AI/Wan2.1-T2V-1.3B-Diffusers").generate(
        _req(folders["wan"], options={"size": [width, height]}))
    [kw] = calls
    assert (kw["width"], kw["height"]) == (width, height)
    assert kw["scheduler"]["shift"] == shift  # the tiny Wan uses FlowMatchEuler, whose flow shift is `shift`
    assert kw["negative_prompt"] == families.WAN_NEGATIVE and kw["guidance_scale"] == 5.0
    assert kw["num_inference_steps"] == 50 and "guidance_scale_2" not in kw
    assert res.info["settings"]["flow_shift"]["shift"] == shift


def test_wan22_a14b_passes_guidance_scale_2(folders, monkeypatch) -> None:
    from diffusers import WanPipeline

    loading.release_resident()  # a fresh load: the scheduler as the checkpoint ships it
    calls = record_calls(monkeypatch, WanPipeline)
    _engine(folders["wan"], "Wan-AI/Wan2.2-T2V-A14B-Diffusers").generate(_req(folders["wan"]))
    [kw] = calls
    assert kw["guidance_scale"] == 4.0 and kw["guidance_scale_2"] == 3.0 and kw["num_inference_steps"] == 40
    assert kw["scheduler"]["shift"] == 7.0  # the checkpoint's own scheduler: no 2.1 shift rule


def test_wan_remix_passes_the_parent_video(folders, monkeypatch, tmp_path: Path) -> None:
    from diffusers import WanVideoToVideoPipeline

    calls = record_calls(monkeypatch, WanVideoToVideoPipeline)
    path, frames = _parent(tmp_path)
    _engine(folders["wan"]).generate(_req(folders["wan"], parent_video=path, options={"num_frames": 9}))
    [kw] = calls
    assert len(kw["video"]) == 9 and kw["strength"] == 0.6
    assert np.abs(np.asarray(kw["video"][-1]).astype(int) - frames[-1].astype(int)).mean() < 20


def test_wan21_t2v_refuses_a_still_instead_of_faking_image_to_video(folders, monkeypatch, tmp_path: Path) -> None:
    from PIL import Image

    from diffusers import WanVideoToVideoPipeline

    calls = record_calls(monkeypatch, WanVideoToVideoPipeline)
    still = tmp_path / "still.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(still)
    with pytest.raises(RequestError, match=r"cannot animate a still image.*Wan2.1-I2V-14B-480P"):
        _engine(folders["wan"], "Wan-AI/Wan2.1-T2V-1.3B-Diffusers").generate(_req(folders["wan"], image=str(still)))
    assert calls == []


def test_ltx_video_settings_and_remix(folders, monkeypatch, tmp_path: Path) -> None:
    from diffusers import LTXConditionPipeline, LTXPipeline

    calls = record_calls(monkeypatch, LTXPipeline, LTXConditionPipeline)
    engine = _engine(folders["ltx-video"], "Lightricks/LTX-Video-0.9.5")
    engine.generate(_req(folders["ltx-video"]))
    path, _ = _parent(tmp_path)
    engine.generate(_req(folders["ltx-video"], parent_video=path, options={"remix_strength": 0.5}))
    t2v, v2v = calls
    assert t2v["pipeline"] == "LTXPipeline" and v2v["pipeline"] == "LTXConditionPipeline"
    for kw in calls:
        assert kw["decode_timestep"] == 0.05 and kw["guidance_scale"] == 5.0
        assert kw["negative_prompt"] == families.LTX_NEGATIVE and kw["num_inference_steps"] == 40
    assert "image_cond_noise_scale" not in t2v  # LTXPipeline does not take it
    assert v2v["image_cond_noise_scale"] == 0.025 and v2v["strength"] == 0.5 and len(v2v["video"]) == v2v["num_frames"]


def test_cogvideox_runs_at_its_trained_size_and_frame_rule(folders, monkeypatch) -> None:
    from diffusers import CogVideoXPipeline

    calls = record_calls(monkeypatch, CogVideoXPipeline)
    res = _engine(folders["cogvideox"], "THUDM/CogVideoX-5b").generate(
        GenerationRequest(prompt="a red ball", engine="x", width=256, height=256, seconds=2.0, fps=24,
                          options={"foley": False}))
    [kw] = calls
    assert (kw["width"], kw["height"]) == (64, 64)  # the tiny model's trained size (real: 720×480)
    assert kw["num_frames"] == 17 and (kw["num_frames"] - 1) % 8 == 0  # 2 s at 8 fps → 8N+1
    assert res.info["snapped"]["size"]["used"] == [64, 64] and "trained size" in res.info["snapped"]["size"]["why"]
    assert res.info["fps"] == 8 and kw["guidance_scale"] == 6.0
    assert families.family_named("cogvideox").snap_frames(200) == 49


def test_cogvideox_i2v_locks_the_frame_count(folders, monkeypatch, tmp_path: Path) -> None:
    from PIL import Image

    from diffusers import CogVideoXImageToVideoPipeline

    calls = record_calls(monkeypatch, CogVideoXImageToVideoPipeline)
    still = tmp_path / "s.png"
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(still)
    res = _engine(folders["cogvideox-i2v"], "THUDM/CogVideoX-5b-I2V").generate(
        _req(folders["cogvideox-i2v"], image=str(still), options={"num_frames": 17}))
    [kw] = calls
    assert kw["num_frames"] == 9  # the tiny transformer's sample_frames (real: 49)
    assert kw["use_dynamic_cfg"] is True and kw["image"] is not None
    assert res.info["snapped"]["frames"]["used"] == 9 and "trained frame count" in res.info["snapped"]["frames"]["rule"]


def test_cogvideox_remix_passes_video_and_strength(folders, monkeypatch, tmp_path: Path) -> None:
    from diffusers import CogVideoXVideoToVideoPipeline

    calls = record_calls(monkeypatch, CogVideoXVideoToVideoPipeline)
    path, _ = _parent(tmp_path)
    _engine(folders["cogvideox"]).generate(_req(folders["cogvideox"], parent_video=path,
                                                options={"num_frames": 9, "remix_strength": 0.4}))
    [kw] = calls
    assert len(kw["video"]) == 9 and kw["strength"] == 0.4


def test_registry_settings_are_complete() -> None:
    """Every checkpoint resolves to settings with a source; version-specific ones differ where the docs say."""
    for fam in families.FAMILIES:
        for ckpt in fam.checkpoints:
            st = fam.settings_for(ckpt.hub_id)
            assert st.source and st.steps > 0 and st.max_frames <= fam.max_frames, ckpt.hub_id
            assert all(v in families.DTYPES for v in st.component_dtypes.values())
            assert st.dtype in (None, *families.DTYPES)
    assert families.family_named("cogvideox").settings_for("THUDM/CogVideoX-2b").dtype == "float16"
    assert families.family_named("wan").settings_for("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers").component_dtypes == {
        "vae": "float32", "image_encoder": "float32"}
    wan = families.family_named("wan").settings_for("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert (wan.flow_shift_for(480), wan.flow_shift_for(720)) == (3.0, 5.0)
