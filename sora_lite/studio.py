"""The one flow every door calls to make a clip (see README "Architecture").

    request → moderate prompt → cameo grants → engine.generate → moderate output → cameo faces + grants again
            → marks → mux MP4 → C2PA sign → store → ClipRecord

Check, then write: every check that can refuse a clip runs on the frames in memory; files appear only after
all of them passed, and nobody decodes the written file again (the thumbnail comes from the same frames).

Doors (app.py, `python -m sora_lite`, `python -m eval.run`) translate their inputs into a
`GenerationRequest` and show the `ClipRecord`; they hold no policy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from collections.abc import Iterator
from typing import Any, Callable

from sora_lite import accounts
from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.cameo import usage as cameo_usage
from sora_lite.common.records import ClipRecord
from sora_lite.common.storyboard import shot_seconds
from sora_lite.engines import GenerationRequest, ProgressFn, RequestError, get_engine
from sora_lite.engines.base import Cancelled, has_words
from sora_lite.media import Clip, MediaError, read_image, write_thumbnail, write_video
from sora_lite.provenance import ProvenanceClaims, VerifyReport, apply_marks, sign_video, verify_file
from sora_lite.provenance import fingerprint as fingerprints
from sora_lite.provenance.keys import instance_tag
from sora_lite.safety.gate import PolicyBlocked, check_output, check_request
from sora_lite.store import Store, open_store
from sora_lite.store.audit import log_moderation
from sora_lite.store.db import home_dir

log = logging.getLogger("sora_lite.studio")

def warm_up(engine: str = "world") -> None:
    """Load what the first request would otherwise wait for: the prompt classifier, and whatever the engine
    warms (`engine.warm_up()` when it has one: the world engine's render pool)."""
    from sora_lite.safety import warm_up as warm_moderation

    warm_moderation()
    warm = getattr(get_engine(engine), "warm_up", None)
    if callable(warm):
        warm()


def new_clip_id() -> str:
    return uuid.uuid4().hex[:16]


def _takes_preview(engine: object) -> bool:
    import inspect

    try:
        return "preview" in inspect.signature(engine.generate).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to `timings[stage]` (a stage may run in more than one block)."""
    t0 = time.perf_counter()
    yield
    timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0


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
    check_frames: Callable[[GenerationRequest, Clip, str], Any] | None = None,
    thumbnail_side: int | None = None,
) -> ClipRecord:
    """Make one clip end to end and write it, marked and signed, to `out_path` (.mp4).

    Check, then write: `check_grants` (the Studio's cameo check) runs after the prompt passed the policy and
    returns the request the engine gets; `check_frames(request, clip, clip_id)` (the cameo face check and the
    grant re-check) runs on the frames in memory after the output policy, before marks and encoding. Nothing is
    written unless every check passed: the signed file (and with `thumbnail_side`, a PNG of the marked clip's
    middle frame next to it) appears last. Encoding and signing happen in `work_dir` (default: next to
    `out_path`); the Studio keeps it outside the served clips folder, so a half-written file left by a killed
    process is never served. The record holds the request the engine ran (cameos attached) and, in
    `info["output"]`, what was encoded (size, rate, frames, duration, sound).
    """
    request.validate()
    clip_id = clip_id or new_clip_id()
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".mp4":
        raise RequestError(f"clips are written as signed MP4 files; {out_path.name} does not end in .mp4")
    timings: dict[str, float] = {}

    with _timed(timings, "moderate"):
        if progress:
            progress("moderate", 0.0)
        prompt_verdict = check_request(request)  # PolicyBlocked: nothing is generated
        if check_grants is not None:
            request = check_grants(request)
        engine = get_engine(request.engine)
    with _timed(timings, "generate"):
        result = _run_engine(engine, request, progress, cancel, preview)
    with _timed(timings, "moderate"):
        output_verdict = check_output(result.clip.frames)  # PolicyBlocked: nothing is written
        if check_frames is not None:
            check_frames(request, result.clip, clip_id)  # CameoDenied: nothing is written
    with _timed(timings, "marks"):
        if progress:
            progress("marks", 0.0)
        marked = _marked(result.clip, clip_id, from_still=bool(request.image))
    with _timed(timings, "encode"):
        if progress:
            progress("encode", 0.0)
        claims = _claims(request, clip_id, parent_id)
        thumb_path = _write_signed(marked, out_path, clip_id, claims, work_dir, thumbnail_side, progress)
        if progress:
            progress("encode", 1.0)

    gt_path = None
    if write_ground_truth and result.ground_truth is not None:
        gt_path = out_path.with_suffix(".truth.json")
        gt_path.write_text(json.dumps(result.ground_truth))

    info = {**result.info,
            "moderation": {"prompt": prompt_verdict.to_dict(), "output": output_verdict.to_dict()},
            "provenance": {"c2pa": "signed", "watermark": "visible + invisible",
                                          "prompt_sha256": claims.prompt_sha256, "instance_tag": claims.instance_tag},
            "output": _encoded(result.clip)}
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
        thumbnail_path=str(thumb_path) if thumb_path else None,
        parent_id=parent_id,
    )


def _encoded(clip: Clip) -> dict[str, Any]:
    """What the MP4 holds (the record's `info["output"]`)."""
    return {"width": clip.width, "height": clip.height, "fps": float(clip.fps), "frames": clip.num_frames,
            "seconds": round(clip.duration, 4), "audio": clip.has_audio}


def _run_engine(engine: Any, request: GenerationRequest, progress: ProgressFn | None,
                cancel: threading.Event | None, preview: Callable[[int, Any], None] | None) -> Any:
    """The engine's `GenerationResult`; `Cancelled` when Stop came, even after the last frame."""
    # preview(index, frame): frames while they render, for engines that can show them (the world engine; Hub
    # models between denoising steps)
    live = {"preview": preview} if preview is not None and _takes_preview(engine) else {}
    result = engine.generate(request, progress=progress, cancel=cancel, **live)
    if cancel is not None and cancel.is_set():  # Stop after the last frame: nothing is written either
        raise Cancelled("generation was cancelled")
    return result


def _marked(clip: Clip, clip_id: str, from_still: bool) -> Clip:
    """The clip with its visible and invisible marks (sound and metadata unchanged)."""
    # image-to-video: frame 0 is the user's still; the invisible mark eases in after it (issue 14)
    return Clip(frames=apply_marks(clip.frames, clip_id, fps=float(clip.fps), from_still=from_still),
                fps=clip.fps, audio=clip.audio, sample_rate=clip.sample_rate, metadata=clip.metadata)


def _claims(request: GenerationRequest, clip_id: str, parent_id: str | None) -> ProvenanceClaims:
    return ProvenanceClaims.for_prompt(
        request.prompt, clip_id=clip_id, engine=request.engine, parent_clip_id=parent_id,
        parent_path=request.parent_video, instance_tag=instance_tag().hex(),
        contributors=[str(n) for n in (request.options or {}).get("contributors") or []] or None,  # shared projects
    )


def _write_signed(marked: Clip, out_path: Path, clip_id: str, claims: ProvenanceClaims, work_dir: str | Path | None,
                  thumbnail_side: int | None, progress: ProgressFn | None) -> Path | None:
    """Encode and sign in a temporary folder under `work_dir`, then move the MP4 (and the thumbnail, whose
    path is returned) to `out_path`: a killed process leaves nothing half-written where clips are served."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(work_dir) if work_dir is not None else out_path.parent
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=".encode-") as tmp:
        unsigned = Path(tmp) / f"{clip_id}.mp4"
        write_video(marked, unsigned)
        if progress:
            progress("encode", 0.5)
        signed = Path(tmp) / "signed" / f"{clip_id}.mp4"
        sign_video(unsigned, signed, claims=claims)
        thumb = None
        if thumbnail_side is not None:  # from the frames in memory, not a decode of the file
            try:
                thumb = write_thumbnail(marked, Path(tmp) / f"{clip_id}.png", max_side=thumbnail_side)
            except MediaError:
                thumb = None  # a clip without a thumbnail is still a clip
        move = os.replace if work_dir is None or _same_device(work, out_path.parent) else shutil.move
        move(signed, out_path)
        thumb_path = out_path.with_suffix(".png") if thumb is not None else None
        if thumb is not None:
            move(thumb, thumb_path)
    return thumb_path


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


# --- Request checks every door shares ----------------------------------------------------------------------

MAX_SPEC_DEPTH = 32
MAX_SPEC_CHARS = 200_000


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


# --- The studio service: create_clip + a home folder + the database --------------------------------------

MAX_UPLOAD_BYTES = 20 * 2**20
MAX_UPLOAD_SIDE = 4096
THUMBNAIL_SIDE = 320


def parse_scene(prompt: str, base: dict[str, Any] | None = None, engine: str = "world") -> Any:
    """The engine's scene spec for `prompt`, on top of `base` (a remix or the next shot) when given: for an
    engine that reads scenes (`engine.parse_scene`, the world engine's parse result with `.spec`)."""
    if not isinstance(prompt, str) or not has_words(prompt):
        raise RequestError("the prompt is empty: describe a scene to parse")
    reader = getattr(get_engine(engine), "parse_scene", None)
    if not callable(reader):
        raise RequestError(f"the {engine} engine does not read prompts into a scene spec")
    return reader(prompt, base)


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
        checked: dict[str, Any] = {}

        def check_frames(ran: GenerationRequest, clip: Clip, cid: str) -> None:
            # a grant revoked while the job ran, or a face nobody granted: CameoDenied before anything is written
            checked["uses"], checked["check"] = cameo_usage.check_before_storing(self.store, ran, user, clip.frames, cid)

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
                check_frames=check_frames,
                thumbnail_side=THUMBNAIL_SIDE,
            )
        except PolicyBlocked as blocked:
            with self.store.session() as s:
                log_moderation(s, user.id, None, blocked.stage, "block", blocked.category, blocked.reason,
                               {"request": request.to_dict(), "verdict": blocked.details})
            raise
        try:
            with self.store.session() as s:
                for stage, verdict in record.info["moderation"].items():
                    log_moderation(s, user.id, record.id, stage, verdict.get("verdict") or verdict.get("status"),
                                   verdict.get("category"), verdict.get("reason") or "", {"verdict": verdict})
            cameo_usage.record_stored(self.store, checked["uses"], checked["check"], user, record.id)
            record.user = user.username
            record.request = cameo_usage.public_request(record.request)  # no cameo file paths in clip records
            clip_feed.save_clip(self.store, record, user)
        except BaseException:  # a clip the store does not know is not kept
            for path in (record.video_path, record.thumbnail_path, record.ground_truth_path):
                if path:
                    Path(path).unlink(missing_ok=True)
            raise
        fingerprints.index_clip(self.store, record.id, record.video_path)  # reverse search for `verify`
        return record

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
        if spec is None and parent.spec is not None and callable(getattr(get_engine(base["engine"]), "parse_scene", None)):
            base["spec"] = parse_scene(prompt, parent.spec, base["engine"]).spec.to_dict()
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
