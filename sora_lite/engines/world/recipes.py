"""Object recipes: articulated proxies built from MuJoCo primitives, read from `recipes.json`.

A recipe is data: either a template with parameters (quadruped, bird, fish, vehicle, human, ...) or an explicit
list of parts. `build_recipe` turns one into a tree of bodies and geoms in the recipe's own frame (x forward,
z up, origin on the ground under the object's centre), scaled to the object's size; `scene.py` writes it as
MJCF. Joints carry a *role* (leg_fl, wheel, neck, tail, hip_l, ...) that `animate.py` drives from
`actions.json` (kinematic animation: joint angles are set from the clock, the physics moves only the hull).

Why templates: the ~100 recipes share a handful of body plans, so a giraffe is a quadruped with a long neck,
spots and a tall leg, not code of its own; new objects are a few lines of JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

RECIPES_PATH = Path(__file__).with_name("recipes.json")
ACTIONS_PATH = Path(__file__).with_name("actions.json")

RGB = tuple[float, float, float]


@dataclass
class Geom:
    kind: str  # box | sphere | capsule | cylinder | ellipsoid
    size: list[float]
    pos: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    rgb: RGB = (0.5, 0.5, 0.5)
    euler: list[float] | None = None  # degrees, MuJoCo's xyz convention
    fromto: list[float] | None = None  # capsule / cylinder between two points


@dataclass
class Joint:
    role: str  # what animates it (actions.json), e.g. "leg_fl", "wheel", "hip_l"
    axis: list[float]
    radius: float = 0.0  # wheels: rolling radius (spin rate = speed / radius)


@dataclass
class Part:
    """A body of the recipe's tree: geoms, an optional hinge at its origin, and children."""

    pos: list[float]
    geoms: list[Geom] = field(default_factory=list)
    joints: list[Joint] = field(default_factory=list)
    children: list[Part] = field(default_factory=list)


@dataclass
class Model:
    """A built recipe: its root part (in the recipe frame), bounding half extents and centre height."""

    name: str
    root: Part
    half: list[float]  # bounding box half extents (x, y, z), metres
    centre: list[float]  # bounding box centre in the recipe frame
    mover: str  # how it moves: walk | drive | fly | swim | static | roll | person
    joints: list[Joint]


class RecipeError(ValueError):
    """A recipe in recipes.json that cannot be built; the message names it."""


@lru_cache(maxsize=1)
def recipes() -> dict[str, dict[str, Any]]:
    raw = json.loads(RECIPES_PATH.read_text(encoding="utf-8"))
    return {k: v for k, v in raw["recipes"].items()}


@lru_cache(maxsize=1)
def palette() -> dict[str, RGB]:
    raw = json.loads(RECIPES_PATH.read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in raw["palette"].items()}  # type: ignore[misc]


@lru_cache(maxsize=1)
def actions() -> dict[str, Any]:
    return json.loads(ACTIONS_PATH.read_text(encoding="utf-8"))


def recipe_words() -> dict[str, str]:
    """Every word or phrase that names a recipe → the recipe's name."""
    out: dict[str, str] = {}
    for name, r in recipes().items():
        for w in [name.replace("_", " "), *r.get("words", []), *r.get("stand_in_words", [])]:
            out.setdefault(w, name)
    return out


def nominal_size(name: str) -> float:
    return float(recipes()[name]["size"])


def _color(ref: Any, colors: dict[str, RGB], main: RGB) -> RGB:
    if isinstance(ref, (list, tuple)):
        return (float(ref[0]), float(ref[1]), float(ref[2]))
    if ref == "main":
        return main
    if ref in colors:
        return colors[ref]
    pal = palette()
    if ref in pal:
        return pal[ref]
    raise RecipeError(f"unknown colour {ref!r}")


# --- templates -------------------------------------------------------------------------------------------------
def _quadruped(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    L, R, H = p["body"][0], p["body"][1], p["leg"]
    lr = p.get("leg_r", R * 0.22)
    zc = H + R * 0.7
    body = Geom("ellipsoid", [L, R * p.get("width", 0.8), R], [0, 0, zc], c["main"])
    root = Part([0, 0, 0], [body])
    if p.get("hump"):
        root.geoms.append(Geom("ellipsoid", [L * 0.3, R * 0.6, R * 0.6], [0, 0, zc + R * 0.8], c["main"]))
    for mark in range(int(p.get("stripes", 0))):  # zebra: dark bands across the body
        x = -L * 0.8 + mark * (1.6 * L / max(1, int(p["stripes"]) - 1))
        root.geoms.append(Geom("ellipsoid", [L * 0.045, R * p.get("width", 0.8) * 1.02, R * 1.01], [x, 0, zc], c["accent"]))
    for k in range(int(p.get("spots", 0))):  # giraffe / cow patches
        a = k * 2.399
        x, z = L * 0.75 * math.cos(a * 1.7) * ((k % 5) / 5 + 0.2), R * 0.55 * math.sin(a)
        for side in (-1, 1):
            root.geoms.append(Geom("sphere", [R * 0.28], [x, side * R * p.get("width", 0.8) * 0.78, zc + z], c["accent"]))
    for name, sx, sy in (("fl", 1, 1), ("fr", 1, -1), ("bl", -1, 1), ("br", -1, -1)):
        hip = [sx * L * 0.7, sy * R * 0.5, H + lr]
        leg = Part(hip, [Geom("capsule", [lr], rgb=c.get("legs", c["main"]), fromto=[0, 0, 0, 0, 0, -H])],
                   [Joint("leg_" + name, [0, -1, 0])])
        if p.get("hooves"):
            leg.geoms.append(Geom("cylinder", [lr * 1.15, lr * 0.6], [0, 0, -H + lr * 0.3], c.get("hoof", (0.15, 0.12, 0.1))))
        root.children.append(leg)
    # neck + head on a hinge at the shoulders (nodding, grazing)
    na = math.radians(p.get("neck_angle", 30))
    nl = p.get("neck", R * 0.6)
    nr = p.get("neck_r", R * 0.45)
    base = [L * 0.8, 0, zc + R * 0.3]
    tip = [nl * math.cos(na), 0, nl * math.sin(na)]
    hr = p.get("head", R * 0.55)
    hl = p.get("head_len", hr * 1.5)
    head_c = [tip[0] + hl * 0.6, 0, tip[2]]
    neck = Part(base, [Geom("capsule", [nr], rgb=c["main"], fromto=[0, 0, 0, *tip]),
                       Geom("ellipsoid", [hl, hr * 0.8, hr], head_c, c.get("head", c["main"]))],
                [Joint("neck", [0, 1, 0])])
    if p.get("stripes"):
        for k in range(3):
            f = 0.25 + 0.25 * k
            neck.geoms.append(Geom("capsule", [nr * 1.03], rgb=c["accent"],
                                   fromto=[tip[0] * f, 0, tip[2] * f, tip[0] * (f + 0.06), 0, tip[2] * (f + 0.06)]))
    if p.get("spots"):
        for k in range(3):
            f = 0.2 + 0.28 * k
            neck.geoms.append(Geom("sphere", [nr * 0.55], [tip[0] * f, -nr * 0.75, tip[2] * f], c["accent"]))
    if p.get("mane"):
        neck.geoms.append(Geom("capsule", [nr * 0.35], rgb=c.get("mane", c["accent"]),
                               fromto=[-nr * 0.5, 0, nr * 0.8, tip[0] - nr * 0.4, 0, tip[2] + nr * 0.8]))
    if p.get("snout"):
        neck.geoms.append(Geom("ellipsoid", [hl * 0.45, hr * 0.5, hr * 0.45],
                               [head_c[0] + hl * 0.85, 0, head_c[2] - hr * 0.25], c.get("snout", c.get("head", c["main"]))))
    ears = p.get("ears")
    if ears:
        for side in (-1, 1):
            if ears == "flat":  # elephant
                neck.geoms.append(Geom("ellipsoid", [hr * 0.15, hr * 1.0, hr * 1.1], [head_c[0] - hl * 0.3, side * hr * 0.9, head_c[2]], c["main"]))
            elif ears == "long":  # rabbit
                neck.geoms.append(Geom("capsule", [hr * 0.18], rgb=c["main"], fromto=[head_c[0] - hl * 0.2, side * hr * 0.3, head_c[2] + hr * 0.6,
                                                                                    head_c[0] - hl * 0.5, side * hr * 0.4, head_c[2] + hr * 2.2]))
            else:  # pointed / round
                er = hr * (0.3 if ears == "pointed" else 0.25)
                neck.geoms.append(Geom("sphere" if ears == "round" else "ellipsoid",
                                       [er] if ears == "round" else [er * 0.5, er * 0.7, er * 1.3],
                                       [head_c[0] - hl * 0.3, side * hr * 0.5, head_c[2] + hr * 0.85], c.get("ear", c.get("head", c["main"]))))
    if p.get("horns"):
        for side in (-1, 1):
            neck.geoms.append(Geom("capsule", [hr * 0.1], rgb=c.get("horn", (0.9, 0.88, 0.8)),
                                   fromto=[head_c[0] - hl * 0.3, side * hr * 0.35, head_c[2] + hr * 0.7,
                                           head_c[0] - hl * 0.5, side * hr * 0.6, head_c[2] + hr * 1.3]))
    if p.get("trunk"):
        t = p["trunk"]
        neck.geoms.append(Geom("capsule", [hr * 0.22], rgb=c["main"],
                               fromto=[head_c[0] + hl * 0.8, 0, head_c[2] - hr * 0.2, head_c[0] + hl * 1.0, 0, head_c[2] - t]))
        for side in (-1, 1):  # tusks
            neck.geoms.append(Geom("capsule", [hr * 0.07], rgb=(0.95, 0.93, 0.85),
                                   fromto=[head_c[0] + hl * 0.6, side * hr * 0.3, head_c[2] - hr * 0.5,
                                           head_c[0] + hl * 1.1, side * hr * 0.35, head_c[2] - hr * 0.7]))
    for side in (-1, 1):  # eyes
        neck.geoms.append(Geom("sphere", [hr * 0.12], [head_c[0] + hl * 0.45, side * hr * 0.6, head_c[2] + hr * 0.3], (0.03, 0.03, 0.03)))
    root.children.append(neck)
    tl = p.get("tail", L * 0.5)
    if tl > 0:
        ta = math.radians(p.get("tail_angle", -40))
        tail = Part([-L * 0.95, 0, zc + R * 0.4],
                    [Geom("capsule", [p.get("tail_r", R * 0.12)], rgb=c.get("tail", c["main"]),
                          fromto=[0, 0, 0, -tl * math.cos(ta), 0, tl * math.sin(ta)])],
                    [Joint("tail", [0, 0, 1])])
        root.children.append(tail)
    return root


def _bird(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    L, H = p["body"], p.get("leg", p["body"] * 0.6)
    zc = H + L * 0.55
    root = Part([0, 0, 0], [Geom("ellipsoid", [L, L * 0.55, L * 0.55], [0, 0, zc], c["main"]),
                            Geom("sphere", [L * 0.38], [L * 0.85, 0, zc + L * 0.45], c.get("head", c["main"])),
                            Geom("capsule", [L * 0.08], rgb=c.get("beak", (0.95, 0.7, 0.1)),
                                 fromto=[L * 1.15, 0, zc + L * 0.42, L * (1.15 + p.get("beak", 0.35)), 0, zc + L * 0.36]),
                            Geom("box", [L * 0.35, L * 0.25, L * 0.04], [-L * 1.15, 0, zc + L * 0.1], c.get("tail", c["main"]), euler=[0, -15, 0])])
    for side in (-1, 1):
        root.geoms.append(Geom("sphere", [L * 0.08], [L * 1.1, side * L * 0.25, zc + L * 0.55], (0.02, 0.02, 0.02)))
        root.geoms.append(Geom("capsule", [L * 0.04], rgb=c.get("legs", (0.9, 0.6, 0.2)),
                               fromto=[0, side * L * 0.2, zc - L * 0.4, 0, side * L * 0.2, 0.01]))
        span = L * p.get("wings", 1.4)
        wing = Part([L * 0.1, side * L * 0.45, zc + L * 0.2],
                    [Geom("box", [L * 0.55, span / 2, L * 0.04], [0, side * span / 2, 0], c.get("wing", c["main"]))],
                    [Joint("wing_" + ("l" if side > 0 else "r"), [side, 0, 0])])
        root.children.append(wing)
    return root


def _fish(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    L = p["body"]
    R = L * p.get("thick", 0.3)
    zc = p.get("swim_height", R * 1.2)
    root = Part([0, 0, 0], [Geom("ellipsoid", [L, R * 0.8, R], [0, 0, zc], c["main"]),
                            Geom("box", [L * 0.25, R * 0.05, R * p.get("fin", 0.6)], [L * 0.05, 0, zc + R * 1.1], c.get("fin", c["main"]), euler=[0, -25, 0])])
    if p.get("belly"):
        root.geoms.append(Geom("ellipsoid", [L * 0.8, R * 0.75, R * 0.5], [L * 0.05, 0, zc - R * 0.45], c["belly"]))
    for side in (-1, 1):
        root.geoms.append(Geom("sphere", [R * 0.12], [L * 0.75, side * R * 0.55, zc + R * 0.2], (0.02, 0.02, 0.02)))
        root.geoms.append(Geom("box", [L * 0.18, R * 0.5, R * 0.05], [L * 0.3, side * R * 0.9, zc - R * 0.4], c.get("fin", c["main"]), euler=[side * 20, 0, 0]))
    tail = Part([-L * 0.95, 0, zc], [Geom("box", [L * 0.2, R * 0.06, R * 0.9], [-L * 0.2, 0, 0], c.get("fin", c["main"]))],
                [Joint("tail", [0, 0, 1])])
    root.children.append(tail)
    return root


def _vehicle(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    L, W, Hb = p["length"] / 2, p["width"] / 2, p["body_h"] / 2
    r = p["wheel_r"]
    clear = p.get("clearance", r * 0.6)
    zc = clear + Hb
    root = Part([0, 0, 0], [Geom("box", [L, W, Hb], [0, 0, zc], c["main"])])
    cab = p.get("cabin")
    if cab:  # [x centre, half length, height]
        root.geoms.append(Geom("box", [cab[1], W * 0.92, cab[2] / 2], [cab[0] * L, 0, zc + Hb + cab[2] / 2], c.get("cabin", c["main"])))
        # windows: dark bands on both sides and the windscreen
        root.geoms.append(Geom("box", [cab[1] * 0.85, W * 0.93, cab[2] * 0.3], [cab[0] * L, 0, zc + Hb + cab[2] * 0.55], c.get("glass", (0.12, 0.16, 0.22))))
        root.geoms.append(Geom("box", [cab[1] * 1.01, W * 0.8, cab[2] * 0.3], [cab[0] * L, 0, zc + Hb + cab[2] * 0.55], c.get("glass", (0.12, 0.16, 0.22))))
    if p.get("windows"):  # a row of windows along the body (bus, train)
        n = int(p["windows"])
        for k in range(n):
            x = -L * 0.85 + (k + 0.5) * (1.7 * L / n)
            root.geoms.append(Geom("box", [L * 0.7 / n, W * 1.01, Hb * 0.25], [x, 0, zc + Hb * 0.4], c.get("glass", (0.12, 0.16, 0.22))))
    for side in (-1, 1):  # lights
        root.geoms.append(Geom("box", [0.02, W * 0.18, Hb * 0.12], [L + 0.01, side * W * 0.65, zc + Hb * 0.2], (1.0, 0.95, 0.7)))
        root.geoms.append(Geom("box", [0.02, W * 0.15, Hb * 0.1], [-L - 0.01, side * W * 0.65, zc + Hb * 0.2], (0.9, 0.1, 0.1)))
    for extra in p.get("extra", []):
        root.geoms.append(_explicit_geom(extra, c))
    axles = p.get("axles", [0.7, -0.7])
    for ax in axles:
        for side in (-1, 1):
            wheel = Part([ax * L, side * (W + r * 0.1), r],
                         [Geom("cylinder", [r, r * 0.35], rgb=(0.08, 0.08, 0.08), euler=[90, 0, 0]),
                          Geom("box", [r * 0.55, r * 0.37, r * 0.15], rgb=(0.7, 0.7, 0.72)),
                          Geom("box", [r * 0.15, r * 0.37, r * 0.55], rgb=(0.7, 0.7, 0.72))],
                         [Joint("wheel", [0, 1, 0], radius=r)])
            root.children.append(wheel)
    return root


def _two_wheeler(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    L, r = p["length"] / 2, p["wheel_r"]
    tube = p.get("tube", 0.025)
    seat_z = p.get("seat", 0.9)
    root = Part([0, 0, 0], [
        Geom("capsule", [tube], rgb=c["main"], fromto=[-L + r, 0, r, 0, 0, seat_z * 0.75]),
        Geom("capsule", [tube], rgb=c["main"], fromto=[0, 0, seat_z * 0.75, L - r * 0.9, 0, seat_z]),
        Geom("capsule", [tube], rgb=c["main"], fromto=[L - r, 0, r, L - r * 0.9, 0, seat_z * 1.05]),
        Geom("capsule", [tube], rgb=c["main"], fromto=[-L + r, 0, r, -L * 0.2, 0, seat_z * 0.95]),
        Geom("box", [0.12, 0.06, 0.03], [-L * 0.2, 0, seat_z], (0.1, 0.1, 0.1)),
        Geom("capsule", [tube * 0.8], rgb=(0.15, 0.15, 0.15), fromto=[L - r * 0.9, -0.25, seat_z * 1.1, L - r * 0.9, 0.25, seat_z * 1.1]),
    ])
    if p.get("motor"):
        root.geoms.append(Geom("box", [L * 0.35, 0.14, 0.16], [0, 0, r * 1.1], c.get("engine", (0.25, 0.25, 0.27))))
        root.geoms.append(Geom("ellipsoid", [L * 0.3, 0.16, 0.12], [L * 0.15, 0, seat_z * 0.85], c["main"]))
    for name, x in (("front", L - r), ("back", -L + r)):
        root.children.append(Part([x, 0, r], [Geom("cylinder", [r, p.get("tyre", 0.03)], rgb=(0.08, 0.08, 0.08), euler=[90, 0, 0]),
                                              Geom("cylinder", [r * 0.8, p.get("tyre", 0.03) * 1.1], rgb=(0.75, 0.75, 0.78), euler=[90, 0, 0]),
                                              Geom("box", [r * 0.8, p.get("tyre", 0.03) * 1.2, 0.01], rgb=(0.2, 0.2, 0.2))],
                                  [Joint("wheel", [0, 1, 0], radius=r)]))
    return root


def _human(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    h = p.get("height", 1.75)
    w = p.get("build", 1.0)  # 0.8 slim .. 1.3 broad
    leg, thigh = 0.47 * h, 0.245 * h
    torso = 0.3 * h
    hr = 0.065 * h * p.get("head_scale", 1.0)
    lr = 0.045 * h * w
    ar = 0.032 * h * w
    skin, shirt, pants = c["skin"], c["main"], c.get("pants", (0.2, 0.22, 0.3))
    figure = Part([0, 0, leg], [Geom("box", [0.09 * h * 0.6, 0.1 * h * w, 0.05 * h], [0, 0, 0.02 * h], pants)],
                  [Joint("lift", [0, 0, 1]), Joint("lean", [0, 1, 0]), Joint("turn", [0, 0, 1])])
    for side, s in (("l", 1), ("r", -1)):
        shin = Part([0, 0, -thigh], [Geom("capsule", [lr * 0.85], rgb=pants, fromto=[0, 0, 0, 0, 0, -(leg - thigh) + lr]),
                                     Geom("box", [0.06 * h, lr, lr * 0.6], [0.03 * h, 0, -(leg - thigh) + lr * 0.6], c.get("shoes", (0.1, 0.08, 0.07)))],
                    [Joint("knee_" + side, [0, 1, 0])])
        figure.children.append(Part([0, s * 0.055 * h * w, 0], [Geom("capsule", [lr], rgb=pants, fromto=[0, 0, 0, 0, 0, -thigh])],
                                    [Joint("hip_" + side, [0, -1, 0])], [shin]))
    chest = Part([0, 0, 0.03 * h], [Geom("capsule", [0.085 * h * w], rgb=shirt, fromto=[0, 0, 0.04 * h, 0, 0, torso - 0.08 * h]),
                                    Geom("box", [0.07 * h * w, 0.12 * h * w, 0.1 * h], [0, 0, torso * 0.62], shirt)],
                 [Joint("spine", [0, 1, 0])])
    head = Part([0, 0, torso], [Geom("capsule", [hr * 0.45], rgb=skin, fromto=[0, 0, 0, 0, 0, hr * 0.6]),
                                Geom("sphere", [hr], [0, 0, hr * 1.45], skin),
                                Geom("ellipsoid", [hr * 1.02, hr * 1.02, hr * 0.55], [-hr * 0.12, 0, hr * 1.85], c.get("hair", (0.18, 0.12, 0.08)))],
                [Joint("nod", [0, 1, 0]), Joint("look", [0, 0, 1])])
    for side in (-1, 1):
        head.geoms.append(Geom("sphere", [hr * 0.14], [hr * 0.88, side * hr * 0.38, hr * 1.55], (0.05, 0.04, 0.04)))
    # the mouth: a dark box inside the head on a forward slide ("mouth", posed by the engine from the speech
    # envelope, sora_lite/engines/world/mouths.py): closed it is hidden, open it shows through the face
    head.children.append(Part([hr * 0.62, 0, hr * 1.0], [Geom("box", [hr * 0.12, hr * 0.28, hr * 0.12], rgb=(0.1, 0.02, 0.03))],
                              [Joint("mouth", [1, 0, 0])]))
    chest.children.append(head)
    for side, s in (("l", 1), ("r", -1)):
        upper = 0.17 * h
        fore = Part([0, 0, -upper], [Geom("capsule", [ar * 0.9], rgb=skin if p.get("short_sleeves", True) else shirt, fromto=[0, 0, 0, 0, 0, -0.15 * h]),
                                     Geom("sphere", [ar * 1.2], [0, 0, -0.16 * h], skin)],
                    [Joint("elbow_" + side, [0, -1, 0])])
        for g in p.get("hold_" + side, []):  # a held prop (actions.json), in metres for a 1.75 m person, at the hand
            geom = _explicit_geom(g, c)
            k = h / 1.75
            geom.size = [v * k for v in geom.size]
            geom.pos = [geom.pos[0] * k, geom.pos[1] * k, geom.pos[2] * k - 0.16 * h]
            if geom.fromto is not None:
                geom.fromto = [v * k - (0.16 * h if i % 3 == 2 else 0.0) for i, v in enumerate(geom.fromto)]
            fore.geoms.append(geom)
        chest.children.append(Part([0, s * (0.12 * h * w + ar), torso * 0.9],
                                   [Geom("capsule", [ar], rgb=shirt, fromto=[0, 0, 0, 0, 0, -upper])],
                                   [Joint("shoulder_" + side, [0, -1, 0]), Joint("raise_" + side, [s, 0, 0])], [fore]))
    figure.children.append(chest)
    return Part([0, 0, 0], [], [], [figure])


def _explicit_geom(g: list[Any] | dict[str, Any], c: dict[str, RGB]) -> Geom:
    """[kind, size, pos, colour, {euler|fromto}] → Geom."""
    if isinstance(g, dict):
        return Geom(g["g"], list(g.get("s", [0.05])), list(g.get("p", [0, 0, 0])), _color(g.get("c", "main"), c, c["main"]),
                    g.get("e"), g.get("ft"))
    kind, size, pos, col = g[0], g[1], g[2] if len(g) > 2 else [0, 0, 0], g[3] if len(g) > 3 else "main"
    extra = g[4] if len(g) > 4 else {}
    return Geom(kind, list(size), list(pos), _color(col, c, c["main"]), extra.get("e"), extra.get("ft"))


def _explicit(p: dict[str, Any], c: dict[str, RGB]) -> Part:
    root = Part([0, 0, 0], [_explicit_geom(g, c) for g in p["parts"]])
    for j in p.get("moving", []):  # {"at": [x,y,z], "role": "spin", "axis": [..], "parts": [...]}
        root.children.append(Part(list(j["at"]), [_explicit_geom(g, c) for g in j["parts"]],
                                  [Joint(j["role"], list(j.get("axis", [0, 0, 1])), float(j.get("radius", 0.0)))]))
    return root


TEMPLATES = {"quadruped": _quadruped, "bird": _bird, "fish": _fish, "vehicle": _vehicle, "two_wheeler": _two_wheeler,
             "human": _human, "parts": _explicit}


def _bounds(part: Part, origin: list[float], lo: list[float], hi: list[float]) -> None:
    at = [origin[i] + part.pos[i] for i in range(3)]
    for g in part.geoms:
        if g.fromto is not None:
            r = g.size[0]
            pts = [g.fromto[:3], g.fromto[3:]]
            for pt in pts:
                for i in range(3):
                    lo[i] = min(lo[i], at[i] + pt[i] - r)
                    hi[i] = max(hi[i], at[i] + pt[i] + r)
            continue
        s = g.size
        if g.kind == "sphere":
            ext = [s[0]] * 3
        elif g.kind in ("capsule", "cylinder"):
            e = s[0] + (s[1] if len(s) > 1 else 0)
            ext = [e] * 3 if g.euler else [s[0], s[0], (s[1] if len(s) > 1 else s[0]) + (s[0] if g.kind == "capsule" else 0)]
        else:
            ext = [s[0], s[1] if len(s) > 1 else s[0], s[2] if len(s) > 2 else s[0]]
            if g.euler and any(abs(v) > 1 for v in g.euler):
                m = max(ext)
                ext = [m, m, m]
        for i in range(3):
            lo[i] = min(lo[i], at[i] + g.pos[i] - ext[i])
            hi[i] = max(hi[i], at[i] + g.pos[i] + ext[i])
    for ch in part.children:
        _bounds(ch, at, lo, hi)


def _scaled(part: Part, k: float) -> Part:
    return Part([v * k for v in part.pos],
                [Geom(g.kind, [v * k for v in g.size], [v * k for v in g.pos], g.rgb, g.euler,
                      [v * k for v in g.fromto] if g.fromto is not None else None) for g in part.geoms],
                [Joint(j.role, j.axis, j.radius * k) for j in part.joints],
                [_scaled(ch, k) for ch in part.children])


def _joints(part: Part) -> list[Joint]:
    return list(part.joints) + [j for ch in part.children for j in _joints(ch)]


def colors_for(name: str, main: RGB | None, overrides: dict[str, Any] | None = None) -> dict[str, RGB]:
    r = recipes()[name]
    c: dict[str, RGB] = {}
    for k, v in r.get("colors", {}).items():
        c[k] = _color(v, {}, (0.5, 0.5, 0.5))
    c.setdefault("main", (0.6, 0.6, 0.6))
    if main is not None:
        c["main"] = main
    for k, v in (overrides or {}).items():
        c[k] = _color(v, c, c["main"])
    return c


@lru_cache(maxsize=256)
def _unit(name: str, main: RGB | None, variant: str, action: str = "") -> Model:
    if name not in recipes():
        raise RecipeError(f"there is no recipe {name!r}")
    r = recipes()[name]
    overrides = dict(r.get("variants", {}).get(variant, {}).get("colors", {})) if variant else {}
    params = dict(r.get("params", {}))
    if r.get("template", "parts") == "parts":
        params = {"parts": r.get("parts", []), "moving": r.get("moving", [])}
    if variant:
        params.update(r.get("variants", {}).get(variant, {}).get("params", {}))
    act = actions()["actions"].get(action, {}) if action else {}
    for side in ("hold_l", "hold_r"):  # a prop the action puts in a hand
        if act.get(side):
            params[side] = act[side]
    c = colors_for(name, main, overrides)
    try:
        root = TEMPLATES[r.get("template", "parts")](params, c)
    except (KeyError, IndexError, TypeError) as e:
        raise RecipeError(f"recipe {name!r} is malformed: {e}") from None
    if act.get("hold_l") or act.get("hold_r"):  # held props do not change the figure's size or hull
        base = _unit(name, main, variant, "")
        return Model(name, root, base.half, base.centre, base.mover, _joints(root))
    lo, hi = [1e9] * 3, [-1e9] * 3
    _bounds(root, [0.0, 0.0, 0.0], lo, hi)
    lo[2] = min(lo[2], 0.0)
    half = [max(0.01, (hi[i] - lo[i]) / 2) for i in range(3)]
    centre = [(hi[i] + lo[i]) / 2 for i in range(3)]
    return Model(name, root, half, centre, r.get("mover", "static"), _joints(root))


def build_recipe(name: str, size: float, main: RGB | None = None, variant: str = "", action: str = "") -> Model:
    """The recipe scaled so that its largest half extent is `size` metres (with what the action holds)."""
    unit = _unit(name, main, variant, action)
    k = size / max(unit.half)
    return Model(name, _scaled(unit.root, k), [v * k for v in unit.half], [v * k for v in unit.centre], unit.mover,
                 [Joint(j.role, j.axis, j.radius * k) for j in unit.joints])
