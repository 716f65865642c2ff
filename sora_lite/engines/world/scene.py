"""SceneSpec → bodies with concrete poses → MJCF XML, plus the textures the XML refers to (procedural floors,
the i2v backdrop, and the faces of granted cameos, which a character proxy wears on its head).

Placement lives here (where a "ball" with no position goes), so the simulator, the renderer and the ground
truth all agree on one list of `Body` records. Everything that depends on the seed (position jitter,
colour shade, floor grain) is derived from (seed, object name), so a persisting object keeps its look
across a multi-shot rebuild and the same seed gives the same scene.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from sora_lite.engines.base import RequestError
from sora_lite.engines.world.spec import Material, ObjectSpec, SceneSpec, SpecError

TABLE_TOP = 0.6  # metres
FACE_HALF = 0.38  # half-width of a cameo head's face, in units of the character's size
DROP_HEIGHT = 1.0  # metres between the floor (or table) and the bottom of a dropped object
RAMP_LENGTH = 1.6
FLOOR_HALF = 6.0  # metres: the drawn floor's half-size (collisions see an infinite plane) ...
FLOOR_HALF_MAX = 40.0  # ... grown per shot up to this when what is filmed goes further (`Scene.floor_half`);
# a bigger floor costs render time (it reaches the horizon), so only shots that need it draw one
TEXTURE_SIZE = 256
FACE_SIZE = 256  # side of a cameo face texture (the registry writes 256² PNGs)


@dataclass
class Body:
    """One simulated object (a ball, a domino, a pendulum bob ...), as placed in the world."""

    index: int
    name: str
    shape: str
    size: float
    rgba: tuple[float, float, float, float]
    material: Material
    pos: list[float]  # metres, z up (pendulum: the bob)
    quat: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    vel: list[float] = field(default_factory=lambda: [0.0] * 6)  # linear, angular (world frame)
    pivot: list[float] | None = None  # pendulum only
    cameo: str | None = None  # the handle of the cameo a character stands for
    recipe: str | None = None  # shape "prop": the recipe it is built from, its variant and action
    variant: str = ""
    action: str | None = None
    colored: bool = True  # False: the recipe's own colours (the prompt named none)
    driven: bool = False  # walks / drives / flies at its action's speed (animate.py)
    rider: bool = False  # rides another object (a person on a bicycle): its hull does not collide
    half: tuple[float, float, float] | None = None  # prop: the hull's half extents

    @property
    def radius(self) -> float:
        """Bounding radius, for framing and for the projected pixel radius."""
        if self.half is not None:
            return float(math.sqrt(sum(h * h for h in self.half)))
        if self.shape == "domino":
            return self.size * 1.05
        if self.shape == "cube":
            return self.size * 1.5
        if self.shape in ("capsule", "character"):
            return self.size * 2.0
        return self.size


@dataclass
class Scene:
    """What both the simulator and every render worker compile: pure data, picklable."""

    spec: SceneSpec
    bodies: list[Body]
    seed: int
    width: int
    height: int
    backdrop_size: tuple[float, float, list[float], list[float]] | None = None  # half w, half h, centre, xyaxes
    backdrop_px: tuple[int, int] | None = None  # width, height of the backdrop texture
    # image-to-video: the picture's ground as a layer on the floor (half x, half y, centre), its texture (H×W×3
    # uint8, the still resampled onto the ground), and its emission (so that, lit, it shows the picture's colours
    # and the objects' shadows darken it)
    ground_size: tuple[float, float, list[float]] | None = None
    ground_pixels: np.ndarray | None = None
    # image-to-video: standing things cut out of the picture (still.picture_layers), each an upright mesh
    # (vertices, texcoords, faces) textured with `layer_pixels` (the still, H×W×3 uint8)
    layer_meshes: list[tuple[list[float], list[float], list[int]]] | None = None
    layer_pixels: np.ndarray | None = None
    quality: str = "fast"
    floor_half: float = FLOOR_HALF  # metres, the drawn floor's half-size; the texture keeps its scale
    # body index → FACE_SIZE² RGB uint8: the granted cameo face that character wears (engine.py fills it only
    # from the request's checked cameos; without one a character keeps the plain proxy head)
    faces: dict[int, np.ndarray] = field(default_factory=dict)
    fps: float = 24.0  # frames per second of the clip: moving water and weather in the renderer follow it

    @property
    def hidden_floor(self) -> bool:
        return self.spec.environment.backdrop == "image"

    def wears_face(self, b: Body) -> bool:
        return b.shape == "character" and b.index in self.faces


def _rng(seed: int, key: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def floor_height(spec: SceneSpec) -> float:
    return TABLE_TOP if spec.environment.table else 0.0


def ramp_geometry(angle_deg: float) -> tuple[list[float], list[float], list[float]]:
    """(top point of the ramp surface, surface normal, downhill direction); the ramp descends to x=0."""
    a = math.radians(angle_deg)
    top = [-RAMP_LENGTH * math.cos(a), 0.0, RAMP_LENGTH * math.sin(a)]
    normal = [math.sin(a), 0.0, math.cos(a)]
    downhill = [math.cos(a), 0.0, -math.sin(a)]
    return top, normal, downhill


def _arrangement(o: ObjectSpec) -> str:
    """The layout of an entry's copies: the spec's choice, or per shape for "auto"."""
    if o.arrangement != "auto":
        return o.arrangement
    if o.shape == "domino":
        return "row"
    if o.shape == "cube" and o.count > 1:
        return "stack"
    if o.shape == "pendulum":
        return "pendulum"
    if o.shape == "prop":
        return "row"  # things stand on the ground; a drop is asked for with a height
    return "drop"


def prop_model(o: ObjectSpec):
    """The built recipe of a prop entry (cached by recipes.py)."""
    from sora_lite.engines.world import recipes

    main = None if o.color == "natural" else o.rgb()
    return recipes.build_recipe(o.recipe, o.size, main, o.variant, o.action or "")


def _bottom_offset(o: ObjectSpec) -> float:
    """Height of the object's centre above its lowest point, upright."""
    if o.shape == "prop":
        return prop_model(o).half[2]
    return o.size * 1.55 if o.shape == "character" else o.size


def _slot_width(o: ObjectSpec, how: str) -> float:
    s = o.size
    if o.shape == "prop":
        half = prop_model(o).half
        return o.count * (2 * max(half[0], half[1]) + 0.3) + 0.2
    if o.shape == "domino" and how == "row":
        return o.count * s * 1.3 + 0.3
    if how == "edge":
        return 0.0  # along the table's edge, not in the row across it
    if how == "stack":
        return s * 2 + 0.3
    if how == "pendulum" or o.shape == "pendulum":
        return s * 2 + 0.6
    if how == "scatter":
        return max(1.0, o.count * (s * 2 + 0.15))
    return o.count * (s * 2 + 0.15) + 0.15


def _slots(spec: SceneSpec, hows: list[str]) -> tuple[list[int], dict[int, float]]:
    """The entries set atop the ramp (the first loose round or boxy thing dropped, when there is a ramp), and the
    centre x of every other unpinned entry's slot in the row across the table, kept off the ramp."""
    free_entries = [i for i, o in enumerate(spec.objects) if o.position is None]
    ramp_entries = []
    if spec.environment.ramp_angle is not None:
        ramp_entries = [i for i in free_entries
                        if spec.objects[i].shape in ("ball", "cylinder", "cube", "capsule") and hows[i] == "drop"][:1]
    row = [i for i in free_entries if i not in ramp_entries]
    total = sum(_slot_width(spec.objects[i], hows[i]) for i in row)
    cursor = -total / 2
    if spec.environment.ramp_angle is not None:
        cursor = max(cursor, 0.4)  # keep the row off the ramp
    slot_x: dict[int, float] = {}
    for i in row:
        w = _slot_width(spec.objects[i], hows[i])
        slot_x[i] = cursor + w / 2
        cursor += w
    return ramp_entries, slot_x


@dataclass
class _Pose:
    """Where one copy starts: its position, orientation, spin, pendulum pivot, and whether it tumbles."""

    pos: list[float]
    quat: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    ang: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    pivot: list[float] | None = None
    tumble: bool = False


def _pose(spec: SceneSpec, i: int, c: int, how: str, on_ramp: bool, slot: float | None,
          rng: np.random.Generator, jitter: np.ndarray) -> _Pose:
    """Copy `c` of entry `i`: hung, pinned, atop the ramp, stacked, in a row, scattered, standing or dropped."""
    o = spec.objects[i]
    base = floor_height(spec)
    s = o.size
    lift = _bottom_offset(o)
    gap = o.height  # None = the arrangement's default
    if o.shape == "pendulum":
        length = o.length if o.length is not None else 4 * s + 0.4
        if o.position is not None:
            pivot = [float(o.position[0]) + c * (2 * s + 0.3), float(o.position[1]), float(o.position[2])]
        else:
            x0 = slot - (o.count - 1) * (2 * s + 0.3) / 2 + c * (2 * s + 0.3)
            pivot = [x0, 0.0, base + length + s + (gap if gap is not None else 0.25)]
        theta = math.radians(45.0 + float(jitter[0]) * 100)
        return _Pose([pivot[0] - length * math.sin(theta), pivot[1], pivot[2] - length * math.cos(theta)], pivot=pivot)
    if o.position is not None:
        p = [float(v) for v in o.position]
        return _Pose([p[0] + c * (2 * s + 0.1), p[1], p[2]])
    if on_ramp:
        top, normal, down = ramp_geometry(spec.environment.ramp_angle)  # type: ignore[arg-type]
        along = 0.12 + c * (2 * s + 0.05)
        pos = [top[j] + down[j] * along + normal[j] * (s * 1.01 + 0.0005) for j in range(3)]
        pos[1] += float(jitter[1])
        pos[2] += base
        return _Pose(pos)
    if how == "edge" and spec.environment.table:
        return _edge_pose(spec, i, c, lift, base, jitter)
    if how == "stack":
        z0 = base + lift + (gap if gap is not None else 0.0) + 0.0005
        return _Pose([slot + float(jitter[0]) * 0.3, float(jitter[1]) * 0.3, z0 + c * (2 * s + 0.001)])
    if how == "row" and o.shape == "domino":
        spacing = s * 1.3
        x = slot - (o.count - 1) * spacing / 2 + c * spacing
        pose = _Pose([x, float(jitter[1]), base + lift + (gap or 0.0) + 0.0005])
        if c == 0 and gap is None:  # a nudge, so the row topples toward +x
            tip = math.radians(14.0)
            pose.quat = [math.cos(tip / 2), 0.0, math.sin(tip / 2), 0.0]
            pose.pos[2] = base + s * math.cos(tip) + 0.15 * s * math.sin(tip) + 0.0005
            pose.ang = [0.0, 2.0, 0.0]
        return pose
    if how == "scatter":
        half = _slot_width(o, how) / 2
        room = max(half - s, 0.0)  # an object wider than its slot (a large prop scattered) sits at its centre
        x = slot + float(rng.uniform(-room, room))
        y = float(rng.uniform(-0.6, 0.6))
        z = base + lift + (gap if gap is not None else DROP_HEIGHT + float(rng.uniform(0.0, 0.5)))
        return _Pose([x, y, z], tumble=True)
    if o.shape == "prop":
        half = prop_model(o).half
        step = 2 * max(half[0], half[1]) + 0.3
        x = slot - (o.count - 1) * step / 2 + c * step
        z = base + lift + (gap if gap is not None else 0.0) + 0.0005
        return _Pose([x + float(jitter[0]), float(jitter[1]) + (c % 2) * 0.2 * (o.count > 2), z])
    # "row" (resting unless a height is given) or "drop" (the default for loose objects)
    x = slot - (o.count - 1) * (s * 2 + 0.15) / 2 + c * (s * 2 + 0.15)
    tumble = False
    if how == "row":
        z = base + lift + (gap if gap is not None else 0.0) + 0.0005
    elif gap is not None:
        z = base + lift + gap
    else:
        z = base + lift + DROP_HEIGHT + 0.05 * c if o.shape != "character" else base + lift + 0.0005
        tumble = o.shape in ("cube", "cylinder", "capsule")
    return _Pose([x + float(jitter[0]), float(jitter[1]), z], tumble=tumble)


TABLE_EDGE_X = 1.2  # metres: the table top's +x edge (scene_xml's table box)
EDGE_OVERHANG = 0.5  # share of an object's half-length past the edge at the start (its centre still over the table)


def _edge_pose(spec: SceneSpec, i: int, c: int, lift: float, base: float, jitter: np.ndarray) -> _Pose:
    """Copy `c` of an entry that falls off the table ("three blocks tumble off a table"): resting on the top,
    overhanging the +x edge a little, side by side along it (every "edge" entry in one line); its push toward
    +x (the parser's velocity) carries its centre over the edge, so it tips, falls to the floor and is heard."""
    o = spec.objects[i]
    edge = [j for j, p in enumerate(spec.objects) if p.arrangement == "edge" and p.position is None]

    def extent(p: ObjectSpec) -> tuple[float, float]:  # half-length along x, and the step between copies along y
        if p.shape == "prop":
            half = prop_model(p).half
            return float(half[0]), 2 * max(half[0], half[1]) + 0.12
        return p.size, 2 * p.size + 0.12

    steps = [extent(spec.objects[j])[1] for j in edge for _ in range(spec.objects[j].count)]
    k = sum(spec.objects[j].count for j in edge if j < i) + c
    y = -sum(steps) / 2 + sum(steps[:k]) + steps[k] / 2
    hx = extent(o)[0]
    x = TABLE_EDGE_X - (1.0 - EDGE_OVERHANG) * hx
    return _Pose([x + float(jitter[0]) * 0.3, y + float(jitter[1]), base + lift + 0.0005])


def layout_bodies(spec: SceneSpec, seed: int) -> list[Body]:
    """Give every object a concrete pose: dropped from a height, stacked, in a row, hung, or atop the ramp.

    An entry with `position` pins its first copy; `height` sets the gap under the lowest point at t=0
    (so a drop's first contact is at √(2h/g)); `arrangement` chooses row / stack / scatter.
    """
    names = spec.object_names()
    bodies: list[Body] = []
    hows = [_arrangement(o) for o in spec.objects]
    hows = ["row" if h == "edge" and not spec.environment.table else h for h in hows]  # no table: no edge
    ramp_entries, slot_x = _slots(spec, hows)
    k = 0
    for i, o in enumerate(spec.objects):
        mat = o.resolved_material()
        for c in range(o.count):
            name = names[k]
            rng = _rng(seed, name)
            shade = 1.0 + rng.uniform(-0.06, 0.06)
            rgb = tuple(float(min(1.0, max(0.0, ch * shade))) for ch in o.rgb())
            jitter = rng.uniform(-0.015, 0.015, size=2)
            pose = _pose(spec, i, c, hows[i], i in ramp_entries, slot_x.get(i), rng, jitter)
            quat = pose.quat
            if pose.tumble:
                # A slight tilt, so dropped boxes tumble instead of landing perfectly flat.
                tilt = float(rng.uniform(-0.15, 0.15))
                quat = [math.cos(tilt / 2), math.sin(tilt / 2), 0.0, 0.0]
            vel = [float(v) for v in o.velocity] + pose.ang
            body = Body(k, name, o.shape, o.size, (*rgb, 1.0), mat, pose.pos, quat, vel, pose.pivot, o.cameo)
            if o.shape == "prop":
                _prop_body(body, o, i, spec)
            elif o.shape == "character":
                body.action = o.action  # its arms perform a person's action (animate.py)
            bodies.append(body)
            k += 1
    if len({b.name for b in bodies}) != len(bodies):
        raise SpecError("two objects share a name; give each object entry a distinct name")
    return bodies


def _prop_body(body: Body, o: ObjectSpec, entry: int, spec: SceneSpec) -> None:
    """A recipe object's body: its recipe, how it moves (animate.py), its heading and, in flight, its height."""
    from sora_lite.engines.world import animate

    model = prop_model(o)
    body.recipe, body.variant, body.action = o.recipe, o.variant, o.action
    body.colored = o.color != "natural"
    body.half = tuple(model.half)  # type: ignore[assignment]
    motion = animate.motion_of(o.recipe, o.action, o.size, o.velocity)  # type: ignore[arg-type]
    body.driven = motion.driven and not (o.arrangement == "edge" and spec.environment.table)  # pushed off: free
    body.rider = o.arrangement == "ride"
    if motion.heading:
        body.quat = [math.cos(motion.heading / 2), 0.0, 0.0, math.sin(motion.heading / 2)]
    if motion.lift and o.position is None and o.height is None:
        body.pos[2] += motion.lift
    if body.driven:
        body.vel[:3] = [motion.speed * math.cos(motion.heading), motion.speed * math.sin(motion.heading), motion.climb]


# --- lighting -----------------------------------------------------------------------------------
TOD_ELEVATION = {"dawn": 8, "morning": 30, "noon": 70, "afternoon": 40, "sunset": 10, "dusk": 5, "night": 50}
TOD_KELVIN = {"dawn": 3400, "morning": 5000, "noon": 5600, "afternoon": 5200, "sunset": 2600, "dusk": 3000, "night": 8500}
TOD_LEVEL = {"dawn": 0.6, "morning": 0.9, "noon": 1.0, "afternoon": 0.95, "sunset": 0.75, "dusk": 0.45, "night": 0.3}
SKY = {  # zenith, horizon
    "dawn": ((0.25, 0.3, 0.5), (0.95, 0.7, 0.55)),
    "morning": ((0.35, 0.55, 0.85), (0.8, 0.88, 0.95)),
    "noon": ((0.25, 0.5, 0.9), (0.75, 0.85, 0.95)),
    "afternoon": ((0.3, 0.5, 0.85), (0.85, 0.85, 0.85)),
    "sunset": ((0.2, 0.2, 0.45), (1.0, 0.55, 0.25)),
    "dusk": ((0.08, 0.08, 0.25), (0.5, 0.3, 0.35)),
    "night": ((0.01, 0.01, 0.04), (0.06, 0.07, 0.14)),
}


def kelvin_rgb(kelvin: float) -> tuple[float, float, float]:
    """Black-body colour (Tanner Helland's fit), normalised so the brightest channel is 1."""
    t = kelvin / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * math.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307)
    rgb = [min(255.0, max(0.0, v)) / 255.0 for v in (r, g, b)]
    peak = max(rgb)
    return (rgb[0] / peak, rgb[1] / peak, rgb[2] / peak)


@dataclass
class Lights:
    key_dir: list[float]
    key_rgb: tuple[float, float, float]
    fill_rgb: tuple[float, float, float]
    ambient: float
    kelvin: float


def lights_for(spec: SceneSpec) -> Lights:
    """Time of day sets the sun's elevation and colour; colour temperature and mood adjust it."""
    lt = spec.lighting
    tod = lt.time_of_day
    kelvin = lt.color_temperature if abs(lt.color_temperature - 5600.0) > 1e-6 else TOD_KELVIN[tod]
    mood_shift = {"warm": -900, "cool": 1500}.get(lt.mood, 0)
    kelvin = min(12000.0, max(1500.0, kelvin + mood_shift))
    rgb = kelvin_rgb(kelvin)
    hx, hy = lt.key_direction[0], lt.key_direction[1]
    norm = math.hypot(hx, hy) or 1.0
    hx, hy = hx / norm, hy / norm
    image = spec.environment.backdrop == "image"
    if image and hy > -0.35:
        # The still hangs behind the scene facing the camera (normal -y at the default azimuth); light
        # travelling toward the camera leaves it unlit, so its pixels show as they are (emission only).
        hy = -0.35
        n2 = math.hypot(hx, hy)
        hx, hy = hx / n2, hy / n2
    el = math.radians(TOD_ELEVATION[tod])
    key_dir = [hx * math.cos(el), hy * math.cos(el), -math.sin(el)]
    level = TOD_LEVEL[tod] * lt.intensity
    ambient = {"dramatic": 0.12, "soft": 0.45}.get(lt.mood, 0.3) * min(1.0, 0.5 + 0.5 * level)
    key_gain = {"dramatic": 1.0, "soft": 0.55}.get(lt.mood, 0.75) * level
    fill_gain = {"dramatic": 0.05, "soft": 0.3}.get(lt.mood, 0.15) * level
    if tod == "night":
        ambient *= 0.6
    if image:
        ambient = max(ambient, 0.45)  # objects in front of a backlit still need some front light
    if image:  # white light: the picture's ground, lit, keeps the picture's own colours ...
        rgb = (1.0, 1.0, 1.0)
        fill_down = 0.6 / math.sqrt(key_dir[0] ** 2 + key_dir[1] ** 2 + 0.36)
        lit = ambient + key_gain * max(0.0, -key_dir[2]) + fill_gain * fill_down
        if lit > 0.95:  # ... and never more light than the picture had (emission tops it up, see ground_emission)
            k = max(0.0, 0.95 - ambient) / max(1e-6, lit - ambient)
            key_gain, fill_gain = key_gain * k, fill_gain * k
    return Lights(
        key_dir=key_dir,
        key_rgb=tuple(min(1.0, c * key_gain) for c in rgb),  # type: ignore[arg-type]
        fill_rgb=tuple(min(1.0, c * fill_gain) for c in (kelvin_rgb(9000) if not image else rgb)),  # type: ignore[arg-type]
        ambient=ambient,
        kelvin=kelvin,
    )


# --- textures -----------------------------------------------------------------------------------
def floor_texture(kind: str, seed: int) -> np.ndarray:
    """A tileable TEXTURE_SIZE² RGB floor texture (uint8); procedural so nothing is downloaded."""
    n = TEXTURE_SIZE
    rng = _rng(seed, "floor:" + kind)
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n

    def noise(scale: int) -> np.ndarray:
        g = rng.standard_normal((scale, scale)).astype(np.float32)
        idx = (np.arange(n) * scale // n)
        # bilinear upsample of a periodic grid keeps the tile seamless
        fx = (np.arange(n) * scale / n) % 1.0
        i0, i1 = idx, (idx + 1) % scale
        rows = g[i0][:, i0] * (1 - fx)[None, :] + g[i0][:, i1] * fx[None, :]
        rows2 = g[i1][:, i0] * (1 - fx)[None, :] + g[i1][:, i1] * fx[None, :]
        return rows * (1 - fx)[:, None] + rows2 * fx[:, None]

    if kind == "wood":
        grain = np.sin((x * 6 + 0.35 * noise(8)) * 2 * np.pi * 3) * 0.5 + 0.5
        plank = ((y * 4).astype(int) % 2) * 0.06
        base = np.stack([0.55, 0.36, 0.2]) * (0.8 + 0.2 * grain[..., None] - plank[..., None])
        seams = (np.abs((y * 4) % 1.0) < 0.015)[..., None]
        img = np.where(seams, base * 0.5, base)
    elif kind == "grass":
        v = 0.5 * noise(32) + 0.3 * noise(64) + 0.2 * noise(8)
        img = np.stack([0.22 + 0.05 * v, 0.48 + 0.1 * v, 0.16 + 0.04 * v], axis=-1)
    elif kind == "sand":
        v = 0.6 * noise(64) + 0.4 * noise(16)
        img = np.stack([0.82, 0.72, 0.52]) * (0.92 + 0.06 * v[..., None])
    elif kind == "concrete":
        v = 0.5 * noise(64) + 0.5 * noise(16)
        img = np.full((n, n, 3), 0.55, np.float32) * (0.9 + 0.08 * v[..., None])
    elif kind == "tiles":
        grout = ((x * 4) % 1.0 < 0.04) | ((y * 4) % 1.0 < 0.04)
        v = noise(16)
        img = np.where(grout[..., None], np.array([0.45, 0.45, 0.43]), np.array([0.85, 0.84, 0.8]) * (0.97 + 0.03 * v[..., None]))
    elif kind == "asphalt":
        v = 0.6 * noise(64) + 0.4 * noise(16)
        img = np.full((n, n, 3), 0.22, np.float32) * (0.9 + 0.1 * v[..., None])
        dash = (np.abs(y - 0.5) < 0.012) & ((x * 4) % 1.0 < 0.5)
        img = np.where(dash[..., None], np.array([0.9, 0.85, 0.5]), img)
    elif kind == "snow":
        v = 0.6 * noise(64) + 0.4 * noise(16)
        img = np.stack([0.93, 0.94, 0.98]) * (0.96 + 0.04 * v[..., None])
    elif kind == "dirt":
        v = 0.5 * noise(64) + 0.3 * noise(16) + 0.2 * noise(8)
        img = np.stack([0.45, 0.34, 0.22]) * (0.85 + 0.12 * v[..., None])
    elif kind == "rock":
        v = 0.5 * noise(32) + 0.3 * noise(8) + 0.2 * noise(64)
        img = np.stack([0.48, 0.46, 0.43]) * (0.8 + 0.18 * v[..., None])
    elif kind == "carpet":
        v = noise(64)
        img = np.stack([0.55, 0.2, 0.18]) * (0.92 + 0.06 * v[..., None])
    elif kind == "marble":
        vein = np.abs(np.sin((x + y + 0.3 * noise(8)) * 2 * np.pi * 3))
        img = np.stack([0.92, 0.91, 0.88]) * (0.9 + 0.1 * vein[..., None])
    elif kind == "field":
        v = 0.5 * noise(32) + 0.5 * noise(64)
        stripe = ((x * 4).astype(int) % 2) * 0.05
        img = np.stack([0.2, 0.5, 0.18]) * (0.92 + 0.08 * v[..., None] + stripe[..., None])
        line = (np.abs(x - 0.5) < 0.006)
        img = np.where(line[..., None], np.array([0.95, 0.95, 0.95]), img)
    else:  # checker
        c = ((x * 2).astype(int) + (y * 2).astype(int)) % 2
        img = np.where(c[..., None] == 1, np.array([0.78, 0.78, 0.8]), np.array([0.32, 0.34, 0.38]))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


# --- MJCF ---------------------------------------------------------------------------------------
def _f(v: float) -> str:
    return f"{v:.6g}"


def _v(vals: list[float] | tuple[float, ...]) -> str:
    return " ".join(_f(float(x)) for x in vals)


def _face_mesh_xml(b: Body) -> str:
    """A thin slab whose front (facing -y, toward the default camera) carries the whole face texture.

    MuJoCo maps 2D textures on primitives by its own rules, so a mesh with explicit texture coordinates is
    the way to put an upright, unmirrored image on exactly one side of the head.
    """
    w, t = FACE_HALF * b.size, 0.002
    front = [(-w, -t, -w), (w, -t, -w), (w, -t, w), (-w, -t, w)]  # counter-clockwise seen from -y
    back = [(-w, t, -w), (-w, t, w), (w, t, w), (w, t, -w)]
    uv = [(0, 1), (1, 1), (1, 0), (0, 0)] + [(0.5, 0.5)] * 4  # image row 0 is the top of the face
    faces = [(0, 1, 2), (0, 2, 3), (4, 5, 6), (4, 6, 7)]
    return (
        f'<mesh name="face{b.index}" vertex="{" ".join(_v(p) for p in front + back)}" '
        f'texcoord="{" ".join(_v(p) for p in uv)}" face="{" ".join(_v(f) for f in faces)}"/>'
    )


def _character_head_xml(b: Body, n: str, common: str, face: bool) -> str:
    """The proxy's head: a sphere, or with a granted cameo a box with the face on its camera side."""
    s = b.size
    z = s * 1.2
    if not face:
        r = s * 0.38
        return (f'<geom name="{n}_head" type="sphere" size="{_f(r)}" pos="0 0 {_f(z)}" {common}/>'
                + _mouth_xml(n, [0.0, -0.62 * r, z - 0.45 * r], [0.28 * r, 0.12 * r, 0.12 * r]))
    depth = s * 0.3
    return (
        f'<geom name="{n}_head" type="box" size="{_f(s * FACE_HALF)} {_f(depth)} {_f(s * 0.38)}" pos="0 0 {_f(z)}" {common}/>'
        f'<geom name="{n}_face" type="mesh" mesh="face{b.index}" material="face{b.index}" '
        f'pos="0 {_f(-depth - 0.0025)} {_f(z)}" contype="0" conaffinity="0" mass="0.0001"/>'
        + _mouth_xml(n, [0.0, -depth + 0.05 * s, z - 0.35 * FACE_HALF * s], [0.09 * s, 0.04 * s, 0.035 * s])
    )


def _mouth_xml(n: str, pos: list[float], half: list[float]) -> str:
    """A dark mouth box inside the head on a slide toward the camera side (-y): the engine opens it with the
    speech envelope (mouths.py); closed it is hidden inside the head (or behind the cameo's face)."""
    return (f'<body pos="{_v(pos)}"><joint name="{n}_a9_mouth" type="slide" axis="0 -1 0" armature="0.001" '
            f'damping="0.05"/><geom type="box" size="{_v(half)}" rgba="0.1 0.02 0.03 1" contype="0" conaffinity="0" '
            f'mass="0.0001"/></body>')


def _character_arms_xml(b: Body, n: str) -> str:
    """Arms on hinges for the character proxy (a cameo's figure), so it performs a person's actions from
    actions.json (wave, clap, ...): shoulder (forward), raise (sideways) and elbow, named as the human recipe's
    joints for animate.py. Visual only; the head and face stay where the cameo check expects them."""
    s = b.size
    up, r = 0.5 * s, 0.12 * s
    rgba = _v(b.rgba)
    vis = f'contype="0" conaffinity="0" density="5" rgba="{rgba}" material="obj"'
    out = []
    for k, (side, sx, raise_axis) in enumerate((("l", 1, "0 -1 0"), ("r", -1, "0 1 0"))):
        out.append(
            f'<body pos="{_f(sx * 0.6 * s)} 0 {_f(0.62 * s)}">'
            f'<joint name="{n}_a{3 * k + 1}_shoulder_{side}" type="hinge" axis="-1 0 0" armature="0.001" damping="0.05"/>'
            f'<joint name="{n}_a{3 * k + 2}_raise_{side}" type="hinge" axis="{raise_axis}" armature="0.001" damping="0.05"/>'
            f'<geom type="capsule" fromto="0 0 0 0 0 {_f(-up)}" size="{_f(r)}" {vis}/>'
            f'<body pos="0 0 {_f(-up)}"><joint name="{n}_a{3 * k + 3}_elbow_{side}" type="hinge" axis="-1 0 0" '
            f'armature="0.001" damping="0.05"/><geom type="capsule" fromto="0 0 0 0 0 {_f(-up)}" size="{_f(r * 0.9)}" {vis}/>'
            f"</body></body>"
        )
    return "".join(out)


def _body_xml(b: Body, face: bool = False) -> str:
    m = b.material
    rgba = _v(b.rgba)
    fr = f'friction="{_f(m.friction)} 0.005 0.0001"'
    common = f'density="{_f(m.density)}" {fr} rgba="{rgba}" material="obj"'
    s = b.size
    n = f"obj{b.index}"
    if b.shape == "pendulum":
        assert b.pivot is not None
        px, py, pz = b.pivot
        dx, dz = b.pos[0] - px, b.pos[2] - pz
        length = math.hypot(dx, dz)
        return (
            f'<body name="{n}" pos="{_v(b.pivot)}">'
            f'<joint name="{n}_j" type="hinge" axis="0 1 0" damping="0.002"/>'
            f'<geom name="{n}_rod" type="capsule" fromto="0 0 0 0 0 {_f(-length)}" size="{_f(max(0.006, s * 0.06))}" '
            f'rgba="0.6 0.6 0.62 1" density="200" contype="0" conaffinity="0"/>'
            f'<geom name="{n}_g" type="sphere" pos="0 0 {_f(-length)}" size="{_f(s)}" {common}/>'
            f"</body>"
        )
    head = f'<body name="{n}" pos="{_v(b.pos)}" quat="{_v(b.quat)}"><freejoint name="{n}_j"/>'
    if b.shape == "ball":
        geom = f'<geom name="{n}_g" type="sphere" size="{_f(s)}" {common}/>'
    elif b.shape == "cube":
        geom = f'<geom name="{n}_g" type="box" size="{_f(s)} {_f(s)} {_f(s)}" {common}/>'
    elif b.shape == "cylinder":
        geom = f'<geom name="{n}_g" type="cylinder" size="{_f(s)} {_f(s)}" {common}/>'
    elif b.shape == "capsule":
        geom = f'<geom name="{n}_g" type="capsule" size="{_f(s * 0.6)} {_f(s)}" {common}/>'
    elif b.shape == "domino":
        geom = f'<geom name="{n}_g" type="box" size="{_f(s * 0.15)} {_f(s * 0.5)} {_f(s)}" {common}/>'
    elif b.shape == "prop":
        from sora_lite.engines.world.scenery import recipe_body_xml, recipe_model

        return recipe_body_xml(b, f'density="{_f(m.density)}" {fr}', recipe_model(b))
    elif b.shape == "character":
        geom = (
            f'<geom name="{n}_g" type="capsule" size="{_f(s * 0.45)} {_f(s * 0.75)}" pos="0 0 {_f(-s * 0.35)}" {common}/>'
            + _character_head_xml(b, n, common, face)
            + _character_arms_xml(b, n)
        )
    else:
        raise SpecError(f"unknown shape {b.shape!r}")
    return head + geom + "</body>"


def _coarse(scene: Scene, fast: bool) -> str:
    """Fewer triangles per sphere and capsule where recipes and places put hundreds of them in view (fast quality):
    llvmpipe pays per vertex as well as per pixel. Scenes of primitives alone keep MuJoCo's tessellation."""
    if not fast or not (scene.spec.environment.place or any(b.shape == "prop" for b in scene.bodies)):
        return ""
    return ' numslices="14" numstacks="8" numquads="2"'


def scene_xml(scene: Scene) -> str:
    """The MJCF for a scene. Floor textures are filled in by `compile_scene` (they are procedural)."""
    mjcf = _Mjcf(scene)
    parts = mjcf.visual() + mjcf.assets() + mjcf.world()
    parts.append("</worldbody></mujoco>")
    return "\n".join(parts)


class _Mjcf:
    """One scene's MJCF in its three parts: compiler and visual settings (sky, fog, shadows), the assets
    (textures, materials, meshes) and the world body (lights, floor, fixtures, picture layers, bodies)."""

    def __init__(self, scene: Scene) -> None:
        from sora_lite.engines.world import scenery

        self.scene, self.spec, self.env = scene, scene.spec, scene.spec.environment
        self.lights = lights_for(self.spec)
        self.place = scenery.place_recipe(self.env.place)
        self.room = self.place.get("room") if self.place else None
        self.zen, self.hor, self.fog, self.fog_rgb = self._sky()
        self.fast = scene.quality != "high"
        self.floor_half = max(scene.floor_half, float(self.place.get("floor_half", 0.0)) if self.place else 0.0)
        self.place_world: list[str] = []  # the place's own geoms, made with its assets

    def _sky(self) -> tuple[tuple[float, ...], tuple[float, ...], float, tuple[float, ...]]:
        """Sky gradient (zenith, horizon) and fog (amount, colour): by time of day, room, place and weather."""
        from sora_lite.engines.world import scenery

        spec, env, place, room = self.spec, self.env, self.place, self.room
        zen, hor = SKY[spec.lighting.time_of_day]
        if env.backdrop == "room" or env.walls or room:
            zen, hor = (0.55, 0.53, 0.5), (0.7, 0.68, 0.64)
            if spec.lighting.time_of_day == "night":
                zen, hor = (0.1, 0.1, 0.12), (0.16, 0.15, 0.15)
        if place and place.get("sky_color"):
            zen, hor = tuple(place["sky_color"][0]), tuple(place["sky_color"][1])
        weather = scenery.weathers().get(env.weather or "", {})
        if env.weather in ("rain", "fog", "snow") and not room:
            grey = 0.55 if spec.lighting.time_of_day not in ("night", "dusk") else 0.12
            zen, hor = tuple(0.5 * z + 0.5 * grey for z in zen), tuple(0.4 * h + 0.6 * grey for h in hor)
        fog = max(float(weather.get("fog", 0.0)), float(place.get("fog", 0.0)) if place else 0.0)
        fog_rgb = tuple(place["tint"]) if place and place.get("tint") else hor
        return zen, hor, fog, fog_rgb

    def visual(self) -> list[str]:
        scene, lights, fog = self.scene, self.lights, self.fog
        size = max(scene.width, scene.height)
        shadow = (512 if size <= 320 else 1024) if self.fast else 2048
        samples = 0 if self.fast else 4
        return [
            '<mujoco model="sora-lite world">',
            '<compiler angle="degree" autolimits="true"/>',
            f'<option timestep="0.002" integrator="implicitfast" gravity="0 0 {_f(-self.env.gravity)}"/>',
            "<visual>",
            f'<global offwidth="{max(size, 640)}" offheight="{max(size, 640)}" fovy="45"/>',
            f'<quality shadowsize="{shadow}" offsamples="{samples}"{_coarse(scene, self.fast)}/>',
            f'<headlight ambient="{_f(lights.ambient)} {_f(lights.ambient)} {_f(lights.ambient)}" diffuse="0 0 0" specular="0 0 0"/>',
            f'<map znear="0.02" zfar="{120 if self.place else 60}" shadowclip="4" shadowscale="0.8" haze="0.2" '
            f'fogstart="{_f(6.0 if fog else 40.0)}" fogend="{_f(24.0 if fog else 100.0)}"/>',
            f'<rgba fog="{_v(self.fog_rgb)} 1"/>',
            "</visual>",
        ]

    def assets(self) -> list[str]:
        from sora_lite.engines.world import scenery

        scene, env, floor_half = self.scene, self.env, self.floor_half
        parts = [
            "<asset>",
            f'<texture name="sky" type="skybox" builtin="gradient" rgb1="{_v(self.zen)}" rgb2="{_v(self.hor)}" width="256" height="256"/>',
        ]
        if env.floor == "checker":
            parts.append('<texture name="floor" type="2d" builtin="checker" rgb1="0.78 0.78 0.8" rgb2="0.32 0.34 0.38" width="256" height="256"/>')
        else:
            parts.append(f'<texture name="floor" type="2d" builtin="flat" rgb1="0.5 0.5 0.5" width="{TEXTURE_SIZE}" height="{TEXTURE_SIZE}"/>')
        reflect = 0.0 if self.fast else 0.15
        repeat = {"checker": 6, "tiles": 3, "wood": 3}.get(env.floor, 4) * floor_half / FLOOR_HALF
        parts += [
            f'<material name="floor" texture="floor" texrepeat="{_f(repeat)} {_f(repeat)}" reflectance="{_f(reflect)}" specular="0.1"/>',
            '<material name="obj" specular="0.35" shininess="0.4"/>',
            '<material name="prop" rgba="0.62 0.5 0.38 1" specular="0.2"/>',
            f'<material name="wall" rgba="{_v(self.room) if self.room else "0.78 0.76 0.72"} 1" specular="0.05"/>',
        ]
        place_assets, self.place_world = scenery.place_xml(scene)
        parts += scenery.place_materials(scene) + place_assets
        parts += self._picture_assets() + self._face_assets()
        parts.append("</asset>")
        return parts

    def _picture_assets(self) -> list[str]:
        """Image-to-video: the backdrop, the ground layer and the standing layers cut out of the still."""
        scene, lights, parts = self.scene, self.lights, []
        if scene.backdrop_size is not None:
            # Filled from the still in `compile_scene`; emission keeps the pixels as they were (lights are behind).
            bw, bh = scene.backdrop_px or (64, 64)
            parts.append(f'<texture name="backdrop" type="2d" builtin="flat" rgb1="0.5 0.5 0.5" width="{bw}" height="{bh}"/>')
            parts.append(f'<material name="backdrop" texture="backdrop" emission="{_f(max(0.0, 1.0 - lights.ambient))}" specular="0" shininess="0"/>')
        if scene.ground_size is not None and scene.ground_pixels is not None:
            gh, gw = scene.ground_pixels.shape[:2]
            parts.append(f'<texture name="ground_layer" type="2d" builtin="flat" rgb1="0.5 0.5 0.5" width="{gw}" height="{gh}"/>')
            parts.append(f'<material name="ground_layer" texture="ground_layer" emission="{_f(ground_emission(lights))}" '
                         'specular="0" shininess="0" reflectance="0"/>')
        if scene.layer_meshes and scene.layer_pixels is not None:
            lh, lw = scene.layer_pixels.shape[:2]
            parts.append(f'<texture name="picture_layer" type="2d" builtin="flat" rgb1="0.5 0.5 0.5" width="{lw}" height="{lh}"/>')
            parts.append(f'<material name="picture_layer" texture="picture_layer" emission="{_f(max(0.0, 1.0 - lights.ambient))}" '
                         'specular="0" shininess="0" reflectance="0"/>')
            for i, (verts, tex, faces) in enumerate(scene.layer_meshes):
                parts.append(f'<mesh name="picture_layer{i}" inertia="shell" vertex="{_v(verts)}" texcoord="{_v(tex)}" '
                             f'face="{" ".join(str(k) for k in faces)}"/>')
        return parts

    def _face_assets(self) -> list[str]:
        parts = []
        for b in self.scene.bodies:
            if self.scene.wears_face(b):
                # Emission tops the light on the face up to about the photo's own exposure, so the likeness reads
                # (and the output face check can find it) under any time of day; shading still shows a little.
                parts.append(f'<texture name="face{b.index}" type="2d" builtin="flat" rgb1="0.5 0.5 0.5" '
                             f'width="{FACE_SIZE}" height="{FACE_SIZE}"/>')
                parts.append(f'<material name="face{b.index}" texture="face{b.index}" '
                             f'emission="{_f(face_emission(self.lights))}" specular="0.05" shininess="0.1"/>')
                parts.append(_face_mesh_xml(b))
        return parts

    def world(self) -> list[str]:
        from sora_lite.engines.world import scenery

        scene, env, lights, floor_half = self.scene, self.env, self.lights, self.floor_half
        parts = ["<default><geom solref=\"0.01 1\" solimp=\"0.95 0.99 0.001\"/></default>", "<worldbody>"]
        shadows = "true" if self.spec.lighting.shadows and not scenery.blob_shadows(scene) else "false"
        parts.append(
            f'<light name="key" directional="true" pos="0 0 6" dir="{_v(lights.key_dir)}" diffuse="{_v(lights.key_rgb)}" '
            f'specular="0.25 0.25 0.25" castshadow="{shadows}"/>'
        )
        fill_dir = [-lights.key_dir[0], -lights.key_dir[1] if env.backdrop != "image" else lights.key_dir[1], -0.6]
        parts.append(f'<light name="fill" directional="true" pos="0 0 6" dir="{_v(fill_dir)}" diffuse="{_v(lights.fill_rgb)}" specular="0 0 0" castshadow="false"/>')
        # MuJoCo draws a plane as a grid of quads this far apart: a place's 20 m floor at 0.1 m would be 160 000 quads
        # (4 ms a frame on llvmpipe); lighting is directional and shadows per pixel, so a coarser grid draws the same
        # floor. Scenes of primitives alone keep MuJoCo's grid (and their pixels).
        grid = max(0.1, floor_half / 40.0) if self.place or any(b.shape == "prop" for b in scene.bodies) else 0.1
        group = ' group="3"' if scene.hidden_floor else ""
        floor_z = 0.0
        parts.append(f'<geom name="floor" type="plane" size="{_f(floor_half)} {_f(floor_half)} {_f(grid)}" pos="0 0 {floor_z}" material="floor"{group}/>')
        parts += self._fixtures() + self._picture_geoms()
        for b in scene.bodies:
            if b.shape == "pendulum":
                assert b.pivot is not None
                px, py, pz = b.pivot
                parts.append(f'<geom type="box" size="0.25 0.03 0.03" pos="{_f(px)} {_f(py)} {_f(pz + 0.03)}" material="prop" contype="0" conaffinity="0"/>')
                parts.append(f'<geom type="cylinder" fromto="{_f(px - 0.22)} {_f(py)} 0 {_f(px - 0.22)} {_f(py)} {_f(pz)}" size="0.02" material="prop" contype="0" conaffinity="0"/>')
            parts.append(_body_xml(b, face=scene.wears_face(b)))
        return parts

    def _fixtures(self) -> list[str]:
        """The table, the place's own geoms, the room's walls and the ramp."""
        env, parts = self.env, []
        if env.table:
            t = TABLE_TOP
            parts.append(f'<geom name="table" type="box" size="1.2 0.7 0.03" pos="0 0 {_f(t - 0.03)}" material="prop"/>')
            for sx in (-1, 1):
                for sy in (-1, 1):
                    parts.append(f'<geom type="box" size="0.03 0.03 {_f((t - 0.06) / 2)}" pos="{sx * 1.1} {sy * 0.6} {_f((t - 0.06) / 2)}" material="prop"/>')
        parts += self.place_world
        if env.walls or env.backdrop == "room" or self.room:
            parts.append('<geom name="wall_back" type="box" size="6 0.05 2.5" pos="0 3.0 2.5" material="wall"/>')
            parts.append('<geom name="wall_left" type="box" size="0.05 6 2.5" pos="-4.0 0 2.5" material="wall"/>')
            parts.append('<geom name="wall_right" type="box" size="0.05 6 2.5" pos="4.0 0 2.5" material="wall"/>')
        if env.ramp_angle is not None:
            a = math.radians(env.ramp_angle)
            top, normal, _ = ramp_geometry(env.ramp_angle)
            t = 0.03
            centre = [top[0] / 2 - t * normal[0], 0.0, top[2] / 2 - t * normal[2] + floor_height(self.spec)]
            parts.append(
                f'<geom name="ramp" type="box" size="{_f(RAMP_LENGTH / 2)} 0.45 {t}" pos="{_v(centre)}" '
                f'euler="0 {_f(math.degrees(a))} 0" material="prop"/>'
            )
        return parts

    def _picture_geoms(self) -> list[str]:
        """Image-to-video: the ground layer, the standing layers and the backdrop (drawn only, never touched)."""
        scene, parts = self.scene, []
        if scene.ground_size is not None and scene.ground_pixels is not None:
            gx, gy, gc = scene.ground_size
            parts.append(
                f'<geom name="ground_layer" type="plane" size="{_f(gx)} {_f(gy)} 0.1" pos="{_v(gc)}" '
                f'material="ground_layer" contype="0" conaffinity="0"/>'
            )
        for i in range(len(scene.layer_meshes or []) if scene.layer_pixels is not None else 0):
            parts.append(f'<geom name="picture_layer{i}" type="mesh" mesh="picture_layer{i}" material="picture_layer" '
                         'contype="0" conaffinity="0"/>')
        if scene.backdrop_size is not None:
            hw, hh, centre, axes = scene.backdrop_size
            parts.append(
                f'<geom name="backdrop" type="plane" size="{_f(hw)} {_f(hh)} 0.1" pos="{_v(centre)}" xyaxes="{_v(axes)}" '
                f'material="backdrop" contype="0" conaffinity="0"/>'
            )
        return parts


def compile_scene(scene: Scene, backdrop_pixels: np.ndarray | None = None):  # -> mujoco.MjModel
    """Compile the scene and fill the procedural textures; the same call in every render worker."""
    import mujoco

    try:
        model = mujoco.MjModel.from_xml_string(scene_xml(scene))
    except ValueError as e:  # MuJoCo's compile errors; our own XML, so this is a bug or an absurd spec
        raise SpecError(f"the scene could not be built: {e}") from None
    env = scene.spec.environment
    if env.floor != "checker":
        _fill_texture(model, "floor", floor_texture(env.floor, scene.seed))
    from sora_lite.engines.world import scenery

    scenery.fill_place(model, scene)
    if backdrop_pixels is not None and scene.backdrop_size is not None:
        _fill_texture(model, "backdrop", backdrop_pixels)
    if scene.ground_size is not None and scene.ground_pixels is not None:
        _fill_texture(model, "ground_layer", scene.ground_pixels)
    if scene.layer_meshes and scene.layer_pixels is not None:
        _fill_texture(model, "picture_layer", scene.layer_pixels)
    for b in scene.bodies:
        if scene.wears_face(b):
            _fill_texture(model, f"face{b.index}", scene.faces[b.index])
    return model


def ground_emission(lights: Lights) -> float:
    """Emission that tops an up-facing surface's light (ambient + key + fill) up to 1: unshadowed, the picture's
    ground shows its own colours; where an object shadows the key light it darkens by the key's share."""
    def down(d: list[float]) -> float:
        n = math.sqrt(sum(v * v for v in d)) or 1.0
        return max(0.0, -d[2] / n)

    fill_dir = [-lights.key_dir[0], lights.key_dir[1], -0.6]
    lit = lights.ambient + max(lights.key_rgb) * down(lights.key_dir) + max(lights.fill_rgb) * down(fill_dir)
    return float(min(1.0, max(0.0, 1.0 - lit)))


def face_emission(lights: Lights) -> float:
    """Emission for a face facing the default camera (-y): what the lights leave to a photo's exposure."""
    lit = lights.ambient + max(0.0, lights.key_dir[1]) * max(lights.key_rgb) + 0.5 * max(lights.fill_rgb)
    return float(min(0.85, max(0.15, 0.95 - lit)))


@dataclass
class CameoLook:
    """A granted cameo as the engine shows it: the face its character wears, the voice sample for its line."""

    handle: str
    face: np.ndarray  # FACE_SIZE² RGB uint8
    voice: str | None  # audio file path, or None


def granted_looks(cameos: object) -> dict[str, CameoLook]:
    """handle → look, from `request.options["cameos"]` (what the studio checked; nothing else is loaded).

    Raises RequestError for a malformed list or an unreadable face file, naming the cameo.
    """
    if cameos is None:
        return {}
    if not isinstance(cameos, list) or not all(isinstance(c, dict) for c in cameos):
        raise RequestError("options.cameos must be a list of cameo objects (the studio fills it from granted cameos)")
    looks = {}
    for i, c in enumerate(cameos):
        handle, face, voice = c.get("handle"), c.get("face_texture"), c.get("voice")
        if not isinstance(handle, str) or not handle:
            raise RequestError(f"options.cameos[{i}] has no handle")
        if not isinstance(face, str) or not face:
            raise RequestError(f"cameo @{handle} has no face texture: register the cameo again")
        if voice is not None and not isinstance(voice, str):
            raise RequestError(f"cameo @{handle}: voice must be the path of an audio file")
        try:
            pixels = load_face_texture(face)
        except (OSError, ValueError) as e:
            raise RequestError(f"the face texture of cameo @{handle} could not be read ({e}); "
                               "register the cameo again") from None
        looks[handle.lstrip("@").lower()] = CameoLook(handle.lstrip("@").lower(), pixels, voice or None)
    return looks


def load_face_texture(path: str) -> np.ndarray:
    """A cameo's face PNG as FACE_SIZE² RGB uint8 (the registry writes that size; others are resized)."""
    from PIL import Image

    with Image.open(path) as im:
        rgb = im.convert("RGB")
        if rgb.size != (FACE_SIZE, FACE_SIZE):
            rgb = rgb.resize((FACE_SIZE, FACE_SIZE), Image.Resampling.LANCZOS)
        return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def _fill_texture(model, name: str, pixels: np.ndarray) -> None:
    import mujoco

    tid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, name)
    h, w = int(model.tex_height[tid]), int(model.tex_width[tid])
    ch = int(model.tex_nchannel[tid])
    if pixels.shape[:2] != (h, w):
        raise ValueError(f"texture {name} is {w}×{h}, pixels are {pixels.shape[1]}×{pixels.shape[0]}")
    adr = int(model.tex_adr[tid])
    flat = pixels[..., :ch].reshape(-1)
    model.tex_data[adr : adr + flat.size] = flat
