"""The world engine's scene spec: what the prompt parser produces and the simulator consumes.

A spec round-trips through JSON (`to_dict` / `from_dict`), so users can read and edit it in the app and pass
it on the command line. `from_dict` rejects unknown keys and out-of-range values with a `SpecError`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sora_lite.common.handles import HANDLE_RE
from sora_lite.engines.base import RequestError


class SpecError(RequestError):
    """A scene spec that cannot be simulated; the message names the field."""


@dataclass(frozen=True)
class Material:
    """Physical and acoustic properties. timbre selects the modal-synthesis preset in `audio.py`."""

    density: float  # kg/m³
    restitution: float  # 0..1 bounce
    friction: float  # sliding coefficient
    timbre: str


MATERIALS: dict[str, Material] = {
    "rubber": Material(density=1100.0, restitution=0.8, friction=0.9, timbre="rubber"),
    "wood": Material(density=700.0, restitution=0.5, friction=0.5, timbre="wood"),
    "metal": Material(density=7800.0, restitution=0.55, friction=0.35, timbre="metal"),
    "glass": Material(density=2500.0, restitution=0.6, friction=0.25, timbre="glass"),
    "stone": Material(density=2600.0, restitution=0.3, friction=0.7, timbre="stone"),
    "plastic": Material(density=950.0, restitution=0.65, friction=0.4, timbre="plastic"),
    "ice": Material(density=917.0, restitution=0.3, friction=0.03, timbre="glass"),
}

SHAPES = ("ball", "cube", "cylinder", "capsule", "domino", "pendulum", "character", "prop")  # prop: a recipe (recipes.json)
FLOORS = ("checker", "wood", "grass", "concrete", "sand", "tiles", "asphalt", "snow", "dirt", "rock", "carpet", "marble", "field")
BACKDROPS = ("sky", "room", "image")
TIMES_OF_DAY = ("dawn", "morning", "noon", "afternoon", "sunset", "dusk", "night")
MOODS = ("neutral", "warm", "cool", "dramatic", "soft")
CAMERA_MOVES = ("static", "pan", "tilt", "orbit", "dolly", "zoom", "follow")
SHOT_SIZES = ("wide", "medium", "close")
ARRANGEMENTS = ("auto", "row", "stack", "scatter", "ride", "edge")  # ride: on the entry before it (a person on a bicycle); edge: along the table's edge, pushed over it ("tumble off a table")  # how an entry's `count` copies are laid out
PERTURBATIONS = ("gravity_flip", "energy_gain", "teleport", "vanish", "audio_shift")

COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.1, 0.1),
    "green": (0.1, 0.7, 0.2),
    "blue": (0.1, 0.3, 0.9),
    "yellow": (0.95, 0.85, 0.1),
    "orange": (0.95, 0.5, 0.05),
    "purple": (0.55, 0.2, 0.75),
    "pink": (0.95, 0.45, 0.7),
    "white": (0.92, 0.92, 0.92),
    "black": (0.06, 0.06, 0.06),
    "gray": (0.5, 0.5, 0.5),
    "brown": (0.5, 0.3, 0.12),
    "cyan": (0.1, 0.8, 0.85),
    "gold": (0.85, 0.65, 0.15),
    "silver": (0.75, 0.75, 0.78),
    "natural": (0.6, 0.6, 0.6),  # a prop in its recipe's own colours (a brown dog, a gray elephant)
}


@dataclass
class ObjectSpec:
    """One kind of object; `count` copies are placed side by side unless `position` pins the first."""

    shape: str = "ball"
    color: str = "red"
    material: str = "rubber"
    size: float = 0.15  # characteristic half-size in metres (radius of a ball, half-edge of a cube)
    count: int = 1
    position: list[float] | None = None  # metres, z up; None = placed by the engine
    velocity: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    restitution: float | None = None  # None = the material's
    friction: float | None = None
    name: str = ""  # how the prompt called it, e.g. "red ball"; used by ground truth and the eval
    # metres from the object's lowest point to the surface below it (floor or table) at t=0, so a drop's first
    # contact is at sqrt(2h/g); None = the engine's default placement (resting, or its own drop height)
    height: float | None = None
    arrangement: str = "auto"  # one of ARRANGEMENTS; "auto" = the engine's choice for the shape (dominoes: row)
    length: float | None = None  # pendulum: pivot to bob centre in metres; None = the engine's default
    # a character that stands for a cameo (its handle, e.g. "alice" for @alice). The spec only names it: the
    # engine shows the face only when the request's options carry that cameo, checked by the studio.
    cameo: str | None = None
    # shape "prop": the recipe it is built from (recipes.json: a dog, a car, a person ...), a variant of it
    # ("woman", "polar"), and the action it performs (actions.json: walk, gallop, drive, wave ...); None = its idle
    recipe: str | None = None
    variant: str = ""
    action: str | None = None

    def rgb(self) -> tuple[float, float, float]:
        return COLORS[self.color]

    def resolved_material(self) -> Material:
        base = MATERIALS[self.material]
        return Material(
            density=base.density,
            restitution=base.restitution if self.restitution is None else self.restitution,
            friction=base.friction if self.friction is None else self.friction,
            timbre=base.timbre,
        )


@dataclass
class EnvironmentSpec:
    floor: str = "checker"
    table: bool = False
    walls: bool = False
    ramp_angle: float | None = None  # degrees; None = no ramp
    backdrop: str = "sky"  # "image" = the request's still, on a plane behind the scene
    gravity: float = 9.81  # m/s², downward
    place: str | None = None  # an environment recipe (places.json), e.g. "beach", "kitchen", "landmark/castle"
    weather: str | None = None  # places.json "weather": rain, snow, fog, wind, sparkle


@dataclass
class LightingSpec:
    time_of_day: str = "noon"
    mood: str = "neutral"
    key_direction: list[float] = field(default_factory=lambda: [0.4, 0.5, -1.0])  # light travels along this (world frame; the default camera looks along +y)
    color_temperature: float = 5600.0  # kelvin
    intensity: float = 1.0
    shadows: bool = True


@dataclass
class CameraSpec:
    move: str = "static"
    shot: str = "wide"
    lens_mm: float = 35.0  # full-frame equivalent; sets the vertical field of view
    target: str | None = None  # object name to frame / follow; None = scene centre
    azimuth: float = 90.0  # degrees around z, 90 = looking along +y
    elevation: float = -15.0  # degrees, negative = looking down
    distance: float | None = None  # metres; None = from `shot`
    direction: int = 1  # +1: pan right, tilt up, dolly/zoom in, orbit counter-clockwise; -1: the opposite


@dataclass
class PacingSpec:
    speed: float = 1.0  # simulated seconds per video second (0.25 = 4× slow motion)


@dataclass
class Perturbation:
    """A deliberate violation for metric controls. Off unless listed; never applied to user clips by default."""

    kind: str
    at: float = 1.0  # video seconds
    target: int = 0  # index into the flattened object list
    amount: float = 0.0  # energy_gain: restitution (e.g. 1.3); teleport: metres; audio_shift: milliseconds


@dataclass
class SceneSpec:
    objects: list[ObjectSpec] = field(default_factory=lambda: [ObjectSpec()])
    environment: EnvironmentSpec = field(default_factory=EnvironmentSpec)
    lighting: LightingSpec = field(default_factory=LightingSpec)
    camera: CameraSpec = field(default_factory=CameraSpec)
    pacing: PacingSpec = field(default_factory=PacingSpec)
    ambience: bool = True
    perturbations: list[Perturbation] = field(default_factory=list)
    style: str | None = None  # a look (looks.json "styles"): a post-render filter, e.g. "oil_painting"
    effects: list[str] = field(default_factory=list)  # looks.json "effects": camera shake, racking focus

    # --- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "SceneSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"scene spec is not valid JSON: {e}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SceneSpec":
        if not isinstance(data, dict):
            raise SpecError("scene spec must be a JSON object")
        _check_keys("spec", data, cls)
        try:
            spec = cls(
                objects=[_build(ObjectSpec, o, f"objects[{i}]") for i, o in enumerate(data.get("objects", [asdict(ObjectSpec())]))],
                environment=_build(EnvironmentSpec, data.get("environment", {}), "environment"),
                lighting=_build(LightingSpec, data.get("lighting", {}), "lighting"),
                camera=_build(CameraSpec, data.get("camera", {}), "camera"),
                pacing=_build(PacingSpec, data.get("pacing", {}), "pacing"),
                ambience=bool(data.get("ambience", True)),
                perturbations=[_build(Perturbation, p, f"perturbations[{i}]") for i, p in enumerate(data.get("perturbations", []))],
                style=data.get("style"),
                effects=list(data.get("effects", [])),
            )
        except TypeError as e:
            raise SpecError(f"scene spec has a malformed field: {e}") from None
        spec.validate()
        return spec

    def validate(self) -> None:
        least = 0 if self.environment.place is not None else 1  # a place alone is a scene ("a beach")
        if not least <= len(self.objects) <= 12:
            raise SpecError(f"a scene needs {least} to 12 object entries, got {len(self.objects)}")
        if sum(o.count for o in self.objects) > 40:
            raise SpecError("a scene may hold at most 40 objects in all")
        for i, o in enumerate(self.objects):
            where = f"objects[{i}]"
            _one_of(where + ".shape", o.shape, SHAPES)
            _one_of(where + ".color", o.color, tuple(COLORS))
            _one_of(where + ".material", o.material, tuple(MATERIALS))
            _in_range(where + ".size", o.size, 0.02, PROP_MAX_SIZE if o.shape == "prop" else 1.0)
            _recipe(where, o)
            if not isinstance(o.count, int) or not 1 <= o.count <= 20:
                raise SpecError(f"{where}.count must be an integer from 1 to 20, got {o.count!r}")
            if o.position is not None:
                _vector(where + ".position", o.position, 20.0)
            _vector(where + ".velocity", o.velocity, 50.0)
            if o.restitution is not None:
                _in_range(where + ".restitution", o.restitution, 0.0, 2.0)
            if o.friction is not None:
                _in_range(where + ".friction", o.friction, 0.0, 5.0)
            if o.height is not None:
                _in_range(where + ".height", o.height, 0.0, 20.0)
            _one_of(where + ".arrangement", o.arrangement, ARRANGEMENTS)
            if o.length is not None:
                _in_range(where + ".length", o.length, 0.05, 5.0)
            if o.cameo is not None:
                _cameo(where, o)
        env = self.environment
        _one_of("environment.floor", env.floor, FLOORS)
        _one_of("environment.backdrop", env.backdrop, BACKDROPS)
        if env.ramp_angle is not None:
            _in_range("environment.ramp_angle", env.ramp_angle, 5.0, 60.0)
        _in_range("environment.gravity", env.gravity, 0.0, 30.0)
        _place(env)
        lt = self.lighting
        _one_of("lighting.time_of_day", lt.time_of_day, TIMES_OF_DAY)
        _one_of("lighting.mood", lt.mood, MOODS)
        _vector("lighting.key_direction", lt.key_direction, 10.0)
        _in_range("lighting.color_temperature", lt.color_temperature, 1500.0, 12000.0)
        _in_range("lighting.intensity", lt.intensity, 0.05, 4.0)
        cam = self.camera
        _one_of("camera.move", cam.move, CAMERA_MOVES)
        _one_of("camera.shot", cam.shot, SHOT_SIZES)
        _in_range("camera.lens_mm", cam.lens_mm, 10.0, 200.0)
        _in_range("camera.elevation", cam.elevation, -89.0, 30.0)
        if cam.distance is not None:
            _in_range("camera.distance", cam.distance, 0.3, 30.0)
        if cam.direction not in (1, -1) or isinstance(cam.direction, bool):
            raise SpecError(f"camera.direction must be 1 or -1, got {cam.direction!r}")
        _in_range("pacing.speed", self.pacing.speed, 0.05, 4.0)
        _looks(self)
        n = sum(o.count for o in self.objects)
        for i, p in enumerate(self.perturbations):
            _one_of(f"perturbations[{i}].kind", p.kind, PERTURBATIONS)
            _in_range(f"perturbations[{i}].at", p.at, 0.0, 20.0)
            if not 0 <= p.target < n:
                raise SpecError(f"perturbations[{i}].target must index one of the {n} objects, got {p.target}")

    def object_names(self) -> list[str]:
        """Names of the flattened object list (one per simulated body), e.g. ["red ball #1", "red ball #2"]."""
        names = []
        for o in self.objects:
            base = o.name or (f"{o.color} {o.recipe}" if o.shape == "prop" else f"{o.color} {o.shape}")
            names += [base] if o.count == 1 else [f"{base} #{k + 1}" for k in range(o.count)]
        return names


def _check_keys(where: str, data: dict[str, Any], cls: type) -> None:
    allowed = {f.name for f in fields(cls)}
    unknown = set(data) - allowed
    if unknown:
        raise SpecError(f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SpecError(f"{where} must be a JSON object")
    _check_keys(where, data, cls)
    return cls(**data)


def _one_of(where: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"{where} is {value!r}; choose one of: {', '.join(allowed)}")


def _in_range(where: str, value: Any, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise SpecError(f"{where} must be a number from {lo:g} to {hi:g}, got {value!r}")


def _cameo(where: str, o: ObjectSpec) -> None:
    if not isinstance(o.cameo, str) or not HANDLE_RE.match(o.cameo):
        raise SpecError(f"{where}.cameo must be a cameo handle without the @ (2 to 30 lower-case letters, digits, "
                        f"'_' or '.'), got {o.cameo!r}")
    if o.shape != "character" or o.count != 1:
        raise SpecError(f"{where}.cameo: a cameo is one character (shape 'character', count 1)")


PROP_MAX_SIZE = 12.0  # metres: the largest half extent a recipe object may be shown at (a train, a castle)


def _recipe(where: str, o: ObjectSpec) -> None:
    from sora_lite.engines.world import recipes

    if o.shape != "prop":
        if o.recipe is not None or (o.action is not None and o.shape != "character"):
            raise SpecError(f"{where}: recipe belongs to shape 'prop', action to 'prop' and 'character'")
        if o.action is not None and o.action not in recipes.actions()["actions"]:
            raise SpecError(f"{where}.action is {o.action!r}; choose one of: {', '.join(sorted(recipes.actions()['actions']))}")
        return
    if o.recipe not in recipes.recipes():
        raise SpecError(f"{where}.recipe is {o.recipe!r}; choose one of: {', '.join(sorted(recipes.recipes()))}")
    if o.variant and o.variant not in recipes.recipes()[o.recipe].get("variants", {}):
        raise SpecError(f"{where}.variant {o.variant!r} is not a variant of {o.recipe}")
    if o.action is not None and o.action not in recipes.actions()["actions"]:
        raise SpecError(f"{where}.action is {o.action!r}; choose one of: {', '.join(sorted(recipes.actions()['actions']))}")


def _place(env: EnvironmentSpec) -> None:
    from sora_lite.engines.world import scenery

    if env.place is not None:
        base, _, key = env.place.partition("/")
        places = scenery.places()
        if base not in places or (key and key not in places[base].get("props_by_word", {})):
            raise SpecError(f"environment.place is {env.place!r}; choose one of: {', '.join(sorted(places))}")
    if env.weather is not None and env.weather not in scenery.weathers():
        raise SpecError(f"environment.weather is {env.weather!r}; choose one of: {', '.join(sorted(scenery.weathers()))}")


def _looks(spec: SceneSpec) -> None:
    from sora_lite.engines.world import looks

    if spec.style is not None and spec.style not in looks.style_names():
        raise SpecError(f"style is {spec.style!r}; choose one of: {', '.join(looks.style_names())}")
    if not isinstance(spec.effects, list) or any(e not in looks.effect_names() for e in spec.effects):
        raise SpecError(f"effects must be a list of: {', '.join(looks.effect_names())}")


def _vector(where: str, value: Any, bound: float) -> None:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SpecError(f"{where} must be a list of 3 numbers")
    for v in value:
        _in_range(where, v, -bound, bound)
