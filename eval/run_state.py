"""The run's state files: one JSON line per finished sample in `samples.jsonl` (`samples.rank<k>.jsonl` for the
other processes of a sharded run), and the metric settings `run.json` records. What makes a run resumable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATE_GLOB = "samples*.jsonl"


class RunError(RuntimeError):
    """A run that cannot start or finish as asked; the message says what to change."""


def state_path(out: Path, rank: int) -> Path:
    return out / ("samples.jsonl" if rank == 0 else f"samples.rank{rank}.jsonl")


def read_state(out: Path) -> list[dict[str, Any]]:
    """Every sample record written so far by any process; a torn last line (killed mid-write) is ignored."""
    records = []
    for path in sorted(out.glob(STATE_GLOB)):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def done_metrics(records: list[dict[str, Any]], retry_errors: bool) -> dict[tuple[str, str], set[str]]:
    """(generator, sample key) → metrics already finished. Skips for missing weights are retried every run."""
    done: dict[tuple[str, str], set[str]] = {}
    for rec in records:
        got = done.setdefault((rec["generator"], rec["key"]), set())
        for row in rec["rows"]:
            if row.get("retry") or (retry_errors and row["status"] == "error"):
                got.discard(row["metric"])
            else:
                got.add(row["metric"])
    return done


def close_torn_line(path: Path) -> None:
    """End a line a killed process left half-written, so the next record starts on a line of its own."""
    if path.is_file() and path.stat().st_size:
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def append_record(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def checked_settings(out: Path, current: dict[str, str], records: list[dict[str, Any]]) -> dict[str, str]:
    """The settings of every metric scored in `out`, this run's included; a RunError when this run would
    add rows to a metric already scored there under other settings (another model, another precision)."""
    previous = recorded_settings(out)
    # Skipped rows hold no number (missing weights are retried every run), so they bind no settings.
    scored = {row["metric"] for rec in records for row in rec.get("rows", []) if row.get("status") != "skipped"}
    clashes = [m for m in current if m in scored and previous.get(m) not in (None, current[m])]
    if clashes:
        what = "; ".join(f"{m}: scored with '{previous[m]}', now '{current[m]}'" for m in clashes)
        raise RunError(
            f"{out} already holds rows scored under other settings ({what}). Rows with different models or "
            "precision are not comparable: rerun with the same flags to resume, or use a new --out"
        )
    return {**previous, **current}


def recorded_settings(out: Path) -> dict[str, str]:
    try:
        got = json.loads((out / "run.json").read_text()).get("metric_settings", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in got.items()} if isinstance(got, dict) else {}
