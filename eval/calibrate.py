"""`python -m eval.calibrate`: controls every metric must tell apart, rendered by the world engine, scored as AUROC.

- physics: lawful clips vs the same scenes with one violation (gravity_flip, energy_gain, teleport,
  vanish — the SceneSpec `perturbations` — and whole_flip: the rendered clip turned upside down);
  AUROC of the physics score, lawful = positive class.
- av_sync: in-sync clips vs the same clips with the sound shifted by ±2…12 frames (`audio_shift`);
  AUROC of −|estimated offset| and of AV-Align, and the offset error table (estimated − true, in ms and
  frames; sign: positive = audio late, as the engine's shift).
- av_sync_learned: the same in-sync vs shifted controls, at least 5 s long, scored by Synchformer's DeSync
  (only when its weights are here; else skipped with the reason). Its classes are 0.2 s apart, so the
  smallest shifts (2 frames = 83 ms at 24 fps) are expected to be hard for it.
- av_sync_speech (only with --families ...,av_sync_speech): a person saying a quoted line to the camera (Piper
  voice, the mouth moving with it) in sync vs the voice shifted by the same ±frames (advances ≤ 0.3 s: the line
  starts 0.3 s in); scored by the av_sync metric, which may abstain on a clip whose only motion is a mouth —
  abstentions count as unscored, with their reason in calibration_scores.csv.
- clip: matched vs shuffled captions on the same frames (only when CLIP weights are here; else skipped
  with the reason).

Clips go through the same MP4 write + read as a user's clip unless --in-memory. Writes calibration.csv
(per metric × control: AUROC, N, status), av_offsets.csv, calibration_scores.csv and calibration.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eval.generators import Sample
from eval.metrics.errors import MetricSkipped
from eval.report import markdown_table
from eval.scoring import SCORERS, Outcome, ScorerOptions, run_scorer, skipped_text

PHYSICS_PERTURBATIONS: dict[str, dict[str, float]] = {
    # kind → perturbation fields; `at` is the video second it happens
    "gravity_flip": {"at": 0.7},
    "energy_gain": {"at": 0.0, "amount": 1.15},  # higher gains throw the ball out of the frame
    "teleport": {"at": 0.7, "amount": 0.5},
    "vanish": {"at": 0.7},
}
SHIFT_FRAMES = (2, 4, 6, 8, 10, 12)
FAMILIES = ("physics", "av_sync", "av_sync_learned", "clip")  # the default run
EXTRA_FAMILIES = ("av_sync_speech",)  # on request (--families): speech clips the av_sync metric mostly abstains on
CONTROL_SETS = {"physics": "lawful vs perturbed", "av_sync": "in sync vs shifted",
                "av_sync_speech": "speech in sync vs shifted",
                "av_sync_learned": "in sync vs shifted", "clip": "matched vs shuffled"}
SPEECH_MAX_ADVANCE_MS = 300.0  # speech controls: a line starts 0.3 s into its shot, so no larger advance
SCORER_OF = {"av_sync_speech": "av_sync"}  # a family scored by another family's metric
SPEECH_LINES = ("welcome to the show", "the train leaves at nine tonight", "I have never seen anything like it",
                "please close the door behind you", "we are almost there now", "good morning everyone")
LEARNED_SYNC_SECONDS = 5.0  # Synchformer's window is 4.8 s
PHYSICS_CHECKS = ("bounce", "permanence", "rigidity", "gravity_direction", "flicker", "smoothness")  # details of the physics scorer
# Saturated colours away from the sky's hue: the weight-free tracker documents blue-on-sky as out of scope.
COLORS = ("red", "green", "yellow", "orange", "purple", "pink")
MATERIALS = ("rubber", "plastic", "wood", "metal")
CAPTIONS = (
    ("a red ball on a green grass lawn", {"shape": "ball", "color": "red"}, "grass"),
    ("a blue cube on a wooden floor", {"shape": "cube", "color": "blue", "material": "wood"}, "wood"),
    ("a yellow cylinder on a sandy beach", {"shape": "cylinder", "color": "yellow", "material": "plastic"}, "sand"),
    ("a purple capsule on a tiled floor", {"shape": "capsule", "color": "purple", "material": "plastic"}, "tiles"),
    ("a white ball on a concrete floor", {"shape": "ball", "color": "white"}, "concrete"),
    ("an orange cube on a checker floor", {"shape": "cube", "color": "orange", "material": "wood"}, "checker"),
)


@dataclass
class Control:
    """One rendered control clip. label 1 = the lawful / in-sync / matched side (the positive class)."""

    id: str
    family: str  # physics | av_sync | av_sync_learned | clip
    kind: str  # lawful, a perturbation kind, in_sync, shift, matched
    label: int
    prompt: str
    spec: dict[str, Any]
    expectations: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    shift_ms: float = 0.0
    transform: str = ""  # applied to the rendered frames: "vflip" = the whole clip upside down


@dataclass
class CalibrationConfig:
    out: Path = Path("runs/calibration")
    scenes: int = 6
    shifts: tuple[int, ...] = SHIFT_FRAMES
    size: int = 128
    seconds: float = 3.0
    fps: int = 24
    families: tuple[str, ...] = FAMILIES
    through_files: bool = True
    device: str = "cpu"
    progress: bool = True


@dataclass
class CalibrationResult:
    auroc: pd.DataFrame
    offsets: pd.DataFrame
    scores: pd.DataFrame
    markdown: Path


# --- controls ------------------------------------------------------------------------------------------

def _ball_spec(i: int, material: str | None = None) -> tuple[dict[str, Any], str, str]:
    color = COLORS[i % len(COLORS)]
    material = material or MATERIALS[i % len(MATERIALS)]
    height = 0.8 + 0.15 * (i % 4)
    x = -0.3 + 0.2 * (i % 4)
    spec = {
        "objects": [{"shape": "ball", "color": color, "material": material, "size": 0.12,
                     "position": [x, 0.0, height], "name": f"{color} ball"}],
        "camera": {"move": "static", "shot": "medium"},
        "lighting": {"shadows": False},
        "ambience": False,
    }
    return spec, color, f"a {color} {material} ball drops onto the floor and bounces"


def physics_controls(scenes: int, whole_flip: bool = False) -> list[Control]:
    """Lawful bouncing balls and the same scenes with one violation each; `whole_flip` adds the rendered clip
    turned upside down (every law holds in the flipped picture except gravity's direction)."""
    controls = []
    for i in range(scenes):
        spec, color, prompt = _ball_spec(i)
        spec["camera"]["shot"] = "wide"  # the whole flight stays in the frame, also when gravity flips
        prompt += ", static camera"  # the engine's framing would otherwise track a long drop; physics is read off a still view
        expectations = {"law": "bouncing", "object": f"{color} ball", "color": color}
        controls.append(Control(f"physics-{i}-lawful", "physics", "lawful", 1, prompt, spec, expectations, seed=i))
        for kind, fields in PHYSICS_PERTURBATIONS.items():
            perturbed = json.loads(json.dumps(spec))
            perturbed["perturbations"] = [{"kind": kind, "target": 0, **fields}]
            controls.append(Control(f"physics-{i}-{kind}", "physics", kind, 0, prompt, perturbed, expectations, seed=i))
        if whole_flip:
            controls.append(Control(f"physics-{i}-whole_flip", "physics", "whole_flip", 0, prompt, spec, expectations,
                                    seed=i, transform="vflip"))
    return controls


def av_controls(scenes: int, shifts: tuple[int, ...], fps: int, family: str = "av_sync") -> list[Control]:
    controls = []
    for i in range(scenes):
        spec, color, prompt = _ball_spec(i, material=("wood", "metal", "rubber", "glass", "plastic")[i % 5])
        spec["ambience"] = True  # a realistic bed under the impacts
        controls.append(Control(f"{family}-{i}-in_sync", family, "in_sync", 1, prompt, spec, seed=i))
        for frames in shifts:
            for sign in (1, -1):
                ms = sign * frames * 1000.0 / fps
                shifted = json.loads(json.dumps(spec))
                shifted["perturbations"] = [{"kind": "audio_shift", "at": 0.0, "target": 0, "amount": ms}]
                controls.append(Control(f"{family}-{i}-shift{sign * frames:+d}", family, "shift", 0, prompt, shifted,
                                        seed=i, shift_ms=ms))
    return controls


def speech_controls(scenes: int, shifts: tuple[int, ...], fps: int) -> list[Control]:
    """A person facing the camera says a line (its mouth moves with it); the shifted twins move the whole
    soundtrack, speech included (the engine's audio_shift), by ±frames."""
    controls = []
    for i in range(scenes):
        words = SPEECH_LINES[i % len(SPEECH_LINES)]
        voice = ("man", "woman")[i % 2]
        spec = {"objects": [{"shape": "prop", "recipe": "person", "name": voice, "position": [0.0, 0.0, 0.0]}],
                "camera": {"move": "static", "shot": "close"}, "ambience": True}
        prompt = f'a {voice} says "{words}" to the camera'
        expectations = {"speech": words}
        controls.append(Control(f"av_sync_speech-{i}-in_sync", "av_sync_speech", "in_sync", 1, prompt, spec,
                                expectations, seed=i))
        for frames in shifts:
            for sign in (1, -1):
                ms = sign * frames * 1000.0 / fps
                if ms < -SPEECH_MAX_ADVANCE_MS:  # the line starts 0.3 s in: it cannot come earlier than that
                    continue
                shifted = json.loads(json.dumps(spec))
                shifted["perturbations"] = [{"kind": "audio_shift", "at": 0.0, "target": 0, "amount": ms}]
                controls.append(Control(f"av_sync_speech-{i}-shift{sign * frames:+d}", "av_sync_speech", "shift", 0,
                                        prompt, shifted, expectations, seed=i, shift_ms=ms))
    return controls


def clip_controls(scenes: int) -> list[Control]:
    controls = []
    for i in range(min(scenes, len(CAPTIONS))):
        caption, obj, floor = CAPTIONS[i]
        spec = {"objects": [{**obj, "size": 0.2, "position": [0.0, 0.0, 0.2]}], "environment": {"floor": floor},
                "camera": {"move": "static", "shot": "medium"}, "ambience": False}
        controls.append(Control(f"clip-{i}", "clip", "matched", 1, caption, spec, seed=i))
    return controls


# --- rendering and scoring ---------------------------------------------------------------------------------

def render(control: Control, config: CalibrationConfig, workdir: Path) -> Any:
    """The control's clip, through an MP4 round trip (as users' clips are) unless --in-memory."""
    from sora_lite.engines import GenerationRequest, get_engine
    from sora_lite.media import read_video, write_video

    seconds = config.seconds
    if control.family == "av_sync_learned":  # Synchformer reads 4.8 s windows: shorter clips cannot be judged
        seconds = max(seconds, LEARNED_SYNC_SECONDS)
    request = GenerationRequest(prompt=control.prompt, seconds=seconds, width=config.size, height=config.size,
                                fps=config.fps, seed=control.seed, spec=control.spec)
    result = get_engine("world").generate(request)
    if control.transform == "vflip":
        result.clip.frames = np.ascontiguousarray(result.clip.frames[:, ::-1])
    if not config.through_files:
        return result.clip
    path = workdir / f"{control.id}.mp4"
    write_video(result.clip, path)
    return read_video(path)


def auroc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve (label 1 = positive) by the rank formula; ties count half; NaN if a class is missing.

    The rank formula is exact in float64. (torchmetrics' binary_auroc squashes scores outside [0, 1] through a
    float32 sigmoid, which merges nearby scores into ties and moves the area by a few thousandths.)
    """
    from scipy.stats import rankdata

    pairs = [(float(s), int(y)) for s, y in zip(scores, labels) if s is not None and np.isfinite(s)]
    n_pos = sum(y for _, y in pairs)
    n_neg = len(pairs) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata([s for s, _ in pairs])  # average ranks for ties
    pos_rank_sum = float(sum(r for r, (_, y) in zip(ranks, pairs) if y == 1))
    return (pos_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _sample(control: Control) -> Sample:
    return Sample(key=control.id, suite=f"calibration-{control.family}", prompt_id=control.id, prompt=control.prompt,
                  seed=control.seed, expectations=dict(control.expectations))


def _auroc_rows(metric: str, control_set: str, frame: pd.DataFrame, score_col: str, group_col: str) -> list[dict[str, Any]]:
    """Overall AUROC plus one per negative kind (each against all positives)."""
    rows = []
    pos = frame[frame["label"] == 1]
    negatives = sorted(frame.loc[frame["label"] == 0, group_col].unique())
    for neg in [None, *negatives]:
        part = frame if neg is None else pd.concat([pos, frame[(frame["label"] == 0) & (frame[group_col] == neg)]])
        # A family whose every clip failed has no score column: all unscored, not a crash.
        vals = pd.to_numeric(part[score_col], errors="coerce") if score_col in part else pd.Series(math.nan, index=part.index)
        ok = vals.notna()
        rows.append({
            "metric": metric,
            "controls": control_set,
            "negative": "all" if neg is None else str(neg),
            "n_positive": int(((part["label"] == 1) & ok).sum()),
            "n_negative": int(((part["label"] == 0) & ok).sum()),
            "n_unscored": int((~ok).sum()),
            "auroc": auroc(vals[ok].tolist(), part.loc[ok, "label"].astype(int).tolist()),
            "status": "ok",
            "reason": "",
        })
    return rows


def _skip_row(metric: str, control_set: str, reason: str) -> dict[str, Any]:
    return {"metric": metric, "controls": control_set, "negative": "all", "n_positive": 0, "n_negative": 0,
            "n_unscored": 0, "auroc": math.nan, "status": "skipped", "reason": reason}


def _setup(name: str, config: CalibrationConfig) -> tuple[Any, str | None]:
    if name not in SCORERS:
        return None, f"the {name} metric is not installed in eval/metrics"
    scorer = SCORERS[name](ScorerOptions(device=config.device))
    try:
        scorer.setup()
    except MetricSkipped as e:
        return None, skipped_text(e)
    return scorer, None


def calibrate(config: CalibrationConfig) -> CalibrationResult:
    from tqdm.auto import tqdm

    config.out.mkdir(parents=True, exist_ok=True)
    auroc_rows: list[dict[str, Any]] = []
    score_rows: list[dict[str, Any]] = []
    offset_rows: list[dict[str, Any]] = []
    plan: list[tuple[str, list[Control]]] = []
    scorers: dict[str, Any] = {}
    for family in config.families:
        scorer, why = _setup(SCORER_OF.get(family, family), config)
        if scorer is None:
            auroc_rows.append(_skip_row(family, CONTROL_SETS[family], why or ""))
            continue
        scorers[family] = scorer
        if family == "physics":
            plan.append((family, physics_controls(config.scenes, whole_flip=True)))
        elif family in ("av_sync", "av_sync_learned"):
            plan.append((family, av_controls(config.scenes, config.shifts, config.fps, family)))
        elif family == "av_sync_speech":
            plan.append((family, speech_controls(config.scenes, config.shifts, config.fps)))
        elif family == "clip":
            plan.append((family, clip_controls(config.scenes)))

    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        for family, controls in plan:
            scorer = scorers[family]
            for control in tqdm(controls, desc=f"calibrate {family}", disable=not config.progress, unit="clip"):
                try:
                    clip = render(control, config, Path(tmp))
                except Exception as e:  # one broken control is a row, not a lost calibration
                    score_rows.append({**_base(control), "score": None, "status": "error", "error": f"render: {type(e).__name__}: {e}"})
                    continue
                if family == "clip":
                    score_rows += _clip_rows(scorer, clip, control, controls)
                    continue
                outcome = run_scorer(scorer, clip, _sample(control))
                row = {**_base(control), "score": outcome.value, "status": outcome.status, "error": outcome.error,
                       **{f"detail.{k}": v for k, v in outcome.details.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}}
                if family in ("av_sync", "av_sync_speech"):
                    row["neg_abs_offset_ms"] = -abs(outcome.details["offset_ms"]) if outcome.details.get("offset_ms") is not None else None
                    offset_rows.append(_offset_row(control, outcome, config.fps))
                if family == "av_sync_learned":  # DeSync: lower is better
                    row["neg_desync"] = -outcome.value if outcome.value is not None else None
                score_rows.append(row)

    scores = pd.DataFrame(score_rows)
    for family, _ in plan:
        part = scores[scores["family"] == family] if not scores.empty else scores
        if part.empty:
            continue
        if family == "physics":
            auroc_rows += _auroc_rows("physics", "lawful vs perturbed", part, "score", "kind")
            for check in PHYSICS_CHECKS:  # each check on its own: which one catches which violation
                column = f"detail.{check}"
                if column in part.columns and part[column].notna().any():
                    auroc_rows += _auroc_rows(f"physics.{check}", "lawful vs perturbed", part, column, "kind")
        elif family == "av_sync":
            part = part.assign(shift_frames=[f"±{abs(round(ms * config.fps / 1000))} frames" for ms in part["shift_ms"]])
            auroc_rows += _auroc_rows("av_sync.offset", "in sync vs shifted", part, "neg_abs_offset_ms", "shift_frames")
            auroc_rows += _auroc_rows("av_sync.av_align", "in sync vs shifted", part, "score", "shift_frames")
        elif family == "av_sync_speech":
            part = part.assign(shift_frames=[f"±{abs(round(ms * config.fps / 1000))} frames" for ms in part["shift_ms"]])
            auroc_rows += _auroc_rows("av_sync.offset", CONTROL_SETS[family], part, "neg_abs_offset_ms", "shift_frames")
            auroc_rows += _auroc_rows("av_sync.av_align", CONTROL_SETS[family], part, "score", "shift_frames")
        elif family == "av_sync_learned":
            part = part.assign(shift_frames=[f"±{abs(round(ms * config.fps / 1000))} frames" for ms in part["shift_ms"]])
            auroc_rows += _auroc_rows("av_sync_learned.desync", "in sync vs shifted", part, "neg_desync", "shift_frames")
        elif family == "clip":
            auroc_rows += _auroc_rows("clip", "matched vs shuffled", part, "score", "kind")
    table = pd.DataFrame(auroc_rows, columns=["metric", "controls", "negative", "n_positive", "n_negative", "n_unscored", "auroc", "status", "reason"])
    offsets = pd.DataFrame(offset_rows, columns=["control", "true_ms", "true_frames", "estimated_ms", "error_ms", "error_frames", "within_1_frame", "confidence", "status"])
    table.to_csv(config.out / "calibration.csv", index=False)
    offsets.to_csv(config.out / "av_offsets.csv", index=False)
    scores.to_csv(config.out / "calibration_scores.csv", index=False)
    md = write_markdown(config, table, offsets)
    return CalibrationResult(auroc=table, offsets=offsets, scores=scores, markdown=md)


def _base(control: Control) -> dict[str, Any]:
    return {"control": control.id, "family": control.family, "kind": control.kind, "label": control.label,
            "shift_ms": control.shift_ms}


def _offset_row(control: Control, outcome: Outcome, fps: int) -> dict[str, Any]:
    est = outcome.details.get("offset_ms")
    frame_ms = 1000.0 / fps
    err = None if est is None else est - control.shift_ms
    return {
        "control": control.id,
        "true_ms": control.shift_ms,
        "true_frames": control.shift_ms / frame_ms,
        "estimated_ms": est,
        "error_ms": err,
        "error_frames": None if err is None else err / frame_ms,
        "within_1_frame": None if err is None else bool(abs(err) <= frame_ms + 1e-9),
        "confidence": outcome.details.get("confidence"),
        "status": outcome.status if est is not None or outcome.status != "ok" else "no offset",
    }


def _clip_rows(scorer: Any, clip: Any, control: Control, controls: list[Control]) -> list[dict[str, Any]]:
    """The clip with its own caption (positive) and with the next control's caption (shuffled, negative)."""
    k = controls.index(control)
    other = controls[(k + 1) % len(controls)]
    rows = []
    for label, caption, kind in ((1, control.prompt, "matched"), (0, other.prompt, "shuffled")):
        sample = _sample(control)
        sample.prompt = caption
        outcome = run_scorer(scorer, clip, sample)
        rows.append({**_base(control), "kind": kind, "label": label, "caption": caption, "score": outcome.value,
                     "status": outcome.status, "error": outcome.error})
    return rows


def write_markdown(config: CalibrationConfig, table: pd.DataFrame, offsets: pd.DataFrame) -> Path:
    lines = [
        "# Metric calibration",
        "",
        f"World-engine controls at {config.size}², {config.seconds:g} s, {config.fps} fps, {config.scenes} scenes, "
        f"{'through MP4 write + read' if config.through_files else 'in memory'}. AUROC: positive class = lawful / in sync / matched.",
        "",
        markdown_table(table),
        "",
    ]
    if not offsets.empty:
        ok = offsets[offsets["error_frames"].notna()]
        by_shift = (
            ok.assign(abs_err=ok["error_frames"].abs())
            .groupby("true_frames")
            .agg(n=("control", "size"), mean_estimated_ms=("estimated_ms", "mean"), mean_abs_error_frames=("abs_err", "mean"),
                 within_1_frame=("within_1_frame", "mean"))
            .reset_index()
        )
        lines += [
            "## AV offset error (estimated − true; positive = audio late)",
            "",
            f"{len(ok)} of {len(offsets)} clips (in sync and shifted) gave an offset; "
            f"{(ok['within_1_frame'].mean() * 100 if len(ok) else float('nan')):.0f} % within ±1 frame, "
            f"mean |error| {ok['error_frames'].abs().mean() if len(ok) else float('nan'):.2f} frames.",
            "",
            markdown_table(by_shift),
            "",
        ]
    path = config.out / "calibration.md"
    path.write_text("\n".join(lines))
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description="Score the metrics on world-engine controls (AUROC).")
    p.add_argument("--out", type=Path, default=Path("runs/calibration"))
    p.add_argument("--scenes", type=int, default=6, help="scenes per control family (default 6)")
    p.add_argument("--shifts", default=",".join(map(str, SHIFT_FRAMES)), help="audio shifts in frames, each used as + and − (default 2,4,...,12)")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--families", default=",".join(FAMILIES),
                   help=f"which control families: {', '.join(FAMILIES + EXTRA_FAMILIES)} (default {','.join(FAMILIES)})")
    p.add_argument("--in-memory", action="store_true", help="score the engine's clips without the MP4 round trip")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--real", type=Path, default=None, metavar="DIR",
                   help="calibrate on a folder of real clips instead (eval.calibrate_real; see its --help)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a == "--real" or a.startswith("--real=") for a in argv):  # real footage: its own controls and flags
        from eval.calibrate_real import main as real_main

        return real_main(argv)
    args = build_parser().parse_args(argv)
    try:
        shifts = tuple(int(s) for s in args.shifts.split(",") if s.strip())
    except ValueError:
        print(f"error: --shifts takes whole frame counts separated by commas, got {args.shifts!r}", file=sys.stderr)
        return 2
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    unknown = [f for f in families if f not in FAMILIES + EXTRA_FAMILIES]
    if unknown or args.scenes < 1 or not shifts:
        print(f"error: families must be {', '.join(FAMILIES + EXTRA_FAMILIES)} (got {unknown}); --scenes ≥ 1; at least one shift", file=sys.stderr)
        return 2
    config = CalibrationConfig(out=args.out, scenes=args.scenes, shifts=shifts, size=args.size, seconds=args.seconds,
                               fps=args.fps, families=families, through_files=not args.in_memory, device=args.device,
                               progress=not args.no_progress)
    from sora_lite.engines import RequestError

    try:
        result = calibrate(config)
    except RequestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result.markdown.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
