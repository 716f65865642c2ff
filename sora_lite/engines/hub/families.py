"""The Hub video-model registry, as data: one `Family` per model family.

A family says which diffusers pipeline class serves each task, which Hub checkpoints exist and which tasks
each can serve from its own weights, and the rules a request must be snapped to (frame count, pixel multiple,
native frame rate). Adding a family is adding one entry to `FAMILIES`; nothing here imports torch or diffusers
(class names are resolved lazily by `loading.py`).

Tasks: "t2v" (text → video), "i2v" (still → video), "v2v" (video → video, used by remix), "ref" (reference-
conditioned generation, used by cameo). Numbers marked approx are published figures or estimates for planning
(memory policy, `spaces.GPU` duration), not measurements; `bench/hub.py` measures.

Each family (and, where they differ, each checkpoint) carries its recommended call settings as data
(`Settings`, with the source of each: a pipeline docstring, the diffusers docs or a model card).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

TASKS = ("t2v", "i2v", "v2v", "ref")
DTYPES = ("float32", "bfloat16", "float16")
TASK_LABELS = {"t2v": "text-to-video", "i2v": "image-to-video", "v2v": "video-to-video (remix)",
               "ref": "reference-conditioned (cameo)"}


@dataclass(frozen=True)
class Settings:
    """What a checkpoint's authors recommend running it with, and where that comes from (`source`).

    A family carries one `Settings`; a checkpoint overrides only the fields that differ for it
    (`Checkpoint.settings`, a partial dict). `call_kwargs` go to the pipeline call as they are (those the
    installed pipeline does not take are dropped and the record says so); the rest is applied by the engine
    and the loader. Every value here is data; the record of each clip says which of them ran.
    """

    steps: int
    guidance: float
    size: tuple[int, int]  # (width, height) the checkpoint was trained / is recommended at
    max_frames: int
    negative_prompt: str = ""
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    dtype: str | None = None  # the weights' own dtype on a GPU when it differs from the family's
    component_dtypes: dict[str, str] = field(default_factory=dict)  # components kept at another dtype (Wan VAE)
    flow_shift_by_height: tuple[tuple[int, float], ...] = ()  # ((max height, shift), ...): scheduler shift
    trained_size_only: bool = False  # run at the transformer config's sample size (CogVideoX)
    trained_frames_only: bool = False  # run at the transformer config's sample frames (learned pos. embeddings)
    source: str = ""

    def flow_shift_for(self, height: int) -> float | None:
        for max_height, shift in self.flow_shift_by_height:
            if height <= max_height:
                return shift
        return self.flow_shift_by_height[-1][1] if self.flow_shift_by_height else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    settings: dict[str, Any] = field(default_factory=dict)  # overrides of the family's Settings

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
    approx_step_seconds: float = 10.0  # approx seconds of ONE transformer pass at default size on one H100 (not measured)
    passes_per_step: int = 2  # transformer passes per step at the recommended guidance (CFG 2); bench/hub.py measures
    notes: str = ""
    settings: Settings | None = None  # the family's recommended settings (None: the fields above)

    def settings_for(self, hub_id: str | None = None) -> Settings:
        """The recommended settings of checkpoint `hub_id` (the family's own for an unknown id)."""
        base = self.settings or Settings(self.default_steps, self.default_guidance, self.default_size,
                                         self.max_frames)
        ckpt = self.checkpoint(hub_id) if hub_id else None
        if ckpt is None or not ckpt.settings:
            return base
        over = dict(ckpt.settings)
        if "call_kwargs" in over:
            over["call_kwargs"] = {**base.call_kwargs, **over["call_kwargs"]}
        return replace(base, **over)

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

    def snap_frames(self, frames: int, max_frames: int | None = None) -> int:
        """The nearest valid frame count m·k + o (k ≥ 1), at most `max_frames` (default: the family's)."""
        m, o = self.frame_rule
        top = max_frames or self.max_frames
        k = max(1, round((frames - o) / m))
        while m * k + o > top and k > 1:
            k -= 1
        return m * k + o

    def snap_size(self, width: int, height: int) -> tuple[int, int]:
        q = self.resolution_multiple
        return max(q, round(width / q) * q), max(q, round(height / q) * q)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# VACE text-to-video: its own pipeline with no control video (zeros, mask all ones) and no references.
_VACE_ALONE = {"t2v": "WanVACEPipeline"}

# Negative prompts as the installed diffusers pipelines' own examples give them (EXAMPLE_DOC_STRING).
LTX_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"
WAN_NEGATIVE = ("Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, "
                "static, overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra "
                "fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused "
                "fingers, still picture, messy background, three legs, many people in the background, walking "
                "backwards")

# LTX-2.0 (Lightricks/LTX-2). The installed LTX2Pipeline's defaults are LTX-2.3's (STG on block 28,
# cross timestep on); its docstring recommends block [29] and use_cross_timestep=False for LTX-2.0. CFG 3.0
# with 30 steps, 768x512, 121 frames and the negative prompt are the pipeline example's; the other guidance
# terms (STG 1.0, modality 3.0, rescale 0.7; audio CFG 7.0) are the pipeline's defaults, passed explicitly so
# a future change of defaults cannot change what runs. Guidance passes per step: CFG 2 + STG 1 + modality 1.
LTX2_0 = Settings(
    steps=30, guidance=3.0, size=(768, 512), max_frames=257, negative_prompt=LTX_NEGATIVE,
    call_kwargs={"spatio_temporal_guidance_blocks": [29], "use_cross_timestep": False, "stg_scale": 1.0,
                 "modality_scale": 3.0, "guidance_rescale": 0.7, "audio_guidance_scale": 7.0,
                 "audio_stg_scale": 1.0, "audio_modality_scale": 3.0, "audio_guidance_rescale": 0.7},
    source="diffusers LTX2Pipeline docstring (STG block [29] and use_cross_timestep=False for LTX-2.0; example: "
           "30 steps, CFG 3.0, 768x512, negative prompt); other guidance terms: the pipeline's own defaults",
)

# Wan 2.1: VAE in float32 and (I2V) the CLIP image encoder in float32, bf16 elsewhere; UniPC flow shift 3.0 at
# 480p, 5.0 at 720p; CFG 5.0, 50 steps, 81 frames at 16 fps; the long negative prompt.
WAN21 = Settings(
    steps=50, guidance=5.0, size=(832, 480), max_frames=81, negative_prompt=WAN_NEGATIVE,
    component_dtypes={"vae": "float32", "image_encoder": "float32"},
    flow_shift_by_height=((480, 3.0), (10_000, 5.0)),
    source="diffusers WanPipeline / WanImageToVideoPipeline / WanVideoToVideoPipeline docstrings (VAE and image "
           "encoder float32, flow_shift 5.0 for 720p and 3.0 for 480p, guidance 5.0, 81 frames, negative prompt)",
)

FAMILIES: tuple[Family, ...] = (
    Family(
        name="ltx2",
        label="LTX-2 (video + synchronized audio)",
        pipelines={"t2v": "LTX2Pipeline", "i2v": "LTX2ImageToVideoPipeline", "v2v": "LTX2ConditionPipeline"},
        checkpoints=(
            Checkpoint("Lightricks/LTX-2", ("t2v", "i2v", "v2v"), approx_memory_gib=64.0,
                       note="LTX-2.0: 19B audio-video transformer + Gemma 3 12B text encoder"),
        ),
        frame_rule=(8, 1),
        resolution_multiple=32,
        native_fps=24,
        default_size=(768, 512),
        dtype="bfloat16",
        default_steps=30,
        default_guidance=3.0,
        makes_audio=True,
        max_frames=257,
        aliases=("ltx-2", "ltx_2"),
        approx_step_seconds=3.0,
        passes_per_step=4,
        notes="One pass makes video and audio (vocoder output, 24 kHz stereo for the released checkpoint).",
        settings=LTX2_0,
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
        settings=Settings(
            steps=50, guidance=5.0, size=(1280, 704), max_frames=121, negative_prompt=WAN_NEGATIVE,
            component_dtypes={"vae": "float32"},
            source="Wan 2.2 TI2V-5B model card (1280x704, 121 frames at 24 fps, guidance 5.0, 50 steps; recalled, "
                   "not re-read offline); VAE float32 and negative prompt as in the diffusers Wan docstrings",
        ),
    ),
    Family(
        name="wan",
        label="Wan 2.1 / Wan 2.2 A14B",
        pipelines={"t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline", "v2v": "WanVideoToVideoPipeline",
                   "ref": "WanVACEPipeline"},
        checkpoints=(
            Checkpoint("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", ("t2v", "v2v"), approx_memory_gib=16.0),
            Checkpoint("Wan-AI/Wan2.1-T2V-14B-Diffusers", ("t2v", "v2v"), approx_memory_gib=40.0,
                       settings={"size": (1280, 720)}),
            Checkpoint("Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", ("i2v",), approx_memory_gib=42.0),
            Checkpoint("Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", ("i2v",), approx_memory_gib=42.0,
                       settings={"size": (1280, 720)}),
            Checkpoint("Wan-AI/Wan2.1-VACE-1.3B-diffusers", ("ref", "t2v"), approx_memory_gib=17.0,
                       pipelines=_VACE_ALONE),
            Checkpoint("Wan-AI/Wan2.1-VACE-14B-diffusers", ("ref", "t2v"), approx_memory_gib=44.0,
                       pipelines=_VACE_ALONE),
            Checkpoint("Wan-AI/Wan2.2-T2V-A14B-Diffusers", ("t2v",), approx_memory_gib=70.0,
                       note="two 14B experts (high / low noise)",
                       settings={"steps": 40, "guidance": 4.0, "size": (1280, 720), "flow_shift_by_height": (),
                                 "call_kwargs": {"guidance_scale_2": 3.0},
                                 "source": "Wan 2.2 T2V-A14B model card (guidance 4.0 high-noise expert, "
                                           "guidance_scale_2 3.0 low-noise expert, 40 steps, 1280x720, 81 frames; "
                                           "recalled, not re-read offline); VAE float32 as in the diffusers Wan "
                                           "docstrings; the checkpoint's own scheduler shift"}),
            Checkpoint("Wan-AI/Wan2.2-I2V-A14B-Diffusers", ("i2v",), approx_memory_gib=70.0,
                       note="two 14B experts (high / low noise)",
                       settings={"steps": 40, "guidance": 3.5, "flow_shift_by_height": (),
                                 "call_kwargs": {"guidance_scale_2": 3.5},
                                 "source": "Wan 2.2 I2V-A14B model card (guidance 3.5 for both experts, 40 steps, "
                                           "480p area, 81 frames; recalled, not re-read offline); VAE float32 as "
                                           "in the diffusers Wan docstrings; the checkpoint's own scheduler shift"}),
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
        settings=WAN21,
    ),
    Family(
        name="ltx-video",
        label="LTX-Video 0.9",
        pipelines={"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline", "v2v": "LTXConditionPipeline"},
        checkpoints=(
            Checkpoint("Lightricks/LTX-Video-0.9.5", ("t2v", "i2v", "v2v"), approx_memory_gib=18.0,
                       settings={"steps": 40, "size": (768, 512),
                                 "call_kwargs": {"image_cond_noise_scale": 0.025},  # LTXConditionPipeline
                                 "source": "diffusers LTX-Video docs (0.9.1+: decode_timestep 0.05, "
                                           "image_cond_noise_scale 0.025; non-distilled: guidance ~5.0); "
                                           "LTXConditionPipeline docstring (40 steps, 768x512, negative prompt)"}),
            Checkpoint("Lightricks/LTX-Video", ("t2v", "i2v"), approx_memory_gib=18.0,
                       note="0.9.0/0.9.1 weights; video conditioning needs 0.9.5 or later"),
        ),
        frame_rule=(8, 1),
        resolution_multiple=32,
        native_fps=24,
        default_size=(704, 480),
        dtype="bfloat16",
        default_steps=50,
        default_guidance=5.0,
        makes_audio=False,
        max_frames=257,
        aliases=("ltx", "ltxv", "ltx_video"),
        approx_step_seconds=0.5,
        settings=Settings(
            steps=50, guidance=5.0, size=(704, 480), max_frames=257, negative_prompt=LTX_NEGATIVE,
            call_kwargs={"decode_timestep": 0.05},
            source="diffusers LTX-Video docs (timestep-aware VAE, 0.9.1+: decode_timestep 0.05, "
                   "image_cond_noise_scale 0.025; non-distilled variants: guidance ~5.0); LTXPipeline docstring "
                   "(704x480, 50 steps, negative prompt). decode_timestep acts only with a timestep-conditioned VAE",
        ),
    ),
    Family(
        name="cogvideox",
        label="CogVideoX 1.0",
        pipelines={"t2v": "CogVideoXPipeline", "i2v": "CogVideoXImageToVideoPipeline",
                   "v2v": "CogVideoXVideoToVideoPipeline"},
        checkpoints=(
            Checkpoint("THUDM/CogVideoX-5b", ("t2v", "v2v"), approx_memory_gib=26.0),
            Checkpoint("THUDM/CogVideoX-2b", ("t2v", "v2v"), approx_memory_gib=18.0,
                       settings={"dtype": "float16",
                                 "source": "CogVideoXPipeline docstring (CogVideoX-2b in float16, guidance 6, 50 "
                                           "steps, 8 fps); model card: 720x480, 8N+1 frames with N <= 6"}),
            Checkpoint("THUDM/CogVideoX-5b-I2V", ("i2v",), approx_memory_gib=26.0,
                       note="learned positional embeddings: 720×480 and 49 frames only",
                       settings={"trained_frames_only": True, "call_kwargs": {"use_dynamic_cfg": True},
                                 "source": "CogVideoXImageToVideoPipeline docstring (bfloat16, use_dynamic_cfg=True, "
                                           "8 fps); learned positional embeddings: the transformer config's "
                                           "sample size and frame count (720x480, 49)"}),
        ),
        frame_rule=(8, 1),
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
        settings=Settings(
            steps=50, guidance=6.0, size=(720, 480), max_frames=49, trained_size_only=True,
            source="CogVideoXPipeline docstring (guidance 6, 50 steps, 8 fps); model card (720x480 only, 8N+1 "
                   "frames with N <= 6); the size is read from the transformer config (sample size x VAE scale)",
        ),
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
