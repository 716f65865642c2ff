"""The Hub video-model registry, as data: one `Family` per model family.

A family says which diffusers pipeline class serves each task, which Hub checkpoints exist and which tasks
each can serve from its own weights, and the rules a request must be snapped to (frame count, pixel multiple,
native frame rate). Adding a family is adding one entry to `FAMILIES`; nothing here imports torch or diffusers
(class names are resolved lazily by `loading.py`).

Tasks: "t2v" (text → video), "i2v" (still → video), "v2v" (video → video, used by remix), "ref" (reference-
conditioned generation, used by cameo). Numbers marked approx are published figures or estimates for planning
(memory policy, `spaces.GPU` duration), not measurements; `bench/hub.py` measures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TASKS = ("t2v", "i2v", "v2v", "ref")
TASK_LABELS = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video (remix)",
               "ref": "reference-conditioned (cameo)"}


@dataclass(frozen=True)
class Checkpoint:
    """One Hub repository of a family and the tasks its weights serve (all through `from_pipe` on one load).

    `pipelines` overrides the family's task → class map where these weights need another class for a task:
    a VACE transformer only runs inside `WanVACEPipeline` (plain `WanPipeline` gives it no control input),
    so VACE serves text-to-video through `WanVACEPipeline` with no reference images and no control video.
    """

    hub_id: str
    tasks: tuple[str, ...]
    approx_memory_gib: float  # all components resident at the family's dtype, no offload
    gated: bool = False
    note: str = ""
    pipelines: dict[str, str] = field(default_factory=dict)

    def pipeline_for(self, family: "Family", task: str) -> str | None:
        return self.pipelines.get(task) or family.pipelines.get(task)


@dataclass(frozen=True)
class Family:
    """What sora-lite knows about one model family. `frame_rule` (m, o): valid frame counts are m·k + o."""

    name: str
    label: str
    pipelines: dict[str, str]  # task → diffusers pipeline class name
    checkpoints: tuple[Checkpoint, ...]  # the first is the family's default
    frame_rule: tuple[int, int]
    resolution_multiple: int
    native_fps: int
    default_size: tuple[int, int]  # (width, height) the model was trained at
    dtype: str
    default_steps: int
    default_guidance: float
    makes_audio: bool
    max_frames: int
    aliases: tuple[str, ...] = ()
    model_index_match: dict[str, Any] = field(default_factory=dict)  # model_index.json keys that pick this family
    approx_step_seconds: float = 10.0  # approx per-step seconds at default size on one H100, for spaces.GPU
    notes: str = ""

    @property
    def default_id(self) -> str:
        return self.checkpoints[0].hub_id

    def checkpoint(self, hub_id: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.hub_id.lower() == hub_id.lower()), None)

    def tasks_for_class(self, class_name: str) -> tuple[str, ...]:
        """Tasks an unknown checkpoint of pipeline class `class_name` can serve: those of a registry checkpoint
        whose tasks include that class's task, else just that task."""
        like = self.checkpoint_like(class_name)
        if like is not None:
            return like.tasks
        task = next((t for t, c in self.pipelines.items() if c == class_name), None)
        return (task,) if task else ()

    def checkpoint_like(self, class_name: str) -> Checkpoint | None:
        """The registry checkpoint (most tasks first) whose own pipeline class is `class_name`: what an unknown
        folder or cached snapshot of that class is taken to be."""
        task = next((t for t, c in self.pipelines.items() if c == class_name), None)
        if task is None:
            return None
        group = [c for c in self.checkpoints if task in c.tasks]
        return max(group, key=lambda c: len(c.tasks)) if group else None

    def snap_frames(self, frames: int) -> int:
        """The nearest valid frame count m·k + o (k ≥ 1), at most `max_frames`."""
        m, o = self.frame_rule
        k = max(1, round((frames - o) / m))
        while m * k + o > self.max_frames and k > 1:
            k -= 1
        return m * k + o

    def snap_size(self, width: int, height: int) -> tuple[int, int]:
        q = self.resolution_multiple
        return max(q, round(width / q) * q), max(q, round(height / q) * q)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# VACE text-to-video: its own pipeline with no control video (zeros, mask all ones) and no references.
_VACE_ALONE = {"t2v": "WanVACEPipeline"}

FAMILIES: tuple[Family, ...] = (
    Family(
        name="ltx2",
        label="LTX-2 (video + synchronized audio)",
        pipelines={"t2v": "LTX2Pipeline", "i2v": "LTX2ImageToVideoPipeline", "v2v": "LTX2ConditionPipeline"},
        checkpoints=(
            Checkpoint("Lightricks/LTX-2", ("t2v", "i2v", "v2v"), approx_memory_gib=64.0,
                       note="19B audio-video transformer + Gemma 3 12B text encoder"),
        ),
        frame_rule=(8, 1),
        resolution_multiple=32,
        native_fps=24,
        default_size=(768, 512),
        dtype="bfloat16",
        default_steps=40,
        default_guidance=4.0,
        makes_audio=True,
        max_frames=257,
        aliases=("ltx-2", "ltx_2"),
        approx_step_seconds=3.0,
        notes="One pass makes video and audio (vocoder output, 24 kHz stereo for the released checkpoint).",
    ),
    Family(
        name="wan2.2-ti2v",
        label="Wan 2.2 TI2V 5B (text or image to video, 720p 24 fps)",
        pipelines={"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline"},
        checkpoints=(
            Checkpoint("Wan-AI/Wan2.2-TI2V-5B-Diffusers", ("t2v", "i2v"), approx_memory_gib=24.0),
        ),
        frame_rule=(4, 1),
        resolution_multiple=32,
        native_fps=24,
        default_size=(1280, 704),
        dtype="bfloat16",
        default_steps=50,
        default_guidance=5.0,
        makes_audio=False,
        max_frames=121,
        aliases=("wan2.2", "wan-2.2", "wan22"),
        model_index_match={"expand_timesteps": True},
        approx_step_seconds=4.0,
        notes="High-compression VAE (16×16×4); image conditioning replaces the first latent frame.",
    ),
    Family(
        name="wan",
        label="Wan 2.1 / Wan 2.2 A14B",
        pipelines={"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline",
                   "ref": "WanVACEPipeline"},
        checkpoints=(
            Checkpoint("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", ("t2v", "v2v"), approx_memory_gib=16.0),
            Checkpoint("Wan-AI/Wan2.1-T2V-14B-Diffusers", ("t2v", "v2v"), approx_memory_gib=40.0),
            Checkpoint("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", ("i2v",), approx_memory_gib=42.0),
            Checkpoint("Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", ("i2v",), approx_memory_gib=42.0),
            Checkpoint("Wan-AI/Wan2.1-VACE-1.3B-diffusers", ("ref", "t2v"), approx_memory_gib=17.0,
                       pipelines=_VACE_ALONE),
            Checkpoint("Wan-AI/Wan2.1-VACE-14B-diffusers", ("ref", "t2v"), approx_memory_gib=44.0,
                       pipelines=_VACE_ALONE),
            Checkpoint("Wan-AI/Wan2.2-T2V-A14B-Diffusers", ("t2v",), approx_memory_gib=70.0,
                       note="two 14B experts (high / low noise)"),
            Checkpoint("Wan-AI/Wan2.2-I2V-A14B-Diffusers", ("i2v",), approx_memory_gib=70.0,
                       note="two 14B experts (high / low noise)"),
        ),
        frame_rule=(4, 1),
        resolution_multiple=16,
        native_fps=16,
        default_size=(832, 480),
        dtype="bfloat16",
        default_steps=50,
        default_guidance=5.0,
        makes_audio=False,
        max_frames=81,
        aliases=("wan2.1", "wan-2.1", "wan21"),
        approx_step_seconds=1.5,
        notes="T2V and I2V are separate checkpoints; VACE takes reference images (cameo).",
    ),
    Family(
        name="ltx-video",
        label="LTX-Video 0.9",
        pipelines={"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline", "v2v": "LTXConditionPipeline"},
        checkpoints=(
            Checkpoint("Lightricks/LTX-Video-0.9.5", ("t2v", "i2v", "v2v"), approx_memory_gib=18.0),
            Checkpoint("Lightricks/LTX-Video", ("t2v", "i2v"), approx_memory_gib=18.0,
                       note="0.9.0/0.9.1 weights; video conditioning needs 0.9.5 or later"),
        ),
        frame_rule=(8, 1),
        resolution_multiple=32,
        native_fps=24,
        default_size=(704, 480),
        dtype="bfloat16",
        default_steps=50,
        default_guidance=3.0,
        makes_audio=False,
        max_frames=257,
        aliases=("ltx", "ltxv", "ltx_video"),
        approx_step_seconds=0.5,
    ),
    Family(
        name="cogvideox",
        label="CogVideoX 1.0",
        pipelines={"t2v": "CogVideoXPipeline", "i2v": "CogVideoXImageToVideoPipeline",
                   "v2v": "CogVideoXVideoToVideoPipeline"},
        checkpoints=(
            Checkpoint("THUDM/CogVideoX-5b", ("t2v", "v2v"), approx_memory_gib=26.0),
            Checkpoint("THUDM/CogVideoX-2b", ("t2v", "v2v"), approx_memory_gib=18.0),
            Checkpoint("THUDM/CogVideoX-5b-I2V", ("i2v",), approx_memory_gib=26.0,
                       note="learned positional embeddings: 720×480 only"),
        ),
        frame_rule=(4, 1),
        resolution_multiple=16,
        native_fps=8,
        default_size=(720, 480),
        dtype="bfloat16",
        default_steps=50,
        default_guidance=6.0,
        makes_audio=False,
        max_frames=49,
        aliases=("cogvideo", "cog"),
        approx_step_seconds=3.0,
        notes="Trained at 720×480, 49 frames, 8 fps.",
    ),
)

_BY_NAME = {n.lower(): f for f in FAMILIES for n in (f.name, *f.aliases)}


def family_named(name: str) -> Family | None:
    """The family called `name` (or one of its aliases), case-insensitive."""
    return _BY_NAME.get(name.strip().lower())


def family_of_hub_id(hub_id: str) -> tuple[Family, Checkpoint] | None:
    for f in FAMILIES:
        c = f.checkpoint(hub_id)
        if c is not None:
            return f, c
    return None


def family_of_model_index(model_index: dict[str, Any]) -> Family | None:
    """The family whose pipelines include the model_index's `_class_name` (most specific match first)."""
    class_name = model_index.get("_class_name")
    candidates = [f for f in FAMILIES if class_name in f.pipelines.values()]
    for f in candidates:
        if f.model_index_match and all(model_index.get(k) == v for k, v in f.model_index_match.items()):
            return f
    return next((f for f in candidates if not f.model_index_match), None)


def pipeline_class_names() -> set[str]:
    return {c for f in FAMILIES for c in f.pipelines.values()}
