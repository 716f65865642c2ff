"""Golden tests of the CLIP presets: frames, preprocessing and aggregation of each reference tool.

The EvalCrafter helper re-types the lines of its metrics/Scores_with_CLIP.py `calculate_clip_score`
(frames already decoded); the aggregation tests use a fake encoder with known cosines so each preset's
formula is checked exactly, including where the presets disagree (a frame with a negative cosine).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from test_metric_clip import build_tiny_clip

from eval.metrics.clip_score import (
    evalcrafter_pixels,
    load_clip_encoder,
    score_sample,
    select_frames,
    t2v_metrics_indices,
)
from eval.protocols import CLIP_PROTOCOLS, clip_protocol


def ref_evalcrafter_frames(frames: np.ndarray) -> list[torch.Tensor]:
    """EvalCrafter: cv2.resize(frame, (224, 224)); torch.from_numpy(frame).permute(2, 0, 1).float()."""
    import cv2

    resized = [cv2.resize(frame, (224, 224)) for frame in frames]
    return [torch.from_numpy(frame).permute(2, 0, 1).float() for frame in resized]


def ref_evalcrafter_score(frames: np.ndarray, text: str, model: torch.nn.Module, tokenizer) -> float:
    """EvalCrafter's calculate_clip_score after decoding: every frame, raw floats, mean raw cosine."""
    concatenated_features = torch.tensor([])
    with torch.no_grad():
        for frame in ref_evalcrafter_frames(frames):
            frame_input = frame.unsqueeze(0)
            frame_features = model.get_image_features(frame_input)
            frame_features = getattr(frame_features, "pooler_output", frame_features)  # transformers 5 output
            concatenated_features = torch.cat((concatenated_features, frame_features), dim=0)
    text_tokens = tokenizer(text, return_tensors="pt", padding=True, truncation=True, max_length=77)
    text_input = text_tokens["input_ids"]
    with torch.no_grad():
        text_features = model.get_text_features(text_input)
        text_features = getattr(text_features, "pooler_output", text_features)
    concatenated_features = concatenated_features / concatenated_features.norm(p=2, dim=-1, keepdim=True)
    text_features = text_features / text_features.norm(p=2, dim=-1, keepdim=True)
    clip_score_frames = concatenated_features @ text_features.T
    return clip_score_frames.mean().item()


@pytest.mark.parametrize("shape", [(32, 32), (45, 80), (300, 200)])
def test_evalcrafter_pixels_equal_reference(shape: tuple[int, int]) -> None:
    frames = np.random.default_rng(shape[0]).integers(0, 256, (3, *shape, 3), dtype=np.uint8)
    ours = evalcrafter_pixels(frames)
    torch.testing.assert_close(ours, torch.stack(ref_evalcrafter_frames(frames)), rtol=0, atol=0)
    assert ours.max() > 1.0  # unnormalised 0–255, as EvalCrafter feeds them


@pytest.fixture(scope="module")
def tiny_clip_224(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared tiny CLIP with a 224² vision tower (EvalCrafter hard-codes 224²) and a 224² processor."""
    import json

    directory = build_tiny_clip(tmp_path_factory.mktemp("clip224") / "openai-tiny-clip")
    from transformers import CLIPModel

    config = json.loads((directory / "config.json").read_text())
    config["vision_config"]["image_size"] = 224
    config["vision_config"]["patch_size"] = 56
    from transformers import CLIPConfig

    torch.manual_seed(1)
    CLIPModel(CLIPConfig(**{k: v for k, v in config.items() if k in ("text_config", "vision_config",
                                                                       "projection_dim")})).save_pretrained(directory)
    from transformers import CLIPImageProcessor, CLIPProcessor

    processor = CLIPProcessor.from_pretrained(directory)
    CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 224},
                                                     crop_size={"height": 224, "width": 224}),
                  tokenizer=processor.tokenizer).save_pretrained(directory)
    return directory


@pytest.mark.slow
def test_evalcrafter_preset_equals_reference_on_tiny_clip(tiny_clip_224: Path) -> None:
    from transformers import CLIPModel, CLIPTokenizer

    encoder = load_clip_encoder(str(tiny_clip_224))
    frames = np.random.default_rng(5).integers(0, 256, (5, 40, 72, 3), dtype=np.uint8)
    got = score_sample(frames, "a red ball", encoder, protocol=clip_protocol("evalcrafter"))
    model = CLIPModel.from_pretrained(tiny_clip_224).eval()
    expected = ref_evalcrafter_score(frames, "a red ball", model, CLIPTokenizer.from_pretrained(tiny_clip_224))
    assert got["clip_score"] == pytest.approx(expected, abs=1e-5)
    assert got["frames_used"] == 5  # every frame
    # CLIP-Temp, re-typed from calculate_clip_temp_score (frames already decoded to RGB).
    from torchvision import transforms

    resize = transforms.Resize([224, 224])
    tensor_frames = torch.stack([resize(torch.from_numpy(frame).permute(2, 0, 1).float()) for frame in frames])
    with torch.no_grad():
        feats = [model.get_image_features(frame.unsqueeze(0)) for frame in tensor_frames]
    feats = torch.cat([getattr(f, "pooler_output", f) for f in feats], dim=0)
    feats = feats / feats.norm(p=2, dim=-1, keepdim=True)
    temp = torch.cat([feats[i].unsqueeze(0) @ feats[i + 1].unsqueeze(0).T for i in range(feats.size()[0] - 1)], dim=0)
    assert got["clip_temp"] == pytest.approx(temp.mean().item(), abs=1e-5)
    # What the project did before presets (the processor's normalised pixels) is another number.
    normalised = encoder.image_embeddings(frames) @ encoder.text_embeddings(["a red ball"]).T
    assert float(normalised.mean()) != pytest.approx(expected, abs=1e-3)


class KnownEncoder:
    """Frame k's embedding has cosine `cos[k]` with every text embedding."""

    name = "known"

    def __init__(self, cos: list[float]) -> None:
        self.cos = cos
        self.seen: list[int] = []

    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        idx = [int(f[0, 0, 0]) for f in frames]
        self.seen = idx
        c = torch.tensor([self.cos[i] for i in idx], dtype=torch.float32)
        return torch.stack([c, torch.sqrt(1 - c**2)], 1)

    def text_embeddings(self, texts: list[str]) -> torch.Tensor:
        return torch.tensor([[1.0, 0.0]])


def indexed_video(t: int) -> np.ndarray:
    return np.broadcast_to(np.arange(t, dtype=np.uint8)[:, None, None, None], (t, 8, 8, 3)).copy()


def test_aggregations_follow_each_tool() -> None:
    cos = [0.3, -0.2, 0.25, 0.1, 0.2, -0.05, 0.3, 0.1, 0.15, 0.2, 0.0, 0.1, 0.3, 0.2, 0.1, 0.05]
    video = indexed_video(16)
    enc = KnownEncoder(cos)
    picked = [int(i) for i in select_frames(video, "uniform8")[:, 0, 0, 0]]
    mean8 = float(np.mean([cos[i] for i in picked]))
    sora = score_sample(video, "x", enc, protocol=clip_protocol("sora-lite"))["clip_score"]
    assert sora == pytest.approx(float(np.mean([100 * max(cos[i], 0) for i in picked])), abs=1e-4)
    tm = score_sample(video, "x", enc, protocol=clip_protocol("torchmetrics"))["clip_score"]
    assert tm == pytest.approx(100 * max(mean8, 0), abs=1e-4)  # torchmetrics clamps the mean, not each frame
    vb = score_sample(video, "x", enc, protocol=clip_protocol("vbench"))
    assert enc.seen == list(range(16)) and vb["frames_used"] == 16
    assert vb["clip_score"] == pytest.approx(float(np.mean(cos)), abs=1e-5)  # every frame, raw cosine
    assert len({round(sora, 4), round(tm, 4), round(100 * vb["clip_score"], 4)}) == 3


def ref_t2v_metrics_image(video_path: str, num_frames: int, workdir: Path) -> "Image.Image":
    """Re-typed t2v_metrics lines: mm_utils.extract_frames, Score.forward's 'concat' branch with
    concatenate_images_horizontal(dist_images=10), and models/model.py's image_loader."""
    import os

    import cv2
    from PIL import Image

    output_dir = str(workdir / "temp_clip.mp4")
    os.makedirs(output_dir, exist_ok=True)
    video = cv2.VideoCapture(video_path)
    total_frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    step = total_frames // num_frames
    for i in range(num_frames):
        video.set(cv2.CAP_PROP_POS_FRAMES, i * step)
        ret, frame = video.read()
        if ret:
            cv2.imwrite(os.path.join(output_dir, f"frame_{i:04d}.jpg"), frame)
    video.release()
    # sorted: their os.listdir order is the file system's; time order is what a sorted listing gives
    frame_images = [cv2.imread(os.path.join(output_dir, f)) for f in sorted(os.listdir(output_dir)) if f.endswith(".jpg")]
    dist_images = 10
    total_width = sum(img.shape[1] for img in frame_images) + dist_images * (len(frame_images) - 1)
    height = max(img.shape[0] for img in frame_images)
    new_img = np.zeros((height, total_width, 3), dtype=np.uint8)
    current_width = 0
    for img in frame_images:
        h, w = img.shape[:2]
        new_img[:h, current_width:current_width + w] = img
        current_width += w + dist_images
    output_path = str(workdir / "concat_clip.mp4.jpg")
    cv2.imwrite(output_path, new_img)
    return Image.open(output_path).convert("RGB")


@pytest.mark.parametrize("shape", [(20, 48, 48), (30, 36, 64), (9, 64, 36)])
def test_t2v_metrics_strip_equals_their_concat_lines(tmp_path: Path, shape: tuple[int, int, int]) -> None:
    """The image scored per video equals t2v_metrics' own, pixel for pixel, on square and non-square clips
    (the frames are read back from a lossless file with cv2, as their extract_frames does)."""
    import cv2

    from eval.metrics.clip_score import t2v_metrics_strip

    t, h, w = shape
    rng = np.random.default_rng(t)
    video = np.clip(rng.normal(128, 40, (t, h, w, 3)), 0, 255).astype(np.uint8)
    video[:, h // 3 : h // 2, : w // 2] = rng.integers(0, 256, (t, 1, 1, 3), dtype=np.uint8)
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"FFV1"), 8, (w, h))
    for f in video:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    ref = np.asarray(ref_t2v_metrics_image(path, 8, tmp_path))
    ours = select_frames(video, "concat8")
    assert ours.shape == (1, *ref.shape) == (1, h, 8 * w + 70, 3)
    np.testing.assert_array_equal(ours[0], ref)
    # what today's reading (a 2×4 grid of the segment centres, no JPEG) would have given is not this image
    assert t2v_metrics_indices(t) == [i * (t // 8) for i in range(8)]


def test_t2v_metrics_strip_is_what_the_encoder_sees() -> None:
    """One image per video, the strip, goes through the model's preprocessing; the preset scores its raw cosine."""

    class Recorder:
        name = "recorder"

        def __init__(self) -> None:
            self.shapes: list[tuple[int, ...]] = []

        def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
            self.shapes.append(tuple(frames.shape))
            return torch.nn.functional.normalize(torch.ones(len(frames), 4), dim=-1)

        def text_embeddings(self, texts: list[str]) -> torch.Tensor:
            return torch.nn.functional.normalize(torch.tensor([[1.0, 1.0, 0.0, 0.0]]), dim=-1)

    enc = Recorder()
    video = np.random.default_rng(1).integers(0, 256, (17, 24, 32, 3), dtype=np.uint8)
    row = score_sample(video, "a cat", enc, protocol=clip_protocol("t2v_metrics"))
    assert enc.shapes == [(1, 24, 8 * 32 + 70, 3)]
    assert row["clip_score"] == pytest.approx(2 ** -0.5, abs=1e-6) and row["frames_used"] == 8


def test_clip_presets_are_data() -> None:
    assert set(CLIP_PROTOCOLS) == {"sora-lite", "torchmetrics", "evalcrafter", "vbench", "t2v_metrics"}
    for p in CLIP_PROTOCOLS.values():
        assert p.reference_file and p.model and p.reproduced and p.not_reproduced
    assert CLIP_PROTOCOLS["torchmetrics"].model == "openai/clip-vit-large-patch14"
    assert CLIP_PROTOCOLS["evalcrafter"].frames == "all" and CLIP_PROTOCOLS["evalcrafter"].preprocess == "squash-raw"
    with pytest.raises(ValueError, match="choose from"):
        clip_protocol("clipsim")


def ref_vbench_clip_transform_image(n_px: int):
    """Re-typed VBench vbench/utils.py clip_transform_Image (what appearance_style applies to each PIL frame)."""
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize, ToTensor

    return Compose([
        Resize(n_px, interpolation=InterpolationMode.BICUBIC, antialias=False),
        CenterCrop(n_px),
        ToTensor(),
        Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),
    ])


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(224, 224), (90, 160), (160, 90), (257, 301)])
def test_vbench_preset_preprocessing_equals_clip_transform_image(shape: tuple[int, int]) -> None:
    """The vbench preset feeds frames through open_clip's ViT-B-32 'openai' preprocessing; on PIL frames that
    equals VBench's clip_transform_Image exactly, on square and non-square frames."""
    import open_clip
    from PIL import Image

    cfg = open_clip.get_pretrained_cfg("ViT-B-32", "openai")
    _, _, preprocess = open_clip.create_model_and_transforms(
        "ViT-B-32", pretrained=None, image_mean=cfg.get("mean"), image_std=cfg.get("std"),
        image_interpolation=cfg.get("interpolation"), image_resize_mode=cfg.get("resize_mode"))
    frame = np.random.default_rng(shape[0]).integers(0, 256, (*shape, 3), dtype=np.uint8)
    ours = preprocess(Image.fromarray(frame))
    ref = ref_vbench_clip_transform_image(224)(Image.fromarray(frame))
    assert ours.shape == ref.shape == (3, 224, 224)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)


def test_vbench_suite_number_pools_frames_over_videos() -> None:
    """VBench's appearance_style returns sim / cnt over every frame of every video: a 30-frame video weighs
    three times a 10-frame one. The leaderboard's mean follows it for the vbench preset, not for the others."""
    import pandas as pd

    from eval.report import leaderboard_frame

    class ByLength:
        name = "by-length"

        def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
            cos = np.where(frames.reshape(len(frames), -1)[:, 0] == 0, 0.9, 0.1)  # short video black, long grey
            return torch.tensor(np.stack([cos, (1 - cos**2) ** 0.5], axis=1), dtype=torch.float32)

        def text_embeddings(self, texts: list[str]) -> torch.Tensor:
            return torch.tensor([[1.0, 0.0]])

    short = np.zeros((10, 8, 8, 3), dtype=np.uint8)
    long = np.full((30, 8, 8, 3), 128, dtype=np.uint8)
    rows = []
    for proto in ("vbench", "sora-lite"):
        for k, video in enumerate((short, long)):
            got = score_sample(video, "x", ByLength(), protocol=clip_protocol(proto))
            details = {key: v for key, v in got.items() if key != "clip_score"}
            rows.append({"generator": proto, "suite": "s", "sample": f"v{k}", "metric": "clip", "status": "ok",
                         "value": got["clip_score"], "details": details, "error": "", "seconds": None,
                         "peak_mib": None, "cuda_peak_mib": None})
    board = leaderboard_frame(pd.DataFrame(rows), None, {"clip": []}).set_index("generator")
    assert board.loc["vbench", "clip_mean"] == pytest.approx((10 * 0.9 + 30 * 0.1) / 40, abs=1e-6)
    assert board.loc["sora-lite", "clip_mean"] == pytest.approx((90 + 10) / 2, abs=1e-4)  # mean of video means
    assert board.loc["vbench", "clip_ci_low"] <= board.loc["vbench", "clip_mean"] <= board.loc["vbench", "clip_ci_high"]
