"""The reference tools bench/eval.py times the whole eval against, and the random-weight models both sides use.

Why random weights: no checkpoint can be downloaded here, and compute cost does not depend on weight
values, so the real architectures (open_clip / transformers CLIP ViT-B/32, VideoMAE-base) with random init
time exactly like the real models. Every score they give is meaningless.

Each reference runs as its own process with its own decode of every file, the way a researcher chaining
the authors' tools would; it prints one JSON line with its own load / decode / compute seconds:

    python bench/references.py clipscore --folder F --model CLIP_DIR       # torchmetrics CLIPScore, 8 frames
    python bench/references.py cdfvd --folder F --reference R --model DIR   # cd-FVD: 16 frames, VideoMAE, scipy sqrtm
    python bench/references.py avalign --folder F                           # AV-Align (TempoTokens' av_align.py)

`prompts.jsonl` in the folder (eval.generators' format) gives CLIPScore its prompts.
"""

from __future__ import annotations

import argparse
import json
import os
import string
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".webm")
OPEN_CLIP_MODEL = "ViT-B-32"


# --- random-weight models ------------------------------------------------------------------------------

@dataclass
class RandomWeights:
    """Where the random models live (built once, offline, from their configs)."""

    open_clip_file: Path
    hf_clip_dir: Path
    videomae_dir: Path

    def env(self) -> dict[str, str]:
        """Environment for an eval.run subprocess: local files only, never the network."""
        return {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def build_random_weights(folder: Path) -> RandomWeights:
    """Build (once; reused from `folder` afterwards) the three random models from their configs, offline."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = RandomWeights(
        open_clip_file=folder / "open_clip_vit_b_32_random.pt",
        hf_clip_dir=folder / "openai-clip-vit-base-patch32-random",  # torchmetrics wants "openai" in the name
        videomae_dir=folder / "videomae-base-ssv2-random",
    )
    if not weights.open_clip_file.is_file():
        _save_open_clip(weights.open_clip_file)
    if not (weights.hf_clip_dir / "config.json").is_file():
        _save_hf_clip(weights.hf_clip_dir)
    if not (weights.videomae_dir / "config.json").is_file():
        _save_videomae(weights.videomae_dir)
    return weights


def _save_open_clip(path: Path) -> None:
    import open_clip
    import torch

    model = open_clip.create_model(OPEN_CLIP_MODEL, pretrained=None)
    tmp = path.with_suffix(".partial")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)


def _prompt_words() -> list[str]:
    """Every word of the built-in suites' prompts, lower-cased as CLIP's tokenizer does."""
    import re

    from eval.suites import BUILTIN_SUITES, load_suite

    words: set[str] = set()
    for name in BUILTIN_SUITES:
        for item in load_suite(name).prompts:
            words.update(re.findall(r"[a-z]+|[0-9]", item.text.lower()))
    return sorted(words)


def _word_tokenizer(directory: Path) -> Any:
    """A CLIP BPE tokenizer built without downloads whose merges make every suite word one token, as the
    real 49 408-token vocab does for common English words: captions get realistic token counts (a
    character-level vocab would run the text tower on ~3× too many tokens)."""
    from transformers import CLIPTokenizer

    chars = list(string.ascii_lowercase + string.digits + ".,!?'-:;\"()")
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    merges: list[str] = []
    for word in _prompt_words():
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:  # left to right: (a, b) → ab, (ab, c</w>) → abc</w>
            merged = pieces[0] + pieces[1]
            if merged not in vocab:
                vocab[merged] = len(vocab)
                merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [merged] + pieces[2:]
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"))


def _save_hf_clip(directory: Path) -> None:
    """transformers' CLIPConfig defaults are openai/clip-vit-base-patch32's architecture (ViT-B/32, 512-d text)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _word_tokenizer(directory)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = CLIPConfig(text_config={"bos_token_id": eos - 1, "eos_token_id": eos, "pad_token_id": eos})
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    images = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})
    CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(directory)


def _save_videomae(directory: Path) -> None:
    """VideoMAEConfig's defaults are videomae-base (ViT-B/16, 16 frames, tubelet 2, 224²); SSv2 head = 174 classes."""
    import torch
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    torch.manual_seed(0)
    config = VideoMAEConfig(num_labels=174, use_mean_pooling=True)
    VideoMAEForVideoClassification(config).save_pretrained(directory)


def video_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_EXTENSIONS)


def prompts_of(folder: Path) -> dict[str, str]:
    """{file name: prompt} from the folder's prompts.jsonl."""
    path = folder / "prompts.jsonl"
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["file"]: r["prompt"] for r in rows if r.get("prompt")}


def decode_rgb(path: Path) -> np.ndarray:
    """Every frame as T×H×W×3 uint8, decoded with PyAV the way torchvision's video readers do."""
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@dataclass
class ToolTiming:
    """One reference tool's run: seconds spent loading its model, decoding, and computing."""

    tool: str
    clips: int
    load_s: float = 0.0
    decode_s: float = 0.0
    compute_s: float = 0.0
    value: float | None = None
    notes: list[str] = field(default_factory=list)


class Stopwatch:
    """Adds the time spent inside `with watch("decode_s"):` blocks onto a ToolTiming field."""

    def __init__(self, timing: ToolTiming) -> None:
        self.timing = timing

    def __call__(self, name: str) -> Stopwatch:
        self.name = name
        return self

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        setattr(self.timing, self.name, getattr(self.timing, self.name) + time.perf_counter() - self.t0)


# --- (a) torchmetrics CLIPScore ------------------------------------------------------------------------

def torchmetrics_clipscore(model_dir: Path) -> Any:
    """torchmetrics 1.9 expects tensors from get_*_features; transformers 5 returns ModelOutputs. Its
    documented callable form takes the model with a shim unwrapping `.pooler_output` (as in
    tests/test_metric_clip.py); preprocessing and scoring stay torchmetrics'."""
    import torch
    from torchmetrics.multimodal import CLIPScore
    from transformers import CLIPModel, CLIPProcessor

    class Unwrap(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model, self.config = model, model.config

        def get_image_features(self, *args: Any, **kwargs: Any) -> torch.Tensor:
            return self.model.get_image_features(*args, **kwargs).pooler_output

        def get_text_features(self, *args: Any, **kwargs: Any) -> torch.Tensor:
            return self.model.get_text_features(*args, **kwargs).pooler_output

    def load() -> tuple[Any, Any]:
        return (Unwrap(CLIPModel.from_pretrained(model_dir, local_files_only=True)),
                CLIPProcessor.from_pretrained(model_dir, local_files_only=True))

    return CLIPScore(model_name_or_path=load)


def clipscore(folder: Path, model_dir: Path, num_frames: int = 8) -> ToolTiming:
    """CLIPScore of 8 uniformly sampled frames (segment centres) per video against its prompt."""
    import torch

    files, prompts = video_files(folder), prompts_of(folder)
    timing = ToolTiming("torchmetrics CLIPScore", len(files))
    watch = Stopwatch(timing)
    with watch("load_s"):
        metric = torchmetrics_clipscore(model_dir)
    for path in files:
        with watch("decode_s"):
            video = decode_rgb(path)
        prompt = prompts.get(path.name)
        if not prompt:
            timing.notes.append(f"{path.name}: no prompt")
            continue
        with watch("compute_s"):
            picked = ((np.arange(num_frames) + 0.5) * len(video) / num_frames).astype(int)
            frames = torch.from_numpy(video[picked]).permute(0, 3, 1, 2)
            metric.update(frames, [prompt] * len(frames))
    with watch("compute_s"):
        timing.value = float(metric.compute())
    return timing


# --- (b) cd-FVD ----------------------------------------------------------------------------------------

def _cdfvd_clip(video: np.ndarray, resolution: int = 256, length: int = 16) -> np.ndarray:
    """cd-FVD's VideoDataset + preprocess: short side → 256 (antialiased), centre crop, back to uint8 — but the
    *first* 16 frames (cd-FVD draws a random clip; the bench compares time, and fixed frames keep it repeatable)."""
    import math

    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(video[:length]).permute(0, 3, 1, 2).float() / 255.0
    _, _, h, w = x.shape
    scale = resolution / min(h, w)
    size = (resolution, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), resolution)
    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    top, left = (x.shape[2] - resolution) // 2, (x.shape[3] - resolution) // 2
    x = x[:, :, top : top + resolution, left : left + resolution]
    return (x.permute(0, 2, 3, 1) * 255).byte().numpy()  # T×H×W×C, as their loader hands it on


def _videomae_features(model: Any, clips: list[np.ndarray]) -> np.ndarray:
    """cd-FVD's preprocess_videomae (float [0, 1], bilinear to 224², no normalisation) + forward_features
    (token mean, then fc_norm)."""
    import torch
    import torch.nn.functional as F

    x = torch.stack([torch.from_numpy(c).permute(0, 3, 1, 2).float() / 255.0 for c in clips])  # B×T×C×H×W
    b, t = x.shape[:2]
    x = F.interpolate(x.flatten(0, 1), size=(224, 224), mode="bilinear", align_corners=False).unflatten(0, (b, t))
    with torch.no_grad():
        hidden = model.videomae(pixel_values=x).last_hidden_state
        return model.fc_norm(hidden.mean(1)).double().numpy()


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """cd-FVD's FeatureStats.get_mean_cov (covariance ÷N, i.e. np.cov with ddof=0) + compute_fvd_from_stats."""
    import scipy.linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    sigma_a, sigma_b = np.cov(a, rowvar=False, ddof=0), np.cov(b, rowvar=False, ddof=0)
    s = scipy.linalg.sqrtm(sigma_a @ sigma_b)  # cd-FVD passes disp=False, deprecated in SciPy 1.17: same work
    return float(np.real(np.square(mu_a - mu_b).sum() + np.trace(sigma_a + sigma_b - 2 * s)))


def cdfvd(folder: Path, reference: Path, model_dir: Path, batch_size: int = 16) -> ToolTiming:
    """Features of both sets in batches of 16 (cd-FVD's default), then the Fréchet distance."""
    from transformers import VideoMAEForVideoClassification

    fake, real = video_files(folder), video_files(reference)
    timing = ToolTiming("cd-FVD recipe (VideoMAE-base, not their ViT-g; + scipy sqrtm)", len(fake))
    watch = Stopwatch(timing)
    with watch("load_s"):
        model = VideoMAEForVideoClassification.from_pretrained(model_dir, local_files_only=True).eval()
    features = []
    for files in (real, fake):
        feats = []
        for start in range(0, len(files), batch_size):
            with watch("decode_s"):
                clips = [_cdfvd_clip(decode_rgb(p)) for p in files[start : start + batch_size]]
            with watch("compute_s"):
                feats.append(_videomae_features(model, clips))
        features.append(np.concatenate(feats))
    with watch("compute_s"):
        timing.value = scipy_frechet(features[0], features[1])
    return timing


# --- (c) AV-Align --------------------------------------------------------------------------------------

def _cv2_frames(path: Path) -> tuple[list[np.ndarray], float]:
    """av_align.py's extract_frames: every full-size BGR frame through cv2.VideoCapture."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"OpenCV cannot open {path}")
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames, fps


def _audio_22k(path: Path) -> np.ndarray:
    """What `librosa.load(wav)` gives (mono, resampled to 22 050 Hz): av_align.py reads a .wav sidecar, our
    files carry the sound in the mp4, so PyAV decodes it and librosa resamples it as load would."""
    import av
    import librosa

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        chunks = [f.to_ndarray() for f in container.decode(stream)]
    y = np.concatenate(chunks, axis=1).astype(np.float32)  # planar float: channels × samples
    return librosa.resample(y.mean(0), orig_sr=rate, target_sr=22050)


def _audio_peaks(y: np.ndarray, sr: int = 22050) -> np.ndarray:
    import librosa

    onset_env = librosa.onset.onset_strength(y=y, sr=sr)
    onset_frames = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr)
    return librosa.frames_to_time(onset_frames, sr=sr)


def _flow_magnitude(img1: np.ndarray, img2: np.ndarray) -> float:
    import cv2

    prev_gray = cv2.cvtColor(img1, cv2.COLOR_BGR2GRAY)
    curr_gray = cv2.cvtColor(img2, cv2.COLOR_BGR2GRAY)
    flow = cv2.calcOpticalFlowFarneback(prev_gray, curr_gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    return float(cv2.mean(cv2.magnitude(flow[..., 0], flow[..., 1]))[0])


def _video_peaks(frames: list[np.ndarray], fps: float) -> list[float]:
    """Farneback flow on full-size frames; a peak is a strict local maximum of the mean magnitude."""
    flow = [_flow_magnitude(frames[0], frames[1])] + [_flow_magnitude(frames[i - 1], frames[i]) for i in range(1, len(frames))]
    return [i / fps for i in range(1, len(flow) - 1) if flow[i - 1] < flow[i] > flow[i + 1]]


def _iou(audio_peaks: np.ndarray, video_peaks: list[float], fps: float) -> float:
    hits = sum(any(v - 1 / fps < a < v + 1 / fps for v in video_peaks) for a in audio_peaks)
    union = len(audio_peaks) + len(video_peaks) - hits
    return hits / union if union else 0.0


def avalign(folder: Path) -> ToolTiming:
    files = video_files(folder)
    timing = ToolTiming("AV-Align (Farneback + librosa onsets)", len(files))
    watch = Stopwatch(timing)
    with watch("load_s"):  # librosa loads lazily: touch what the tool uses
        import cv2  # noqa: F401
        import librosa

        _ = (librosa.onset.onset_strength, librosa.resample, librosa.frames_to_time)
    scores = []
    for path in files:
        with watch("decode_s"):
            frames, fps = _cv2_frames(path)
            try:
                y = _audio_22k(path)
            except (IndexError, ValueError):
                timing.notes.append(f"{path.name}: no audio")
                continue
        with watch("compute_s"):
            scores.append(_iou(_audio_peaks(y), _video_peaks(frames, fps), fps))
    timing.value = float(np.mean(scores)) if scores else None
    return timing


# --- command line: one tool per process ------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tool", choices=["clipscore", "cdfvd", "avalign"])
    ap.add_argument("--folder", type=Path, required=True)
    ap.add_argument("--reference", type=Path, help="cdfvd: the reference videos")
    ap.add_argument("--model", type=Path, help="clipscore / cdfvd: the model folder")
    args = ap.parse_args(argv)
    if args.tool in ("clipscore", "cdfvd") and not (args.model and (args.model / "config.json").is_file()):
        ap.error(f"{args.tool} needs --model <folder with config.json> (bench/eval.py --random-weights builds one)")
    if args.tool == "cdfvd" and not args.reference:
        ap.error("cdfvd needs --reference <folder of videos>")
    runners: dict[str, Callable[[], ToolTiming]] = {
        "clipscore": lambda: clipscore(args.folder, args.model),
        "cdfvd": lambda: cdfvd(args.folder, args.reference, args.model),
        "avalign": lambda: avalign(args.folder),
    }
    print(json.dumps(asdict(runners[args.tool]())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
