"""Prompt → scene spec for the embedded world engine.

The parse is a small, explicit reader over `vocabulary.json`: it normalises the text, matches the longest known
phrases, groups attributes into noun phrases ("a red rubber ball"), binds verbs and measures to the object they
speak about ("dropped from 2 m"), and applies the rest to the scene (camera, lighting, pacing, environment).
It never raises on text: words it cannot use land in `ignored`, and what it changed or clamped is said in `notes`,
so the UI can show the user honestly what the engine will and will not do.

Conventions shared with the engine (`scene.py`): the default camera looks along +y, so +x is screen right and -y is
toward the camera; object entries are laid out left to right along x in list order, so "A collides with B" gives A
+x and B -x velocity; `ObjectSpec.height` is the drop gap under the object, `arrangement` how its copies are laid
out, and `CameraSpec.direction` the sense of a pan / tilt / dolly / zoom.
"""

from __future__ import annotations

import copy
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sora_lite.cameo.handles import HANDLE_RE
from sora_lite.engines.world.spec import COLORS, ObjectSpec, SceneSpec, SpecError

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.json")

MAX_ENTRIES = 12  # SceneSpec.validate: object entries per scene
MAX_COUNT = 20  # copies per entry
MAX_TOTAL = 40  # bodies per scene
MAX_TOKENS = 4000  # beyond this the text is read no further (the request validator caps prompts far below)


@dataclass
class ParseResult:
    spec: SceneSpec
    used: list[str]  # words/phrases of the (normalised) prompt that changed the spec, in prompt order
    ignored: list[str]  # content words it did not understand or could not apply
    notes: list[str]  # human-readable remarks: unknown things, clamped numbers, defaults chosen
    language: str = "en"  # ISO 639-1 code of the language the prompt was read as (the vocabulary is English)

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "used": self.used, "ignored": self.ignored, "notes": self.notes,
                "language": self.language}


def normalize(text: str) -> str:
    """The form `used` and `ignored` quote from: NFKC, case-folded, curly quotes straightened."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_QUOTES)


def parse_prompt(text: str, base: SceneSpec | None = None) -> ParseResult:
    """Read `text` into a scene spec; with `base`, return a copy of base updated by the text."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    result = _Reader(normalize(text), base).read()
    result.language = _language_of(text)
    if result.language not in ("en", "und"):
        from sora_lite.safety.language import language_name

        result.notes.append(f"the prompt reads as {language_name(result.language)}, but the scene vocabulary is "
                            "English: words in other languages are not understood")
    return result


def _language_of(text: str) -> str:
    """The prompt's language as moderation detected it (the same offline detector); "und" without one."""
    if not text.strip():
        return "und"
    try:
        from sora_lite.safety.language import (
            LanguageDetectorUnavailable,
            detect_language,
        )
    except ImportError:
        return "und"
    try:
        return detect_language(text).language
    except LanguageDetectorUnavailable:
        return "und"


# --------------------------------------------------------------------------------------------------------------
# Vocabulary: JSON phrases → a table keyed by token tuples


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2032": "'"})
# `@alice` (a cameo handle, as `sora_lite.cameo.handles.MENTION_RE` finds it: not inside an e-mail address, a
# sentence's final dot not part of it) is one token; the handle is checked against HANDLE_RE when matched.
_HANDLE_TOKEN = r"(?<![\w@])@[a-z0-9](?:[a-z0-9_]|\.(?=[a-z0-9_]))+(?![\w@])"
_TOKEN_RE = re.compile(_HANDLE_TOKEN + r"|\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)?|[.;!?]|,|/|°|×")
_BOUNDARIES = {".", ";", "!", "?"}


@dataclass
class _Token:
    text: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for m in _TOKEN_RE.finditer(text):
        tokens.append(_Token(m.group(), m.start(), m.end()))
        if len(tokens) >= MAX_TOKENS:
            break
    return tokens


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(t.text for t in _tokenize(normalize(phrase)))


@dataclass
class _Vocabulary:
    table: dict[tuple[str, ...], dict[str, Any]]  # phrase → {category: value}
    max_len: int
    raw: dict[str, Any]

    def lookup(self, key: tuple[str, ...]) -> dict[str, Any] | None:
        return self.table.get(key)


# category name in the table ← section of vocabulary.json
_DICT_SECTIONS = {
    "counts": "count", "shapes": "shape", "colors": "color", "materials": "material", "sizes": "size",
    "environment": "env", "gravity": "gravity", "lighting": "light", "light_directions": "lightdir",
    "camera": "camera", "camera_directions": "camdir", "pacing": "pace", "motions": "motion",
    "directions": "direction", "length_units": "length_unit", "speed_units": "speed_unit",
    "ramp_adjectives": "ramp_adj", "unsupported": "unsupported", "relations": "relation",
}
_LIST_SECTIONS = {
    "function_words": "function", "outcome_words": "function", "frame_exits": "function", "determiners": "det", "link_words": "link", "angle_units": "angle_unit",
    "lens_units": "lens_unit", "multiplier_units": "mult_unit", "silence": "silence", "pronouns": "pronoun",
}


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    raw = json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))
    table: dict[tuple[str, ...], dict[str, Any]] = {}

    def add(phrase: str, category: str, value: Any) -> None:
        key = _key(phrase)
        if key:
            table.setdefault(key, {})[category] = value

    for name in COLORS:  # the spec's own colours are always words
        add(name, "color", name)
    for section, category in _DICT_SECTIONS.items():
        for phrase, value in raw.get(section, {}).items():
            add(phrase, category, value)
    for section, category in _LIST_SECTIONS.items():
        for phrase in raw.get(section, []):
            add(phrase, category, True)
    return _Vocabulary(table=table, max_len=max(len(k) for k in table), raw=raw)


def _singulars(word: str) -> list[str]:
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        out.append(word[:-1])
    return out


# --------------------------------------------------------------------------------------------------------------
# Items: matched phrases with their readings


@dataclass
class _Item:
    readings: dict[str, Any]  # category → value; ambiguous words keep several until context decides
    first: int  # token index range [first, last)
    last: int
    text: str  # the normalised text span, quoted in used / ignored
    clause: int = 0
    kind: str = ""  # the chosen reading
    plural: bool = False
    number: float | None = None  # numbers and measures

    @property
    def value(self) -> Any:
        return self.readings.get(self.kind)


_NOUN_KINDS = {"shape", "env"}
_VAGUE_COUNTS = {"several", "many", "few", "multiple", "numerous", "dozen", "single", "lone", "twin"}
_MOTION_RANK = {"rest": 0, "topple": 1, "bounce": 1, "drop": 2, "push": 3, "roll": 3, "slide": 3, "swing": 3, "throw": 3}
_ATTR_KINDS = {"color", "material", "size", "ramp_adj"}
_GLOBAL_KINDS = {"light", "camera", "pace", "gravity", "silence", "lightdir"}


def _number_value(token: str) -> float | None:
    if not token[0].isdigit():
        return None
    if re.fullmatch(r"\d{1,3}(,\d{3})+", token):
        token = token.replace(",", "")
    token = token.replace(",", ".")
    if token.count(".") > 1 or len(token) > 12:
        return 1e9  # absurd; clamped later with a note
    try:
        return float(token)
    except ValueError:
        return None


def _match_items(text: str, tokens: list[_Token]) -> list[_Item]:
    vocab = _vocabulary()
    items: list[_Item] = []
    i, clause = 0, 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.text.startswith("@"):  # a cameo: a character wearing that person's likeness
            items.append(_Item(_cameo_readings(vocab, tok.text), i, i + 1, tok.text, clause))
            i += 1
            continue
        found: tuple[int, dict[str, Any], bool] | None = None
        for n in range(min(vocab.max_len, len(tokens) - i), 0, -1):
            key = tuple(t.text for t in tokens[i : i + n])
            entry = vocab.lookup(key)
            if entry is not None:
                found = (n, entry, False)
                break
            for singular in _singulars(key[-1]):  # plurals: only nouns take them
                entry = vocab.lookup(key[:-1] + (singular,))
                if entry is not None and (entry.keys() & _NOUN_KINDS):
                    found = (n, {k: v for k, v in entry.items() if k in _NOUN_KINDS}, True)
                    break
            if found:
                break
        tok = tokens[i]
        if found:
            n, readings, plural = found
        else:
            n, plural = 1, False
            number = _number_value(tok.text)
            if number is not None:
                readings = {"number": number}
            elif tok.text in _BOUNDARIES:
                readings = {"boundary": True}
            elif tok.text in {",", "/", "°", "×"}:
                readings = {"comma" if tok.text == "," else "punct": True}
            else:
                readings = {"unknown": True}
        item = _Item(dict(readings), i, i + n, text[tok.start : tokens[i + n - 1].end], clause, plural=plural)
        if "number" in readings:
            item.number = readings["number"]
        if "count" in readings:
            item.number = float(readings["count"])
        items.append(item)
        if "boundary" in readings:
            clause += 1
        i += n
    return items


def _cameo_readings(vocab: _Vocabulary, token: str) -> dict[str, Any]:
    handle = token[1:]
    if not HANDLE_RE.match(handle):
        return {"unknown": True}  # "@x" or a 40-character name: no cameo can have it
    return {"shape": {**vocab.raw["cameo"], "shape": "character", "cameo": handle}}


# --------------------------------------------------------------------------------------------------------------
# Noun phrases and mentions


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


class _Reader:
    def __init__(self, text: str, base: SceneSpec | None) -> None:
        self.text = text
        self.base = base
        self.vocab = _vocabulary()
        self.tokens = _tokenize(text)
        self.items = _match_items(text, self.tokens)
        self.used: list[_Item] = []
        self.ignored: list[_Item] = []
        self.notes: list[str] = []
        self.mentions: list[_Mention] = []
        self.bindings: list[_Binding] = []
        self.spec = copy.deepcopy(base) if base is not None else SceneSpec(objects=[])
        self.angle_items: list[_Item] = []
        self.camera_moves: list[_Item] = []
        self.multiplied = False  # "4x slow motion": the multiplier set the speed before the pacing phrase
        self.new_objects: list[ObjectSpec] = []  # made by this prompt (not in base): they get names and colours
        self.collided: set[int] = set()  # objects already given a collision course
        self.relations: list[_Item] = []  # "A to the left of B": the order of entries, left to right
        self.unknown_heads: list[_Item] = []  # "a dragon": things it cannot show; their verbs are ignored too

    # -- entry ------------------------------------------------------------------------------------------------
    def read(self) -> ParseResult:
        if len(self.tokens) >= MAX_TOKENS:
            self.notes.append(f"the prompt is very long; only its first {MAX_TOKENS} words were read")
        self._resolve_ambiguity()
        self._merge_measures()
        self._walk()
        self._bind()
        self._build_objects()
        self._apply_angles()
        self._finish_camera_target()
        self._frame_cameo()
        return self._result()

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
                item.kind = attr[0] if after in _NOUN_KINDS else "shape"
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
                item.kind = "motion"
            elif "det" in r:
                item.kind = "det"
            elif "link" in r:
                item.kind = "link"
            elif "pronoun" in r:
                item.kind = "pronoun"
            else:
                order = ["count", "shape", "env", "color", "material", "size", "camera", "light", "pace",
                         "gravity", "silence", "length_unit", "speed_unit", "lens_unit", "angle_unit", "mult_unit"]
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
            if b.kind == "motion":  # "drop a ball" binds forward; "A collides with B" binds A
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
        if not self.mentions and any(b.target is None and not self._blocked(b.item) for b in self.bindings):
            implicit = self._implicit_mention()
            for b in self.bindings:
                if b.target is None and b.kind != "pronoun" and not self._blocked(b.item):
                    b.target, b.group = implicit, [implicit]

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
            self._apply_attrs(obj, m, existing=False)
            if m.implicit:
                self.notes.append("no object the world engine knows was named; showing a default ball")
            else:
                self.used.append(m.noun)
        self._apply_motions()
        self._apply_post_attrs()
        self._apply_lengths()
        self._apply_relations()
        if not objects:
            objects.append(ObjectSpec())
            self.new_objects.append(objects[0])
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
                o.color = free.pop(0) if free else palette[0]
            if o.cameo is not None:
                names.add(o.name)  # "@alice", the handle the prompt used
                continue
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
        return ParseResult(spec=spec, used=used, ignored=ignored, notes=list(dict.fromkeys(self.notes)))


# centre-to-bottom and centre-to-top distances in units of `size`, as `scene.py` builds each shape
_BOTTOM = {"capsule": 1.6, "character": 1.55}
_TOP = {"capsule": 1.6, "character": 1.58}


def _bottom(o: ObjectSpec) -> float:
    return _BOTTOM.get(o.shape, 1.0) * o.size


def _top(o: ObjectSpec) -> float:
    return _TOP.get(o.shape, 1.0) * o.size


def _head_noun(unknown: list[_Item]) -> _Item:
    """'a rubber duck floats': the thing is the last unknown word, unless that one looks like a verb."""
    k = len(unknown) - 1
    while k > 0 and unknown[k].text.endswith(("s", "ing", "ed")) and not unknown[k].text.endswith("ss"):
        k -= 1
    return unknown[k]


def _ordered_texts(items: list[_Item]) -> list[str]:
    seen: set[int] = set()
    out = []
    for it in sorted(items, key=lambda it: it.first):
        if id(it) not in seen:
            seen.add(id(it))
            out.append(it.text)
    return out


def _clamp(value: float, lo: float, hi: float) -> float:
    if math.isnan(value):
        return lo
    return max(lo, min(hi, value))


@dataclass
class ShotSubjects:
    """What a shot's text names, for the camera: object entries (indices into the parsed spec's objects) it
    mentions, and those a frame-exit phrase ("rolls out of frame", "exits left") lets leave the picture."""

    named: list[int]
    exits: list[int]


def parse_with_subjects(text: str, base: SceneSpec | None = None) -> tuple[ParseResult, ShotSubjects]:
    """`parse_prompt`, plus the entries the text names and lets exit (engine framing reads these)."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    result = parse_prompt(text, base)
    reader = _Reader(normalize(text), base)  # the same (deterministic) reading again, for its mentions
    reader.read()
    n = len(result.spec.objects)
    named = sorted({m.obj for m in reader.mentions if not m.implicit and 0 <= m.obj < n})
    exit_phrases = {" ".join(_key(p)) for p in reader.vocab.raw.get("frame_exits", [])}
    exits: set[int] = set()
    for item in reader.items:
        if item.kind != "function" or " ".join(_key(item.text)) not in exit_phrases:
            continue
        # the subjects of the last verb before the phrase in its clause ("the ball hits the cube and exits the
        # frame": the ball), else the last thing named with what is joined to it ("a ball and a cube roll off screen")
        verbs = [b for b in reader.bindings if b.kind == "motion" and b.target is not None
                 and b.item.clause == item.clause and b.item.first < item.first]
        before = [i for i, m in enumerate(reader.mentions) if m.noun.first < item.first and 0 <= m.obj < n]
        if verbs:
            who = verbs[-1].group or [verbs[-1].target]
        elif before:
            who = reader._conjoined(before[-1]) if reader.mentions[before[-1]].noun.first >= 0 else [before[-1]]
        else:
            who = []
        exits.update(reader.mentions[i].obj for i in who if 0 <= reader.mentions[i].obj < n)
        if not who and n:
            exits.add(0)
    return result, ShotSubjects(named, sorted(exits))
