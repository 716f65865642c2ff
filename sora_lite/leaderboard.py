"""Reading the eval toolkit's leaderboard CSVs (from a folder or a Hub dataset) for the app's Leaderboard tab.

The source is `$SORA_LITE_LEADERBOARD` (a folder or a Hub dataset id such as `org/sora-lite-leaderboard`),
else `$SORA_LITE_HOME/leaderboards`. Every `*.csv` under it except per-sample files is read; when there is
none, the tab shows the baseline that ships with the project (`eval/baseline/`: the embedded engine's own
run on the suites, and the metrics' calibration tables), labelled as such, and `Leaderboard.message` gives
the exact command that makes one of your own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sora_lite.store.db import home_dir

LEADERBOARD_COMMAND = "python -m eval.run --generator world --suites physics,av_sync"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# Columns that describe a row rather than score it (kept out of the plot).
NOT_SCORES = re.compile(r"(^n$|_n$|^n_|ci|std|stderr|lower|upper|low$|high$|version|date|seed|count)", re.I)


BASELINE_DIR = Path(__file__).resolve().parent.parent / "eval" / "baseline"


@dataclass
class Leaderboard:
    table: pd.DataFrame
    sources: list[str] = field(default_factory=list)
    message: str = ""
    baseline: bool = False  # True: nothing of the user's yet; this is the shipped baseline
    notes: str = ""  # markdown shown under the table (the baseline's calibration tables)

    @property
    def empty(self) -> bool:
        return self.table.empty

    def plot_frame(self) -> pd.DataFrame:
        """Long form (bar, generator, metric, value) of the score columns: one bar per metric × generator
        (a bar label of its own, so the plot never stacks two generators' scores)."""
        if self.table.empty:
            return pd.DataFrame({"bar": [], "generator": [], "metric": [], "value": []})
        table = self.table
        label = next((c for c in ("generator", "model", "engine", "name") if c in table.columns), None)
        labels = table[label].astype(str) if label else pd.Series([f"row {i + 1}" for i in range(len(table))])
        if "suite" in table.columns:
            labels = labels + " · " + table["suite"].astype(str)
        numeric = [str(c) for c in table.select_dtypes("number").columns]
        # eval.report writes `<metric>_mean` (+ CI bounds and N); other CSVs: every plain numeric column.
        means = [c for c in numeric if c.endswith("_mean")]
        scores = means or [c for c in numeric if not NOT_SCORES.search(c)]
        frame = table[scores].rename(columns=lambda c: c.removesuffix("_mean")).assign(generator=labels.values)
        long = frame.melt(id_vars="generator", var_name="metric", value_name="value").dropna()
        return long.assign(bar=long["metric"].astype(str) + " | " + long["generator"])


def leaderboard_source() -> str:
    return os.environ.get("SORA_LITE_LEADERBOARD") or str(home_dir() / "leaderboards")


def _empty(message: str) -> Leaderboard:
    return Leaderboard(table=pd.DataFrame(), message=message)


def _hub_folder(dataset_id: str) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(dataset_id, repo_type="dataset", allow_patterns=["*.csv", "**/*.csv"]))


def load_leaderboard(source: str | None = None) -> Leaderboard:
    """All leaderboard rows found at `source`, one table with a `source` column naming each file."""
    source = source or leaderboard_source()
    folder = Path(source).expanduser()
    if not folder.exists() and HUB_ID.match(source):
        try:
            folder = _hub_folder(source)
        except Exception as e:  # offline, private, missing: all mean "no leaderboard from the Hub now"
            return _empty(f"Could not fetch the Hub dataset `{source}` ({type(e).__name__}: {e}). "
                          f"Make a local leaderboard with:\n\n    {LEADERBOARD_COMMAND} --out "
                          f"{home_dir() / 'leaderboards' / 'world'}")
    files = sorted(p for p in folder.rglob("*.csv") if not p.name.startswith("samples")) if folder.is_dir() else []
    frames, bad = [], []
    for path in files:
        try:
            frames.append(pd.read_csv(path).assign(source=str(path.relative_to(folder))))
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as e:
            bad.append(f"{path.name}: {e}")
    if not frames:
        note = f" (unreadable: {'; '.join(bad)})" if bad else ""
        how = (f"No leaderboard in `{source}` yet{note}. Make one with:\n\n    {LEADERBOARD_COMMAND} --out "
               f"{folder / 'world'}\n\n(or point `SORA_LITE_LEADERBOARD` at a folder or Hub dataset of "
               f"`leaderboard.csv` files).")
        return shipped_baseline(how) or _empty(how)
    table = pd.concat(frames, ignore_index=True)
    message = f"{len(table)} rows from {len(frames)} file(s) in `{source}`."
    if bad:
        message += f" Skipped unreadable: {'; '.join(bad)}."
    return Leaderboard(table=table, sources=[str(p) for p in files], message=message)


def shipped_baseline(how: str) -> Leaderboard | None:
    """The baseline shipped in `eval/baseline/` (what a newcomer sees before running anything), or None."""
    path = BASELINE_DIR / "leaderboard.csv"
    try:
        table = pd.read_csv(path).assign(source="baseline (shipped)")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    notes_path = BASELINE_DIR / "README.md"
    notes = notes_path.read_text() if notes_path.is_file() else ""
    message = ("**Baseline shipped with sora-lite** — the embedded world engine scored by this toolkit "
               f"(see below for how it was made). {how}")
    return Leaderboard(table=table, sources=[str(path)], message=message, baseline=True, notes=notes)
