"""Where the videos under evaluation come from: the embedded world engine, a Hub model, or a folder of files.

`--generator world` and `--generator <hub model id>` make one clip per prompt × seed through the studio
flow (so an evaluated clip is made exactly the way a user's clip is); `--generator videos:<folder>` scores
files someone else made. A folder may carry `prompts.jsonl` with one line per file:
`{"file": "a.mp4", "prompt": "...", "suite": "physics", "id": "phys-free_fall-01", "expectations": {...}}`
(all but `file` optional; a `suite` + `id` pair pulls text and expectations from that suite). Files with no
prompt still get the metrics that need none.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eval.suites import Suite, SuiteError, load_suite

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".gif", ".ogv", ".flv", ".wmv")
FOLDER_PREFIX = "videos:"
DEFAULT_SECONDS = 4.0


class GeneratorError(RuntimeError):
    """The generator cannot be used at all (unknown, unavailable, empty folder); the message says how to fix it."""


@dataclass
class Sample:
    """One video to score. `key` is unique within a run and is what resume matches on."""

    key: str
    suite: str
    prompt_id: str
    prompt: str | None
    seed: int | None
    tags: list[str] = field(default_factory=list)
    expectations: dict[str, Any] = field(default_factory=dict)
    video_path: str | None = None
    ground_truth_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RenderSettings:
    """Size, length and rate asked of a generating engine; `seconds=None` = the suite's own (4 s, or a storyboard's sum)."""

    width: int = 256
    height: int = 256
    fps: int = 24
    seconds: float | None = None


class Generator(Protocol):
    name: str

    def plan(self, suites: list[Suite], seeds: list[int]) -> list[Sample]:
        """Every sample the run will score, in a stable order (so shards and resumes agree)."""
        ...

    def produce(self, sample: Sample, out_dir: Path) -> Sample:
        """Return the sample with `video_path` set, making the video if needed; raise on failure."""
        ...


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "x"


@dataclass
class EngineGenerator:
    """The world engine or a Hub model, called through `sora_lite.studio.create_clip`."""

    name: str
    settings: RenderSettings = field(default_factory=RenderSettings)

    def check(self) -> None:
        """Fail before any work when the engine cannot run here (weights, renderer)."""
        from sora_lite.engines import RequestError, get_engine

        try:
            engine = get_engine(self.name)
        except RequestError as e:
            raise GeneratorError(str(e)) from None
        ok, why = engine.availability()
        if not ok:
            raise GeneratorError(f"generator {self.name!r} cannot run here: {why}")

    def plan(self, suites: list[Suite], seeds: list[int]) -> list[Sample]:
        samples = []
        for suite in suites:
            for p in suite.prompts:
                for seed in seeds:
                    samples.append(
                        Sample(
                            key=f"{suite.name}/{p.id}/s{seed}",
                            suite=suite.name,
                            prompt_id=p.id,
                            prompt=p.text,
                            seed=seed,
                            tags=list(p.tags),
                            expectations=dict(p.expectations),
                        )
                    )
        return samples

    def request_for(self, sample: Sample) -> Any:
        from sora_lite.engines import GenerationRequest

        shots = sample.expectations.get("shots")
        seconds = self.settings.seconds
        if shots:
            shots = [dict(s) for s in shots]
            if seconds is not None:  # an explicit --seconds is the storyboard's total length
                for s in shots:
                    s["seconds"] = seconds / len(shots)
            else:
                seconds = float(sum(float(s.get("seconds", 2.0)) for s in shots))
        return GenerationRequest(
            prompt=sample.prompt or "",
            seconds=seconds if seconds is not None else DEFAULT_SECONDS,
            width=self.settings.width,
            height=self.settings.height,
            fps=self.settings.fps,
            seed=int(sample.seed or 0),
            shots=shots or None,
            engine=self.name,
        )

    def produce(self, sample: Sample, out_dir: Path) -> Sample:
        from sora_lite.studio import create_clip

        folder = out_dir / "videos" / _safe(self.name) / _safe(sample.suite)
        final = folder / f"{_safe(sample.prompt_id)}_s{sample.seed}.mp4"
        truth = final.with_suffix(".truth.json")
        if not final.is_file():  # a video made before an interruption is reused, never remade
            partial = folder / f"{final.stem}.partial.mp4"
            record = create_clip(self.request_for(sample), partial, write_ground_truth=True)
            if record.ground_truth_path:
                os.replace(record.ground_truth_path, truth)
            os.replace(partial, final)  # the name appears only once the file is whole
        sample.video_path = str(final)
        sample.ground_truth_path = str(truth) if truth.is_file() else None
        return sample


@dataclass
class FolderGenerator:
    """Videos someone else made; nothing is generated."""

    folder: Path
    name: str = ""

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).expanduser()
        if not self.name:
            self.name = f"{FOLDER_PREFIX}{self.folder.name or self.folder}"

    def check(self) -> None:
        if not self.folder.is_dir():
            raise GeneratorError(f"video folder {self.folder} does not exist or is not a folder")
        if not self.files():
            raise GeneratorError(
                f"video folder {self.folder} holds no videos (looked for {', '.join(VIDEO_EXTENSIONS)})"
            )

    def files(self) -> list[Path]:
        return sorted(
            p for p in self.folder.rglob("*")
            if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and ".partial." not in p.name
        )

    def mapping(self) -> dict[str, dict[str, Any]]:
        """prompts.jsonl as {relative file path: entry}; a bad line is a clear error, not a silent skip."""
        path = self.folder / "prompts.jsonl"
        if not path.is_file():
            return {}
        entries: dict[str, dict[str, Any]] = {}
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                raise GeneratorError(f"{path} line {n} is not valid JSON: {e}") from None
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                raise GeneratorError(f"{path} line {n} needs a 'file' field naming a video in the folder")
            entries[entry["file"]] = entry
        return entries

    def plan(self, suites: list[Suite], seeds: list[int]) -> list[Sample]:
        mapping = self.mapping()
        by_suite: dict[str, Suite] = {s.name: s for s in suites}
        samples = []
        for path in self.files():
            rel = path.relative_to(self.folder).as_posix()
            entry = mapping.get(rel) or mapping.get(path.name) or {}
            suite_name = str(entry.get("suite") or "videos")
            prompt_id = str(entry.get("id") or rel)
            text = entry.get("prompt") or entry.get("text")
            expectations = dict(entry.get("expectations") or {})
            tags = list(entry.get("tags") or [])
            if entry.get("suite") and entry.get("id"):
                item = self._lookup(by_suite, suite_name, prompt_id)
                if item is not None:
                    text = text or item.text
                    expectations = {**item.expectations, **expectations}
                    tags = tags or list(item.tags)
            samples.append(
                Sample(
                    key=f"file/{rel}",
                    suite=suite_name,
                    prompt_id=prompt_id,
                    prompt=text,
                    seed=entry.get("seed"),
                    tags=tags,
                    expectations=expectations,
                    video_path=str(path),
                    ground_truth_path=_sidecar(path),
                )
            )
        return samples

    def _lookup(self, loaded: dict[str, Suite], suite_name: str, prompt_id: str) -> Any:
        if suite_name not in loaded:
            try:
                loaded[suite_name] = load_suite(suite_name)
            except SuiteError:
                return None  # an unknown suite name is just a label here
        return next((p for p in loaded[suite_name].prompts if p.id == prompt_id), None)

    def produce(self, sample: Sample, out_dir: Path) -> Sample:
        return sample


def _sidecar(path: Path) -> str | None:
    truth = path.with_suffix(".truth.json")
    return str(truth) if truth.is_file() else None


def make_generator(spec: str, settings: RenderSettings | None = None) -> EngineGenerator | FolderGenerator:
    """`world`, a Hub model id / any registered engine name, or `videos:<folder>`."""
    if not isinstance(spec, str) or not spec.strip():
        raise GeneratorError("--generator is empty: use world, a Hub model id, or videos:<folder>")
    spec = spec.strip()
    if spec.startswith(FOLDER_PREFIX):
        folder = spec[len(FOLDER_PREFIX):]
        if not folder:
            raise GeneratorError("videos: needs a folder, e.g. --generator videos:./my_outputs")
        return FolderGenerator(Path(folder))
    return EngineGenerator(spec, settings or RenderSettings())
