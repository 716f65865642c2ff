"""Kinematic animation of recipe objects: joint angles from the clock, driven hulls, footfall contact events.

Which kind: kinematic. Limbs, wheels, wings and tails are hinges whose angles are set every physics step from
`actions.json` (offset + amplitude·sin(2π·f·t + phase), or a constant rate for wheels and rotors), so a dog
trots, a horse gallops, a car's wheels turn at speed/radius and a person waves. The hull (the recipe's
collision box) is what the physics moves: a walking, driving, flying or swimming object is *driven* (its hull
is held at the action's speed and heading, weightless so it neither sinks nor slides) until it first touches
another object; then the physics takes over. Footfalls (a leg's swing reaching the ground) and hand contacts
(a clap) are written as contact events, so they make sound and appear in the sidecar like impacts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sora_lite.engines.world import recipes as R

SPIN_RATES = {"spin": 90.0, "spin_slow": 6.0, "spin_hour": 0.5, "spin_carousel": 25.0}  # degrees per second
MAX_DRIVE_SPEED = 6.0
HULL_LIFT = 0.5  # metres: a figure lifted more than this (free fall) is lifted with its hull, not only drawn there  # m/s: faster would leave the frame within a second at the usual framing


@dataclass
class Motion:
    """How a recipe object moves as a whole: the resolved action, speed along heading, lift off the ground."""

    action: str
    speed: float
    heading: float  # radians about z; 0 = +x (screen right)
    climb: float
    lift: float  # metres the hull floats above its resting height (birds in flight)
    driven: bool


def resolve_action(recipe: str, action: str | None) -> str:
    """The action a recipe object performs: the one asked for if it suits its kind, else its idle."""
    acts = R.actions()
    mover = R.recipes()[recipe].get("mover", "static")
    if action and action in acts["actions"]:
        target = acts["actions"][action].get("for", ["any"])
        if "any" in target or mover in target:
            return action
    return acts["idle"].get(mover, "still")


def motion_of(recipe: str, action: str | None, size: float, velocity: list[float]) -> Motion:
    name = resolve_action(recipe, action)
    a = R.actions()["actions"][name]
    v = np.asarray(velocity, dtype=float)[:2]
    speed = float(a.get("speed", 0.0))
    if a.get("per_size"):
        speed *= size
    if np.linalg.norm(v) > 1e-6:
        speed = float(np.linalg.norm(v))
        heading = math.atan2(v[1], v[0])
    else:
        heading = 0.0
    speed = min(speed, MAX_DRIVE_SPEED)
    lift = 0.0
    mover = R.recipes()[recipe].get("mover", "static")
    if mover == "fly" and name == "fly":
        lift = float(a.get("lift", 1.0)) + size
    elif float(a.get("lift", 0.0)) > HULL_LIFT:  # a person in free fall: the hull itself is up there
        lift = float(a["lift"]) * size / R.nominal_size(recipe)
    climb = float(a.get("climb", 0.0))
    return Motion(name, speed, heading, climb, lift, speed > 0 or climb > 0 or lift > 0)


@dataclass
class _Tracks:
    qadr: np.ndarray
    dadr: np.ndarray
    offset: np.ndarray  # radians (metres for slides)
    amp: np.ndarray
    omega: np.ndarray
    phase: np.ndarray
    rate: np.ndarray  # radians per second
    absolute: np.ndarray  # bool: |sin| (jumps)


def _joint_params(role: str, act: dict, speed: float, radius: float, size_k: float) -> tuple[float, float, float, float, float, bool]:
    f = float(act.get("freq", 1.0))
    if role == "wheel":
        return 0.0, 0.0, 0.0, 0.0, speed / max(radius, 1e-3), False
    if role in SPIN_RATES:  # rotors, windmill blades, clock hands, a carousel: always turning
        return 0.0, 0.0, 0.0, 0.0, math.radians(SPIN_RATES[role]), False
    if role == "lift":
        lift = float(act.get("lift", 0.0)) * size_k
        if lift > HULL_LIFT * size_k:
            lift = 0.0  # carried by the hull (motion_of), so framing and the sidecar see where the figure is
        if act.get("jump"):
            return lift, float(act["jump"]) * size_k, 2 * math.pi * f, 0.0, 0.0, True
        if act.get("bob"):
            bob = float(act["bob"]) * size_k
            return lift, bob, 4 * math.pi * f, 0.0, 0.0, True
        return lift, 0.0, 0.0, 0.0, 0.0, False
    rates = act.get("rate", {})
    if role in rates:
        ph = math.radians(float(act.get("phase", {}).get(role, 0.0)))
        return ph, 0.0, 0.0, 0.0, math.radians(float(rates[role])), False
    spec = act.get("joints", {}).get(role) or act.get("wiggle", {}).get(role)
    if spec is None:
        return 0.0, 0.0, 0.0, 0.0, 0.0, False
    off, amp, ph = (math.radians(float(x)) for x in spec[:3])
    mult = float(spec[3]) if len(spec) > 3 else 1.0
    return off, amp, 2 * math.pi * f * mult, ph, 0.0, False


class Animator:
    """Poses every animated joint of a compiled scene and drives moving hulls (see the module doc)."""

    def __init__(self, model, scene, body_ids: list[int], joint_ids: list[int]) -> None:
        import mujoco

        self.model = model
        rows = []
        self.drivers: list[tuple[int, int, np.ndarray, float]] = []  # body k, dof adr, velocity, climb
        self.steps: list[tuple[int, str, float, float, float]] = []  # body k, kind, omega, phase0, step phase
        self.speeds: dict[int, float] = {}
        motions: dict[int, tuple[dict, float, float]] = {}
        for k, b in enumerate(scene.bodies):
            if b.shape == "character":  # a cameo's figure: its arms do a person's action, the physics moves it
                name = b.action if b.action in R.actions()["actions"] else "stand"
                if "person" not in R.actions()["actions"][name].get("for", []):
                    name = "stand"
                motions[k] = (R.actions()["actions"][name], 0.0, 1.0)
                continue
            if b.shape != "prop":
                continue
            mo = motion_of(b.recipe, b.action, b.size, b.vel[:3])
            act = R.actions()["actions"][mo.action]
            nominal = R.nominal_size(b.recipe)
            motions[k] = (act, mo.speed, b.size / nominal)
            if mo.driven and b.driven:  # not one pushed off a table (scene._prop_body): physics moves it
                va = int(model.jnt_dofadr[joint_ids[k]])
                vel = np.array([mo.speed * math.cos(mo.heading), mo.speed * math.sin(mo.heading), mo.climb])
                self.drivers.append((k, va, vel, mo.climb))
                self.speeds[k] = mo.speed
            for kind, table in (("step", act.get("steps", {})), ("hand", act.get("hands", {}))):
                for role, at in table.items():
                    spec = act.get("joints", {}).get(role)
                    if spec is None:
                        continue
                    mult = float(spec[3]) if len(spec) > 3 else 1.0
                    self.steps.append((k, kind, 2 * math.pi * float(act.get("freq", 1.0)) * mult,
                                       math.radians(float(spec[2])), math.radians(float(at))))
        prefix_of = {f"obj{b.index}": k for k, b in enumerate(scene.bodies)}
        for j in range(model.njnt):
            name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or ""
            if "_a" not in name:
                continue
            head, _, rest = name.partition("_a")
            role = rest.split("_", 1)[1] if "_" in rest else ""
            if head in prefix_of and prefix_of[head] in motions:
                act, speed, k_size = motions[prefix_of[head]]
            elif head.startswith("env"):
                act, speed, k_size = R.actions()["actions"]["still"], 0.0, 1.0
            else:
                continue
            radius = 0.0
            if role == "wheel":  # the wheel's radius: the cylinder on its body
                bid = model.jnt_bodyid[j]
                geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == bid and model.geom_type[g] == mujoco.mjtGeom.mjGEOM_CYLINDER]
                radius = float(model.geom_size[geoms[0], 0]) if geoms else 0.3
            p = _joint_params(role, act, speed, radius, k_size)
            rows.append((int(model.jnt_qposadr[j]), int(model.jnt_dofadr[j]), *p))
        if rows:
            arr = list(zip(*rows))
            self.tracks = _Tracks(np.array(arr[0], int), np.array(arr[1], int), np.array(arr[2]), np.array(arr[3]),
                                  np.array(arr[4]), np.array(arr[5]), np.array(arr[6]), np.array(arr[7], bool))
        else:
            self.tracks = None
        self.active = np.ones(len(self.drivers), dtype=bool)
        self.body_ids = body_ids

    @property
    def empty(self) -> bool:
        return self.tracks is None and not self.drivers

    def pose(self, data, t: float) -> None:
        """Set every animated joint's angle (and rate) for time t."""
        tr = self.tracks
        if tr is None:
            return
        arg = tr.omega * t + tr.phase
        s = np.sin(arg)
        val = tr.offset + tr.amp * np.where(tr.absolute, np.abs(s), s) + tr.rate * t
        data.qpos[tr.qadr] = val
        data.qvel[tr.dadr] = tr.amp * tr.omega * np.cos(arg) * np.where(tr.absolute, np.sign(s), 1.0) + tr.rate

    def drive(self, data) -> None:
        """Hold driven hulls at their speed and heading, upright."""
        for i, (k, va, vel, climb) in enumerate(self.drivers):
            if not self.active[i]:
                continue
            data.qvel[va:va + 3] = vel
            data.qvel[va + 3:va + 6] = 0.0

    def release(self, bodies: set[int]) -> None:
        """Bodies that touched another object stop being driven: the physics carries them on."""
        for i, (k, _, _, _) in enumerate(self.drivers):
            if self.active[i] and k in bodies:
                self.active[i] = False
                self.model.body_gravcomp[self.body_ids[k]] = 0.0

    def footfalls(self, t0: float, t1: float) -> list[tuple[float, int, str]]:
        """(sim time, body k, 'step' | 'hand') of every footfall and hand contact in [t0, t1)."""
        out = []
        for k, kind, omega, phase0, at in self.steps:
            if omega <= 0:
                continue
            # actions.json gives `at` as the clock angle omega*t of the footfall (its own phase already added:
            # hip_l at 90 with phase 0, hip_r at 270 with phase 180), so the two feet alternate
            first = math.ceil((omega * t0 - at) / (2 * math.pi))
            n = first
            while True:
                t = (at + 2 * math.pi * n) / omega
                if t >= t1:
                    break
                if t >= t0:
                    out.append((t, k, kind))
                n += 1
        return sorted(out)
