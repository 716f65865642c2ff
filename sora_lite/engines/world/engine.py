"""The embedded world engine: prompt or spec → MuJoCo simulation → headless render + contact sound.

One `generate` call runs: plan the shots (each shot's spec and camera) → simulate every shot on one
continuing simulation (rebuilding the model only when a shot adds objects or changes the world, carrying
the state of persisting bodies) → camera poses per frame → render → audio from the contact events →
ground truth. Nothing here needs model weights.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import numpy as np

from sora_lite.engines.base import Cancelled, GenerationRequest, GenerationResult, ProgressFn, RequestError
from sora_lite.engines.world import audio as sound
from sora_lite.engines.world.camera import CameraPose, base_pose, camera_path, find_target, project
from sora_lite.engines.world.parse import ParseResult, parse_prompt
from sora_lite.engines.world.render import PARALLEL_MIN_PIXELS, RenderJob, RenderStream
from sora_lite.engines.world.scene import CameoLook, Scene, granted_looks, layout_bodies
from sora_lite.engines.world.simulate import Segment, Simulation
from sora_lite.engines.world.spec import CAMERA_MOVES, CameraSpec, Perturbation, SceneSpec, SpecError
from sora_lite.engines.world.truth import build_track, ground_truth
from sora_lite.media import Clip, MediaError, read_audio

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


def _camera_from(value: Any, current: CameraSpec, where: str) -> CameraSpec:
    if value is None:
        return current
    if isinstance(value, str):
        if value not in CAMERA_MOVES:
            raise RequestError(f"{where}: camera is {value!r}; choose one of: {', '.join(CAMERA_MOVES)}")
        return replace(current, move=value)
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


def read_still(path: str, width: int, height: int) -> np.ndarray:
    """The request's image as uint8 H×W×3, resized to the clip's size."""
    try:
        from sora_lite.media import read_image  # type: ignore[attr-defined]
    except ImportError:
        read_image = None
    try:
        if read_image is not None:
            img = np.asarray(read_image(path))
        else:
            from PIL import Image

            with Image.open(path) as im:
                img = np.asarray(im.convert("RGB"))
    except Exception as e:  # noqa: BLE001 - any unreadable image is the user's file problem
        raise RequestError(f"could not read the image {os.path.basename(str(path))!r}: {e}") from None
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.shape[:2] != (height, width):
        from PIL import Image

        img = np.asarray(Image.fromarray(img.astype(np.uint8)).resize((width, height), Image.Resampling.LANCZOS))
    return np.ascontiguousarray(img, dtype=np.uint8)


class WorldEngine:
    """Weight-free engine; see the module doc. Registered as "world"."""

    name = "world"

    def availability(self) -> tuple[bool, str]:
        try:
            import mujoco  # noqa: F401
        except ImportError as e:
            return False, f"MuJoCo is not installed ({e}); pip install mujoco"
        return True, ""

    # --- planning ----------------------------------------------------------------------------
    def _base_spec(self, request: GenerationRequest) -> ParseResult:
        if request.spec is not None:
            if not isinstance(request.spec, dict):
                raise RequestError("spec must be a scene spec object (JSON)")
            return _nothing_parsed(SceneSpec.from_dict(request.spec))
        if request.prompt.strip():
            return parse_prompt(request.prompt)
        return _nothing_parsed(SceneSpec())

    def _plan(self, request: GenerationRequest) -> tuple[list[ShotPlan], ParseResult]:
        """The shots to simulate, and the words used / ignored and parse notes across all their prompts."""
        fps = request.fps
        if not request.shots:
            parsed = self._base_spec(request)
            n = int(round(float(request.seconds) * fps))
            return [ShotPlan(0, request.prompt, parsed.spec, parsed.spec.camera, 0, n)], parsed
        shots = request.shots
        seconds = []
        for i, shot in enumerate(shots):
            unknown = set(shot) - {"prompt", "camera", "seconds", "spec"}
            if unknown:
                raise RequestError(f"shot {i + 1} has unknown keys {sorted(unknown)}; allowed: prompt, camera, seconds, spec")
            s = shot.get("seconds", float(request.seconds) / len(shots))
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0.25 <= s <= 20:
                raise RequestError(f"shot {i + 1}: seconds must be a number from 0.25 to 20, got {s!r}")
            seconds.append(float(s))
        total = sum(seconds)
        if not 1.0 <= total <= 20.0:
            raise RequestError(f"the storyboard lasts {total:g} s; it must last from 1 to 20 seconds")
        if request.spec is not None or request.prompt.strip():
            words = self._base_spec(request)
            first_prompt_applied = False
        else:
            first = shots[0].get("prompt") or ""
            words = parse_prompt(first) if first.strip() else _nothing_parsed(SceneSpec())
            first_prompt_applied = True
        current = words.spec
        plans = []
        cum = 0.0
        for i, shot in enumerate(shots):
            where = f"shot {i + 1}"
            text = shot.get("prompt") or ""
            if not isinstance(text, str):
                raise RequestError(f"{where}: prompt must be text")
            if text.strip() and not (i == 0 and first_prompt_applied):
                p = parse_prompt(text, base=current)
                current = p.spec
                words.used, words.ignored, words.notes = words.used + p.used, words.ignored + p.ignored, words.notes + p.notes
            if shot.get("spec") is not None:
                if not isinstance(shot["spec"], dict):
                    raise RequestError(f"{where}: spec must be an object of scene-spec changes")
                try:
                    current = SceneSpec.from_dict(merge_dict(current.to_dict(), shot["spec"]))
                except SpecError as e:
                    raise SpecError(f"{where}: {e}") from None
            camera = _camera_from(shot.get("camera"), current.camera, where)
            current = replace(current, camera=camera)
            start = int(round(cum * request.fps))
            cum += seconds[i]
            end = int(round(cum * request.fps))
            if end <= start:
                raise RequestError(f"{where} is shorter than one frame")
            plans.append(ShotPlan(i, text, current, camera, start, end - start))
        return plans, words

    # --- the run -----------------------------------------------------------------------------
    def generate(self, request: GenerationRequest, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None) -> GenerationResult:
        opened: list[RenderStream] = []  # closed whatever happens: shared memory, the render pool's turn
        try:
            return self._generate(request, progress, cancel, opened)
        finally:
            for stream in opened:
                stream.close()

    def _generate(self, request: GenerationRequest, progress: ProgressFn | None,
                  cancel: threading.Event | None, opened: list[RenderStream]) -> GenerationResult:
        request.validate()
        report = progress or (lambda stage, frac: None)

        def check(stage: str) -> None:
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"generation was cancelled during {stage}")

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        report("parse", 0.0)
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
        perturbations: list[Perturbation] = list(base_spec.perturbations)
        width, height, fps = request.width, request.height, request.fps
        speed = base_spec.pacing.speed
        backdrop = None
        if request.image:
            backdrop = read_still(request.image, width, height)
            for p in plans:
                p.spec = replace(p.spec, environment=replace(p.spec.environment, backdrop="image"))
        elif any(p.spec.environment.backdrop == "image" for p in plans):
            raise RequestError("backdrop 'image' needs an image: pass one with the request")
        quality = opts.get("quality", "fast")
        if quality not in ("fast", "high"):
            raise RequestError("options.quality must be 'fast' or 'high'")
        workers = opts.get("workers", 2 if (os.cpu_count() or 1) >= 2 else 1)
        min_pixels = opts.get("parallel_min_pixels", PARALLEL_MIN_PIXELS)
        if not isinstance(workers, int) or not 1 <= workers <= 2:
            raise RequestError("options.workers must be 1 or 2 (render processes)")
        report("parse", 1.0)
        timings["parse"] = time.perf_counter() - t0

        # --- simulate; the renderer starts on each chunk of frames as soon as it is recorded ---
        t0 = time.perf_counter()
        aspect = width / height
        total_frames = sum(p.n_frames for p in plans)
        stream = RenderStream(total_frames, width, height, workers, min_pixels)
        opened.append(stream)
        scene0, backdrop_px = self._scene(plans[0], request.seed, width, height, quality, backdrop, aspect, looks=looks)
        sim = Simulation(scene0, perturbations, speed, fps, backdrop_px)
        segments: list[Segment] = []
        seg_shots: list[list[ShotPlan]] = []
        key = _world_key(plans[0].spec)
        carried_log = []
        done = 0
        for plan in plans:
            check("simulation")
            if plan.index > 0 and _world_key(plan.spec) != key:
                key = _world_key(plan.spec)
                scene, _ = self._scene(plan, request.seed, width, height, quality, backdrop, aspect,
                                       backdrop_size=scene0.backdrop_size, looks=looks)
                carried = sim.rebuild(scene)
                carried_log.append({"shot": plan.index, "carried": carried})
            ship = None
            if plan.camera.move != "follow":  # the path is known before the motion: render while simulating
                path = camera_path(plan.camera, base_pose(plan.spec, plan.camera, sim.scene.bodies, aspect), plan.n_frames)
                ship = lambda lo, hi, part, path=path: stream.submit(  # noqa: E731
                    RenderJob(part.scene, backdrop_px, part.qpos[lo:hi], path[lo:hi], part.hidden[lo:hi]), part.start_frame + lo)
            seg = sim.run(plan.n_frames, plan.start_frame, cancel,
                          lambda f, d=done, n=plan.n_frames: report("simulate", (d + f * n) / total_frames), ship)
            done += plan.n_frames
            segments.append(seg)
            seg_shots.append([plan])
            report("simulate", done / total_frames)
        events = [e for s in segments for e in s.events]
        timings["simulate"] = time.perf_counter() - t0

        # --- cameras ---
        poses: list[CameraPose] = []
        for seg, [plan] in zip(segments, seg_shots):
            bodies = seg.scene.bodies
            base = base_pose(plan.spec, plan.camera, bodies, aspect)
            follow = None
            if plan.camera.move == "follow":
                k = find_target(plan.camera.target, bodies)
                follow = seg.pos[:, 0 if k is None else k, :]
            poses += camera_path(plan.camera, base, plan.n_frames, follow)

        # --- render: follow shots now that their path is known; the sound is made while frames render ---
        for seg, [plan] in zip(segments, seg_shots):
            if plan.camera.move == "follow":
                stream.submit(RenderJob(seg.scene, backdrop_px, seg.qpos,
                                        poses[seg.start_frame:seg.start_frame + seg.n_frames], seg.hidden), seg.start_frame)

        # --- audio ---
        t0 = time.perf_counter()
        check("audio")
        report("audio", 0.0)
        track = build_track(segments, poses, width, height)
        audio, shift_ms = self._audio(request, plans, events, track, poses, sim, width, height, fps, total_frames)
        audio, cameos_info = self._cameo_voices(audio, segments, looks, track, width, fps)
        report("audio", 1.0)
        timings["audio"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        check("rendering")
        frames = stream.frames(cancel, lambda f: report("render", f))
        report("render", 1.0)
        timings["render"] = stream.seconds  # first hand-over to last frame, overlapping simulate and audio
        timings["render_wait"] = time.perf_counter() - t0

        shots_info = [{"index": p.index, "start_frame": p.start_frame, "end_frame": p.start_frame + p.n_frames,
                       "prompt": p.prompt, "camera": p.camera.move} for p in plans]
        t0 = time.perf_counter()
        truth = ground_truth(track, poses, fps, speed, width, height, events, shots_info, sim.applied, shift_ms)
        timings["truth"] = time.perf_counter() - t0
        used_spec = plans[0].spec.to_dict()
        info = {
            "engine": "world",
            "words_used": words.used,
            "words_ignored": words.ignored,
            "parse_notes": words.notes,
            "objects": track.names,
            "audio_source": "simulated contacts" + (" + cameo voice" if any(c["voice_at"] is not None for c in cameos_info)
                                                    else ""),
            "cameos": cameos_info,
            "shots": shots_info,
            "carried": carried_log,
            "contacts": len(events),
            "perturbations": sim.applied,
            "timings": {k: round(v, 4) for k, v in timings.items()},
            "render_workers": workers,
            "render_pool": stream.used_pool,  # False: drawn in this process (small clip, or the pool is busy/cold)
            "quality": quality,
            "spec": used_spec,
            "specs_per_shot": [p.spec.to_dict() for p in plans] if len(plans) > 1 else None,
            "sample_rate": sound.SAMPLE_RATE,
        }
        clip = Clip(frames=frames, fps=Fraction(fps), audio=audio, sample_rate=sound.SAMPLE_RATE,
                    metadata={"engine": "world", "seed": request.seed})
        return GenerationResult(clip=clip, spec=used_spec, info=info, ground_truth=truth)

    def _scene(self, plan: ShotPlan, seed: int, width: int, height: int, quality: str,
               backdrop: np.ndarray | None, aspect: float,
               backdrop_size: tuple | None = None,
               looks: dict[str, CameoLook] | None = None) -> tuple[Scene, np.ndarray | None]:
        spec = plan.spec
        bodies = layout_bodies(spec, seed)
        scene = Scene(spec, bodies, seed, width, height, quality=quality)
        scene.faces = {b.index: looks[b.cameo].face for b in bodies if looks and b.cameo in looks}
        if backdrop is None:
            return scene, None
        pad_w, pad_h = int(round(width * BACKDROP_PAD)), int(round(height * BACKDROP_PAD))
        pixels = np.pad(backdrop, ((pad_h, pad_h), (pad_w, pad_w), (0, 0)), mode="reflect")
        pixels = np.ascontiguousarray(pixels)
        scene.backdrop_px = (pixels.shape[1], pixels.shape[0])
        if backdrop_size is None:
            pose = base_pose(spec, plan.camera, bodies, aspect)
            right, up, fwd = pose.basis()
            plane_dist = pose.distance + max(2.0, 0.8 * pose.distance)
            half_h = plane_dist * math.tan(math.radians(pose.fovy) / 2)
            half_w = half_h * aspect
            centre = pose.position() + plane_dist * fwd
            backdrop_size = (half_w * pixels.shape[1] / width, half_h * pixels.shape[0] / height,
                             [float(v) for v in centre], [float(v) for v in (*right, *up)])
        scene.backdrop_size = backdrop_size
        return scene, pixels

    def _audio(self, request: GenerationRequest, plans: list[ShotPlan], events: list, track, poses: list[CameraPose],
               sim: Simulation, width: int, height: int, fps: int, total_frames: int) -> tuple[np.ndarray, float]:
        n_samples = int(round(total_frames / fps * sound.SAMPLE_RATE))
        sizes = {}
        for p in plans:
            for b in layout_bodies(p.spec, request.seed):
                sizes[b.name] = b.size
        # pan of each contact from where it is on screen: one projection per frame that has contacts
        event_frames = np.clip([e.frame for e in events], 0, total_frames - 1).astype(int)
        xs = np.zeros(len(events))
        for f in np.unique(event_frames):
            at = np.flatnonzero(event_frames == f)
            px, _, _ = project(poses[f], np.array([events[i].position for i in at]), np.zeros(at.size), width, height)
            xs[at] = px[:, 0]
        pans = np.where(np.isfinite(xs), np.clip(2 * xs / width - 1, -1, 1), 0.0)
        impacts = []
        for e, pan in zip(events, pans.tolist()):
            body_sizes = [sizes.get(n) for n in e.objects if n in sizes]
            size = float(np.mean(body_sizes)) if body_sizes else 0.15
            impacts.append(sound.Impact(e.time, e.timbres, e.impulse, size, pan))
        seed = request.seed
        contact_track = sound.mix_impacts(impacts, n_samples, seed)
        frame_times = np.arange(total_frames) / fps
        pans = np.nan_to_num(np.clip(2 * track.pixel[..., 0] / width - 1, -1, 1))
        contact_track += sound.friction_noise(frame_times, track.slip, track.roll, pans, n_samples, seed)
        shift_ms = 0.0
        for p in plans[0].spec.perturbations:
            if p.kind == "audio_shift":
                shift_ms += p.amount if p.amount else 120.0
        if shift_ms:
            contact_track = sound.shift(contact_track, shift_ms)
            sim.applied.append({"kind": "audio_shift", "at": 0.0, "frame": 0, "target": None, "object": None, "amount": shift_ms})
        tracks = [contact_track]
        spec = plans[0].spec
        if spec.ambience:
            env = spec.environment
            kind = "room" if (env.backdrop == "room" or env.walls) else "outdoor"
            tracks.append(sound.ambience(kind, n_samples, seed))
        return sound.master(tracks), shift_ms

    def _cameo_voices(self, audio: np.ndarray, segments: list[Segment], looks: dict[str, CameoLook], track,
                      width: int, fps: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Mix each shown cameo's voice sample in at its character's first appearance, panned to it; say
        per cameo what was shown (face, voice and when), and why not."""
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
            voices.append(sound.voice_line(got[0], got[1], start, pan, audio.shape[1]))
            entry["voice_at"] = round(float(start), 4)
            entry["voice_pan"] = round(pan, 3)
        for handle in looks.keys() - characters.keys():
            info.append({"handle": handle, "object": None, "face": False, "voice_at": None,
                         "note": "named, but the scene has no character for it (a scene spec without its cameo)"})
        return (sound.master([audio, *voices]) if voices else audio), info
