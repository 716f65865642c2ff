"""Optional physics judge: a vision-language model asked whether a clip's motion obeys real-world physics.

The weight-free law checks (`eval.metrics.physics`) measure tracked pixels; this judge asks a VLM, in the
spirit of VQAScore / VideoPhy's autoraters, and is used only when its weights are on this machine.

Per video: N = 8 frames (`NUM_FRAMES`) at the centres of 8 equal segments (`uniform_indices`; all frames
if the clip is shorter), each downscaled to at most `MAX_SIDE` px on its long side, go into one user turn
as images, in order, followed by a question built from the prompt and the law the suite expects. The
answer is read from the next-token logits after the assistant's turn opens — no sampling, so the score
is deterministic:

    score = P(Yes) / (P(Yes) + P(No))

where P is the softmax over the whole vocabulary and "Yes" / "No" are the first tokens of those words.
`answer_mass` = P(Yes) + P(No) tells how much the model actually answered with one of the two words.

Default model: `Qwen/Qwen3-VL-2B-Instruct` — small enough for a single consumer GPU (or, slowly, a CPU),
Apache-2.0 (Qwen2.5-VL-3B is under a research-only licence), trained on video QA, and supported natively
by transformers 5 (`AutoModelForImageTextToText`, no `trust_remote_code`). Any chat VLM that loads through
`AutoProcessor` + `AutoModelForImageTextToText` and has a chat template works (`--vlm-judge ID_OR_DIR`).
Weights are read from the local cache or folder only: when missing the judge raises `MetricSkipped`
naming the model and the `hf download` command, within seconds, and never downloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import as_frames, uniform_indices

DEFAULT_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
NUM_FRAMES = 8
MAX_SIDE = 448  # ≈ 200 visual tokens per frame for Qwen3-VL (32 px per token): 8 frames stay a short prompt
ANSWERS = ("Yes", "No")

# What each law looks like when obeyed, for prompts whose expectations carry a law but no `observable`.
LAW_OBSERVABLES = {
    "free_fall": "constant downward acceleration until it hits something",
    "bounce": "each bounce no higher than the one before",
    "permanence": "no vanishing or appearing unless something hides it",
    "rigidity": "a size and shape that stay the same",
    "collision": "velocity changes in opposite directions when the objects collide",
    "pendulum": "a steady swing period with an amplitude that does not grow",
    "sliding": "a speed that only decreases while it slides",
    "rolling": "a steady acceleration down the ramp",
    "stacking": "stacked objects that stay rigid and only fall when unsupported",
}


@dataclass
class JudgeResult:
    """One clip's verdict: the score, the probabilities it came from, and exactly what was asked."""

    score: float  # P(Yes) / (P(Yes) + P(No)), in [0, 1]
    probabilities: dict[str, float]  # full-vocabulary softmax of each answer's first token
    answer_mass: float  # P(Yes) + P(No)
    frames_used: list[int]  # indices into the clip
    question: str
    model: str = ""


def _law_text(expectations: dict[str, Any]) -> str:
    """'the red ball should show constant downward acceleration ...' from a suite's expectations, or ''."""
    law = str(expectations.get("law") or "").strip()
    observable = str(expectations.get("observable") or "").strip()
    if not observable and law:
        from eval.metrics.physics import ALIASES  # weight-free module, no cycle: it does not import this one

        key = law.lower().replace(" ", "_").replace("-", "_")
        observable = LAW_OBSERVABLES.get(ALIASES.get(key, key), "")
    if not observable:
        return ""
    subject = str(expectations.get("object") or "the moving object").strip()
    if not subject.lower().startswith(("the ", "a ", "an ")):
        subject = f"the {subject}"
    law_name = f" ({law.replace('_', ' ')})" if law else ""
    return f"Expected{law_name}: {subject} should show {observable}."


def build_question(prompt: str | None, expectations: dict[str, Any] | None, num_frames: int) -> str:
    """The text put after the frames: context (prompt, expected law) then a Yes/No question."""
    parts = [f"These {num_frames} images are frames of one video, in time order."]
    if prompt and prompt.strip():
        parts.append(f'The video was made for the prompt "{prompt.strip()}"')
    law = _law_text(expectations or {})
    if law:
        parts.append(law)
    parts.append("Does the motion in the video obey real-world physics? Answer Yes or No.")
    return " ".join(parts)


def _downscale(frame: np.ndarray, max_side: int) -> Any:
    from PIL import Image

    image = Image.fromarray(frame)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return image


class VLMJudge:
    """A loaded chat VLM + its processor, asked one Yes/No question per clip."""

    def __init__(self, model: Any, processor: Any, name: str, device: str = "cpu",
                 num_frames: int = NUM_FRAMES, max_side: int = MAX_SIDE) -> None:
        self.model = model.eval().to(device)
        self.processor = processor
        self.name = name
        self.device = torch.device(device)
        self.num_frames = num_frames
        self.max_side = max_side
        tokenizer = getattr(processor, "tokenizer", processor)
        self.answer_ids = [self._first_token(tokenizer, word) for word in ANSWERS]
        if self.answer_ids[0] == self.answer_ids[1]:
            raise MetricSkipped(f"the tokenizer of '{name}' gives Yes and No the same first token",
                                "use a chat VLM whose tokenizer has distinct Yes / No tokens")

    def _first_token(self, tokenizer: Any, word: str) -> int:
        ids = tokenizer.encode(word, add_special_tokens=False)
        if not ids or ids[0] == getattr(tokenizer, "unk_token_id", None):
            raise MetricSkipped(f"the tokenizer of '{self.name}' has no token for '{word}'",
                                "use a chat VLM whose tokenizer can answer Yes / No")
        return int(ids[0])

    def inputs(self, frames: Any, question: str, indices: np.ndarray) -> Any:
        """The processor's tensors for one clip: the picked frames as images, then the question, in one turn."""
        video = as_frames(frames)
        images = [_downscale(video[i], self.max_side) for i in indices]
        messages = [{"role": "user", "content": [*({"type": "image"} for _ in images), {"type": "text", "text": question}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        batch = self.processor(text=[text], images=images, return_tensors="pt")
        return batch.to(device=self.device, dtype=getattr(self.model, "dtype", torch.float32))  # floats only

    @torch.no_grad()
    def judge(self, frames: Any, prompt: str | None = None, expectations: dict[str, Any] | None = None) -> JudgeResult:
        video = as_frames(frames)
        indices = uniform_indices(len(video), self.num_frames)
        question = build_question(prompt, expectations, len(indices))
        logits = self.model(**self.inputs(video, question, indices)).logits[0, -1].float()
        if not torch.isfinite(logits).all():
            raise MetricInputError(f"the VLM judge '{self.name}' produced non-finite logits for this clip")
        probs = torch.softmax(logits, dim=-1)[self.answer_ids].double()
        yes, no = float(probs[0]), float(probs[1])
        mass = yes + no
        # Two answers that are both vanishingly unlikely still compare exactly in log space.
        score = yes / mass if mass > 0 else float(torch.sigmoid(logits[self.answer_ids[0]] - logits[self.answer_ids[1]]))
        return JudgeResult(score=score, probabilities={ANSWERS[0]: yes, ANSWERS[1]: no}, answer_mass=mass,
                           frames_used=[int(i) for i in indices], question=question, model=self.name)


def _how_to_get(model_id_or_dir: str) -> str:
    if Path(model_id_or_dir).expanduser().exists() or model_id_or_dir.startswith((".", "/", "~")):
        return (f"put a complete transformers checkpoint (config.json, weights, processor and chat template) in "
                f"{model_id_or_dir}, or pass a Hub id whose snapshot is in the local cache")
    return (f"run `hf download {model_id_or_dir}` on a machine with network and copy the cache into $HF_HOME "
            "(default ~/.cache/huggingface), or pass a local directory")


def load_vlm_judge(
    model_id_or_dir: str = DEFAULT_MODEL, device: str = "cpu", num_frames: int = NUM_FRAMES,
    dtype: torch.dtype | None = None,
) -> VLMJudge:
    """Load a chat VLM from the local cache or a folder; MetricSkipped (never a download) when it is not there.

    `dtype` None: bfloat16 on a GPU (the precision these VLMs ship in), float32 on a CPU.
    """
    if dtype is None:
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    from transformers import AutoModelForImageTextToText, AutoProcessor

    name = str(model_id_or_dir)
    local = Path(name).expanduser()
    source = str(local) if local.is_dir() else name
    try:
        processor = AutoProcessor.from_pretrained(source, local_files_only=True)
        model = AutoModelForImageTextToText.from_pretrained(
            source, local_files_only=True, dtype=dtype
        )
    except OSError as exc:
        raise MetricSkipped(f"VLM judge weights '{name}' are not available locally", _how_to_get(name)) from exc
    except (ValueError, KeyError) as exc:  # a folder or id that is not an image-text-to-text model
        raise MetricSkipped(
            f"'{name}' is not a vision-language model transformers can load as image-text-to-text "
            f"({str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__})",
            f"pass a chat VLM checkpoint such as {DEFAULT_MODEL}",
        ) from exc
    if getattr(processor, "chat_template", None) is None:
        raise MetricSkipped(f"the VLM '{name}' has no chat template", "use an instruction-tuned (chat) checkpoint")
    return VLMJudge(model, processor, name=name, device=device, num_frames=num_frames)


__all__ = ["DEFAULT_MODEL", "NUM_FRAMES", "MAX_SIDE", "JudgeResult", "VLMJudge", "build_question",
           "load_vlm_judge"]
