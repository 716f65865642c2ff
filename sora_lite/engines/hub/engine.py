"""`HubEngine`: a diffusers video pipeline behind the Engine protocol.

One engine serves one checkpoint (`ModelRef`). A request becomes one or more pipeline calls:

- text → video (t2v); a still → video (i2v, `request.image`);
- remix (`request.parent_video`): video → video when the weights have it, else image → video from the
  parent's first frame; the record says which (`info["conditioning"]`);
- storyboard (`request.shots`): shot 1 from the prompt (or the still), every later shot conditioned on the
  previous shot's last frame; `info["shots"]` lists boundaries and how each shot was conditioned;
- cameo (`options["reference_images"]`): reference-conditioned generation on checkpoints that have it (VACE).
  With no references a VACE checkpoint makes plain text-to-video in `WanVACEPipeline` itself (no control
  video, no reference images): its transformer cannot run inside `WanPipeline`.
- granted cameos (`options["cameos"]`, filled by the studio after the grant check): VACE checkpoints get each
  face, composed onto a neutral backdrop, as a reference image (for every shot); image-to-video checkpoints
  get a first frame composed from the faces when the request has no image of its own. What was done is in
  `info["cameo_conditioning"]`; a checkpoint that can take neither is refused with a hint.

Requests are snapped to what the family supports (frame rule, pixel multiple, native fps, and for checkpoints
that only run at their trained size / frame count, those) and every change is recorded in `info["snapped"]`.
Each checkpoint runs with its recommended settings (`families.Settings`: steps, guidance, negative prompt,
version-specific pipeline arguments, scheduler shift); `info["settings"]` says which ran and where they come
from, and which the user's options replaced. Progress is reported per denoising step as ("denoise", fraction); a set
`cancel` event stops between steps (`Cancelled` is raised from the step callback, so nothing is decoded).

Engine options (request.options): steps, guidance, negative_prompt, remix_strength (0..1, how much of the
parent changes, default 0.6), size ([w, h], overrides the request size, e.g. for small previews), num_frames,
reference_images (list of paths), foley (default true for silent families), pipeline_kwargs (passed to the
pipeline call when its signature takes them; they override the recommended ones).

A still is animated only by an image-to-video pipeline: a checkpoint without one (Wan 2.1 T2V, CogVideoX
T2V) refuses and names the checkpoint of its family that can, rather than running video-to-video on a
repeated still.
"""

from __future__ import annotations

import inspect
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from sora_lite.engines.base import (
    Cancelled,
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
    ProgressFn,
    RequestError,
)
from sora_lite.engines.hub import loading
from sora_lite.engines.hub.families import TASK_LABELS
from sora_lite.engines.hub.loading import ModelRef
from sora_lite.media import Clip, MediaError, read_image, read_video

DEFAULT_REMIX_STRENGTH = 0.6
CAMEO_FACE_SHARE = 0.55  # a composed frame's face height as a share of the frame height (one cameo)
CAMEO_BACKDROP = ((0.78, 0.79, 0.80), (0.56, 0.58, 0.62))  # top and bottom of a neutral studio grey


@dataclass
class _Shot:
    prompt: str
    frames: int
    index: int = 0
    camera: str | None = None


@dataclass
class _Call:
    """What one pipeline call needs besides the prompt."""

    task: str
    conditioning: str
    image: Any = None  # PIL image for i2v
    video: list[Any] | None = None  # PIL frames for v2v
    strength: float | None = None
    references: list[Any] = field(default_factory=list)


def _pil(frame: np.ndarray, size: tuple[int, int]) -> Any:
    from PIL import Image

    img = Image.fromarray(frame)
    return img if img.size == size else img.resize(size, Image.Resampling.LANCZOS)


def _to_uint8_frames(frames: Any) -> np.ndarray:
    """Pipeline output (np float B×T×H×W×3 in [0, 1], or a torch tensor, or lists of PIL) → uint8 T×H×W×3."""
    if hasattr(frames, "detach"):
        frames = frames.detach().float().cpu().numpy()
    if isinstance(frames, list):
        first = frames[0]
        frames = np.stack([np.asarray(f) for f in first]) if isinstance(first, list) else np.asarray(first)
    arr = np.asarray(frames)
    if arr.ndim == 5:
        arr = arr[0]
    if arr.dtype != np.uint8:
        arr = (np.clip(arr, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if arr.shape[-1] != 3 and arr.shape[1] == 3:  # T×C×H×W
        arr = arr.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(arr)


def _to_audio(audio: Any, n_samples: int) -> np.ndarray:
    """Vocoder output (B×C×S tensor) → float32 C×S in [-1, 1], padded / trimmed to the video's length
    (`_audio_samples` says how many samples the model made, so the record can say how much was padding)."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim == 3:
        arr = arr[0]
    if arr.ndim == 1:
        arr = arr[None, :]
    arr = np.clip(np.nan_to_num(arr), -1.0, 1.0)
    if arr.shape[1] < n_samples:
        arr = np.pad(arr, ((0, 0), (0, n_samples - arr.shape[1])))
    return np.ascontiguousarray(arr[:, :n_samples])


def _audio_samples(audio: Any) -> int:
    """Samples per channel in a vocoder output (B×C×S, C×S or S)."""
    shape = tuple(getattr(audio, "shape", np.shape(audio)))
    return int(shape[-1]) if shape else 0


class HubEngine:
    """A Hub video model (see the module docstring). Built by the resolver in `sora_lite.engines.hub`."""

    def __init__(self, ref: ModelRef, name: str | None = None) -> None:
        self.ref = ref
        self.family = ref.family
        self.name = name or ref.model_id

    # --- Engine protocol ----------------------------------------------------------------------------------
    def availability(self) -> tuple[bool, str]:
        if loading.weights_present(self.ref):
            return True, ""
        reason = "its weights are not on this machine"
        if loading.hub_offline():
            reason += " and HF_HUB_OFFLINE is set"
        return False, loading.missing_weights_message(self.ref.model_id, reason, self.ref.gated)

    def capabilities(self) -> dict[str, Any]:
        """What this checkpoint can do, for the app's model picker and `python -m sora_lite models`."""
        return {"model": self.ref.model_id, "family": self.family.name, "tasks": list(self.ref.tasks),
                "makes_audio": self.family.makes_audio, "native_fps": self.family.native_fps}

    def generate(self, request: GenerationRequest, progress: ProgressFn | None = None,
                 cancel: threading.Event | None = None, preview: Any = None) -> GenerationResult:
        """`preview(step, image)`: a rough latent picture between denoising steps, where the latents are a
        frames × height × width grid (see `latent_preview`); cancel stops between steps."""
        self._live_preview = preview
        try:
            return self._generate_clip(request, progress, cancel)
        finally:
            self._live_preview = None

    def _generate_clip(self, request: GenerationRequest, progress: ProgressFn | None,
                       cancel: threading.Event | None) -> GenerationResult:
        opts = dict(request.options or {})
        fam = self.family
        info: dict[str, Any] = {"model": self.ref.model_id, "family": fam.name, "snapped": {}}
        timings: dict[str, float] = {}

        st = self.ref.recommended
        fps = fam.native_fps
        if request.fps != fps:
            info["snapped"]["fps"] = {"asked": request.fps, "used": fps}
        width, height = self._snap_size(request, opts, info)
        shots = self._plan_shots(request, opts, fps, info)
        steps = int(opts.get("steps", st.steps))
        guidance = float(opts.get("guidance", st.guidance))
        if steps < 1 or steps > 200:
            raise RequestError(f"steps must be from 1 to 200, got {steps}")
        info.update(steps=steps, guidance=guidance, size=[width, height], fps=fps)

        cameos = cameo_faces(opts)
        first_call = self._first_call(request, opts, (width, height), shots[0].frames, cameos)
        if cameos:
            info["cameo_conditioning"] = _cameo_record(cameos, first_call, len(shots))
        _check_cancel(cancel)

        t0 = time.perf_counter()
        pipe, plan = loading.acquire_pipeline(self.ref, first_call.task)
        width, height = self._lock_size_to_model(pipe, width, height, info)
        shots = self._lock_frames_to_model(pipe, shots, info, first_call)
        timings["load"] = time.perf_counter() - t0
        info["memory"] = plan.to_dict()
        info["memory"]["actions"] = loading.resident_actions()

        seconds = loading.estimate_seconds(fam, width, height, sum(s.frames for s in shots), steps, len(shots),
                                           guidance)
        info["gpu_seconds_estimate"] = round(seconds, 1)
        info["settings"] = {"checkpoint_settings_of": self.ref.model_id if fam.checkpoint(self.ref.model_id)
                            else f"{self.ref.model_id} (not in the registry: its family's settings)",
                            "source": st.source, "passed": {}, "dropped": [], "from_options": []}

        t0 = time.perf_counter()
        frames_out: list[np.ndarray] = []
        audio_out: list[np.ndarray] = []
        audio_made = 0  # samples the model made, before padding to the video's length
        sample_rate: int | None = None
        shots_info: list[dict[str, Any]] = []
        start = 0
        call = first_call
        for k, shot in enumerate(shots):
            if k > 0 and first_call.task == "ref" and first_call.references:
                call = first_call  # every shot sees the same references: the people stay who they are
            elif k > 0:
                call = self._next_shot_call(frames_out[-1][-1], (width, height), shot.frames)
                pipe, plan = loading.acquire_pipeline(self.ref, call.task)
            _check_cancel(cancel)
            out = loading.run_on_gpu(
                lambda: self._call(pipe, call, shot, width, height, fps, steps, guidance, request.seed + k, opts,
                                   progress, cancel, k, len(shots), info["settings"]),
                seconds / len(shots),
            )
            frames = _to_uint8_frames(out.frames)
            frames_out.append(frames)
            if fam.makes_audio and getattr(out, "audio", None) is not None:
                sample_rate = int(self._audio_rate(pipe))
                audio_made += _audio_samples(out.audio)
                audio_out.append(_to_audio(out.audio, int(round(len(frames) / fps * sample_rate))))
            shots_info.append({"index": k, "start_frame": start, "end_frame": start + len(frames),
                               "prompt": shot.prompt, "camera": shot.camera, "task": call.task,
                               "pipeline": type(pipe).__name__, "conditioned_on": call.conditioning})
            start += len(frames)
        timings["denoise"] = time.perf_counter() - t0

        video = np.concatenate(frames_out, axis=0)
        info["task"] = shots_info[0]["task"]
        info["pipeline"] = shots_info[0]["pipeline"]
        info["conditioning"] = shots_info[0]["conditioned_on"]
        if request.shots:
            info["shots"] = shots_info
        info["frames"] = int(video.shape[0])
        info["seconds"] = round(video.shape[0] / fps, 4)

        clip = Clip(frames=video, fps=Fraction(fps))
        t0 = time.perf_counter()
        if audio_out:
            clip.audio = np.concatenate(audio_out, axis=1)
            clip.sample_rate = sample_rate
            info["audio_source"] = "model"
            needed = int(clip.audio.shape[1])
            info["audio"] = {"sample_rate": sample_rate, "model_samples": audio_made, "clip_samples": needed,
                             "padded_seconds": round(max(0, needed - audio_made) / sample_rate, 4),
                             "trimmed_seconds": round(max(0, audio_made - needed) / sample_rate, 4)}
            if audio_made < needed:
                info["audio"]["note"] = (f"the model made {audio_made / sample_rate:.3f} s of audio for "
                                         f"{needed / sample_rate:.3f} s of video: the rest is silence")
        else:
            self._add_foley(clip, request, opts, info, progress)
        timings["audio"] = time.perf_counter() - t0
        info["timings"] = timings
        return GenerationResult(clip=clip, spec=None, info=info)

    # --- planning -------------------------------------------------------------------------------------------
    def _snap_size(self, request: GenerationRequest, opts: dict[str, Any], info: dict[str, Any]) -> tuple[int, int]:
        asked = (request.width, request.height)
        wanted = asked
        if "size" in opts:
            size = opts["size"]
            if (not isinstance(size, (list, tuple)) or len(size) != 2
                    or not all(isinstance(v, int) and 8 <= v <= 2048 for v in size)):
                raise RequestError(f"options.size must be [width, height] in pixels (8..2048), got {size!r}")
            wanted = (int(size[0]), int(size[1]))
        used = self.family.snap_size(*wanted)
        if used != asked:
            info["snapped"]["size"] = {"asked": list(asked), "used": list(used),
                                       "why": "options.size" if used == wanted else
                                       f"multiple of {self.family.resolution_multiple}"}
        return used

    def _lock_size_to_model(self, pipe: Any, width: int, height: int, info: dict[str, Any]) -> tuple[int, int]:
        """Checkpoints trained at one size (CogVideoX: 720×480; learned positional embeddings: CogVideoX I2V)
        run at the size their transformer config says (sample size × the VAE's spatial scale)."""
        cfg = getattr(getattr(pipe, "transformer", None), "config", None)
        learned = bool(cfg is not None and getattr(cfg, "use_learned_positional_embeddings", False))
        if cfg is None or not (learned or self.ref.recommended.trained_size_only):
            return width, height
        if getattr(cfg, "sample_width", None) is None or getattr(cfg, "sample_height", None) is None:
            return width, height
        scale = getattr(pipe, "vae_scale_factor_spatial", 8)
        fixed = (int(cfg.sample_width * scale), int(cfg.sample_height * scale))
        if fixed != (width, height):
            asked = info["snapped"].get("size", {}).get("asked", [width, height])
            why = ("this checkpoint has learned positional embeddings" if learned else
                   f"{self.family.label} runs at its trained size only (model card)")
            info["snapped"]["size"] = {"asked": asked, "used": list(fixed), "why": why}
        info["size"] = list(fixed)
        return fixed

    def _lock_frames_to_model(self, pipe: Any, shots: list["_Shot"], info: dict[str, Any],
                              call: "_Call") -> list["_Shot"]:
        """Checkpoints with learned positional embeddings over time (CogVideoX-5b-I2V) make exactly the frame
        count their transformer config was trained with (49); any other count swaps in computed embeddings."""
        cfg = getattr(getattr(pipe, "transformer", None), "config", None)
        if not self.ref.recommended.trained_frames_only or cfg is None or call.task == "v2v":
            return shots
        sample = getattr(cfg, "sample_frames", None)
        if not sample:
            return shots
        ratio = getattr(pipe, "vae_scale_factor_temporal", 4)
        fixed = int((int(sample) - 1) // ratio * ratio + 1)
        if any(s.frames != fixed for s in shots):
            asked = info["snapped"].get("frames", {}).get("asked", sum(s.frames for s in shots))
            info["snapped"]["frames"] = {"asked": asked, "used": fixed * len(shots),
                                         "rule": "trained frame count only (learned positional embeddings)"}
        return [_Shot(s.prompt, fixed, s.index, s.camera) for s in shots]

    def _plan_shots(self, request: GenerationRequest, opts: dict[str, Any], fps: int,
                    info: dict[str, Any]) -> list[_Shot]:
        fam = self.family
        if request.shots:
            shots = []
            asked_total, used_total = 0, 0
            for i, s in enumerate(request.shots):
                secs = float(s.get("seconds") or float(request.seconds) / len(request.shots))
                asked = max(1, int(round(secs * fps)))
                used = fam.snap_frames(asked, self.ref.recommended.max_frames)
                asked_total, used_total = asked_total + asked, used_total + used
                text = str(s.get("prompt") or request.prompt).strip()
                shots.append(_Shot(text, used, i, s.get("camera")))
            if asked_total != used_total:
                info["snapped"]["frames"] = {"asked": asked_total, "used": used_total, "rule": _rule(fam)}
            return shots
        if "num_frames" in opts:
            asked = opts["num_frames"]
            if not isinstance(asked, int) or isinstance(asked, bool) or asked < 1:
                raise RequestError(f"options.num_frames must be a positive integer, got {asked!r}")
        else:
            asked = max(1, int(round(float(request.seconds) * fps)))
        used = fam.snap_frames(asked, self.ref.recommended.max_frames)
        if used != asked:
            info["snapped"]["frames"] = {"asked": asked, "used": used, "rule": _rule(fam)}
        return [_Shot(request.prompt.strip(), used)]

    def _can(self, task: str) -> bool:
        return self.ref.pipeline_for(task) is not None

    def _unable(self, what: str, task: str) -> RequestError:
        others = [c.hub_id for c in self.family.checkpoints if task in c.tasks]
        hint = f"; {self.family.label} does it with {others[0]}" if others else ""
        can = ", ".join(TASK_LABELS[t] for t in self.ref.tasks)
        return RequestError(f"{self.ref.model_id} cannot {what} (it does {can}){hint}")

    def _first_call(self, request: GenerationRequest, opts: dict[str, Any], size: tuple[int, int],
                    frames: int, cameos: list[tuple[str, np.ndarray]] | None = None) -> _Call:
        refs = opts.get("reference_images") or []
        cameos = cameos or []
        if refs or (cameos and self._can("ref")):
            if not self._can("ref"):
                raise self._unable("condition on reference images", "ref")
            images = [_pil(read_image(p), size) for p in refs]
            images += [_pil(compose_cameo_frame([face], size), size) for _, face in cameos]
            what = "reference images" + (f" ({_handles(cameos)})" if cameos else "")
            return _Call("ref", what, references=images)
        if cameos and not (request.parent_video or request.image):
            if not self._can("i2v"):
                raise self._unable(f"show {_handles(cameos)}: it takes neither reference images nor a first frame", "ref")
            frame = compose_cameo_frame([face for _, face in cameos], size)
            return _Call("i2v", f"a first frame composed from {_handles(cameos)} (image-to-video)", image=_pil(frame, size))
        if request.parent_video:
            parent = _read_parent(request.parent_video)
            change = float(opts.get("remix_strength", DEFAULT_REMIX_STRENGTH))
            if not 0.0 < change <= 1.0:
                raise RequestError(f"options.remix_strength must be in (0, 1], got {change}")
            if self._can("v2v"):
                video = [_pil(f, size) for f in _resample(parent.frames, frames)]
                return _Call("v2v", f"parent video (video-to-video, strength {change:g})", video=video, strength=change)
            if self._can("i2v"):
                return _Call("i2v", "parent's first frame (image-to-video)", image=_pil(parent.frames[0], size))
            raise self._unable("remix a video (it has neither video- nor image-to-video)", "v2v")
        if request.image:
            return self._image_call(read_image(request.image), size, frames, "the given image")
        if self._can("t2v"):
            return _Call("t2v", "prompt")
        if self._can("ref"):
            return _Call("ref", "prompt")
        raise self._unable("make a video from text alone: pass an image", "t2v")

    def _image_call(self, image: np.ndarray, size: tuple[int, int], frames: int, what: str) -> _Call:
        """Only an image-to-video pipeline animates a still: video-to-video of a repeated still is not
        image-to-video (the model was never trained to start from a frozen clip), so it is refused."""
        if self._can("i2v"):
            return _Call("i2v", f"{what} (image-to-video)", image=_pil(image, size))
        raise self._unable("animate a still image (it has no image-to-video pipeline)", "i2v")

    def _next_shot_call(self, last_frame: np.ndarray, size: tuple[int, int], frames: int) -> _Call:
        if self._can("i2v"):
            return self._image_call(last_frame, size, frames, "previous shot's last frame")
        return _Call("t2v" if self._can("t2v") else "ref", "prompt only (this checkpoint cannot take a frame)")

    # --- running -------------------------------------------------------------------------------------------
    def _call(self, pipe: Any, call: _Call, shot: _Shot, width: int, height: int, fps: int, steps: int,
              guidance: float, seed: int, opts: dict[str, Any], progress: ProgressFn | None,
              cancel: threading.Event | None, shot_index: int, n_shots: int,
              record: dict[str, Any] | None = None) -> Any:
        import torch

        st = self.ref.recommended
        record = record if record is not None else {"passed": {}, "dropped": [], "from_options": []}
        accepted = set(inspect.signature(pipe.__call__).parameters)

        def on_step(p: Any, i: int, t: Any, kw: dict[str, Any]) -> dict[str, Any]:
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled between denoising steps")
            live = getattr(self, "_live_preview", None)
            if live is not None:
                image = latent_preview(kw.get("latents"))
                if image is not None:
                    live(int(i), image)
            if progress is not None:
                total = getattr(p, "_num_timesteps", None) or steps
                progress("denoise", min(1.0, (shot_index + (i + 1) / total) / n_shots))
            return kw

        kwargs: dict[str, Any] = {
            "prompt": shot.prompt,
            "height": height,
            "width": width,
            "num_frames": shot.frames,
            "frame_rate": float(fps),
            "num_inference_steps": steps,
            "guidance_scale": guidance,
            "generator": torch.Generator(device="cpu").manual_seed(seed),
            "output_type": "np",
            "callback_on_step_end": on_step,
            "callback_on_step_end_tensor_inputs": ["latents"],
        }
        negative = opts.get("negative_prompt", st.negative_prompt)
        if negative:
            kwargs["negative_prompt"] = str(negative)
        max_text = getattr(getattr(getattr(pipe, "transformer", None), "config", None), "max_text_seq_length", None)
        if max_text:
            kwargs["max_sequence_length"] = int(max_text)
        kwargs.update({k: list(v) if isinstance(v, list) else v for k, v in st.call_kwargs.items()})  # no aliasing
        kwargs.update(_task_kwargs(type(pipe).__name__, call))
        user = dict(opts.get("pipeline_kwargs") or {})
        kwargs.update(user)
        shift = _apply_flow_shift(pipe, st.flow_shift_for(height)) if st.flow_shift_by_height else None
        dropped = sorted(k for k in {*st.call_kwargs, *user, "negative_prompt"} if k in kwargs and k not in accepted)
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        _record_settings(record, kwargs, st, dropped, user, opts, shift)
        if progress is not None:
            progress("denoise", shot_index / n_shots)
        try:
            return pipe(**kwargs)
        except Cancelled:
            raise
        except Exception as e:
            if not loading.is_out_of_memory(e):
                raise
            raise EngineUnavailable(f"engine unavailable: {self.ref.model_id} ran out of GPU memory at "
                                    f"{width}×{height}, {shot.frames} frames: ask for a smaller size or fewer "
                                    "seconds") from e

    @staticmethod
    def _audio_rate(pipe: Any) -> int:
        """The vocoder's output rate. Without `output_sampling_rate` in its config: mel frames per second
        (the audio VAE's rate / hop) × the vocoder's total upsampling, never the audio VAE's mel rate (16 kHz)."""
        vocoder = getattr(pipe, "vocoder", None)
        vcfg = getattr(vocoder, "config", None)
        rate = getattr(vcfg, "output_sampling_rate", None)
        if rate:
            return int(rate)
        factors = getattr(vcfg, "upsample_factors", None) or getattr(vcfg, "upsample_rates", None)
        mel_rate = getattr(pipe, "audio_sampling_rate", None)
        hop = getattr(pipe, "audio_hop_length", None)
        if factors and mel_rate and hop:
            return int(round(float(mel_rate) / float(hop) * float(np.prod(factors))))
        raise EngineUnavailable("the audio model's output sample rate cannot be found (no vocoder "
                                "output_sampling_rate or upsampling factors)")

    def _add_foley(self, clip: Clip, request: GenerationRequest, opts: dict[str, Any], info: dict[str, Any],
                   progress: ProgressFn | None) -> None:
        if not opts.get("foley", True):
            info["audio_source"] = "none"
            info["foley"] = {"skipped": "options.foley is false"}
            return
        from sora_lite.engines.hub.foley import foley_for

        if progress is not None:
            progress("audio", 0.0)
        result = foley_for(clip.frames, float(clip.fps), seed=request.seed, prompt=request.prompt)
        if result.audio is not None:
            clip.audio, clip.sample_rate = result.audio, result.sample_rate
        info["audio_source"] = result.source
        info["foley"] = result.info
        if progress is not None:
            progress("audio", 1.0)


def cameo_faces(opts: dict[str, Any]) -> list[tuple[str, np.ndarray]]:
    """(handle, RGB face) for each cameo in `options["cameos"]`: only what the studio checked is loaded."""
    cameos = opts.get("cameos")
    if not cameos:
        return []
    if not isinstance(cameos, list) or not all(isinstance(c, dict) for c in cameos):
        raise RequestError("options.cameos must be a list of cameo objects (the studio fills it from granted cameos)")
    out = []
    for i, c in enumerate(cameos):
        handle, path = c.get("handle"), c.get("face_texture")
        if not isinstance(handle, str) or not handle:
            raise RequestError(f"options.cameos[{i}] has no handle")
        if not isinstance(path, str) or not path:
            raise RequestError(f"cameo @{handle} has no face texture: register the cameo again")
        try:
            out.append((handle, read_image(path)))
        except MediaError as e:
            raise RequestError(f"the face of cameo @{handle} could not be read ({e}); register the cameo again") from None
    return out


def compose_cameo_frame(faces: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """A still that shows only the given faces, side by side on a neutral grey backdrop (uint8 H×W×3).

    What a reference-conditioned or image-to-video model needs to keep a likeness: the face, large and
    upright, with nothing else in the picture to copy. Each face keeps its aspect and fades out at the edge of
    an oval, so no square crop border is carried into the video.
    """
    import cv2

    width, height = size
    if not faces:
        raise ValueError("compose_cameo_frame needs at least one face")
    top, bottom = (np.asarray(c, dtype=np.float32) for c in CAMEO_BACKDROP)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    canvas = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (height, width, 3)) * 255.0
    canvas = np.array(canvas, dtype=np.float32)
    n = len(faces)
    slot = width / n
    for k, face in enumerate(faces):
        face = np.asarray(face)[..., :3]
        fh, fw = face.shape[:2]
        scale = min(CAMEO_FACE_SHARE * height / fh, 0.9 * slot / fw)
        w, h = max(1, int(round(fw * scale))), max(1, int(round(fh * scale)))
        patch = cv2.resize(face, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC).astype(np.float32)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = np.sqrt(((xx + 0.5) / w - 0.5) ** 2 / 0.25 + ((yy + 0.5) / h - 0.5) ** 2 / 0.25)  # 1 at the oval's edge
        alpha = np.clip((1.0 - r) / 0.12, 0.0, 1.0)[..., None]
        x0 = int(round(slot * k + (slot - w) / 2))
        y0 = int(round((height - h) * 0.45))
        region = canvas[y0:y0 + h, x0:x0 + w]
        region[:] = patch * alpha + region * (1 - alpha)
    return np.clip(canvas.round(), 0, 255).astype(np.uint8)


def _handles(cameos: list[tuple[str, np.ndarray]]) -> str:
    return ", ".join(f"@{h}" for h, _ in cameos)


def _cameo_record(cameos: list[tuple[str, np.ndarray]], call: _Call, n_shots: int) -> dict[str, Any]:
    """What the record says about how the cameos reached the model (and when they did not)."""
    handles = [h for h, _ in cameos]
    if call.task == "ref" and call.references:
        return {"cameos": handles, "method": "reference images (face on a neutral backdrop)",
                "shots": n_shots}
    if call.task == "i2v" and call.conditioning.startswith("a first frame composed"):
        return {"cameos": handles, "method": "composed first frame (image-to-video)",
                "shots": 1, "note": "later shots continue from the previous shot's last frame" if n_shots > 1 else ""}
    return {"cameos": handles, "method": "none",
            "note": f"the request's own conditioning ({call.conditioning}) was used; the faces were not added to it"}


def _rule(fam: Any) -> str:
    m, o = fam.frame_rule
    return f"{m}k+{o}"


def latent_preview(latents: Any) -> Any:
    """A rough RGB picture of the middle frame from video latents (B×C×F×H×W, or B×F×C×H×W when the channel
    axis is the smaller one): three latent channels, each stretched to 0..255, enlarged ×8. Packed latents
    (LTX: B×tokens×C) have no grid here: None."""
    import numpy as np

    try:
        a = latents.detach().float().cpu().numpy()
    except AttributeError:
        return None
    if a.ndim != 5:
        return None
    a = a[0]
    if a.shape[0] > a.shape[1]:  # F×C×H×W (CogVideoX) → C×F×H×W
        a = a.transpose(1, 0, 2, 3)
    frame = a[:3, a.shape[1] // 2]
    if frame.shape[0] < 3:
        frame = np.repeat(frame[:1], 3, axis=0)
    lo = frame.min(axis=(1, 2), keepdims=True)
    hi = frame.max(axis=(1, 2), keepdims=True)
    rgb = ((frame - lo) / np.maximum(hi - lo, 1e-6) * 255).astype(np.uint8).transpose(1, 2, 0)
    return np.ascontiguousarray(rgb.repeat(8, axis=0).repeat(8, axis=1))


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled before generation started")


def _read_parent(path: str) -> Clip:
    try:
        return read_video(path, with_audio=False)
    except MediaError as e:
        raise RequestError(f"the clip to remix cannot be read: {e}") from e


def _resample(frames: np.ndarray, n: int) -> np.ndarray:
    """n frames evenly spread over `frames` (the parent's whole length becomes the remix's length)."""
    idx = np.linspace(0, len(frames) - 1, n).round().astype(int)
    return frames[idx]


def _apply_flow_shift(pipe: Any, shift: float | None) -> dict[str, Any] | None:
    """Set the scheduler's flow shift (Wan 2.1: 3.0 at 480p, 5.0 at 720p) on this pipeline's scheduler."""
    scheduler = getattr(pipe, "scheduler", None)
    cfg = getattr(scheduler, "config", None)
    if shift is None or cfg is None:
        return None
    key = "flow_shift" if "flow_shift" in cfg else "shift" if "shift" in cfg else None
    if key is None:
        return {"skipped": f"{type(scheduler).__name__} has no flow shift"}
    if float(cfg[key]) != float(shift):
        pipe.scheduler = type(scheduler).from_config(cfg, **{key: shift})
    return {"scheduler": type(scheduler).__name__, key: float(shift)}


def _record_settings(record: dict[str, Any], kwargs: dict[str, Any], st: Any, dropped: list[str],
                     user: dict[str, Any], opts: dict[str, Any], shift: dict[str, Any] | None) -> None:
    """What the record says about the settings that ran (JSON-safe values only)."""
    keys = ["num_inference_steps", "guidance_scale", "negative_prompt", "height", "width", "num_frames",
            "frame_rate", "strength", *st.call_kwargs]
    passed = {k: kwargs[k] for k in keys if k in kwargs and isinstance(kwargs[k], (int, float, str, bool, list,
                                                                                    type(None)))}
    record["passed"] = passed
    record["dropped"] = sorted(set(record.get("dropped", [])) | set(dropped))
    record["from_options"] = sorted({*user, *(k for k in ("steps", "guidance", "negative_prompt") if k in opts)})
    if shift is not None:
        record["flow_shift"] = shift


def _task_kwargs(pipeline_class: str, call: _Call) -> dict[str, Any]:
    """The conditioning arguments each pipeline class takes for its task."""
    if call.task == "i2v":
        return {"image": call.image}
    if call.task == "ref":
        return {"reference_images": call.references} if call.references else {}
    if call.task != "v2v":
        return {}
    keep = 1.0 - float(call.strength or DEFAULT_REMIX_STRENGTH)
    if pipeline_class == "LTX2ConditionPipeline":
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

        return {"conditions": [LTX2VideoCondition(frames=call.video, index=0, strength=keep)]}
    if pipeline_class == "LTXConditionPipeline":
        return {"video": call.video, "frame_index": 0, "strength": keep}
    return {"video": call.video, "strength": call.strength}
