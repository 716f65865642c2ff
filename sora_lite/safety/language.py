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

import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
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


class _Detector:
    """lingua, built once for the languages above; its models load lazily per script, once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._detector: Any = None
        self._codes: dict[Any, str] = {}

    def get(self) -> tuple[Any, dict[Any, str]]:
        with self._lock:
            if self._detector is None:
                try:
                    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
                except ImportError as exc:
                    raise LanguageDetectorUnavailable(
                        "moderation needs lingua-language-detector to tell which language a prompt is in: "
                        "pip install lingua-language-detector") from exc
                languages = []
                for code in [*SUPPORTED, *NAMED_ONLY]:
                    try:
                        languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
                    except (AttributeError, ValueError):
                        continue
                self._codes = {lang: lang.iso_code_639_1.name.lower() for lang in languages}
                self._detector = LanguageDetectorBuilder.from_languages(*languages).build()
            return self._detector, self._codes


_DETECTOR = _Detector()


def _confidences(text: str) -> list[tuple[str, float]]:
    detector, codes = _DETECTOR.get()
    return [(codes[v.language], float(v.value)) for v in detector.compute_language_confidence_values(text)]


def _window_languages(text: str, size: int = 4) -> list[tuple[str, float, str]]:
    """(language, confidence, words) for each run of `size` words: the languages of a mixed prompt ("a man
    says hello and then una mujer dice que ..."), which one whole-text guess hides."""
    words = text.split()
    out = []
    for i in range(0, len(words), size):
        chunk = " ".join(words[max(0, min(i, len(words) - size)):i + size])
        scores = _confidences(chunk)
        if scores:
            out.append((scores[0][0], scores[0][1], chunk))
    return out


def detect_language(text: str) -> LanguageReading:
    """The languages of a prompt (raises LanguageDetectorUnavailable without lingua)."""
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
        scores = _confidences(run)
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
            parts = _window_languages(run)
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


def warm_up_detector() -> None:
    """Load the detector's models for every script now (a few seconds once), not on a user's first prompt."""
    for sample in ("a dog plays with a red ball", "собака играет с мячом", "كلب يلعب بالكرة"):
        detect_language(sample)
