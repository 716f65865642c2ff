"""The parser's grammar: readings chosen in context, measures, noun phrases, and verbs bound to what they speak about.

`_Grammar` holds passes 1–4 of the reader (`parse.py`): choose a reading for each item, merge numbers with units,
walk noun phrases applying scene-wide words, and bind verbs, measures and post-nominal attributes to mentions.
Pass 5 and after (objects, motions, relations, the result) are `_Builder` in `parse_build.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sora_lite.engines.world.parse_lexicon import (
    _ATTR_KINDS,
    _GLOBAL_KINDS,
    _NOUN_KINDS,
    _VAGUE_COUNTS,
    _clamp,
    _Item,
)


@dataclass
class _Mention:
    noun: _Item
    entry: dict[str, Any]  # the shapes entry: shape and per-noun defaults
    attrs: dict[str, _Item] = field(default_factory=dict)  # color / material / size / count
    definite: bool = False
    obj: int = -1  # index into the output object list, set when objects are built
    ref: int | None = None  # index of an existing object this mention refers to
    implicit: bool = False  # no object was named: "it bounces" means the base scene's first object, or a default ball

@dataclass
class _Phrase:
    """An open noun phrase: what came after a determiner or count, before its noun."""

    det: _Item | None = None
    attrs: dict[str, _Item] = field(default_factory=dict)
    extra: list[_Item] = field(default_factory=list)  # a repeated attribute: the earlier one is ignored
    unknown: list[_Item] = field(default_factory=list)
    open: bool = False

@dataclass
class _Binding:
    """A verb or modifier waiting for the object it speaks about."""

    item: _Item
    kind: str  # motion | height | speed | direction | post_attr
    target: int | None = None  # mention index
    group: list[int] = field(default_factory=list)  # "a ball and a cube fall": every subject the verb has


class _Grammar:
    """Passes 1–4 of `parse._Reader` (its state is set up there)."""

    # -- pass 1: choose a reading for each item -----------------------------------------------------------
    def _next_noun(self, idx: int) -> str | None:
        """The noun kind closing the phrase that starts after item idx, if the phrase has one."""
        for item in self.items[idx + 1 :]:
            r = item.readings
            if "shape" in r and not (r.keys() & (_ATTR_KINDS | {"count"})):
                return "shape"
            if "env" in r and not (r.keys() & _ATTR_KINDS):
                return "env"
            if r.keys() & (_ATTR_KINDS | {"count", "unknown", "number"}) or "shape" in r or "env" in r:
                continue
            if "motion" in r and self._is_participle(item):
                continue
            return None
        return None

    @staticmethod
    def _is_participle(item: _Item) -> bool:
        return item.text.endswith(("ing", "ed")) and " " not in item.text

    def _resolve_ambiguity(self) -> None:
        light_cues = set(self.vocab.raw.get("light_cues", []))
        for idx, item in enumerate(self.items):
            r = item.readings
            if "shape" in r and r["shape"].get("needs_np"):  # "can", "figure": nouns only after a determiner / count
                before = self.items[idx - 1] if idx > 0 else None
                if before is None or not (before.readings.keys() & ({"det", "count", "number"} | _ATTR_KINDS)):
                    del r["shape"]
                    r.setdefault("unknown", True)
            if len(r) == 1:
                item.kind = next(iter(r))
                continue
            attr = [k for k in r if k in _ATTR_KINDS]
            if "shape" in r and attr:  # marble, rock, stone: material before a noun, a thing on its own
                after = self._next_noun(idx)
                made_of = idx > 0 and self.items[idx - 1].text in {"made of", "of", "out of", "made from"}
                item.kind = attr[0] if after in _NOUN_KINDS or made_of else "shape"
            elif attr and (r.keys() & (_GLOBAL_KINDS | {"env"})):  # dark, concrete, medium, sand
                after = self._next_noun(idx)
                global_kind = next(k for k in r if k in _GLOBAL_KINDS | {"env"})
                item.kind = attr[0] if after == "shape" else global_kind
            elif "lightdir" in r:  # from above / from the left: light if a light word is near, else camera/motion
                window = {t.text for t in self.tokens[max(0, item.first - 4) : item.first]}
                window |= {t.text for t in self.tokens[item.last : item.last + 2]}
                if window & light_cues:
                    item.kind = "lightdir"
                else:
                    item.kind = next((k for k in ("direction", "camera") if k in r), "lightdir")
                    if item.kind == "lightdir":
                        item.kind = "function" if "function" in r else "lightdir"
            elif "direction" in r or "camdir" in r:
                item.kind = "direction" if "direction" in r else "camdir"
            elif "motion" in r:
                item.kind = "motion"  # an "action" reading, if any, is chosen when the verb's object is known
            elif "action" in r and not (r.keys() - {"action", "adjective"}):
                item.kind = "action"
            elif "action" in r and "env" in r and idx > 0 and self.items[idx - 1].kind in {"shape", "pronoun"}:
                item.kind = "action"  # "a man waves" (a verb after its subject), "watching the waves" (a place)
            elif "style" in r or "effect" in r:
                item.kind = "style" if "style" in r else "effect"
            elif "det" in r:
                item.kind = "det"
            elif "link" in r:
                item.kind = "link"
            elif "pronoun" in r:
                item.kind = "pronoun"
            else:
                order = ["count", "shape", "env", "color", "material", "size", "camera", "light", "pace",
                         "gravity", "silence", "length_unit", "speed_unit", "lens_unit", "angle_unit", "mult_unit",
                         "relation", "unsupported", "function", "action", "adjective"]
                item.kind = next((k for k in order if k in r), next(iter(r)))

    # -- pass 2: numbers + units → measures ---------------------------------------------------------------
    def _merge_measures(self) -> None:
        merged: list[_Item] = []
        idx = 0
        items = self.items
        while idx < len(items):
            item = items[idx]
            nxt = items[idx + 1] if idx + 1 < len(items) else None
            is_number = item.number is not None and (item.kind == "number" or self._plain_number_word(item))
            if is_number and nxt is not None:
                unit_kind = next(
                    (k for k in ("speed_unit", "length_unit", "angle_unit", "lens_unit", "mult_unit") if k in nxt.readings),
                    None,
                )
                if unit_kind is not None:
                    span = self.text[self.tokens[item.first].start : self.tokens[nxt.last - 1].end]
                    readings = {"measure": unit_kind, "unit": nxt.readings[unit_kind]}
                    measure = _Item(readings, item.first, nxt.last, span, item.clause, kind="measure", number=item.number)
                    merged.append(measure)
                    idx += 2
                    continue
            if item.kind == "number":
                item.kind = "count"
                item.readings["count"] = item.number
            merged.append(item)
            idx += 1
        self.items = merged

    @staticmethod
    def _plain_number_word(item: _Item) -> bool:
        """'two' can take a unit ('two metres'); 'several' or 'a pair of' cannot."""
        return item.kind == "count" and " " not in item.text and item.text not in _VAGUE_COUNTS

    # -- pass 3: walk noun phrases, apply scene-wide words ----------------------------------------------
    def _walk(self) -> None:
        phrase = _Phrase()
        for idx, item in enumerate(self.items):
            kind = item.kind
            if kind == "boundary":
                self._close(phrase, idx)
                phrase = _Phrase()
            elif kind in {"comma", "punct"}:
                self._close(phrase, idx)
                phrase = _Phrase()
            elif kind == "det":
                if phrase.attrs or phrase.unknown:
                    self._close(phrase, idx)
                phrase = _Phrase(det=item, open=True)
            elif kind == "count":
                if phrase.attrs or phrase.unknown:
                    self._close(phrase, idx)
                    phrase = _Phrase()
                phrase.attrs["count"] = item
                phrase.open = True
            elif kind in _ATTR_KINDS:
                if kind in phrase.attrs:
                    phrase.extra.append(phrase.attrs[kind])
                phrase.attrs[kind] = item
                phrase.open = True
            elif kind == "shape":
                self._mention(phrase, item)
                phrase = _Phrase()
            elif kind == "env":
                self._environment(phrase, item)
                phrase = _Phrase()
            elif kind == "unknown":
                if phrase.open:
                    phrase.unknown.append(item)
                else:
                    self.ignored.append(item)
            elif kind == "motion":
                if not (phrase.open and (self._is_participle(item) or item.value.get("kind") == "arrange")):
                    self._close(phrase, idx)
                    phrase = _Phrase()
                if item.value.get("kind") == "arrange" and item.text.startswith(("a ", "an ")):
                    phrase.open = True
                self.bindings.append(_Binding(item, "motion"))
            elif kind == "adjective":  # "a cute happy dog": described, not a thing; the phrase goes on
                self.ignored.append(item)
            elif kind == "action":
                self._close(phrase, idx)
                phrase = _Phrase()
                self.bindings.append(_Binding(item, "motion"))
            elif kind == "measure":
                self._measure(phrase, idx, item)
            elif kind in {"direction", "camdir"}:
                self._close(phrase, idx)
                phrase = _Phrase()
                self._direction(item)
            elif kind == "link":
                self._close(phrase, idx)
                phrase = _Phrase()
            elif kind in _GLOBAL_KINDS:
                self._close(phrase, idx)
                phrase = _Phrase()
                self._global(item)
            elif kind == "relation":
                self._close(phrase, idx)
                phrase = _Phrase()
                self.relations.append(item)
            elif kind == "unsupported":
                self._close(phrase, idx)
                phrase = _Phrase()
                self.ignored.append(item)
                note = f"'{item.text}': {item.value}"
                if not any(n.endswith(item.value) for n in self.notes):
                    self.notes.append(note)
            elif kind in {"function", "pronoun"}:
                if phrase.open and (phrase.attrs or phrase.unknown):
                    self._close(phrase, idx)
                    phrase = _Phrase()
                if kind == "pronoun":
                    self.bindings.append(_Binding(item, "pronoun"))
            else:
                self.ignored.append(item)
        self._close(phrase, len(self.items))

    def _close(self, phrase: _Phrase, idx: int) -> None:
        """A phrase ended without a known noun: either an unknown thing, or attributes said after their noun."""
        if not phrase.open:
            return
        self.ignored.extend(phrase.extra)
        closer = self.items[idx] if idx < len(self.items) else None
        if phrase.unknown and closer is not None and closer.kind in _GLOBAL_KINDS and not phrase.attrs:
            self.ignored.extend(phrase.unknown)  # "a slow push in": words describing the camera move
            return
        if phrase.unknown:
            head = _head_noun(phrase.unknown)
            self.notes.append(f"'{head.text}' is not something the world engine can show; ignored")
            self.unknown_heads.append(head)
            self.ignored.extend(phrase.unknown)
            self.ignored.extend(phrase.attrs.values())
            return
        for kind, item in phrase.attrs.items():
            if kind == "count":
                self.ignored.append(item)
            else:
                self.bindings.append(_Binding(item, "post_attr"))

    def _mention(self, phrase: _Phrase, noun: _Item) -> None:
        self.ignored.extend(phrase.extra)
        self.ignored.extend(phrase.unknown)  # adjectives it does not know: "a shiny red ball"
        definite = phrase.det is not None and phrase.det.text in {"the", "this", "that", "these", "those", "its", "their"}
        self.mentions.append(_Mention(noun, noun.value, dict(phrase.attrs), definite))

    def _environment(self, phrase: _Phrase, noun: _Item) -> None:
        env = self.spec.environment
        changes: dict[str, Any] = dict(noun.value)
        ramp_adj = phrase.attrs.pop("ramp_adj", None)
        material = phrase.attrs.pop("material", None)
        if material is not None and noun.text in {"floor", "ground", "surface"}:
            floor = self.vocab.raw["floor_from_material"].get(material.value)
            if floor is not None:
                changes["floor"] = floor
                self.used.append(material)
            else:
                self.ignored.append(material)
                self.notes.append(f"there is no {material.text} floor; the floor is unchanged")
        elif material is not None:
            self.ignored.append(material)
        if ramp_adj is not None:
            if "ramp_angle" in changes:
                changes["ramp_angle"] = float(ramp_adj.value)
                self.used.append(ramp_adj)
            else:
                self.ignored.append(ramp_adj)
        if "ramp_angle" in changes and env.ramp_angle is not None and ramp_adj is None:
            changes.pop("ramp_angle")  # a continuing ramp keeps its angle
        for item in phrase.attrs.values():
            self.ignored.append(item)
        self.ignored.extend(phrase.unknown + phrase.extra)
        if not changes and not (material and noun.text in {"floor", "ground", "surface"}):
            return  # "the floor" alone changes nothing
        for key, value in changes.items():
            setattr(env, key, value)
        self.used.append(noun)

    def _measure(self, phrase: _Phrase, idx: int, item: _Item) -> None:
        unit_kind = item.readings["measure"]
        value = float(item.number or 0.0)
        nxt = self.items[idx + 1] if idx + 1 < len(self.items) else None
        size_cues = set(self.vocab.raw.get("size_cues", []))
        if unit_kind == "lens_unit" and (nxt is None or nxt.kind != "shape"):
            lens = _clamp(value, 10.0, 200.0)
            if lens != value:
                self.notes.append(f"a {value:g} mm lens is outside 10–200 mm; using {lens:g} mm")
            self.spec.camera.lens_mm = lens
            self.used.append(item)
            return
        if unit_kind in {"length_unit", "lens_unit"}:
            metres = value * (float(item.readings["unit"]) if unit_kind == "length_unit" else 0.001)
            item.number = metres
            if nxt is not None and nxt.kind == "shape" or self._next_noun(idx) == "shape" and phrase.open:
                phrase.attrs["size"] = item  # "a 10 cm ball": the whole object is 10 cm across
                item.kind = "size"
                phrase.open = True
                return
            length_cues = set(self.vocab.raw.get("pendulum_length_cues", []))
            if nxt is not None and nxt.text in length_cues:  # "on a 0.5 metre string"
                self.bindings.append(_Binding(item, "length"))
                return
            if nxt is not None and nxt.text in size_cues:
                item.kind = "size"
                self.bindings.append(_Binding(item, "post_attr"))
                return
            self._close(phrase, idx)
            self.bindings.append(_Binding(item, "height"))
            return
        if unit_kind == "speed_unit":
            item.number = value * float(item.readings["unit"])
            self.bindings.append(_Binding(item, "speed"))
            return
        if unit_kind == "angle_unit":
            self.angle_items.append(item)
            return
        if unit_kind == "mult_unit":
            window = " ".join(t.text for t in self.tokens[item.last : item.last + 3])
            slow = any(window.startswith(c) or f" {c}" in window for c in self.vocab.raw["pacing_slow_cues"])
            fast = any(window.startswith(c) or f" {c}" in window for c in self.vocab.raw["pacing_fast_cues"])
            if value > 0 and (slow or fast):
                self._set_speed(item, 1.0 / value if slow else value)
                self.multiplied = True
            else:
                self.ignored.append(item)
            return
        self.ignored.append(item)

    def _direction(self, item: _Item) -> None:
        # "pans left", "tilts slowly up": a direction after a camera move (and no object verb between) is the camera's
        earlier = [it for it in self.items if it.clause == item.clause and it.last <= item.first
                   and (it.kind == "motion" or (it.kind == "camera" and "move" in it.value))]
        if earlier and earlier[-1].kind == "camera":
            vector = item.readings.get("direction")
            sign = item.readings.get("camdir")
            if sign is None and vector is not None:
                sign = -1 if min(vector) < 0 else 1
            if sign is not None:
                self.spec.camera.direction = int(sign)
                self.used.append(item)
                return
        if "direction" in item.readings:
            self.bindings.append(_Binding(item, "direction"))
        elif "function" not in item.readings:
            self.ignored.append(item)

    def _global(self, item: _Item) -> None:
        kind, value = item.kind, item.value
        if kind == "light":
            lt = self.spec.lighting
            for key, v in value.items():
                setattr(lt, key, float(v) if key in {"color_temperature", "intensity"} else v)
        elif kind == "lightdir":
            self.spec.lighting.key_direction = [float(v) for v in value]
        elif kind == "camera":
            cam = self.spec.camera
            for key, v in value.items():
                setattr(cam, key, float(v) if key in {"lens_mm", "elevation", "azimuth"} else v)
            if "move" in value:
                self.camera_moves.append(item)
            if "shot" in value:
                self.shot_chosen = True
        elif kind == "pace":
            if self.multiplied and item.text.replace("-", " ").startswith(("slow", "time", "fast")):
                self.used.append(item)  # "4x slow motion": the multiplier already set the speed
                return
            self._set_speed(item, float(value))
            return
        elif kind == "gravity":
            self.spec.environment.gravity = float(value)
            if float(value) == 0.0:
                self.notes.append("zero gravity: objects float where they start")
        elif kind == "style":
            self.spec.style = value
        elif kind == "effect":
            if value not in self.spec.effects:
                self.spec.effects.append(value)
            if value in ("steady", "still_frame"):
                self.spec.camera.move = "static"
        elif kind == "silence":
            self.spec.ambience = False
            self.notes.append(f"'{item.text}': the ambience bed is off; impact sounds from contacts remain")
        self.used.append(item)

    def _set_speed(self, item: _Item, speed: float) -> None:
        clamped = _clamp(speed, 0.05, 4.0)
        if not math.isclose(clamped, speed):
            self.notes.append(f"playback speed {speed:g}× is outside 0.05–4×; using {clamped:g}×")
        self.spec.pacing.speed = clamped
        self.used.append(item)

    # -- pass 4: bind verbs, measures and post-nominal attributes to mentions -----------------------------
    def _mention_before(self, pos: int, clause: int | None) -> int | None:
        best = None
        for m_idx, m in enumerate(self.mentions):
            if m.noun.first < pos and (clause is None or m.noun.clause == clause):
                best = m_idx
        return best

    def _mention_after(self, pos: int, clause: int | None, adjacent: bool) -> int | None:
        for m_idx, m in enumerate(self.mentions):
            if m.noun.first < pos or (clause is not None and m.noun.clause != clause):
                continue
            if adjacent:
                between = [it for it in self.items if it.first >= pos and it.last <= m.noun.first]
                allowed = {"det", "count", "unknown", "measure", "size", "function"} | _ATTR_KINDS
                if any(it.kind not in allowed or (it.kind == "function" and it.text not in {"of", "with"}) for it in between):
                    return None
                if any(it.kind == "function" and it.text == "with" for it in between):
                    return None
            return m_idx
        return None

    def _target(self, item: _Item, transitive: bool) -> int | None:
        if transitive:
            after = self._mention_after(item.last, item.clause, adjacent=True)
            if after is not None:
                return after
        before = self._mention_before(item.first, item.clause)
        if self._blocked(item):
            return None  # "a dragon flies": the verb is the dragon's
        if before is not None:
            return before
        after = self._mention_after(item.last, item.clause, adjacent=False)
        if after is not None:
            return after
        return self._mention_before(item.first, None)

    def _bind(self) -> None:
        motions = [b for b in self.bindings if b.kind == "motion"]
        for b in self.bindings:
            if b.kind == "motion":  # "drop a ball" binds forward; "A collides with B" binds A; "a dog runs": the dog
                if b.item.kind == "action":
                    b.target = self._target(b.item, transitive=False)
                else:
                    b.target = self._target(b.item, transitive=b.item.value.get("kind") != "collide")
                if b.target is not None:
                    subject = self.mentions[b.target].noun.first < b.item.first
                    b.group = self._conjoined(b.target) if subject else [b.target]
        for b in self.bindings:
            if b.kind in {"height", "speed", "direction"}:
                same_clause = [m for m in motions if m.item.clause == b.item.clause and m.target is not None]
                before = [m for m in same_clause if m.item.first < b.item.first]
                anchor = before[-1] if before else (same_clause[0] if same_clause else None)
                b.target = anchor.target if anchor is not None else self._target(b.item, transitive=False)
                b.group = anchor.group if anchor is not None else ([b.target] if b.target is not None else [])
            elif b.kind == "post_attr":
                b.target = self._predicate_of(b.item)
            elif b.kind == "length":
                b.target = self._target(b.item, transitive=False)
        self._stand_ins()
        if not self.mentions and any(b.target is None and not self._blocked(b.item) for b in self.bindings):
            implicit = self._implicit_mention()
            for b in self.bindings:
                if b.target is None and b.kind != "pronoun" and not self._blocked(b.item):
                    b.target, b.group = implicit, [implicit]

    def _stand_ins(self) -> None:
        """A person's action with nobody the engine knows doing it: "Gwen Stacy reading a book" (a name: capitalised
        words) or "dancing in the rain" (no one named): a person figure stands in, listed in `approximated`. An
        unknown thing ("a bigfoot walking", "a dragon flies") gets no stand-in: it stays in `unshown`."""
        for b in self.bindings:
            if b.kind != "motion" or "action" not in b.item.readings or b.target is not None:
                continue
            movers = b.item.readings.get("action", {})
            if "person" not in movers:
                continue
            before = [it for it in self.items if it.clause == b.item.clause and it.last <= b.item.first]
            names: list[_Item] = []
            for it in reversed(before):
                if it.kind in {"unknown", "adjective"} and it.text[:1].isalpha():
                    names.insert(0, it)
                elif it.kind in {"link", "function", "det"} and not names:
                    continue
                else:
                    break
            heads = [h for h in self.unknown_heads if h.clause == b.item.clause and h.last <= b.item.first]
            proper = [it for it in names if self._capitalised(it)]
            if (names or heads) and not proper:
                continue  # "a dragon flies": a thing it cannot show (unshown), not a person in disguise
            label = " ".join(it.text for it in (names if proper else (names or heads[-1:])))
            first = (proper or names or heads[-1:] or [b.item])[0].first
            noun = _Item({"shape": {"shape": "prop", "recipe": "person", "size": 0.88}}, first, first, label or "person",
                         b.item.clause, kind="shape")
            self.mentions.append(_Mention(noun, noun.value))
            self.mentions.sort(key=lambda m: m.noun.first)
            b.target = self.mentions.index(next(m for m in self.mentions if m.noun is noun))
            b.group = [b.target]
            if proper:
                self.unknown_heads = [h for h in self.unknown_heads if h not in proper]
                self.approximated.append(f"{label}: a person figure stands in")
            self.used.append(noun)

    def _capitalised(self, item: _Item) -> bool:
        raw = getattr(self, "raw", None)
        if raw is None or len(raw) != len(self.text):
            return False
        start = self.tokens[item.first].start
        return raw[start:start + 1].isupper()  # at a sentence's start too: an unknown capitalised word is a name

    def _conjoined(self, m_idx: int) -> list[int]:
        """The mentions joined to this one by 'and' or commas, with nothing else between: a shared subject."""
        at_noun = {id(m.noun): i for i, m in enumerate(self.mentions)}
        noun = self.mentions[m_idx].noun
        k = next(i for i, it in enumerate(self.items) if it is noun) - 1
        group, joined = [m_idx], False
        np_kinds = {"det", "count", "unknown", "measure", "size"} | _ATTR_KINDS
        while k >= 0 and self.items[k].clause == noun.clause:
            it = self.items[k]
            if id(it) in at_noun and joined:
                group.insert(0, at_noun[id(it)])
                joined = False
            elif it.kind == "comma" or (it.kind == "function" and it.text == "and"):
                joined = True
            elif it.kind not in np_kinds:
                break
            k -= 1
        return group

    def _predicate_of(self, item: _Item) -> int | None:
        """'the ball turns blue', 'make the ball blue', 'it is red': the mention an attribute after its noun is about.

        Only right after the noun or across a linking word; 'a ball rolls under blue light' is not about the ball.
        """
        pronoun = next((b.item for b in self.bindings if b.kind == "pronoun" and b.item.clause == item.clause
                        and b.item.first < item.first), None)
        before = self._mention_before(item.first, item.clause)
        if before is not None and (pronoun is None or self.mentions[before].noun.first > pronoun.first):
            anchor = self.mentions[before].noun
        elif pronoun is not None:
            anchor, before = pronoun, self._mention_before(item.first, None)
        else:
            return None
        between = [it for it in self.items if anchor.last <= it.first and it.last <= item.first]
        if all(it.kind == "comma" for it in between) or any(it.kind == "link" for it in between):
            return before
        return None

    def _blocked(self, item: _Item) -> bool:
        """True when an unknown thing ('a dragon') precedes the word in its clause: the word is the dragon's."""
        before = self._mention_before(item.first, item.clause)
        start = self.mentions[before].noun.first if before is not None else -1
        return any(h.clause == item.clause and start < h.first < item.first for h in self.unknown_heads)

    def _implicit_mention(self) -> int:
        shape = self.spec.objects[0].shape if self.spec.objects else "ball"
        noun = _Item({"shape": {"shape": shape}}, -1, -1, shape, -1, kind="shape")
        self.mentions.append(_Mention(noun, {"shape": shape}, implicit=True))
        if self.spec.objects:
            self.notes.append(f"no object was named; the words apply to the {self.spec.objects[0].name or shape}")
        return len(self.mentions) - 1


def _head_noun(unknown: list[_Item]) -> _Item:
    """'a rubber duck floats': the thing is the last unknown word, unless that one looks like a verb."""
    k = len(unknown) - 1
    while k > 0 and unknown[k].text.endswith(("s", "ing", "ed")) and not unknown[k].text.endswith("ss"):
        k -= 1
    return unknown[k]
