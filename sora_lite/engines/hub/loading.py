"""Finding, loading and keeping one Hub pipeline resident.

- `resolve_model(name)`: family name, registry Hub id, local diffusers folder, or a cached snapshot whose
  `model_index.json` names a known pipeline class → `ModelRef` (no torch, no network).
- `model_source(ref)`: local files first; offline (`HF_HUB_OFFLINE`) or not in the cache → a bounded check
  against the Hub that fails within seconds with `EngineUnavailable` naming the model and how to get it.
  Never a silent fallback to another model.
- `acquire_pipeline(ref, task)`: one model resident (LRU of size 1); task pipelines share the resident modules
  as they are (same objects, same dtype and device: `derive_pipeline`, not `from_pipe`, which casts every shared
  module to one dtype, float32 by default); the memory policy (offload, VAE tiling / slicing) is chosen from the
  free GPU memory against the checkpoint's approximate need. Out of memory while loading or deriving is an
  `EngineUnavailable` that says what did not fit.
- `gpu_reservation_seconds(...)`: the ZeroGPU `spaces.GPU` duration for a request. The app holds the one
  `spaces.GPU` wrapper; nothing in the library wraps a second time (a nested reservation would schedule again
  from inside the GPU worker).
"""

from __future__ import annotations

import gc
import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from sora_lite.engines.base import EngineUnavailable, RequestError
from sora_lite.engines.hub.families import (
    FAMILIES,
    Family,
    Settings,
    family_named,
    family_of_hub_id,
    family_of_model_index,
    pipeline_class_names,
)

HUB_CHECK_TIMEOUT_S = 5.0
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class ModelRef:
    """A model a HubEngine serves: its family, where its weights are, which tasks its weights serve."""

    family: Family
    model_id: str  # Hub id, or the local folder as the user gave it
    class_name: str  # the checkpoint's own pipeline class (model_index.json `_class_name`)
    tasks: tuple[str, ...]
    approx_memory_gib: float
    local_dir: str | None = None  # an explicit diffusers folder (no Hub involved)
    gated: bool = False
    pipelines: dict[str, str] = field(default_factory=dict)  # task → class where it differs from the family's
    settings: Settings | None = None  # the checkpoint's recommended settings (None: the family's)

    @property
    def recommended(self) -> Settings:
        return self.settings or self.family.settings_for(self.model_id)

    @property
    def key(self) -> str:
        return self.local_dir or self.model_id

    def pipeline_for(self, task: str) -> str | None:
        """The pipeline class that runs `task` on these weights (None when it cannot)."""
        if task not in self.tasks:
            return None
        return self.pipelines.get(task) or self.family.pipelines.get(task)


def _read_model_index(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError):
        return None


def _cached_model_index(hub_id: str) -> dict[str, Any] | None:
    from huggingface_hub import try_to_load_from_cache

    try:
        path = try_to_load_from_cache(hub_id, "model_index.json")
    except Exception:  # malformed ids and cache layouts are "not cached", never a crash
        return None
    return _read_model_index(Path(path).parent) if isinstance(path, str) else None


def _ref_from_index(name: str, index: dict[str, Any], local_dir: str | None) -> ModelRef | None:
    family = family_of_model_index(index)
    if family is None:
        return None
    class_name = str(index["_class_name"])
    tasks = family.tasks_for_class(class_name)
    known = family.checkpoint(name)
    like = known or family.checkpoint_like(class_name)
    settings = family.settings_for(like.hub_id if like else None)
    return ModelRef(family, name, class_name, tasks, known.approx_memory_gib if known else family.checkpoints[0].approx_memory_gib,
                    local_dir=local_dir, gated=bool(known and known.gated), pipelines=dict(like.pipelines) if like else {},
                    settings=settings)


def resolve_model(name: str) -> ModelRef | None:
    """The model `name` refers to, or None when it is none of ours (another resolver may know it)."""
    name = name.strip()
    family = family_named(name)
    if family is not None:
        name = family.default_id
    found = family_of_hub_id(name)
    if found is not None:
        fam, ckpt = found
        return ModelRef(fam, ckpt.hub_id, ckpt.pipeline_for(fam, ckpt.tasks[0]), ckpt.tasks, ckpt.approx_memory_gib,
                        gated=ckpt.gated, pipelines=dict(ckpt.pipelines), settings=fam.settings_for(ckpt.hub_id))
    folder = Path(name).expanduser()
    if folder.is_dir():
        index = _read_model_index(folder)
        if index is None:
            return None
        ref = _ref_from_index(name, index, str(folder.resolve()))
        if ref is None:
            known = ", ".join(sorted(pipeline_class_names()))
            raise RequestError(f"{name} holds a {index.get('_class_name')!r} pipeline, which sora-lite cannot drive; "
                               f"supported pipeline classes: {known}")
        return ref
    if _HUB_ID.match(name):
        index = _cached_model_index(name)
        if index is not None:
            return _ref_from_index(name, index, None)
    return None


# ------------------------------------------------------------------------------------------ weights present?

def hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub reads it only once, at import)."""
    import huggingface_hub.constants as c

    value = os.environ.get("HF_HUB_OFFLINE")
    if value is not None:
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(c.HF_HUB_OFFLINE)


def weights_present(ref_or_id: ModelRef | str) -> bool:
    """Whether the weights are on this machine (a local folder, or model_index.json in the Hub cache)."""
    if isinstance(ref_or_id, ModelRef):
        if ref_or_id.local_dir:
            return (Path(ref_or_id.local_dir) / "model_index.json").is_file()
        ref_or_id = ref_or_id.model_id
    return _cached_model_index(ref_or_id) is not None


def how_to_get(model_id: str, gated: bool = False) -> str:
    from huggingface_hub.constants import HF_HUB_CACHE

    gate = (f" {model_id} is gated: accept its license at https://huggingface.co/{model_id} and set HF_TOKEN "
            "to a token of that account." if gated else
            " If the model is gated, accept its license on its Hub page and set HF_TOKEN.")
    return (f"Download it with `hf download {model_id}` (the cache is under HF_HOME, now "
            f"{HF_HUB_CACHE}; set HF_HOME before starting sora-lite to use another), or pass a local diffusers "
            f"folder instead of the id.{gate}")


def missing_weights_message(model_id: str, reason: str, gated: bool = False) -> str:
    return f"model {model_id} is not available: {reason}. {how_to_get(model_id, gated)}"


def model_source(ref: ModelRef) -> tuple[str, bool]:
    """(what to pass to from_pretrained, local_files_only). Raises EngineUnavailable within seconds."""
    if ref.local_dir:
        if not weights_present(ref):
            raise EngineUnavailable(f"model folder {ref.local_dir} has no model_index.json (a diffusers pipeline "
                                    "folder made with save_pretrained is needed)")
        return ref.local_dir, True
    if weights_present(ref):
        return ref.model_id, True
    if hub_offline():
        raise EngineUnavailable(missing_weights_message(
            ref.model_id, "its weights are not in the local Hugging Face cache and HF_HUB_OFFLINE is set", ref.gated))
    _check_hub(ref.model_id)
    return ref.model_id, False


def _check_hub(model_id: str) -> None:
    """A bounded look at the Hub before a download: gated without a token, missing, or unreachable → fail now."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        info = HfApi().model_info(model_id, timeout=HUB_CHECK_TIMEOUT_S)
    except GatedRepoError:
        raise EngineUnavailable(missing_weights_message(model_id, "it is gated and no accepted token was given",
                                                        gated=True)) from None
    except RepositoryNotFoundError:
        raise EngineUnavailable(missing_weights_message(
            model_id, "the Hub has no such repository (or it is private and HF_TOKEN is not set)")) from None
    except Exception as e:  # network errors come in many types (httpx, OSError, timeouts): all mean "cannot reach"
        raise EngineUnavailable(missing_weights_message(
            model_id, f"its weights are not in the local cache and the Hub could not be reached "
                      f"({type(e).__name__}: {str(e)[:160]})")) from None
    if getattr(info, "gated", False) and not get_token():
        raise EngineUnavailable(missing_weights_message(model_id, "it is gated and HF_TOKEN is not set", gated=True))


# ------------------------------------------------------------------------------------------ memory policy

FIT_HEADROOM = 1.2  # full residency needs 20 % above the weights' approximate size
VAE_DECODE_HEADROOM_GIB = 24.0  # approx: below this much left over after the weights, decode the video in tiles


@dataclass
class MemoryPlan:
    """Where the pipeline runs and what it does to fit: chosen once per load, recorded in the clip's info."""

    device: str
    dtype: str
    offload: str  # "none" | "model" | "sequential"
    vae_tiling: bool
    vae_slicing: bool
    free_gib: float | None
    need_gib: float
    reason: str
    component_dtypes: dict[str, str] = field(default_factory=dict)  # components kept at another dtype

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def load_dtype(self) -> Any:
        """What `from_pretrained(dtype=...)` gets: one torch dtype, or {"default": ..., component: ...}."""
        import torch

        main = getattr(torch, self.dtype)
        if not self.component_dtypes:
            return main
        return {"default": main, **{k: getattr(torch, v) for k, v in self.component_dtypes.items()}}


def choose_memory_plan(need_gib: float, family_dtype: str, free_gib: float | None = None,
                       cuda: bool | None = None, component_dtypes: dict[str, str] | None = None) -> MemoryPlan:
    """Full residency when it fits with 20 % headroom; model offload when half fits; else sequential offload.

    VAE tiling is on whenever the weights leave less than `VAE_DECODE_HEADROOM_GIB` free: decoding a long
    clip at full size in one piece is what runs out of memory on a card the weights "just fit" (LTX-2 on 80 GB).
    """
    import torch

    if cuda is None:
        cuda = torch.cuda.is_available()
    if not cuda:
        return MemoryPlan("cpu", "float32", "none", False, False, None, need_gib,
                          "no CUDA device: CPU in float32 (slow; fine for tiny models and tests)")
    if free_gib is None:
        free_gib = torch.cuda.mem_get_info()[0] / 2**30
    extra = dict(component_dtypes or {})
    if free_gib >= need_gib * FIT_HEADROOM:
        tiling = free_gib - need_gib < VAE_DECODE_HEADROOM_GIB
        why = "fits on the GPU" + (f" with {free_gib - need_gib:.0f} GiB to spare: VAE tiling for the decode"
                                   if tiling else "")
        return MemoryPlan("cuda", family_dtype, "none", tiling, False, free_gib, need_gib, why, extra)
    if free_gib >= need_gib * 0.5:
        return MemoryPlan("cuda", family_dtype, "model", True, False, free_gib, need_gib,
                          "model CPU offload (one component on the GPU at a time) + VAE tiling", extra)
    return MemoryPlan("cuda", family_dtype, "sequential", True, True, free_gib, need_gib,
                      "sequential CPU offload (layer by layer; slow) + VAE tiling and slicing", extra)


def apply_memory_plan(pipe: Any, plan: MemoryPlan) -> list[str]:
    """Place `pipe` as the plan says; returns what was done (for the record and for tests)."""
    done = []
    if plan.offload == "model":
        pipe.enable_model_cpu_offload()
        done.append("enable_model_cpu_offload")
    elif plan.offload == "sequential":
        pipe.enable_sequential_cpu_offload()
        done.append("enable_sequential_cpu_offload")
    else:
        pipe.to(plan.device)  # device only: a dtype here would recast the float32 components (Wan VAE)
        done.append(f"to({plan.device})")
    vae = getattr(pipe, "vae", None)
    if plan.vae_tiling and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
        done.append("vae.enable_tiling")
    if plan.vae_slicing and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
        done.append("vae.enable_slicing")
    return done


def is_out_of_memory(e: BaseException) -> bool:
    """torch's OutOfMemoryError (CUDA), or an allocator RuntimeError that says so (other backends)."""
    try:
        import torch

        if isinstance(e, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):
        pass
    return isinstance(e, RuntimeError) and "out of memory" in str(e).lower()


def out_of_memory_message(model_id: str, what: str, plan: MemoryPlan | None) -> str:
    where = ""
    if plan is not None:
        free = f"{plan.free_gib:.0f} GiB free" if plan.free_gib is not None else "free memory unknown"
        where = f" (needs ~{plan.need_gib:g} GiB at {plan.dtype}, {free}; plan: {plan.reason})"
    return (f"engine unavailable: {model_id} ran out of GPU memory while {what}{where}. Free the GPU (another "
            "model or process may hold it), choose a smaller checkpoint, or run on a larger card")


# ------------------------------------------------------------------------------------------ one resident model

@dataclass
class _Resident:
    key: str
    plan: MemoryPlan
    pipelines: dict[str, Any]  # class name → pipeline sharing one set of weights
    actions: list[str] = field(default_factory=list)  # what apply_memory_plan did, per pipeline


_LOCK = threading.RLock()
_RESIDENT: _Resident | None = None


def _pipeline_class(class_name: str) -> Any:
    import diffusers

    cls = getattr(diffusers, class_name, None)
    if cls is None:
        raise EngineUnavailable(f"diffusers {diffusers.__version__} has no {class_name}; upgrade diffusers")
    return cls


def derive_pipeline(class_name: str, base: Any) -> Any:
    """A `class_name` pipeline over `base`'s modules as they are: the same objects, dtypes and devices.

    `Pipeline.from_pipe(base)` ends with `new.to(dtype=...)` on every shared module (float32 unless told
    otherwise, and one dtype for all even when told), which recasts the resident model in place — the base
    pipeline too — and doubles a bf16 model's memory. Here the components and the base's pipeline config
    (e.g. Wan's `boundary_ratio`, `expand_timesteps`) are passed to the class's constructor and nothing is cast.
    """
    import inspect

    cls = _pipeline_class(class_name)
    params = inspect.signature(cls.__init__).parameters
    components = base.components
    config = dict(base.config)
    kwargs: dict[str, Any] = {}
    for name, param in params.items():
        if name in ("self", "args", "kwargs"):
            continue
        if name in components:
            kwargs[name] = components[name]
        elif name in config and not isinstance(config[name], (list, tuple)):
            kwargs[name] = config[name]
        elif f"_{name}" in config:
            kwargs[name] = config[f"_{name}"]
        elif param.default is inspect.Parameter.empty:
            raise EngineUnavailable(f"{class_name} needs a {name!r} component that {type(base).__name__}'s "
                                    "weights do not have")
    return cls(**kwargs)


def release_resident() -> None:
    """Drop the resident model and give its memory back (the next request loads again)."""
    global _RESIDENT
    with _LOCK:
        if _RESIDENT is None:
            return
        for pipe in _RESIDENT.pipelines.values():
            remove = getattr(pipe, "remove_all_hooks", None)
            if callable(remove):
                remove()
        _RESIDENT = None
    _free_memory()


def _free_memory() -> None:
    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def resident_key() -> str | None:
    return _RESIDENT.key if _RESIDENT else None


def resident_actions() -> list[str]:
    """What the memory plan did to the resident model's pipelines (offload, tiling ...), in order."""
    return list(_RESIDENT.actions) if _RESIDENT else []


def acquire_pipeline(ref: ModelRef, task: str) -> tuple[Any, MemoryPlan]:
    """The pipeline for `task` on `ref`'s weights, loading them (and evicting any other model) if needed."""
    global _RESIDENT
    class_name = ref.pipeline_for(task)
    if class_name is None:
        raise RequestError(f"{ref.model_id} cannot do {task}")
    with _LOCK:
        if _RESIDENT is None or _RESIDENT.key != ref.key:
            release_resident()
            _RESIDENT = _load(ref)
        resident = _RESIDENT
        pipe = resident.pipelines.get(class_name)
        if pipe is None:
            base = next(iter(resident.pipelines.values()))
            try:
                pipe = derive_pipeline(class_name, base)
                if resident.plan.offload != "none":
                    resident.actions += [f"{class_name}: {a}" for a in apply_memory_plan(pipe, resident.plan)]
            except Exception as e:
                if is_out_of_memory(e):
                    release_resident()
                    raise EngineUnavailable(out_of_memory_message(ref.model_id, f"preparing {class_name}",
                                                                  resident.plan)) from e
                raise
            pipe.set_progress_bar_config(disable=True)
            resident.pipelines[class_name] = pipe
        return pipe, resident.plan


def plan_for(ref: ModelRef) -> MemoryPlan:
    settings = ref.recommended
    return choose_memory_plan(ref.approx_memory_gib, settings.dtype or ref.family.dtype,
                              component_dtypes=settings.component_dtypes)


def _load(ref: ModelRef) -> _Resident:
    source, local_only = model_source(ref)
    plan = plan_for(ref)
    cls = _pipeline_class(ref.class_name)
    pipe = None
    try:
        pipe = cls.from_pretrained(source, dtype=plan.load_dtype(), local_files_only=local_only)
        actions = [f"{ref.class_name}: {a}" for a in apply_memory_plan(pipe, plan)]
    except EngineUnavailable:
        raise
    except Exception as e:
        if is_out_of_memory(e):
            del pipe
            _free_memory()
            raise EngineUnavailable(out_of_memory_message(ref.model_id, "loading", plan)) from e
        if isinstance(e, (OSError, ValueError)):  # incomplete snapshot, missing component, failed download
            raise EngineUnavailable(missing_weights_message(ref.model_id, f"loading failed ({str(e)[:300]})",
                                                            ref.gated)) from e
        raise
    pipe.set_progress_bar_config(disable=True)
    return _Resident(ref.key, plan, {ref.class_name: pipe}, actions)


# ------------------------------------------------------------------------------------------ ZeroGPU

def run_on_gpu(fn: Callable[[], Any], seconds: float) -> Any:
    """Run `fn` (a plain call). On a ZeroGPU Space the app's handler already holds the GPU (`spaces.GPU` with
    `gpu_reservation_seconds` as its duration); a second reservation from inside it would schedule again."""
    return fn()


LOAD_ALLOWANCE_S = 90.0  # approx: loading a resident model inside the reservation (cached weights, fast disk)
DEFAULT_RESERVATION_S = 120  # engines that are not Hub models (the world engine)


def estimate_seconds(family: Family, width: int, height: int, frames: int, steps: int, shots: int = 1,
                     guidance: float | None = None) -> float:
    """A generous GPU-time estimate. Per step: `approx_step_seconds` (one transformer pass at the family's
    default size, approx) × the passes the family's recommended guidance makes (`passes_per_step`, what
    `bench/hub.py` times: CFG 2; LTX-2's CFG + STG + modality 4), scaled by latent tokens (`frames` is the
    total over all `shots`; each shot adds its own decode and setup); one pass less without CFG."""
    w0, h0 = family.default_size
    scale = (width * height * frames) / (w0 * h0 * family.max_frames)
    passes = family.passes_per_step if guidance is None or guidance > 1.0 else max(1, family.passes_per_step - 1)
    per_shot = max(scale / max(1, shots), 0.05)
    return 20.0 + shots * (10.0 + steps * family.approx_step_seconds * passes * per_shot * 1.5)


def gpu_reservation_seconds(engine: str, seconds: float, width: int, height: int, shots: int = 1) -> int:
    """The ZeroGPU reservation (`spaces.GPU(duration=...)`) for a request: a Hub model's estimate at its
    recommended settings (plus loading when it is not resident), else `DEFAULT_RESERVATION_S`."""
    try:
        ref = resolve_model(engine or "")
    except RequestError:
        ref = None
    if ref is None:
        return DEFAULT_RESERVATION_S
    fam, st = ref.family, ref.recommended
    w, h = st.size if st.trained_size_only else fam.snap_size(width, height)
    frames = fam.snap_frames(max(1, int(round(seconds * fam.native_fps / max(1, shots)))), st.max_frames)
    if st.trained_frames_only:
        frames = st.max_frames
    total = estimate_seconds(fam, w, h, frames * shots, st.steps, shots, st.guidance)
    if resident_key() != ref.key:
        total += LOAD_ALLOWANCE_S
    return int(max(60, min(total, 1800)))


def registry_rows() -> list[dict[str, Any]]:
    """One row per registry checkpoint: family, id, tasks, whether weights are here (for CLI and app picker)."""
    rows = []
    for fam in FAMILIES:
        for ckpt in fam.checkpoints:
            present = weights_present(ckpt.hub_id)
            st = fam.settings_for(ckpt.hub_id)
            rows.append({
                "family": fam.name, "label": fam.label, "model_id": ckpt.hub_id, "tasks": list(ckpt.tasks),
                "makes_audio": fam.makes_audio, "approx_memory_gib": ckpt.approx_memory_gib,
                "native_fps": fam.native_fps, "frame_rule": f"{fam.frame_rule[0]}k+{fam.frame_rule[1]}",
                "resolution_multiple": fam.resolution_multiple, "weights_present": present,
                "recommended": {"steps": st.steps, "guidance": st.guidance, "size": list(st.size),
                                "max_frames": st.max_frames, "dtype": st.dtype or fam.dtype,
                                "component_dtypes": dict(st.component_dtypes), "call_kwargs": dict(st.call_kwargs),
                                "negative_prompt": bool(st.negative_prompt), "source": st.source},
                "why_not": "" if present else f"weights not in the local cache: hf download {ckpt.hub_id}",
            })
    return rows
