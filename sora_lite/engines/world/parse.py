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

The reader is split along its seams: `parse_lexicon.py` (normalising, tokens, the phrase table merged from
vocabulary.json and the recipe / action / place / look registries), `parse_grammar.py` (readings, measures, noun
phrases, binding) and `parse_build.py` (objects, motions, actions, relations, the result). Names that lived here
are re-exported, so `from sora_lite.engines.world.parse import ...` keeps working.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sora_lite.engines.world.parse_build import (  # noqa: F401
    MAX_COUNT,
    MAX_ENTRIES,
    MAX_TOTAL,
    ParseResult,
    _bottom,
    _Builder,
    _ordered_texts,
    _top,
)
from sora_lite.engines.world.parse_grammar import (  # noqa: F401
    _Binding,
    _Grammar,
    _head_noun,
    _Mention,
    _Phrase,
)
from sora_lite.engines.world.parse_lexicon import (  # noqa: F401
    MAX_TOKENS,
    VOCABULARY_PATH,
    _clamp,
    _Item,
    _key,
    _match_items,
    _Token,
    _tokenize,
    _Vocabulary,
    _vocabulary,
    normalize,
)
from sora_lite.engines.world.spec import ObjectSpec, SceneSpec


def parse_prompt(text: str, base: SceneSpec | None = None) -> ParseResult:
    """Read `text` into a scene spec; with `base`, return a copy of base updated by the text."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    reader = _Reader(normalize(text), base)
    reader.raw = text
    result = reader.read()
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


class _Reader(_Grammar, _Builder):
    """One prompt's reading: the state shared by the grammar passes (parse_grammar.py) and the spec building
    (parse_build.py)."""

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
        self.actions: list[tuple[ObjectSpec, str, _Item]] = []  # recipe objects given an action, and the word
        self.action_log: list[dict[str, Any]] = []
        self.nouns: dict[int, str] = {}  # id(new object) → the words that named it ("a wolf" → "wolf")
        self.unshown: list[str] = []
        self.approximated: list[str] = []
        self.fallback = False

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
        self._frame_things()
        return self._result()


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
