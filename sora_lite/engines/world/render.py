"""Headless rendering of recorded simulation states, in this process or in a small pool of processes.

MuJoCo renders one frame at a time on one OpenGL context, and Mesa on CPU uses about one core, so on a
2-core machine two processes (each with its own context, compiling the same `Scene`) nearly double the
frame rate. Frames depend only on (scene, state, camera pose), so the split cannot change a pixel.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import Callable

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from sora_lite.engines.base import Cancelled, EngineUnavailable  # noqa: E402
from sora_lite.engines.world.camera import CameraPose  # noqa: E402
from sora_lite.engines.world.scene import Scene, compile_scene  # noqa: E402

CHUNK = 12  # frames between cancel checks / progress reports
PARALLEL_MIN_PIXELS = 40 * 256 * 256  # below this a second process costs more than it saves


@dataclass
class RenderJob:
    """Everything a worker needs to draw a run of frames of one segment; picklable."""

    scene: Scene
    backdrop: np.ndarray | None
    qpos: np.ndarray  # n×nq
    poses: list[CameraPose]
    hidden: np.ndarray  # n×N bool


def make_renderer(model: mujoco.MjModel, width: int, height: int) -> mujoco.Renderer:
    """A headless renderer; EGL first, then OSMesa, else a message that says what to install."""
    # The font atlas is built on every context: at the default scale 150 it costs ~0.3 s; we draw no text.
    small_font = mujoco.mjtFontScale.mjFONTSCALE_50
    try:
        return mujoco.Renderer(model, height=height, width=width, font_scale=small_font)
    except Exception as first:  # noqa: BLE001 - any GL failure means: try the other backend
        try:
            from mujoco import osmesa  # type: ignore[attr-defined]
            from mujoco.rendering.classic import gl_context

            gl_context.GLContext = osmesa.GLContext
            return mujoco.Renderer(model, height=height, width=width, font_scale=small_font)
        except Exception:  # noqa: BLE001
            raise EngineUnavailable(
                f"headless OpenGL is not available ({first}). Install Mesa's EGL "
                "(apt-get install libegl1 libgl1-mesa-dri) and set MUJOCO_GL=egl, or install libosmesa6 "
                "and set MUJOCO_GL=osmesa."
            ) from None


def render_frames(job: RenderJob, out: np.ndarray | None = None,
                  tick: Callable[[int], None] | None = None) -> np.ndarray:
    """Draw every frame of a job; `tick(frames_done)` runs between chunks (cancel checks, progress)."""
    scene = job.scene
    model = compile_scene(scene, job.backdrop)
    data = mujoco.MjData(model)
    renderer = make_renderer(model, scene.width, scene.height)
    n = job.qpos.shape[0]
    if out is None:
        out = np.empty((n, scene.height, scene.width, 3), dtype=np.uint8)
    option = mujoco.MjvOption()
    if scene.hidden_floor:
        option.geomgroup[3] = 0
    cam = mujoco.MjvCamera()
    cam.type = mujoco.mjtCamera.mjCAMERA_FREE
    free_adr = []
    for b in scene.bodies:
        jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"obj{b.index}_j")
        free = model.jnt_type[jid] == mujoco.mjtJoint.mjJNT_FREE
        free_adr.append(int(model.jnt_qposadr[jid]) if free else -1)
    try:
        for i in range(n):
            data.qpos[:] = job.qpos[i]
            for k in np.nonzero(job.hidden[i])[0]:
                if free_adr[k] >= 0:
                    data.qpos[free_adr[k] + 2] = -100.0  # out of every view and every shadow
            mujoco.mj_kinematics(model, data)
            mujoco.mj_camlight(model, data)  # light directions live in data, not only in the model
            pose = job.poses[i]
            model.vis.global_.fovy = pose.fovy
            cam.lookat[:] = pose.lookat
            cam.distance = pose.distance
            cam.azimuth = pose.azimuth
            cam.elevation = pose.elevation
            renderer.update_scene(data, camera=cam, scene_option=option)
            renderer.render(out=out[i])
            if tick is not None and (i % CHUNK == CHUNK - 1 or i == n - 1):
                tick(i + 1)
    finally:
        renderer.close()
    return out


def _worker(job: RenderJob) -> np.ndarray:
    return render_frames(job)


_POOL: cf.ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_POOL_BROKEN = False


def pool_usable() -> bool:
    """A spawned helper re-imports the caller's __main__; skip it where that cannot work (stdin scripts)."""
    import sys

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return not _POOL_BROKEN and (main_file is None or os.path.exists(main_file))


def _pool() -> cf.ProcessPoolExecutor:
    """One long-lived spawn pool (a fork after OpenGL/threads is unsafe); reused across clips."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = cf.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            atexit.register(_shutdown)
        return _POOL


def _shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
        _POOL = None


def warm_pool() -> None:
    """Start the helper process ahead of the first clip (the app and the bench call this)."""
    _pool().submit(int, 0).result()


def render_job(job: RenderJob, workers: int, cancel: threading.Event | None,
               progress: Callable[[float], None] | None, min_pixels: int = PARALLEL_MIN_PIXELS) -> np.ndarray:
    """Render a job, splitting it between this process and one helper process when that pays."""
    n = job.qpos.shape[0]
    out = np.empty((n, job.scene.height, job.scene.width, 3), dtype=np.uint8)
    pixels = n * job.scene.width * job.scene.height
    # A cold helper costs ~1-2 s to start (spawn + imports): worth it only for big jobs, or once warm
    # (the app calls `warm_pool` at start-up).
    worth = pixels >= (min_pixels if _POOL is not None else 4 * min_pixels)
    split = workers > 1 and worth and n >= 24 and pool_usable()
    half = n // 2 if split else n
    future = None
    if split:
        tail = RenderJob(job.scene, job.backdrop, job.qpos[half:], job.poses[half:], job.hidden[half:])
        future = _pool().submit(_worker, tail)
    head = RenderJob(job.scene, job.backdrop, job.qpos[:half], job.poses[:half], job.hidden[:half])

    def tick(done: int) -> None:
        if cancel is not None and cancel.is_set():
            if future is not None:
                future.cancel()
            raise Cancelled("generation was cancelled during rendering")
        if progress is not None:
            progress(done / max(1, half))

    render_frames(head, out[:half], tick)
    if future is not None:
        try:
            out[half:] = future.result()
        except (cf.process.BrokenProcessPool, OSError, RuntimeError):
            # The helper died (no GL there, killed ...): draw the rest here and stop using it.
            global _POOL_BROKEN
            _POOL_BROKEN = True
            _shutdown()
            render_frames(RenderJob(job.scene, job.backdrop, job.qpos[half:], job.poses[half:], job.hidden[half:]), out[half:])
    return out
