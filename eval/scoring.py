"""The bridge between a run and the metrics: one `Scorer` per `--metrics` name, turning (clip, sample) into an `Outcome`.

The metric classes live in `eval/metrics/`; this file only decides what each needs from a sample (prompt,
expectations, audio) and turns every way a sample can fail into a status a reader understands:
"ok", "skipped" (the metric cannot run here or the sample lacks what it needs — with the reason and
how to fix it), "error" (this input broke it), "no audio" (a sound metric on a silent clip), "uncertain"
(the metric looked but its evidence was not significant: no value, the reason given).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from eval.generators import Sample
from eval.metrics.av_sync import SILENCE_PEAK  # one threshold for "no sound at all", the metric's
from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.precision import model_dtype
from eval.report import SetScore
from sora_lite.media import Clip


@dataclass
class Outcome:
    """One metric's verdict on one video. `feature` carries a set-level metric's per-video part (FVD)."""

    value: float | None
    status: str = "ok"
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    feature: list[float] | None = None


@dataclass(frozen=True)
class MetricOption:
    """One setting of one metric, declared by its registry entry: `--metric-args NAME.KEY=VALUE` sets it.

    `flag` keeps an older command-line flag working as an alias (`--clip-protocol X` = `clip.protocol=X`),
    `legacy` the older `ScorerOptions` / `RunConfig` field name (`clip_protocol`). `flag_value`: a flag that
    takes no value and sets this one (`--no-fvd-resample` sets `fvd.resample=False`).
    """

    key: str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    kind: type = str  # str, bool or int: how a --metric-args text is read
    flag: str | None = None
    legacy: str | None = None
    flag_value: Any = None

    def parse(self, metric: str, value: Any) -> Any:
        """The value checked (and read from text): one clear error for a wrong one."""
        where = f"{metric}.{self.key}"
        if isinstance(value, str) and self.kind is bool:
            low = value.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{where} takes true or false, got {value!r}")
            value = low in ("true", "1", "yes")
        elif isinstance(value, str) and self.kind is int:
            try:
                value = int(value)
            except ValueError:
                raise ValueError(f"{where} takes a whole number, got {value!r}") from None
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {', '.join(self.choices)}, got {value!r}")
        return value


class ScorerOptions:
    """What every scorer is built with: the run's device, seed and precision, and each metric's own settings
    (`metric_args`: metric → {key: value}, the keys its registry entry declares in `OPTIONS`).

    Older keyword names (`clip_protocol=...`, `fvd_model=...`) are still taken and read, through the
    options' `legacy` names, so callers written before `--metric-args` keep working.
    """

    def __init__(self, device: str = "cpu", seed: int = 0, precision: str = "fp32",
                 metric_args: dict[str, dict[str, Any]] | None = None, **legacy: Any) -> None:
        self.device = device
        self.seed = seed  # seeds the protocols' random clip offsets
        self.precision = precision  # learned models' forward pass: "fp32" (as the reference tools) or "bf16"
        self.metric_args = check_metric_args(merge_legacy(metric_args or {}, legacy))

    def args_for(self, metric: str) -> dict[str, Any]:
        """The metric's settings: its registry defaults, overridden by what was given."""
        options = getattr(SCORERS.get(metric), "OPTIONS", ())
        return {**{o.key: o.default for o in options}, **self.metric_args.get(metric, {})}

    def __getattr__(self, name: str) -> Any:  # the older field names, read through the registry
        found = _legacy_options().get(name)
        if found is None:
            raise AttributeError(name)
        metric, option = found
        return self.args_for(metric)[option.key]


class Scorer(Protocol):
    name: str
    needs_audio: bool  # True: a clip without sound gets "no audio" instead of a score
    extra_measures: tuple[str, ...]  # numbers in `details` that get leaderboard columns too (may be empty)

    def setup(self) -> None:
        """Load weights once; raise MetricSkipped when they are missing (every row is then skipped)."""
        ...

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        ...

    def settings(self) -> str:
        """What decides this metric's numbers besides the video (model, weights, precision): rows scored
        under different settings are not comparable, so a run records it and will not mix them."""
        ...


def skipped_text(e: MetricSkipped) -> str:
    return f"{e.reason} — {e.how_to_fix}"


def run_scorer(scorer: Scorer, clip: Clip, sample: Sample) -> Outcome:
    """Score one sample, turning every failure into a row: one metric's crash never loses another's result."""
    try:
        return scorer.score(clip, sample)
    except MetricSkipped as e:
        return Outcome(None, "skipped", skipped_text(e))
    except MetricInputError as e:
        return Outcome(None, "error", str(e))
    except Exception as e:  # a metric bug on an odd input must not end the run
        return Outcome(None, "error", f"{type(e).__name__}: {e}")


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, np.integer)):
            v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            v = None
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
        elif isinstance(v, (list, tuple)) and len(v) <= 64 and all(isinstance(x, (str, int, float, bool)) for x in v):
            out[k] = list(v)
        elif isinstance(v, dict):
            out[k] = _jsonable(v)
    return out


def silent(clip: Clip) -> str | None:
    """Why a clip counts as having no sound, or None when it has some."""
    if not clip.has_audio:
        return "the video has no audio track"
    if float(np.abs(clip.audio).max()) < SILENCE_PEAK:
        return "the audio track is silent"
    return None


def _protocol_suffix(name: str) -> str:
    """" protocol=NAME" for a named reference protocol; nothing for the project's own default, so the settings
    of runs made before protocols existed still match (they were all "sora-lite")."""
    return "" if name == "sora-lite" else f" protocol={name}"


# --- CLIP alignment ---------------------------------------------------------------------------------------

class CLIPScorer:
    """CLIP text–video alignment under one `--clip-protocol` (eval/protocols.py): the protocol names the model,
    frames, preprocessing and aggregation; --clip-model / --clip-pretrained override its model only.
    `frame_consistency` (sampled frames T/8 apart) is the project's own detail, not EvalCrafter's CLIP-Temp."""

    name = "clip"
    extra_measures = ("frame_consistency",)  # details worth a leaderboard column of their own
    needs_audio = False
    OPTIONS = (
        MetricOption("protocol", "sora-lite", "which tool's CLIP score recipe (model, frames, preprocessing, aggregation)",
                     choices=("sora-lite", "torchmetrics", "evalcrafter", "vbench", "t2v_metrics"),
                     flag="--clip-protocol", legacy="clip_protocol"),
        MetricOption("model", None, "open_clip model name (default ViT-B-32) or a transformers CLIP id / folder",
                     flag="--clip-model", legacy="clip_model"),
        MetricOption("pretrained", None, "open_clip pretrained tag or checkpoint file (default laion2b_s34b_b79k)",
                     flag="--clip-pretrained", legacy="clip_pretrained"),
    )

    def __init__(self, options: ScorerOptions) -> None:
        from eval.protocols import clip_protocol

        self.options = options
        self.args = options.args_for(self.name)
        self.protocol = clip_protocol(self.args["protocol"])
        self.encoder: Any = None

    def _model(self) -> tuple[str, str | None]:
        if self.args["model"]:
            return self.args["model"], self.args["pretrained"] or self.protocol.pretrained
        return self.protocol.model, self.args["pretrained"] or self.protocol.pretrained

    def setup(self) -> None:
        from eval.metrics import clip_score

        model, pretrained = self._model()
        self.encoder = clip_score.load_clip_encoder(
            model, pretrained, device=self.options.device, dtype=model_dtype(self.options.precision)
        )
        if self.protocol.preprocess == "squash-raw" and not hasattr(self.encoder, "raw_image_embeddings"):
            raise MetricSkipped(f"the {self.protocol.name} protocol feeds raw pixels, which this encoder cannot take",
                                "use a transformers or open_clip CLIP model")

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics import clip_score

        if not sample.prompt:
            raise MetricSkipped("this video has no prompt", "map the file to its prompt in the folder's prompts.jsonl")
        got = clip_score.score_sample(clip.frames, sample.prompt, self.encoder, protocol=self.protocol)
        return Outcome(_finite(got["clip_score"]), details=_jsonable({k: v for k, v in got.items() if k != "clip_score"}))

    def settings(self) -> str:
        model, pretrained = self._model()
        if not (Path(model).is_dir() or "/" in model) and pretrained:  # open_clip: the pretrained tag is part of the model
            model += "/" + pretrained
        return f"{model} {self.options.precision}{_protocol_suffix(self.protocol.name)}"


# --- AV sync -------------------------------------------------------------------------------------------

class AVSyncScorer:
    """AV-Align (peak IoU) as the headline; offset in ms (positive = audio late), |offset| and confidence as details.

    When the lag is not significant against shuffled audio the row is "uncertain": no value, the reason in
    `error`, the best (unsupported) lag in details; details["answered"] counts the answered rows.

    A clip with sound but no visual events (or the reverse) scores AV-Align 0: the events did not line up.
    For the av_sync suite, the number of audio events found is compared with the prompt's `events`.
    """

    name = "av_sync"
    extra_measures = ("abs_offset_ms",)  # details worth a leaderboard column of their own
    needs_audio = True

    def __init__(self, options: ScorerOptions) -> None:
        self.options = options

    def setup(self) -> None:
        from eval.metrics import av_sync  # noqa: F401  (weight-free; fails only if the module is broken)

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics import av_sync

        got = av_sync.score_sample(clip.frames, clip.fps, clip.audio, clip.sample_rate)
        if got.status == "no audio":
            return Outcome(None, "no audio", "the audio track is silent")
        details: dict[str, Any] = {
            "audio_events": len(got.audio_peaks),
            "visual_events": len(got.video_peaks),
            "source": got.source,
            "p_value": _finite(got.p_value),
            "answered": got.status == "ok",
        }
        expected = sample.expectations.get("events")
        if isinstance(expected, int):
            details["events_expected"] = expected
            details["events_match"] = len(got.audio_peaks) == expected
        if got.status == "uncertain":  # the lag is not significant: no number, the reason instead
            details.update(best_lag_frames=_finite(got.best_lag_frames), confidence=_finite(got.confidence))
            return Outcome(None, "uncertain", got.reason, details=_jsonable(details))
        if got.status != "ok":
            details["note"] = got.status
            return Outcome(0.0, details=_jsonable(details))
        offset = _finite(got.offset_ms)
        details.update(
            offset_ms=offset,
            abs_offset_ms=abs(offset) if offset is not None else None,
            offset_frames=_finite(got.offset_frames),
            confidence=_finite(got.confidence),
        )
        return Outcome(_finite(got.av_align), details=_jsonable(details))

    def settings(self) -> str:
        return "weight-free"


class AVSyncLearnedScorer:
    """Optional learned AV sync: Synchformer's offset over 4.8 s windows, as DeSync (seconds, lower is better).

    Its own metric beside the weight-free `av_sync`, so a run without Synchformer's weights loses only this
    column. A clip shorter than one window (~4.8 s) is skipped with that reason rather than padded.
    """

    name = "av_sync_learned"
    needs_audio = True
    extra_measures = ("abs_offset_ms", "probability")
    OPTIONS = (
        MetricOption("model", None, "Synchformer weights: a .pth file, a folder, or owner/repo[/file] in the local HF "
                     "cache (default hkchengrex/MMAudio/ext_weights/synchformer_state_dict.pth)",
                     flag="--sync-model", legacy="sync_model"),
    )

    def __init__(self, options: ScorerOptions) -> None:
        self.options = options
        self.args = options.args_for(self.name)
        self.model: Any = None

    def setup(self) -> None:
        from eval.features.synchformer import DEFAULT_SYNCHFORMER, load_synchformer

        self.model = load_synchformer(self.args["model"] or DEFAULT_SYNCHFORMER, device=self.options.device,
                                      dtype=model_dtype(self.options.precision))

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics import av_sync_learned

        got = av_sync_learned.score_clip(self.model, clip)
        if got.status == "no audio":
            return Outcome(None, "no audio", "the audio track is silent")
        if got.status != "ok":
            raise MetricSkipped(f"learned AV sync not judged: {got.message or got.status}",
                                "score clips of at least 4.8 s (e.g. --seconds 5 for generated ones)")
        return Outcome(_finite(got.desync), details=_jsonable({
            "offset_ms": got.offset_ms,
            "abs_offset_ms": abs(got.offset_ms),
            "probability": got.probability,
            "segments": got.segments,
            "window_starts_s": [w.start_s for w in got.windows],
            "window_offsets_s": [w.offset_s for w in got.windows],
            "window_probabilities": [w.probability for w in got.windows],
        }))

    def settings(self) -> str:
        from eval.features.synchformer import DEFAULT_SYNCHFORMER

        return f"{self.args['model'] or DEFAULT_SYNCHFORMER} {self.options.precision}"


# --- physics ---------------------------------------------------------------------------------------------

GENERAL_LAWS = ("object_permanence", "rigidity", "gravity_direction")  # checked on every clip, whatever the prompt expects


class PhysicsScorer:
    """Physics consistency: the prompt's law plus object permanence, rigidity and gravity's direction, checked
    on the tracked moving object.

    Headline = the lowest of the judged checks (a clip is as lawful as its worst check). A clip without a
    law in its expectations (no prompt, or an alignment prompt) is scored on the general checks alone, and
    so is one whose law the check could not judge (no bounce seen ...): the reason is kept in
    details["law_status"]. A clip with no trackable moving object (a still, a talking head, a landscape)
    is skipped with the reason: no check can judge it. Flicker and smoothness are reported as details.
    """

    name = "physics"
    extra_measures = ("flicker", "smoothness")  # details worth a leaderboard column of their own
    needs_audio = False

    def __init__(self, options: ScorerOptions) -> None:
        self.options = options

    def setup(self) -> None:
        from eval.metrics import physics  # noqa: F401  (weight-free)

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics import physics

        expected = sample.expectations.get("law")
        laws = ([str(expected)] if expected else []) + [law for law in GENERAL_LAWS if law != expected]
        details: dict[str, Any] = {"law": expected or ""}
        # One pass: every law is checked on the same tracks (tracking is the cost, not the checks).
        got = physics.score_sample(clip.frames, clip.fps, {**sample.expectations, "law": laws[0]}, extra_laws=laws[1:])
        judged: list[float] = []
        law_status = ""
        for law in dict.fromkeys(physics.canonical_law(x) for x in laws):
            check = got.checks[law]
            value = _finite(check.score)
            details[law] = value
            if law == got.law and expected:
                law_status = check.status
                details["object"] = got.object
                details.update({f"{law}.{k}": v for k, v in check.diagnostics.items()})
            if value is not None:
                judged.append(value)
        for extra in ("flicker", "smoothness"):
            if extra in got.checks:
                details[extra] = _finite(got.checks[extra].score)
        if law_status:
            details["law_status"] = law_status
        if not judged:
            statuses = [c.status for k, c in got.checks.items() if k not in ("flicker", "smoothness")]
            why = f"the {expected} check could not judge it: {law_status}" if expected else (statuses[0] if statuses else "no moving object was found")
            return Outcome(None, "skipped", f"no physics check could judge this clip ({why})", details=_jsonable(details))
        return Outcome(min(judged), details=_jsonable(details))

    def settings(self) -> str:
        return "weight-free"


class PhysicsVLMScorer:
    """Optional VLM physics judge: P(Yes) / (P(Yes) + P(No)) to "does the motion obey real-world physics?".

    Its own metric beside the weight-free `physics`, so a run without the VLM's weights loses nothing but
    this column (rows say "skipped" with the `hf download` command). Prompt and expected law go into the
    question when the sample has them; a clip without either is still asked the plain question.
    """

    name = "physics_vlm"
    needs_audio = False
    extra_measures = ("answer_mass",)
    OPTIONS = (
        MetricOption("judge", None, "chat VLM: Hub id (local cache only) or folder (default Qwen/Qwen3-VL-2B-Instruct)",
                     flag="--vlm-judge", legacy="vlm_judge"),
    )

    def __init__(self, options: ScorerOptions) -> None:
        self.options = options
        self.args = options.args_for(self.name)
        self.judge: Any = None

    def setup(self) -> None:
        import torch

        from eval.metrics import physics_judge

        self.judge = physics_judge.load_vlm_judge(
            self.args["judge"] or physics_judge.DEFAULT_MODEL, device=self.options.device,
            dtype=torch.bfloat16 if self.options.precision == "bf16" else None,  # fp32: the judge's own default
        )

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        got = self.judge.judge(clip.frames, sample.prompt, sample.expectations)
        return Outcome(_finite(got.score), details=_jsonable({
            "p_yes": got.probabilities["Yes"],
            "p_no": got.probabilities["No"],
            "answer_mass": got.answer_mass,
            "frames_used": len(got.frames_used),
            "model": got.model,
            "question": got.question,
        }))

    def settings(self) -> str:
        from eval.metrics import physics_judge

        # fp32 leaves the judge its own choice: bf16 on a GPU (the precision these VLMs ship in), fp32 on a CPU.
        precision = "bf16" if self.options.precision == "bf16" else "native"
        return f"{self.args['judge'] or physics_judge.DEFAULT_MODEL} {precision}"


# --- multi-shot consistency ---------------------------------------------------------------------------------

def shot_boundaries(sample: Sample, num_frames: int) -> list[Any] | None:
    """Where the cuts are: the engine's ground truth, else the storyboard's shot lengths scaled to the clip."""
    if sample.ground_truth_path:
        try:
            truth = json.loads(Path(sample.ground_truth_path).read_text())
        except (OSError, json.JSONDecodeError):
            truth = {}
        shots = truth.get("shots") if isinstance(truth, dict) else None
        if shots and all(isinstance(s, dict) and "start_frame" in s and "end_frame" in s for s in shots):
            return [{"start_frame": s["start_frame"], "end_frame": min(int(s["end_frame"]), num_frames)} for s in shots]
    shots = sample.expectations.get("shots")
    if not shots:
        return None
    if all(isinstance(s, (int, float)) for s in shots):  # start frames given directly (prompts.jsonl)
        return [int(s) for s in shots]
    lengths = [float(s.get("seconds", 1.0)) if isinstance(s, dict) else 1.0 for s in shots]
    total = sum(lengths)
    starts, acc = [], 0.0
    for length in lengths:
        starts.append(int(round(acc / total * num_frames)))
        acc += length
    return starts


class MultiShotScorer:
    """Colour consistency of the storyboard's persisting objects across cuts; position consistency as a detail."""

    name = "multishot"
    extra_measures = ("position_consistency",)  # details worth a leaderboard column of their own
    needs_audio = False

    def __init__(self, options: ScorerOptions) -> None:
        self.options = options

    def setup(self) -> None:
        from eval.metrics import multishot  # noqa: F401  (weight-free by default)

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics import multishot

        shots = shot_boundaries(sample, clip.num_frames)
        if not shots:
            raise MetricSkipped(
                "no shot boundaries for this video",
                "give its storyboard ('shots': start frames or [{'seconds': ...}]) in prompts.jsonl, or a .truth.json sidecar",
            )
        names = list(dict.fromkeys(p["object"] for p in sample.expectations.get("persist", []) if isinstance(p, dict) and p.get("object")))
        got = multishot.score_sample(clip.frames, shots, objects=names or None)
        if got.status != "ok":
            raise MetricSkipped(f"multi-shot consistency not judged: {got.status}", "score a storyboard with at least one cut")
        return Outcome(_finite(got.score), details=_jsonable({
            "color_consistency": got.color_consistency,
            "position_consistency": got.position_consistency,
            "learned_consistency": got.learned_consistency,
            "cuts": len(got.cuts),
            "objects": ", ".join(names),
        }))

    def settings(self) -> str:
        return "weight-free"


# --- FVD: per-video features here, the distance per generator × suite in `fvd_set_score` ----------------

class FVDScorer:
    """Per-video FVD features under one protocol (eval/protocols.py); generated clips are the "fake" side,
    `features_of` (the reference folder) the "real" side, so each side gets its protocol's clip offset."""

    name = "fvd"
    needs_audio = False
    extra_measures = ()
    OPTIONS = (
        MetricOption("features", "i3d", "feature network (StyleGAN-V I3D or cd-FVD VideoMAE); a named protocol "
                     "uses its own", choices=("i3d", "videomae"), flag="--fvd-features", legacy="fvd_features"),
        MetricOption("model", None, "i3d: the TorchScript detector file (default $SORA_LITE_I3D or "
                     "~/.cache/sora_lite/i3d_torchscript.pt); videomae: a Hub id or local folder (default "
                     "MCG-NJU/videomae-base-finetuned-ssv2)", flag="--fvd-model", legacy="fvd_model"),
        MetricOption("protocol", "sora-lite", "how FVD is computed (eval/protocols.py): sora-lite (the project's own, "
                     "not comparable with published FVD), stylegan-v (I3D, Lanczos+crop+JPEG, seeded real-side "
                     "offset, cov ÷N, N≤2048) or cd-fvd (short side 256 + crop, random clips, cov ÷N; default "
                     "VideoMAE-base is NOT cd-FVD's ViT-g)", choices=("sora-lite", "stylegan-v", "cd-fvd"),
                     flag="--fvd-protocol", legacy="fvd_protocol"),
        MetricOption("resample", True, "under stylegan-v / cd-fvd, draw extra random clips per generated video to "
                     "reach N=2048 (without, the number is labelled not comparable)", kind=bool,
                     flag="--no-fvd-resample", legacy="fvd_resample", flag_value=False),
    )

    def __init__(self, options: ScorerOptions) -> None:
        from eval.protocols import fvd_protocol

        self.options = options
        self.args = options.args_for(self.name)
        self.protocol = fvd_protocol(self.args["protocol"])
        self.extractor: Any = None
        self.passes = 1  # clips per generated video; plan() raises it when the protocol re-samples up to its N

    def plan(self, suite_sizes: list[int], resample: bool = True) -> None:
        """Before scoring: how many clips to draw per generated video so the smallest suite reaches the
        protocol's N (cd-FVD / StyleGAN-V: 2048). Pass 0 is the protocol's own clip, later ones random."""
        from eval.protocols import resample_passes

        self.passes = resample_passes(self.protocol, min(suite_sizes), resample) if suite_sizes else 1

    @property
    def features(self) -> str:
        """The feature network: a named protocol's own, else --fvd-features."""
        return self.args["features"] if self.protocol.name == "sora-lite" else self.protocol.features

    def setup(self) -> None:
        if self.features == "videomae":
            from eval.features.videomae import DEFAULT_VIDEOMAE, VideoMAEFeatures

            self.extractor = VideoMAEFeatures.load(
                self.args["model"] or DEFAULT_VIDEOMAE, device=self.options.device,
                dtype=model_dtype(self.options.precision), protocol=self.protocol, seed=self.options.seed,
            )
        elif self.features == "i3d":
            from eval.features.i3d import I3DFeatures

            self.extractor = I3DFeatures.load(
                self.args["model"], device=self.options.device, protocol=self.protocol, seed=self.options.seed
            )
        else:
            raise MetricSkipped(f"unknown FVD feature extractor {self.features!r}", "use --fvd-features i3d or videomae")

    def score(self, clip: Clip, sample: Sample) -> Outcome:
        from eval.metrics.fvd import score_sample

        got = score_sample(clip.frames, self.extractor)
        feature = np.asarray(got["feature"], dtype=np.float64).ravel()
        details = {"feature_norm": float(got["feature_norm"]), "extractor": self.extractor.name}
        if self.passes <= 1:
            return Outcome(None, "ok", details=details, feature=feature.tolist())
        extra = self.extractor([clip.frames] * (self.passes - 1), offset="random")  # fresh seeded random clips
        details["clips"] = self.passes
        return Outcome(None, "ok", details=details, feature=[feature.tolist(), *np.asarray(extra).tolist()])

    def features_of(self, clips: list[np.ndarray]) -> np.ndarray:
        """Reference ("real") videos' features, with the protocol's real-side offset (StyleGAN-V: seeded random)."""
        from eval.metrics.fvd import extract

        return np.asarray(extract(self.extractor, clips, real=True), dtype=np.float64)

    def settings(self) -> str:
        proto = _protocol_suffix(self.protocol.name)
        if "random" in (self.protocol.real_offset, self.protocol.fake_offset) or self.passes > 1:
            proto += f" seed={self.options.seed}"  # the clip offsets (and so the features) follow the seed
        if self.passes > 1:
            proto += f" clips_per_video={self.passes}"
        if self.features == "videomae":
            from eval.features.videomae import DEFAULT_VIDEOMAE

            model = self.args["model"] or DEFAULT_VIDEOMAE
            if self.protocol.name == "cd-fvd" and model == DEFAULT_VIDEOMAE:
                model += " (VideoMAE-base, not cd-FVD's ViT-g/14)"
            return f"videomae:{model} {self.options.precision}{proto}"
        return f"{self.features}:{self.args['model'] or 'default'} fp32{proto}"  # TorchScript I3D: always fp32


def fake_feature_set(per_video: list[Any]) -> tuple[np.ndarray, int]:
    """Generated features in draw order — every video's first clip, then every video's second, … (as cd-FVD's
    loader loops over the set) — and the number of distinct videos. Each entry is one vector or a list of them."""
    stacks = [np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in per_video]
    if not stacks:
        return np.zeros((0, 0)), 0
    rows = [s[p] for p in range(max(len(s) for s in stacks)) for s in stacks if p < len(s)]
    return np.stack(rows), len(stacks)


def fvd_set_score(
    features: np.ndarray, reference: np.ndarray, seed: int = 0, protocol: str = "sora-lite", videos: int | None = None
) -> SetScore:
    """FVD of one generator × suite against the reference features, with the metric's bootstrap CI, N warning
    and the protocol's comparability label (a number below N = 2048 is never called comparable). `videos`:
    distinct generated videos behind the rows when clips were re-sampled."""
    import warnings

    from eval.metrics.fvd import FVD
    from eval.protocols import comparability, fvd_protocol

    metric = FVD(feature_dim=features.shape[1], seed=seed, protocol=protocol)
    metric.update_features(reference, real=True)
    metric.update_features(features, real=False)
    with warnings.catch_warnings():  # states were filled through update_features, which torchmetrics does not count
        warnings.filterwarnings("ignore", message=".*compute.*called before.*update")
        got = metric.compute()
    label = got["comparability"]
    if videos is not None and videos < len(features):
        label = comparability(fvd_protocol(protocol), int(got["n_fake"]), videos)
    warning = "; ".join(w for w in (label, got.get("warning") or "") if w)
    return SetScore(value=float(got["fvd"]), ci_low=float(got["ci_low"]), ci_high=float(got["ci_high"]),
                    n=int(got["n_fake"]), warning=warning)


SCORERS: dict[str, Callable[[ScorerOptions], Scorer]] = {
    "clip": CLIPScorer,
    "av_sync": AVSyncScorer,
    "av_sync_learned": AVSyncLearnedScorer,
    "physics": PhysicsScorer,
    "physics_vlm": PhysicsVLMScorer,
    "multishot": MultiShotScorer,
    "fvd": FVDScorer,
}


def leaderboard_measures(names: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Metric → its sub-measures with leaderboard columns; every registered metric, in registry order,
    then `names` not registered (a leaderboard keeps one column set whatever a run measured)."""
    names = list(dict.fromkeys([*SCORERS, *(names or [])]))
    return {n: tuple(getattr(SCORERS.get(n), "extra_measures", ())) for n in names}


def register_scorer(name: str, factory: Callable[[ScorerOptions], Scorer]) -> None:
    """Add a metric to `--metrics` (extensions and tests); its `OPTIONS`, if any, become `--metric-args`."""
    SCORERS[name] = factory


def metric_options(name: str) -> dict[str, MetricOption]:
    """The settings a registered metric takes (its registry entry's `OPTIONS`), by key."""
    return {o.key: o for o in getattr(SCORERS.get(name), "OPTIONS", ())}


def _legacy_options() -> dict[str, tuple[str, MetricOption]]:
    return {o.legacy: (name, o) for name in SCORERS for o in metric_options(name).values() if o.legacy}


def merge_legacy(metric_args: dict[str, dict[str, Any]], legacy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`metric_args` with older keyword settings (`clip_protocol=...`) folded in; an unknown name is an error."""
    known = _legacy_options()
    merged = {name: dict(args) for name, args in metric_args.items()}
    for field_name, value in legacy.items():
        if field_name not in known:
            raise TypeError(f"unknown scorer option {field_name!r}; metric settings go in metric_args")
        metric, option = known[field_name]
        merged.setdefault(metric, {}).setdefault(option.key, value)
    return merged


def check_metric_args(metric_args: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every metric and key known to the registry and every value allowed, else one ValueError saying which."""
    checked: dict[str, dict[str, Any]] = {}
    for name, args in metric_args.items():
        if name not in SCORERS:
            raise ValueError(f"--metric-args names an unknown metric {name!r}; choose from {', '.join(sorted(SCORERS))}")
        options = metric_options(name)
        for key, value in args.items():
            if key not in options:
                keys = ", ".join(sorted(options)) or "none"
                raise ValueError(f"the metric {name} has no setting {key!r} (its settings: {keys})")
            checked.setdefault(name, {})[key] = options[key].parse(name, value)
    return checked


def parse_metric_args(text: str) -> dict[str, dict[str, Any]]:
    """`clip.protocol=vbench,fvd.model=/path/i3d.pt` → {"clip": {"protocol": "vbench"}, "fvd": {...}}, checked."""
    parsed: dict[str, dict[str, Any]] = {}
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name_key, eq, value = item.partition("=")
        metric, dot, key = name_key.strip().partition(".")
        if not eq or not dot or not metric or not key:
            raise ValueError(f"--metric-args takes metric.key=value pairs separated by commas, e.g. "
                             f"clip.protocol=vbench (got {item!r})")
        parsed.setdefault(metric, {})[key.strip()] = value.strip()
    return check_metric_args(parsed)


def scorer_settings(scorers: dict[str, Scorer]) -> dict[str, str]:
    """metric → its settings line (empty for an extension scorer that does not say)."""
    return {name: scorer.settings() if hasattr(scorer, "settings") else "" for name, scorer in scorers.items()}


def make_scorers(names: list[str], options: ScorerOptions) -> dict[str, Scorer]:
    unknown = [n for n in names if n not in SCORERS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(sorted(SCORERS))}")
    return {n: SCORERS[n](options) for n in names}
