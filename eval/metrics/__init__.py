"""The metric registry: name → metric class, what it needs per sample, and which weights (if any).

Metrics are torchmetrics `Metric`s (update / compute / reset; states merge across processes) plus a
per-sample function for one row of `samples.csv`. Modules are imported lazily so `import eval.metrics`
stays cheap. `score_one(name, inputs, resource)` is the uniform per-sample call: it never raises for a
skipped metric or a bad sample, it returns a row with status "ok" / "skipped" / "error" / a metric's
own status ("no audio", ...).

Needs: frames (uint8 T×H×W×3), fps, audio (float32 C×S) + sample_rate, prompt, expectations (the
suite's dict), shots (shot boundaries), reference (real-video features, set level).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import asdict, dataclass, field, is_dataclass
from fractions import Fraction
from typing import Any, Callable

from eval.metrics.errors import MetricInputError, MetricSkipped, SkipRecord

__all__ = [
    "METRICS",
    "MetricInfo",
    "MetricInputError",
    "MetricSkipped",
    "SampleInputs",
    "SampleScore",
    "SkipRecord",
    "get_metric",
    "list_metrics",
    "load_resource",
    "score_one",
]


def _resolve(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class MetricInfo:
    name: str
    metric_class: str  # "module:Class"
    sample_fn: str  # "module:function"
    needs: tuple[str, ...]
    weights: str | None  # None = weight-free
    loader: str | None = None  # "module:function" building the resource (encoder / extractor); may raise MetricSkipped
    set_level: bool = False  # the value exists only over a set (FVD): per-sample rows carry features only
    higher_is_better: bool = True
    description: str = ""

    def load_class(self) -> type:
        return _resolve(self.metric_class)

    def sample_function(self) -> Callable[..., Any]:
        return _resolve(self.sample_fn)


METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo(
            "clip_score",
            "eval.metrics.clip_score:CLIPAlignment",
            "eval.metrics.clip_score:score_sample",
            needs=("frames", "prompt"),
            weights="open_clip ViT-B-32/laion2b_s34b_b79k (or a transformers CLIP)",
            loader="eval.metrics.clip_score:load_clip_encoder",
            description="CLIPScore over 8 uniformly sampled frames + frame-to-frame consistency",
        ),
        MetricInfo(
            "fvd_i3d",
            "eval.metrics.fvd:FVD",
            "eval.metrics.fvd:score_sample",
            needs=("frames", "reference"),
            weights="StyleGAN-V i3d_torchscript.pt ($SORA_LITE_I3D)",
            loader="eval.features.i3d:I3DFeatures.load",
            set_level=True,
            higher_is_better=False,
            description="FVD on I3D features, StyleGAN-V protocol (16 frames)",
        ),
        MetricInfo(
            "fvd_videomae",
            "eval.metrics.fvd:FVD",
            "eval.metrics.fvd:score_sample",
            needs=("frames", "reference"),
            weights="VideoMAE (transformers; default MCG-NJU/videomae-base-finetuned-ssv2)",
            loader="eval.features.videomae:VideoMAEFeatures.load",
            set_level=True,
            higher_is_better=False,
            description="content-debiased FVD on VideoMAE features (cd-FVD protocol)",
        ),
        MetricInfo(
            "av_sync",
            "eval.metrics.av_sync:AVSync",
            "eval.metrics.av_sync:score_sample",
            needs=("frames", "fps", "audio"),
            weights=None,
            description="AV offset (ms, + = audio late) with confidence, and AV-Align IoU",
        ),
        MetricInfo(
            "physics",
            "eval.metrics.physics:PhysicsConsistency",
            "eval.metrics.physics:score_sample",
            needs=("frames", "fps", "expectations"),
            weights=None,
            description="law checks on pixel tracks (free fall, bounce, permanence, ...) + flicker, smoothness",
        ),
        MetricInfo(
            "multishot",
            "eval.metrics.multishot:MultiShotConsistency",
            "eval.metrics.multishot:score_sample",
            needs=("frames", "shots", "expectations"),
            weights=None,
            description="object colour / position kept across cuts (+ CLIP embeddings when given)",
        ),
    )
}


def get_metric(name: str) -> MetricInfo:
    if name not in METRICS:
        raise KeyError(f"unknown metric '{name}'; known: {', '.join(METRICS)}")
    return METRICS[name]


def list_metrics() -> list[str]:
    return list(METRICS)


def load_resource(name: str, **options: Any) -> Any:
    """The model a metric needs (CLIP encoder, FVD feature extractor), or None for weight-free metrics.

    Raises MetricSkipped (reason + how to fix) when its weights are not available locally.
    """
    info = get_metric(name)
    if info.loader is None:
        return None
    module, _, attr = info.loader.partition(":")
    target: Any = importlib.import_module(module)
    for part in attr.split("."):
        target = getattr(target, part)
    return target(**options)


@dataclass
class SampleInputs:
    """One decoded video and what the suite says about it."""

    frames: Any
    fps: float | Fraction = 24
    audio: Any = None
    sample_rate: int | None = None
    prompt: str | None = None
    expectations: dict[str, Any] | None = None
    shots: list[Any] | None = None


@dataclass
class SampleScore:
    """One row of samples.csv: metric, status, numbers, and the error/skip message if any."""

    metric: str
    status: str
    values: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _numbers(record: Any) -> tuple[dict[str, float], dict[str, Any]]:
    data = asdict(record) if is_dataclass(record) else dict(record)
    values = {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    details = {k: v for k, v in data.items() if k not in values}
    return values, details


def score_one(name: str, inputs: SampleInputs, resource: Any = None) -> SampleScore:
    """Score one sample with one metric; never raises for skips or bad samples (they become the row)."""
    info = get_metric(name)
    fn = info.sample_function()
    try:
        if name == "clip_score":
            if resource is None:
                raise MetricSkipped("no CLIP encoder loaded", "call load_resource('clip_score') first")
            record: Any = fn(inputs.frames, inputs.prompt or "", resource)
        elif info.set_level:
            if resource is None:
                raise MetricSkipped(f"no feature extractor loaded for {name}", f"call load_resource('{name}') first")
            record = fn(inputs.frames, resource)
        elif name == "av_sync":
            record = fn(inputs.frames, inputs.fps, inputs.audio, inputs.sample_rate)
        elif name == "physics":
            record = fn(inputs.frames, inputs.fps, inputs.expectations or {})
        elif name == "multishot":
            objects = (inputs.expectations or {}).get("objects") or (inputs.expectations or {}).get("persist")
            record = fn(inputs.frames, inputs.shots or [], objects, resource)
        else:  # pragma: no cover - every registered metric is dispatched above
            raise MetricInputError(f"no per-sample dispatch for {name}")
    except MetricSkipped as skip:
        return SampleScore(name, "skipped", error=f"{skip.reason} — {skip.how_to_fix}")
    except MetricInputError as bad:
        return SampleScore(name, "error", error=str(bad))
    if name == "physics":
        values = {"score": record.score, **{f"{k}_score": c.score for k, c in record.checks.items()}}
        values.update(
            {
                f"{record.law}_{k}": float(v)
                for k, v in record.checks[record.law].diagnostics.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
        )
        return SampleScore(name, record.status, values, details={"law": record.law, "object": record.object})
    if info.set_level:
        return SampleScore(
            name, "ok", {"feature_norm": record["feature_norm"]}, details={"feature": record["feature"].tolist()}
        )
    values, details = _numbers(record)
    status = str(details.pop("status", "ok"))
    values = {k: v for k, v in values.items() if not math.isnan(v)}  # "not measured" is the status's job
    return SampleScore(name, status, values, details=details)
