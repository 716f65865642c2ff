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
    tile_frames,
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


def test_t2v_metrics_tiles_eight_frames_into_one_image() -> None:
    video = np.random.default_rng(0).integers(0, 256, (20, 6, 10, 3), dtype=np.uint8)
    tiled = select_frames(video, "tile8")
    assert tiled.shape == (1, 12, 40, 3)
    picked = select_frames(video, "uniform8")
    np.testing.assert_array_equal(tiled[0, 6:12, 10:20], picked[5])
    np.testing.assert_array_equal(tile_frames(picked)[0:6, 0:10], picked[0])


def test_clip_presets_are_data() -> None:
    assert set(CLIP_PROTOCOLS) == {"sora-lite", "torchmetrics", "evalcrafter", "vbench", "t2v_metrics"}
    for p in CLIP_PROTOCOLS.values():
        assert p.reference_file and p.model and p.reproduced and p.not_reproduced
    assert CLIP_PROTOCOLS["torchmetrics"].model == "openai/clip-vit-large-patch14"
    assert CLIP_PROTOCOLS["evalcrafter"].frames == "all" and CLIP_PROTOCOLS["evalcrafter"].preprocess == "squash-raw"
    with pytest.raises(ValueError, match="choose from"):
        clip_protocol("clipsim")
