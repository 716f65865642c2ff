"""The VLM physics judge on a tiny random Qwen3-VL saved like a Hub snapshot; missing weights → skipped rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from eval import run as eval_run
from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import uniform_indices
from eval.metrics.physics_judge import (
    DEFAULT_MODEL,
    NUM_FRAMES,
    build_question,
    load_vlm_judge,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_fixtures import moving_square, write  # noqa: E402

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
           "<|video_pad|>"]
WORDS = ("Yes No the a an red ball square falls slides to right does motion in video obey real world physics "
         "answer or these images are frames of one time order expected should show user assistant").split()
# Qwen's chat template reduced to what the judge sends: text and image parts in user turns.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen3_vl(directory: Path) -> Path:
    """A random Qwen3-VL (hidden 32, 2 layers, 4-px patches, ≤ 16×16-px images) with a word-level tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (PreTrainedTokenizerFast, Qwen2VLImageProcessor, Qwen3VLConfig,
                              Qwen3VLForConditionalGeneration, Qwen3VLProcessor, Qwen3VLVideoProcessor)

    vocab: dict[str, int] = {}
    for token in ["<unk>", *SPECIAL, *WORDS]:
        vocab.setdefault(token, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<|endoftext|>",
                                        eos_token="<|im_end|>", additional_special_tokens=SPECIAL[1:])
    pixels = dict(patch_size=4, temporal_patch_size=2, merge_size=2, min_pixels=8 * 8, max_pixels=16 * 16)
    processor = Qwen3VLProcessor(image_processor=Qwen2VLImageProcessor(**pixels), tokenizer=tokenizer,
                                 video_processor=Qwen3VLVideoProcessor(**pixels), chat_template=CHAT_TEMPLATE)
    config = Qwen3VLConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2],
                                          "mrope_interleaved": True},
                         bos_token_id=vocab["<|endoftext|>"], eos_token_id=vocab["<|im_end|>"],
                         pad_token_id=vocab["<|endoftext|>"]),
        vision_config=dict(depth=2, hidden_size=16, intermediate_size=32, num_heads=2, patch_size=4,
                           spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=32,
                           num_position_embeddings=16, deepstack_visual_indexes=[1]),
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"],
    )
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(config)
    with torch.no_grad():  # sharper answer logits, so scores spread away from 0.5
        model.lm_head.weight.mul_(3.0)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen3_vl(tmp_path_factory.mktemp("vlm") / "tiny-qwen3-vl")


@pytest.fixture(scope="module")
def judge(tiny_vlm: Path) -> Any:
    return load_vlm_judge(str(tiny_vlm))


def _video(seed: int, n: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 24, 32, 3), dtype=np.uint8)


def hand_score(directory: Path, frames: np.ndarray, question: str) -> tuple[float, float, float]:
    """Reference: one forward pass of the saved model, softmax by hand over the vocabulary and over Yes/No."""
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(directory)
    model = AutoModelForImageTextToText.from_pretrained(directory).eval()
    images = [Image.fromarray(f) for f in frames]
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": question}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                         tokenize=False)
    with torch.no_grad():
        logits = model(**processor(text=[text], images=images, return_tensors="pt")).logits[0, -1].double()
    vocab = processor.tokenizer.get_vocab()
    yes, no = logits[vocab["Yes"]], logits[vocab["No"]]
    full = torch.exp(logits - torch.logsumexp(logits, 0))
    two_way = torch.exp(yes) / (torch.exp(yes) + torch.exp(no))
    return float(two_way), float(full[vocab["Yes"]]), float(full[vocab["No"]])


def test_score_equals_softmax_over_the_two_answers(judge: Any, tiny_vlm: Path) -> None:
    frames = _video(0)
    expectations = {"law": "free_fall", "object": "red ball"}
    got = judge.judge(frames, "a red ball falls", expectations)
    picked = frames[uniform_indices(len(frames), NUM_FRAMES)]
    ref, p_yes, p_no = hand_score(tiny_vlm, picked, got.question)
    assert 0.0 <= got.score <= 1.0
    assert got.score == pytest.approx(ref, abs=1e-6)
    assert got.probabilities["Yes"] == pytest.approx(p_yes, rel=1e-5)
    assert got.probabilities["No"] == pytest.approx(p_no, rel=1e-5)
    assert got.answer_mass == pytest.approx(p_yes + p_no, rel=1e-5)
    assert got.question == build_question("a red ball falls", expectations, NUM_FRAMES)
    assert "a red ball falls" in got.question and "constant downward acceleration" in got.question
    assert got.question.endswith("Answer Yes or No.")


def test_deterministic_and_looks_at_the_frames(judge: Any) -> None:
    a, b = judge.judge(_video(1), "a ball"), judge.judge(_video(1), "a ball")
    assert a.score == b.score and a.probabilities == b.probabilities
    other = judge.judge(_video(2), "a ball")
    assert other.score != a.score  # different pixels, different answer: the images reach the model


def test_frames_are_sampled_as_documented(judge: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 frames at segment centres go to the processor, in order; a short clip sends all of its frames."""
    assert NUM_FRAMES == 8
    seen: list[list[int]] = []
    processor = judge.processor

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(processor, name)

        def __call__(self, *args: Any, images: list[Any], **kwargs: Any) -> Any:
            seen.append([int(np.asarray(im)[0, 0, 0]) for im in images])  # each frame's red value = its index
            return processor(*args, images=images, **kwargs)

    monkeypatch.setattr(judge, "processor", Spy())
    ramp = np.zeros((40, 16, 16, 3), np.uint8)
    ramp[..., 0] = np.arange(40, dtype=np.uint8)[:, None, None]
    got = judge.judge(ramp, "x")
    assert got.frames_used == [2, 7, 12, 17, 22, 27, 32, 37] == list(uniform_indices(40, 8))
    assert seen[-1] == got.frames_used
    assert judge.judge(ramp[:3], "x").frames_used == [0, 1, 2] == seen[-1]


def test_question_without_prompt_or_law() -> None:
    q = build_question(None, {}, 8)
    assert q.startswith("These 8 images") and q.endswith("Does the motion in the video obey real-world physics? Answer Yes or No.")
    assert "bounce no higher" in build_question("x", {"law": "bouncing_energy"}, 8)  # alias → default observable


def test_missing_weights_are_skipped_with_the_download_command(tmp_path: Path) -> None:
    for name in ("no-such-org/no-such-vlm", DEFAULT_MODEL):
        try:
            load_vlm_judge(name)
        except MetricSkipped as e:
            assert name in e.reason and f"hf download {name}" in e.how_to_fix
        else:
            assert name == DEFAULT_MODEL, "a model that is nowhere on this machine was loaded"
    with pytest.raises(MetricSkipped, match="not available locally") as info:
        load_vlm_judge(str(tmp_path / "missing-vlm"))
    assert str(tmp_path / "missing-vlm") in str(info.value)


@pytest.mark.slow
def test_not_a_vlm_is_skipped_with_a_reason(tmp_path: Path) -> None:
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=16, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=8)).save_pretrained(tmp_path)
    with pytest.raises(MetricSkipped, match="image-text-to-text|not available"):
        load_vlm_judge(str(tmp_path))


def test_bad_frames_are_an_input_error(judge: Any) -> None:
    with pytest.raises(MetricInputError):
        judge.judge(np.zeros((4, 8, 8), np.uint8), "x")


@pytest.fixture(scope="module")
def video_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("videos")
    write(folder / "slide.mp4", moving_square(12, w=48, h=32))
    write(folder / "plain.mp4", moving_square(8, w=48, h=32, color=(30, 30, 220)))
    (folder / "prompts.jsonl").write_text(json.dumps({
        "file": "slide.mp4", "prompt": "a red square slides to the right",
        "expectations": {"law": "sliding", "object": "red square"},
    }) + "\n")
    return folder


@pytest.mark.slow
def test_eval_run_writes_scored_rows(video_folder: Path, tiny_vlm: Path, judge: Any, tmp_path: Path) -> None:
    from sora_lite.media import read_video

    out = tmp_path / "run"
    assert eval_run.main(["--generator", f"videos:{video_folder}", "--metrics", "physics_vlm", "--vlm-judge",
                          str(tiny_vlm), "--device", "cpu", "--out", str(out), "--no-progress"]) == 0
    df = pd.read_csv(out / "samples.csv", keep_default_na=False)
    assert len(df) == 2 and set(df["metric"]) == {"physics_vlm"} and set(df["status"]) == {"ok"}
    row = df[df["video"].str.endswith("slide.mp4")].iloc[0]
    expected = judge.judge(read_video(video_folder / "slide.mp4").frames, "a red square slides to the right",
                           {"law": "sliding", "object": "red square"})
    assert float(row["value"]) == pytest.approx(expected.score, abs=1e-6)
    assert "speed that only decreases" in row["details"] and "hf download" not in row["error"]
    board = pd.read_csv(out / "leaderboard.csv")
    assert board["physics_vlm_n"].sum() == 2
    assert board["physics_vlm_mean"].between(0, 1).all()


def test_eval_run_without_weights_skips_with_the_reason(video_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    missing = "no-such-org/no-such-vlm"
    assert eval_run.main(["--generator", f"videos:{video_folder}", "--metrics", "physics_vlm", "--vlm-judge", missing,
                          "--device", "cpu", "--out", str(out), "--no-progress"]) == 0
    df = pd.read_csv(out / "samples.csv", keep_default_na=False)
    assert len(df) == 2 and set(df["status"]) == {"skipped"} and set(df["value"]) == {""}
    assert all(missing in e and f"hf download {missing}" in e for e in df["error"])
    board = pd.read_csv(out / "leaderboard.csv", keep_default_na=False)
    assert all("physics_vlm" in s and f"hf download {missing}" in s for s in board["skipped"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_bfloat16_agrees_with_cpu(judge: Any, tiny_vlm: Path) -> None:
    on_gpu = load_vlm_judge(str(tiny_vlm), device="cuda")
    assert next(on_gpu.model.parameters()).dtype == torch.bfloat16
    assert on_gpu.judge(_video(3), "a ball").score == pytest.approx(judge.judge(_video(3), "a ball").score, abs=2e-2)


def test_bfloat16_on_cpu_agrees_with_float32(judge: Any, tiny_vlm: Path) -> None:
    """--precision bf16 on a CPU: the weights are bfloat16, the pixel values are cast to match, the score stays close."""
    half = load_vlm_judge(str(tiny_vlm), dtype=torch.bfloat16)
    assert next(half.model.parameters()).dtype == torch.bfloat16
    assert half.judge(_video(3), "a ball").score == pytest.approx(judge.judge(_video(3), "a ball").score, abs=2e-2)
