"""Category concepts per language: the structural layer behind the per-language lexicons.

Word lists match what they name; prompts people write paraphrase, inflect and compound. This layer
judges a prompt by *which concepts it mentions together*, the same way in every language:

- `concepts/rules.yaml` holds the category rules once for all languages, as combinations of concept
  names ("a verb of ripping out" + "a body part" → violence; "a minor" + "something sexualising" → minors).
  A rule may require a concept to be absent with a leading "!" (e.g. "!toy"). Its `exempt` section
  names combinations under which a hit of a category is dropped ("an animal and no person" for violence).
- `concepts/<lang>.yaml` holds each language's words for those concepts (translations of the English
  classifier's category prototypes, built as synonym lists). Words are *stemmed* with the Snowball stemmer
  of that language (es fr de it pt ru ar hi), so "cortes", "cortarse", "cortando" are one stem; Chinese and Japanese words are substrings of the prompt (no spaces to split on; a kanji stem
  such as 殴り殺 covers its inflected endings). German nouns of the concepts named in
  `compound_concepts` also match as the head of a compound ("Rohrbombe" → bombe).

Word syntax: "=x" = this form only (no stemming, for words whose stem is also an everyday word), "x*" = a stem starting with x, "*x" = ending with x, "*x*" = containing x (matched on the
token's stem and on the folded token); several words = those stems in that order with at most two words
between. A rule blocks only when every concept of it is present, which is what keeps "a cooking knife
cutting bread" (cut, no person, no body part) apart from "cuts off his fingers" (cut + body part).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sora_lite.common import disk_cache
from sora_lite.safety.lexicon import (
    _SEP,
    SCRIPT_LEXICONS,
    LazyByLanguage,
    LexiconHit,
    fold_script,
    lexicon_hits,
    most_severe,
)
from sora_lite.safety.normalize import fold_characters, unmix_scripts
from sora_lite.safety.rules import RuleDataError, default_rules, read_yaml
from sora_lite.safety.translit import russian_translit, to_cyrillic

CONCEPT_DIR = Path(__file__).parent / "concepts"
RULES_FILE = CONCEPT_DIR / "rules.yaml"
STEMMERS = {"es": "spanish", "fr": "french", "de": "german", "it": "italian", "pt": "portuguese",
            "ru": "russian", "ar": "arabic", "hi": "hindi"}
SUBSTRING_LANGUAGES = ("zh", "ja")
MAX_GAP = 2  # words allowed between the parts of a multi-word entry
_SPLIT_APOSTROPHE = re.compile(r"^(?:[ldjmnstc]|qu|un|dell|all|dall|nell|sull|degl)['’]")


@dataclass(frozen=True)
class _Word:
    """One word of an entry: a set of exact stems, or a pattern ('pre', 'suf', 'in') on one stem."""

    stems: frozenset[str]
    mode: str = "exact"  # exact | pre | suf | in | compound
    text: str = ""

    def matches(self, candidates: frozenset[str]) -> bool:
        if self.mode == "exact":
            return not self.stems.isdisjoint(candidates)
        s = self.text
        if self.mode == "pre":
            return any(c.startswith(s) for c in candidates)
        if self.mode == "suf":
            return any(c.endswith(s) for c in candidates)
        if self.mode == "in":
            return any(s in c for c in candidates)
        # compound (German): the stem itself, or a compound whose head (last part) it is
        return not self.stems.isdisjoint(candidates) or any(
            len(c) > len(s) + 2 and c.endswith(s) for c in candidates)


@dataclass(frozen=True)
class ConceptHit:
    language: str
    category: str
    matched: str


@dataclass
class _Rule:
    category: str
    severity: int
    need: tuple[str, ...]
    absent: tuple[str, ...]


@dataclass
class ConceptLexicon:
    """One language's concept words, compiled against the shared rules."""

    language: str
    concepts: dict[str, list[list[_Word]] | list[str]]
    rules: list[_Rule]
    exempt: dict[str, list[_Rule]]
    exempt_only: frozenset[str] = frozenset()
    _single: dict[str, frozenset[str]] = field(default_factory=dict)
    _cache: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, entries in self.concepts.items():
            stems = [e[0].stems for e in entries if isinstance(e, list) and len(e) == 1 and e[0].mode == "exact"]
            if stems:
                self._single[name] = frozenset().union(*stems)

    def found(self, text: str) -> dict[str, str]:
        """Concept name → the words of the prompt that expressed it (cached for the last few prompts: the
        rules and the exemptions of one prompt ask the same question)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        out = self._found(text)
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[text] = out
        return out

    def _found(self, text: str) -> dict[str, str]:
        if self.language in SUBSTRING_LANGUAGES:
            folded = _fold_cjk(text)
            out = {}
            for name, entries in self.concepts.items():
                hit = next((e for e in entries if isinstance(e, str) and e in folded), None)
                if hit:
                    out[name] = hit
            return out
        tokens = tokenize(text, self.language)
        plain = [_candidates(t, self.language) for t in tokens]
        wide = [_token_candidates(t, self.language) for t in tokens]
        every_plain = frozenset().union(*plain) if plain else frozenset()
        every_wide = frozenset().union(*wide) if wide else frozenset()
        out = {}
        for name, entries in self.concepts.items():
            # Exemption concepts read words as written: a clitic taken off "لقطة" (a shot) leaves قطة (a cat).
            cands, every = (plain, every_plain) if name in self.exempt_only else (wide, every_wide)
            single = self._single.get(name)
            if single and not single.isdisjoint(every):  # one-word, exact-stem entries: one set test
                out[name] = next(t for t, c in zip(tokens, cands) if not single.isdisjoint(c))
                continue
            for entry in entries:
                if single and len(entry) == 1 and entry[0].mode == "exact":  # type: ignore[union-attr]
                    continue
                span = _match_entry(entry, cands)  # type: ignore[arg-type]
                if span is not None:
                    out[name] = " ".join(tokens[span[0]:span[1] + 1])
                    break
        return out

    def exempted(self, text: str, category: str) -> bool:
        """True when a hit of `category` is better read as harmless ("a cat kills a mouse")."""
        rules = self.exempt.get(category)
        if not rules:
            return False
        present = self.found(text)
        return any(all(c in present for c in r.need) and not any(c in present for c in r.absent) for r in rules)

    def check(self, text: str) -> ConceptHit | None:
        """The most severe category one of whose rules the prompt satisfies, or None."""
        present = self.found(text)
        if not present:
            return None
        for rule in self.rules:  # sorted by severity
            if all(c in present for c in rule.need) and not any(c in present for c in rule.absent):
                words = " + ".join(f"{c}:{present[c]}" for c in rule.need)
                return ConceptHit(self.language, rule.category, words)
        return None


_CJK_SEP = re.compile(rf"[{_SEP}]+")
_CJK_NUMBER = re.compile(r"\d+|[一二三四五六七八九十两〇零]+(?=[岁歳才])")


def _fold_cjk(text: str) -> str:
    """The CJK reading concepts match: folded, no spaces or punctuation, and each number fenced with '#'
    ("13岁" reads "#13#岁"), so that an age word "9岁" or "十二岁" does not match inside "29岁" or "三十二岁"."""
    folded = _CJK_SEP.sub("", fold_script(text, "cjk"))
    return _CJK_NUMBER.sub(lambda m: f"#{m.group(0)}#", folded)


def _script(language: str) -> str:
    return {"ru": "cyrillic", "ar": "arabic", "hi": "devanagari"}.get(language, "latin")


# Hindi and Arabic typed in Latin letters (Hinglish "kapde utaar rahi hai", Arabizi "3al serir") are detected as
# some Latin-script language. A prompt with two or more of a romanised word list's own function words ("hai",
# "rahi", "mein"; "3al", "fel", "keda") is also judged by that list (concepts/hi_latn.yaml, ar_latn.yaml), whose
# words and the prompt's are compared by a spelling skeleton: "kapde"/"kapdey", "khoon"/"khun", "maaro"/"maro"
# are one word; Arabizi keeps only consonants ("yedrab"/"yidrab"/"ydrab"; 2, 3, 7 are letters there, 5/8/9 read as
# kh/gh/q), and each word that mixes letters with those digits ("bet2la3", "7aga") also counts as a marker.
ROMANISED = ("hi_latn", "ar_latn")
_HI_SPELLING = (("chh", "ch"), ("ee", "i"), ("oo", "u"), ("aa", "a"), ("ii", "i"), ("uu", "u"), ("w", "v"), ("q", "k"),
                ("z", "j"), ("ph", "f"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("bh", "b"), ("sh", "s"))
_AR_DIGITS = str.maketrans({"5": "k", "8": "g", "9": "q", "'": ""})  # 2 (hamza), 3 (ain), 7 (ha) stay letters
# an Arabizi word: letters with 2/3/7/8/9 and none of the leetspeak-only digits 0 1 4 6 ("b3h34d3d" is leet)
_ARABIZI_WORD = re.compile(r"(?=.*[a-z])(?=.*[23789])[a-z235789]+")


def _skeleton(word: str, language: str) -> str:
    if language == "ar_latn":
        word = word.translate(_AR_DIGITS).replace("kh", "k").replace("gh", "g").replace("sh", "s")
        bare = re.sub(r"(.)\1+", r"\1", re.sub(r"(?<=.)[aeiouy]", "", word))
        word = bare if len(bare) >= 3 else word  # "le", "dam" keep their vowels: two consonants say too little
    else:
        for a, b in _HI_SPELLING:
            word = word.replace(a, b)
        word = re.sub(r"(?:ey|ay)$", "e", word)
    return re.sub(r"(.)\1+", r"\1", word)


@lru_cache(maxsize=1)
def _romanised_markers() -> dict[str, frozenset[str]]:
    """Each romanised list's marker words. Every prompt with Latin letters asks, and the two YAML files they sit
    in take ~15 ms to parse: the words are kept on disk (common/disk_cache.py) under a digest of the files."""
    paths = [p for p in (CONCEPT_DIR / f"{code}.yaml" for code in ROMANISED) if p.exists()]
    try:
        key = disk_cache.digest(["romanised-markers", disk_cache.source_digest(Path(__file__).parent),
                                 *(part for p in paths for part in (p.name, p.read_bytes()))])
    except OSError:
        key = ""
    cached = disk_cache.load("romanised-markers", key) if key else None
    if isinstance(cached, dict) and all(isinstance(k, str) and isinstance(v, list) and all(isinstance(w, str) for w in v)
                                        for k, v in cached.items()):
        return {code: frozenset(words) for code, words in cached.items()}
    out = {p.stem: sorted({str(w).casefold() for w in read_yaml(p).get("markers") or []}) for p in paths}
    if key:
        disk_cache.store("romanised-markers", key, out)
    return {code: frozenset(words) for code, words in out.items()}


def romanised(text: str) -> list[str]:
    """The romanised word lists (hi_latn, ar_latn) whose markers the prompt uses at least twice (for Arabizi a
    word that mixes letters with 2/3/7/8/9 counts as one); [] for a prompt without Latin letters."""
    if not re.search(r"[a-zA-Z]", text):
        return []
    words = set(tokenize(text, "en"))
    arabizi = {w for w in words if _ARABIZI_WORD.fullmatch(w) and not w.isdigit() and not re.fullmatch(r"\d+[a-z]{1,3}", w)}
    out = []
    for code, marks in _romanised_markers().items():
        if len(words & marks) + (len(arabizi) if code == "ar_latn" else 0) >= 2:
            out.append(code)
    return out


def _fold(text: str, language: str) -> str:
    if language in ROMANISED:
        return _skeleton(fold_characters(text), language)
    if _script(language) == "latin":
        # ñ stays ñ: folding it to n would make uña "una", coño "cono", año "ano".
        return fold_characters(unmix_scripts(text).replace("ñ", "\x01")).replace("\x01", "ñ")
    return fold_script(text, _script(language))


def tokenize(text: str, language: str) -> list[str]:
    """Lower-cased words of the prompt (letters, digits and combining marks such as Devanagari vowel
    signs), elisions split off ("l'engrais" → "engrais")."""
    chars = [ch if unicodedata.category(ch)[0] in "LNM" or ch in "'’" else " "
             for ch in text.casefold().replace("ё", "е")]
    words = [_SPLIT_APOSTROPHE.sub("", raw).strip("'’") for raw in "".join(chars).split()]
    return [w for w in words if w]


@lru_cache(maxsize=16)
def _stemmer(language: str) -> Any:
    import snowballstemmer  # pure Python (requirements.txt); imported on first use
    return snowballstemmer.stemmer(STEMMERS[language])


@lru_cache(maxsize=65536)
def _candidates(token: str, language: str) -> frozenset[str]:
    """Every reading a token is compared by: stem of the word, stem of the folded word, the folded word."""
    folded = _fold(token, language)
    out = {folded, token}
    if language in STEMMERS:
        stem = _stemmer(language)
        out |= {_fold(stem.stemWord(token), language), stem.stemWord(folded)}
    return frozenset(o for o in out if o)


# Arabic writes conjunctions, prepositions and the article onto the word ("ليد" = for a hand, "كبطل" = as a
# hero, "والمحرك" = and the engine); the Snowball stemmer keeps many of them. A prompt word is also read
# without them (longest first, at least two letters left).
_AR_CLITICS = ("وبال", "وال", "بال", "كال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "ك")


@lru_cache(maxsize=65536)
def _token_candidates(token: str, language: str) -> frozenset[str]:
    """A prompt word's readings: `_candidates`, plus (Arabic) the word without its clitic prefixes."""
    out = _candidates(token, language)
    if language != "ar":
        return out
    extra: set[str] = set()
    for reading in list(out):
        for clitic in _AR_CLITICS:
            if reading.startswith(clitic) and len(reading) - len(clitic) >= 2:
                extra |= _candidates(reading[len(clitic):], language)
    return out | frozenset(extra) | _ar_verb_cores(out | extra)


# Spoken Arabic marks the present with ب (Egyptian/Levantine بيضرب) and the future with ه/ح (هيضربه); a verb
# carries its person prefix (ي ت ن ا) and object/plural endings (ضربوه, يضربوها). A prompt word is also read as
# that bare core (ضرب, at least three letters), so one concept entry covers every person, tense and dialect.
_AR_VERB_LEAD = re.compile(r"^(?:[هح](?=[يتن]))?(?:[يتن]|ا(?!ل))")
_AR_VERB_TAIL = re.compile(r"(?:وها|وهم|وهن|وه|وا|ون|ين|ها|هم|هن|كم|ني|نا|ه|ك|و)$")


def _ar_verb_cores(readings: set[str] | frozenset[str]) -> frozenset[str]:
    out: set[str] = set()
    for reading in readings:
        lead = _AR_VERB_LEAD.sub("", reading)
        for form in (lead, _AR_VERB_TAIL.sub("", reading), _AR_VERB_TAIL.sub("", lead)):
            if len(form) >= 3:
                out.add(form)
    return frozenset(out)


def _compile_word(word: str, language: str, compound: bool = False) -> _Word:
    if word.startswith("="):  # this surface form only, not its stem ("=vögelt": not "Vögeln", birds)
        body = word[1:].casefold()
        return _Word(frozenset({body, _fold(body, language)}))
    lead, tail = word.startswith("*"), word.endswith("*")
    body = word.strip("*")
    if not body:
        raise RuleDataError(f"empty concept word {word!r}")
    if lead or tail:
        text = _fold(body, language)
        return _Word(frozenset(), "in" if lead and tail else "suf" if lead else "pre", text)
    stems = _candidates(body.casefold(), language)
    if compound and len(min(stems, key=len)) >= 4:
        return _Word(stems, "compound", min(stems, key=len))
    return _Word(stems)


def entry_words(entry: str) -> list[str]:
    """The words of a concept entry, split the way `tokenize` splits a prompt: hyphens separate words
    ("что-то" → что, то; "ar-15" → ar, 15), elisions come off ("d'adieu" → adieu), ё reads as е. The
    "=", "*" markers stay on the word they belong to."""
    out = []
    for raw in entry.replace("ё", "е").replace("Ё", "Е").split():
        mark = "=" if raw.startswith("=") else ""
        body = raw[len(mark):]
        parts = [p for p in re.split(r"-+", body) if p.strip("*")] if not body.startswith("*") or len(body) > 1 else [body]
        for part in parts or [body]:
            lead = "*" if part.startswith("*") else ""
            core = _SPLIT_APOSTROPHE.sub("", part[len(lead):].casefold()).strip("'’")
            if core.strip("*"):
                out.append(mark + lead + core)
    return out


def _match_entry(entry: list[_Word], cands: list[frozenset[str]]) -> tuple[int, int] | None:
    for start, c in enumerate(cands):
        if not entry[0].matches(c):
            continue
        pos, ok = start, True
        for word in entry[1:]:
            nxt = next((j for j in range(pos + 1, min(pos + 2 + MAX_GAP, len(cands))) if word.matches(cands[j])),
                       None)
            if nxt is None:
                ok = False
                break
            pos = nxt
        if ok:
            return start, pos
    return None


@lru_cache(maxsize=1)
def shared_rules() -> list[_Rule]:
    """The category rules over concepts (one file for every language), most severe first."""
    return _rules_section("categories")


@lru_cache(maxsize=1)
def exempt_rules() -> dict[str, list[_Rule]]:
    """Per category, the concept combinations under which a hit of it is dropped."""
    out: dict[str, list[_Rule]] = {}
    for rule in _rules_section("exempt"):
        out.setdefault(rule.category, []).append(rule)
    return out


def _rules_section(section: str) -> list[_Rule]:
    data = read_yaml(RULES_FILE)
    book = default_rules()
    rules = []
    for category, combos in (data.get(section) or {}).items():
        try:
            severity = book.category(category).severity
        except KeyError as exc:
            raise RuleDataError(f"{RULES_FILE}: {exc}") from exc
        for combo in combos or []:
            if not isinstance(combo, list) or not combo or not all(isinstance(c, str) for c in combo):
                raise RuleDataError(f"{RULES_FILE}: {category}: a rule is a list of concept names, got {combo!r}")
            rules.append(_Rule(category, severity, tuple(c for c in combo if not c.startswith("!")),
                               tuple(c[1:] for c in combo if c.startswith("!"))))
    rules.sort(key=lambda r: r.severity)
    return rules


def load_concepts(path: Path) -> ConceptLexicon:
    """Read one language's concept words (raises RuleDataError naming the file and the entry).

    Stemming every word of a language's file takes up to ~0.9 s (Spanish), so the compiled words are kept on
    disk (common/disk_cache.py) under a digest of the file, the shared rules file, the safety code and the
    stemmer's version; a new process reads them back instead."""
    rules = shared_rules()
    exempt = exempt_rules()
    data = path.read_bytes()
    key = disk_cache.digest(["concepts", disk_cache.source_digest(Path(__file__).parent), _stemmer_version(),
                             str(path), data, RULES_FILE.read_bytes()])
    cached = _cached_concepts(disk_cache.load(f"concepts-{path.stem}", key))
    if cached is not None:
        language, concepts = cached
    else:
        language, concepts = _compile_concepts(path, rules, exempt)
        plain = {name: entries if language in SUBSTRING_LANGUAGES
                 else [[(frozenset(w.stems), w.mode, w.text) for w in entry] for entry in entries]
                 for name, entries in concepts.items()}
        disk_cache.store(f"concepts-{path.stem}", key, (language, plain))
    in_rules = {c for r in rules for c in r.need}
    exempt_only = frozenset(c for rs in exempt.values() for r in rs for c in r.need if c not in in_rules)
    return ConceptLexicon(language, concepts, rules, exempt, exempt_only)


def _cached_concepts(cached: Any) -> tuple[str, dict[str, Any]] | None:
    """(language, compiled words) from the cache, or None when it holds no value this code wrote."""
    try:
        language, plain = cached
        concepts: dict[str, Any] = {name: [str(w) for w in entries] if language in SUBSTRING_LANGUAGES
                                    else [[_Word(frozenset(stems), str(mode), str(text)) for stems, mode, text in entry]
                                          for entry in entries]
                                    for name, entries in plain.items()}
    except (TypeError, ValueError, AttributeError):
        return None
    if not isinstance(language, str):
        return None
    return language, concepts


def _stemmer_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("snowballstemmer")
    except PackageNotFoundError:
        return "?"


def _compile_concepts(path: Path, rules: list[_Rule], exempt: dict[str, list[_Rule]]) -> tuple[str, dict[str, Any]]:
    data = read_yaml(path)
    language = data.get("language")
    if not isinstance(language, str):
        raise RuleDataError(f"{path}: expected 'language' and 'concepts'")
    known = {c for r in [*rules, *(r for rs in exempt.values() for r in rs)] for c in r.need + r.absent}
    concepts: dict[str, Any] = {}
    compound = set(data.get("compound_concepts") or [])
    for name, words in (data.get("concepts") or {}).items():
        if name not in known:
            raise RuleDataError(f"{path}: concept {name!r} is used by no rule in {RULES_FILE.name}")
        if not isinstance(words, list) or not all(isinstance(w, (str, int)) for w in words):
            raise RuleDataError(f"{path}: {name}: expected a list of words")
        if language in SUBSTRING_LANGUAGES:
            # longest first, ties by text: the reported word must not depend on the process's hash seed
            concepts[name] = sorted({_fold_cjk(str(w)) for w in words if str(w).strip()}, key=lambda w: (-len(w), w))
        else:
            try:
                concepts[name] = [[_compile_word(w, language, name in compound) for w in entry_words(str(entry))]
                                  for entry in words]
            except RuleDataError as exc:
                raise RuleDataError(f"{path}: {name}: {exc}") from exc
    return language, concepts


@lru_cache(maxsize=1)
def concept_lexicons() -> LazyByLanguage[ConceptLexicon]:
    """Every shipped language's concepts, each compiled on first use (an English prompt compiles none)."""
    return LazyByLanguage({p.stem: p for p in CONCEPT_DIR.glob("*.yaml") if p.name != RULES_FILE.name}, load_concepts)


# Categories a concept hit never overrides: a word-list "minors" hit is already the most severe reading.
_STRONGEST = ("minors",)


def check_all(text: str, languages: list[str] | tuple[str, ...], scripts: tuple[str, ...] = (),
              concept_languages: list[str] | tuple[str, ...] | None = None) -> LexiconHit | None:
    """The non-English judgement: the word lists of `languages` and `scripts`, the concept rules of
    `concept_languages` (default: the same languages) and of the scripts, then the exemptions ("a cat kills
    a mouse" is no violence); the most severe hit that is left, or None."""
    hits = lexicon_hits(text, languages, scripts)
    by_concept = concept_lexicons()
    if not any(h.category in _STRONGEST for h in hits):
        codes = list(languages if concept_languages is None else concept_languages)
        for script in scripts:
            codes += list(SCRIPT_LEXICONS.get(script, ()))
        codes += romanised(text)
        hits += _concept_hits(text, dict.fromkeys(codes), by_concept)
    hits = _not_exempted(text, hits, by_concept)
    if languages and "ru" not in languages and russian_translit(text):
        # Russian typed in Latin letters, read back in Cyrillic: the Russian word lists and concepts judge it
        # (see translit.py; the detector took it for a Latin-script language).
        cyrillic = to_cyrillic(text)
        hits += _not_exempted(cyrillic, lexicon_hits(cyrillic, ["ru"]) + _concept_hits(cyrillic, ["ru"], by_concept),
                              by_concept)
    return most_severe(hits)


def _concept_hits(text: str, codes: Iterable[str], by_concept: LazyByLanguage[ConceptLexicon]) -> list[LexiconHit]:
    """The concept rules of each of `codes` that has concepts, as lexicon hits."""
    hits = (by_concept[code].check(text) for code in codes if code in by_concept)
    return [LexiconHit(hit.language, hit.category, f"concepts({hit.matched})") for hit in hits if hit]


def _not_exempted(text: str, hits: list[LexiconHit], by_concept: LazyByLanguage[ConceptLexicon]) -> list[LexiconHit]:
    """The hits that their language's exemptions ("a cat kills a mouse") do not lift."""
    return [h for h in hits if h.language not in by_concept or not by_concept[h.language].exempted(text, h.category)]
