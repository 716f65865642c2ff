"""What a run leaves behind: samples.csv, leaderboard.csv, and a markdown + HTML report with plots.

samples.csv has one row per video × metric with its status ("ok" / "uncertain" / "skipped" / "error" /
"no audio"), error text, and what the call cost (wall seconds, peak resident MiB), so a bad file or a missing
model is visible next to the results that did come out.
leaderboard.csv has one row per generator × suite: per metric the mean, a 95 % confidence interval
(percentile bootstrap over samples, so it never leaves the range the values can take; for set-level metrics
like FVD the metric's own bootstrap interval), how many samples were answered (`_n`), judged uncertain or
skipped, the metric's total wall time and peak memory, and the metrics that were skipped with the reason and
how to fix it. Columns that are empty on every row are left out, so the CSV reads as a table.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

import sora_lite

STATUSES = ("ok", "uncertain", "skipped", "error", "no audio")
SAMPLE_COLUMNS = [
    "generator", "suite", "sample", "prompt_id", "seed", "prompt", "video",
    "metric", "value", "status", "error", "details", "seconds", "peak_mib", "cuda_peak_mib",
]
BOOTSTRAP_RESAMPLES = 4000
BOOTSTRAP_SEED = 0  # a fixed seed: the same samples give the same interval on every rerun and shard layout
LEADERBOARD_BASE = ["generator", "suite", "n_samples", "n_errors"]
LEADERBOARD_TAIL = ["skipped", "settings", "toolkit_version", "date"]


@dataclass
class SetScore:
    """A score of a whole set (FVD): value, its 95 % interval, N, and a warning when N is too small."""

    value: float
    ci_low: float
    ci_high: float
    n: int
    warning: str = ""


def leaderboard_columns(metrics: Mapping[str, Sequence[str]]) -> list[str]:
    """Columns for `metrics` (name → the sub-measures in its details worth a column of their own, see
    `eval.scoring.leaderboard_measures`)."""
    cols = list(LEADERBOARD_BASE)
    for m, subs in metrics.items():
        cols += [f"{m}_mean", f"{m}_ci_low", f"{m}_ci_high", f"{m}_n", f"{m}_uncertain", f"{m}_skipped",
                 f"{m}_seconds", f"{m}_peak_mib", f"{m}_cuda_peak_mib"]
        for sub in subs:
            cols += [f"{m}.{sub}_mean", f"{m}.{sub}_ci_low", f"{m}.{sub}_ci_high"]
    return cols + LEADERBOARD_TAIL


POOL_WEIGHT = "pool_weight"  # a sample detail: its weight in a pooled suite mean (e.g. frames, for VBench)


def mean_ci(values: Iterable[float], level: float = 0.95, weights: Iterable[float] | None = None) -> tuple[float, float, float]:
    """Mean and a percentile-bootstrap interval of the mean; the interval is NaN with fewer than 2 values.

    Percentile bootstrap rather than Student t: its bounds are means of resampled values, so they stay inside
    the smallest and largest value seen and therefore inside the metric's range (a t-interval on n = 2 of a
    0–1 score can reach -3). Resampling is seeded, so a rerun gives the same interval.

    `weights` (one per value) gives a pooled mean Σ w·v / Σ w — VBench's suite number pools frames over all
    videos — and the bootstrap then resamples videos with their weights.
    """
    vals = list(values)
    w_in = [1.0] * len(vals) if weights is None else [float(w) for w in weights]
    if len(w_in) != len(vals):
        raise ValueError("mean_ci: one weight per value")
    keep = [(v, w) for v, w in zip(vals, w_in) if v is not None and np.isfinite(v) and np.isfinite(w) and w > 0]
    if not keep:
        return math.nan, math.nan, math.nan
    x = np.asarray([v for v, _ in keep], dtype=np.float64)
    w = np.asarray([w for _, w in keep], dtype=np.float64)
    m = float((x * w).sum() / w.sum())
    if x.size < 2:
        return m, math.nan, math.nan
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    idx = rng.integers(0, x.size, size=(BOOTSTRAP_RESAMPLES, x.size))
    means = (x[idx] * w[idx]).sum(axis=1) / w[idx].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return m, float(lo), float(hi)


def samples_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows in a stable order (generator, suite, sample, metric) so sharded and single runs write the same file."""
    df = pd.DataFrame(rows, columns=SAMPLE_COLUMNS)
    if df.empty:
        return df
    df["details"] = df["details"].map(lambda d: d if isinstance(d, str) else json.dumps(d or {}, sort_keys=True))
    df["error"] = df["error"].fillna("")
    for col in ("seconds", "peak_mib", "cuda_peak_mib"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    return df.sort_values(["generator", "suite", "sample", "metric"], kind="stable").reset_index(drop=True)


def leaderboard_frame(
    samples: pd.DataFrame,
    set_scores: dict[tuple[str, str], dict[str, SetScore]] | None,
    metrics: Mapping[str, Sequence[str]],
    date: str | None = None,
    settings: str = "",
) -> pd.DataFrame:
    """One row per generator × suite. `settings` says what decided the numbers (models, precision); a run
    folder holds one set of settings, so it is the same on every row."""
    set_scores = set_scores or {}
    date = date or dt.date.today().isoformat()
    out = []
    groups = sorted({(g, s) for g, s in zip(samples["generator"], samples["suite"])} | set(set_scores))
    for gen, suite in groups:
        part = samples[(samples["generator"] == gen) & (samples["suite"] == suite)]
        row: dict[str, Any] = {
            "generator": gen,
            "suite": suite,
            "n_samples": int(part["sample"].nunique()),
            "n_errors": int((part["status"] == "error").sum()),
        }
        skipped: list[str] = []
        for m in metrics:
            rows = part[part["metric"] == m]
            set_score = set_scores.get((gen, suite), {}).get(m)
            if rows.empty and set_score is None:
                continue  # not run on this generator × suite: its columns stay empty
            if set_score is not None:
                row.update({f"{m}_mean": set_score.value, f"{m}_ci_low": set_score.ci_low,
                            f"{m}_ci_high": set_score.ci_high, f"{m}_n": set_score.n})
            else:
                ok = rows[rows["status"] == "ok"]
                vals = pd.to_numeric(ok["value"], errors="coerce")
                pooled = [_detail(d, POOL_WEIGHT) for d in ok["details"]]
                weights = pooled if pooled and all(p is not None for p in pooled) else None
                mean, lo, hi = mean_ci(vals.tolist(), weights=weights)
                row.update({f"{m}_mean": mean, f"{m}_ci_low": lo, f"{m}_ci_high": hi,
                            f"{m}_n": int(vals.notna().sum())})
            row[f"{m}_uncertain"] = int((rows["status"] == "uncertain").sum())
            row[f"{m}_skipped"] = int((rows["status"] == "skipped").sum())
            if rows["seconds"].notna().any():
                row[f"{m}_seconds"] = round(float(rows["seconds"].sum()), 3)
                row[f"{m}_peak_mib"] = float(rows["peak_mib"].max())
            if rows["cuda_peak_mib"].notna().any():
                row[f"{m}_cuda_peak_mib"] = float(rows["cuda_peak_mib"].max())
            for sub in metrics[m]:
                ok = rows[rows["status"] == "ok"]
                subs = [_detail(d, sub) for d in ok["details"]]
                mean, lo, hi = mean_ci([v for v in subs if v is not None])
                row.update({f"{m}.{sub}_mean": mean, f"{m}.{sub}_ci_low": lo, f"{m}.{sub}_ci_high": hi})
            reasons = rows[rows["status"] == "skipped"]["error"].value_counts()
            for reason, count in sorted(reasons.items()):
                skipped.append(f"{m}: {reason} [{count} sample{'s' if count != 1 else ''}]")
        row["skipped"] = "; ".join(skipped)
        row["settings"] = settings
        row["toolkit_version"] = f"sora-lite {sora_lite.__version__}"
        row["date"] = date
        out.append(row)
    return pd.DataFrame(out, columns=leaderboard_columns(metrics))


def _detail(details: Any, key: str) -> float | None:
    try:
        d = details if isinstance(details, dict) else json.loads(details or "{}")
        v = d.get(key)
        return float(v) if v is not None and np.isfinite(float(v)) else None
    except (TypeError, ValueError, json.JSONDecodeError):
        return None


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the columns that are empty (NaN or "") on every row: a metric nobody ran, a CUDA
    figure on a CPU run. A person reads what was measured, not a grid of blanks."""
    if table.empty:
        return table
    keep = [c for c in table.columns if table[c].notna().any() and (table[c].astype(str) != "").any()]
    return table[keep]


def write_csvs(out_dir: Path, samples: pd.DataFrame, leaderboard: pd.DataFrame) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    s_path, l_path = out_dir / "samples.csv", out_dir / "leaderboard.csv"
    samples.to_csv(s_path, index=False)
    readable(leaderboard).to_csv(l_path, index=False)
    return s_path, l_path


# --- report ------------------------------------------------------------------------------------------

def plot_results(out_dir: Path, samples: pd.DataFrame, leaderboard: pd.DataFrame, metrics: list[str]) -> list[Path]:
    """Bar chart of metric means with 95 % CI per generator × suite, and per-sample distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [m for m in metrics if leaderboard[f"{m}_mean"].notna().any()]
    paths: list[Path] = []
    if not shown:
        return paths
    fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.4), squeeze=False)
    for ax, m in zip(axes[0], shown):
        lb = leaderboard[leaderboard[f"{m}_mean"].notna()]
        labels = [f"{g}\n{s}" for g, s in zip(lb["generator"], lb["suite"])]
        means = lb[f"{m}_mean"].to_numpy(float)
        lo = np.nan_to_num(means - lb[f"{m}_ci_low"].to_numpy(float))
        hi = np.nan_to_num(lb[f"{m}_ci_high"].to_numpy(float) - means)
        ax.bar(range(len(lb)), means, yerr=[lo, hi], capsize=4, color="#4c72b0")
        ax.set_xticks(range(len(lb)), labels, fontsize=7)
        ax.set_title(f"{m} (mean, 95 % CI)", fontsize=9)
    fig.tight_layout()
    paths.append(out_dir / "means.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    per_sample = [m for m in shown if ((samples["metric"] == m) & (samples["status"] == "ok")).any() and m != "fvd"]
    if per_sample:
        fig, axes = plt.subplots(1, len(per_sample), figsize=(4 * len(per_sample), 3.2), squeeze=False)
        for ax, m in zip(axes[0], per_sample):
            ok = samples[(samples["metric"] == m) & (samples["status"] == "ok")]
            groups = sorted(ok["suite"].unique())
            data = [pd.to_numeric(ok[ok["suite"] == s]["value"], errors="coerce").dropna().to_numpy() for s in groups]
            ax.boxplot(data, tick_labels=groups)
            ax.set_title(f"{m} per sample", fontsize=9)
            ax.tick_params(labelsize=7)
        fig.tight_layout()
        paths.append(out_dir / "distributions.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def markdown_table(df: pd.DataFrame, float_fmt: str = "{:.4g}") -> str:
    """A GitHub markdown table without the optional `tabulate` dependency."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else float_fmt.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def write_report(
    out_dir: Path,
    samples: pd.DataFrame,
    leaderboard: pd.DataFrame,
    metrics: list[str],
    title: str = "sora-lite evaluation",
    notes: list[str] | None = None,
) -> tuple[Path, Path]:
    """report.md and report.html side by side, sharing the plot images."""
    plots = plot_results(out_dir, samples, leaderboard, metrics)
    lb = readable(leaderboard)
    status = (
        samples.groupby(["metric", "status"]).size().unstack(fill_value=0).reset_index()
        if not samples.empty else pd.DataFrame()
    )
    problems = samples[samples["status"].isin(["error", "no audio", "uncertain"])][["sample", "metric", "status", "error"]]
    skips = (
        samples[samples["status"] == "skipped"].groupby(["metric", "error"]).size().reset_index(name="samples")
        .rename(columns={"error": "reason and how to fix"})
    )
    notes = notes or []

    md = [f"# {title}", "", f"sora-lite {sora_lite.__version__}, {dt.datetime.now().isoformat(timespec='seconds')}", ""]
    md += [f"- {n}" for n in notes] + ([""] if notes else [])
    md += ["## Leaderboard", "", markdown_table(lb), ""]
    md += [f"![{p.stem}]({p.name})" for p in plots] + [""]
    if not status.empty:
        md += ["## Status per metric", "", markdown_table(status), ""]
    if not skips.empty:
        md += ["## Skipped", "", markdown_table(skips), ""]
    if not problems.empty:
        md += ["## Samples not scored", "", markdown_table(problems.head(200)), ""]
    md_path = out_dir / "report.md"
    md_path.write_text("\n".join(md))

    body = [f"<h1>{html.escape(title)}</h1>", f"<p>sora-lite {sora_lite.__version__}</p>"]
    body += [f"<p>{html.escape(n)}</p>" for n in notes]
    body += ["<h2>Leaderboard</h2>", lb.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}")]
    body += [f'<img src="{p.name}" alt="{p.stem}">' for p in plots]
    if not status.empty:
        body += ["<h2>Status per metric</h2>", status.to_html(index=False)]
    if not skips.empty:
        body += ["<h2>Skipped</h2>", skips.to_html(index=False)]
    if not problems.empty:
        body += ["<h2>Samples not scored</h2>", problems.head(200).to_html(index=False)]
    html_path = out_dir / "report.html"
    html_path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}</style></head><body>"
        + "\n".join(body) + "</body></html>"
    )
    return md_path, html_path
