"""Per-language category lexicons: the offline judgement of prompts not written in English.

The word lists name harms; the concept layer on top of them (concepts.py, `check_all`) judges the
combinations and inflected forms they do not name.

No multilingual sentence encoder ships its weights in a PyPI wheel (checked: only English MiniLM packages
do), so prompts in other languages are judged by word lists kept as data, one file per language in
`lexicons/<code>.yaml`, with the same spirit as the English rules: cheap, explainable, and tolerant of
cheap obfuscation (look-alike letters, mixed Cyrillic/Latin, spaced letters, accents, leetspeak,
traditional/simplified Chinese, Arabic diacritics and letter variants, Hindi nukta).

File format (see `lexicons/es.yaml`):

    language: es            # ISO 639-1 code
    script: latin           # latin | cyrillic | arabic | devanagari | cjk
    prefixes: [...]         # optional clitics a word may carry in front (Arabic: و ب ل ال ...)
    lists: {name: [terms]}  # shared word lists, referenced as "$name"
    allow: [phrases]        # benign idioms taken out before matching ("pistola de agua")
    categories:
      violence:
        terms: [...]        # any one of these blocks
        both: [[$people, [apuñal*, ...]]]   # one term of every group, anywhere in the prompt, blocks

Term syntax (spaced scripts): "*" at the end = any ending, "*" at the start = any beginning, a space =
space/hyphen/nothing, "~" = up to four words in between. CJK terms are plain substrings (no spaces there).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sora_lite.common.regex_cache import RegexCache
from sora_lite.safety.normalize import fold_characters, normalize, unmix_scripts
from sora_lite.safety.rules import RuleBook, RuleDataError, default_rules

_T = TypeVar("_T")

LEXICON_DIR = Path(__file__).parent / "lexicons"
SCRIPTS = ("latin", "cyrillic", "arabic", "devanagari", "cjk")

# Characters that separate words (anything else is part of a word, including Devanagari vowel signs).
_SEP = r"\s!-/:-@\[-`{-~¡-¿×÷،؛؟۔।॥。、，．！？：；「」『』（）【】《》〈〉…—–«»“”„‘’·•"
_LEFT = rf"(?<![^{_SEP}])"
_RIGHT = rf"(?![^{_SEP}])"
_INWORD = rf"[^{_SEP}]*"
_GAP = r"[\s\-]*"
_WORDS_BETWEEN = rf"(?:[\s\-.,;:'’]+[^{_SEP}]+){{0,4}}[\s\-.,;:'’]+"
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][\s.\-_*·•,/|'~]{1,2}){2,}[^\W\d_](?![^\W\d_])")
_INNER_PUNCT = re.compile(r"(?<=[^\W\d_])[.*_·•~`^'\"]+(?=[^\W\d_])")

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و",
                                 "ئ": "ي", "ک": "ك", "ی": "ي", "ۀ": "ه", "ڭ": "ك"})
# Traditional → simplified for the characters the Chinese lexicon uses (both spellings then match).
_TRAD_SIMP_LEXICON = str.maketrans(dict(zip(
    "彈槍殺體兒戀圖屍頭傷藥擊製裝襲聖戰納斷塊殘強姦脫處熱網視頻錄學軍飛機殘爆炸歲幼猥褻臟劍毒氣屠戮槍砲"
    "斬首淫蕩燒焚屬傳號召恐聯邦國際極端義恥辱滅絕種族黨衛隊歐帶導腦漿內臟剁碎胴裸露醜陋賣淫嫖娼誘騙綁架販賣"
    "組織軟際暴亂發動攻擊血腥殘忍屍體割腕跳樓輕生結束自殘吊燒炭劑麼會說請問讓給們這過還時點裡邊開門車來對",
    "弹枪杀体儿恋图尸头伤药击制装袭圣战纳断块残强奸脱处热网视频录学军飞机残爆炸岁幼猥亵脏剑毒气屠戮枪炮"
    "斩首淫荡烧焚属传号召恐联邦国际极端义耻辱灭绝种族党卫队欧带导脑浆内脏剁碎胴裸露丑陋卖淫嫖娼诱骗绑架贩卖"
    "组织软际暴乱发动攻击血腥残忍尸体割腕跳楼轻生结束自残吊烧炭剂么会说请问让给们这过还时点里边开门车来对",
    strict=True)))


def _trad_simp_table() -> dict[int, str]:
    """Every traditional character of data/trad_simp.txt (hanziconv's map), then the pairs above on top:
    a prompt in traditional characters reads as the simplified words the zh lists and concepts hold."""
    table: dict[int, str] = {}
    path = Path(__file__).parent / "data" / "trad_simp.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and len(parts[0]) == 1:
            table[ord(parts[0])] = parts[1]
    return {**table, **_TRAD_SIMP_LEXICON}


_TRAD_SIMP = _trad_simp_table()


def fold_script(text: str, script: str) -> str:
    """The reading of `text` a lexicon of `script` matches against (the same fold is applied to its terms)."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    if script == "latin":
        return fold_characters(text)
    text = unmix_scripts(text).casefold()
    if script == "cyrillic":
        decomposed = unicodedata.normalize("NFD", text.replace("ё", "е").replace("й", "и"))
        return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    if script == "arabic":
        return _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)
    if script == "devanagari":
        decomposed = unicodedata.normalize("NFD", text).replace("\u093c", "").replace("\u0901", "\u0902")
        return unicodedata.normalize("NFC", decomposed)
    if script == "cjk":
        return text.translate(_TRAD_SIMP)
    raise RuleDataError(f"unknown script {script!r}; expected one of {SCRIPTS}")


def readings(text: str, script: str) -> list[str]:
    """Every reading a lexicon checks: folded, spaced letters joined, punctuation inside words dropped,
    leetspeak resolved (Latin), and for CJK everything that is not a letter taken out."""
    if script == "latin":
        return list(normalize(unmix_scripts(text)).all)
    folded = re.sub(r"\s+", " ", fold_script(text, script)).strip()
    out = [folded]
    if script == "cjk":
        out.append(re.sub(rf"[{_SEP}\d]+", "", folded))
    else:
        joined = _INNER_PUNCT.sub("", _SPACED.sub(lambda m: re.sub(r"[\W\d_]", "", m.group(0)), folded))
        out.append(joined)
    return list(dict.fromkeys(r for r in out if r))


@dataclass(frozen=True)
class LexiconHit:
    language: str
    category: str
    matched: str


@dataclass
class _Category:
    name: str
    severity: int
    terms: re.Pattern[str] | None
    both: list[list[re.Pattern[str]]]


@dataclass
class Lexicon:
    """One language's categories, compiled."""

    language: str
    script: str
    categories: list[_Category]
    allow: re.Pattern[str] | None

    def check(self, text: str) -> LexiconHit | None:
        """The most severe category whose terms (or term pairs) the prompt contains, or None."""
        texts = [self.allow.sub(" ; ", r) if self.allow else r for r in readings(text, self.script)]
        for cat in self.categories:
            for reading in texts:
                m = cat.terms.search(reading) if cat.terms else None
                if m:
                    return LexiconHit(self.language, cat.name, m.group(0))
                for groups in cat.both:
                    found = [g.search(reading) for g in groups]
                    if all(found):
                        return LexiconHit(self.language, cat.name, " + ".join(f.group(0) for f in found if f))
        return None


def _term_source(term: str, script: str, prefixes: str) -> str:
    term = re.sub(r"\s+", " ", fold_script(term.strip(), script))
    if not term or term == "*":
        raise RuleDataError("empty lexicon term")
    if script == "cjk":
        return re.escape(term.replace("*", "").replace(" ", ""))
    lead, tail = term.startswith("*"), term.endswith("*")
    body = term.strip("*")
    parts = []
    for chunk in re.split(r"(\*|~| )", body):
        if chunk == "*":
            parts.append(_INWORD)
        elif chunk == "~":
            parts.append(_WORDS_BETWEEN)
        elif chunk == " ":
            parts.append(_GAP)
        elif chunk:
            parts.append(re.escape(chunk))
    source = "".join(parts)
    left = _INWORD if lead else _LEFT + prefixes
    right = _INWORD if tail else _RIGHT
    return left + source + right


def _compile(terms: list[str], script: str, prefixes: str, where: str, cache: RegexCache) -> re.Pattern[str] | None:
    if not terms:
        return None
    try:
        # Longest first, ties in source order: the same pattern in every process (regex_cache keys on it).
        sources = sorted({_term_source(t, script, prefixes) for t in terms}, key=lambda s: (-len(s), s))
        return cache.compile("(?:" + "|".join(sources) + ")")
    except (re.error, RuleDataError) as exc:
        raise RuleDataError(f"{where}: {exc}") from exc


def _resolve(value: Any, lists: dict[str, list[str]], where: str) -> list[str]:
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in lists:
            raise RuleDataError(f"{where}: unknown list {value!r}; defined lists: {sorted(lists)}")
        return lists[value[1:]]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise RuleDataError(f"{where}: expected a list of strings or a $list name, got {value!r}")
    value = [str(v) for v in value]
    out: list[str] = []
    for v in value:
        out += lists[v[1:]] if v.startswith("$") and v[1:] in lists else [v]
    return out


def load_lexicon(path: Path, rules: RuleBook) -> Lexicon:
    """Read and compile one language file (raises RuleDataError naming the file and the entry)."""
    try:
        # LibYAML's loader when present: the same data (checked on every shipped file), ~8x faster.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("language"), str):
        raise RuleDataError(f"{path}: expected a mapping with 'language', 'script' and 'categories'")
    script = data.get("script")
    if script not in SCRIPTS:
        raise RuleDataError(f"{path}: script must be one of {SCRIPTS}, got {script!r}")
    lists = {k: _resolve(v, {}, f"{path}: lists.{k}") for k, v in (data.get("lists") or {}).items()}
    prefix_list = [fold_script(p, script) for p in data.get("prefixes") or []]
    prefixes = "(?:" + "|".join(sorted(map(re.escape, prefix_list), key=len, reverse=True)) + ")?" \
        if prefix_list else ""
    categories = []
    cache = RegexCache(f"lexicon-{path.stem}")  # compiled word lists kept between processes (regex_cache.py)
    for name, spec in (data.get("categories") or {}).items():
        where = f"{path}: {name}"
        try:
            severity = rules.category(name).severity
        except KeyError as exc:
            raise RuleDataError(f"{where}: {exc}") from exc
        both = []
        for i, groups in enumerate(spec.get("both") or []):
            compiled = [_compile(_resolve(g, lists, f"{where}.both[{i}]"), script, prefixes, f"{where}.both[{i}]",
                                 cache) for g in groups]
            both.append([c for c in compiled if c is not None])
        categories.append(_Category(name, severity,
                                    _compile(_resolve(spec.get("terms") or [], lists, f"{where}.terms"),
                                             script, prefixes, f"{where}.terms", cache), both))
    categories.sort(key=lambda c: (c.severity, c.name))
    allow = _compile(_resolve(data.get("allow") or [], lists, f"{path}: allow"), script, "", f"{path}: allow", cache)
    cache.save()
    return Lexicon(data["language"], script, categories, allow)


class LazyByLanguage(Mapping[str, _T]):
    """Language code → a file's compiled contents, each file compiled on first use, once, thread-safely.

    Why: compiling every language's patterns took most of the CLI's start-up (~3 s CPU of a 4 s clip), and an
    English prompt uses none of them. `in` and iteration read only the file names."""

    def __init__(self, paths: dict[str, Path], load: Callable[[Path], _T]) -> None:
        self._paths = dict(sorted(paths.items()))
        self._load = load
        self._loaded: dict[str, _T] = {}
        self._lock = threading.Lock()

    def __getitem__(self, code: str) -> _T:
        with self._lock:
            if code not in self._loaded:
                value = self._load(self._paths[code])  # KeyError for a language without a file
                if getattr(value, "language", code) != code:
                    raise RuleDataError(f"{self._paths[code]}: says language {value.language!r}, "
                                        f"but its file name says {code!r}")
                self._loaded[code] = value
            return self._loaded[code]

    def __contains__(self, code: object) -> bool:
        return code in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


@lru_cache(maxsize=1)
def lexicons() -> LazyByLanguage[Lexicon]:
    """Every shipped lexicon by language code, each compiled once per process, when first used."""
    return LazyByLanguage({p.stem: p for p in LEXICON_DIR.glob("*.yaml")},
                          lambda path: load_lexicon(path, default_rules()))


# Scripts that decide a lexicon whatever the detector says (a Cyrillic word is checked as Russian even in
# an English sentence; Han characters as both Chinese and Japanese).
SCRIPT_LEXICONS = {"CYRILLIC": ("ru",), "ARABIC": ("ar",), "DEVANAGARI": ("hi",), "CJK": ("zh", "ja")}


def lexicon_hits(text: str, languages: list[str] | tuple[str, ...], scripts: tuple[str, ...] = ()) -> list[LexiconHit]:
    """Every hit (one per lexicon at most) among the lexicons of the given languages and scripts."""
    shipped = lexicons()
    codes = [c for c in languages if c in shipped]
    for script in scripts:
        codes += [c for c in SCRIPT_LEXICONS.get(script, ()) if c in shipped]
    return [h for h in (shipped[c].check(text) for c in dict.fromkeys(codes)) if h]


def most_severe(hits: list[LexiconHit]) -> LexiconHit | None:
    if not hits:
        return None
    rules = default_rules()
    return min(hits, key=lambda h: rules.category(h.category).severity)


def check_languages(text: str, languages: list[str] | tuple[str, ...], scripts: tuple[str, ...] = ()) -> LexiconHit | None:
    """The most severe hit among the word lists of the given languages and scripts (the concept layer on top
    of them is `concepts.check_all`)."""
    return most_severe(lexicon_hits(text, languages, scripts))
