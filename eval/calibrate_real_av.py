"""The `av_sync` family of `python -m eval.calibrate --real DIR` (contract: `eval.calibrate_real`).

Controls from every real clip with sound: the audio shifted by 0, ±2, ±4, ±8, ±12 frames (`config.shifts`).
A shift is a true one, with no padding: for audio s frames late the video keeps frames [s, n) and the audio
the original's [0, n − s) — both ends stay real sound, no silence edge a detector could lock onto. Shifts are
done in memory on the decoded clip; the in-sync clip and the +8-frame control are also written through
`sora_lite.media.write_video` at each CRF in `config.crfs` and read back (the re-encode check).

Rows: per subset (all, talking head, other, held out): answered share, of the answers the share within ±1 and
±2 frames of the truth, AUROC in sync vs |shift| ≥ 8 frames over the answered (score −|offset|), AUROC per
shift, and the CRF agreement (answers within ±1 frame of each other, or abstained). Per-control rows go to
`av_sync_real_offsets.csv`, the confidence's reliability to `av_sync_real_reliability.csv`.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eval.calibrate import auroc
from eval.calibrate_real import RealClip, RealConfig, skip_row
from eval.report import markdown_table

TALKING = re.compile(r"talking|speech|speak|interview|news|lecture|vlog", re.I)
CRF_SHIFT = 8  # the shifted control also re-encoded at each CRF


def shifted(clip: Any, frames: int, max_seconds: float) -> Any:
    """The clip with its sound `frames` late (negative: early), trimmed so both tracks are real throughout."""
    from sora_lite.media import Clip

    fps = float(clip.fps)
    n = min(clip.num_frames, int(round(max_seconds * fps)))
    m = n - abs(frames)
    v0, a0 = max(0, frames), max(0, -frames)
    sr = int(clip.sample_rate)
    audio = clip.audio[:, int(round(a0 / fps * sr)): int(round((a0 + m) / fps * sr))]
    return Clip(frames=clip.frames[v0: v0 + m], fps=clip.fps, audio=audio, sample_rate=sr)


def _group(c: RealClip, source: str) -> str:
    if c.category:
        return "talking head" if TALKING.search(c.category) else "other"
    return "talking head" if source == "face" else "other"


def _score(clip: Any) -> tuple[dict[str, Any], float]:
    from eval.metrics.av_sync import score_sample

    t = time.perf_counter()
    got = score_sample(clip.frames, clip.fps, clip.audio, clip.sample_rate)
    return got.to_dict(), time.perf_counter() - t


def av_sync_family(clips: list[RealClip], config: RealConfig, workdir: Path) -> pd.DataFrame:
    from sora_lite.media import read_video, write_video

    rows: list[dict[str, Any]] = []
    for c in clips:
        if c.has_audio is False:
            continue
        try:
            clip = c.load()
        except Exception as e:  # one unreadable file is a row, not a lost calibration
            rows.append({"clip": c.name, "status": "error", "reason": f"{type(e).__name__}: {e}"})
            continue
        if not clip.has_audio:
            continue
        fps = float(clip.fps)
        for s in (0, *[x * sign for x in config.shifts for sign in (1, -1)]):
            got, seconds = _score(shifted(clip, s, config.max_seconds))
            rows.append(_row(c, s, fps, got, seconds, crf=None))
            if config.progress:
                print(f"  av_sync {c.name} shift {s:+d}: {got['status']} {got['offset_frames']:+.2f}", flush=True)
        for s in (0, CRF_SHIFT):
            for crf in config.crfs:
                path = workdir / f"{c.name}_{s}_{crf}.mp4"
                write_video(shifted(clip, s, config.max_seconds), path, crf=crf)
                got, seconds = _score(read_video(path))
                rows.append(_row(c, s, fps, got, seconds, crf=crf))
    if not rows:
        return pd.DataFrame([skip_row("av_sync", "in sync vs shifted", "no clip with sound in the folder")])
    detail = pd.DataFrame(rows)
    detail["cv_confidence"] = cross_validated_confidence(detail)
    detail.to_csv(config.out / "av_sync_real_offsets.csv", index=False)
    write_confidence_table(detail, config.out / "av_sync_confidence.json")
    summary = summarise(detail, config)
    summary.attrs["markdown"] = _markdown(detail, summary)
    return summary


def _row(c: RealClip, shift: int, fps: float, got: dict[str, Any], seconds: float, crf: int | None) -> dict[str, Any]:
    est = got.get("offset_frames", math.nan)
    answered = got["status"] == "ok" and np.isfinite(est)
    err = est - shift if answered else math.nan
    return {"clip": c.name, "group": _group(c, got.get("source", "")), "held_out": c.held_out, "shift_frames": shift,
            "crf": crf if crf is not None else "", "fps": fps, "status": got["status"], "source": got.get("source", ""),
            "estimated_frames": est if answered else math.nan, "error_frames": err,
            "best_lag_frames": got.get("best_lag_frames", math.nan), "p_value": got.get("p_value", math.nan),
            "z_score": got.get("z_score", math.nan), "confidence": got.get("confidence", math.nan),
            "within_1": abs(err) <= 1.0 if answered else None, "within_2": abs(err) <= 2.0 if answered else None,
            "seconds": round(seconds, 3), "reason": got.get("reason", "")}


def _subset_row(part: pd.DataFrame, subset: str) -> list[dict[str, Any]]:
    mem = part[part["crf"] == ""]
    answered = mem[mem["status"] == "ok"]
    pos = answered[answered["shift_frames"] == 0]
    far = answered[answered["shift_frames"].abs() >= 8]
    scores = list(-pos["estimated_frames"].abs()) + list(-far["estimated_frames"].abs())
    labels = [1] * len(pos) + [0] * len(far)
    base = {"controls": "in sync vs shifted", "subset": subset, "status": "ok", "reason": "",
            "n_controls": len(mem), "answered": len(answered) / len(mem) if len(mem) else math.nan,
            "n_answered": len(answered),
            "within_1": answered["within_1"].astype(float).mean() if len(answered) else math.nan,
            "within_2": answered["within_2"].astype(float).mean() if len(answered) else math.nan,
            "mean_confidence": answered["confidence"].mean() if len(answered) else math.nan}
    rows = [{"metric": "av_sync.offset", "negative": "|shift| ≥ 8", "n_positive": len(pos), "n_negative": len(far),
             "n_unscored": int((mem["shift_frames"] == 0).sum() + (mem["shift_frames"].abs() >= 8).sum()) - len(pos) - len(far),
             "auroc": auroc(scores, labels), **base}]
    crf = part[part["crf"] != ""]
    if len(crf):
        agree = []
        for _, g in crf.groupby(["clip", "shift_frames"]):
            est = g.loc[g["status"] == "ok", "estimated_frames"].to_numpy()
            agree.append(bool(len(est) < 2 or np.ptp(est) <= 1.0))  # answers within ±1 frame of each other
        rows.append({"metric": "av_sync.crf_agreement", "negative": "CRF " + "/".join(map(str, sorted(set(crf["crf"])))),
                     "n_positive": len(agree), "n_negative": 0, "n_unscored": 0, "auroc": math.nan, **base,
                     "controls": "same content re-encoded", "crf_agree": float(np.mean(agree)),
                     "crf_answered": float((crf["status"] == "ok").mean())})
    return rows


def summarise(detail: pd.DataFrame, config: RealConfig) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    d = detail[detail["status"] != "error"]
    subsets = [("all", d), ("talking head", d[d["group"] == "talking head"]), ("other", d[d["group"] == "other"])]
    if d["held_out"].any():
        subsets += [("development", d[~d["held_out"]]), ("held out", d[d["held_out"]])]
    for name, part in subsets:
        if len(part):
            rows += _subset_row(part, name)
    return pd.DataFrame(rows)


def _answered(detail: pd.DataFrame) -> pd.DataFrame:
    return detail[(detail["status"] == "ok") & (detail["crf"] == "")]


def cross_validated_confidence(detail: pd.DataFrame) -> pd.Series:
    """Each answered in-memory control's confidence from a table fitted on the *other* clips only
    (leave-one-clip-out: a clip's own shift controls never calibrate its confidence); NaN elsewhere."""
    from eval.metrics.av_sync import calibrated_confidence, fit_confidence

    out = pd.Series(math.nan, index=detail.index)
    a = _answered(detail)
    for clip in a["clip"].unique():
        rest = a[a["clip"] != clip]
        if rest.empty:
            continue
        table = fit_confidence(rest["z_score"], rest["within_2"].astype(float), rest["source"])
        for i, row in a[a["clip"] == clip].iterrows():
            out[i] = calibrated_confidence(float(row["z_score"]), str(row["source"]), table)
    return out


def write_confidence_table(detail: pd.DataFrame, path: Path) -> None:
    """The table fitted on every clip's answered controls (what `eval.metrics.av_sync` ships as
    `av_sync_confidence.json` once a maintainer copies it there)."""
    import json

    from eval.metrics.av_sync import fit_confidence

    a = _answered(detail)
    table = fit_confidence(a["z_score"], a["within_2"].astype(float), a["source"]) if len(a) else {}
    path.write_text(json.dumps({"what": "P(|error| <= 2 frames) of an answered av_sync offset given its null z-score, "
                                        "isotonic per source (python -m eval.calibrate --real)",
                                "clips": sorted(a["clip"].unique().tolist()), "sources": table}, indent=1))


def reliability(detail: pd.DataFrame, column: str = "cv_confidence") -> pd.DataFrame:
    """Stated confidence against the observed share within ±2 frames, over the answered in-memory controls
    (`cv_confidence`: from tables fitted without the clip itself), with the Brier score per bin."""
    a = _answered(detail)
    if column not in a:
        column = "confidence"
    a = a[np.isfinite(a[column].astype(float))]
    if a.empty:
        return pd.DataFrame(columns=["confidence_bin", "n", "mean_confidence", "share_within_2", "brier"])
    w2 = a["within_2"].astype(float)
    bins = pd.cut(a[column].astype(float), [0, 0.3, 0.5, 0.7, 0.85, 1.0], include_lowest=True)
    return (a.assign(w2=w2, c=a[column].astype(float), sq=(a[column].astype(float) - w2) ** 2).groupby(bins, observed=True)
            .agg(n=("clip", "size"), mean_confidence=("c", "mean"), share_within_2=("w2", "mean"), brier=("sq", "mean"))
            .reset_index().rename(columns={column: "confidence_bin"}).astype({"confidence_bin": str}))


def _markdown(detail: pd.DataFrame, summary: pd.DataFrame) -> str:
    mem = detail[detail["crf"] == ""]
    per_clip = (mem.assign(answered=(mem["status"] == "ok").astype(float))
                .groupby(["clip", "group", "held_out"])
                .agg(source=("source", "first"), answered=("answered", "mean"),
                     in_sync_estimate=("best_lag_frames", lambda s: float(s.iloc[0])),
                     mean_abs_error=("error_frames", lambda s: float(s.abs().mean())),
                     seconds_per_score=("seconds", "mean"))
                .reset_index())
    rel = reliability(detail)
    a = _answered(detail)
    cv = a["cv_confidence"].astype(float) if "cv_confidence" in a else pd.Series(dtype=float)
    ok = np.isfinite(cv)
    brier = float(((cv[ok] - a["within_2"].astype(float)[ok]) ** 2).mean()) if ok.any() else math.nan
    base = float(a["within_2"].astype(float).mean()) if len(a) else math.nan
    ref = float(((base - a["within_2"].astype(float)) ** 2).mean()) if len(a) else math.nan
    return "\n".join(["## AV sync on real clips: per clip", "",
                      "in_sync_estimate: the best lag on the unshifted clip (frames, positive = audio late), also when "
                      "not answered; mean_abs_error over the answered shift controls.", "",
                      markdown_table(per_clip), "",
                      "## AV sync confidence, leave-one-clip-out: stated vs observed (answered controls)", "",
                      f"Each answer's confidence from an isotonic table fitted on the other clips only. Brier score "
                      f"{brier:.3f} (a constant {base:.2f} for every answer: {ref:.3f}). The table fitted on all clips "
                      f"is `av_sync_confidence.json`.", "",
                      markdown_table(rel), ""])
