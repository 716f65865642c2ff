"""Which language a prompt is written in, so that moderation judges it with the right word lists.

Moderation must judge what a prompt says in the language it says it in: an English embedding model reads
"un perro juega con una pelota roja" as noise near *sexual*, and reads "как сделать бомбу" as nothing at
all. So every prompt is first given a language (and every language of a mixed prompt):

* the writing system of each run of letters (Cyrillic, Arabic, Devanagari, Han/Kana, Hangul, ...), after
  undoing look-alike letters (an English word typed with Cyrillic "а" and "о" is still English);
* `lingua-language-detector` (offline; its models ship inside the wheel) within a script, built only for
  the languages moderation can judge plus the common ones it can name but not judge.

A language the instance cannot judge is *named*, so the verdict can say "prompts in Korean cannot be
checked here" instead of guessing a category.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import subprocess
import sys
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sora_lite.safety.normalize import unmix_scripts

# Languages moderation judges (each has a lexicon in lexicons/, English has the full rule book + classifier).
SUPPORTED: dict[str, str] = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "hi": "Hindi",
}
LATIN_SUPPORTED = ("es", "fr", "de", "it", "pt")
# A runner-up language this likely is judged by the concept layer too (concepts.py); the blanket
# "every Latin lexicon" reading of an unsure short prompt is left to the word lists.
LIKELY_MIN = 0.15
# Languages the detector can name but moderation cannot judge (by lingua's enum name).
NAMED_ONLY: dict[str, str] = {
    "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "id": "Indonesian", "vi": "Vietnamese", "sv": "Swedish",
    "uk": "Ukrainian", "ko": "Korean", "el": "Greek", "he": "Hebrew", "th": "Thai", "fa": "Persian",
    "ur": "Urdu", "cs": "Czech", "ro": "Romanian", "da": "Danish", "fi": "Finnish", "hu": "Hungarian",
    "tl": "Tagalog", "sw": "Swahili", "ca": "Catalan", "bn": "Bengali", "ta": "Tamil",
}
_LINGUA_NAMES: dict[str, str] = {"he": "HEBREW", "el": "GREEK", "tl": "TAGALOG", "fa": "PERSIAN"}

# Scripts that only unsupported languages use: a run of them names the language without a detector.
_SCRIPT_LANGUAGE: dict[str, tuple[str, str]] = {
    "HANGUL": ("ko", "Korean"), "THAI": ("th", "Thai"), "HEBREW": ("he", "Hebrew"), "GREEK": ("el", "Greek"),
    "ARMENIAN": ("hy", "Armenian"), "GEORGIAN": ("ka", "Georgian"), "BENGALI": ("bn", "Bengali"),
    "TAMIL": ("ta", "Tamil"), "TELUGU": ("te", "Telugu"), "GUJARATI": ("gu", "Gujarati"),
    "GURMUKHI": ("pa", "Punjabi"), "KANNADA": ("kn", "Kannada"), "MALAYALAM": ("ml", "Malayalam"),
    "SINHALA": ("si", "Sinhala"), "KHMER": ("km", "Khmer"), "LAO": ("lo", "Lao"), "MYANMAR": ("my", "Burmese"),
    "ETHIOPIC": ("am", "Amharic"), "TIBETAN": ("bo", "Tibetan"), "MONGOLIAN": ("mn", "Mongolian"),
    "ORIYA": ("or", "Odia"),
}
# Scripts whose text goes to the detector (several languages share them).
_DETECTED_SCRIPTS = ("LATIN", "CYRILLIC", "ARABIC", "DEVANAGARI", "CJK")

# Cyrillic and Greek letters that look like Latin ones. A text whose Cyrillic letters are all of these (and
# that reads as a Latin-script language once they are swapped) is Latin typed with look-alikes.
_CYRILLIC_LOOKALIKES = frozenset("аеорсухіѕјһԁԛԝӏвкмнтьАВЕКМНОРСТХІЅЈ")
_GREEK_LOOKALIKES = frozenset("αοριεκντυχωΑΒΕΗΙΚΜΝΟΡΤΥΧΖ")
_LATIN_FROM_LOOKALIKE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ѕ": "s", "ј": "j",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "в": "b", "к": "k", "м": "m", "н": "h", "т": "t",
    "ь": "b", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "І": "I", "Ѕ": "S", "Ј": "J", "α": "a", "ο": "o", "ρ": "p", "ι": "i", "ε": "e",
    "κ": "k", "ν": "v", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "Α": "A", "Β": "B", "Ε": "E", "Η": "H",
    "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ζ": "Z",
})

# Below these, a detector's guess is not trusted enough to refuse a prompt as an unsupported language.
UNSUPPORTED_MIN_CONFIDENCE = 0.6
UNSUPPORTED_MIN_WORDS = 3
# A supported non-English language this sure of itself turns the English classifier off for the prompt.
CONFIDENT = 0.5
# An English guess with a supported runner-up at least this close (as a share of its confidence) is unsure.
AMBIGUOUS_RATIO = 0.8
# A four-word window of a mixed prompt counts as a language at this confidence (short texts score low).
WINDOW_MIN_CONFIDENCE = 0.2
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class LanguageDetectorUnavailable(RuntimeError):
    """lingua-language-detector is not installed; the message says how to get it."""


@dataclass(frozen=True)
class LanguageReading:
    """The languages of one prompt.

    language: ISO 639-1 code of the main language ("und" when nothing could be read: digits, emoji).
    confidence: the detector's confidence in it (1.0 when the script alone decides). languages: every
    language found, main first (codes; mixed prompts have several). unsupported: names of the languages
    found that moderation cannot judge. english: the English part of a mixed prompt (what the English
    classifier may read), "" when there is none.
    """

    language: str
    name: str
    confidence: float
    languages: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()
    english: str = ""
    lookalikes: bool = False
    scripts: tuple[str, ...] = field(default=())
    likely: tuple[str, ...] = field(default=())  # languages minus the "every Latin lexicon" fallback

    @property
    def supported(self) -> bool:
        return not self.unsupported

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def language_name(code: str) -> str:
    return SUPPORTED.get(code) or NAMED_ONLY.get(code) or {c: n for c, n in _SCRIPT_LANGUAGE.values()}.get(code) or code


def supported_names() -> str:
    """"English, Spanish, ..." for messages."""
    return ", ".join(SUPPORTED.values())


def _script(ch: str) -> str | None:
    if not ch.isalpha() and unicodedata.category(ch) not in ("Mn", "Mc"):
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")) or "IDEOGRAPH" in name:
        return "CJK"
    return name.split(" ")[0]


def script_runs(text: str) -> dict[str, str]:
    """The text of each script, words kept apart ("CYRILLIC": "как сделать", "LATIN": "bomb")."""
    runs: dict[str, list[str]] = {}
    last = None
    for ch in text:
        script = _script(ch)
        if script in ("COMBINING", None) and unicodedata.category(ch) in ("Mn", "Mc") and last:
            script = last  # vowel signs belong to the letter before them
        if script is None or script == "COMBINING":
            if last:
                runs[last].append(" ")
            last = None
            continue
        if script != last and last is not None:
            runs[last].append(" ")
        runs.setdefault(script, []).append(ch)
        last = script
    return {s: re.sub(r"\s+", " ", "".join(chars)).strip() for s, chars in runs.items()}


def undo_lookalikes(text: str) -> tuple[str, bool]:
    """Swap Cyrillic/Greek look-alike letters for Latin ones when the text is Latin typed with look-alikes:
    every Cyrillic/Greek letter in it is a look-alike and the text has Latin letters too ("а nаkеd lаdу" is
    English; "кот на окне", all look-alikes but no Latin letter, is Russian)."""
    foreign = [ch for ch in text if ch.isalpha() and _script(ch) in ("CYRILLIC", "GREEK")]
    if not foreign or not any(ch.isascii() and ch.isalpha() for ch in text):
        return text, False
    if any(ch not in _CYRILLIC_LOOKALIKES and ch not in _GREEK_LOOKALIKES for ch in foreign):
        return text, False
    return text.translate(_LATIN_FROM_LOOKALIKE), True


# The languages lingua weighs for each script it reads (lingua itself drops, by its alphabet rules, every
# language that cannot be written in the text's script, so a detector built only from these gives the same
# confidences as one built from all of SUPPORTED + NAMED_ONLY: checked on every prompt of the shipped sets,
# same order, |difference| <= 2e-15, see tests/test_language_fast.py).
_SCRIPT_DETECTOR_LANGUAGES: dict[str, tuple[str, ...]] = {
    "LATIN": ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "id", "vi", "sv", "cs", "ro", "da", "fi",
              "hu", "tl", "sw", "ca"),
    "CYRILLIC": ("ru", "uk"),
    "ARABIC": ("ar", "fa", "ur"),
}


class _Detector:
    """lingua, one detector per script, built once with its models preloaded.

    Why per script and preloaded: loading lingua's n-gram models is nearly all of its cost (~0.17 s CPU per
    language, 20 languages for Latin text), and lingua loads preloaded models in parallel threads, so a
    cold Latin detection takes about half the wall time on two cores; a Cyrillic prompt loads 2 languages,
    not 20."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detectors: dict[str, Any] = {}
        self._codes: dict[Any, str] = {}
        self._by_name: list[str] = []  # every language's code in lingua's order for equal confidences

    def _languages(self, codes: tuple[str, ...]) -> list[Any]:
        from lingua import IsoCode639_1, Language

        languages = []
        for code in codes:
            try:
                languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
            except (AttributeError, ValueError):
                continue
        return languages

    def loaded(self, script: str) -> bool:
        """Whether this script's detector is built (its models in memory)."""
        return (script if script in _SCRIPT_DETECTOR_LANGUAGES else "*") in self._detectors

    def get(self, script: str) -> tuple[Any, dict[Any, str], list[str]]:
        key = script if script in _SCRIPT_DETECTOR_LANGUAGES else "*"
        with self._lock:
            if key not in self._detectors:
                try:
                    from lingua import LanguageDetectorBuilder
                except ImportError as exc:
                    raise LanguageDetectorUnavailable(
                        "moderation needs lingua-language-detector to tell which language a prompt is in: "
                        "pip install lingua-language-detector") from exc
                if not self._codes:
                    every = self._languages((*SUPPORTED, *NAMED_ONLY))
                    self._codes = {lang: lang.iso_code_639_1.name.lower() for lang in every}
                    self._by_name = [self._codes[lang] for lang in sorted(every, key=lambda lang: lang.name)]
                builder = LanguageDetectorBuilder.from_languages(
                    *self._languages(_SCRIPT_DETECTOR_LANGUAGES.get(key) or (*SUPPORTED, *NAMED_ONLY)))
                if key != "*":
                    builder = builder.with_preloaded_language_models()
                self._detectors[key] = builder.build()
            return self._detectors[key], self._codes, self._by_name


_DETECTOR = _Detector()


def _confidences(text: str, script: str = "*") -> list[tuple[str, float]]:
    """lingua's confidence in every language, highest first; the languages of other scripts (and those
    lingua's rules ruled out) follow at 0.0 in lingua's order, as one detector of all languages lists them."""
    detector, codes, by_name = _DETECTOR.get(script)
    values = detector.compute_language_confidence_values(text)
    if not values:
        return []
    found = [(codes[v.language], float(v.value)) for v in values if v.value > 0]
    seen = {c for c, _ in found}
    return found + [(c, 0.0) for c in by_name if c not in seen]


def _windows(words: list[str], size: int = 4) -> list[list[str]]:
    """Runs of `size` words, the last one ending on the last word (so it is full when the prompt is)."""
    return [words[max(0, min(i, len(words) - size)):i + size] for i in range(0, len(words), size)]


def _window_languages(text: str, size: int = 4, script: str = "*") -> list[tuple[str, float, str]]:
    """(language, confidence, words) for each run of `size` words: the languages of a mixed prompt ("a man
    says hello and then una mujer dice que ..."), which one whole-text guess hides."""
    out = []
    for window in _windows(text.split(), size):
        chunk = " ".join(window)
        scores = _confidences(chunk, script)
        if scores:
            out.append((scores[0][0], scores[0][1], chunk))
    return out


# The English fast path: a plain English prompt is read without lingua (whose Latin-script models cost ~4 s
# of CPU to load), by a word list that says when lingua would read it as English and nothing else.
ENGLISH_WORDS_FILE = Path(__file__).parent / "data" / "english_words.json"
FAST_MIN_WORDS = 4


@functools.cache
def _english_word_classes() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(every word, strong English words, words lingua alone reads as es/fr/de/it/pt); empty if the file is
    missing or broken (then every prompt goes to lingua, as before the fast path)."""
    try:
        data = json.loads(ENGLISH_WORDS_FILE.read_text(encoding="utf-8"))
        strong, foreign = frozenset(data["strong"]), frozenset(data["foreign"])
        return strong | foreign | frozenset(data["plain"]), strong, foreign
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset(), frozenset(), frozenset()


def english_at_a_glance(text: str) -> LanguageReading | None:
    """The reading lingua gives a plain English prompt (English, and no other language anywhere in it), or
    None when the word list cannot tell (then lingua reads it).

    Why: most prompts are plain English, and lingua's Latin-script models take ~4 s of CPU to load for
    them. The test: the prompt is ASCII, has at least FAST_MIN_WORDS words, every word is in
    data/english_words.json, and every 4-word window lingua weighs on its own (see `_detect`; the whole
    prompt when it has fewer than 6 words) has at least one more "strong" English word than words lingua
    alone reads as Spanish/French/German/Italian/Portuguese (two more under 6 words). Checked against
    lingua: the same reading on every shipped prompt it takes, and 2 differing readings in ~74,000 random
    bags of these words (bench/english_words.py). `confidence` is 1.0: lingua's number is not computed."""
    if not text.isascii():
        return None
    text = unmix_scripts(unicodedata.normalize("NFKC", text))
    runs = script_runs(text)
    if list(runs) != ["LATIN"]:
        return None
    words = runs["LATIN"].lower().split()
    if len(words) < FAST_MIN_WORDS:
        return None
    every, strong, foreign = _english_word_classes()
    if not all(w in every for w in words):
        return None
    if len(words) < 6:
        windows, extra = [words], 2
    else:  # the windows of _window_languages, and the whole prompt
        windows = _windows(words) + [words]
        extra = 1
    for window in windows:
        if sum(w in strong for w in window) < extra + sum(w in foreign for w in window):
            return None
    return LanguageReading("en", "English", 1.0, ("en",), (), text, False, ("LATIN",), ("en",))


_CACHE_SIZE = 512
_cache: dict[str, LanguageReading] = {}
_cache_lock = threading.Lock()


def detect_language(text: str) -> LanguageReading:
    """The languages of a prompt (raises LanguageDetectorUnavailable without lingua).

    A plain English prompt is read by a word list (`english_at_a_glance`: the same reading, without loading
    lingua). Remembered per text (the studio asks twice per clip: moderation, then the scene parser), and
    taken from `prefetch`'s helper process when one is reading this text."""
    with _cache_lock:
        reading = _cache.get(text)
    if reading is None:
        reading = english_at_a_glance(text) or _prefetched(text) or _detect(text)
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[text] = reading
    return reading


def _detect(text: str) -> LanguageReading:
    text = unmix_scripts(unicodedata.normalize("NFKC", text))
    original_scripts = tuple(script_runs(text))
    text, lookalikes = undo_lookalikes(text)
    runs = script_runs(text)
    letters = {s: sum(ch.isalpha() for ch in t) for s, t in runs.items()}
    found: list[tuple[str, float, int]] = []  # (code, confidence, letters)
    unsupported: list[str] = []
    english = ""
    english_unsure = False
    for script, run in runs.items():
        n = letters[script]
        if script in _SCRIPT_LANGUAGE:
            code, name = _SCRIPT_LANGUAGE[script]
            if n >= 2:
                found.append((code, 1.0, n))
                unsupported.append(name)
            continue
        if script not in _DETECTED_SCRIPTS:
            if n >= 2:
                found.append((script.lower(), 1.0, n))
                unsupported.append(f"{script.title()} script")
            continue
        if script == "CJK":
            kana = any(unicodedata.name(ch, "").startswith(("HIRAGANA", "KATAKANA")) for ch in run)
            found.append(("ja" if kana else "zh", 1.0, n))
            continue
        if script == "DEVANAGARI":
            found.append(("hi", 1.0, n))
            continue
        scores = _confidences(run, script)
        if not scores:
            continue
        code, conf = scores[0]
        words = len(_WORD.findall(run))
        if code not in SUPPORTED and (conf < UNSUPPORTED_MIN_CONFIDENCE or words < UNSUPPORTED_MIN_WORDS):
            # Not sure enough to refuse: read it as the likeliest supported language of its script.
            code, conf = next(((c, v) for c, v in scores if c in SUPPORTED), (code, conf))
        found.append((code, conf, n))
        if code not in SUPPORTED:
            unsupported.append(language_name(code))
        # Other languages a non-English run may also be in (the detector is often torn between Spanish,
        # Portuguese and Italian on a short prompt). An English run keeps to English: its runners-up are noise.
        if code != "en":
            found += [(other, value, 0) for other, value in scores[1:4] if other in SUPPORTED and value >= 0.15]
            if script == "LATIN" and conf < CONFIDENT:
                # A short prompt the detector is unsure of ("propagande nazie" reads as Italian): every
                # Latin-script lexicon reads it, so that a wrong guess does not hide the words.
                found += [(c, 0.0, 0) for c in LATIN_SUPPORTED if c != code]
        else:
            # English by a hair ("shooting photo d'une mannequin ..."): the runner-up is read too, and the
            # English classifier is not trusted with the prompt.
            close = [(o, v, 0) for o, v in scores[1:3] if o in SUPPORTED and v >= AMBIGUOUS_RATIO * conf]
            found += close
            english_unsure = english_unsure or bool(close)
        if script == "LATIN" and words >= 6:
            parts = _window_languages(run, script=script)
            found += [(c, v, 0) for c, v, _ in parts if c in SUPPORTED and v >= WINDOW_MIN_CONFIDENCE]
            if code != "en":
                english = " ".join(w for c, v, w in parts if c == "en" and v >= WINDOW_MIN_CONFIDENCE)
    if not found:
        return LanguageReading("und", "undetermined", 0.0, (), (), "", lookalikes, tuple(runs))
    main = max(found, key=lambda f: (f[2], f[1]))
    languages = tuple(dict.fromkeys([main[0], *(c for c, _, n in sorted(found, key=lambda f: -f[2]) if n),
                                     *(c for c, _, n in found if not n)]))
    if main[0] == "en":
        english = "" if english_unsure else text
    likely = tuple(c for c in languages if any(f[0] == c and (f[2] or f[1] >= LIKELY_MIN) for f in found))
    return LanguageReading(main[0], language_name(main[0]), round(main[1], 3), languages,
                           tuple(dict.fromkeys(unsupported)), english, lookalikes,
                           tuple(dict.fromkeys([*runs, *original_scripts])), likely)


def _needs_detector(text: str) -> bool:
    """Whether reading `text` loads lingua's models: a script several languages share whose detector this
    process has not built yet (once built, reading here takes a millisecond; a helper would load it again)."""
    return any(_script(ch) in _SCRIPT_DETECTOR_LANGUAGES and not _DETECTOR.loaded(_script(ch) or "")
               for ch in text if ch.isalpha())


class _Prefetch:
    """A helper process reading some texts' languages while this one does other start-up work.

    Why a process: lingua's model loading (the 3.6 s CPU of a cold Latin-script detection) holds the GIL, so
    a thread would stall this process's imports for as long; a second interpreter runs it on the other core
    and hands back the same readings (the same code and data; floats survive JSON exactly)."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = set(texts)
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        code = "import sys; from sora_lite.safety.language import _prefetch_main; _prefetch_main(sys.stdin.buffer.read().decode())"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        try:
            assert self.proc.stdin is not None
            with self.proc.stdin:
                self.proc.stdin.write(json.dumps(texts).encode("utf-8"))
        except OSError:
            self.close()
            raise
        finally:
            self.proc.stdin = None  # written and closed; communicate() only reads
        self.lock = threading.Lock()
        self.readings: dict[str, LanguageReading] | None = None

    def result(self, timeout: float = 120.0) -> dict[str, LanguageReading]:
        with self.lock:
            if self.readings is None:
                self.readings = {}
                try:
                    out, _ = self.proc.communicate(timeout=timeout)
                    answer = json.loads(out.decode("utf-8"))
                    for text, row in zip(answer["texts"], answer["readings"]):
                        if isinstance(row, dict):
                            self.readings[text] = LanguageReading(**{
                                k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})
                except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError):
                    self.close()
                    self.readings = {}  # read here instead: the same answer, only not ahead of time
            return self.readings

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_prefetch_lock = threading.Lock()
_pending: _Prefetch | None = None


def prefetch(texts: list[str]) -> bool:
    """Start reading these texts' languages in a helper process (the CLI calls it before its imports);
    `detect_language` then waits for that answer instead of loading lingua here. False when nothing needed
    it (no text in a script lingua reads, or only plain English ones: `english_at_a_glance`) or the helper
    could not start (the texts are then read here)."""
    global _pending
    todo = [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip() and _needs_detector(t)
            and english_at_a_glance(t) is None]
    with _cache_lock:
        todo = [t for t in todo if t not in _cache]
    if not todo:
        return False
    with _prefetch_lock:
        if _pending is not None:
            return False
        try:
            _pending = _Prefetch(todo)
        except OSError:
            return False
        atexit.register(_pending.close)
    return True


def helper_running() -> bool:
    """Whether a `prefetch` helper process is still reading (so this process has a core's worth of time)."""
    with _prefetch_lock:
        pending = _pending
    return pending is not None and pending.readings is None and pending.proc.poll() is None


def _prefetched(text: str) -> LanguageReading | None:
    with _prefetch_lock:
        pending = _pending
    if pending is None or text not in pending.texts:
        return None
    return pending.result().get(text)


def _prefetch_main(argument: str) -> None:
    """The helper process of `prefetch`: JSON texts in, JSON readings out (null for a text it cannot read)."""
    texts = json.loads(argument)
    readings: list[dict[str, Any] | None] = []
    for text in texts:
        try:
            readings.append(_detect(text).to_dict())
        except LanguageDetectorUnavailable:
            readings.append(None)  # the caller reads it itself and raises the same error
    sys.stdout.write(json.dumps({"texts": texts, "readings": readings}))
    sys.stdout.flush()


def warm_up_detector() -> None:
    """Load the detector's models for every script now (a few seconds once), not on a user's first prompt."""
    for sample in ("a dog plays with a red ball", "собака играет с мячом", "كلب يلعب بالكرة"):
        _detect(sample)  # not detect_language: its English fast path would leave the Latin models unloaded
