"""Recipes and places as MJCF, and what the renderer adds per frame (waves, rain, snow, clouds).

- `recipe_body_xml`: an object recipe (recipes.py) as one free body: an invisible collision hull (the box
  around the recipe; it is what the simulation moves and what contacts see) with the recipe's parts as
  visual-only child geoms and hinged child bodies (legs, wheels, wings) that `animate.py` poses.
- `place_xml`: a place (places.json) as static world geoms: its props, a terrain height field around the
  action area (hills, mountains, dunes, snow), and a water surface height field whose waves move.
- `Decor`: per-frame, render-only: re-uploads the water height field (waves travel) and adds weather particles
  and drifting clouds to the MjvScene. Everything is a function of (scene, frame index), so every render
  process draws the same pixels.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sora_lite.engines.world import recipes as R

PLACES_PATH = Path(__file__).with_name("places.json")
TERRAIN_N = 40  # height field samples per side
TERRAIN_HALF = 45.0  # metres
WATER_N = 32
FLAT_HALF = (7.0, 5.0)  # the action area stays flat (x, y half sizes) ...
RAMP = 6.0  # ... and the terrain rises over this many metres beyond it
LIMB_DENSITY = 5.0  # kg/m³: visual parts weigh next to nothing; the hull carries the mass


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(PLACES_PATH.read_text(encoding="utf-8"))


def places() -> dict[str, Any]:
    return _data()["places"]


def weathers() -> dict[str, Any]:
    return _data()["weather"]


def place_recipe(place: str | None) -> dict[str, Any] | None:
    """The place's recipe with a landmark's props chosen ("landmark/castle")."""
    if not place:
        return None
    base, _, key = place.partition("/")
    rec = dict(places()[base])
    if key:
        rec["props"] = list(rec.get("props", [])) + list(rec["props_by_word"][key])
    return rec


def _f(v: float) -> str:
    return f"{v:.5g}"


def _v(vals) -> str:
    return " ".join(_f(float(x)) for x in vals)


def _rgba(rgb) -> str:
    return f"{_f(rgb[0])} {_f(rgb[1])} {_f(rgb[2])} 1"


def _geom_xml(g: R.Geom, offset: list[float], extra: str = "") -> str:
    size = g.size
    kind = g.kind
    if g.fromto is not None:
        ft = [g.fromto[i] + offset[i % 3] for i in range(6)]
        if math.dist(ft[:3], ft[3:]) < 1e-6:  # a degenerate segment: a sphere
            return f'<geom type="sphere" size="{_f(size[0])}" pos="{_v(ft[:3])}" rgba="{_rgba(g.rgb)}" {extra}/>'
        return f'<geom type="{kind}" size="{_f(size[0])}" fromto="{_v(ft)}" rgba="{_rgba(g.rgb)}" {extra}/>'
    pos = [g.pos[i] + offset[i] for i in range(3)]
    if kind == "sphere":
        s = [size[0]]
    elif kind in ("capsule", "cylinder"):
        s = [size[0], size[1] if len(size) > 1 else size[0]]
    else:
        s = [size[0], size[1] if len(size) > 1 else size[0], size[2] if len(size) > 2 else size[0]]
    euler = f' euler="{_v(g.euler)}"' if g.euler else ""
    return f'<geom type="{kind}" size="{_v(s)}" pos="{_v(pos)}"{euler} rgba="{_rgba(g.rgb)}" {extra}/>'


def _part_xml(part: R.Part, prefix: str, offset: list[float], counter: list[int], visual: str) -> list[str]:
    """A part's geoms at `offset`, and each child as a body with its hinges named <prefix>_a<n>_<role>."""
    out = [_geom_xml(g, offset, visual) for g in part.geoms]
    for ch in part.children:
        pos = [ch.pos[i] + offset[i] for i in range(3)]
        out.append(f'<body pos="{_v(pos)}">')
        for j in ch.joints:
            counter[0] += 1
            kind = "slide" if j.role in ("lift", "mouth") else "hinge"
            out.append(f'<joint name="{prefix}_a{counter[0]}_{j.role}" type="{kind}" axis="{_v(j.axis)}" '
                       f'armature="0.001" damping="0.05"/>')
        out += _part_xml(ch, prefix, [0.0, 0.0, 0.0], counter, visual)
        out.append("</body>")
    return out


def blob_shadows(scene) -> bool:  # scene: scene.Scene
    """Fast quality in a place: contact shadows (a dark disc under each object, drawn by the renderer) instead of a
    shadow map. A place fills the frame with terrain, props and floor, and every shadow-mapped light draws all of
    it once more (measured: 20 → 10 ms a frame at 256² on llvmpipe with four articulated bodies in a park)."""
    return scene.quality != "high" and bool(scene.spec.environment.place) and scene.spec.lighting.shadows


def recipe_model(b) -> R.Model:  # b: scene.Body
    return R.build_recipe(b.recipe, b.size, tuple(b.rgba[:3]) if b.colored else None, b.variant, b.action or "")


def recipe_body_xml(b, common: str, model: R.Model) -> str:
    """An object recipe as one free body; `common` carries the hull's density and friction."""
    n = f"obj{b.index}"
    grav = ' gravcomp="1"' if b.driven or b.rider else ""  # a rider sits on its mount, not on the floor
    half = model.half
    hull_extra = ' contype="0" conaffinity="0"' if b.rider else ""
    parts = [f'<body name="{n}" pos="{_v(b.pos)}" quat="{_v(b.quat)}"{grav}><freejoint name="{n}_j"/>',
             f'<geom name="{n}_g" type="box" size="{_v(half)}" group="3" rgba="0 0 0 0" {common}{hull_extra}/>']
    visual = f'contype="0" conaffinity="0" density="{LIMB_DENSITY}" material="obj"'
    offset = [-c for c in model.centre]
    parts += _part_xml(model.root, n, offset, [0], visual)
    parts.append("</body>")
    return "".join(parts)


# --- places ---------------------------------------------------------------------------------------------------
def place_props(scene) -> list[tuple[str, list[float], float, float | None]]:
    """The place's props, less any that an object entry stands for (a place-only prompt's subject)."""
    rec = place_recipe(scene.spec.environment.place)
    if rec is None:
        return []
    pinned = [(o.recipe, o.position) for o in scene.spec.objects if o.shape == "prop" and o.position is not None]
    out = []
    for p in rec.get("props", []):
        if any(r == p[0] and abs(pos[0] - p[1]) < 1e-6 and abs(pos[1] - p[2]) < 1e-6 for r, pos in pinned):
            continue
        out.append((p[0], [float(p[1]), float(p[2]), 0.0], float(p[3]), p[4]))
    return out


def place_subject(place: str) -> tuple[str, list[float], float | None]:
    """The prop a place-only prompt ("a castle", "kitchen") is framed on: a landmark's own, else the first."""
    rec = place_recipe(place) or {}
    props = rec.get("props", [])
    p = props[-1] if "/" in place else props[0]
    return p[0], [float(p[1]), float(p[2])], p[4]


def place_xml(scene) -> tuple[list[str], list[str]]:
    """(assets, world geoms) for the scene's place: props, terrain, water."""
    rec = place_recipe(scene.spec.environment.place)
    if rec is None:
        return [], []
    assets: list[str] = []
    world: list[str] = []
    visual = 'contype="0" conaffinity="0" material="obj"'
    for k, (name, pos, yaw, size) in enumerate(place_props(scene)):
        model = R.build_recipe(name, float(size) if size else R.nominal_size(name))
        q = [math.cos(math.radians(yaw) / 2), 0.0, 0.0, math.sin(math.radians(yaw) / 2)]
        world.append(f'<body name="env{k}" pos="{_v(pos)}" quat="{_v(q)}">')
        world += _part_xml(model.root, f"env{k}", [0.0, 0.0, 0.0], [0], visual)
        world.append("</body>")
    terrain = rec.get("terrain")
    if terrain:
        peak = {"hills": 6.0, "mountains": 22.0, "dunes": 3.0, "snow": 16.0}.get(terrain, 6.0)
        assets.append(f'<hfield name="terrain" nrow="{TERRAIN_N}" ncol="{TERRAIN_N}" '
                      f'size="{_f(TERRAIN_HALF)} {_f(TERRAIN_HALF)} {_f(peak)} 0.05"/>')
        world.append('<geom name="terrain" type="hfield" hfield="terrain" pos="0 0 -0.03" material="terrain" '
                     'contype="0" conaffinity="0"/>')
    water = rec.get("water")
    if water:
        x0, x1, y0, y1 = water_box(water)
        assets.append(f'<hfield name="water" nrow="{WATER_N}" ncol="{WATER_N}" '
                      f'size="{_f((x1 - x0) / 2)} {_f((y1 - y0) / 2)} {_f(max(0.01, water.get("amp", 0.1)))} 0.02"/>')
        world.append(f'<geom name="water" type="hfield" hfield="water" pos="{_f((x0 + x1) / 2)} {_f((y0 + y1) / 2)} '
                     f'{_f(water.get("level", 0.03))}" material="water" contype="0" conaffinity="0"/>')
    return assets, world


def place_materials(scene) -> list[str]:
    rec = place_recipe(scene.spec.environment.place)
    if rec is None:
        return []
    out = []
    if rec.get("terrain"):
        col = {"snow": (0.93, 0.94, 0.97), "dunes": (0.82, 0.7, 0.5), "mountains": (0.45, 0.42, 0.38)}.get(rec["terrain"], (0.3, 0.5, 0.22))
        out.append(f'<material name="terrain" rgba="{_rgba(col)}" specular="0.05"/>')
    if rec.get("water"):
        out.append('<material name="water" rgba="0.12 0.38 0.6 0.9" specular="0.8" shininess="0.9" reflectance="0.1"/>')
    return out


def water_box(water: dict[str, Any]) -> tuple[float, float, float, float]:
    region = water.get("region", "all")
    if region == "back":
        return -30.0, 30.0, float(water.get("from", 2.0)), 40.0
    if region == "band":
        return -30.0, 30.0, float(water.get("from", 1.5)), float(water.get("to", 6.0))
    return -30.0, 30.0, -30.0, 40.0


def terrain_heights(kind: str, seed: int) -> np.ndarray:
    """TERRAIN_N² heights in 0..1, zero over the action area and rising beyond it."""
    n = TERRAIN_N
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"{seed}:terrain:{kind}".encode()).digest()[:8], "little"))
    xs = np.linspace(-TERRAIN_HALF, TERRAIN_HALF, n)
    x, y = np.meshgrid(xs, xs)  # row = y, column = x (MuJoCo's layout)
    h = np.zeros((n, n))
    octaves = {"dunes": [(0.12, 1.0), (0.3, 0.3)], "hills": [(0.08, 1.0), (0.2, 0.35)],
               "mountains": [(0.07, 1.0), (0.18, 0.5), (0.4, 0.2)], "snow": [(0.07, 1.0), (0.18, 0.5), (0.4, 0.2)]}.get(kind, [(0.1, 1.0)])
    for freq, amp in octaves:
        ph = rng.uniform(0, 2 * np.pi, 4)
        h += amp * (np.sin(freq * x + ph[0]) * np.cos(freq * 0.8 * y + ph[1]) + 0.5 * np.sin(freq * 1.3 * (x + y) + ph[2]))
    h = (h - h.min()) / max(1e-6, h.max() - h.min())
    if kind in ("mountains", "snow"):
        h = h ** 1.5
    dx = np.clip((np.abs(x) - FLAT_HALF[0]) / RAMP, 0, 1)
    dy = np.clip((y - FLAT_HALF[1]) / RAMP, 0, 1) + np.clip((-y - FLAT_HALF[1] - 6) / RAMP, 0, 1)
    mask = np.clip(np.maximum(dx * (y > -FLAT_HALF[1]), dy), 0, 1)
    if kind in ("mountains", "snow"):
        mask = mask * np.clip((y - 4) / 12, 0.05, 1)  # the peaks stand behind
    return np.clip(h * mask, 0, 1)


def wave_heights(water: dict[str, Any], t: float) -> np.ndarray:
    """WATER_N² heights in 0..1 at time t: swells travelling toward the camera, with a cross chop."""
    x0, x1, y0, y1 = water_box(water)
    xs, ys = np.linspace(x0, x1, WATER_N), np.linspace(y0, y1, WATER_N)
    x, y = np.meshgrid(xs, ys)
    h = 0.55 * np.sin(0.9 * y + 1.6 * t) + 0.3 * np.sin(0.7 * x - 0.4 * y + 1.1 * t) + 0.15 * np.sin(2.3 * x + 2.9 * y - 2.2 * t)
    return (h - (-1.0)) / 2.0


def fill_place(model, scene) -> None:
    """Fill the height fields (terrain once; water at t=0, the renderer moves it)."""
    import mujoco

    rec = place_recipe(scene.spec.environment.place)
    if rec is None:
        return
    if rec.get("terrain"):
        _fill_hfield(model, mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_HFIELD, "terrain"), terrain_heights(rec["terrain"], scene.seed))
    if rec.get("water"):
        _fill_hfield(model, mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_HFIELD, "water"), wave_heights(rec["water"], 0.0))


def _fill_hfield(model, hid: int, h: np.ndarray) -> None:
    if hid < 0:
        return
    adr, nr, nc = int(model.hfield_adr[hid]), int(model.hfield_nrow[hid]), int(model.hfield_ncol[hid])
    model.hfield_data[adr:adr + nr * nc] = np.clip(h, 0, 1).astype(np.float32).reshape(-1)


# --- per-frame decoration (render only) -------------------------------------------------------------------------
@dataclass
class _Particles:
    kind: str
    base: np.ndarray  # N×3 in 0..1
    size: float
    rgba: np.ndarray


class Decor:
    """What the renderer adds to each frame: moving water, weather particles, drifting clouds."""

    def __init__(self, model, scene, fps: float) -> None:
        import mujoco

        self.model, self.scene, self.fps = model, scene, fps
        rec = place_recipe(scene.spec.environment.place) or {}
        self.water = rec.get("water")
        self.water_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_HFIELD, "water") if self.water else -1
        kind = ""
        weather = scene.spec.environment.weather
        if weather:
            kind = weathers()[weather].get("particles", "")
        kind = kind or rec.get("particles", "")
        rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"{scene.seed}:decor".encode()).digest()[:8], "little"))
        self.particles = None
        if kind:
            n = {"rain": 260, "snow": 220, "leaves": 60, "stars": 160}.get(kind, 100)
            size = {"rain": 0.006, "snow": 0.025, "leaves": 0.05, "stars": 0.08}.get(kind, 0.02)
            rgba = {"rain": [0.75, 0.8, 0.9, 0.55], "snow": [1, 1, 1, 0.95], "leaves": [0.8, 0.45, 0.1, 1],
                    "stars": [1, 1, 0.9, 1]}.get(kind, [1, 1, 1, 1])
            self.particles = _Particles(kind, rng.uniform(0, 1, (n, 3)), size, np.array(rgba, np.float32))
        self.clouds = None
        if rec.get("clouds") and scene.spec.lighting.time_of_day != "night":
            self.clouds = rng.uniform(0, 1, (7, 3))

        self.blobs: list[tuple[int, float, float]] = []  # body id, half x, half y: contact shadows (scene.py)
        if blob_shadows(scene):
            for b in scene.bodies:
                bid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"obj{b.index}")
                hx, hy = (b.half[0], b.half[1]) if b.half else (b.radius, b.radius)
                self.blobs.append((bid, float(hx), float(hy)))

    @property
    def active(self) -> bool:
        return self.water_id >= 0 or self.particles is not None or self.clouds is not None or bool(self.blobs)

    def before(self, context, frame: int) -> None:
        """Move the water: new heights, uploaded to the GL context."""
        import mujoco

        if self.water_id >= 0:
            _fill_hfield(self.model, self.water_id, wave_heights(self.water, frame / self.fps))
            mujoco.mjr_uploadHField(self.model, context, self.water_id)

    def add(self, scn, frame: int, lookat: np.ndarray, data=None) -> None:
        """Append contact shadows, particles and clouds to the MjvScene (after mjv_updateScene)."""
        import mujoco

        t = frame / self.fps
        if data is not None:
            for bid, hx, hy in self.blobs:
                p = data.xpos[bid]
                lift = max(0.0, float(p[2]) - 0.3)  # fainter and wider as the object rises
                alpha = 0.45 / (1.0 + 1.5 * lift)
                r = data.xmat[bid].reshape(3, 3)
                yaw = math.atan2(r[1, 0], r[0, 0])
                c, s = math.cos(yaw), math.sin(yaw)
                mat = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)
                g = scn.geoms[scn.ngeom] if scn.ngeom < scn.maxgeom else None
                if g is None:
                    break
                mujoco.mjv_initGeom(g, mujoco.mjtGeom.mjGEOM_ELLIPSOID, np.array([hx * 1.1 + 0.3 * lift, hy * 1.2 + 0.3 * lift, 0.004]),
                                    np.array([p[0], p[1], 0.006]), mat.reshape(-1), np.array([0, 0, 0, alpha], np.float32))
                g.category = mujoco.mjtCatBit.mjCAT_DECOR.value
                scn.ngeom += 1
        if self.clouds is not None:
            for c in self.clouds:
                pos = np.array([(c[0] - 0.5) * 80 + 0.6 * t, 30 + c[1] * 25, 14 + c[2] * 8])
                self._geom(scn, mujoco.mjtGeom.mjGEOM_ELLIPSOID, [4 + 4 * c[2], 2.5, 1.0 + c[1]], pos,
                           np.array([1, 1, 1, 0.92], np.float32))
        p = self.particles
        if p is None:
            return
        box = np.array([10.0, 10.0, 6.0])
        centre = np.asarray(lookat, dtype=float)
        if p.kind == "rain":
            fall, drift = 9.0, 0.5
        elif p.kind == "snow":
            fall, drift = 0.8, 0.4
        elif p.kind == "leaves":
            fall, drift = 0.6, 1.5
        else:
            fall, drift = 0.0, 0.0
        for k, base in enumerate(p.base):
            if scn.ngeom >= scn.maxgeom:
                break
            if p.kind == "stars":
                pos = np.array([(base[0] - 0.5) * 100, 40 + base[1] * 10, 6 + base[2] * 30])
                self._geom(scn, mujoco.mjtGeom.mjGEOM_SPHERE, [p.size * (1 + base[0])] * 3, pos, p.rgba)
                continue
            z = (base[2] * box[2] - fall * t) % box[2]
            x = (base[0] - 0.5) * 2 * box[0] + drift * math.sin(0.7 * t + 6 * base[1])
            y = (base[1] - 0.3) * 2 * box[1]
            pos = centre + np.array([x, y, 0.0])
            pos[2] = z
            if p.kind == "rain":
                self._geom(scn, mujoco.mjtGeom.mjGEOM_CAPSULE, [p.size, 0.12, 0], pos, p.rgba)
            elif p.kind == "leaves":
                self._geom(scn, mujoco.mjtGeom.mjGEOM_ELLIPSOID, [p.size, p.size * 0.6, 0.005], pos, p.rgba)
            else:
                self._geom(scn, mujoco.mjtGeom.mjGEOM_SPHERE, [p.size] * 3, pos, p.rgba)

    @staticmethod
    def _geom(scn, kind, size, pos, rgba) -> None:
        import mujoco

        if scn.ngeom >= scn.maxgeom:
            return
        g = scn.geoms[scn.ngeom]
        mujoco.mjv_initGeom(g, kind, np.asarray(size, dtype=np.float64), np.asarray(pos, dtype=np.float64),
                            np.eye(3).reshape(-1), np.asarray(rgba, dtype=np.float32))
        g.category = mujoco.mjtCatBit.mjCAT_DECOR.value
        g.emission = 0.75  # clouds, rain and snow glow with the sky's light rather than shade like solids
        scn.ngeom += 1
