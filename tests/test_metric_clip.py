"""CLIP alignment vs torchmetrics' CLIPScore on a tiny random transformers CLIP; missing weights → skipped."""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pytest
import torch

from eval.metrics.clip_score import NUM_FRAMES, load_clip_encoder, open_clip_weights, score_sample
from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import uniform_indices


def build_tiny_clip(directory: Path) -> Path:
    """A random CLIP with a character-level BPE vocab, saved the way a Hub snapshot is."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    directory.mkdir(parents=True)
    chars = list(string.ascii_lowercase + string.digits + ".,!?'-")
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"))
    images = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    eos = vocab["<|endoftext|>"]
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=eos - 1,
            eos_token_id=eos,
            pad_token_id=eos,
        ),
        vision_config=dict(
            image_size=32,
            patch_size=8,
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
        ),
        projection_dim=16,
    )
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "openai-tiny-clip")


def torchmetrics_clipscore(directory: Path):
    """torchmetrics' CLIPScore on the same local model.

    torchmetrics 1.9 loads a local dir only via `model_name_or_path` (it must contain "openai"), and its
    feature code expects tensors from get_*_features, which transformers 5 returns as ModelOutputs —
    so the model is handed over through torchmetrics' documented callable form with a one-line shim
    that unwraps `.pooler_output`. Preprocessing, normalisation and averaging stay torchmetrics'.
    """
    from torchmetrics.multimodal import CLIPScore
    from transformers import CLIPModel, CLIPProcessor

    class Unwrap(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model, self.config = model, model.config

        def get_image_features(self, *args, **kwargs):
            return self.model.get_image_features(*args, **kwargs).pooler_output

        def get_text_features(self, *args, **kwargs):
            return self.model.get_text_features(*args, **kwargs).pooler_output

    return CLIPScore(
        model_name_or_path=lambda: (
            Unwrap(CLIPModel.from_pretrained(directory)),
            CLIPProcessor.from_pretrained(directory),
        )
    )


def test_uniform_indices_documented_n() -> None:
    assert NUM_FRAMES == 8
    assert list(uniform_indices(16, 8)) == [1, 3, 5, 7, 9, 11, 13, 15]
    assert list(uniform_indices(3, 8)) == [0, 1, 2]


@pytest.mark.slow
def test_clip_score_equals_torchmetrics(tiny_clip: Path) -> None:
    encoder = load_clip_encoder(str(tiny_clip))
    rng = np.random.default_rng(0)
    prompts = ["a red ball falls", "two blue cubes on a table", "a dog runs"]
    for prompt in prompts:
        frames = rng.integers(0, 256, size=(20, 40, 48, 3), dtype=np.uint8)
        row = score_sample(frames, prompt, encoder)
        picked = frames[uniform_indices(20, NUM_FRAMES)]
        # Reference 1: torchmetrics per frame (each a CLIPScore of one image = max(100·cos, 0)), averaged.
        per_frame = []
        for frame in picked:
            ref = torchmetrics_clipscore(tiny_clip)
            ref.update(torch.from_numpy(frame).permute(2, 0, 1), prompt)
            per_frame.append(float(ref.compute()))
        assert row["clip_score"] == pytest.approx(np.mean(per_frame), abs=1e-4)
        # Reference 2: torchmetrics over all frames at once clamps the mean; equal when no cosine < 0.
        batch = torchmetrics_clipscore(tiny_clip)
        batch.update(torch.from_numpy(picked).permute(0, 3, 1, 2), [prompt] * len(picked))
        if min(per_frame) > 0:
            assert row["clip_score"] == pytest.approx(float(batch.compute()), abs=1e-4)
        # Frame consistency by hand from the model's own image features.
        feats = encoder.image_embeddings(picked)
        hand = np.mean([float(torch.dot(feats[k], feats[k + 1])) for k in range(len(feats) - 1)])
        assert row["frame_consistency"] == pytest.approx(hand, abs=1e-6)


def test_frame_consistency_static_vs_changing(tiny_clip: Path) -> None:
    encoder = load_clip_encoder(str(tiny_clip))
    rng = np.random.default_rng(1)
    still = np.repeat(rng.integers(0, 256, size=(1, 32, 32, 3), dtype=np.uint8), 16, axis=0)
    noisy = rng.integers(0, 256, size=(16, 32, 32, 3), dtype=np.uint8)
    assert score_sample(still, "x", encoder)["frame_consistency"] == pytest.approx(1.0, abs=1e-5)
    assert score_sample(noisy, "x", encoder)["frame_consistency"] < 0.999


def test_missing_weights_are_skipped_with_how_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MetricSkipped) as info:
        load_clip_encoder("ViT-B-32", "laion2b_s34b_b79k")
    assert "ViT-B-32" in info.value.reason and "hf download" in info.value.how_to_fix
    with pytest.raises(MetricSkipped, match="hf download"):
        load_clip_encoder("no-such-org/no-such-clip")
    with pytest.raises(MetricInputError, match="no pretrained tag"):
        open_clip_weights("ViT-B-32", "not-a-tag")


def test_bad_inputs(tiny_clip: Path) -> None:
    encoder = load_clip_encoder(str(tiny_clip))
    with pytest.raises(MetricInputError):
        score_sample(np.zeros((4, 8, 8), np.uint8), "a ball", encoder)
    with pytest.raises(MetricInputError):
        score_sample(np.zeros((4, 8, 8, 3), np.uint8), "  ", encoder)


def tiny_open_clip(directory: Path, seed: int) -> tuple[Any, Path]:
    """A tiny random open_clip model registered as 'tiny-openclip', and its checkpoint file."""
    import open_clip

    config = {
        "embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 8, "head_width": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 1},
    }
    (directory / "tiny-openclip.json").write_text(json.dumps(config))
    open_clip.add_model_config(directory / "tiny-openclip.json")
    torch.manual_seed(seed)
    model = open_clip.create_model("tiny-openclip", pretrained=None).eval()
    torch.save(model.state_dict(), directory / "tiny.pt")
    return model, directory / "tiny.pt"


def test_open_clip_path_loads_local_checkpoint(tmp_path: Path) -> None:
    """A tiny random open_clip model saved as a checkpoint file loads through the open_clip path."""
    import open_clip
    from PIL import Image

    original, checkpoint = tiny_open_clip(tmp_path, seed=1)
    encoder = load_clip_encoder("tiny-openclip", str(checkpoint))
    frames = np.random.default_rng(3).integers(0, 256, size=(10, 40, 48, 3), dtype=np.uint8)
    picked = frames[uniform_indices(10, NUM_FRAMES)]
    transform = open_clip.image_transform(32, is_train=False)
    with torch.no_grad():
        img = original.encode_image(torch.stack([transform(Image.fromarray(f)) for f in picked]))
        txt = original.encode_text(open_clip.get_tokenizer("tiny-openclip")(["a red ball"]))
    img, txt = img / img.norm(dim=-1, keepdim=True), txt / txt.norm(dim=-1, keepdim=True)
    hand = float((100 * (img @ txt.T).clamp(min=0)).mean())
    row = score_sample(frames, "a red ball", encoder)
    assert row["clip_score"] == pytest.approx(hand, abs=1e-4)
    np.testing.assert_allclose(encoder.image_embeddings(picked).numpy(), img.numpy(), atol=1e-5)


@pytest.mark.parametrize("backend", ["transformers", "open_clip"])
def test_bf16_precision_runs_the_model_in_bfloat16_and_stays_close(tiny_clip: Path, tmp_path: Path, backend: str) -> None:
    """--precision bf16: the weights really are bfloat16, embeddings come back float32, near the fp32 ones."""
    if backend == "transformers":
        args: tuple = (str(tiny_clip), None)
    else:
        args = ("tiny-openclip", str(tiny_open_clip(tmp_path, seed=2)[1]))
    full = load_clip_encoder(*args)
    half = load_clip_encoder(*args, dtype=torch.bfloat16)
    assert {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    frames = np.random.default_rng(5).integers(0, 256, size=(8, 40, 48, 3), dtype=np.uint8)
    a, b = full.image_embeddings(frames), half.image_embeddings(frames)
    assert b.dtype == torch.float32 and not torch.equal(a, b)  # really computed at the other precision
    assert float((a * b).sum(-1).min()) > 0.99  # unit vectors pointing the same way
    ta, tb = full.text_embeddings(["a red ball"]), half.text_embeddings(["a red ball"])
    assert float((ta * tb).sum()) > 0.99
    assert score_sample(frames, "a red ball", half)["clip_score"] == pytest.approx(
        score_sample(frames, "a red ball", full)["clip_score"], abs=1.5)
