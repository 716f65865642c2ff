"""`python -m eval.calibrate --real DIR`: controls built from a folder of real camera clips, scored per metric family.

The engine calibration (`eval.calibrate`) renders its own controls; real generators' outputs look like camera
footage, so the metrics must also be calibrated on camera footage. This module turns *any* folder of real clips
into controls and prints one table (markdown + CSV) with a row per metric × control.

Contract for a family (how another metric plugs in)
---------------------------------------------------
A family is a function registered in `REAL_FAMILIES` under its name:

    def my_family(clips: list[RealClip], config: RealConfig, workdir: Path) -> pd.DataFrame

- `clips`: every clip found in the folder (the family picks the ones it can use: e.g. `clip.has_audio`,
  `clip.kind == "physics"`, `clip.law`, `clip.window_s`). `clip.load()` decodes it once (cached per process).
  `clip.held_out` marks clips reported separately (`config.held_out`): a family should give its numbers for
  all clips and again for the held-out ones (rows with `subset` = "held out").
- `config`: the shared settings (`RealConfig`): output folder `config.out`, audio shifts, CRFs, `progress`.
- `workdir`: a scratch folder, deleted afterwards (write re-encoded controls there).
- Returns rows with at least the columns of `SUMMARY_COLUMNS` (missing ones are filled empty): `metric`
  (e.g. "physics.flip"), `controls` (what is told apart, e.g. "lawful vs vertical flip"), `negative`
  (the negative control kind or "all"), `subset` ("all" | "held out" | a category), `n_positive`,
  `n_negative`, `n_unscored`, `auroc` (positive class = the real, unaltered clip), `status` ("ok" |
  "skipped"), `reason`. Extra columns (e.g. AV: `answered`, `within_1`, `within_2`) are kept.
- A family that cannot run here returns one row with status "skipped" and the reason (`skip_row`); it
  never raises for a missing clip kind. Per-clip detail tables go to `config.out / f"{family}_*.csv"`.
- Extra markdown for the report (e.g. an offset table) goes in `frame.attrs["markdown"]` (a string).

Families are named as "module:function" and imported on use (a family's heavy imports cost nothing unless
it runs, and a family module may import this one without a cycle).

Clips: every .mp4/.mov/.mkv/.webm in the folder. With a `manifest.json` (a list of objects with `file`, and
optionally `kind` (physics | av), `category`, `law`, `window_s`, `fps`, `has_audio`, `object`, `colour`), those
fields are used; without one, kind is "unknown", category "" and the clip's own streams tell the rest.
Writes `calibration_real.csv` and `calibration_real.md` to `--out`.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from eval.report import markdown_table

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")
SUMMARY_COLUMNS = ["metric", "controls", "negative", "subset", "n_positive", "n_negative", "n_unscored", "auroc",
                   "status", "reason"]
REAL_SHIFT_FRAMES = (2, 4, 8, 12)
REAL_CRFS = (12, 18, 23)


@dataclass
class RealClip:
    """One real clip and what its manifest says about it (empty/None where there is no manifest entry)."""

    path: Path
    kind: str = "unknown"  # physics | av | unknown
    category: str = ""
    law: str | None = None
    window_s: tuple[float, float] | None = None
    has_audio: bool | None = None  # None: not known until loaded
    fps: float | None = None
    held_out: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # the whole manifest entry
    _clip: Any = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.stem

    def load(self) -> Any:
        """The decoded `sora_lite.media.Clip` (decoded once, then cached on this record)."""
        if self._clip is None:
            from sora_lite.media import read_video

            self._clip = read_video(self.path)
            if self.has_audio is None:
                self.has_audio = bool(self._clip.has_audio)
            if self.fps is None:
                self.fps = float(self._clip.fps)
        return self._clip


@dataclass
class RealConfig:
    out: Path = Path("runs/calibration_real")
    families: tuple[str, ...] = ()  # empty: every registered family
    shifts: tuple[int, ...] = REAL_SHIFT_FRAMES  # audio shifts (frames), each used as + and −
    crfs: tuple[int, ...] = REAL_CRFS  # re-encodes that must agree (AV)
    held_out: tuple[str, ...] = ()  # clip names (stems) reported separately
    max_seconds: float = 10.0  # longer clips are cut to this (time per clip)
    progress: bool = True


@dataclass
class RealCalibrationResult:
    table: pd.DataFrame
    markdown: Path
    csv: Path


Family = Callable[[list[RealClip], RealConfig, Path], pd.DataFrame]


def _lazy(target: str) -> Family:
    """A family named "module:function", imported when it runs."""
    module, _, name = target.partition(":")

    def run(clips: list[RealClip], config: RealConfig, workdir: Path) -> pd.DataFrame:
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as e:
            return pd.DataFrame([skip_row(target, "", f"family not installed: {e}")])
        return fn(clips, config, workdir)

    run.__name__ = name
    run.__qualname__ = target
    return run


REAL_FAMILIES: dict[str, Family] = {
    "av_sync": _lazy("eval.calibrate_real_av:av_sync_family"),
    "physics": _lazy("eval.calibrate_real_physics:physics_family"),
}


def skip_row(metric: str, controls: str, reason: str, subset: str = "all") -> dict[str, Any]:
    """The one row a family gives when it cannot judge anything here."""
    return {"metric": metric, "controls": controls, "negative": "all", "subset": subset, "n_positive": 0,
            "n_negative": 0, "n_unscored": 0, "auroc": math.nan, "status": "skipped", "reason": reason}


def discover_clips(real_dir: Path, held_out: tuple[str, ...] = ()) -> list[RealClip]:
    """Every video in `real_dir`, described by its `manifest.json` entry when there is one."""
    real_dir = Path(real_dir)
    if not real_dir.is_dir():
        raise FileNotFoundError(f"no folder {real_dir}")
    manifest: dict[str, dict[str, Any]] = {}
    mpath = real_dir / "manifest.json"
    if mpath.is_file():
        data = json.loads(mpath.read_text())
        entries = data.get("clips", []) if isinstance(data, dict) else data
        manifest = {str(e["file"]): e for e in entries if isinstance(e, dict) and "file" in e}
    clips = []
    for path in sorted(p for p in real_dir.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()):
        e = manifest.get(path.name, {})
        window = e.get("window_s")
        clips.append(RealClip(
            path=path,
            kind=str(e.get("kind", "unknown")),
            category=str(e.get("category", "")),
            law=e.get("law") if e.get("law") not in (None, "n/a", "") else None,
            window_s=(float(window[0]), float(window[1])) if isinstance(window, (list, tuple)) and len(window) == 2 else None,
            has_audio=e.get("has_audio") if isinstance(e.get("has_audio"), bool) else None,
            fps=float(e["fps"]) if isinstance(e.get("fps"), (int, float)) else None,
            held_out=path.stem in held_out or path.name in held_out,
            meta=dict(e),
        ))
    if not clips:
        raise FileNotFoundError(f"no video files ({', '.join(VIDEO_SUFFIXES)}) in {real_dir}")
    return clips


def calibrate_real(real_dir: Path, out: Path, families: tuple[str, ...] = (), config: RealConfig | None = None,
                   ) -> RealCalibrationResult:
    """Run each family on the folder's clips; write calibration_real.csv / .md; return the table."""
    config = config or RealConfig()
    config.out = Path(out)
    names = families or config.families or tuple(REAL_FAMILIES)
    unknown = [n for n in names if n not in REAL_FAMILIES]
    if unknown:
        raise ValueError(f"unknown real-footage famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                         f"choose from {', '.join(REAL_FAMILIES)}")
    config.out.mkdir(parents=True, exist_ok=True)
    clips = discover_clips(Path(real_dir), config.held_out)
    frames: list[pd.DataFrame] = []
    extra_md: list[str] = []
    for name in names:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"calreal-{name}-") as tmp:
            try:
                got = REAL_FAMILIES[name](clips, config, Path(tmp))
            except Exception as e:  # one broken family is a row, not a lost calibration
                got = pd.DataFrame([skip_row(name, "", f"family failed: {type(e).__name__}: {e}")])
        got = got.copy()
        got["family"] = name
        got["family_seconds"] = round(time.perf_counter() - started, 1)
        if got.attrs.get("markdown"):
            extra_md.append(str(got.attrs["markdown"]))
        frames.append(got)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SUMMARY_COLUMNS)
    for col in SUMMARY_COLUMNS:
        if col not in table:
            table[col] = "all" if col == "subset" else math.nan
    table["subset"] = table["subset"].fillna("all")
    table = table[SUMMARY_COLUMNS + [c for c in table.columns if c not in SUMMARY_COLUMNS]]
    csv = config.out / "calibration_real.csv"
    table.to_csv(csv, index=False)
    shown = table.drop(columns=[c for c in table.columns if table[c].isna().all()])
    lines = ["# Metric calibration on real footage", "",
             f"{len(clips)} clips from `{real_dir}` ({sum(c.held_out for c in clips)} held out). "
             "AUROC: positive class = the unaltered real clip.", "", markdown_table(shown), "", *extra_md]
    md = config.out / "calibration_real.md"
    md.write_text("\n".join(lines) + "\n")
    return RealCalibrationResult(table=table, markdown=md, csv=csv)


def main(argv: list[str] | None = None) -> int:
    """Entry for `python -m eval.calibrate --real DIR` (eval.calibrate forwards its arguments here)."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m eval.calibrate --real", description="Calibrate metrics on real clips.")
    p.add_argument("--real", type=Path, required=True, help="folder of real clips (with or without manifest.json)")
    p.add_argument("--out", type=Path, default=Path("runs/calibration_real"))
    p.add_argument("--families", default="", help=f"which families (default all): {', '.join(REAL_FAMILIES)}")
    p.add_argument("--shifts", default=",".join(map(str, REAL_SHIFT_FRAMES)), help="audio shifts in frames (each ±)")
    p.add_argument("--crfs", default=",".join(map(str, REAL_CRFS)), help="re-encode qualities that must agree")
    p.add_argument("--held-out", default="", help="clip names reported separately (comma-separated)")
    p.add_argument("--max-seconds", type=float, default=10.0, help="longer clips are cut to this (default 10)")
    p.add_argument("--no-progress", action="store_true")
    args, _ = p.parse_known_args(argv)  # engine-calibration flags given alongside are ignored here
    try:
        shifts = tuple(int(s) for s in args.shifts.split(",") if s.strip())
        crfs = tuple(int(s) for s in args.crfs.split(",") if s.strip())
    except ValueError:
        print("error: --shifts and --crfs take whole numbers separated by commas", file=sys.stderr)
        return 2
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    config = RealConfig(shifts=shifts, crfs=crfs, held_out=tuple(h.strip() for h in args.held_out.split(",") if h.strip()),
                        max_seconds=args.max_seconds, progress=not args.no_progress)
    try:
        result = calibrate_real(args.real, args.out, families, config)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(result.markdown.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
