"""The one flow every door calls to make a clip (see README "Architecture").

    request → moderate prompt → cameo grants → engine.generate → moderate output → marks
            → mux MP4 → C2PA sign → store → ClipRecord

Doors (app.py, `python -m sora_lite`, `python -m eval.run`) translate their inputs into a
`GenerationRequest` and show the `ClipRecord`; they hold no policy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sora_lite import accounts
from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.cameo import usage as cameo_usage
from sora_lite.engines import GenerationRequest, ProgressFn, RequestError, get_engine
from sora_lite.engines.base import Cancelled, has_words
from sora_lite.media import Clip, MediaError, read_image, read_video, write_thumbnail, write_video
from sora_lite.provenance import ProvenanceClaims, VerifyReport, apply_marks, sign_video, verify_file
from sora_lite.provenance import fingerprint as fingerprints
from sora_lite.provenance.keys import instance_tag
from sora_lite.safety.gate import PolicyBlocked, check_output, check_request
from sora_lite.store import Store, open_store
from sora_lite.store.audit import log_moderation
from sora_lite.store.db import home_dir

log = logging.getLogger("sora_lite.studio")

if TYPE_CHECKING:  # the parser pulls in the world package; imported when first used
    from sora_lite.engines.world.parse import ParseResult


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

    def public_dict(self, *roots: str | Path) -> dict[str, Any]:
        """The record for anyone to see: every server path under `roots` (the studio's home) cut to its file
        name, so a public record tells nobody where files live (the cameo's face texture included)."""
        prefixes = sorted({str(p) for r in roots for p in (Path(r), Path(r).resolve())}, key=len, reverse=True)
        return _without_paths(self.to_dict(), tuple(prefixes))


def _without_paths(value: Any, prefixes: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _without_paths(v, prefixes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_paths(v, prefixes) for v in value]
    if isinstance(value, str) and any(value.startswith(p + os.sep) or value == p for p in prefixes):
        return Path(value).name
    return value


class CancelBoard:
    """Cancel flags for running jobs, keyed by who started them (a browser session): a Stop button sets the
    flag and the engine stops between steps (`Cancelled`); nothing is written for a cancelled clip."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, key: str) -> threading.Event:
        with self._lock:
            event = self._events[key] = threading.Event()
            return event

    def cancel(self, key: str) -> bool:
        with self._lock:
            event = self._events.get(key)
        if event is None:
            return False
        event.set()
        return True

    def finish(self, key: str, event: threading.Event) -> None:
        with self._lock:
            if self._events.get(key) is event:
                del self._events[key]


class PreviewBoard:
    """The latest frame of each running job, keyed like `CancelBoard` (a browser session polls it while its
    clip renders). Frames are shrunk to at most `max_side` pixels: a live view, not the result."""

    def __init__(self, max_side: int = 256) -> None:
        self.max_side = max_side
        self._frames: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, index: int, frame: Any) -> None:
        import numpy as np

        frame = np.asarray(frame)
        step = max(1, int(math.ceil(max(frame.shape[:2]) / self.max_side)))
        with self._lock:
            self._frames[key] = (int(index), np.ascontiguousarray(frame[::step, ::step]))

    def latest(self, key: str) -> tuple[int, Any] | None:
        with self._lock:
            return self._frames.get(key)

    def clear(self, key: str) -> None:
        with self._lock:
            self._frames.pop(key, None)


def warm_up() -> None:
    """Load what the first request would otherwise wait for: the prompt classifier and the world render pool."""
    from sora_lite.engines.world.render import warm_pool
    from sora_lite.safety import warm_up as warm_moderation

    warm_moderation()
    warm_pool()


def new_clip_id() -> str:
    return uuid.uuid4().hex[:16]


def _takes_preview(engine: object) -> bool:
    import inspect

    try:
        return "preview" in inspect.signature(engine.generate).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError, AttributeError):
        return False


def create_clip(
    request: GenerationRequest,
    out_path: str | Path,
    *,
    clip_id: str | None = None,
    parent_id: str | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    write_ground_truth: bool = False,
    check_grants: Callable[[GenerationRequest], GenerationRequest] | None = None,
    work_dir: str | Path | None = None,
    preview: Callable[[int, Any], None] | None = None,
) -> ClipRecord:
    """Make one clip end to end and write it, marked and signed, to `out_path` (.mp4).

    `check_grants` (the Studio's cameo check) runs after the prompt passed the policy and returns the request
    the engine gets. Nothing is written unless every step before the write succeeded: the signed file appears last.
    Encoding and signing happen in `work_dir` (default: next to `out_path`); the Studio keeps it outside the
    served clips folder, so a half-written file left by a killed process is never served.
    """
    request.validate()
    clip_id = clip_id or new_clip_id()
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".mp4":
        raise RequestError(f"clips are written as signed MP4 files; {out_path.name} does not end in .mp4")
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    if progress:
        progress("moderate", 0.0)
    prompt_verdict = check_request(request)  # PolicyBlocked: nothing is generated
    if check_grants is not None:
        request = check_grants(request)
    engine = get_engine(request.engine)
    timings["moderate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    # preview(index, frame): frames while they render, for engines that can show them (the world engine; Hub
    # models between denoising steps)
    live = {"preview": preview} if preview is not None and _takes_preview(engine) else {}
    result = engine.generate(request, progress=progress, cancel=cancel, **live)
    timings["generate"] = time.perf_counter() - t0
    if cancel is not None and cancel.is_set():  # Stop after the last frame: nothing is written either
        raise Cancelled("generation was cancelled")

    t0 = time.perf_counter()
    output_verdict = check_output(result.clip.frames)  # PolicyBlocked: nothing is written
    timings["moderate"] += time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("marks", 0.0)
    clip = result.clip
    marked = Clip(frames=apply_marks(clip.frames, clip_id, fps=float(clip.fps)), fps=clip.fps, audio=clip.audio,
                  sample_rate=clip.sample_rate, metadata=clip.metadata)
    timings["marks"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    if progress:
        progress("encode", 0.0)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    claims = ProvenanceClaims.for_prompt(
        request.prompt, clip_id=clip_id, engine=request.engine, parent_clip_id=parent_id,
        parent_path=request.parent_video, instance_tag=instance_tag().hex(),
    )
    work = Path(work_dir) if work_dir is not None else out_path.parent
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=".encode-") as tmp:
        unsigned = Path(tmp) / f"{clip_id}.mp4"
        write_video(marked, unsigned)
        if progress:
            progress("encode", 0.5)
        signed = Path(tmp) / "signed" / f"{clip_id}.mp4"
        sign_video(unsigned, signed, claims=claims)
        os.replace(signed, out_path) if work_dir is None or _same_device(work, out_path.parent) else shutil.move(signed, out_path)
    if progress:
        progress("encode", 1.0)
    timings["encode"] = time.perf_counter() - t0

    gt_path = None
    if write_ground_truth and result.ground_truth is not None:
        gt_path = out_path.with_suffix(".truth.json")
        gt_path.write_text(json.dumps(result.ground_truth))

    info = {**result.info,
            "moderation": {"prompt": prompt_verdict.to_dict(), "output": output_verdict.to_dict()},
            "provenance": {"c2pa": "signed", "watermark": "visible + invisible",
                                          "prompt_sha256": claims.prompt_sha256, "instance_tag": claims.instance_tag}}
    return ClipRecord(
        id=clip_id,
        prompt=request.prompt,
        engine=request.engine,
        seed=request.seed,
        request=request.to_dict(),
        video_path=str(out_path),
        spec=result.spec,
        info=info,
        timings={**result.info.get("timings", {}), **timings},
        ground_truth_path=str(gt_path) if gt_path else None,
        parent_id=parent_id,
    )


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


# --- Request checks every door shares ----------------------------------------------------------------------

MAX_SPEC_DEPTH = 32
MAX_SPEC_CHARS = 200_000
MIN_SHOT_SECONDS = 0.5


def spec_depth(value: Any, limit: int = MAX_SPEC_DEPTH) -> int:
    """How deeply `value` nests (iteratively, so a 5000-deep spec cannot exhaust Python's stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def check_spec(spec: Any) -> dict[str, Any] | None:
    """A scene spec a door received, or RequestError: an object, nested at most MAX_SPEC_DEPTH deep."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise RequestError("the scene spec must be a JSON object")
    if spec_depth(spec) > MAX_SPEC_DEPTH:
        raise RequestError(f"the scene spec nests deeper than {MAX_SPEC_DEPTH} levels; a scene spec is a few levels deep")
    return spec


def spec_from_json(text: str | None) -> dict[str, Any] | None:
    """Parse a scene spec typed as JSON (None when blank), with one clear RequestError for anything wrong:
    bad JSON, not an object, too long, or nested too deep (never a RecursionError)."""
    if text is None or not str(text).strip():
        return None
    text = str(text)
    if len(text) > MAX_SPEC_CHARS:
        raise RequestError(f"the scene spec is {len(text)} characters; the limit is {MAX_SPEC_CHARS}")
    depth = running = 0
    in_string = escaped = False
    for ch in text:  # count brackets before parsing: json.loads itself recurses once per level
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            running += 1
            depth = max(depth, running)
        elif ch in "]}":
            running -= 1
    if depth > MAX_SPEC_DEPTH:
        raise RequestError(f"the scene spec nests deeper than {MAX_SPEC_DEPTH} levels; a scene spec is a few levels deep")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as e:
        raise RequestError(f"the scene spec is not valid JSON: {e}") from None
    except RecursionError:
        raise RequestError(f"the scene spec nests deeper than {MAX_SPEC_DEPTH} levels") from None
    return check_spec(spec)


def shot_seconds(value: Any, index: int) -> float:
    """A storyboard shot's length: blank means the default; anything else must be a number ≥ MIN_SHOT_SECONDS."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_SHOT_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise RequestError(f"shot {index + 1}: seconds must be a number, got {value!r}") from None
    if not math.isfinite(seconds) or seconds < MIN_SHOT_SECONDS:
        raise RequestError(f"shot {index + 1}: a shot lasts at least {MIN_SHOT_SECONDS:g} s, got {value!r}")
    return seconds


# --- The studio service: create_clip + a home folder + the database --------------------------------------

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_UPLOAD_SIDE = 4096
THUMBNAIL_SIDE = 320
DEFAULT_SHOT_SECONDS = 2.0


def parse_scene(prompt: str, base: dict[str, Any] | None = None) -> "ParseResult":
    """The world engine's scene spec for `prompt`, on top of `base` (a remix or the next shot) when given."""
    from sora_lite.engines.world.parse import parse_prompt  # the parser pulls in the world package
    from sora_lite.engines.world.spec import SceneSpec

    if not isinstance(prompt, str) or not has_words(prompt):
        raise RequestError("the prompt is empty: describe a scene to parse")
    return parse_prompt(prompt, base=SceneSpec.from_dict(base) if base else None)


def shots_from_table(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Storyboard rows [text, camera, seconds] (the app's table) → shot dicts; blank rows are skipped."""
    shots = []
    for i, row in enumerate(rows):
        cells = list(row) + [None] * (3 - len(row))
        text, camera, seconds = (None if c is None or (isinstance(c, float) and c != c) else c for c in cells[:3])
        if not str(text or "").strip():
            continue
        shot: dict[str, Any] = {"prompt": str(text).strip(), "camera": str(camera or "static").strip() or "static"}
        shot["seconds"] = shot_seconds(seconds, i)
        shots.append(shot)
    return shots


class Studio:
    """One instance's clips: files under `home/clips/`, rows in the database, every clip made by `create_clip`.

    Every door that stores clips (the app, the HTTP API) goes through here, so attribution, lineage and
    ownership checks are the same everywhere.
    """

    def __init__(self, home: str | Path | None = None, db_url: str | None = None) -> None:
        self.home = Path(home).expanduser() if home is not None else home_dir()
        self.clips_dir = self.home / "clips"
        self.inputs_dir = self.home / "inputs"
        self.work_dir = self.home / "work"  # encoding and signing: never served
        self.store: Store = open_store(db_url, self.home)
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers()

    def remove_leftovers(self, older_than_s: float = 15 * 60) -> list[str]:
        """Delete half-written files a killed process left (`.encode-*`, `.signing-*`, `*.part.*`) in the
        served clips folder and in the work folder; only ones older than `older_than_s`, so a second process
        sharing this home keeps its own work in progress."""
        removed, now = [], time.time()
        candidates = [*self.clips_dir.glob(".encode-*"), *self.clips_dir.glob(".signing-*"),
                      *self.clips_dir.glob(".*.part.*"), *self.inputs_dir.glob("*.tmp.png")]
        if self.work_dir.is_dir():
            candidates += list(self.work_dir.iterdir())
        for path in candidates:
            try:
                if now - path.lstat().st_mtime < older_than_s:
                    continue
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
                removed.append(path.name)
            except OSError:
                continue
        if removed:
            log.info("removed %d half-written files left by an earlier run", len(removed))
        return removed

    # --- identity -------------------------------------------------------------------------------------
    def local_user(self) -> UserInfo:
        return accounts.local_user(self.store)

    # --- making clips -----------------------------------------------------------------------------------
    def accept_image(self, path: str | Path) -> str:
        """Check an uploaded still (size, decodability, resolution) and keep a copy the record can point at.
        (`generate` deletes the copy again when the request is refused.)"""
        src = Path(path)
        if not src.is_file():
            raise MediaError(f"the image {src.name!r} was not found; upload it again")
        size = src.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise MediaError(f"the image is {size / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
        pixels = read_image(src)  # MediaError for corrupt files, videos renamed .png, decompression bombs
        height, width = pixels.shape[:2]
        if max(height, width) > MAX_UPLOAD_SIDE:
            raise MediaError(f"the image is {width}×{height}; the limit is {MAX_UPLOAD_SIDE} pixels per side")
        digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
        dst = self.inputs_dir / f"{digest}.png"
        if not dst.exists():
            from PIL import Image

            self.inputs_dir.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(".tmp.png")
            Image.fromarray(pixels).save(tmp)
            tmp.replace(dst)
        return str(dst)

    def generate(
        self,
        request: GenerationRequest,
        user: UserInfo | None = None,
        parent_id: str | None = None,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        preview: Callable[[int, Any], None] | None = None,
    ) -> ClipRecord:
        """Make a clip, store its files and row, and return its record (attributed to `user`).
        `preview(index, frame)` gets frames while they render (a live view)."""
        user = user or self.local_user()
        if parent_id is not None:
            clip_feed.get_clip(self.store, parent_id)  # fail before rendering, not after
        request.validate()
        check_spec(request.spec)
        for i, shot in enumerate(request.shots or []):  # a 0 s shot is an error, not silently 2 s
            if isinstance(shot, dict) and "seconds" in shot:
                shot_seconds(shot["seconds"], i)
        kept_image: Path | None = None
        if request.image:
            accepted = Path(self.accept_image(request.image))
            if str(accepted) != str(request.image) and not self._image_in_use(accepted):
                kept_image = accepted  # ours to delete if this request is refused
            request = GenerationRequest.from_dict({**request.to_dict(), "image": str(accepted)})
        try:
            return self._generate(request, user, parent_id, progress, cancel, preview)
        except BaseException:
            if kept_image is not None and not self._image_in_use(kept_image):
                kept_image.unlink(missing_ok=True)  # a refused image-to-video upload is not kept (nor served)
            raise

    def _image_in_use(self, path: Path) -> bool:
        """Whether a stored clip's request points at this kept input image."""
        from sqlalchemy import select

        from sora_lite.store import ClipRow

        with self.store.session() as s:
            for request in s.scalars(select(ClipRow.request).where(ClipRow.deleted_at.is_(None))):
                if isinstance(request, dict) and request.get("image") == str(path):
                    return True
        return False

    def _generate(self, request: GenerationRequest, user: UserInfo, parent_id: str | None,
                  progress: ProgressFn | None, cancel: threading.Event | None,
                  preview: Callable[[int, Any], None] | None = None) -> ClipRecord:
        clip_id = new_clip_id()
        try:
            record = create_clip(
                request,
                self.clips_dir / f"{clip_id}.mp4",
                clip_id=clip_id,
                parent_id=parent_id,
                progress=progress,
                cancel=cancel,
                preview=preview,
                write_ground_truth=True,
                work_dir=self.work_dir,
                # after the prompt passed the policy, before rendering; CameoDenied: nothing is rendered
                check_grants=lambda r: cameo_usage.before_generation(self.store, r, user),
            )
            request = GenerationRequest.from_dict(record.request)
        except PolicyBlocked as blocked:
            with self.store.session() as s:
                log_moderation(s, user.id, None, blocked.stage, "block", blocked.category, blocked.reason,
                               {"request": request.to_dict(), "verdict": blocked.details})
            raise
        with self.store.session() as s:
            for stage, verdict in record.info["moderation"].items():
                log_moderation(s, user.id, record.id, stage, verdict.get("verdict") or verdict.get("status"),
                               verdict.get("category"), verdict.get("reason") or "", {"verdict": verdict})
        try:  # a grant revoked while the job ran, or a face nobody granted: the file is not kept
            cameo_usage.before_storing(self.store, request, user, record.video_path, record.id)
        except Exception:
            for path in (record.video_path, record.ground_truth_path):
                if path:
                    Path(path).unlink(missing_ok=True)
            raise
        record.user = user.username
        record.request = cameo_usage.public_request(record.request)  # no cameo file paths in clip records
        record.thumbnail_path = self._write_thumbnail(record)
        clip_feed.save_clip(self.store, record, user)
        fingerprints.index_clip(self.store, record.id, record.video_path)  # reverse search for `verify`
        return record

    def _write_thumbnail(self, record: ClipRecord) -> str | None:
        """A PNG of the middle frame; a clip without one is still a clip, so failures only skip it."""
        png = Path(record.video_path).with_suffix(".png")
        try:
            seconds = float(record.request.get("seconds") or 0.0)
            frames = read_video(record.video_path, start=seconds / 2, max_frames=1, with_audio=False).frames
            if len(frames) == 0:
                frames = read_video(record.video_path, max_frames=1, with_audio=False).frames
            write_thumbnail(frames[0], png, max_side=THUMBNAIL_SIDE)
        except (MediaError, IndexError, OSError):
            return None
        return str(png)

    def storyboard(
        self,
        shots: list[dict[str, Any]],
        user: UserInfo | None = None,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        preview: Callable[[int, Any], None] | None = None,
        **fields: Any,
    ) -> ClipRecord:
        """One clip over one continuing world, cut into shots; the record's info lists the shot boundaries."""
        if not isinstance(shots, list) or not shots:
            raise RequestError("a storyboard needs at least one shot with a text")
        clean = []
        for i, shot in enumerate(shots):
            if not isinstance(shot, dict) or not has_words(str(shot.get("prompt") or "")):
                raise RequestError(f"shot {i + 1} needs a text describing it")
            clean.append({**shot, "seconds": shot_seconds(shot.get("seconds"), i)})
        prompt = " / ".join(str(s["prompt"]).strip() for s in clean)
        request = GenerationRequest(**{"prompt": prompt, "seconds": sum(s["seconds"] for s in clean), **fields, "shots": clean})
        return self.generate(request, user=user, progress=progress, cancel=cancel, preview=preview)

    def remix(
        self,
        clip_id: str,
        prompt: str,
        spec: dict[str, Any] | None = None,
        user: UserInfo | None = None,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        **overrides: Any,
    ) -> ClipRecord:
        """A new clip on top of `clip_id`: its settings, its world (spec) changed by `prompt`, and its video."""
        parent = clip_feed.get_clip(self.store, clip_id)
        if not (isinstance(prompt, str) and has_words(prompt)) and spec is None:
            raise RequestError("describe the change: a remix needs a new prompt or an edited scene spec")
        base = GenerationRequest.from_dict(parent.request).to_dict()
        base.update(prompt=prompt or "", shots=None, parent_video=parent.video_path, spec=spec)
        if spec is None and parent.spec is not None and base["engine"] == "world":
            base["spec"] = parse_scene(prompt, parent.spec).spec.to_dict()
        base.update(overrides)
        return self.generate(GenerationRequest.from_dict(base), user=user, parent_id=clip_id, progress=progress, cancel=cancel)

    # --- the feed -----------------------------------------------------------------------------------------
    def feed(self, limit: int = 50, offset: int = 0, username: str | None = None) -> list[ClipRecord]:
        return clip_feed.list_feed(self.store, limit=limit, offset=offset, username=username)

    def verify(self, path: str | Path) -> "VerifyReport":
        """C2PA and watermark report for any file, matched against this instance's clips."""
        return verify_file(path, store_lookup=self.made_here,
                           fingerprint_lookup=lambda query: fingerprints.search_store(self.store, query))

    def made_here(self, clip_id_prefix: str) -> bool:
        """Whether this instance made a clip whose id starts with the prefix a watermark carries."""
        return clip_feed.has_clip_with_prefix(self.store, clip_id_prefix)

    def get(self, clip_id: str) -> ClipRecord:
        return clip_feed.get_clip(self.store, clip_id)

    def lineage(self, clip_id: str) -> clip_feed.Lineage:
        return clip_feed.lineage(self.store, clip_id)

    def delete(self, clip_id: str, user: UserInfo | None = None) -> ClipRecord:
        """Delete a clip of `user`'s (PermissionError for anyone else's)."""
        return clip_feed.delete_clip(self.store, clip_id, user or self.local_user())
