"""A word-by-word English reading ("gloss") of a prompt in another supported language.

The lexicons (lexicon.py, concepts.py) name harmful *words* per language; they miss what a prompt says in
words nobody listed ("enfonce la tête dans les toilettes jusqu'à ce qu'elle ne bouge plus"). The English
embedding classifier judges *meaning*, but only reads English. No multilingual model or translator ships its
weights in a wheel, so this module writes the prompt out in English one word at a time, from a gloss table
per language (`gloss/<lang>.tsv`: `term<TAB>english`, written for this project), with `simplemma` (in the
wheel) to find a word's dictionary form first. The result is broken English ("a man presses her a pillow
on the face until she not moves more"), which the classifier still places near its harmful examples.

Lookup per position: the longest table term (up to the table's longest phrase), then the word's lemma,
then German compounds split into two known parts, Arabic clitics stripped; Chinese and Japanese are read
by longest match over the table's terms, one character at a time where nothing longer matches. Words the
table does not know are dropped, except digits, and Latin-letter words inside a prompt in another script
(names, "video", "selfie"): in Spanish or German an unknown word is foreign to the English classifier too.

    python -m sora_lite.safety.gloss --lang es "un perro juega con una pelota"
    python -m sora_lite.safety.gloss --coverage FILE.jsonl [--lang es]   # unknown words, most frequent first
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sora_lite.safety import lemmas
from sora_lite.safety.classifier import Thresholds
from sora_lite.safety.lexicon import _ARABIC_MARKS, _TRAD_SIMP

GLOSS_DIR = Path(__file__).parent / "gloss"
THRESHOLDS_FILE = Path(__file__).parent / "data" / "gloss_thresholds.json"
# The multilingual tuning prompts, glossed: the classifier's examples of what glosses of harmful and benign
# prompts look like (built by `python -m sora_lite.safety.tune_gloss --build`; a test checks it is current).
EXEMPLARS_FILE = Path(__file__).parent / "data" / "gloss_exemplars.jsonl"
LEMMA_LANGUAGES = frozenset({"es", "fr", "de", "it", "pt", "ru", "ar", "hi"})  # simplemma has these
LATIN_LANGUAGES = frozenset({"es", "fr", "de", "it", "pt"})  # an unknown word of theirs is not English
CHARACTER_LANGUAGES = frozenset({"zh", "ja"})  # no spaces between words: longest match over the table
LONGEST_CJK_TERM = 8

# Letters, digits and the combining marks that Devanagari and Arabic words are made of (\w alone splits
# "हाथ" at its vowel sign).
_WORD = re.compile(r"[\w\u0300-\u036f\u0900-\u0963\u0966-\u097f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]+"
                   r"(?:['’](?=\w))?")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u30fc]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ؤ": "و", "ئ": "ي"})
_AR_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك", "س")
_AR_SUFFIXES = ("هما", "كما", "هم", "هن", "كم", "نا", "ها", "ون", "ين", "ات", "ان", "ه", "ك", "ي", "ة")
_DE_LINKS = ("", "s", "es", "n", "en", "e", "er")


@dataclass(frozen=True)
class Gloss:
    """The English reading of one prompt and how much of it the table knew."""

    language: str
    english: str
    known: int  # words (CJK: characters) read through the table
    total: int  # words (CJK: characters) in the prompt

    @property
    def coverage(self) -> float:
        return self.known / self.total if self.total else 0.0


@dataclass(frozen=True)
class GlossThresholds:
    """When a gloss is read and when the classifier's reading of it blocks: stricter than for English,
    because a gloss is broken English and the classifier was tuned on real English. Tuned on the
    multilingual tuning sets (never on the blind ones) and stored in `data/gloss_thresholds.json`."""

    coverage: float = 0.6  # share of the prompt's words the table must read
    classifier: Thresholds = field(default_factory=lambda: Thresholds(threshold=0.4, margin=0.1,
                                                                      short_threshold=0.55, short_margin=0.15))

    @classmethod
    def load(cls, path: Path = THRESHOLDS_FILE) -> GlossThresholds:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(coverage=float(data["coverage"]), classifier=Thresholds.load(path))


@dataclass(frozen=True)
class GlossTable:
    language: str
    terms: dict[str, str]  # folded term -> English ("" drops the word: articles, particles)
    longest: int  # most words in one term (CJK: most characters)


def fold(text: str, language: str) -> str:
    """The form both table terms and prompt words are looked up in: case and accents off (people type
    "vagon" for "vagón"), Chinese traditional characters as simplified, Arabic vowel marks and alef forms folded, Russian ё as е, Hindi nukta off."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    if language == "ar":
        return _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    if language == "hi":
        return text.replace("\u093c", "")
    if language == "ru":
        return text.replace("ё", "е")
    if language == "zh":
        return text.translate(_TRAD_SIMP)  # traditional characters read as the simplified terms
    if language in CHARACTER_LANGUAGES:
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def gloss_exemplars(path: Path = EXEMPLARS_FILE) -> list[tuple[str | None, str]]:
    """(category or None, gloss) for every glossed tuning prompt; none when the file is missing."""
    return [(category, english) for category, english, _ in gloss_exemplar_rows(path)]


def gloss_exemplar_rows(path: Path = EXEMPLARS_FILE) -> list[tuple[str | None, str, str]]:
    """(category or None, gloss, the file it came from: its vote group) for every glossed tuning prompt."""
    if not path.exists():
        return []
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return [(row.get("category"), row["english"], str(row.get("source", ""))) for row in rows]


def available() -> list[str]:
    """Languages with a gloss table."""
    return sorted(p.stem for p in GLOSS_DIR.glob("*.tsv"))


@functools.cache
def load_table(language: str) -> GlossTable | None:
    """The language's gloss table, or None when it has none. Raises ValueError naming a malformed line."""
    path = GLOSS_DIR / f"{language}.tsv"
    if not path.exists():
        return None
    terms: dict[str, str] = {}
    longest = 1
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "\t" not in line:
            raise ValueError(f"{path.name}:{n}: expected 'term<TAB>english', got {line!r}")
        term, english = (part.strip() for part in line.split("\t", 1))
        english = "" if english in ("-", "") else english
        key = fold(term, language)
        if not key:
            continue
        if language in CHARACTER_LANGUAGES:
            key = key.replace(" ", "")
            longest = max(longest, min(len(key), LONGEST_CJK_TERM))
        else:
            key = " ".join(key.split())
            longest = max(longest, len(key.split()))
        terms.setdefault(key, english)  # the first line for a term wins; later duplicates are ignored
    return GlossTable(language, terms, longest)


@functools.lru_cache(maxsize=65536)
def _lemma(word: str, language: str) -> str:
    try:
        return lemmas.lemmatize(word, language)
    except (ImportError, ValueError, KeyError):  # no simplemma or no such language: the table's forms still read
        return word


def _word_english(word: str, table: GlossTable) -> str | None:
    """One word's English, or None when the table cannot read it."""
    terms, lang = table.terms, table.language
    if word in terms:
        return terms[word]
    if lang in LEMMA_LANGUAGES:
        lemma = fold(_lemma(word, lang), lang)
        if lemma in terms:
            return terms[lemma]
    if lang == "ar":
        return _arabic(word, terms)
    if lang == "de" and len(word) >= 7:
        return _compound(word, terms)
    if "'" in word:  # French/Italian elision: "l'eau", "dell'acqua"
        head = word.split("'")[0] + "'"
        return terms.get(head)
    return None


def _arabic(word: str, terms: dict[str, str]) -> str | None:
    for prefix in ("", *_AR_PREFIXES):
        if prefix and not (word.startswith(prefix) and len(word) - len(prefix) >= 2):
            continue
        stem = word[len(prefix):]
        if stem in terms:
            return terms[stem]
        for suffix in _AR_SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
                core = stem[: -len(suffix)]
                if core in terms:
                    return terms[core]
                if suffix == "ة" and core + "ه" in terms:
                    return terms[core + "ه"]
    return None


def _compound(word: str, terms: dict[str, str]) -> str | None:
    """German compounds: "selbstbedienungskasse" -> "self-service till", read as two known parts (the
    longest head first, a linking -s-/-n-/-en- allowed between them); failing that, the longest known tail
    names the thing ("mobbingvideo" -> video). Shortest tails first would read "hotelzimmer" as "always"."""
    def known(part: str) -> str | None:
        return terms[part] if part in terms else terms.get(fold(_lemma(part, "de"), "de"))

    for cut in range(len(word) - 3, 2, -1):
        head, tail = word[:cut], word[cut:]
        tail_en = known(tail)
        if tail_en is None:
            continue
        for link in _DE_LINKS:
            if link and not head.endswith(link):
                continue
            stem = head[: len(head) - len(link)] if link else head
            if len(stem) >= 3 and stem in terms:
                return " ".join(p for p in (terms[stem], tail_en) if p)
    for cut in range(3, len(word) - 3):
        tail_en = known(word[cut:])
        if tail_en and len(word) - cut >= 4:
            return tail_en
    return None


def gloss(text: str, language: str) -> Gloss | None:
    """The English reading of `text` in `language`, or None when that language has no table."""
    table = load_table(language)
    if table is None:
        return None
    folded = fold(text, language)
    if language in CHARACTER_LANGUAGES:
        return _gloss_characters(folded, table)
    words = [m.group(0) for m in _WORD.finditer(folded)]
    out: list[str] = []
    known = i = 0
    while i < len(words):
        for size in range(min(table.longest, len(words) - i), 1, -1):
            phrase = " ".join(words[i:i + size])
            if phrase in table.terms:
                out.append(table.terms[phrase])
                known += size
                i += size
                break
        else:
            word = words[i]
            english = _word_english(word, table)
            if english is not None:
                out.append(english)
                known += 1
            elif _ASCII_WORD.fullmatch(word) and (language not in LATIN_LANGUAGES or word.isdigit()):
                out.append(word)
            i += 1
    return Gloss(language, " ".join(w for w in out if w), known, len(words))


def _gloss_characters(text: str, table: GlossTable) -> Gloss:
    out: list[str] = []
    known = total = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if not _CJK.match(ch):
            ascii_word = _ASCII_WORD.match(text, i)
            if ascii_word:
                out.append(ascii_word.group(0))
                i = ascii_word.end()
            else:
                i += 1
            continue
        for size in range(min(table.longest, len(text) - i), 0, -1):
            piece = text[i:i + size]
            if piece in table.terms:
                out.append(table.terms[piece])
                known += size
                total += size
                i += size
                break
        else:
            total += 1
            i += 1
    return Gloss(table.language, " ".join(w for w in out if w), known, total)


def _coverage(path: Path, only: str | None) -> None:
    unknown: dict[str, Counter[str]] = {}
    known: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        lang = row.get("lang") or only
        if not lang or (only and lang != only):
            continue
        table = load_table(lang)
        if table is None:
            continue
        g = gloss(row["prompt"], lang)
        assert g is not None
        known[lang] += g.known
        total[lang] += g.total
        folded = fold(row["prompt"], lang)
        if lang in CHARACTER_LANGUAGES:
            continue  # unknown characters are not words; read the glosses instead
        for word in _WORD.findall(folded):
            if _word_english(word, table) is None and not (_ASCII_WORD.fullmatch(word) and lang not in LATIN_LANGUAGES):
                unknown.setdefault(lang, Counter())[word] += 1
    for lang in sorted(total):
        share = known[lang] / total[lang] if total[lang] else 0.0
        print(f"{lang}: {share:.1%} of {total[lang]} words/characters known")
        if lang in unknown:
            print("  unknown:", " ".join(f"{w}({c})" if c > 1 else w for w, c in unknown[lang].most_common(200)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sora_lite.safety.gloss", description=__doc__.split("\n")[0])
    parser.add_argument("text", nargs="*", help="prompt(s) to gloss (needs --lang)")
    parser.add_argument("--lang", help="ISO 639-1 code of a language with a gloss table")
    parser.add_argument("--coverage", type=Path, help="a JSONL file of {prompt, lang}: coverage and unknown words")
    parser.add_argument("--jsonl", type=Path, help="a JSONL file of {prompt, lang}: print each gloss")
    args = parser.parse_args(argv)
    if args.coverage:
        _coverage(args.coverage, args.lang)
        return 0
    if args.jsonl:
        for line in args.jsonl.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                lang = row.get("lang") or args.lang
                g = gloss(row["prompt"], lang) if lang else None
                print(f"[{lang} {row.get('label', '')}] {row['prompt']}\n    -> {g.english if g else '(no table)'}")
        return 0
    if not args.lang:
        parser.error("--lang is required with a prompt")
    if load_table(args.lang) is None:
        print(f"no gloss table for {args.lang!r}; tables: {', '.join(available()) or 'none'}", file=sys.stderr)
        return 2
    for text in args.text:
        g = gloss(text, args.lang)
        assert g is not None
        print(f"{g.english}    ({g.known}/{g.total} known)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
