"""The parser's lexicon: normalising and tokenising the prompt, the phrase table, and matching phrases to items.

The table merges `vocabulary.json` (function words, counts, colours, materials, camera, lighting, motions ...) with
the registries: object recipes (recipes.json), actions (actions.json), places and weather (places.json) and
looks (looks.json). A word vocabulary.json already gives a noun meaning keeps it. `parse.py` re-exports these.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sora_lite.common.handles import HANDLE_RE
from sora_lite.engines.world.spec import COLORS

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.json")

MAX_TOKENS = 4000  # beyond this the text is read no further (the request validator caps prompts far below)


def normalize(text: str) -> str:
    """The form `used` and `ignored` quote from: NFKC, case-folded, curly quotes straightened."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return text.translate(_QUOTES)


_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2032": "'"})

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
    # the tokens' texts as `_tokenize` finds them, without building its records (the phrase table keys
    # ~10,000 phrases in every new process)
    return tuple(itertools.islice((m.group() for m in _TOKEN_RE.finditer(normalize(phrase))), MAX_TOKENS))

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
    "descriptive_words": "adjective",
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
        if name != "natural":
            add(name, "color", name)
    for section, category in _DICT_SECTIONS.items():
        for phrase, value in raw.get(section, {}).items():
            add(phrase, category, value)
    for section, category in _LIST_SECTIONS.items():
        for phrase in raw.get(section, []):
            add(phrase, category, True)
    _add_registries(table, add)
    return _Vocabulary(table=table, max_len=max(len(k) for k in table), raw=raw)


def _add_registries(table: dict[tuple[str, ...], dict[str, Any]], add: Any) -> None:
    """Words from the recipe, action, place, weather and look registries. A word vocabulary.json already gives a
    noun meaning keeps it (a 'ball' stays the physics ball, 'table' the tabletop)."""
    from sora_lite.engines.world import looks, recipes, scenery

    def taken(phrase: str, kinds: set[str]) -> bool:
        return bool(table.get(_key(phrase), {}).keys() & kinds)

    for name, r in recipes.recipes().items():
        words = [(name.replace("_", " "), "")] + [(w, "") for w in r.get("words", []) + r.get("stand_in_words", [])]
        for variant, v in r.get("variants", {}).items():
            words += [(w, variant) for w in v.get("words", [])]
        for word, variant in words:
            if taken(word, {"shape", "env"}):
                continue
            entry: dict[str, Any] = {"shape": "prop", "recipe": name, "size": float(r["size"])}
            if variant:
                entry["variant"] = variant
            if word.endswith("s") and word not in ("bus", "glass", "grass", "chess") and word.rstrip("s") in r.get("words", []) + [name]:
                entry["plural"] = True
            if word in PLURAL_WORDS:
                entry.update(PLURAL_WORDS[word])
            add(word, "shape", entry)
    by_word: dict[str, dict[str, str]] = {}
    for name, a in recipes.actions()["actions"].items():
        for word in a.get("words", []):
            for mover in a.get("for", ["any"]):
                by_word.setdefault(word, {}).setdefault(mover, name)
    for word, movers in by_word.items():
        add(word, "action", movers)
    for key, place in scenery.places().items():
        for word in place.get("words", []):
            sub = f"{key}/{word}" if word in place.get("props_by_word", {}) else key
            value = {"place": sub, "floor": place.get("floor", "grass"), "backdrop": "sky"}
            entry = table.get(_key(word), {})
            if "env" in entry:  # vocabulary.json's meaning stays ("a room": the room backdrop); the place is added
                value = {**value, **entry["env"]}
            add(word, "env", value)
    for key, w in scenery.weathers().items():
        for word in w.get("words", []):
            add(word, "env", {"weather": key})
    for key, st in looks.registry()["styles"].items():
        for word in st.get("words", []):
            add(word, "style", key)
    for key, eff in looks.registry()["effects"].items():
        for word in eff.get("words", []):
            add(word, "effect", key)


# person words that name a kind of person or more than one
PLURAL_WORDS: dict[str, dict[str, Any]] = {
    "people": {"plural": True, "plural_count": 3}, "men": {"plural": True}, "women": {"plural": True, "variant": "woman"},
    "children": {"plural": True, "variant": "child"}, "kids": {"plural": True, "variant": "child"},
    "couple": {"plural": True, "plural_count": 2}, "friends": {"plural": True}, "family": {"plural": True},
    "woman": {"variant": "woman"}, "lady": {"variant": "woman"}, "girl": {"variant": "child"}, "boy": {"variant": "child"},
    "child": {"variant": "child"}, "kid": {"variant": "child"}, "baby": {"variant": "baby"}, "mother": {"variant": "woman"},
    "grandmother": {"variant": "woman"}, "old woman": {"variant": "woman"}, "young woman": {"variant": "woman"},
    "astronaut": {"variant": "astronaut"}, "businessman": {"variant": "suit"}, "teenager": {"variant": "child"},
    "polar bear": {"variant": "polar"}, "tiger": {"variant": "tiger"}, "tigers": {"variant": "tiger", "plural": True},
    "duck": {"variant": "duck"}, "ducks": {"variant": "duck", "plural": True}, "parrot": {"variant": "parrot"},
    "swan": {"variant": "swan"}, "crow": {"variant": "crow"}, "flamingo": {"variant": "flamingo"}, "penguin": {"variant": "penguin"},
    "cherry blossom": {"variant": "blossom"}, "cherry tree": {"variant": "blossom"}, "cherry blossoms": {"variant": "blossom", "plural": True},
    "school of fish": {"plural": True, "plural_count": 5}, "woods": {"plural": True},
}


def _singulars(word: str) -> list[str]:
    out = []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        out.append(word[:-1])
    return out


# items: matched phrases with their readings


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
_GLOBAL_KINDS = {"light", "camera", "pace", "gravity", "silence", "lightdir", "style", "effect"}


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


def _clamp(value: float, lo: float, hi: float) -> float:
    if math.isnan(value):
        return lo
    return max(lo, min(hi, value))
