"""Headless rendering of recorded simulation states: warm GL contexts, render processes that draw chunks
of frames while the simulation is still running, and render settings that cost less for the same picture.

Why it is built this way (measured on 2 CPU cores, Mesa 22 llvmpipe, 256², shadows on; see bench/engine.py):
- A fresh GL context costs ~0.1 s before the first frame (Mesa compiles its shaders per context), and the
  first frames ~0.04 s more: each process keeps one context for its whole life and reuses it for every clip.
- llvmpipe is fill-bound, and its rasterizer threads (LP_NUM_THREADS, one per core by default) cost more
  than they save at these sizes (one process: 0.77 s for 120 frames without threads, 0.91 s with), with
  identical pixels: each render process runs single-threaded and the parallelism comes from two of them.
- The simulation hands over chunks as it records them (`RenderStream.submit`), so drawing overlaps the
  simulation and the sound; render processes write straight into shared memory. Without the pool a thread
  of this process draws them (MuJoCo lets go of the GIL while it draws).
- Per frame: MuJoCo's shadows are a depth pass plus a second lit pass over the screen. The floor (nothing
  lies below it) is left out of the depth pass, the shadow box is fitted around the objects so a 256² map
  is as sharp as MuJoCo's 512² over its default box, and textures skip trilinear filtering where it does
  not show. Together 6.3 → 4.2 ms per frame, the same pixels or within 52 dB.
Frames depend only on (scene, state, camera pose), so who draws a chunk cannot change a pixel.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import hashlib
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import types
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from sora_lite.engines.base import Cancelled, EngineUnavailable  # noqa: E402
from sora_lite.engines.world.camera import CameraPose  # noqa: E402
from sora_lite.engines.world.scene import Scene, compile_scene  # noqa: E402

CHUNK = 12  # frames per task: the unit of hand-over, cancel checks and progress reports
PARALLEL_MIN_PIXELS = 12 * 256 * 256  # smaller jobs stay in this process even when the pool is warm
COLD_START_PIXELS = 480 * 512 * 512  # a cold pool (~2 s to start both) pays only for clips this big (20 s at 512²);
# the app and the bench start it ahead with `warm_pool()`, and a one-off CLI clip renders on a thread here
POOL_SIZE = 2
SHADOW_MAP = 256  # texels (fast quality); over the fitted box below, sharper than MuJoCo's 512 over its default
SHADOW_BOX = 4.0  # metres: least half-size of the shadow box around the objects ...
SHADOW_MARGIN = 2.0  # ... and room beyond the farthest object for what rolls away
LIGHT_DISTANCE = 10.0  # metres from the objects back along a shadow-casting light (above walls and drops)
RENDERER_CACHE = 2  # compiled scenes kept per process (a storyboard rebuild, then the next clip)
STALL_SECONDS = 60.0  # no word from the render processes for this long: give up on them, draw here
PREVIEW_SECONDS = 0.3  # at most one preview frame this often (a browser shows it; more would only cost)
PreviewFn = Callable[[int, np.ndarray], None]  # (frame index, H×W×3 uint8 copy) while a clip renders


@dataclass
class RenderJob:
    """Everything needed to draw a run of frames of one segment; picklable."""

    scene: Scene
    backdrop: np.ndarray | None
    qpos: np.ndarray  # n×nq
    poses: list[CameraPose]
    hidden: np.ndarray  # n×N bool


# --- one process's GL context and compiled scenes -------------------------------------------------
def _gl_context_class() -> type:
    """EGL (MUJOCO_GL=egl), else OSMesa, else a message that says what to install."""
    errors = []
    for backend in ("default", "osmesa"):
        try:
            if backend == "default":
                from mujoco.rendering.classic import gl_context

                cls = gl_context.GLContext
            else:
                from mujoco.osmesa import GLContext as cls  # type: ignore[attr-defined,no-redef]
            ctx = cls(64, 64)
            ctx.make_current()
            ctx.free()
            return cls
        except Exception as e:  # noqa: BLE001 - any GL failure means: try the next backend
            errors.append(f"{backend}: {e}")
    raise EngineUnavailable(
        f"headless OpenGL is not available ({'; '.join(errors)}). Install Mesa's EGL "
        "(apt-get install libegl1 libgl1-mesa-dri) and set MUJOCO_GL=egl, or install libosmesa6 "
        "and set MUJOCO_GL=osmesa."
    )


class _Context:
    """This process's one GL context, made current around each use (threads take turns via `lock`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._cls: type | None = None
        self._gl: Any = None
        self._size = (0, 0)
        self.renderers: OrderedDict[str, FrameRenderer] = OrderedDict()

    def ensure(self, width: int, height: int) -> Any:
        if self._cls is None:
            self._cls = _gl_context_class()
        sized = "osmesa" in self._cls.__module__  # OSMesa draws into a buffer of the context's size; EGL does not
        if self._gl is None or (sized and (width > self._size[0] or height > self._size[1])):
            if self._gl is not None:  # growing: the compiled scenes go with the old context
                self._gl.make_current()
                self.drop_all()
                self._gl.free()
            self._size = (max(width, self._size[0], 256), max(height, self._size[1], 256))
            self._gl = self._cls(*self._size)
        self._gl.make_current()
        return self._gl

    def renderer(self, key: str, make_job: Callable[[], tuple[Scene, np.ndarray | None]]) -> FrameRenderer:
        r = self.renderers.get(key)
        if r is not None:
            self.renderers.move_to_end(key)
            return r
        scene, backdrop = make_job()
        r = FrameRenderer(scene, backdrop)
        self.renderers[key] = r
        while len(self.renderers) > RENDERER_CACHE:
            self.renderers.popitem(last=False)[1].close()
        return r

    def drop_all(self) -> None:
        while self.renderers:
            self.renderers.popitem()[1].close()

    def release(self) -> None:
        """Let another thread make the context current next time (EGL: one thread at a time)."""
        try:
            from mujoco.egl import EGL_DISPLAY, egl_ext as EGL  # type: ignore[attr-defined]

            if EGL_DISPLAY is not None:
                EGL.eglMakeCurrent(EGL_DISPLAY, EGL.EGL_NO_SURFACE, EGL.EGL_NO_SURFACE, EGL.EGL_NO_CONTEXT)
        except Exception:  # noqa: BLE001 - not EGL: nothing to release
            pass


_LOCAL = _Context()


class FrameRenderer:
    """One compiled scene on the current GL context: MjrContext, MjvScene and the state to pose it."""

    def __init__(self, scene: Scene, backdrop: np.ndarray | None) -> None:
        model = compile_scene(scene, backdrop)
        fast = scene.quality != "high"
        _tight_shadows(model, scene, fast)
        model.vis.global_.offwidth, model.vis.global_.offheight = scene.width, scene.height  # no bigger buffer
        self.model = model
        self.data = mujoco.MjData(model)
        self.width, self.height = scene.width, scene.height
        self.context = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_50.value)  # we draw no text
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self.context)
        _cheaper_filtering(self.context, fast)
        from sora_lite.engines.world.scenery import Decor

        self.decor = Decor(model, scene, float(getattr(scene, "fps", 24)))  # waves, weather, clouds (per frame)
        self.scene = mujoco.MjvScene(model, maxgeom=max(100, 4 * model.ngeom) + (400 if self.decor.active else 0))
        if model.vis.map.fogstart < 30:  # a foggy place or weather (scene.py sets the fog's distances)
            self.scene.flags[mujoco.mjtRndFlag.mjRND_FOG] = 1
        self.rect = mujoco.MjrRect(0, 0, scene.width, scene.height)
        self.option = mujoco.MjvOption()
        if scene.hidden_floor:
            self.option.geomgroup[3] = 0
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.free_z = []  # qpos address of each body's height (free joints), -1 for hinged bodies
        for b in scene.bodies:
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"obj{b.index}_j")
            free = model.jnt_type[jid] == mujoco.mjtJoint.mjJNT_FREE
            self.free_z.append(int(model.jnt_qposadr[jid]) + 2 if free else -1)
        self._flip = np.empty((scene.height, scene.width, 3), dtype=np.uint8)
        # The floor plane receives shadows but nothing lies below it to shade: drawn as "decor", MuJoCo leaves it
        # out of the shadow map, which then only rasterizes the objects (18 % of a 256² frame, same pixels).
        self.floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        # the still's layers (image-to-video) receive shadows but cast none (they are the picture, not things)
        self.flat = {g for g in (self.floor, *(mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, n)
                                              for n in ("backdrop", "ground_layer", *(f"picture_layer{i}"
                                                        for i in range(len(scene.layer_meshes or []))))))
                     if g >= 0}
        # a place's terrain, water and props (static scenery: bodies env<k>) cast no shadows: the shadow map is kept
        # for the objects, which is what the eye reads contact from, and the shadow pass stays small
        self.flat |= {g for g in (mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, n) for n in ("terrain", "water"))
                      if g >= 0}
        roots = {mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"env{k}") for k in range(model.nbody)} - {-1}
        if roots:
            self.flat |= {g for g in range(model.ngeom) if int(model.body_rootid[model.geom_bodyid[g]]) in roots}

    def draw(self, qpos: np.ndarray, poses: list[CameraPose], hidden: np.ndarray, out: np.ndarray,
             tick: Callable[[int], None] | None = None, first: int = 0) -> None:
        """Draw len(qpos) frames into out (n×H×W×3); `tick(done)` runs every CHUNK frames; `first` is the clip
        frame index of qpos[0] (moving water and weather depend on it)."""
        model, data, cam = self.model, self.data, self.camera
        n = qpos.shape[0]
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self.context)  # this scene's FBO
        for i in range(n):
            data.qpos[:] = qpos[i]
            for k in np.flatnonzero(hidden[i]):
                if self.free_z[k] >= 0:
                    data.qpos[self.free_z[k]] = -100.0  # out of every view and every shadow
            mujoco.mj_kinematics(model, data)
            mujoco.mj_camlight(model, data)  # light directions live in data, not only in the model
            pose = poses[i]
            model.vis.global_.fovy = pose.fovy
            cam.lookat[:] = pose.lookat
            cam.distance = pose.distance
            cam.azimuth = pose.azimuth
            cam.elevation = pose.elevation
            if self.decor.active:
                self.decor.before(self.context, first + i)
            mujoco.mjv_updateScene(model, data, self.option, None, cam, mujoco.mjtCatBit.mjCAT_ALL.value, self.scene)
            if self.decor.active:
                self.decor.add(self.scene, first + i, np.asarray(pose.lookat, dtype=float), data)
            self._floor_casts_no_shadow()
            mujoco.mjr_render(self.rect, self.scene, self.context)
            mujoco.mjr_readPixels(self._flip, None, self.rect, self.context)
            np.copyto(out[i], self._flip[::-1])  # OpenGL rows run bottom-up
            if tick is not None and (i % CHUNK == CHUNK - 1 or i == n - 1):
                tick(i + 1)

    def _floor_casts_no_shadow(self) -> None:
        if not self.flat:
            return
        left = len(self.flat)
        for j in range(self.scene.ngeom):
            g = self.scene.geoms[j]
            if g.objtype == mujoco.mjtObj.mjOBJ_GEOM and g.objid in self.flat:
                g.category = mujoco.mjtCatBit.mjCAT_DECOR.value
                left -= 1
                if not left:
                    return

    def close(self) -> None:
        self.context.free()


def _tight_shadows(model: mujoco.MjModel, scene: Scene, fast: bool) -> None:
    """Render-only: fit each shadow-casting directional light's shadow box to where the objects are.

    MuJoCo centres the box on the light's position (scene.py: 0 0 6, so a slanted light's box lands metres
    away from the objects) and sizes it by the model extent (rooms: ±84 m of walls, a third of a metre per
    shadow texel). A box around the objects with room to roll gives sharper shadows from a smaller map."""
    pts = np.array([b.pos for b in scene.bodies], dtype=float).reshape(-1, 3)
    centre = pts.mean(axis=0) if len(pts) else np.asarray(model.stat.center, dtype=float)
    spread = float(np.max(np.linalg.norm(pts - centre, axis=1))) if len(pts) else 0.0
    half = max(SHADOW_BOX, spread + SHADOW_MARGIN)
    for i in range(model.nlight):
        if model.light_castshadow[i] and model.light_type[i] == mujoco.mjtLightType.mjLIGHT_DIRECTIONAL:
            d = np.asarray(model.light_dir[i], dtype=float)
            d /= max(1e-9, float(np.linalg.norm(d)))
            model.light_pos[i] = centre - LIGHT_DISTANCE * d
    model.vis.map.shadowclip = min(float(model.vis.map.shadowclip), half / max(1e-6, float(model.stat.extent)))
    if fast:
        model.vis.quality.shadowsize = min(int(model.vis.quality.shadowsize), SHADOW_MAP)


# The few GL names `_cheaper_filtering` uses (values from the GL headers).
_GL_TEXTURE_2D, _GL_TEXTURE_CUBE_MAP, _GL_TEXTURE_MIN_FILTER = 0x0DE1, 0x8513, 0x2801
_GL_LINEAR, _GL_LINEAR_MIPMAP_NEAREST = 0x2601, 0x2701


@functools.cache
def _gl_texture_calls() -> tuple[Callable[..., None], Callable[..., None]] | None:
    """glBindTexture and glTexParameteri from the GL library that MuJoCo's EGL/OSMesa backend had PyOpenGL
    open: importing all of `OpenGL.GL` for these two calls costs ~80 ms of a CLI run."""
    try:
        from OpenGL import platform

        lib = platform.PLATFORM.GL
        bind = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint)(("glBindTexture", lib))
        param = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_uint, ctypes.c_int)(("glTexParameteri", lib))
        return bind, param
    except (ImportError, AttributeError, OSError):
        return None


def _cheaper_filtering(context: mujoco.MjrContext, fast: bool) -> None:
    """MuJoCo samples every texture trilinearly, ~15 % of a frame on llvmpipe. The sky is a smooth
    gradient, so plain bilinear gives the same pixels; in fast quality the floor reads one mip level
    (bilinear), 52 dB PSNR from trilinear on the bench scene."""
    calls = _gl_texture_calls()
    if calls is None:
        return
    bind, param = calls
    for i in range(context.ntexture):
        if context.textureType[i] == mujoco.mjtTexture.mjTEXTURE_2D:
            if not fast:
                continue
            target, mode = _GL_TEXTURE_2D, _GL_LINEAR_MIPMAP_NEAREST
        elif context.textureType[i] == mujoco.mjtTexture.mjTEXTURE_SKYBOX:
            target, mode = _GL_TEXTURE_CUBE_MAP, _GL_LINEAR
        else:
            continue
        bind(target, int(context.texture[i]))
        param(target, _GL_TEXTURE_MIN_FILTER, mode)
        bind(target, 0)


def scene_key(scene: Scene, backdrop: np.ndarray | None) -> str:
    """What identifies a compiled scene across processes (the same key ⇒ the same model and textures)."""
    h = hashlib.sha1(pickle.dumps(scene, protocol=pickle.HIGHEST_PROTOCOL))
    if backdrop is not None:
        h.update(str(backdrop.shape).encode())
        h.update(np.ascontiguousarray(backdrop).data)
    return h.hexdigest()


def render_frames(job: RenderJob, out: np.ndarray | None = None,
                  tick: Callable[[int], None] | None = None, key: str | None = None, first: int = 0) -> np.ndarray:
    """Draw every frame of a job in this process, on its warm GL context."""
    n = job.qpos.shape[0]
    if out is None:
        out = np.empty((n, job.scene.height, job.scene.width, 3), dtype=np.uint8)
    key = key or scene_key(job.scene, job.backdrop)
    with _LOCAL.lock:
        try:
            _LOCAL.ensure(job.scene.width, job.scene.height)
            renderer = _LOCAL.renderer(key, lambda: (job.scene, job.backdrop))
            renderer.draw(job.qpos, job.poses, job.hidden, out, tick, first)
        except (EngineUnavailable, Cancelled):
            raise
        except (RuntimeError, OSError) as e:  # GL context / driver failures
            raise EngineUnavailable(f"headless rendering failed ({e}); check MUJOCO_GL and Mesa's EGL/OSMesa") from None
        finally:
            _LOCAL.release()
    return out


# --- the render processes --------------------------------------------------------------------------
def _serve(tasks: Any, results: Any, skip_before: Any) -> None:
    """A render process: one warm GL context, compiled scenes cached by key, frames into shared memory."""
    attached: dict[str, shared_memory.SharedMemory] = {}

    def attach(name: str) -> shared_memory.SharedMemory:
        shm = attached.get(name)
        if shm is None:
            shm = shared_memory.SharedMemory(name=name)  # the parent owns and unlinks every block
            attached[name] = shm
        return shm

    def load_scene(ref: tuple[str, int]) -> tuple[Scene, np.ndarray | None]:
        blob = attach(ref[0])
        return pickle.loads(bytes(blob.buf[: ref[1]]))

    os.environ.setdefault("LP_NUM_THREADS", "0")  # read by Mesa when the first context is made, below
    try:
        _LOCAL.ensure(256, 256)
        results.put(("ready", os.getpid()))
    except Exception as e:  # noqa: BLE001 - report, then serve nothing: the parent renders itself
        results.put(("unavailable", str(e)))
        return
    parent = multiprocessing.parent_process()
    while True:
        try:
            task = tasks.get(timeout=2.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                break  # the app was killed: do not linger
            continue
        if task is None:
            break
        clip, chunk, out_name, out_shape, start, key, ref, qpos, poses, hidden = task
        if clip < skip_before.value:
            results.put(("skipped", clip, chunk, 0.0))
            continue
        t0 = time.perf_counter()
        try:
            out = np.ndarray(out_shape, dtype=np.uint8, buffer=attach(out_name).buf)
            _LOCAL.ensure(out_shape[2], out_shape[1])
            renderer = _LOCAL.renderer(key, lambda ref=ref: load_scene(ref))
            renderer.draw(qpos, poses, hidden, out[start:start + qpos.shape[0]], first=start)
            results.put(("done", clip, chunk, time.perf_counter() - t0))
        except Exception as e:  # noqa: BLE001 - the parent redraws this chunk itself
            results.put(("error", clip, chunk, f"{type(e).__name__}: {e}"))
        # Blocks of finished clips: let go of all but the current output and scene.
        for name in [n for n in attached if n not in (out_name, ref[0])]:
            try:
                attached.pop(name).close()
            except BufferError:  # still viewed by an array of a failed task; the OS frees it at exit
                pass


class _Pool:
    """POOL_SIZE long-lived spawned render processes sharing one task queue."""

    def __init__(self, size: int) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fork after OpenGL/threads is unsafe
        self.tasks = ctx.Queue()
        self.results = ctx.Queue()
        self.skip_before = ctx.Value("q", 0)
        self.busy = threading.Lock()  # one clip streams through the pool at a time
        self.clips = 0
        self.ready = 0
        self.broken = False
        self.procs = [ctx.Process(target=_serve, args=(self.tasks, self.results, self.skip_before),
                                  name=f"sora-render-{i}", daemon=True) for i in range(size)]
        with _main_hidden():
            for p in self.procs:
                p.start()

    def alive(self) -> bool:
        return not self.broken and all(p.is_alive() for p in self.procs)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every process has its GL context (or one reports it cannot have one)."""
        deadline = time.monotonic() + timeout
        while self.ready < len(self.procs) and not self.broken:
            try:
                msg = self.results.get(timeout=max(0.01, min(0.2, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline or not all(p.is_alive() for p in self.procs):
                    self.broken = True
                continue
            self.note(msg)
        return not self.broken

    def note(self, msg: tuple) -> None:
        if msg[0] == "ready":
            self.ready += 1
        elif msg[0] == "unavailable":
            self.broken = True

    def shutdown(self) -> None:
        """Ask the processes to finish; a broken pool is stopped at once (one may hang on the queue's lock)."""
        if not self.alive():
            for p in self.procs:
                p.terminate()
        for _ in self.procs:
            try:
                self.tasks.put(None)
            except (OSError, ValueError):
                pass
        for p in self.procs:
            p.join(timeout=2)
            if p.is_alive():
                p.terminate()


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """While starting render processes, show `spawn` an empty __main__: they need nothing from the caller's
    (an app, a script, pytest), and re-importing it there would cost seconds and run a script's top level."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


_POOL: _Pool | None = None
_POOL_LOCK = threading.Lock()
_POOL_FAILED = False  # set once the render processes failed (no GL there, killed ...): never restarted


def pool_usable() -> bool:
    """False once the render processes failed: clips then render in this process."""
    return not _POOL_FAILED and (_POOL is None or _POOL.alive())


def _pool(start: bool) -> _Pool | None:
    global _POOL, _POOL_FAILED
    with _POOL_LOCK:
        if _POOL is not None and not _POOL.alive():
            _POOL.shutdown()
            _POOL, _POOL_FAILED = None, True
        if _POOL_FAILED:
            return None
        if _POOL is None and start:
            _POOL = _Pool(POOL_SIZE)
            atexit.register(_shutdown)
        return _POOL


def _shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown()
        _POOL = None


def warm_pool() -> bool:
    """Start the render processes and their GL contexts ahead of the first clip (the app and the bench
    call this); False when they cannot render (then clips render in this process)."""
    if not pool_usable():
        return False
    pool = _pool(start=True)
    if pool is None:
        return False
    with pool.busy:  # no clip reads the answers meanwhile (it would draw here, not wait)
        return pool.wait_ready()


# --- a clip's frames, chunk by chunk -------------------------------------------------------------------
@dataclass
class _Task:
    chunk: int
    start: int
    job: RenderJob
    key: str
    done: bool = False


@dataclass
class RenderStream:
    """Frames of one clip, handed over chunk by chunk while the simulation runs; `frames()` collects them.

    With a pool (workers=2, and a warm pool or a big clip) the chunks render in the other processes as they
    arrive; otherwise on a thread of this process (MuJoCo lets go of the GIL while it draws), so the drawing
    still overlaps the simulation and the sound. Always `close()` (or use `with`).
    """

    n_frames: int
    width: int
    height: int
    workers: int = 2
    min_pixels: int = PARALLEL_MIN_PIXELS
    tasks: list[_Task] = field(default_factory=list)
    seconds: float = 0.0  # wall time from the first hand-over to the last frame
    remote_seconds: float = 0.0  # render time spent in the pool's processes
    used_pool: bool = False
    # preview(index, frame) from the first drawn chunk on: the local thread draws while the simulation still
    # runs, so a live view that waited for `frames()` would only start after the simulation and could see the
    # whole rest of a fast clip go by in a second or two (one frame, not a stream)
    preview: PreviewFn | None = None

    def __post_init__(self) -> None:
        shape = (self.n_frames, self.height, self.width, 3)
        self._preview: PreviewFn | None = self.preview
        self._previewed = -1.0
        self._show_lock = threading.Lock()
        self._pool: _Pool | None = None
        self._shm: shared_memory.SharedMemory | None = None
        self._blobs: dict[str, tuple[shared_memory.SharedMemory, int]] = {}
        self._t0: float | None = None
        self._thread: threading.Thread | None = None
        self._local: queue.Queue[_Task | None] = queue.Queue()
        self._stop = threading.Event()
        self._drawn = 0  # frames the local thread has drawn
        self._error: BaseException | None = None
        pixels = self.n_frames * self.width * self.height
        if self.workers > 1 and pixels >= self.min_pixels and pool_usable():
            pool = _pool(start=pixels >= COLD_START_PIXELS)
            if pool is not None and pool.busy.acquire(blocking=False):
                self._pool = pool
                pool.clips += 1
                self._clip = pool.clips
                self._shm = shared_memory.SharedMemory(create=True, size=max(1, int(np.prod(shape))))
                self.used_pool = True
        if self._shm is not None:
            self._out = np.ndarray(shape, dtype=np.uint8, buffer=self._shm.buf)
        else:
            self._out = np.empty(shape, dtype=np.uint8)

    def __enter__(self) -> RenderStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, job: RenderJob, start: int) -> None:
        """Hand over frames [start, start + len(job.qpos)) of the clip."""
        if self._t0 is None:
            self._t0 = time.perf_counter()
        key = scene_key(job.scene, job.backdrop) if not self.tasks or self.tasks[-1].job.scene is not job.scene \
            else self.tasks[-1].key
        n = job.qpos.shape[0]
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            part = RenderJob(job.scene, job.backdrop, job.qpos[lo:hi], job.poses[lo:hi], job.hidden[lo:hi])
            task = _Task(len(self.tasks), start + lo, part, key)
            self.tasks.append(task)
            if self._pool is not None:
                self._send(task)
            else:
                self._draw_later(task)

    def _draw_later(self, task: _Task) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._draw_local, name="sora-render", daemon=True)
            self._thread.start()
        self._local.put(task)

    def _draw_local(self) -> None:
        """The local render thread: draws handed-over chunks in order until told to stop."""

        def tick(k: int, drawn: list[int]) -> None:
            if self._stop.is_set():
                raise Cancelled("rendering was stopped")
            self._drawn += k - drawn[0]
            drawn[0] = k
            self._show(start[0] + k - 1)

        start = [0]  # the current chunk's first frame in the clip
        while True:
            task = self._local.get()
            if task is None or self._stop.is_set():
                return
            n = task.job.qpos.shape[0]
            start[0] = task.start
            try:
                render_frames(task.job, self._out[task.start:task.start + n], lambda k, d=[0]: tick(k, d), task.key,
                              task.start)
            except BaseException as e:  # noqa: BLE001 - handed to the caller of frames()
                self._error = e
                return
            task.done = True

    def _send(self, task: _Task) -> None:
        assert self._pool is not None and self._shm is not None
        if task.key not in self._blobs:
            blob = pickle.dumps((task.job.scene, task.job.backdrop), protocol=pickle.HIGHEST_PROTOCOL)
            shm = shared_memory.SharedMemory(create=True, size=max(1, len(blob)))
            shm.buf[: len(blob)] = blob
            self._blobs[task.key] = (shm, len(blob))
        shm, size = self._blobs[task.key]
        job = task.job
        self._pool.tasks.put((self._clip, task.chunk, self._shm.name, self._out.shape, task.start, task.key,
                              (shm.name, size), np.ascontiguousarray(job.qpos), job.poses,
                              np.ascontiguousarray(job.hidden)))

    def frames(self, cancel: threading.Event | None = None,
               progress: Callable[[float], None] | None = None,
               preview: PreviewFn | None = None) -> np.ndarray:
        """Wait for (or draw) every frame; a copy the caller owns. `preview(index, frame)` gets a finished frame
        every PREVIEW_SECONDS or so while the clip renders."""
        if self._t0 is None:
            self._t0 = time.perf_counter()
        handed = sum(t.job.qpos.shape[0] for t in self.tasks)
        if handed != self.n_frames:
            raise ValueError(f"{handed} frames were handed over for a clip of {self.n_frames}")
        done = [0]
        if preview is not None:
            self._preview = preview

        def report(n: int, last: int | None = None) -> None:
            done[0] += n
            if progress is not None:
                progress(min(1.0, done[0] / max(1, self.n_frames)))
            if last is not None:
                self._show(last)

        if self._pool is not None:
            self._collect(cancel, report)
        if self._thread is not None:
            self._local.put(None)
            while self._thread.is_alive():
                if cancel is not None and cancel.is_set():
                    raise Cancelled("generation was cancelled during rendering")
                self._thread.join(timeout=0.05)
                report(self._drawn - done[0], self._drawn - 1)
            if self._error is not None:
                raise self._error
        for task in self.tasks:  # whatever the pool did not draw (or everything, without a pool)
            if task.done:
                continue
            drawn = [0]

            def tick(k: int, drawn: list[int] = drawn) -> None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("generation was cancelled during rendering")
                report(k - drawn[0], task.start + k - 1)
                drawn[0] = k

            n = task.job.qpos.shape[0]
            render_frames(task.job, self._out[task.start:task.start + n], tick, task.key, task.start)
            task.done = True
        self.seconds = time.perf_counter() - self._t0
        return self._out.copy() if self._shm is not None else self._out

    def _collect(self, cancel: threading.Event | None, report: Callable[[int], None]) -> None:
        pool = self._pool
        assert pool is not None
        waiting = {t.chunk for t in self.tasks}
        heard = time.monotonic()
        while waiting:
            if cancel is not None and cancel.is_set():
                raise Cancelled("generation was cancelled during rendering")
            try:
                msg = pool.results.get(timeout=0.05)
            except queue.Empty:
                if not pool.alive() or time.monotonic() - heard > STALL_SECONDS:
                    pool.broken = True
                    return  # the rest is drawn here
                continue
            heard = time.monotonic()
            if msg[0] in ("ready", "unavailable"):
                pool.note(msg)
                continue
            kind, clip, chunk, info = msg
            if clip != self._clip or chunk not in waiting:
                continue  # a late answer for an earlier, abandoned clip
            waiting.discard(chunk)
            task = self.tasks[chunk]
            if kind == "done":
                task.done = True
                self.remote_seconds += float(info)
                report(task.job.qpos.shape[0], task.start + task.job.qpos.shape[0] - 1)
            # "error": drawn here afterwards; a GL failure there is not a reason to fail the clip

    def _show(self, index: int) -> None:
        """Hand frame `index` to the preview sink, at most every PREVIEW_SECONDS (the local render thread and
        the caller of `frames()` both call this)."""
        preview = self._preview
        if preview is None or index < 0 or not self._show_lock.acquire(blocking=False):
            return
        try:
            now = time.perf_counter()
            if now - self._previewed < PREVIEW_SECONDS:
                return
            self._previewed = now
            frame = self._out[index].copy()
        finally:
            self._show_lock.release()
        preview(int(index), frame)

    def close(self) -> None:
        """Free the shared memory, stop the local thread, and tell the pool to skip what is left of this clip."""
        if self._thread is not None:
            self._stop.set()
            self._local.put(None)
            self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.skip_before.value = max(self._pool.skip_before.value, self._clip + 1)
            self._pool.busy.release()
            self._pool = None
        for shm, _ in self._blobs.values():
            shm.close()
            shm.unlink()
        self._blobs.clear()
        if self._shm is not None:
            self._out = np.empty(0, dtype=np.uint8)
            self._shm.close()
            self._shm.unlink()
            self._shm = None
