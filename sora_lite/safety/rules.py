"""Rule layer of prompt moderation: per-category term lists and patterns, kept as data in `rules/*.yaml`.

Rules are cheap and explainable, so they run first; what they miss (paraphrases) goes to the classifier.
Operators add their own rules by pointing `SORA_LITE_MODERATION_RULES_DIR` at a folder of extra YAML files
in the same format (files with a known category's name extend it; new names add categories).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from sora_lite.common import disk_cache
from sora_lite.common.regex_cache import RegexCache
from sora_lite.safety.normalize import Readings, fold_characters, normalize

RULES_DIR = Path(__file__).parent / "rules"
EXTRA_RULES_ENV = "SORA_LITE_MODERATION_RULES_DIR"
_LISTS_FILE = "lists.yaml"
_REGEX = RegexCache("rules")  # the rule book's ~430 patterns, compiled once per machine, not per process
_BENIGN_FILE = "benign.yaml"
# Word edges apply to a term's Latin letters and digits only: a CJK term needs none ("AI换脸", "3个黑人").
_EDGE_L = r"(?:(?<![a-z0-9])|(?=[^a-z0-9]))"
_EDGE_R = r"(?:(?![a-z0-9])|(?<=[^a-z0-9]))"


class RuleDataError(ValueError):
    """A rules file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class RuleHit:
    """One rule that matched: which category, which rule, and the text it matched."""

    category: str
    rule: str
    matched: str


@dataclass
class Category:
    """One policy category as the rules see it."""

    name: str
    title: str
    reason: str
    severity: int
    terms: re.Pattern[str] | None
    patterns: list[tuple[str, re.Pattern[str]]]
    both: list[tuple[str, list[re.Pattern[str]]]]
    near: list[tuple[str, re.Pattern[str]]]
    allow: re.Pattern[str] | None
    exemplars: list[str] = field(default_factory=list)
    locked: bool = False
    classifier_cues: re.Pattern[str] | None = None
    classifier_cue_names: bool = False

    def classifier_may_block(self, text: str) -> bool:
        """Whether the classifier alone may block a prompt as this category: some categories need a cue
        in the prompt itself (public figures: a name or a role such as "president"), because embedding
        similarity alone cannot tell "a man dancing" from "a famous man dancing"."""
        if self.classifier_cues is None and not self.classifier_cue_names:
            return True
        if self.classifier_cue_names and has_name_like_word(text):
            return True
        return bool(self.classifier_cues and any(self.classifier_cues.search(r) for r in normalize(text).all))


@dataclass
class RuleBook:
    """All categories in severity order, the global allow phrases and the benign exemplars.

    `operator_allow` holds allow phrases from an operator's extra folder; they never apply to a locked
    category (minors), which an operator cannot relax.
    """

    categories: list[Category]
    allow: re.Pattern[str] | None
    benign_exemplars: list[str]
    operator_allow: re.Pattern[str] | None = None
    source_key: str = ""  # digest of the files and code it was built from ("" when built by hand)

    def category(self, name: str) -> Category:
        for cat in self.categories:
            if cat.name == name:
                return cat
        raise KeyError(f"unknown moderation category {name!r}; known: {[c.name for c in self.categories]}")

    def classifier_text(self, text: str) -> str:
        """What the classifier reads of `text` (a prompt, its English part, a gloss, an exemplar): the clearest
        normalised reading without allow phrases. One function, so exemplars and prompts cannot drift apart."""
        return self.without_allowed(normalize(text).clearest)

    def without_allowed(self, text: str) -> str:
        """The text with every allow phrase taken out, so the classifier is not misled by benign idioms
        ("the Las Vegas strip", "nude lipstick")."""
        text = _remove(self.operator_allow, _remove(self.allow, text))
        for cat in self.categories:
            text = _remove(cat.allow, text)
        return re.sub(r"\s+", " ", text.replace(" ; ", " ")).strip()

    def classifier_excluded(self, text: str) -> frozenset[str]:
        """Categories the classifier may not block this prompt as (their cues are absent)."""
        return frozenset(c.name for c in self.categories if not c.classifier_may_block(text))

    def check(self, text: str | Readings) -> RuleHit | None:
        """The first (most severe) rule that matches the prompt, or None."""
        readings = text if isinstance(text, Readings) else normalize(text)
        shipped = [_remove(self.allow, r) for r in readings.all]
        relaxed = [_remove(self.operator_allow, r) for r in shipped]
        for cat in self.categories:
            base = shipped if cat.locked else relaxed
            hit = _check_category(cat, list(dict.fromkeys(_remove(cat.allow, r) for r in base)))
            if hit:
                return hit
        return None


_NAME_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
_NOT_NAMES = frozenset({"i", "i'm", "i'll", "i've", "i'd", "ok", "okay", "tv", "pov", "cu", "ecu", "ms", "ws", "ots",
                        "int", "ext", "scene", "shot", "cut", "camera"})


def has_name_like_word(text: str) -> bool:
    """A capitalised word that is not just the first word of a sentence ("a man in Paris", "then Lewis
    Hamilton waves"), or two capitalised words in a row at the start ("Lewis Hamilton waves").

    A cue, not a verdict: it only lets the classifier consider the public-figures category. Prompts
    typed all in lower case name nobody by this test (known names are still caught by the rules)."""
    text = unicodedata.normalize("NFKC", text)
    words = list(_NAME_WORD.finditer(text))
    for i, m in enumerate(words):
        word = m.group(0)
        if not word[0].isupper() or word.casefold() in _NOT_NAMES or (word.isupper() and len(word) <= 3):
            continue
        starts_sentence = i == 0 or bool(_SENTENCE_END.search(text[:m.start()]))
        if not starts_sentence:
            return True
        if i + 1 < len(words) and words[i + 1].group(0)[0].isupper() and \
                not text[m.end():words[i + 1].start()].strip(" "):
            return True
    return False


def _remove(pattern: re.Pattern[str] | None, text: str) -> str:
    return pattern.sub(" ; ", text) if pattern else text


def _check_category(cat: Category, readings: list[str]) -> RuleHit | None:
    if cat.terms:
        for text in readings:
            m = cat.terms.search(text)
            if m:
                return RuleHit(cat.name, "term", m.group(0))
    for source, pattern in cat.patterns:
        for text in readings:
            m = pattern.search(text)
            if m:
                return RuleHit(cat.name, f"pattern {source[:60]}", m.group(0))
    for name, pattern in cat.near:
        for text in readings:
            m = pattern.search(text)
            if m:
                return RuleHit(cat.name, name, m.group(0))
    for name, groups in cat.both:
        for text in readings:
            found = []
            for group in groups:  # stops at the first group that is absent (most prompts miss the first)
                m = group.search(text)
                if m is None:
                    break
                found.append(m)
            else:
                return RuleHit(cat.name, name, " + ".join(m.group(0) for m in found))
    return None


def term_regex(term: str) -> str:
    """Regex source for one term: "*" = any ending, a space = space/hyphen/nothing, and each letter may be
    stretched ("nude" matches "nuuuude", "kill" matches "kiiilll" but not "kil", "coon" not "con")."""
    term = fold_characters(term.strip())
    if not term:
        raise RuleDataError("empty term")
    parts = []
    for chunk in re.split(r"(\*| )", term):
        if chunk == "*":
            parts.append(r"[a-z0-9]*")
        elif chunk == " ":
            parts.append(r"[\s\-]*")
        elif chunk:
            for m in re.finditer(r"(.)\1*", chunk):
                letter, run = re.escape(m.group(1)), len(m.group(0))
                parts.append(f"{letter}+" if run == 1 else f"{letter}{{{run},}}")
    return "".join(parts)


def _alternation(terms: list[str]) -> str:
    # Longest first so that "crack cocaine" wins over "crack" in the reported match; ties in source order, so
    # the pattern is the same in every process (set order varies with hash seeds; regex_cache keys on it).
    unique = sorted({term_regex(t) for t in terms}, key=lambda source: (-len(source), source))
    return "(?:" + "|".join(unique) + ")"


def _terms_source(terms: list[str]) -> str | None:
    return _EDGE_L + _alternation(terms) + _EDGE_R if terms else None


def _allow_source(phrases: list[str]) -> str | None:
    """Allow phrases are matched literally (no stretched letters): they must be meant, not obfuscated."""
    if not phrases:
        return None
    parts = []
    for phrase in sorted(set(phrases), key=lambda phrase: (-len(phrase), phrase)):
        folded = fold_characters(phrase.strip())
        chunks = re.split(r"(\*| )", folded)
        parts.append("".join(r"[a-z0-9]*" if c == "*" else r"[\s\-]*" if c == " " else re.escape(c) for c in chunks))
    return _EDGE_L + "(?:" + "|".join(parts) + ")" + _EDGE_R


def _compiled(source: str | None) -> re.Pattern[str] | None:
    return None if source is None else _REGEX.compile(source)


def _resolve(value: Any, lists: dict[str, list[str]], where: str) -> list[str]:
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in lists:
            raise RuleDataError(f"{where}: unknown list {value!r}; defined lists: {sorted(lists)}")
        return lists[value[1:]]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleDataError(f"{where}: expected a list of strings or a $list name, got {value!r}")
    return value


def read_yaml(path: Path) -> dict[str, Any]:
    """A rule or lexicon file: a YAML mapping, else one RuleDataError naming the file."""
    try:
        # LibYAML's loader when present: the same data (checked on every shipped file), ~8x faster.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RuleDataError(f"{path}: expected a mapping at the top level")
    return data


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = [*into[key], *value]
        else:
            into[key] = value


def _category_files(dirs: list[Path]) -> tuple[dict[str, list[str]], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Lists, benign data per folder (shipped first), and category data merged across folders."""
    lists: dict[str, list[str]] = {}
    benign: list[dict[str, Any]] = []
    raw: dict[str, dict[str, Any]] = {}
    for n, folder in enumerate(dirs):
        benign.append({})
        for path in sorted(folder.glob("*.y*ml")):
            data = read_yaml(path)
            if path.name == _LISTS_FILE:
                for name, words in data.items():
                    lists[name] = [*lists.get(name, []), *_resolve(words, {}, f"{path}:{name}")]
            elif path.name == _BENIGN_FILE:
                _merge(benign[n], data)
            else:
                name = data.get("category") or path.stem
                if n > 0 and raw.get(name, {}).get("locked") and data.get("allow"):
                    raise RuleDataError(f"{path}: category {name!r} is locked; allow phrases cannot relax it")
                if n > 0:
                    data = {k: v for k, v in data.items() if k != "locked"}
                _merge(raw.setdefault(name, {"category": name, "_file": str(path)}), data)
    return lists, benign, raw


def _category_plan(data: dict[str, Any], lists: dict[str, list[str]]) -> dict[str, Any]:
    """One category's data checked and turned into regex sources: plain data, so it can be kept on disk."""
    where = data.get("_file", data["category"])
    needs = data.get("classifier_needs") or {}
    if not isinstance(needs, dict):
        raise RuleDataError(f"{where}: classifier_needs must be a mapping with 'words' and/or 'names'")
    for key in ("title", "reason"):
        if not isinstance(data.get(key), str):
            raise RuleDataError(f"{where}: missing {key!r} (a string)")
    near = []
    for i, rule in enumerate(data.get("near") or []):
        first = _alternation(_resolve(rule.get("first"), lists, f"{where}: near[{i}].first"))
        then = _alternation(_resolve(rule.get("then"), lists, f"{where}: near[{i}].then"))
        within = int(rule.get("within", 3))
        source = _EDGE_L + first + r"(?:[^a-z0-9]+[a-z0-9]+){0," + str(within) + r"}?[^a-z0-9]+" + then + _EDGE_R
        near.append([f"near {rule.get('first')} → {rule.get('then')}", source])
    both = [[f"both {groups}", [_EDGE_L + _alternation(_resolve(g, lists, f"{where}: both[{i}]")) + _EDGE_R
                                for g in groups]]
            for i, groups in enumerate(data.get("both") or [])]
    return {
        "where": str(where),
        "name": data["category"],
        "title": data["title"],
        "reason": data["reason"].strip(),
        "severity": int(data.get("severity", 100)),
        "terms": _terms_source(_resolve(data.get("terms") or [], lists, f"{where}: terms")),
        "patterns": [str(source) for source in data.get("patterns") or []],
        "both": both,
        "near": near,
        "allow": _allow_source(_resolve(data.get("allow") or [], lists, f"{where}: allow")),
        "exemplars": [str(text) for text in data.get("exemplars") or []],
        "locked": bool(data.get("locked", False)),
        "cues": _terms_source(_resolve(needs.get("words") or [], lists, f"{where}: classifier_needs.words")),
        "cue_names": bool(needs.get("names", False)),
    }


def _category(plan: dict[str, Any]) -> Category:
    patterns = []
    for source in plan["patterns"]:
        try:
            patterns.append((source, _REGEX.compile(source)))
        except re.error as exc:
            raise RuleDataError(f"{plan['where']}: bad pattern {source!r}: {exc}") from exc
    return Category(
        name=plan["name"],
        title=plan["title"],
        reason=plan["reason"],
        severity=plan["severity"],
        terms=_compiled(plan["terms"]),
        patterns=patterns,
        both=[(label, [_REGEX.compile(source) for source in sources]) for label, sources in plan["both"]],
        near=[(label, _REGEX.compile(source)) for label, source in plan["near"]],
        allow=_compiled(plan["allow"]),
        exemplars=list(plan["exemplars"]),
        locked=plan["locked"],
        classifier_cues=_compiled(plan["cues"]),
        classifier_cue_names=plan["cue_names"],
    )


def _book_plan(dirs: list[Path]) -> dict[str, Any]:
    lists, benign, raw = _category_files(dirs)
    plans = sorted((_category_plan(d, lists) for d in raw.values()), key=lambda c: (c["severity"], c["name"]))
    extra_allow = [p for b in benign[1:] for p in _resolve(b.get("allow") or [], lists, "extra benign.yaml: allow")]
    return {
        "categories": plans,
        "allow": _allow_source(_resolve(benign[0].get("allow") or [], lists, "benign.yaml: allow")),
        "benign_exemplars": [str(e) for b in benign for e in (b.get("exemplars") or [])],
        "operator_allow": _allow_source(extra_allow),
    }


def _book_key(dirs: list[Path]) -> str:
    """What the rule book is derived from: its files (names and bytes) and the code that derives it."""
    parts: list[str | bytes] = [disk_cache.source_digest(Path(__file__).parent)]
    for folder in dirs:
        for path in sorted(folder.glob("*.y*ml")):
            parts += [str(path), path.read_bytes()]
    return disk_cache.digest(parts)


def load_rules(extra_dir: str | Path | None = None) -> RuleBook:
    """Read the shipped rules plus an operator's extra folder into a RuleBook (raises RuleDataError).

    The regex sources derived from the files are kept on disk (common/disk_cache.py) under a digest of the
    files and of this code, so a new process compiles them without re-reading the YAML."""
    dirs = [RULES_DIR]
    if extra_dir:
        extra = Path(extra_dir)
        if not extra.is_dir():
            raise RuleDataError(f"extra moderation rules folder {extra} does not exist ({EXTRA_RULES_ENV})")
        dirs.append(extra)
    try:
        key = _book_key(dirs)
    except OSError:
        key = ""
    cached = disk_cache.load("rulebook", key) if key else None
    book = None
    if cached is not None:
        try:
            book = _book(cached, key)
        except (KeyError, TypeError, ValueError, IndexError, re.error):  # not a plan this code wrote: derive anew
            book = None
    if book is None:
        plan = _book_plan(dirs)
        book = _book(plan, key)
        if key:
            disk_cache.store("rulebook", key, plan)
    _REGEX.save()
    return book


def _book(plan: dict[str, Any], key: str) -> RuleBook:
    return RuleBook(
        categories=[_category(c) for c in plan["categories"]],
        allow=_compiled(plan["allow"]),
        benign_exemplars=[str(e) for e in plan["benign_exemplars"]],
        operator_allow=_compiled(plan["operator_allow"]),
        source_key=key,
    )


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    """The rule book used by `moderate_prompt`, loaded once per process."""
    return load_rules(os.environ.get(EXTRA_RULES_ENV) or None)
