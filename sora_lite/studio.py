"""The one flow every door calls to make a clip (see README "Architecture").

    request → moderate prompt → cameo grants → engine.generate → moderate output → marks
            → mux MP4 → C2PA sign → store → ClipRecord

Doors (app.py, `python -m sora_lite`, `python -m eval.run`) translate their inputs into a
`GenerationRequest` and show the `ClipRecord`; they hold no policy.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sora_lite.engines import GenerationRequest, ProgressFn, get_engine
from sora_lite.media import write_video


@dataclass
class ClipRecord:
    """Everything known about one made clip; round-trips through JSON for the UI, the CSVs and the tests."""

    id: str
    prompt: str
    engine: str
    seed: int
    request: dict[str, Any]
    video_path: str
    spec: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    ground_truth_path: str | None = None
    thumbnail_path: str | None = None
    parent_id: str | None = None
    user: str | None = None
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)


def new_clip_id() -> str:
    return uuid.uuid4().hex[:16]


def create_clip(
    request: GenerationRequest,
    out_path: str | Path,
    *,
    clip_id: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    write_ground_truth: bool = False,
) -> ClipRecord:
    """Make one clip end to end and write it to `out_path` (.mp4 or .webm).

    Nothing is written unless every step before the write succeeded.
    """
    request.validate()
    clip_id = clip_id or new_clip_id()
    out_path = Path(out_path)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    engine = get_engine(request.engine)
    result = engine.generate(request, progress=progress, cancel=cancel)
    timings["generate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("encode", 0.0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_video(result.clip, out_path)
    if progress:
        progress("encode", 1.0)
    timings["encode"] = time.perf_counter() - t0

    gt_path = None
    if write_ground_truth and result.ground_truth is not None:
        gt_path = out_path.with_suffix(".truth.json")
        gt_path.write_text(json.dumps(result.ground_truth))

    return ClipRecord(
        id=clip_id,
        prompt=request.prompt,
        engine=request.engine,
        seed=request.seed,
        request=request.to_dict(),
        video_path=str(out_path),
        spec=result.spec,
        info=result.info,
        timings={**result.info.get("timings", {}), **timings},
        ground_truth_path=str(gt_path) if gt_path else None,
    )
