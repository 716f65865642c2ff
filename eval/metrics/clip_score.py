"""Text–video alignment with CLIP: CLIPScore over uniformly sampled frames, plus frame-to-frame consistency.

Per video: N = 8 frames (`NUM_FRAMES`) at the centres of 8 equal segments (all frames if shorter).
- clip_score = mean over frames of 100·max(cos(E_frame, E_prompt), 0) — CLIPScore (Hessel et al. 2021)
  per frame, then averaged. (torchmetrics' CLIPScore clamps the *mean* instead; the two agree whenever
  no frame has a negative cosine, which is what real CLIP models give.)
- frame_consistency = mean cosine between consecutive sampled frames' image embeddings (1 = static look).

Backends: open_clip (default `ViT-B-32` / `laion2b_s34b_b79k`, configurable) or a transformers
`CLIPModel` (local dir or Hub id). Weights are read from the local cache only; when they are missing the
metric raises `MetricSkipped` naming the model and how to fetch it.

That default is the project's own "sora-lite" recipe. `protocol` (eval/protocols.py, `--clip-protocol`)
switches frames, preprocessing and aggregation to another tool's: torchmetrics (100·max(mean cos, 0)),
EvalCrafter (every frame, cv2 squash to 224², raw 0–255 floats into the model, mean raw cosine), VBench
(every frame, model preprocessing, mean cosine), t2v_metrics (8 frames at i·(T//8) as JPEGs in one
horizontal strip with 10 px gaps, which the model's centre crop then cuts to its middle).

`frame_consistency` is this project's own measure (mean cosine between *sampled* frames T/8 apart); it
is NOT EvalCrafter's CLIP-Temp, which compares consecutive frames; the evalcrafter preset adds that one as
`clip_temp`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

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
    def raw_image_embeddings(self, pixels: torch.Tensor) -> torch.Tensor:
        """N×3×S×S float pixels straight into the vision tower, no processor (EvalCrafter feeds 0–255 this way)."""
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
    def raw_image_embeddings(self, pixels: torch.Tensor) -> torch.Tensor:
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


def evalcrafter_pixels(frames: np.ndarray, size: int = 224) -> torch.Tensor:
    """EvalCrafter's Scores_with_CLIP.py: cv2.resize each RGB frame to size² (INTER_LINEAR), float 0–255, CHW."""
    import cv2

    return torch.stack([torch.from_numpy(cv2.resize(np.ascontiguousarray(f), (size, size))).permute(2, 0, 1).float()
                        for f in frames])


T2V_METRICS_GAP = 10  # black pixels between frames in t2v_metrics' concatenate_images_horizontal


def evalcrafter_temp_pixels(frames: np.ndarray, size: int = 224) -> torch.Tensor:
    """EvalCrafter's calculate_clip_temp_score: transforms.Resize([size, size]) on each raw 0–255 float CHW
    frame (torchvision's tensor resize: bilinear, antialiased) — not the cv2 squash of its clip score."""
    from torchvision import transforms

    resize = transforms.Resize([size, size])
    return torch.stack([resize(torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).float()) for f in frames])


def t2v_metrics_indices(total: int, num_frames: int = NUM_FRAMES) -> list[int]:
    """t2v_metrics' extract_frames: frame i·(T // n) for i < n (frame 0 repeated when T < n)."""
    if total <= 0:
        raise MetricInputError("the clip has no frames")
    step = total // num_frames
    return [i * step for i in range(num_frames)]


def t2v_metrics_strip(video: np.ndarray, num_frames: int = NUM_FRAMES) -> np.ndarray:
    """The one image t2v_metrics scores for a video with an image-only CLIP (`video_mode = "concat"`).

    Their Score.forward writes each picked frame as a cv2 JPEG and reads it back, lays the frames side by
    side left to right with 10 black pixels between them, writes that strip as a cv2 JPEG, and the CLIP
    model's loader opens it with PIL as RGB. The model's own preprocessing (resize the short side, centre
    crop) then sees only the middle of the strip — that is what the reference scores, so it is kept.
    JPEGs are encoded in memory: cv2.imencode and cv2.imwrite produce the same bytes."""
    import io

    import cv2
    from PIL import Image

    bgr_frames = []
    for i in t2v_metrics_indices(len(video), num_frames):
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(video[i]), cv2.COLOR_RGB2BGR))
        if not ok:
            raise MetricInputError(f"frame {i} could not be encoded as JPEG")
        bgr_frames.append(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    height = max(f.shape[0] for f in bgr_frames)
    width = sum(f.shape[1] for f in bgr_frames) + T2V_METRICS_GAP * (len(bgr_frames) - 1)
    strip = np.zeros((height, width, 3), dtype=np.uint8)
    x = 0
    for f in bgr_frames:
        strip[: f.shape[0], x : x + f.shape[1]] = f
        x += f.shape[1] + T2V_METRICS_GAP
    ok, buf = cv2.imencode(".jpg", strip)
    if not ok:
        raise MetricInputError("the frame strip could not be encoded as JPEG")
    return np.asarray(Image.open(io.BytesIO(buf.tobytes())).convert("RGB"))


def select_frames(video: np.ndarray, policy: str, num_frames: int = NUM_FRAMES) -> np.ndarray:
    """"uniform8": centres of `num_frames` equal segments; "all": every frame; "concat8": t2v_metrics' strip."""
    if policy == "all":
        return video
    if policy == "concat8":
        return t2v_metrics_strip(video, num_frames)[None]
    if policy != "uniform8":
        raise ValueError(f"unknown frame selection {policy!r}")
    return video[uniform_indices(len(video), num_frames)]


def score_sample(
    frames: Any, prompt: str, encoder: ClipEncoder, num_frames: int = NUM_FRAMES, protocol: Any = None
) -> dict[str, float]:
    """One video × prompt → clip_score, frame_consistency (cosine) and the frames used, under `protocol`
    (an eval.protocols.CLIPProtocol; None = "sora-lite"). clip_score is 0–100 for the clamped
    aggregations, a raw cosine (−1…1) for EvalCrafter / VBench / t2v_metrics, as those tools report."""
    from eval.protocols import clip_protocol

    proto = protocol or clip_protocol("sora-lite")
    if not isinstance(prompt, str) or not prompt.strip():
        raise MetricInputError("CLIP alignment needs a non-empty prompt")
    video = as_frames(frames)
    picked = select_frames(video, proto.frames, num_frames)
    if proto.preprocess == "squash-raw":
        images = encoder.raw_image_embeddings(evalcrafter_pixels(picked))  # type: ignore[attr-defined]
    else:
        images = encoder.image_embeddings(picked)
    text = encoder.text_embeddings([prompt])
    cosines = (images @ text.T).squeeze(-1)
    if proto.aggregate == "clamp-per-frame":
        score = float((100.0 * cosines.clamp(min=0.0)).mean())
    elif proto.aggregate == "clamp-mean":
        score = float(100.0 * cosines.mean().clamp(min=0.0))
    elif proto.aggregate == "cosine":
        score = float(cosines.mean())
    else:
        raise ValueError(f"unknown aggregation {proto.aggregate!r}")
    consistency = (images[1:] * images[:-1]).sum(-1).mean().item() if len(images) > 1 else 1.0
    row = {
        "clip_score": score,
        "frame_consistency": float(consistency),
        "frames_used": float(num_frames if proto.frames == "concat8" else len(picked)),
    }
    if proto.clip_temp:  # EvalCrafter's CLIP-Temp: every frame, consecutive pairs (frame_consistency is not it)
        temp = encoder.raw_image_embeddings(evalcrafter_temp_pixels(video))  # type: ignore[attr-defined]
        row["clip_temp"] = float((temp[1:] * temp[:-1]).sum(-1).mean()) if len(temp) > 1 else 1.0
    if proto.pool == "frames":  # the suite number is Σ cos / Σ frames over all videos (eval.report pools it)
        row["pool_weight"] = float(len(picked))
    return row


