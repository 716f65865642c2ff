"""Set-level scoring (FVD): the reference set's features, then one distance per generator × suite from the
per-video features the samples' records hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics.errors import MetricSkipped
from eval.report import SetScore
from eval.scoring import Scorer, fake_feature_set, fvd_set_score, skipped_text


def reference_features(reference: str, scorer: Any, out: Path) -> np.ndarray:
    """Features of the reference set: a folder (or videos:<folder>) of videos or .npy files, or a Hub dataset."""
    from eval.metrics import fvd as fvd_metric
    from sora_lite.media import MediaError, read_video

    folder = Path(reference[len("videos:"):] if reference.startswith("videos:") else reference).expanduser()
    if folder.is_dir():
        from eval.generators import FolderGenerator

        videos = FolderGenerator(folder).files()
        if not videos:
            return fvd_metric.reference_features(folder)  # a folder of .npy / .npz features
        cache = out / f"reference_{scorer.extractor.name}.npz"
        names = [str(p) for p in videos]
        # Reused only for the same files, unchanged, through the same feature model at the same precision.
        model = scorer.settings() if hasattr(scorer, "settings") else getattr(scorer.options, "fvd_model", None)
        stamp = json.dumps({"model": model or "default",
                            "files": [[st.st_size, st.st_mtime_ns] for st in (p.stat() for p in videos)]})
        if cache.is_file():
            data = np.load(cache, allow_pickle=False)
            if list(data["files"]) == names and "stamp" in data and str(data["stamp"]) == stamp:
                return data["features"]
        feats, kept = [], []
        for p in videos:
            try:
                feats.append(scorer.features_of([read_video(p, with_audio=False).frames])[0])
                kept.append(str(p))
            except (MediaError, ValueError) as e:
                print(f"reference video {p} skipped: {e}", file=sys.stderr)
        if len(feats) < 2:
            raise MetricSkipped(
                f"the reference folder {folder} gave {len(feats)} usable videos", "FVD needs at least 2 reference videos"
            )
        arr = np.stack(feats)
        np.savez(cache, files=np.array(names), features=arr, stamp=np.array(stamp))
        return arr
    return fvd_metric.reference_features(reference)


def set_scores(
    records: list[dict[str, Any]], metrics: list[str], reference: str | None, out: Path,
    scorers: dict[str, Scorer], skipped: dict[str, str],
) -> tuple[dict[tuple[str, str], dict[str, SetScore]], list[str]]:
    """FVD per generator × suite (with its notes); nothing when FVD was not asked for, skipped, or has no reference."""
    notes: list[str] = []
    if "fvd" not in metrics or "fvd" in skipped:
        return {}, notes
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    for rec in records:
        if "fvd" in rec.get("features", {}):
            suite = next((r["suite"] for r in rec["rows"]), "")
            groups.setdefault((rec["generator"], suite), {})[rec["key"]] = rec["features"]["fvd"]
    if not groups:
        return {}, notes
    if not reference:
        notes.append(
            "FVD: features were extracted but no reference set was given (pass --reference <folder|hub dataset|videos:...>)"
        )
        return {}, notes
    try:
        ref = reference_features(reference, scorers["fvd"], out)
    except MetricSkipped as e:
        notes.append(f"FVD skipped: {skipped_text(e)}")
        return {}, notes
    except Exception as e:
        notes.append(f"FVD reference {reference!r} could not be used: {type(e).__name__}: {e}")
        return {}, notes
    scores: dict[tuple[str, str], dict[str, SetScore]] = {}
    for key, by_sample in sorted(groups.items()):
        feats, videos = fake_feature_set([by_sample[k] for k in sorted(by_sample)])
        try:
            s = fvd_set_score(feats, ref, protocol=scorers["fvd"].protocol.name, videos=videos)
        except Exception as e:
            notes.append(f"FVD for {key[0]} × {key[1]}: {type(e).__name__}: {e}")
            continue
        scores[key] = {"fvd": s}
        if s.warning:
            notes.append(f"FVD {key[0]} × {key[1]}: {s.warning}")
    return scores, notes
