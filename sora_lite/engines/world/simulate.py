"""Stepping the MuJoCo world: contact events, restitution, perturbations, continuity across shots.

Restitution model. MuJoCo's soft contacts do not bounce by a chosen coefficient (its damped-spring
contacts lose most of the energy, and how much depends on the time step), so bounces are made the
classic event-driven way: when a pair of bodies first touches with approach speed above
`BOUNCE_MIN_SPEED`, the impulse λ = -(1+e)·vₙ / (Jₙ M⁻¹ Jₙᵀ) is applied along the contact normal in
generalized coordinates (so spin and hinged bodies are handled), and MuJoCo's contact solver handles
resting, sliding and rolling. A ball dropped with restitution e then rises to e²·h (measured within 2 %).
`e > 1` (the energy_gain perturbation) uses the same rule, so apexes grow.

Timing. Each step runs `mj_step1` (positions, collisions), reads the new contacts with the
pre-impact velocities, applies impulses, then `mj_step2`. A contact's time is refined inside the step
from its penetration depth and approach speed, so sounds can be placed sub-step accurately.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, field
from collections.abc import Callable

import mujoco
import numpy as np

from sora_lite.engines.base import Cancelled
from sora_lite.engines.world.scene import Scene, compile_scene
from sora_lite.engines.world.spec import Perturbation

BOUNCE_MIN_SPEED = 0.3  # m/s; slower touches are left to MuJoCo's (inelastic) contact
SOUND_MIN_SPEED = 0.12  # m/s; slower touches make no impact sound
REARM_SECONDS = 0.03  # a pair must be apart this long before touching again counts as a new impact
CHUNK = 12  # frames between cancel checks, progress reports and hand-overs to the renderer
DEFAULT_AMOUNT = {"energy_gain": 1.25, "teleport": 0.6, "audio_shift": 120.0}


@dataclass
class ContactEvent:
    """One impact: when (video seconds, and the frame showing it), who, how hard."""

    time: float
    sim_time: float
    frame: int
    objects: list[str]
    bodies: list[int]  # body indices, -1 for the static world (floor, table, ramp, walls)
    impulse: float  # N·s along the normal
    speed: float  # m/s approach speed
    position: list[float]
    timbres: list[str]
    kind: str = "impact"  # "step" (a footfall or jump landing) or "hand" (a clap): animate.py's contacts

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Segment:
    """What one compiled model produced: the frames of one or more shots between rebuilds."""

    scene: Scene
    start_frame: int
    qpos: np.ndarray  # n×nq, for the renderer
    pos: np.ndarray  # n×N×3, centre of each body's main geom
    quat: np.ndarray  # n×N×4 (w, x, y, z)
    vel: np.ndarray  # n×N×3 linear velocity
    hidden: np.ndarray  # n×N bool (vanished)
    slip: np.ndarray  # n×N m/s, sliding speed at the contact
    roll: np.ndarray  # n×N m/s, rolling speed
    events: list[ContactEvent] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.qpos.shape[0])


class Simulation:
    """One MuJoCo model and its state; `rebuild` swaps the model and carries persisting bodies."""

    def __init__(self, scene: Scene, perturbations: list[Perturbation], speed: float, fps: int,
                 backdrop_pixels: np.ndarray | None = None) -> None:
        self.perturbations = perturbations
        self.speed = speed
        self.fps = fps
        self.applied: list[dict] = []
        self._done: set[int] = set()
        self._backdrop = backdrop_pixels
        self._load(scene)
        self._set_initial_state()

    # --- building ----------------------------------------------------------------------------
    def _load(self, scene: Scene) -> None:
        self.scene = scene
        self.model = compile_scene(scene, self._backdrop)
        self.data = mujoco.MjData(self.model)
        m = self.model
        n = len(scene.bodies)
        self.body_ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"obj{b.index}") for b in scene.bodies]
        self.geom_ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, f"obj{b.index}_g") for b in scene.bodies]
        self.joint_ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, f"obj{b.index}_j") for b in scene.bodies]
        # geom → object index (-1: static world); body of each geom → object
        body_obj = np.full(m.nbody, -1, dtype=int)
        for k, bid in enumerate(self.body_ids):
            body_obj[bid] = k
        self.geom_obj = body_obj[m.geom_bodyid]
        self.geom_label = []
        for g in range(m.ngeom):
            name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, g) or "world"
            self.geom_label.append(name.split("_")[0] if self.geom_obj[g] < 0 else scene.bodies[self.geom_obj[g]].name)
        self.hidden = np.zeros(n, dtype=bool)
        from sora_lite.engines.world.animate import Animator

        self.anim = Animator(m, scene, self.body_ids, self.joint_ids)  # recipe objects' limbs, wheels, gaits
        # One slot per body pair (the static world counts as one body), looked up by geom pair in one step;
        # the last slot stands for world-world pairs, which never make a sound.
        lo = np.minimum.outer(self.geom_obj, self.geom_obj)
        hi = np.maximum.outer(self.geom_obj, self.geom_obj)
        self._pair_slot = np.where(hi < 0, (n + 1) * (n + 1), (lo + 1) * (n + 1) + (hi + 1))
        self._last_touch = np.full((n + 1) * (n + 1) + 1, -np.inf)
        self._last_touch[-1] = np.inf
        self._reapply_persistent()

    def _set_initial_state(self) -> None:
        m, d = self.model, self.data
        for b, jid in zip(self.scene.bodies, self.joint_ids):
            qa, va = m.jnt_qposadr[jid], m.jnt_dofadr[jid]
            if b.shape == "pendulum":
                assert b.pivot is not None
                dx, dz = b.pos[0] - b.pivot[0], b.pos[2] - b.pivot[2]
                # hinge about +y: positive angle swings the bob from -z toward -x... measured from straight down
                d.qpos[qa] = math.atan2(-dx, -dz)
                d.qvel[va] = b.vel[4] if len(b.vel) > 4 else 0.0
                continue
            d.qpos[qa:qa + 3] = b.pos
            d.qpos[qa + 3:qa + 7] = b.quat
            d.qvel[va:va + 3] = b.vel[:3]
            ang_world = np.asarray(b.vel[3:6], dtype=float)
            ang_local = np.zeros(3)
            conj = np.array([b.quat[0], -b.quat[1], -b.quat[2], -b.quat[3]], dtype=float)
            mujoco.mju_rotVecQuat(ang_local, ang_world, conj)
            d.qvel[va + 3:va + 6] = ang_local
        mujoco.mj_forward(m, d)

    def _joint_state(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        m, d = self.model, self.data
        jid = self.joint_ids[k]
        nq = 7 if m.jnt_type[jid] == mujoco.mjtJoint.mjJNT_FREE else 1
        nv = 6 if nq == 7 else 1
        qa, va = m.jnt_qposadr[jid], m.jnt_dofadr[jid]
        return d.qpos[qa:qa + nq].copy(), d.qvel[va:va + nv].copy()

    def rebuild(self, scene: Scene, relaunch: set[str] | None = None) -> list[str]:
        """Swap in a new model (new objects, new lights ...); bodies with the same name keep their state,
        except that those in `relaunch` (a later shot gave them a new motion: "the ball rolls toward the cube")
        take their new spec velocity where they are.

        Returns the names of bodies carried over.
        """
        old = {b.name: self._joint_state(k) for k, b in enumerate(self.scene.bodies)}
        old_hidden = {b.name: bool(self.hidden[k]) for k, b in enumerate(self.scene.bodies)}
        t = self.data.time
        self._load(scene)
        self._set_initial_state()
        m, d = self.model, self.data
        d.time = t
        carried = []
        for k, b in enumerate(scene.bodies):
            if b.name in old:
                qpos, qvel = old[b.name]
                jid = self.joint_ids[k]
                qa, va = m.jnt_qposadr[jid], m.jnt_dofadr[jid]
                if qpos.size == (7 if m.jnt_type[jid] == mujoco.mjtJoint.mjJNT_FREE else 1):
                    d.qpos[qa:qa + qpos.size] = qpos
                    d.qvel[va:va + qvel.size] = qvel
                    if relaunch and b.name in relaunch and qpos.size == 7:
                        d.qvel[va:va + 3] = b.vel[:3]
                    carried.append(b.name)
                if old_hidden.get(b.name):
                    self._vanish(k)
        mujoco.mj_forward(m, d)
        self._reapply_persistent()
        return carried

    # --- perturbations -----------------------------------------------------------------------
    def _target(self, p: Perturbation) -> int | None:
        return p.target if p.target < len(self.scene.bodies) else None

    def _reapply_persistent(self) -> None:
        for rec in self.applied:
            if rec["kind"] == "gravity_flip":
                self.model.opt.gravity[2] = abs(self.model.opt.gravity[2])

    def _vanish(self, k: int) -> None:
        self.hidden[k] = True
        bid = self.body_ids[k]
        for g in np.nonzero(self.model.geom_bodyid == bid)[0]:
            self.model.geom_contype[g] = 0
            self.model.geom_conaffinity[g] = 0

    def _apply_due(self, frame: int) -> None:
        if len(self._done) == len(self.perturbations):
            return
        video_t = self.data.time / self.speed
        for i, p in enumerate(self.perturbations):
            if i in self._done or video_t + 1e-9 < p.at:
                continue
            self._done.add(i)
            amount = p.amount if p.amount else DEFAULT_AMOUNT.get(p.kind, 0.0)
            k = self._target(p)
            rec = {"kind": p.kind, "at": p.at, "frame": frame, "target": p.target,
                   "object": self.scene.bodies[k].name if k is not None else None, "amount": amount}
            if p.kind == "gravity_flip":
                self.model.opt.gravity[2] = abs(self.model.opt.gravity[2])
            elif p.kind == "teleport" and k is not None:
                jid = self.joint_ids[k]
                qa = self.model.jnt_qposadr[jid]
                if self.model.jnt_type[jid] == mujoco.mjtJoint.mjJNT_FREE:
                    self.data.qpos[qa] += amount
                    self.data.qpos[qa + 2] += 0.05  # never into the floor
                else:
                    self.data.qpos[qa] += amount
                mujoco.mj_forward(self.model, self.data)
            elif p.kind == "vanish" and k is not None:
                self._vanish(k)
            self.applied.append(rec)

    def _restitution(self, a: int, b: int) -> float:
        video_t = self.data.time / self.speed
        for i, p in enumerate(self.perturbations):
            if p.kind == "energy_gain" and video_t + 1e-9 >= p.at and p.target in (a, b):
                if i not in self._done:
                    self._done.add(i)
                    self.applied.append({"kind": p.kind, "at": p.at, "frame": int(round(video_t * self.fps)),
                                         "target": p.target, "object": self.scene.bodies[p.target].name,
                                         "amount": p.amount or DEFAULT_AMOUNT["energy_gain"]})
                return p.amount or DEFAULT_AMOUNT["energy_gain"]
        es = [self.scene.bodies[k].material.restitution for k in (a, b) if k >= 0]
        return float(sum(es) / len(es)) if es else 0.0

    # --- stepping ----------------------------------------------------------------------------
    def _impacts(self, frame_offset: int, events: list[ContactEvent]) -> None:
        """Find pairs that just touched, apply the restitution impulse, and record the event."""
        m, d = self.model, self.data
        n = d.ncon
        now = d.time
        if n == 0:
            return
        g1 = d.contact.geom1[:n]
        g2 = d.contact.geom2[:n]
        slots = self._pair_slot[g1, g2]
        last = self._last_touch[slots]
        self._last_touch[slots] = now
        self._last_touch[-1] = np.inf  # world-world: never fresh
        is_fresh = now - last > REARM_SECONDS + 1e-9
        if not is_fresh.any():
            return
        o1, o2 = self.geom_obj[g1], self.geom_obj[g2]
        lo, hi = np.minimum(o1, o2), np.maximum(o1, o2)
        fresh: dict[tuple[int, int], list[int]] = {}
        for c in np.nonzero(is_fresh)[0]:
            fresh.setdefault((int(lo[c]), int(hi[c])), []).append(int(c))
        changed = False
        for key, idx in fresh.items():
            c0 = idx[0]
            normal = d.contact.frame[c0, :3].copy()
            point = d.contact.pos[idx].mean(axis=0)
            dist = float(d.contact.dist[idx].min())
            b1, b2 = int(m.geom_bodyid[g1[c0]]), int(m.geom_bodyid[g2[c0]])
            jac1, jac2 = np.zeros((3, m.nv)), np.zeros((3, m.nv))
            mujoco.mj_jac(m, d, jac1, None, point, b1)
            mujoco.mj_jac(m, d, jac2, None, point, b2)
            jn = normal @ (jac2 - jac1)
            vn = float(jn @ d.qvel)  # < 0: approaching
            if vn > -SOUND_MIN_SPEED:
                continue
            minv_jn = np.zeros(m.nv)
            mujoco.mj_solveM(m, d, minv_jn.reshape(1, -1), jn.reshape(1, -1))
            w = float(jn @ minv_jn)
            if w <= 1e-12:
                continue
            a, b = int(self.geom_obj[g1[c0]]), int(self.geom_obj[g2[c0]])
            e = self._restitution(a, b)
            if vn < -BOUNCE_MIN_SPEED:
                lam = -(1.0 + e) * vn / w
                d.qvel[:] += minv_jn * lam
                changed = True
            else:
                lam = -vn / w
            dt = m.opt.timestep
            t_contact = now - min(dt, max(0.0, -dist) / max(-vn, 1e-6))
            video_t = t_contact / self.speed
            names = [self.geom_label[g1[c0]], self.geom_label[g2[c0]]]
            timbres = [self.scene.bodies[k].material.timbre if k >= 0 else _static_timbre(names[j], self.scene)
                       for j, k in enumerate((a, b))]
            events.append(ContactEvent(
                time=video_t, sim_time=t_contact, frame=int(math.ceil(video_t * self.fps - 1e-9)),
                objects=names, bodies=[a, b], impulse=float(lam), speed=float(-vn),
                position=[float(v) for v in point], timbres=timbres,
            ))
        if changed:
            mujoco.mj_fwdVelocity(m, d)

    def run(self, n_frames: int, frame_offset: int, cancel: threading.Event | None = None,
            progress: Callable[[float], None] | None = None,
            on_frames: Callable[[int, int, Segment], None] | None = None) -> Segment:
        """Advance n_frames video frames, recording each frame's state before stepping past it.

        `on_frames(lo, hi, segment)` runs every CHUNK frames once frames [lo, hi) are recorded (the renderer
        starts on them while the simulation goes on); `segment` is the one returned, still being filled."""
        m, d = self.model, self.data
        nb = len(self.scene.bodies)
        dt = m.opt.timestep
        frame_dt = self.speed / self.fps
        seg = Segment(self.scene, frame_offset, np.zeros((n_frames, m.nq)), np.zeros((n_frames, nb, 3)),
                      np.zeros((n_frames, nb, 4)), np.zeros((n_frames, nb, 3)), np.zeros((n_frames, nb), dtype=bool),
                      np.zeros((n_frames, nb)), np.zeros((n_frames, nb)))
        qpos, pos, quat, vel, hidden = seg.qpos, seg.pos, seg.quat, seg.vel, seg.hidden
        events = seg.events
        t0 = frame_offset * frame_dt
        res = np.zeros(6)
        shipped = 0
        anim = None if self.anim.empty else self.anim
        sim_start = d.time
        for i in range(n_frames):
            target = t0 + i * frame_dt
            while d.time < target - dt / 2:
                self._apply_due(frame_offset + i)
                if anim is not None:
                    anim.pose(d, d.time)
                    anim.drive(d)
                mujoco.mj_step1(m, d)
                before = len(events)
                self._impacts(frame_offset, events)
                if anim is not None and len(events) > before:  # a driven object met another: physics takes over
                    anim.release({k for e in events[before:] if min(e.bodies) >= 0 for k in e.bodies})
                mujoco.mj_step2(m, d)
            self._apply_due(frame_offset + i)
            if anim is not None:
                anim.pose(d, d.time)
            mujoco.mj_forward(m, d)
            qpos[i] = d.qpos
            pos[i] = d.geom_xpos[self.geom_ids]
            for k, bid in enumerate(self.body_ids):
                mujoco.mju_mat2Quat(quat[i, k], d.xmat[bid])
                mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_BODY, bid, res, 0)
                vel[i, k] = res[3:]
            hidden[i] = self.hidden
            self._friction(i, seg.slip, seg.roll)
            if i % CHUNK == CHUNK - 1 or i == n_frames - 1:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("generation was cancelled during the simulation")
                if on_frames is not None:
                    on_frames(shipped, i + 1, seg)
                    shipped = i + 1
                if progress is not None:
                    progress((i + 1) / n_frames)
        if anim is not None:
            self._footfalls(anim, seg, sim_start, d.time + frame_dt / 2)
        return seg

    def _footfalls(self, anim, seg: Segment, t0: float, t1: float) -> None:
        """Footfalls and hand contacts of animated figures as contact events (they make sound, like impacts)."""
        added = []
        for t, k, kind in anim.footfalls(t0, t1):
            f = int(round((t / self.speed) * self.fps)) - seg.start_frame
            if not 0 <= f < seg.n_frames or seg.hidden[f, k]:
                continue
            b = self.scene.bodies[k]
            p = seg.pos[f, k].copy()
            if kind == "step":
                p[2] = max(0.0, p[2] - (b.half[2] if b.half else b.size))
            speed = 0.6 if kind == "step" else 0.9
            mass = float(self.model.body_subtreemass[self.body_ids[k]])
            ground = _static_timbre("floor", self.scene)
            added.append(ContactEvent(
                time=t / self.speed, sim_time=t, frame=seg.start_frame + f,
                objects=[b.name, "floor" if kind == "step" else b.name], bodies=[k, -1 if kind == "step" else k],
                impulse=float(min(mass, 80.0) * 0.02 * speed), speed=speed, position=[float(v) for v in p],
                timbres=[ground] if kind == "step" else ["wood"], kind=kind))
        if added:
            seg.events.extend(added)
            seg.events.sort(key=lambda e: e.time)

    def _friction(self, i: int, slip: np.ndarray, roll: np.ndarray) -> None:
        """Sliding speed at each object's contacts and its rolling speed, for the friction noise.

        Each object is measured at its first contact in MuJoCo's contact order."""
        m, d = self.model, self.data
        n = d.ncon
        if n == 0:
            return
        objs = self.geom_obj[np.stack([d.contact.geom1[:n], d.contact.geom2[:n]], axis=1)].ravel()
        ks, first = np.unique(objs, return_index=True)
        keep = ks >= 0
        ks, cs = ks[keep], first[keep] // 2
        if ks.size == 0:
            return
        res = np.zeros(6)
        vel6 = np.empty((ks.size, 6))
        for j, k in enumerate(ks):
            mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_BODY, self.body_ids[k], res, 0)
            vel6[j] = res
        ang, lin = vel6[:, :3], vel6[:, 3:]
        normal = d.contact.frame[cs, :3]
        r = d.contact.pos[cs] - d.xpos[np.asarray(self.body_ids)[ks]]
        v_cp = lin + np.cross(ang, r)
        v_t = v_cp - np.sum(v_cp * normal, axis=1, keepdims=True) * normal
        lin_t = lin - np.sum(lin * normal, axis=1, keepdims=True) * normal
        s = np.linalg.norm(v_t, axis=1)
        slip[i, ks] = s
        roll[i, ks] = np.maximum(0.0, np.linalg.norm(lin_t, axis=1) - s)


def _static_timbre(label: str, scene: Scene) -> str:
    if label in ("table", "ramp"):
        return "wood"
    if label.startswith("wall"):
        return "stone"
    return {"wood": "wood", "tiles": "stone", "concrete": "stone", "checker": "stone",
            "grass": "grass", "sand": "grass"}.get(scene.spec.environment.floor, "stone")
