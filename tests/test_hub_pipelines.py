"""Every Hub family end to end on tiny random pipelines: save_pretrained → get_engine(folder) → create_clip → MP4.

The folders stand in for downloaded Hub snapshots; the engine finds each family from its model_index.json
exactly as for a real checkpoint. Sizes are tiny (64 px, 5–9 frames, 2 steps) to keep the module fast.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

pytest.importorskip("diffusers")

from hub_fixtures import save_tiny  # noqa: E402
from sora_lite.engines import Cancelled, EngineUnavailable, GenerationRequest, RequestError, get_engine  # noqa: E402
from sora_lite.engines.hub import loading  # noqa: E402
from sora_lite.media import Clip, read_video, write_video  # noqa: E402
from sora_lite.studio import create_clip  # noqa: E402

# LTX-2.0's recommended guidance (STG on block 29, modality guidance) needs a 48-layer model; the 2-layer tiny
# one runs plain CFG (tests/test_hub_settings.py checks the recommended arguments reach the pipeline).
LTX2_TINY = {"stg_scale": 0.0, "audio_stg_scale": 0.0, "spatio_temporal_guidance_blocks": None,
             "modality_scale": 1.0, "audio_modality_scale": 1.0, "audio_guidance_scale": 1.0}
# 64 px: the studio flow refuses to watermark anything smaller.
SIZES = {"ltx2": 64, "wan": 64, "wan2.2-ti2v": 64, "ltx-video": 64, "cogvideox": 64, "cogvideox-i2v": 64}
FRAMES = {"ltx2": 9, "wan": 5, "wan2.2-ti2v": 5, "ltx-video": 9, "cogvideox": 9, "cogvideox-i2v": 9}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny pipelines, built on first use and saved once per module."""
    root = tmp_path_factory.mktemp("hub_models")
    built: dict[str, Path] = {}

    class Lazy(dict):
        def __missing__(self, name: str) -> Path:
            built[name] = save_tiny(name, root / name)
            self[name] = built[name]
            return built[name]

    yield Lazy()
    loading.release_resident()


def _request(name: str, folder: Path, **fields) -> GenerationRequest:
    options = {"steps": 2, "guidance": 1.0, "size": [SIZES[name]] * 2, "num_frames": FRAMES[name]}
    if name == "ltx2":
        options["pipeline_kwargs"] = LTX2_TINY
    options.update(fields.pop("options", {}))
    return GenerationRequest(prompt=fields.pop("prompt", "a red ball bouncing on a wooden floor"),
                             engine=str(folder), options=options, **fields)


def _still(path: Path, size: int = 32) -> str:
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path)
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ltx2", "wan", "wan2.2-ti2v", "ltx-video", "cogvideox"])
def test_text_to_video_through_the_studio_flow(name: str, folders, tmp_path: Path) -> None:
    calls: list[tuple[str, float]] = []
    rec = create_clip(_request(name, folders[name]), tmp_path / "t2v.mp4", progress=lambda s, f: calls.append((s, f)))
    clip = read_video(rec.video_path)
    size = SIZES[name]
    assert (clip.width, clip.height) == (size, size)
    assert clip.num_frames == rec.info["frames"] > 0
    assert rec.info["task"] == "t2v" and rec.info["family"] == name
    assert clip.fps == rec.info["fps"]
    assert rec.info["snapped"]["size"] == {"asked": [256, 256], "used": [size, size], "why": "options.size"}
    denoise = [f for s, f in calls if s == "denoise"]
    assert denoise == [0.0, 0.5, 1.0]  # start, then once per step (2 steps)
    if name == "ltx2":
        assert rec.info["audio_source"] == "model"
    else:
        assert rec.info["audio_source"] in ("none", "foley: motion events")
        assert clip.has_audio == (rec.info["audio_source"] != "none")


def test_frame_rule_and_fps_are_snapped_and_recorded(folders, tmp_path: Path) -> None:
    req = _request("wan", folders["wan"], fps=30, options={"num_frames": 7})
    rec = create_clip(req, tmp_path / "snap.mp4")
    assert rec.info["snapped"]["frames"] == {"asked": 7, "used": 9, "rule": "4k+1"}  # nearest 4k+1 (ties go up)
    assert rec.info["snapped"]["fps"] == {"asked": 30, "used": 16}
    clip = read_video(rec.video_path)
    assert clip.num_frames == 9 and clip.fps == 16


@pytest.mark.slow
def test_ltx2_audio_is_muxed_into_the_mp4(folders, tmp_path: Path) -> None:
    rec = create_clip(_request("ltx2", folders["ltx2"]), tmp_path / "ltx2.mp4")
    with av.open(rec.video_path) as container:
        assert len(container.streams.audio) == 1
        assert container.streams.audio[0].sample_rate > 0
        video_s = float(container.streams.video[0].frames / container.streams.video[0].average_rate)
    clip = read_video(rec.video_path)
    assert clip.has_audio and clip.audio.shape[0] == 2
    assert abs(clip.audio.shape[1] / clip.sample_rate - video_s) < 0.1
    assert rec.info["audio_source"] == "model"


@pytest.mark.parametrize("name,pipeline", [
    ("ltx2", "LTX2ImageToVideoPipeline"),
    ("wan2.2-ti2v", "WanImageToVideoPipeline"),
    ("ltx-video", "LTXImageToVideoPipeline"),
    ("cogvideox-i2v", "CogVideoXImageToVideoPipeline"),
])  # a T2V-only checkpoint (Wan 2.1 T2V) refuses a still: tests/test_hub_settings.py
@pytest.mark.slow
def test_image_to_video(name: str, pipeline: str, folders, tmp_path: Path) -> None:
    req = _request(name, folders[name], image=_still(tmp_path / "still.png"))
    rec = create_clip(req, tmp_path / "i2v.mp4")
    assert rec.info["pipeline"] == pipeline
    assert "given image" in rec.info["conditioning"]
    assert read_video(rec.video_path).num_frames == rec.info["frames"]


def test_cogvideox_i2v_runs_at_its_trained_size_and_says_so(folders, tmp_path: Path) -> None:
    req = _request("cogvideox-i2v", folders["cogvideox-i2v"], image=_still(tmp_path / "s.png"),
                   options={"size": [96, 96]})
    rec = create_clip(req, tmp_path / "cog.mp4")
    assert rec.info["snapped"]["size"]["used"] == [64, 64]
    assert "learned positional" in rec.info["snapped"]["size"]["why"]


def test_i2v_only_checkpoint_refuses_text_alone(folders) -> None:
    engine = get_engine(str(folders["cogvideox-i2v"]))
    with pytest.raises(RequestError, match="pass an image"):
        engine.generate(_request("cogvideox-i2v", folders["cogvideox-i2v"]))


@pytest.mark.parametrize("name,pipeline", [
    ("ltx2", "LTX2ConditionPipeline"),
    ("wan", "WanVideoToVideoPipeline"),
    ("ltx-video", "LTXConditionPipeline"),
    ("cogvideox", "CogVideoXVideoToVideoPipeline"),
    ("wan2.2-ti2v", "WanImageToVideoPipeline"),  # no v2v: the parent's first frame conditions the remix
])
@pytest.mark.slow
def test_remix_uses_video_to_video_or_the_parents_first_frame(name: str, pipeline: str, folders,
                                                             tmp_path: Path) -> None:
    size = SIZES[name]
    rng = np.random.default_rng(1)
    parent = tmp_path / "parent.mp4"
    write_video(Clip(frames=rng.integers(0, 255, (12, size, size, 3), dtype=np.uint8), fps=12), parent)
    rec = create_clip(_request(name, folders[name], parent_video=str(parent)), tmp_path / "remix.mp4")
    assert rec.info["pipeline"] == pipeline
    expected = "parent video" if pipeline != "WanImageToVideoPipeline" else "parent's first frame"
    assert rec.info["conditioning"].startswith(expected)
    assert read_video(rec.video_path).num_frames == rec.info["frames"]


@pytest.mark.slow
def test_storyboard_conditions_each_shot_on_the_previous_last_frame(folders, tmp_path: Path) -> None:
    shots = [{"prompt": "a red ball", "camera": "static", "seconds": 0.2},
             {"prompt": "a blue ball", "camera": "static", "seconds": 0.2}]
    req = _request("ltx2", folders["ltx2"], shots=shots)  # shot lengths come from the shots, not num_frames
    rec = create_clip(req, tmp_path / "story.mp4")
    info = rec.info["shots"]
    assert [s["conditioned_on"] for s in info] == ["prompt", "previous shot's last frame (image-to-video)"]
    assert info[1]["pipeline"] == "LTX2ImageToVideoPipeline"
    assert info[0]["end_frame"] == info[1]["start_frame"] == 9  # 0.2 s at 24 fps → 5 → snapped to 8k+1 = 9
    clip = read_video(rec.video_path)
    assert clip.num_frames == info[1]["end_frame"] == 18
    assert clip.has_audio and abs(clip.audio.shape[1] / clip.sample_rate - 18 / 24) < 0.1


def test_cancel_between_steps_writes_nothing(folders, tmp_path: Path) -> None:
    cancel = threading.Event()
    steps: list[float] = []

    def progress(stage: str, fraction: float) -> None:
        if stage == "denoise" and fraction > 0:
            steps.append(fraction)
            cancel.set()

    out = tmp_path / "cancelled.mp4"
    with pytest.raises(Cancelled):
        create_clip(_request("wan", folders["wan"], options={"steps": 4}), out, progress=progress, cancel=cancel)
    assert steps == [0.25] and not out.exists()


def test_missing_weights_fail_fast_with_how_to_get_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    engine = get_engine("Lightricks/LTX-2")
    ok, why = engine.availability()
    assert not ok and "hf download Lightricks/LTX-2" in why
    t0 = time.monotonic()
    with pytest.raises(EngineUnavailable) as err:
        engine.generate(GenerationRequest(prompt="a ball", engine="Lightricks/LTX-2"))
    assert time.monotonic() - t0 < 5.0
    msg = str(err.value)
    assert "Lightricks/LTX-2" in msg and "hf download Lightricks/LTX-2" in msg
    assert "HF_HOME" in msg and "HF_TOKEN" in msg


def test_missing_weights_online_check_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not offline, not cached, no network here: the Hub check fails within seconds, naming the model."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(loading, "HUB_CHECK_TIMEOUT_S", 2.0)
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    t0 = time.monotonic()
    with pytest.raises(EngineUnavailable, match="THUDM/CogVideoX-2b.*hf download THUDM/CogVideoX-2b"):
        get_engine("THUDM/CogVideoX-2b").generate(GenerationRequest(prompt="a ball", engine="THUDM/CogVideoX-2b"))
    assert time.monotonic() - t0 < 15.0
    assert os.environ["HF_HUB_OFFLINE"] == "0"


# --- cameos: reference conditioning (VACE) and a composed first frame (image-to-video) -------------------------


def _build_wan_vace() -> object:
    """Wan 2.1 VACE-shaped: the Wan tiny pipeline's parts with a VACE transformer (16 latent channels, so the
    control input is 2×16 video latents + 8×8 mask channels = 96)."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanVACEPipeline, WanVACETransformer3DModel

    from hub_fixtures import tiny_t5, tiny_tokenizer

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32, vace_layers=[0], vace_in_channels=96)
    return WanVACEPipeline(tokenizer=tiny_tokenizer(), text_encoder=tiny_t5(), vae=vae,
                           scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), transformer=transformer)


def _face_png(path: Path) -> str:
    """A stand-in face: any picture works for the conditioning path (the likeness itself is not judged here)."""
    from PIL import Image

    y, x = np.mgrid[0:96, 0:80]
    img = np.stack([x * 3 % 256, y * 2 % 256, (x + y) % 256], axis=-1).astype(np.uint8)
    Image.fromarray(img).save(path)
    return str(path)


def _cameo_option(face: str, handle: str = "alice") -> list[dict]:
    return [{"handle": handle, "cameo_id": "c1", "owner": handle, "kind": "owner", "grant_id": None,
             "display_name": handle, "face_texture": face, "voice": None}]


def _spy(monkeypatch: pytest.MonkeyPatch, pipeline_class: type) -> dict:
    """Record the keyword arguments the engine passes to `pipeline_class.__call__` (signature kept)."""
    import functools

    seen: dict = {}
    original = pipeline_class.__call__

    @functools.wraps(original)
    def call(self, *args, **kwargs):
        seen.update(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pipeline_class, "__call__", call)
    return seen


def test_cameo_face_reaches_wan_vace_as_a_reference_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import WanVACEPipeline

    from sora_lite.engines.hub.engine import compose_cameo_frame

    folder = tmp_path / "wan-vace"
    _build_wan_vace().save_pretrained(folder)
    face = _face_png(tmp_path / "face.png")
    seen = _spy(monkeypatch, WanVACEPipeline)
    req = GenerationRequest(prompt="@alice waves", engine=str(folder),
                            options={"steps": 2, "guidance": 1.0, "size": [64, 64], "num_frames": 5,
                                     "cameos": _cameo_option(face)})
    rec = create_clip(req, tmp_path / "vace.mp4")
    assert rec.info["pipeline"] == "WanVACEPipeline" and rec.info["task"] == "ref"
    assert rec.info["cameo_conditioning"]["method"].startswith("reference images")
    assert rec.info["cameo_conditioning"]["cameos"] == ["alice"] and "@alice" in rec.info["conditioning"]
    [ref] = seen["reference_images"]
    from sora_lite.media import read_image

    assert np.array_equal(np.asarray(ref), compose_cameo_frame([read_image(face)], (64, 64)))
    assert read_video(rec.video_path).num_frames == rec.info["frames"]
    loading.release_resident()


def test_wan_vace_makes_text_to_video_through_its_own_pipeline(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """No cameo, no references: VACE runs plain text-to-video in WanVACEPipeline (control video all zeros,
    mask all ones), never through WanPipeline, which would give the VACE blocks no control input."""
    from diffusers import WanPipeline, WanVACEPipeline

    folder = tmp_path / "wan-vace"
    _build_wan_vace().save_pretrained(folder)
    engine = get_engine(str(folder))
    assert engine.ref.tasks == ("ref", "t2v") and engine.ref.pipeline_for("t2v") == "WanVACEPipeline"
    seen = _spy(monkeypatch, WanVACEPipeline)
    plain = _spy(monkeypatch, WanPipeline)
    req = GenerationRequest(prompt="a red ball bouncing", engine=str(folder),
                            options={"steps": 2, "guidance": 1.0, "size": [64, 64], "num_frames": 5, "foley": False})
    rec = create_clip(req, tmp_path / "vace-t2v.mp4")
    assert rec.info["task"] == "t2v" and rec.info["pipeline"] == "WanVACEPipeline"
    assert rec.info["conditioning"] == "prompt" and "cameo_conditioning" not in rec.info
    assert seen["prompt"] == "a red ball bouncing" and not plain
    assert seen.get("reference_images") is None and seen.get("video") is None
    clip = read_video(rec.video_path)
    assert (clip.width, clip.height, clip.num_frames) == (64, 64, 5)
    assert clip.frames.std() > 0  # something was generated, not a blank control video passed through
    loading.release_resident()


def test_cameo_composes_the_first_frame_for_image_to_video(folders, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from diffusers import WanImageToVideoPipeline

    face = _face_png(tmp_path / "face.png")
    seen = _spy(monkeypatch, WanImageToVideoPipeline)
    rec = create_clip(_request("wan2.2-ti2v", folders["wan2.2-ti2v"], prompt="@alice smiles",
                               options={"cameos": _cameo_option(face)}), tmp_path / "ti2v.mp4")
    assert rec.info["pipeline"] == "WanImageToVideoPipeline"
    assert rec.info["cameo_conditioning"]["method"] == "composed first frame (image-to-video)"
    first = np.asarray(seen["image"])
    assert first.shape == (64, 64, 3)
    assert np.abs(first[2, 2].astype(int) - first[-3, -3].astype(int)).max() < 60  # backdrop: neutral grey
    assert first[2, 2].std() < 5 and first[32, 32].std() > 5  # the face, coloured, in the middle

    still = _still(tmp_path / "still.png")  # the request's own image wins, and the record says so
    rec = create_clip(_request("wan2.2-ti2v", folders["wan2.2-ti2v"], image=still,
                               options={"cameos": _cameo_option(face)}), tmp_path / "own.mp4")
    assert rec.info["cameo_conditioning"]["method"] == "none" and "given image" in rec.info["conditioning"]


def test_cameo_on_a_checkpoint_that_cannot_show_one_is_refused(tmp_path: Path) -> None:
    face = _face_png(tmp_path / "face.png")
    req = GenerationRequest(prompt="@alice waves", engine="Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
                            options={"cameos": _cameo_option(face)})
    with pytest.raises(RequestError, match=r"cannot show @alice.*VACE"):
        get_engine("Wan-AI/Wan2.1-T2V-1.3B-Diffusers").generate(req)
    with pytest.raises(RequestError, match="face of cameo @alice"):
        get_engine("Wan-AI/Wan2.1-VACE-1.3B-diffusers").generate(
            GenerationRequest(prompt="@alice", options={"cameos": _cameo_option(str(tmp_path / "gone.png"))}))


def test_composed_cameo_frame_keeps_each_face_upright_on_a_neutral_backdrop() -> None:
    from sora_lite.engines.hub.engine import compose_cameo_frame

    face = np.zeros((40, 40, 3), np.uint8)
    face[:20] = (250, 40, 40)  # red top half: upright faces keep it on top
    face[20:] = (40, 40, 250)
    one = compose_cameo_frame([face], (160, 96))
    assert one.shape == (96, 160, 3) and one.dtype == np.uint8
    column = one[:, 80].astype(int)
    red = np.nonzero(column[:, 0] - column[:, 2] > 100)[0]
    blue = np.nonzero(column[:, 2] - column[:, 0] > 100)[0]
    assert red.size and blue.size and red.max() < blue.min()
    assert abs(int(one[2, 2, 0]) - int(one[2, 2, 2])) < 20  # corners: grey
    two = compose_cameo_frame([face, face], (160, 96))
    reds = np.nonzero(two[:, :, 0].astype(int) - two[:, :, 2] > 100)[1]
    assert reds.min() < 80 < reds.max() and not ((two[:, 78:82, 0].astype(int) - two[:, 78:82, 2]) > 100).any()
