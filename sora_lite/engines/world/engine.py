"""The embedded world engine: prompt or spec → MuJoCo simulation → headless render + contact sound.

One `generate` call runs: plan the shots (each shot's spec and camera) → simulate every shot on one
continuing simulation (rebuilding the model only when a shot adds objects or changes the world, carrying
the state of persisting bodies) → each shot's camera planned from its simulated motion and the subjects its
text names (`framing.py`) → render (while the next shot simulates) → audio from the contact events → ground
truth. Image-to-video fits the still to the first shot's camera (`still.py`). Nothing here needs model weights.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from sora_lite.engines.base import Cancelled, GenerationRequest, GenerationResult, ProgressFn, RequestError
from sora_lite.common import sound
from sora_lite.engines.world.camera import CameraPose, fovy_from_lens, project
from sora_lite.engines.world.still import (read_still, STILL_ROOM, StillGround, backdrop_depth, behind_layers, fit_ground,
                                           fit_layers, fit_still, picture_layers,
                                           still_camera_path, still_ground)
from sora_lite.engines.world.framing import (FramingDecision, entry_names, floor_reach, plan_shot, says_static,
                                             speaker_camera)
from sora_lite.engines.world.mouths import (PlannedLine, addressees, is_person, openness_by_speaker, plan_lines,
                                            pose_mouths, turn_weights, unshifted_speech)
from sora_lite.engines.world.parse import ParseResult, parse_prompt, parse_with_subjects
from sora_lite.engines.world.render import PARALLEL_MIN_PIXELS, PreviewFn, RenderJob, RenderStream
from sora_lite.engines.world.scene import CameoLook, Scene, granted_looks, layout_bodies
from sora_lite.engines.world.simulate import Segment, Simulation
from sora_lite.engines.world.spec import CAMERA_MOVES, CameraSpec, Perturbation, SceneSpec, SpecError
from sora_lite.engines.world.truth import build_track, ground_truth
from sora_lite.media import Clip, MediaError, read_audio
from sora_lite.sound import footsteps
from sora_lite.sound.dialogue import Line, speaker_of
from sora_lite.sound.soundtrack import Soundtrack
from sora_lite.sound.soundtrack import compose as compose_soundtrack

VOICE_DELAY_S = 0.25  # a cameo's line starts this long after the character first shows on screen
BACKDROP_PAD = 0.25  # share of the image size mirrored around it, so camera moves never see past its edge


@dataclass
class ShotPlan:
    index: int
    prompt: str
    spec: SceneSpec
    camera: CameraSpec
    start_frame: int
    n_frames: int
    named: list[str] = field(default_factory=list)  # bodies the shot's text names (the camera holds them)
    exits: list[str] = field(default_factory=list)  # named, but the text lets them leave the frame
    still: bool = False  # the text or the storyboard asked for a camera that does not move
    speakers: list[str] = field(default_factory=list)  # bodies that speak a line in this shot (framed waist up)


@dataclass
class _Job:
    """What one request asks for, read and checked before anything is simulated."""

    plans: list[ShotPlan]
    words: ParseResult  # the words used / ignored and the parse notes across all shots
    looks: dict[str, CameoLook]  # the granted cameos only
    base_spec: SceneSpec  # the first shot's spec with the request's extra perturbations (before an image backdrop)
    width: int
    height: int
    fps: int
    seed: int
    backdrop: np.ndarray | None  # image-to-video: the still, H×W×3 uint8
    quality: str
    workers: int
    min_pixels: int
    horizon: Any  # options.horizon, checked where the still is read

    @property
    def total_frames(self) -> int:
        return sum(p.n_frames for p in self.plans)


@dataclass
class _Speech:
    """Spoken lines planned before any shot is drawn: the speaker's mouth moves with its line, its head turns to
    whom it addresses (mouths.py)."""

    spoken: list[PlannedLine]
    mouth_open: dict[str, np.ndarray]
    mouth_at: dict[str, np.ndarray]  # per speaker, the mouth's world point in every frame (NaN until posed)
    head_turn: Any
    facing: dict[str, str | None]

    def pose(self, model: Any, seg: Segment, shot_poses: list[CameraPose]) -> None:
        """Where each speaker's mouth is in the frames of `seg`, once its camera is planned."""
        if not self.mouth_open:
            return
        for name, pts in pose_mouths(model, seg.scene, seg.qpos, seg.start_frame, self.mouth_open, self.head_turn,
                                     self.facing, shot_poses).items():
            self.mouth_at[name][seg.start_frame:seg.start_frame + len(pts)] = pts


def _plan_speech(plans: list[ShotPlan], seed: int, fps: int, total_frames: int) -> _Speech:
    """The lines the shots' texts speak, synthesised (cached) before any shot is drawn; the camera holds each
    speaker as a named subject while it speaks."""
    spoken = plan_lines([p.prompt for p in plans], [p.start_frame / fps for p in plans], total_frames / fps,
                        [p.spec.object_names() for p in plans])
    mouth_open = openness_by_speaker(spoken, fps, total_frames)
    mouth_at = {name: np.full((total_frames, 3), np.nan) for name in mouth_open}
    head_turn = turn_weights(spoken, fps, total_frames)
    people = [b.name for b in layout_bodies(plans[0].spec, seed)
              if b.shape == "character" or (b.recipe is not None and is_person(b.recipe))]
    facing = addressees(spoken, people)
    for pl in spoken:
        if pl.source is not None and pl.source not in plans[pl.shot].named:
            plans[pl.shot].named.append(pl.source)
        if pl.source is not None and pl.source not in plans[pl.shot].speakers:
            plans[pl.shot].speakers.append(pl.source)
            plans[pl.shot].camera = speaker_camera(plans[pl.shot].camera, plans[pl.shot].prompt)
    return _Speech(spoken, mouth_open, mouth_at, head_turn, facing)


@dataclass
class _Picture:
    """Image-to-video: the still and its ground, fitted to the first shot's camera once that is planned."""

    pixels: np.ndarray
    ground: StillGround
    width: int
    height: int
    backdrop_px: np.ndarray | None = None
    backdrop_size: Any = None
    ground_size: Any = None
    ground_px: np.ndarray | None = None
    layer_meshes: list[tuple[list[float], list[float], list[int]]] = field(default_factory=list)

    def fit(self, seg: Segment, shot_poses: list[CameraPose], decision: FramingDecision) -> list[CameraPose]:
        """The first shot's camera path over the picture; the picture cut into layers and fitted to it."""
        shot_poses = still_camera_path(shot_poses[0], len(shot_poses), seg.pos)
        width, height = self.width, self.height
        # standing things cut out of the picture stand at their own depth; the layers behind them
        # get the picture with those things painted out (seen only once the camera moves)
        layers = picture_layers(self.pixels, self.ground.horizon)
        behind = behind_layers(self.pixels, layers)
        self.layer_meshes = fit_layers(self.pixels, layers, shot_poses[0], width, height)
        self.backdrop_px, self.backdrop_size = fit_still(behind, shot_poses[0], width, height, BACKDROP_PAD)
        self.ground_size, self.ground_px = fit_ground(behind, shot_poses[0], width, height,
                                                      backdrop_depth(shot_poses[0]))
        decision.notes.append(f"picture layers: {len(self.layer_meshes)} standing thing(s) cut out of the "
                              f"still ({', '.join(x.cues for x in layers) or 'none found'}), the "
                              "ground layer and the backdrop behind them")
        decision.mode = "image"
        decision.notes.append(f"image-to-video: horizon at {self.ground.horizon:.0%} of the height "
                              f"({self.ground.source}); the first frame is the still, the objects enter "
                              "after it on its ground; a slow push-in")
        seg.hidden[0, :] = True  # the first frame is the still alone
        return shot_poses

    def dress(self, scene: Scene) -> Scene:
        """The scene to draw: with the fitted backdrop, ground layer and picture layers."""
        assert self.backdrop_px is not None
        return replace(scene, backdrop_size=self.backdrop_size,
                       backdrop_px=(self.backdrop_px.shape[1], self.backdrop_px.shape[0]),
                       ground_size=self.ground_size, ground_pixels=self.ground_px,
                       layer_meshes=self.layer_meshes or None,
                       layer_pixels=self.pixels if self.layer_meshes else None)


@dataclass
class _Footage:
    """What the simulate stage hands on: every shot's segment, camera poses and framing."""

    sim: Simulation
    segments: list[Segment] = field(default_factory=list)
    poses: list[CameraPose] = field(default_factory=list)
    framing: list[FramingDecision] = field(default_factory=list)
    carried: list[dict[str, Any]] = field(default_factory=list)  # per rebuild, the bodies carried into it

    @property
    def events(self) -> list:
        return [e for s in self.segments for e in s.events]


def _nothing_parsed(spec: SceneSpec) -> ParseResult:
    return ParseResult(spec, [], [], [])


def merge_dict(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a partial spec into a full one; lists (objects, perturbations) are replaced whole."""
    out = dict(base)
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_dict(out[k], v)
        else:
            out[k] = v
    return out


def _camera_from(value: Any, current: CameraSpec, where: str, spec: SceneSpec | None = None) -> CameraSpec:
    """A storyboard shot's camera: a move name, the camera words a prompt takes ("tracking shot", "handheld",
    "close up", "slow pan left"), or an object of camera settings."""
    if value is None:
        return current
    if isinstance(value, str):
        if value.strip().lower() in CAMERA_MOVES:
            return replace(current, move=value.strip().lower())
        base = replace(spec if spec is not None else SceneSpec(), camera=current)
        parsed, subjects = parse_with_subjects(value, base=base)
        if not parsed.used or len(parsed.spec.objects) != len(base.objects):
            bad = f" (not understood: {', '.join(parsed.ignored)})" if parsed.ignored else ""
            raise RequestError(f"{where}: camera is {value!r}{bad}; use a move ({', '.join(CAMERA_MOVES)}) or the "
                               "camera words a prompt takes, e.g. 'tracking shot', 'handheld', 'close up', "
                               "'pan left', 'low angle', 'macro'")
        if not subjects.named:  # "tracking shot" names nobody: the shot's text says whom (framing.py)
            return replace(parsed.spec.camera, target=current.target)
        return parsed.spec.camera
    if isinstance(value, dict):
        merged = merge_dict(current.__dict__, value)
        spec = SceneSpec.from_dict({"camera": merged, "objects": [{}]})
        return spec.camera
    raise RequestError(f"{where}: camera must be a move name or an object of camera settings")


def _world_key(spec: SceneSpec) -> str:
    """What forces a rebuild of the model: everything except the camera, the pacing and perturbations."""
    d = spec.to_dict()
    for k in ("camera", "pacing", "perturbations"):
        d.pop(k, None)
    return repr(d)


def _spec_says_static(spec: Any) -> bool:
    """A scene spec that spells out a static camera means it (eval controls read physics off a still view)."""
    cam = spec.get("camera") if isinstance(spec, dict) else None
    return isinstance(cam, dict) and cam.get("move") == "static"


def _relaunched(before: SceneSpec, after: SceneSpec) -> set[str]:
    """Bodies a later shot sets moving anew (their entry's velocity changed): they start it where they are."""
    old = {o.name: o.velocity for o in before.objects}
    names = after.object_names()
    out, k = set(), 0
    for o in after.objects:
        if o.name in old and list(old[o.name]) != list(o.velocity) and any(abs(v) > 0 for v in o.velocity):
            out.update(names[k:k + o.count])
        k += o.count
    return out


def _info(job: _Job, footage: _Footage, track: Any, soundtrack: Soundtrack, cameos_info: list[dict[str, Any]],
          shots_info: list[dict[str, Any]], timings: dict[str, float], stream: RenderStream,
          used_spec: dict[str, Any]) -> dict[str, Any]:
    """The result's info: what was understood, shown and heard, per shot how it was framed, and the timings."""
    return {
        "engine": "world",
        "words_used": job.words.used,
        "words_ignored": job.words.ignored,
        "parse_notes": job.words.notes,
        "objects": track.names,
        "audio_source": "simulated contacts"
        + (" + cameo voice" if any(c["voice_at"] is not None for c in cameos_info) else "")
        + (" + spoken lines" if any(x.get("start") is not None for x in soundtrack.lines) else "")
        + (f" + {soundtrack.mix['music']} score" if soundtrack.mix.get("music") else "")
        + (" + " + ", ".join(soundtrack.mix["beds"]) if soundtrack.mix.get("beds") else ""),
        "soundtrack": {"lines": soundtrack.lines, **soundtrack.mix},
        "cameos": cameos_info,
        "shots": shots_info,
        "framing": [d.to_dict() for d in footage.framing],
        "carried": footage.carried,
        "contacts": len(footage.events),
        "perturbations": footage.sim.applied,
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "render_workers": job.workers,
        "render_pool": stream.used_pool,  # False: drawn in this process (small clip, or the pool is busy/cold)
        "quality": job.quality,
        "spec": used_spec,
        "specs_per_shot": [p.spec.to_dict() for p in job.plans] if len(job.plans) > 1 else None,
        "sample_rate": sound.SAMPLE_RATE,
    }


class WorldEngine:
    """Weight-free engine; see the module doc. Registered as "world"."""

    name = "world"
    _fps = 24  # the clip's frame rate while it is made (the renderer's waves and weather follow it)

    def availability(self) -> tuple[bool, str]:
        try:
            import mujoco  # noqa: F401
        except ImportError as e:
            return False, f"MuJoCo is not installed ({e}); pip install mujoco"
        return True, ""

    def warm_up(self) -> None:
        """Start the render pool ahead of the first clip (the studio's `warm_up`)."""
        from sora_lite.engines.world.render import warm_pool

        warm_pool()

    def parse_scene(self, prompt: str, base: dict[str, Any] | None = None) -> ParseResult:
        """The scene spec `prompt` describes, on top of `base` (a remix or the next shot) when given."""
        return parse_prompt(prompt, base=SceneSpec.from_dict(base) if base else None)

    # --- planning ----------------------------------------------------------------------------
    def _base_spec(self, request: GenerationRequest) -> ParseResult:
        if request.spec is not None:
            if not isinstance(request.spec, dict):
                raise RequestError("spec must be a scene spec object (JSON)")
            return _nothing_parsed(SceneSpec.from_dict(request.spec))
        if request.prompt.strip():
            return parse_prompt(request.prompt)
        return _nothing_parsed(SceneSpec())

    def _base_subjects(self, request: GenerationRequest) -> tuple[ParseResult, list[str], list[str]]:
        """The request's own scene, the bodies its prompt names and those it lets exit; a scene spec names
        every object it lists."""
        if request.spec is None and request.prompt.strip():
            parsed, subjects = parse_with_subjects(request.prompt)
            return parsed, entry_names(parsed.spec, subjects.named), entry_names(parsed.spec, subjects.exits)
        parsed = self._base_spec(request)
        return parsed, (parsed.spec.object_names() if request.spec is not None else []), []

    def _plan(self, request: GenerationRequest) -> tuple[list[ShotPlan], ParseResult]:
        """The shots to simulate, and the words used / ignored and parse notes across all their prompts."""
        fps = request.fps
        if not request.shots:
            parsed, named, exits = self._base_subjects(request)
            n = int(round(float(request.seconds) * fps))
            return [ShotPlan(0, request.prompt, parsed.spec, parsed.spec.camera, 0, n, named, exits,
                             says_static(request.prompt) or _spec_says_static(request.spec))], parsed
        shots = request.shots
        seconds = []
        for i, shot in enumerate(shots):  # their shape is checked by request.validate (common.storyboard)
            s = shot.get("seconds", float(request.seconds) / len(shots))
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.25 <= s <= 20:
                raise RequestError(f"shot {i + 1}: seconds must be a number from 0.25 to 20, got {s!r}")
            seconds.append(float(s))
        total = sum(seconds)
        if not 1.0 <= total <= 20.0:
            raise RequestError(f"the storyboard lasts {total:g} s; it must last from 1 to 20 seconds")
        first_named: tuple[list[str], list[str]] = ([], [])
        # The studio titles a storyboard with its shot texts joined by " / ": that is not a scene to start from
        # (read whole, "close up of the cube" in shot 3 would make shot 1 a close-up)
        joined = " / ".join(str(s.get("prompt") or "").strip() for s in shots if isinstance(s, dict))
        titled = request.spec is None and request.prompt.strip() == joined
        if request.spec is not None or (request.prompt.strip() and not titled):
            words, *first_named = self._base_subjects(request)
            first_prompt_applied = False
        else:
            first = shots[0].get("prompt") or ""
            if first.strip():
                words, subjects = parse_with_subjects(first)
                first_named = (entry_names(words.spec, subjects.named), entry_names(words.spec, subjects.exits))
            else:
                words = _nothing_parsed(SceneSpec())
            first_prompt_applied = True
        current = words.spec
        plans = []
        cum = 0.0
        for i, shot in enumerate(shots):
            where = f"shot {i + 1}"
            text = shot.get("prompt") or ""
            if not isinstance(text, str):
                raise RequestError(f"{where}: prompt must be text")
            named, exits = first_named if i == 0 else ([], [])
            if text.strip() and not (i == 0 and first_prompt_applied):
                p, subjects = parse_with_subjects(text, base=current)
                current = p.spec
                named, exits = entry_names(current, subjects.named), entry_names(current, subjects.exits)
                words.used, words.ignored, words.notes = words.used + p.used, words.ignored + p.ignored, words.notes + p.notes
            if shot.get("spec") is not None:
                if not isinstance(shot["spec"], dict):
                    raise RequestError(f"{where}: spec must be an object of scene-spec changes")
                try:
                    current = SceneSpec.from_dict(merge_dict(current.to_dict(), shot["spec"]))
                except SpecError as e:
                    raise SpecError(f"{where}: {e}") from None
            camera = _camera_from(shot.get("camera"), current.camera, where, current)
            current = replace(current, camera=camera)
            start = int(round(cum * request.fps))
            cum += seconds[i]
            end = int(round(cum * request.fps))
            if end <= start:
                raise RequestError(f"{where} is shorter than one frame")
            cam_words = shot.get("camera") if isinstance(shot.get("camera"), str) else ""
            plans.append(ShotPlan(i, text, current, camera, start, end - start, named, exits,
                                  says_static(text) or says_static(cam_words) or _spec_says_static(shot.get("spec"))
                                  or (i == 0 and _spec_says_static(request.spec))))
        return plans, words

    # --- the run -----------------------------------------------------------------------------
    def generate(self, request: GenerationRequest, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None, preview: PreviewFn | None = None) -> GenerationResult:
        """`preview(index, frame)`: frames as they are rendered (a few per second), for a live view."""
        opened: list[RenderStream] = []  # closed whatever happens: shared memory, the render pool's turn
        try:
            return self._generate(request, progress, cancel, opened, preview)
        finally:
            for stream in opened:
                stream.close()

    def _generate(self, request: GenerationRequest, progress: ProgressFn | None,
                  cancel: threading.Event | None, opened: list[RenderStream],
                  preview: PreviewFn | None = None) -> GenerationResult:
        request.validate()
        self._fps = request.fps
        report = progress or (lambda stage, frac: None)

        def check(stage: str) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"generation was cancelled during {stage}")

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        report("parse", 0.0)
        job = self._job(request)
        report("parse", 1.0)
        timings["parse"] = time.perf_counter() - t0

        # --- simulate each shot, plan its camera from the motion (framing.py), and hand its frames to the renderer,
        # which draws them while the next shot simulates and the sound is made ---
        t0 = time.perf_counter()
        # preview from the first drawn chunk on, while the simulation still runs (not only from frames())
        stream = RenderStream(job.total_frames, job.width, job.height, job.workers, job.min_pixels, preview=preview)
        opened.append(stream)
        sim, twin, picture = self._simulations(request, job)
        speech = _plan_speech(job.plans, request.seed, job.fps, job.total_frames)
        footage = self._film(job, sim, twin, picture, speech, stream, check, report, cancel, timings)
        timings["simulate"] = time.perf_counter() - t0

        # --- audio ---
        t0 = time.perf_counter()
        check("audio")
        report("audio", 0.0)
        track, soundtrack, shift_ms, cameos_info = self._sound(request, job, footage, speech)
        report("audio", 1.0)
        timings["audio"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        check("rendering")
        frames = self._frames(job, stream, cancel, report, preview, timings)
        report("render", 1.0)
        timings["render"] = stream.seconds  # first hand-over to last frame, overlapping simulate and audio
        timings["render_wait"] = time.perf_counter() - t0

        shots_info = [{"index": p.index, "start_frame": p.start_frame, "end_frame": p.start_frame + p.n_frames,
                       "prompt": p.prompt, "camera": p.camera.move, "named": p.named, "exits": p.exits,
                       "subjects": d.subjects, "framing": d.to_dict()} for p, d in zip(job.plans, footage.framing)]
        t0 = time.perf_counter()
        truth = ground_truth(track, footage.poses, job.fps, job.base_spec.pacing.speed, job.width, job.height,
                             footage.events, shots_info, sim.applied, shift_ms)
        truth["sound_events"] = soundtrack.sidecar()  # speech (with its words), footsteps, music accents, beds
        truth["mouths"] = self._mouth_truth(speech.mouth_open, speech.mouth_at, footage.poses, job.width, job.height,
                                            speech.facing)
        timings["truth"] = time.perf_counter() - t0
        used_spec = job.plans[0].spec.to_dict()
        info = _info(job, footage, track, soundtrack, cameos_info, shots_info, timings, stream, used_spec)
        clip = Clip(frames=frames, fps=Fraction(job.fps), audio=soundtrack.audio, sample_rate=sound.SAMPLE_RATE,
                    metadata={"engine": "world", "seed": request.seed})
        return GenerationResult(clip=clip, spec=used_spec, info=info, ground_truth=truth)

    def _job(self, request: GenerationRequest) -> _Job:
        """Plan the shots and read the request's options, each bad one with its own error, before anything runs."""
        plans, words = self._plan(request)
        opts = request.options or {}
        looks = granted_looks(opts.get("cameos"))  # only what the studio checked: never a face it did not grant
        extra = opts.get("perturbations") or []
        if not isinstance(extra, list):
            raise RequestError("options.perturbations must be a list of perturbation objects")
        base_spec = plans[0].spec
        if extra:
            spec_d = base_spec.to_dict()
            spec_d["perturbations"] = spec_d["perturbations"] + list(extra)
            base_spec = SceneSpec.from_dict(spec_d)
            plans[0].spec = base_spec
        width, height = request.width, request.height
        backdrop = None
        if request.image:
            backdrop = read_still(request.image, width, height)
            for p in plans:  # the picture is the place: no table, walls or floor of the engine's own in front of it
                p.spec = replace(p.spec, environment=replace(p.spec.environment, backdrop="image", table=False,
                                                             walls=False))
        elif any(p.spec.environment.backdrop == "image" for p in plans):
            raise RequestError("backdrop 'image' needs an image: pass one with the request")
        quality = opts.get("quality", "fast")
        if quality not in ("fast", "high"):
            raise RequestError("options.quality must be 'fast' or 'high'")
        workers = opts.get("workers", 2 if (os.cpu_count() or 1) >= 2 else 1)
        min_pixels = opts.get("parallel_min_pixels", PARALLEL_MIN_PIXELS)
        if not isinstance(workers, int) or not 1 <= workers <= 2:
            raise RequestError("options.workers must be 1 or 2 (render processes)")
        return _Job(plans, words, looks, base_spec, width, height, request.fps, request.seed, backdrop, quality,
                    workers, min_pixels, opts.get("horizon"))

    def _simulations(self, request: GenerationRequest,
                     job: _Job) -> tuple[Simulation, Simulation | None, _Picture | None]:
        """The simulation of the first shot's scene, its lawful twin for a control clip, and the still's ground."""
        perturbations: list[Perturbation] = list(job.base_spec.perturbations)
        speed = job.base_spec.pacing.speed
        # The still is only drawn, never simulated: the simulation runs on the scene alone, and the picture is
        # fitted to the first shot's camera once that is planned (image-to-video, `_Picture`).
        scene0 = self._scene(job.plans[0], request.seed, job.width, job.height, job.quality, job.looks)
        sim = Simulation(scene0, perturbations, speed, job.fps, None)
        # A control clip (perturbations: gravity flip, teleport, vanish ...) is filmed as its lawful twin would be:
        # the camera is planned from the same scene simulated without perturbations, so the two clips differ in
        # their physics only, never in their framing (a flipped ball flies out of the top of the frame instead
        # of the camera pulling back to follow it).
        twin = Simulation(scene0, [], speed, job.fps, None) if perturbations else None
        picture = None
        if job.backdrop is not None:
            picture = _Picture(job.backdrop, still_ground(job.backdrop, job.horizon), job.width, job.height)
        return sim, twin, picture

    def _film(self, job: _Job, sim: Simulation, twin: Simulation | None, picture: _Picture | None,
              speech: _Speech, stream: RenderStream, check: Callable[[str], None], report: ProgressFn,
              cancel: threading.Event | None, timings: dict[str, float]) -> _Footage:
        """Simulate every shot on one continuing simulation (rebuilt when a shot changes the world), plan each
        shot's camera from its motion, and hand its frames to the renderer."""
        plans, total_frames = job.plans, job.total_frames
        out = _Footage(sim)
        key = _world_key(plans[0].spec)
        done = 0
        timings["camera"] = 0.0
        previous: list[str] = []
        for plan in plans:
            check("simulation")
            if plan.index > 0 and _world_key(plan.spec) != key:
                key = _world_key(plan.spec)
                scene = self._scene(plan, job.seed, job.width, job.height, job.quality, job.looks)
                relaunch = _relaunched(plans[plan.index - 1].spec, plan.spec)
                carried = sim.rebuild(scene, relaunch)
                if twin is not None:
                    twin.rebuild(scene, relaunch)
                out.carried.append({"shot": plan.index, "carried": carried})
            seg = sim.run(plan.n_frames, plan.start_frame, cancel,
                          lambda f, d=done, n=plan.n_frames: report("simulate", (d + f * n) / total_frames))
            filmed = twin.run(plan.n_frames, plan.start_frame, cancel, lambda f: None) if twin is not None else seg
            done += plan.n_frames
            out.segments.append(seg)
            # The whole shot's motion is known now: plan its camera from it, and hand its frames to the
            # renderer (which draws them while the next shot simulates and the sound is made).
            tc = time.perf_counter()
            shot_poses, decision = self._frame_shot(plan, seg, filmed, picture, previous, job)
            timings["camera"] += time.perf_counter() - tc
            previous = decision.subjects or previous
            out.poses += shot_poses
            out.framing.append(decision)
            speech.pose(sim.model, seg, shot_poses)
            backdrop_px = picture.backdrop_px if picture is not None else None
            stream.submit(RenderJob(seg.scene, backdrop_px, seg.qpos, shot_poses, seg.hidden), seg.start_frame)
            report("simulate", done / total_frames)
        return out

    def _frame_shot(self, plan: ShotPlan, seg: Segment, filmed: Segment, picture: _Picture | None,
                    previous: list[str], job: _Job) -> tuple[list[CameraPose], FramingDecision]:
        """The shot's camera path, planned from the motion `filmed` (framing.py); a picture is fitted to the first
        shot's camera, and a shot that films beyond the usual floor gets a bigger one."""
        camera, hold_still = plan.camera, plan.still
        first_still = picture is not None and plan.index == 0
        if first_still:  # the picture's own view: its horizon sets the angle
            camera, hold_still = replace(camera, elevation=picture.ground.elevation(fovy_from_lens(camera.lens_mm)),
                                         azimuth=90.0, move="static"), True
        shot_poses, decision = plan_shot(plan.index, plan.spec, camera, filmed.scene.bodies, filmed.pos,
                                         filmed.hidden, job.width / job.height, job.fps, plan.named, plan.exits,
                                         previous, hold_still, room=STILL_ROOM if first_still else 1.0,
                                         quat=filmed.quat, speakers=plan.speakers)
        if picture is not None:
            if plan.index == 0:
                shot_poses = picture.fit(seg, shot_poses, decision)
            seg.scene = picture.dress(seg.scene)
        half = floor_reach(seg.pos, shot_poses)
        if half > seg.scene.floor_half:  # the shot films beyond the usual floor: draw a bigger one
            seg.scene = replace(seg.scene, floor_half=half)
        return shot_poses, decision

    def _sound(self, request: GenerationRequest, job: _Job, footage: _Footage,
               speech: _Speech) -> tuple[Any, Soundtrack, float, list[dict[str, Any]]]:
        """The tracked objects, the soundtrack (contacts, footsteps, cameo voices, spoken lines, beds), the
        audio shift of an AV-sync control (ms) and what each cameo showed."""
        plans, width, fps, events = job.plans, job.width, job.fps, footage.events
        track = build_track(footage.segments, footage.poses, width, job.height)
        effects, default_bed, shift_ms, step_events = self._audio(request, plans, events, track, footage.poses,
                                                                  footage.sim, width, job.height, fps,
                                                                  job.total_frames)
        voices, cameos_info = self._cameo_voices(effects.shape[1], footage.segments, job.looks, track, width, fps)
        soundtrack = self._soundtrack(request, plans, events, track, effects, default_bed, voices, width, fps,
                                      job.total_frames, speech.spoken, shift_ms)
        soundtrack.events.extend(step_events)  # footsteps join the sidecar's sound events
        return track, soundtrack, shift_ms, cameos_info

    @staticmethod
    def _frames(job: _Job, stream: RenderStream, cancel: threading.Event | None, report: ProgressFn,
                preview: PreviewFn | None, timings: dict[str, float]) -> np.ndarray:
        """The drawn frames: the still first for image-to-video, then the spec's looks (post-render filters)."""
        frames = stream.frames(cancel, lambda f: report("render", f), preview)
        if job.backdrop is not None:
            # The first frame is the still itself (the objects enter after it): the rendered picture plane
            # resamples the still, a few dB from it on fine texture.
            frames[0] = job.backdrop
        base_spec = job.base_spec
        if base_spec.style or base_spec.effects:  # looks (looks.py): post-render filters, before any watermark
            from sora_lite.engines.world.looks import apply_looks

            t_look = time.perf_counter()
            frames = apply_looks(frames, base_spec.style, base_spec.effects)
            timings["looks"] = time.perf_counter() - t_look
        return frames

    def _scene(self, plan: ShotPlan, seed: int, width: int, height: int, quality: str,
               looks: dict[str, CameoLook] | None = None) -> Scene:
        """The shot's scene as simulated (an image-to-video still is added for drawing only, once planned)."""
        spec = plan.spec
        bodies = layout_bodies(spec, seed)
        scene = Scene(spec, bodies, seed, width, height, quality=quality, fps=float(self._fps))
        scene.faces = {b.index: looks[b.cameo].face for b in bodies if looks and b.cameo in looks}
        return scene

    def _audio(self, request: GenerationRequest, plans: list[ShotPlan], events: list, track, poses: list[CameraPose],
               sim: Simulation, width: int, height: int, fps: int, total_frames: int) -> tuple[np.ndarray, np.ndarray | None, float, list]:
        n_samples = int(round(total_frames / fps * sound.SAMPLE_RATE))
        sizes, actions = {}, {}
        for p in plans:
            for b in layout_bodies(p.spec, request.seed):
                sizes[b.name] = b.size
                actions[b.name] = b.action
        # pan of each contact from where it is on screen: one projection per frame that has contacts
        event_frames = np.clip([e.frame for e in events], 0, total_frames - 1).astype(int)
        xs = np.zeros(len(events))
        for f in np.unique(event_frames):
            at = np.flatnonzero(event_frames == f)
            px, _, _ = project(poses[f], np.array([events[i].position for i in at]), np.zeros(at.size), width, height)
            xs[at] = px[:, 0]
        pans = np.where(np.isfinite(xs), np.clip(2 * xs / width - 1, -1, 1), 0.0)
        impacts, steps = [], []
        floor_at = np.zeros(total_frames, dtype=int)  # which plan's floor each frame stands on
        for i, p in enumerate(plans):
            floor_at[p.start_frame:] = i
        for e, pan in zip(events, pans.tolist()):
            if getattr(e, "kind", "impact") != "impact":  # a figure's footfall or clap: by floor and gait
                floor = plans[int(floor_at[min(max(e.frame, 0), total_frames - 1)])].spec.environment.floor
                steps.append(footsteps.Footfall(float(e.time), e.objects[0], footsteps.material_of(floor),
                                                footsteps.gait_of(actions.get(e.objects[0]), e.kind), pan))
                continue
            body_sizes = [sizes.get(n) for n in e.objects if n in sizes]
            size = float(np.mean(body_sizes)) if body_sizes else 0.15
            impacts.append(sound.Impact(e.time, e.timbres, e.impulse, size, pan))
        seed = request.seed
        contact_track = sound.mix_impacts(impacts, n_samples, seed)
        step_track, step_events = footsteps.mix_footsteps(steps, n_samples, seed)
        contact_track += step_track
        frame_times = np.arange(total_frames) / fps
        pans = np.nan_to_num(np.clip(2 * track.pixel[..., 0] / width - 1, -1, 1))
        contact_track += sound.friction_noise(frame_times, track.slip, track.roll, pans, n_samples, seed)
        shift_ms = 0.0
        for p in plans[0].spec.perturbations:
            if p.kind == "audio_shift":
                shift_ms += p.amount if p.amount else 120.0
        if shift_ms:  # the contact sounds here; spoken lines are moved by as much where they are placed
            contact_track = sound.shift(contact_track, shift_ms)
            sim.applied.append({"kind": "audio_shift", "at": 0.0, "frame": 0, "target": None, "object": None, "amount": shift_ms})
        spec = plans[0].spec
        bed = None
        if spec.ambience:
            env = spec.environment
            kind = "room" if (env.backdrop == "room" or env.walls) else "outdoor"
            bed = sound.ambience(kind, n_samples, seed)
        return contact_track, bed, shift_ms, step_events

    def _soundtrack(self, request: GenerationRequest, plans: list[ShotPlan], events: list, track,
                    effects: np.ndarray, default_bed: np.ndarray | None, voices: np.ndarray | None, width: int,
                    fps: int, total_frames: int, spoken: list[PlannedLine] | None = None,
                    shift_ms: float = 0.0) -> Soundtrack:
        """The film's sound around what was simulated: spoken lines by the character they belong to (panned to
        where it stands, starting once it is on screen), a score when asked, place and weather beds, one mix."""

        planned = {(p.shot, p.line.words): p for p in spoken or []}

        def place(line: Line, shot: int, earliest: float) -> tuple[float, float, str | None]:
            p = planned.get((shot, line.words))
            if p is not None:  # planned before drawing (mouths.py): the mouth moves from this very start
                at = min(round(p.start * fps), total_frames - 1)
                x = track.pixel[at, track.names.index(p.source), 0] if p.source in track.names else np.nan
                pan = float(np.clip(2 * x / width - 1, -1, 1)) if np.isfinite(x) else 0.0
                # audio_shift moves the voice against the mouth (an AV-sync control); the sidecar keeps the
                # picture's time (below), as it does for contacts
                return max(0.0, p.start + shift_ms / 1000.0), pan, p.source
            name = speaker_of(line.speaker, track.names)
            if name is None:
                return earliest, 0.0, None
            col = track.names.index(name)
            first = int(math.ceil(earliest * fps))
            seen = np.flatnonzero(track.visible[first:, col])
            at = first + int(seen[0]) if seen.size else min(first, total_frames - 1)
            x = track.pixel[at, col, 0]
            pan = float(np.clip(2 * x / width - 1, -1, 1)) if np.isfinite(x) else 0.0
            return max(earliest, at / fps), pan, name

        out = compose_soundtrack(
            [p.prompt for p in plans], [p.start_frame / fps for p in plans], total_frames / fps, effects,
            impacts=[(float(e.time), float(e.impulse)) for e in events], default_ambience=default_bed,
            place_line=place, seed=request.seed, voices=voices,
        )
        if shift_ms and planned:
            out.events = [unshifted_speech(e, planned) for e in out.events]
        return out

    @staticmethod
    def _mouth_truth(openness: dict[str, np.ndarray], where: dict[str, np.ndarray], poses: list[CameraPose],
                     width: int, height: int, facing: dict[str, str | None] | None = None) -> dict[str, Any]:
        """Per speaker: its mouth's openness (0–1), the pixel of its mouth in every frame (None off screen) and
        whom its head turns to while it speaks (another person's name, or "camera")."""
        out = {}
        for name, o in openness.items():
            pixels: list[list[float] | None] = []
            for f, pt in enumerate(where[name]):
                if not np.isfinite(pt).all():
                    pixels.append(None)
                    continue
                px, _, depth = project(poses[f], pt[None], np.zeros(1), width, height)
                x, y = float(px[0, 0]), float(px[0, 1])
                pixels.append([round(x, 2), round(y, 2)] if depth[0] > 0 and 0 <= x < width and 0 <= y < height else None)
            out[name] = {"openness": [round(float(v), 4) for v in o], "pixel": pixels,
                         "faces": (facing or {}).get(name) or "camera"}
        return out

    def _cameo_voices(self, n_samples: int, segments: list[Segment], looks: dict[str, CameoLook], track,
                      width: int, fps: int) -> tuple[np.ndarray | None, list[dict[str, Any]]]:
        """Each shown cameo's voice sample at its character's first appearance, panned to it, as one track for
        the dialogue stem (None without voices); say per cameo what was shown (face, voice and when), and why not."""
        characters = {b.cameo: b.name for seg in segments for b in seg.scene.bodies if b.cameo}
        info, voices = [], []
        for handle, name in characters.items():
            look = looks.get(handle)
            entry: dict[str, Any] = {"handle": handle, "object": name, "face": look is not None, "voice_at": None}
            if look is None:
                entry["note"] = f"no granted cameo @{handle} came with the request: a plain figure stands in"
            info.append(entry)
            if look is None or look.voice is None:
                continue
            col = track.names.index(name)
            seen = np.nonzero(track.visible[:, col])[0]
            if seen.size == 0:
                entry["note"] = "never on screen: no voice line"
                continue
            start = seen[0] / fps + VOICE_DELAY_S
            x = track.pixel[seen[0], col, 0]
            pan = float(np.clip(2 * x / width - 1, -1, 1)) if np.isfinite(x) else 0.0
            try:
                got = read_audio(look.voice)
            except MediaError as e:
                raise RequestError(f"the voice sample of cameo @{handle} could not be read ({e}); "
                                   "register it again") from None
            if got is None:
                raise RequestError(f"the voice sample of cameo @{handle} has no sound; register it again")
            voices.append(sound.voice_line(got[0], got[1], start, pan, n_samples))
            entry["voice_at"] = round(float(start), 4)
            entry["voice_pan"] = round(pan, 3)
        for handle in looks.keys() - characters.keys():
            info.append({"handle": handle, "object": None, "face": False, "voice_at": None,
                         "note": "named, but the scene has no character for it (a scene spec without its cameo)"})
        return (np.sum(voices, axis=0) if voices else None), info
