"""Named evaluation protocols: which reference tool's recipe an FVD or CLIP number follows.

A number is only comparable with a published one when it was computed the same way: same feature
network, same frames, same resize/crop, same statistics, same N. Each preset here is data (a frozen
dataclass) naming the reference file it reproduces, what it reproduces and what it cannot; a run picks
one with `--fvd-protocol` / `--clip-protocol` and records the name in the leaderboard's `settings`
column and the report, so numbers from different protocols are never mixed.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLISHED_N = 2048  # StyleGAN-V's fvd2048_16f and cd-FVD's default: the N published FVDs are computed at


@dataclass(frozen=True)
class FVDProtocol:
    """How an FVD is computed, end to end."""

    name: str
    features: str  # "i3d" (StyleGAN-V TorchScript) or "videomae"
    reference_file: str
    num_frames: int = 16
    resize: str = "squash"  # "squash" (whole frame → model size), "stylegan-v" (Lanczos short side + crop + JPEG), "cd-fvd"
    resolution: int | None = None  # the prepared dataset's side (StyleGAN-V 128/256; cd-FVD's loader 256)
    jpeg: bool = False  # StyleGAN-V's prepared datasets are JPEG frames (PIL's default quality; see features/prepare.py)
    real_offset: str = "first"  # "first" or "random" (seeded) start of the 16-frame clip on the reference side
    fake_offset: str = "first"
    cov_ddof: int = 1  # covariance divisor N − ddof: the references' FeatureStats use ÷N (ddof 0)
    max_items: int | None = None  # N cap per side (the references stop at 2048)
    # Generated side below max_items: draw more random 16-frame clips from the same videos until N is reached
    # (cd-FVD's loader loops over the fake set with fresh random clips; StyleGAN-V generates 2048 videos instead).
    resample_fake: bool = False
    reproduced: str = ""
    not_reproduced: str = ""


@dataclass(frozen=True)
class CLIPProtocol:
    """How a text–video CLIP score is computed: model, frames, preprocessing, aggregation."""

    name: str
    reference_file: str
    model: str  # open_clip name, or a transformers id
    pretrained: str | None  # open_clip tag (None for transformers ids)
    frames: str = "uniform8"  # "uniform8" (centres of 8 segments), "all", "concat8" (t2v_metrics' JPEG strip)
    preprocess: str = "model"  # "model" (the model's own processor), "squash-raw" (0–255 squashed to 224², no normalisation)
    aggregate: str = "clamp-per-frame"  # "clamp-per-frame" (mean of 100·max(cos,0)), "clamp-mean" (100·max(mean cos,0)), "cosine" (mean raw cos)
    pool: str = "videos"  # suite number: "videos" (mean of per-video scores) or "frames" (Σ over all frames / Σ frames)
    clip_temp: bool = False  # also EvalCrafter's CLIP-Temp (consecutive frames, every frame) as the `clip_temp` detail
    reproduced: str = ""
    not_reproduced: str = ""


FVD_PROTOCOLS: dict[str, FVDProtocol] = {
    p.name: p
    for p in (
        FVDProtocol(
            name="sora-lite",
            features="i3d",
            reference_file="(this project's own default; not a published protocol)",
            resize="centre-square",
            real_offset="first",
            fake_offset="first",
            cov_ddof=1,
            reproduced="StyleGAN-V's I3D and its call; 16 consecutive frames",
            not_reproduced="no Lanczos resize / JPEG, first 16 frames on both sides, covariance ÷(N−1): "
            "a project-internal number, never comparable with published FVD",
        ),
        FVDProtocol(
            name="stylegan-v",
            features="i3d",
            reference_file="universome/stylegan-v src/metrics/frechet_video_distance.py, metric_utils.py, "
            "src/scripts/convert_videos_to_frames.py",
            resize="stylegan-v",
            resolution=256,
            jpeg=True,
            real_offset="random",
            fake_offset="first",
            cov_ddof=0,
            max_items=PUBLISHED_N,
            resample_fake=True,
            reproduced="I3D TorchScript called with uint8 and rescale=True, resize=True; 16 consecutive frames; "
            "real side at a seeded random offset, generated side from frame 0; frames prepared as the dataset "
            "script does (Lanczos short side, centre crop, JPEG at PIL's default quality); features as float32; "
            "mean/covariance ÷N; N capped at 2048 per side",
            not_reproduced="Python's `random` stream for offsets (ours: numpy, seeded); StyleGAN-V scores 2048 "
            "distinct generated videos: with fewer, extra random clips are drawn from each video up to 2048 "
            "(--no-fvd-resample: off) and the number is labelled not comparable, naming how many videos were "
            "behind it; the I3D weights are whatever file you supply",
        ),
        FVDProtocol(
            name="cd-fvd",
            features="videomae",
            reference_file="songweige/content-debiased-fvd cdfvd/utils/data_utils.py (preprocess), "
            "cdfvd/third_party/VideoMAEv2/utils.py (preprocess_videomae), cdfvd/fvd.py",
            resize="cd-fvd",
            resolution=256,
            real_offset="random",
            fake_offset="random",
            cov_ddof=0,
            max_items=PUBLISHED_N,
            resample_fake=True,
            reproduced="short side → 256 (bilinear, antialias), centre crop, then bilinear to the model's 224²; "
            "float [0, 1] without normalisation; a seeded random 16-frame clip on both sides; "
            "mean over tokens → fc_norm; ÷N covariance; the generated side re-sampled pass after pass with fresh "
            "random clips until N = 2048, as their compute_fake_stats loops",
            not_reproduced="the default network is transformers' VideoMAE-base (768-d), NOT cd-FVD's VideoMAE-v2 "
            "ViT-g/14 (1408-d): only their checkpoint converted with `python3 -m eval.features.videomae_v2` "
            "and passed as --fvd-model gives cd-FVD's features; random clips come from numpy's seeded generator, not Python's `random`",
        ),
    )
}

CLIP_PROTOCOLS: dict[str, CLIPProtocol] = {
    p.name: p
    for p in (
        CLIPProtocol(
            name="sora-lite",
            reference_file="(this project's own default)",
            model="ViT-B-32",
            pretrained="laion2b_s34b_b79k",
            reproduced="CLIPScore per frame (Hessel et al.) on 8 uniformly sampled frames",
            not_reproduced="LAION-2B ViT-B/32, not any published tool's default model",
        ),
        CLIPProtocol(
            name="torchmetrics",
            reference_file="Lightning-AI/torchmetrics src/torchmetrics/multimodal/clip_score.py",
            model="openai/clip-vit-large-patch14",
            pretrained=None,
            aggregate="clamp-mean",
            reproduced="OpenAI ViT-L/14 via transformers' CLIPProcessor; 100·max(mean cosine, 0)",
            not_reproduced="torchmetrics scores images, not videos: frames are our 8 uniform ones",
        ),
        CLIPProtocol(
            name="evalcrafter",
            reference_file="evalcrafter/EvalCrafter metrics/Scores_with_CLIP.py",
            model="openai/clip-vit-base-patch32",
            pretrained=None,
            frames="all",
            preprocess="squash-raw",
            aggregate="cosine",
            clip_temp=True,
            reproduced="OpenAI ViT-B/32; every frame; 0–255 pixels squashed to 224² without normalisation; "
            "mean raw cosine; and their CLIP-Temp as `clip_temp` (every frame, torchvision Resize([224, 224]) of "
            "raw 0–255 floats, mean cosine of consecutive frames)",
            not_reproduced="EvalCrafter's ×100 is not applied (raw cosine, as their script logs it); frames come "
            "from PyAV, not cv2.VideoCapture",
        ),
        CLIPProtocol(
            name="vbench",
            reference_file="Vchitect/VBench vbench/appearance_style.py",
            model="ViT-B-32",
            pretrained="openai",
            frames="all",
            aggregate="cosine",
            pool="frames",
            reproduced="OpenAI ViT-B/32 (open_clip weights 'openai'); every frame; the model's preprocessing "
            "(resize 224 bicubic, centre crop, CLIP normalisation, as VBench's clip_transform_Image); per video "
            "the mean of logits_per_text/100, which is the cosine since OpenAI's logit scale is exactly 100; the "
            "suite number pools frames over all videos (Σ sim / Σ frames), as appearance_style returns",
            not_reproduced="its style prompts (auxiliary_info) are the caller's to give; frames come from "
            "PyAV, not decord",
        ),
        CLIPProtocol(
            name="t2v_metrics",
            reference_file="linzhiqiu/t2v_metrics t2v_metrics/score.py (Score.forward, video_mode 'concat'), "
            "t2v_metrics/models/vqascore_models/mm_utils.py, t2v_metrics/models/clipscore_models/clip_model.py",
            model="ViT-L-14",
            pretrained="openai",
            frames="concat8",
            aggregate="cosine",
            reproduced="OpenAI ViT-L/14 (their default 'openai:ViT-L-14'); frames i·(T//8), each a cv2 JPEG "
            "(quality 95) read back, side by side with 10 black pixels between them, the strip saved as JPEG "
            "and opened with PIL; the model's preprocessing (which centre-crops the strip to its middle); "
            "one raw cosine per video",
            not_reproduced="frames come from our decoder (PyAV), theirs from cv2.VideoCapture (same frames, "
            "YUV→RGB may differ by a grey level) and its CAP_PROP_FRAME_COUNT; they list the frame files with "
            "os.listdir, whose order depends on the file system — we keep time order",
        ),
    )
}


def fvd_protocol(name: str) -> FVDProtocol:
    if name not in FVD_PROTOCOLS:
        raise ValueError(f"unknown FVD protocol {name!r}; choose from {', '.join(FVD_PROTOCOLS)}")
    return FVD_PROTOCOLS[name]


def clip_protocol(name: str) -> CLIPProtocol:
    if name not in CLIP_PROTOCOLS:
        raise ValueError(f"unknown CLIP protocol {name!r}; choose from {', '.join(CLIP_PROTOCOLS)}")
    return CLIP_PROTOCOLS[name]


def resample_passes(protocol: FVDProtocol, n_videos: int, enabled: bool = True) -> int:
    """Clips drawn per generated video so the fake side reaches the protocol's N (1 = no re-sampling)."""
    if not enabled or not protocol.resample_fake or not protocol.max_items or n_videos <= 0:
        return 1
    return max(1, -(-protocol.max_items // n_videos))


def comparability(protocol: FVDProtocol, n: int, videos: int | None = None) -> str:
    """The label every FVD carries: whether it may stand next to a published number, and why not.

    `videos` is the number of distinct generated videos behind the N clips when clips were re-sampled."""
    if protocol.name == "sora-lite":
        return f"sora-lite protocol (N={n}): not comparable with published FVD"
    if n < PUBLISHED_N:
        return f"{protocol.name} protocol, not comparable with published FVD (N={n} < {PUBLISHED_N})"
    if videos is not None and videos < n:
        if protocol.name == "cd-fvd":
            return (f"cd-fvd protocol at N={n}: clips re-sampled from {videos} generated videos, as cd-FVD's loader "
                    "does; computed as published, up to the supplied weights")
        return (f"{protocol.name} protocol, not comparable with published FVD: N={n} clips re-sampled from only "
                f"{videos} generated videos (the reference scores {PUBLISHED_N} distinct ones)")
    return f"{protocol.name} protocol at N={n}: computed as published, up to the supplied weights"
