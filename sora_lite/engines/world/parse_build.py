"""Building the scene spec from what the grammar found: objects, their motions and actions, relations, and the result.

`_Builder` holds pass 5 and after of the reader (`parse.py`): objects from mentions (primitives and recipes),
verbs and actions applied, relations laid out, names and colours, angles and the camera's target, and the
honest result (used, ignored, unshown, approximated, notes).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from sora_lite.engines.world.parse_grammar import _Binding, _Mention
from sora_lite.engines.world.parse_lexicon import _MOTION_RANK, _clamp, _Item
from sora_lite.engines.world.spec import COLORS, ObjectSpec, SceneSpec, SpecError
from sora_lite.sound.music import MOOD_WORDS, MUSIC_WORDS
from sora_lite.sound.soundtrack import describe_sound

MAX_ENTRIES = 12  # SceneSpec.validate: object entries per scene
MAX_COUNT = 20  # copies per entry
MAX_TOTAL = 40  # bodies per scene


@dataclass
class ParseResult:
    spec: SceneSpec
    used: list[str]  # words/phrases of the (normalised) prompt that changed the spec, in prompt order
    ignored: list[str]  # content words it did not understand or could not apply
    notes: list[str]  # human-readable remarks: unknown things, clamped numbers, defaults chosen
    language: str = "en"  # ISO 639-1 code of the language the prompt was read as (the vocabulary is English)
    unshown: list[str] = field(default_factory=list)  # things or actions the prompt names that the engine cannot show
    approximated: list[str] = field(default_factory=list)  # shown by a stand-in: "dog: articulated proxy (quadruped)"
    fallback: bool = False  # no object was named: the engine shows its default ball
    actions: list[dict[str, Any]] = field(default_factory=list)  # {object, action, words, shown: true|"approx"|false}
    sound: dict[str, Any] = field(default_factory=dict)  # spoken lines, music mood, place beds (sora_lite.sound)

    @property
    def objects(self) -> list[dict[str, Any]]:
        """What the scene holds, by name: the recipe or primitive each object is built from, its action."""
        out = []
        for o in self.spec.objects:
            item: dict[str, Any] = {"name": o.name, "shape": o.shape, "count": o.count}
            if o.shape == "prop":
                item["recipe"] = o.recipe
                if o.variant:
                    item["variant"] = o.variant
            if o.action:
                item["action"] = o.action
            out.append(item)
        return out

    def to_dict(self) -> dict[str, Any]:
        env = self.spec.environment
        return {"spec": self.spec.to_dict(), "objects": self.objects, "place": env.place, "weather": env.weather,
                "style": self.spec.style, "effects": list(self.spec.effects), "used": self.used,
                "ignored": self.ignored, "unshown": self.unshown, "approximated": self.approximated,
                "actions": self.actions, "sound": self.sound, "fallback": self.fallback, "notes": self.notes,
                "language": self.language}


class _Builder:
    """Pass 5 and after of `parse._Reader` (its state is set up there)."""

    # -- pass 5: objects ----------------------------------------------------------------------------------------
    def _build_objects(self) -> None:
        objects = self.spec.objects
        base_count = len(objects)
        for m in self.mentions:
            if m.implicit and objects:
                m.ref = m.obj = 0
                continue
            m.ref = self._existing(m, objects, base_count)
            if m.ref is not None:
                m.obj = m.ref
                self._apply_attrs(objects[m.obj], m, existing=True)
                self.used.append(m.noun)
                if "color" in m.attrs:
                    self.used.append(m.attrs["color"])  # it picked the object out
                continue
            entry = m.entry
            defaults = self.vocab.raw["shape_defaults"].get(entry["shape"], {})
            obj = ObjectSpec(shape=entry["shape"], material=entry.get("material", defaults.get("material", "rubber")))
            if "size" in entry:
                obj.size = float(entry["size"])
            if entry["shape"] == "prop":
                obj.recipe, obj.variant, obj.material = entry["recipe"], entry.get("variant", ""), "plastic"
            obj.color = entry.get("color", "")  # "" = still to choose from the palette
            if "cameo" in entry:
                obj.cameo = entry["cameo"]
                obj.name = f"@{entry['cameo']}"
                if "count" in m.attrs:
                    self.ignored.append(m.attrs.pop("count"))
                    self.notes.append(f"@{obj.cameo} is one person; shown once")
            if "count" not in m.attrs and (m.noun.plural or entry.get("plural")):
                obj.count = int(entry.get("plural_count", 3))
            objects.append(obj)
            m.obj = len(objects) - 1
            self.new_objects.append(obj)
            self.nouns[id(obj)] = m.noun.text
            self._apply_attrs(obj, m, existing=False)
            if m.implicit:
                self.fallback = True
                self.notes.append("no object the world engine knows was named; showing a default ball")
            else:
                self.used.append(m.noun)
        self._apply_motions()
        self._apply_post_attrs()
        self._apply_lengths()
        self._apply_relations()
        self._action_extras()
        env = self.spec.environment
        if not objects and self.base is None and env.place is None and env.weather is not None:
            from sora_lite.engines.world import scenery

            env.place = scenery.weathers()[env.weather].get("place")  # "fireworks", "heavy rain": where it is shown
            if env.place:
                env.floor = scenery.places()[env.place].get("floor", env.floor)
        if not objects and self.base is None and env.place is not None:
            self._place_subject()
        if not objects:
            objects.append(ObjectSpec())
            self.new_objects.append(objects[0])
            self.fallback = True
            self.notes.append("no object the world engine knows was named; showing the default red ball")
        self._name_and_colour()
        self._clamp_counts()

    def _existing(self, m: _Mention, objects: list[ObjectSpec], base_count: int) -> int | None:
        """The object a mention refers to: any match in the base scene, or an earlier one for 'the ...'."""
        cameo = m.entry.get("cameo")
        if cameo is not None:  # "@alice ... @alice waves": one person, however often named
            return next((i for i, o in enumerate(objects) if o.cameo == cameo), None)
        color = m.attrs.get("color")
        wanted = color.value if color is not None else None
        candidates = range(len(objects)) if m.definite else range(base_count)
        for i in candidates:
            if objects[i].cameo is not None and not m.definite:
                continue  # "a man" is someone new, not @alice
            if objects[i].shape == m.entry["shape"] and (wanted is None or objects[i].color == wanted):
                return i
        return None

    def _apply_attrs(self, obj: ObjectSpec, m: _Mention, existing: bool) -> None:
        for kind, item in m.attrs.items():
            if kind == "color":
                if existing and obj.color == item.value:
                    continue  # the colour only picked the object out
                self._set_color(obj, item.value, existing)
            elif kind == "material":
                obj.material = item.value
            elif kind == "size":
                self._set_size(obj, item)
            elif kind == "count":
                count = int(min(item.number or 1, 1e6))
                if existing and count == obj.count:
                    continue
                if count < 1:
                    self.notes.append(f"'{item.text}' is not a count of objects; using 1")
                    count = 1
                obj.count = count
            elif kind == "ramp_adj":
                self.ignored.append(item)
                continue
            self.used.append(item)

    def _set_color(self, obj: ObjectSpec, color: str, existing: bool) -> None:
        old = obj.color
        obj.color = color
        if existing and old and obj.name and old in obj.name.split():
            obj.name = " ".join(color if w == old else w for w in obj.name.split())

    def _set_size(self, obj: ObjectSpec, item: _Item) -> None:
        if item.readings.get("measure") and obj.shape == "pendulum":
            self._set_length(obj, item)  # "a 1 m pendulum": its length, not its bob
            return
        if item.readings.get("measure"):
            size = float(item.number or 0.0) / 2.0  # "10 cm": the whole object; size is a half-size
        else:
            size = float(item.value)
        clamped = _clamp(size, 0.02, 1.0)
        if not math.isclose(clamped, size):
            self.notes.append(f"'{item.text}' is outside what the engine simulates (4 cm to 2 m across); clamped")
        obj.size = round(clamped, 4)

    def _set_length(self, obj: ObjectSpec, item: _Item) -> None:
        length = float(item.number or 0.0)
        clamped = _clamp(length, 0.05, 5.0)
        if not math.isclose(clamped, length):
            self.notes.append(f"a {length:g} m pendulum is outside 0.05–5 m; using {clamped:g} m")
        obj.length = round(clamped, 4)

    def _apply_lengths(self) -> None:
        """'a pendulum on a 0.5 m string': the string belongs to the pendulum, wherever it was named."""
        pendulums = [m for m in self.mentions if self.spec.objects[m.obj].shape == "pendulum"]
        for b in self.bindings:
            if b.kind != "length":
                continue
            target = self.spec.objects[self.mentions[b.target].obj] if b.target is not None else None
            if target is None or target.shape != "pendulum":
                target = self.spec.objects[pendulums[0].obj] if pendulums else None
            if target is None:
                self.ignored.append(b.item)
                self.notes.append(f"'{b.item.text}': only a pendulum takes a string length, and none was named")
                continue
            self._set_length(target, b.item)
            self.used.append(b.item)

    def _apply_relations(self) -> None:
        """'A to the right of B' reorders the entries (laid out left to right); in front of / behind / on top of pin
        both objects' positions, so the two stand where the words put them."""
        objects = self.spec.objects
        is_new = {id(o) for o in self.new_objects}
        for item in self.relations:
            a_m = self._mention_before(item.first, item.clause)
            b_m = self._mention_after(item.last, item.clause, adjacent=True)
            if a_m is None or b_m is None:
                if "function" not in item.readings:  # "rolls behind a wall": a place word, no layout to change
                    self.ignored.append(item)
                continue
            a, b = objects[self.mentions[a_m].obj], objects[self.mentions[b_m].obj]
            if a is b or id(a) not in is_new or id(b) not in is_new:
                self.ignored.append(item)
                self.notes.append(f"'{item.text}': objects already in the scene keep their places")
                continue
            if item.value in {"left", "right"}:
                order = [o for o in objects if o is not a]
                at = next(i for i, o in enumerate(order) if o is b)
                order.insert(at + 1 if item.value == "right" else at, a)
                remap = {id(o): i for i, o in enumerate(order)}
                for m in self.mentions:
                    m.obj = remap[id(objects[m.obj])]
                objects[:] = order
            elif item.value == "below":  # "A on the bottom of B": B stands on A
                self._pin_pair(b, a, "top")
            else:
                self._pin_pair(a, b, item.value)
            self.used.append(item)

    def _pin_pair(self, a: ObjectSpec, b: ObjectSpec, relation: str) -> None:
        from sora_lite.engines.world.scene import TABLE_TOP  # the engine's table height

        ground = TABLE_TOP if self.spec.environment.table else 0.0
        x = round(0.6 * sum(1 for o in self.spec.objects if o.position is not None), 4)  # pinned pairs side by side
        if relation == "top":
            b.position = [x, 0.0, round(ground + _bottom(b) + 0.001, 4)]
            a.position = [x, 0.0, round(b.position[2] + _top(b) + _bottom(a) + 0.005, 4)]
        else:
            gap = 0.3 + a.size + b.size
            sign = -1.0 if relation == "front" else 1.0  # -y is toward the camera
            a.position = [x, round(sign * gap / 2, 4), round(ground + _bottom(a) + 0.001, 4)]
            b.position = [x, round(-sign * gap / 2, 4), round(ground + _bottom(b) + 0.001, 4)]
        a.height = b.height = None

    def _apply_motions(self) -> None:
        per_object: dict[int, dict[str, Any]] = {}
        collisions: list[_Binding] = []
        for b in self.bindings:
            if b.kind not in {"motion", "height", "speed", "direction"}:
                continue
            if b.target is None:
                if b.kind == "direction" and "function" in b.item.readings:
                    continue
                self.ignored.append(b.item)
                continue
            if b.kind == "motion" and self._act(b):
                continue
            if b.kind == "motion" and b.item.kind == "action":
                self.ignored.append(b.item)
                continue
            if b.kind == "motion" and b.item.value["kind"] == "collide":
                collisions.append(b)
                continue
            for target in b.group or [b.target]:
                self._add_motion(per_object.setdefault(self.mentions[target].obj, {}), b)
            self.used.append(b.item)
        for obj_idx, state in per_object.items():
            self._apply_state(self.spec.objects[obj_idx], state)
        for b in collisions:
            self._collide(b)

    def _place_subject(self) -> None:
        """A prompt that names only a place ("a beach", "kitchen"): its main prop becomes the scene's subject, so
        the camera frames the place (not a default ball)."""
        from sora_lite.engines.world import recipes, scenery

        place = self.spec.environment.place
        name, xy, size = scenery.place_subject(place)  # type: ignore[arg-type]
        size = float(size) if size else recipes.nominal_size(name)
        half = recipes.build_recipe(name, size).half
        obj = ObjectSpec(shape="prop", recipe=name, size=size, color="natural", material="stone",
                         position=[xy[0], xy[1], round(half[2] + 0.001, 4)])
        self.spec.objects.append(obj)
        self.new_objects.append(obj)
        self.notes.append(f"only a place was named: the camera frames its {name.replace('_', ' ')}")

    def _action_extras(self) -> None:
        """What an action brings (actions.json): a piano to play, a bicycle to ride, a partner to shake hands
        with, a child's body for crawling; and honesty about actions it can only stand in for or not show."""
        from sora_lite.engines.world import recipes

        acts = recipes.actions()["actions"]
        for obj, name, item in list(self.actions):
            a = acts[name]
            shown = a.get("shown", True)
            if item.text in a.get("approx_words", []):
                shown = "approx"
            arms_only = set(a.get("joints", {})) <= {f"{j}_{s}" for j in ("shoulder", "raise", "elbow") for s in "lr"} | {"nod", "look"}
            if obj.shape == "character" and shown is True and not arms_only:
                shown = "approx"  # the cameo's figure moves its arms only
            self.action_log.append({"object": obj.name or obj.recipe, "action": name, "words": item.text,
                                    "shown": shown})
            if shown is False:
                self.unshown.append(f"{item.text} (the figure has no face to show it; it stands and breathes)")
            elif shown == "approx":
                self.approximated.append(f"{item.text}: shown as '{name.replace('_', ' ')}'")
            if obj.shape != "prop":
                if shown == "approx":
                    self.approximated.append(f"{item.text}: the figure moves its arms only")
                continue  # a cameo's figure gets no companions, mounts or body variants
            if a.get("variant") and not obj.variant:
                obj.variant = a["variant"]
            objects = self.spec.objects
            if a.get("ride"):
                self._ride(obj, a)
            elif a.get("stand_on"):  # running on a treadmill: on it, in place
                self._ride(obj, {"ride": a["stand_on"], "speed": 0.0, "still": True, "seat": "floor"})
            elif a.get("sit_on"):  # sitting: the chair under the person
                self._ride(obj, {"ride": a["sit_on"], "speed": 0.0, "still": True, "seat": "floor"})
            extra = a.get("with")
            if extra and len(objects) < MAX_ENTRIES and not any(o.recipe == extra for o in objects if o is not obj):
                partner = ObjectSpec(shape="prop", recipe=extra, size=recipes.nominal_size(extra), color="natural",
                                     material="wood", action=a.get("partner"))
                if extra == "person":
                    partner.variant = "woman" if obj.variant != "woman" else ""
                objects.insert(objects.index(obj) + 1, partner)
                self.new_objects.append(partner)
                self.approximated.append(f"{item.text}: with a {extra.replace('_', ' ')} the prompt did not name")

    def _ride(self, rider: ObjectSpec, a: dict[str, Any]) -> None:
        """'riding a bike': a bicycle under the person, both moving at the action's speed."""
        from sora_lite.engines.world import recipes

        objects = self.spec.objects
        name = a["ride"]
        vehicle = next((o for o in objects if o.recipe == name and o is not rider), None)
        if vehicle is None:
            if len(objects) >= MAX_ENTRIES:
                return
            vehicle = ObjectSpec(shape="prop", recipe=name, size=recipes.nominal_size(name), color="natural",
                                 material="metal")
            objects.insert(objects.index(rider), vehicle)
            self.new_objects.append(vehicle)
        speed = float(a.get("speed", 2.0))
        if not a.get("still"):
            vehicle.action = "gallop" if recipes.recipes()[name].get("mover") == "walk" else "drive"
        vhalf = recipes.build_recipe(name, vehicle.size).half
        phalf = recipes.build_recipe(rider.recipe, rider.size, None, rider.variant).half  # type: ignore[arg-type]
        x = 0.0
        vehicle.position = [x, 0.0, round(vhalf[2] + 0.002, 4)]
        seat = 2 * vhalf[2] * (0.45 if a.get("inside") else 0.62)
        rider.position = [x, 0.0, round(seat + phalf[2] * 0.55, 4)]
        if a.get("seat") == "floor":  # the figure's own pose lowers it onto the seat
            rider.position = [x, 0.0, round(phalf[2] + 0.002, 4)]
        vehicle.velocity = [speed, 0.0, 0.0]
        rider.velocity = [speed, 0.0, 0.0]
        rider.arrangement = "ride"
        vehicle.height = rider.height = None

    def _act(self, b: _Binding) -> bool:
        """An action word ('runs', 'waves', 'riding a bike') for a recipe object that can perform it: set its
        action (animate.py shows it). False: the word is not an action of the objects it is about."""
        from sora_lite.engines.world import recipes

        movers = b.item.readings.get("action")
        if not movers:
            return False

        def give(m_idx: int) -> bool:
            obj = self.spec.objects[self.mentions[m_idx].obj]
            if obj.shape == "character":  # a cameo or a robot: its arms do what a person's would
                name = movers.get("person")
                if name is None or recipes.actions()["actions"][name].get("ride") or \
                        recipes.actions()["actions"][name].get("speed"):
                    return False  # the proxy does not walk or ride: the physics moves it
                obj.action = name
                self.actions.append((obj, name, b.item))
                return True
            if obj.shape != "prop":
                return False
            mover = recipes.recipes()[obj.recipe].get("mover", "static")
            name = movers.get(mover) or movers.get("any")
            if name is None:
                return False
            obj.action = name
            self.actions.append((obj, name, b.item))
            return True

        done = any([give(t) for t in (b.group or [b.target])])  # noqa: C419 - every target gets the action
        subject = self._mention_before(b.item.first, b.item.clause)
        if not done and subject is not None and subject not in (b.group or [b.target]) and give(subject):
            self.used.append(b.item)  # "a man throws a ball": the man throws, the ball flies (the motion below)
            return False
        if done:
            self.used.append(b.item)
        return done

    @staticmethod
    def _add_motion(state: dict[str, Any], b: _Binding) -> None:
        """Fold one verb or modifier into an object's starting state; the strongest verb sets the start."""
        if b.kind == "height":
            state["height"] = float(b.item.number or 0.0)
            state.setdefault("kind", "drop")
            return
        if b.kind == "speed":
            state["speed"] = float(b.item.number or 0.0)
            state["speed_said"] = True
            state.setdefault("kind", "push")
            return
        if b.kind == "direction":
            state["direction"] = [float(v) for v in b.item.readings["direction"]]
            state.setdefault("kind", "push")
            return
        motion = b.item.value
        if "arrangement" in motion:
            state["arrangement"] = motion["arrangement"]
        if "without_support" in motion:  # "falls off" with nothing to fall off: the plain verb ("falls": a drop)
            state["without_support"] = motion["without_support"]
        if motion["kind"] == "arrange":
            state.setdefault("kind", "rest")
            if motion.get("height"):
                state.setdefault("height", float(motion["height"]))
            return
        if _MOTION_RANK[motion["kind"]] < _MOTION_RANK[state.get("kind", "rest")]:
            return  # "thrown ... it bounces": the throw sets the start
        state["kind"] = motion["kind"]
        for key in ("speed", "up"):
            if key in motion:
                state.setdefault(key, float(motion[key]))
        if "height" in motion:
            state.setdefault("default_height", float(motion["height"]))
        if "direction" in motion:
            state.setdefault("default_direction", list(motion["direction"]))

    def _apply_state(self, obj: ObjectSpec, state: dict[str, Any]) -> None:
        env = self.spec.environment
        if state.get("arrangement") == "edge" and (not env.table or env.ramp_angle is not None):
            # "tumbles off a table" needs the table (the layout sets it on the edge, pushed over); with none (or
            # down a ramp) the verb alone: "falls off" falls, "rolls off" rolls
            del state["arrangement"]
            if state.get("without_support") == "drop" and state.get("kind") == "push" and "speed_said" not in state:
                state["kind"] = "drop"
                state.pop("speed", None)
                state.pop("default_direction", None)
        kind = state.get("kind", "rest")
        if "arrangement" in state:
            obj.arrangement = state["arrangement"]
        if obj.shape == "domino" and kind in {"drop", "bounce", "topple"} and "height" not in state:
            if obj.arrangement == "auto":
                obj.arrangement = "row"
            return  # falling dominoes topple in a row; the engine tips the first one
        if kind == "topple":
            kind = "push"
            state.setdefault("speed", 0.5)
        if kind in {"drop", "bounce"} or "height" in state:
            height = state.get("height", state.get("default_height", 1.0))
            clamped = _clamp(height, 0.0, 20.0)
            if not math.isclose(clamped, height):
                self.notes.append(f"a drop from {height:g} m is outside 0–20 m; using {clamped:g} m")
            obj.height = round(clamped, 4)
        if kind in {"throw", "roll", "slide", "push", "swing"} or "speed" in state or "direction" in state:
            if kind in {"roll", "slide"} and self.spec.environment.ramp_angle is not None and not (
                "speed_said" in state or "direction" in state
            ):
                return  # down a ramp: gravity sets it moving
            direction = state.get("direction", state.get("default_direction", [1.0, 0.0, 0.0]))
            speed = state.get("speed", 1.0)
            norm = math.sqrt(sum(v * v for v in direction)) or 1.0
            velocity = [speed * v / norm for v in direction]
            if kind == "throw" and abs(direction[2]) < 1e-9:
                velocity[2] = state.get("up", 2.0)
            clamped_v = [_clamp(v, -50.0, 50.0) for v in velocity]
            if clamped_v != velocity:
                self.notes.append(f"a speed of {speed:g} m/s is beyond what the engine simulates; clamped to 50 m/s")
            obj.velocity = [round(v, 4) for v in clamped_v]
            if kind == "throw" and obj.height is None:
                obj.height = 0.5

    def _collide(self, b: _Binding) -> None:
        """'A collides with B': A moves right and B left; the engine lays entries out left to right along x."""
        objects = self.spec.objects
        if b.target is None:
            self.ignored.append(b.item)
            return
        self.used.append(b.item)
        first = self.mentions[b.target].obj
        if id(objects[first]) in self.collided:
            return  # "two balls collide head-on": one collision, said twice
        speed = float(b.item.value.get("speed", 1.5))
        other_m = self._mention_after(b.item.last, b.item.clause, adjacent=False)
        other = self.mentions[other_m].obj if other_m is not None else None
        if other == first:
            other = None
        if other is None and len(b.group) >= 2:  # "a ball and a cube collide"
            first, other = self.mentions[b.group[0]].obj, self.mentions[b.group[1]].obj
        toward_wall = any(it.kind == "env" and it.value.get("walls") for it in self.items[b.item.last :] if it.clause == b.item.clause)
        a = objects[first]
        if other is None and a.count >= 2 and not toward_wall:  # "two balls collide": split one off to meet the rest
            a.count -= 1
            twin = copy.deepcopy(a)
            twin.count = 1
            objects.insert(first + 1, twin)
            for m in self.mentions:
                if m.obj > first:
                    m.obj += 1
            other = first + 1
            self.new_objects.append(twin)
        if other is None and not toward_wall:
            self.notes.append(f"'{b.item.text}': nothing to collide with was named; the object is pushed to the right")
        sign = 1.0 if other is None or other > first else -1.0
        a.velocity = [sign * speed, 0.0, a.velocity[2]]
        self.collided.add(id(a))
        if other is not None:
            bo = objects[other]
            bo.velocity = [-sign * speed, 0.0, bo.velocity[2]]
            self.collided.add(id(bo))

    def _apply_post_attrs(self) -> None:
        for b in self.bindings:
            if b.kind != "post_attr":
                continue
            if b.target is None:
                self.ignored.append(b.item)
                continue
            obj = self.spec.objects[self.mentions[b.target].obj]
            kind = b.item.kind
            if kind == "color":
                self._set_color(obj, b.item.value, existing=True)
            elif kind == "material":
                obj.material = b.item.value
            elif kind == "size":
                self._set_size(obj, b.item)
            else:
                self.ignored.append(b.item)
                continue
            self.used.append(b.item)

    def _name_and_colour(self) -> None:
        """New objects without a said colour take distinct palette colours; each new object is named
        '<colour> <shape>' ('red ball'), the way ground truth and the eval suites refer to objects."""
        objects = self.spec.objects
        palette = [c for c in self.vocab.raw["default_palette"] if c in COLORS]
        free = [c for c in palette if c not in {o.color for o in objects if o.color}] or palette
        is_new = {id(o) for o in self.new_objects}
        names = {o.name for o in objects if id(o) not in is_new and o.name}
        for o in objects:
            if id(o) not in is_new:
                continue
            if not o.color:
                o.color = "natural" if o.shape == "prop" else (free.pop(0) if free else palette[0])
            if o.cameo is not None:
                names.add(o.name)  # "@alice", the handle the prompt used
                continue
            if o.shape == "prop":
                thing = _VARIANT_NAMES.get(o.variant, o.recipe or "").replace("_", " ")
                name = thing if o.color == "natural" else f"{o.color} {thing}"
            else:
                name = f"{o.color} {o.shape}"
            unique, k = name, 2
            while unique in names:
                unique, k = f"{name} {k}", k + 1
            o.name = unique
            names.add(unique)

    def _clamp_counts(self) -> None:
        objects = self.spec.objects
        for o in objects:
            if o.count > MAX_COUNT:
                self.notes.append(f"{o.count} × {o.name or o.shape} is more than the engine simulates; using {MAX_COUNT}")
                o.count = MAX_COUNT
        if len(objects) > MAX_ENTRIES:
            dropped = [o.name or o.shape for o in objects[MAX_ENTRIES:]]
            listed = ", ".join(dropped[:3]) + (f" and {len(dropped) - 3} more" if len(dropped) > 3 else "")
            self.notes.append(f"a scene holds at most {MAX_ENTRIES} kinds of object; left out: {listed}")
            del objects[MAX_ENTRIES:]
        total = sum(o.count for o in objects)
        if total > MAX_TOTAL:
            for o in reversed(objects):
                excess = sum(x.count for x in objects) - MAX_TOTAL
                if excess <= 0:
                    break
                o.count = max(1, o.count - excess)
            self.notes.append(f"{total} objects are more than the engine simulates at once; using {MAX_TOTAL} in all")

    # -- pass 6: angles, camera target ------------------------------------------------------------------------
    def _apply_angles(self) -> None:
        for item in self.angle_items:
            if self.spec.environment.ramp_angle is None:
                self.ignored.append(item)
                self.notes.append(f"'{item.text}': only a ramp takes an angle, and none was named")
                continue
            angle = float(item.number or 0.0)
            clamped = _clamp(angle, 5.0, 60.0)
            if not math.isclose(clamped, angle):
                self.notes.append(f"a {angle:g}° ramp is outside 5–60°; using {clamped:g}°")
            self.spec.environment.ramp_angle = clamped
            self.used.append(item)

    def _finish_camera_target(self) -> None:
        cam = self.spec.camera
        if cam.move != "follow" or not self.camera_moves:
            return
        follow = [it for it in self.camera_moves if it.value.get("move") == "follow"]
        target = None
        if follow:
            m = self._mention_after(follow[-1].last, follow[-1].clause, adjacent=True)
            if m is not None:
                target = self.spec.objects[self.mentions[m].obj]
        if target is None:
            moving = [o for o in self.spec.objects if any(abs(v) > 0 for v in o.velocity) or o.height is not None]
            target = (moving or self.spec.objects)[0]
        cam.target = target.name or None

    def _frame_cameo(self) -> None:
        """A new scene with a cameo and no shot size asked for: a medium shot on that person, so their face
        is big enough to see (and for the output face check to find); a wide shot leaves it ~25 px tall."""
        if self.base is not None or getattr(self, "shot_chosen", False):
            return
        person = next((o for o in self.spec.objects if o.cameo is not None), None)
        if person is None:
            return
        cam = self.spec.camera
        cam.shot = "medium"
        if cam.target is None:
            cam.target = person.name or None
        self.notes.append(f"framed {person.name} in a medium shot so the face shows; ask for a wide shot to see more")

    def _frame_things(self) -> None:
        """A new scene of named things (recipes) and no shot size asked for: a medium shot, so a cup or a dog
        fills enough of a 256² frame to be recognised (a wide shot leaves small things a few pixels tall)."""
        if self.base is not None or getattr(self, "shot_chosen", False):
            return
        props = [o for o in self.spec.objects if o.shape == "prop" and o.position is None]
        if props and self.spec.camera.shot == "wide":
            self.spec.camera.shot = "medium"
        from sora_lite.engines.world import recipes

        halves = [recipes.build_recipe(o.recipe, o.size).half for o in props]  # type: ignore[arg-type]
        flat = [h for h in halves if h[2] < 0.3 * max(h[0], h[1])]
        if props and len(flat) == len(props) and abs(self.spec.camera.elevation - (-15.0)) < 1e-9:
            self.spec.camera.elevation = -50.0  # a fork, a pizza, skis: flat things are seen from above

    # -- result -------------------------------------------------------------------------------------------
    def _result(self) -> ParseResult:
        spec = self.spec
        try:
            spec.validate()
        except SpecError as e:  # a bug here must not cost the user the clip; say so and keep a valid scene
            self.notes.append(f"the parsed scene was invalid ({e}); using the starting scene instead")
            spec = copy.deepcopy(self.base) if self.base is not None else SceneSpec()
        used_ids = {id(it) for it in self.used}
        used = _ordered_texts(self.used)
        ignored = _ordered_texts([it for it in self.ignored if id(it) not in used_ids])
        sound = describe_sound(self.text)
        if sound.get("music"):  # "upbeat music" is heard, not seen: those words are used
            heard = [w for w in ignored if w.lower() in MUSIC_WORDS or w.lower() in MOOD_WORDS
                     or w.lower().rstrip("s") in MUSIC_WORDS]
            used += heard
            ignored = [w for w in ignored if w not in heard]
        unshown = [h.text for h in sorted(self.unknown_heads, key=lambda it: it.first)]
        unshown += [it.text for it in self.items if it.kind == "unsupported" and id(it) not in used_ids]
        unshown += self.unshown
        return ParseResult(spec=spec, used=used, ignored=ignored, notes=list(dict.fromkeys(self.notes)),
                           unshown=list(dict.fromkeys(unshown)),
                           approximated=list(dict.fromkeys(self._approximations(spec) + self.approximated)),
                           fallback=self.fallback, actions=self.action_log, sound=sound)

    def _approximations(self, spec: SceneSpec) -> list[str]:
        """What is shown by a stand-in: every recipe object is a proxy of primitives; places are props on a
        floor; some looks only stand in for a named artist."""
        from sora_lite.engines.world import looks, recipes

        out = []
        is_new = {id(o) for o in self.new_objects}
        for o in spec.objects:
            if o.shape == "prop" and id(o) in is_new:
                r = recipes.recipes()[o.recipe]
                how = {"quadruped": "four-legged proxy", "bird": "bird proxy", "fish": "fish proxy",
                       "vehicle": "vehicle proxy with turning wheels", "two_wheeler": "two-wheeler proxy",
                       "human": "articulated figure"}.get(r.get("template", "parts"), "proxy of primitives")
                act = f", {o.action.replace('_', ' ')} (kinematic)" if o.action else ""
                said = self.nouns.get(id(o), "")
                recipe = o.recipe.replace("_", " ")
                stand_in = said in r.get("stand_in_words", []) or said.rstrip("s") in r.get("stand_in_words", [])
                source = f", the '{recipe}' recipe stands in" if stand_in else ""
                out.append(f"{said or o.name}: {how}{source}{act}")
        env = spec.environment
        if env.place is not None and (self.base is None or env.place != self.base.environment.place):
            out.append(f"{env.place.split('/')[-1].replace('_', ' ')}: a place recipe (props, floor, terrain, water)")
        if spec.style is not None and looks.registry()["styles"][spec.style].get("approximated"):
            out.append(f"{spec.style.replace('_', ' ')}: a filter stands in for the style")
        return out


_VARIANT_NAMES = {"woman": "woman", "child": "child", "baby": "baby", "astronaut": "astronaut", "tiger": "tiger",
                  "duck": "duck", "parrot": "parrot", "swan": "swan", "crow": "crow", "flamingo": "flamingo",
                  "penguin": "penguin", "polar": "polar bear", "blossom": "cherry tree", "suit": "man in a suit"}

# centre-to-bottom and centre-to-top distances in units of `size`, as `scene.py` builds each shape
_BOTTOM = {"capsule": 1.6, "character": 1.55}
_TOP = {"capsule": 1.6, "character": 1.58}


def _bottom(o: ObjectSpec) -> float:
    if o.shape == "prop":
        from sora_lite.engines.world import recipes

        return recipes.build_recipe(o.recipe, o.size, None, o.variant).half[2]  # type: ignore[arg-type]
    return _BOTTOM.get(o.shape, 1.0) * o.size


def _top(o: ObjectSpec) -> float:
    return _bottom(o) if o.shape == "prop" else _TOP.get(o.shape, 1.0) * o.size


def _ordered_texts(items: list[_Item]) -> list[str]:
    seen: set[int] = set()
    out = []
    for it in sorted(items, key=lambda it: it.first):
        if id(it) not in seen:
            seen.add(id(it))
            out.append(it.text)
    return out
