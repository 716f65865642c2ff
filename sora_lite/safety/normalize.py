"""Text normalisation that undoes cheap obfuscation before the rules and the classifier see a prompt.

Moderation must judge what a prompt *says*, not how it is typed: "ｎｕｄｅ", "nսdе" (Armenian/Cyrillic
look-alikes), "n u d e", "n.u.d.e", "nuuuude" and "n00d" all say the same thing. `normalize` returns a few
readings of one prompt; rules match against every reading (their terms tolerate stretched letters), the
classifier embeds the clearest.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Look-alike letters from other scripts that NFKC leaves alone, mapped to the Latin letter they imitate
# (a visual "skeleton", after Unicode TR39 confusables; transliteration would be wrong here: Cyrillic
# "р" reads as r but looks like p, and it is the look that fools a reader).
CONFUSABLES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "д": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t",
    "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "з": "3", "ь": "b", "п": "n",
    "ԁ": "d", "ɡ": "g", "ո": "n", "ս": "u", "օ": "o", "ք": "p", "յ": "j",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "s", "σ": "o", "μ": "u",
    # Latin extensions and symbols that survive NFKC
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ß": "ss", "æ": "ae", "œ": "oe", "ſ": "s",
    "ɑ": "a", "ɩ": "i", "ʋ": "u", "ⅼ": "l", "∂": "d", "¡": "i",
    # Cherokee capitals that imitate Latin ones
    "Ꭺ": "a", "Ᏼ": "b", "Ꮯ": "c", "Ꭼ": "e", "Ꮐ": "g", "Ꮋ": "h", "Ꭵ": "i", "Ꭻ": "j", "Ꮶ": "k", "Ꮮ": "l",
    "Ꮇ": "m", "Ꮲ": "p", "Ꮪ": "s", "Ꭲ": "t", "Ꮩ": "v", "Ꮃ": "w", "Ꮓ": "z", "Ꭰ": "d", "Ꮢ": "r",
}

# Leetspeak digits and symbols. "1" is ambiguous (i or l), so it gets two readings.
LEET: dict[str, str] = {"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "8": "b",
                        "9": "g", "+": "t", "|": "l", "!": "i", "€": "e"}
_LEET_CHARS = re.escape("".join(LEET) + "1")

# Tokens with leet characters ("k1ll", "$ex", "53x", "1515") are rewritten in the leet readings; short numbers
# and numbers with units ("3", "12", "1990s", "24fps", "10yo") are left alone so that "3 kids" stays three
# kids. A leet reading is only an extra reading: the plain one is always checked too.
_TOKEN = re.compile(rf"[\w{_LEET_CHARS}]+")
_NUMBER_WITH_UNIT = re.compile(r"\d{1,2}|\d+(?:s|st|nd|rd|th|fps|p|k|d|mm|cm|m|km|am|pm|h|min|sec|yo|yr|yrs)")

# Letters separated by one space/punctuation mark each: "k i l l", "k.i.l.l", "k-i-l-l", "k_i_l_l".
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])(?:[a-z][\s.\-_*·•,/|'\"~`^+]{1,2}){2,}[a-z](?![a-z0-9])")
# Punctuation inside a word: "ki.ll", "nu*de", "se_x".
_INNER_PUNCT = re.compile(r"(?<=[a-z])[.*_·•~`^'\"]+(?=[a-z])")
_SPACES = re.compile(r"\s+")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")


@dataclass(frozen=True)
class Readings:
    """The readings of one prompt that moderation checks.

    `plain`: the prompt as a reader takes it (folded, spaced letters joined). `leet`: the same with
    leetspeak resolved ("1" read as i, then as l), when the prompt had any. `folded`: before spaced
    letters were joined. `glued`: spaced letters joined including a leading "a"/"i".
    """

    plain: str
    leet: tuple[str, ...] = ()
    folded: str = ""
    glued: str = ""
    leet_words: bool = False

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for r in (self.plain, *self.leet, self.folded, self.glued) if r))

    @property
    def clearest(self) -> str:
        """The reading to show a classifier: leetspeak resolved when there was any."""
        return self.leet[0] if self.leet and self.leet_words else self.plain


def fold_characters(text: str) -> str:
    """NFKC (full-width, ligatures, compatibility forms), case-fold, confusables, accents off."""
    if text.isascii():  # every step below leaves ASCII as it is but the case (the rule book's ~7,500 terms)
        return text.casefold()
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    text = "".join(CONFUSABLES.get(ch, ch) for ch in text).casefold()
    text = "".join(CONFUSABLES.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(CONFUSABLES.get(ch, ch) for ch in text)


def join_spaced_letters(text: str, keep_article: bool = True) -> str:
    """Glue words spelled out letter by letter and drop punctuation inside words.

    With `keep_article`, a leading "a"/"i" stays a word ("a n u d e man" → "a nude man").
    """

    def glue(match: re.Match[str]) -> str:
        run = match.group(0)
        head = re.match(r"[ai]\s+", run) if keep_article else None
        if head and len(re.sub(r"[^a-z]", "", run)) > 3:
            return head.group(0) + re.sub(r"[^a-z]", "", run[head.end():])
        return re.sub(r"[^a-z]", "", run)

    return _INNER_PUNCT.sub("", _SPACED_LETTERS.sub(glue, text))


def has_leet_word(text: str) -> bool:
    """Whether some word mixes letters with leet characters ("m4n", "$ex"), not just numbers with units."""
    return any(any(c.isalpha() for c in t) and any(c in LEET or c == "1" for c in t)
               and not _NUMBER_WITH_UNIT.fullmatch(t) for t in _TOKEN.findall(text))


def resolve_leet(text: str, one_as: str = "i") -> str:
    """Replace leet characters inside words that also contain letters."""
    table = {**LEET, "1": one_as}

    # When some word is clearly leet ("m4n"), short numbers around it are leet too ("4 m4n" = "a man").
    mixed = has_leet_word(text)

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if not any(c in table for c in token) or (_NUMBER_WITH_UNIT.fullmatch(token) and not mixed):
            return token
        return "".join(table.get(c, c) for c in token)

    return _TOKEN.sub(swap, text)


def normalize(text: str) -> Readings:
    """All the readings of a prompt that rules should see (see `Readings`)."""
    folded = _SPACES.sub(" ", fold_characters(text)).strip()
    plain = _SPACES.sub(" ", join_spaced_letters(folded)).strip()
    leet: list[str] = []
    for one_as in ("i", "l"):
        reading = _SPACES.sub(" ", join_spaced_letters(resolve_leet(folded, one_as))).strip()
        if reading != plain and reading not in leet:
            leet.append(reading)
    glued = _SPACES.sub(" ", join_spaced_letters(folded, keep_article=False)).strip()
    return Readings(plain=plain, leet=tuple(leet), folded=folded if folded != plain else "",
                    glued=glued if glued != plain else "", leet_words=has_leet_word(folded))


# Latin letters and the Cyrillic letters that look like them, for words typed in a mix of both scripts.
_LATIN_TO_CYRILLIC = str.maketrans({
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "k": "к", "m": "м", "t": "т",
    "h": "н", "b": "в", "i": "і", "3": "з", "0": "о", "6": "б", "u": "и", "n": "п", "r": "г",
    "A": "А", "E": "Е", "O": "О", "P": "Р", "C": "С", "Y": "У", "X": "Х", "K": "К", "M": "М", "T": "Т",
    "H": "Н", "B": "В",
})
_CYRILLIC_TO_LATIN = str.maketrans({v: k for k, v in {
    "a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "k": "к", "m": "м", "t": "т",
    "h": "һ", "i": "і", "s": "ѕ", "j": "ј", "d": "ԁ", "q": "ԛ", "w": "ԝ", "l": "ӏ",
    "A": "А", "E": "Е", "O": "О", "P": "Р", "C": "С", "Y": "У", "X": "Х", "K": "К", "M": "М", "T": "Т",
    "H": "Н", "B": "В",
}.items()})
_MIXED_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u052f"


def unmix_scripts(text: str) -> str:
    """Words typed in a mix of Cyrillic and Latin letters, written in one script: the script of the letters
    that have no look-alike in the other ("бoмбу" with a Latin o is Russian "бомбу"; "nаkеd" with Cyrillic
    а and е is English "naked"). Words in one script are left alone."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        cyr = [ch for ch in word if _is_cyrillic(ch)]
        lat = [ch for ch in word if ch.isascii() and ch.isalpha()]
        if not cyr or not (lat or any(ch in "036" for ch in word)):
            return word
        cyr_only = sum(ch.translate(_CYRILLIC_TO_LATIN) == ch for ch in cyr)
        lat_only = sum(ch.translate(_LATIN_TO_CYRILLIC) == ch for ch in lat)
        if cyr_only and not lat_only:
            return word.translate(_LATIN_TO_CYRILLIC)
        if lat_only and not cyr_only:
            return word.translate(_CYRILLIC_TO_LATIN)
        return word.translate(_LATIN_TO_CYRILLIC) if len(cyr) >= len(lat) else word.translate(_CYRILLIC_TO_LATIN)

    return _MIXED_WORD.sub(fix, text)
