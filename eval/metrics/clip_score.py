"""Text–video alignment with CLIP: CLIPScore over uniformly sampled frames, plus frame-to-frame consistency.

Per video: N = 8 frames (`NUM_FRAMES`) at the centres of 8 equal segments (all frames if shorter).
- clip_score = mean over frames of 100·max(cos(E_frame, E_prompt), 0) — CLIPScore (Hessel et al. 2021)
  per frame, then averaged. (torchmetrics' CLIPScore clamps the *mean* instead; the two agree whenever
  no frame has a negative cosine, which is what real CLIP models give.)
- frame_consistency = mean cosine between consecutive sampled frames' image embeddings (1 = static look).

Backends: open_clip (default `ViT-B-32` / `laion2b_s34b_b79k`, configurable) or a transformers
`CLIPModel` (local dir or Hub id). Weights are read from the local cache only; when they are missing the
metric raises `MetricSkipped` naming the model and how to fetch it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torchmetrics import Metric

from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frames import as_frames, uniform_indices

NUM_FRAMES = 8
DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"


class ClipEncoder(Protocol):
    name: str

    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor: ...

    def text_embeddings(self, texts: list[str]) -> torch.Tensor: ...


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(p=2, dim=-1, keepdim=True)


def _pooled(output: Any) -> torch.Tensor:
    """transformers 5 returns a ModelOutput from get_*_features; older versions a tensor."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


class HFClipEncoder:
    """A transformers CLIPModel + CLIPProcessor, fed the way torchmetrics' CLIPScore feeds them."""

    def __init__(
        self, model: Any, processor: Any, name: str = "transformers-clip", device: str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.model = model.eval().to(device=device, dtype=dtype)
        self.processor = processor
        self.name = name
        self.device = torch.device(device)
        self.dtype = dtype

    @torch.no_grad()
    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        images = [torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1) for f in frames]
        pixels = self.processor(images=images, return_tensors="pt", padding=True)["pixel_values"]
        out = self.model.get_image_features(pixels.to(device=self.device, dtype=self.dtype))
        return _normalise(_pooled(out).float().cpu())

    @torch.no_grad()
    def text_embeddings(self, texts: list[str]) -> torch.Tensor:
        max_len = int(self.model.config.text_config.max_position_embeddings)
        tokens = self.processor(text=texts, return_tensors="pt", padding=True, truncation=True, max_length=max_len)
        out = self.model.get_text_features(
            tokens["input_ids"].to(self.device), tokens["attention_mask"].to(self.device)
        )
        return _normalise(_pooled(out).float().cpu())


class OpenClipEncoder:
    """An open_clip model with its own eval preprocessing and tokenizer."""

    def __init__(
        self, model: Any, preprocess: Any, tokenizer: Any, name: str, device: str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.model = model.eval().to(device=device, dtype=dtype)
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.name = name
        self.device = torch.device(device)
        self.dtype = dtype

    @torch.no_grad()
    def image_embeddings(self, frames: np.ndarray) -> torch.Tensor:
        from PIL import Image

        pixels = torch.stack([self.preprocess(Image.fromarray(f)) for f in frames])
        return _normalise(self.model.encode_image(pixels.to(device=self.device, dtype=self.dtype)).float().cpu())

    @torch.no_grad()
    def text_embeddings(self, texts: list[str]) -> torch.Tensor:
        return _normalise(self.model.encode_text(self.tokenizer(texts).to(self.device)).float().cpu())


def load_clip_encoder(
    model: str = DEFAULT_MODEL, pretrained: str | None = DEFAULT_PRETRAINED, device: str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> ClipEncoder:
    """open_clip `model`/`pretrained`, or a transformers CLIP when `model` is a directory or `org/name` id.

    `dtype` is the forward pass's precision (see `eval.precision`); embeddings come back as float32.
    """
    if Path(model).is_dir() or "/" in model:
        return _load_transformers_clip(model, device, dtype)
    return _load_open_clip(model, pretrained, device, dtype)


def _load_transformers_clip(name_or_path: str, device: str, dtype: torch.dtype) -> HFClipEncoder:
    from transformers import CLIPModel, CLIPProcessor

    try:
        clip = CLIPModel.from_pretrained(name_or_path, local_files_only=True)
        processor = CLIPProcessor.from_pretrained(name_or_path, local_files_only=True)
    except OSError as exc:
        raise MetricSkipped(
            f"CLIP weights '{name_or_path}' are not available locally",
            f"run `hf download {name_or_path}` on a machine with network and copy the cache into $HF_HOME "
            "(default ~/.cache/huggingface), or pass a local directory",
        ) from exc
    return HFClipEncoder(clip, processor, name=name_or_path, device=device, dtype=dtype)


def open_clip_weights(model: str, pretrained: str) -> tuple[str, dict[str, Any]]:
    """Local checkpoint path for an open_clip model/tag, never downloading; plus its preprocessing config."""
    import open_clip
    from huggingface_hub import try_to_load_from_cache

    if Path(pretrained).is_file():
        return pretrained, {}
    cfg = open_clip.get_pretrained_cfg(model, pretrained)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(model)
        raise MetricInputError(f"open_clip has no pretrained tag '{pretrained}' for '{model}' (known: {tags})")
    hub = cfg.get("hf_hub", "")
    if hub:
        if hub.endswith("/"):  # open_clip's convention: repo only, default file names
            repo, names = hub.rstrip("/"), ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        else:
            repo, filename = os.path.split(hub)
            names = [filename]
        for name in names:
            found = try_to_load_from_cache(repo, name)
            if isinstance(found, str):
                return found, cfg
        how = f"run `hf download {repo} {names[0]}` on a machine with network and copy the cache into $HF_HOME"
    else:
        url = cfg.get("url", "")
        local = Path.home() / ".cache" / "clip" / os.path.basename(url)
        if url and local.is_file():
            return str(local), cfg
        how = f"download {url} into {local.parent}/"
    raise MetricSkipped(f"open_clip weights {model}/{pretrained} are not in the local cache", how)


def _load_open_clip(model: str, pretrained: str | None, device: str, dtype: torch.dtype) -> OpenClipEncoder:
    import open_clip

    if pretrained is None:
        raise MetricSkipped(f"no pretrained weights named for open_clip '{model}'", "pass pretrained=<tag or file>")
    path, cfg = open_clip_weights(model, pretrained)
    extra = {k: cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in cfg}
    clip, _, preprocess = open_clip.create_model_and_transforms(
        model,
        pretrained=path,
        device=device,
        image_mean=extra.get("mean"),
        image_std=extra.get("std"),
        image_interpolation=extra.get("interpolation"),
        image_resize_mode=extra.get("resize_mode"),
    )
    return OpenClipEncoder(
        clip, preprocess, open_clip.get_tokenizer(model), name=f"{model}/{pretrained}", device=device, dtype=dtype
    )


def score_sample(frames: Any, prompt: str, encoder: ClipEncoder, num_frames: int = NUM_FRAMES) -> dict[str, float]:
    """One video × prompt → clip_score (0–100), frame_consistency (cosine) and the frames used."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise MetricInputError("CLIP alignment needs a non-empty prompt")
    video = as_frames(frames)
    picked = video[uniform_indices(len(video), num_frames)]
    images = encoder.image_embeddings(picked)
    text = encoder.text_embeddings([prompt])
    cosines = (images @ text.T).squeeze(-1)
    per_frame = 100.0 * cosines.clamp(min=0.0)
    consistency = (images[1:] * images[:-1]).sum(-1).mean().item() if len(images) > 1 else 1.0
    return {
        "clip_score": float(per_frame.mean()),
        "frame_consistency": float(consistency),
        "frames_used": float(len(picked)),
    }


class CLIPAlignment(Metric):
    """Mean per-video CLIPScore and frame consistency; sums + count states merge across processes."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, encoder: ClipEncoder | None = None, num_frames: int = NUM_FRAMES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.num_frames = num_frames
        self.add_state("score_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("consistency_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("n", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(self, frames: Any, prompt: str) -> None:  # type: ignore[override]
        if self.encoder is None:
            self.encoder = load_clip_encoder()
        row = score_sample(frames, prompt, self.encoder, self.num_frames)
        self.score_sum += row["clip_score"]
        self.consistency_sum += row["frame_consistency"]
        self.n += 1

    def compute(self) -> dict[str, float]:
        n = int(self.n)
        if n == 0:
            raise MetricInputError("CLIP alignment: no videos were scored")
        return {"clip_score": float(self.score_sum) / n, "frame_consistency": float(self.consistency_sum) / n, "n": n}
