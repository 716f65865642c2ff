"""Russian written in Latin letters ("kak sdelat bombu", "golaya devushka"): read it back in Cyrillic.

People type Russian without a Cyrillic keyboard (translit, "volapuk"). The language detector then takes the
prompt for Czech, Portuguese or German, and no Latin-script lexicon knows its words, so a harmful prompt
passes unchecked. `russian_translit` decides, from words only Russian translit has ("kak", "chto", "cherez",
"dlya"), letter groups ("zh", "kh", a soft sign "'") and endings ("-yj", "-aya", "-ogo", "-yut"), whether a
Latin prompt is Russian; if so, `to_cyrillic` gives the Cyrillic reading that the Russian lexicon and
concepts judge. A prompt in a Latin language never gets this reading unless it carries several of these
marks, so German or Spanish words are not looked up as Russian ones.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Longest Latin sequences first; the soft sign is written with an apostrophe ("den'gi").
_MULTI = (("iya", "ия"), ("iyu", "ию"), ("iye", "ие"), ("iyo", "ие"), ("yya", "ыя"), ("shch", "щ"), ("sch", "щ"),
          ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"),
          ("yu", "ю"), ("ju", "ю"), ("iu", "ю"), ("ya", "я"), ("ja", "я"), ("ia", "я"), ("yo", "е"),
          ("jo", "е"), ("ye", "е"), ("je", "е"), ("yj", "ый"), ("ij", "ий"), ("yy", "ый"), ("iy", "ий"))
_SINGLE = {"a": "а", "b": "б", "v": "в", "g": "г", "d": "д", "e": "е", "z": "з", "i": "и", "j": "й", "k": "к",
           "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "r": "р", "s": "с", "t": "т", "u": "у", "f": "ф",
           "h": "х", "c": "ц", "y": "ы", "w": "в", "q": "к", "x": "кс", "'": "ь", "’": "ь", "`": "ь"}
_VOWELS = set("aeiouy")

# Words that are Russian and not a word of the Latin-script languages this instance judges (es fr de it pt).
_RU_WORDS = frozenset(["kak", "chto", "cho", "shto", "eto", "etot", "eta", "eti", "etoj", "etoy", "etogo", "dlya", "dlia", "cherez", "chtoby", "chtob", "kogda", "gde", "uzhe", "ochen", "vsyo", "vsio", "kto", "mne", "menya", "tebya", "sebya", "sebe", "ego", "yego", "ee", "eyo", "yeyo", "ikh", "ih", "oni", "ona", "ono", "moy", "moj", "moya", "moyu", "moego", "moej", "moey", "svoy", "svoj", "svoyu", "svoego", "tolko", "tozhe", "poka", "potom", "sdelay", "sdelaj", "sdelat", "pokazhi", "pokazat", "prosto", "vot", "net", "nado", "mozhno", "budet", "bez", "ili", "iz", "pod", "nad", "pri", "posle", "pered", "vmeste", "nikto", "nichego", "vsekh", "vsem", "odin", "odna", "dva", "tri", "kotoryj", "kotoraya", "kotorye", "takoj", "takaya", "zdes", "tut", "tam", "chem", "zachem", "pochemu", "kakoy", "kakoj", "kakaya", "realno", "reaalno", "davay", "davaj", "khochu", "hochu", "chtoto", "chto-to", "kak-to", "zhestko", "zhestkoe", "vsyakie", "v", "vo", "ot", "ko"])
# Letter groups Russian translit is full of and the Latin languages rarely write.
_RU_CLUSTER = re.compile(r"zh|kh|shch|(?<![cs])hch|[bcdfgklmnprstvz]y[bcdfgklmnprstvz]")
_WORD = re.compile(r"[a-z']+")


def to_cyrillic(text: str) -> str:
    """Latin letters of `text` transliterated to Cyrillic (everything else kept)."""
    out = []
    for word in re.split(r"([a-z'’`]+)", text.casefold()):
        out.append(_word_to_cyrillic(word) if word and word[0] in "abcdefghijklmnopqrstuvwxyz" else word)
    return "".join(out)


@lru_cache(maxsize=8192)
def _word_to_cyrillic(word: str) -> str:
    res, i = [], 0
    while i < len(word):
        # "y"/"j" after a vowel is й ("moy", "novyj" handled by the pairs); a word-initial "e" is э before
        # t k r f l n ("eto", "ekstremist", "erotika"), else е ("ego", "edet", "eshche").
        if i == 0 and word[:2] in ("et", "ek", "er", "ef", "el", "en"):
            res.append("э")
            i += 1
            continue
        for lat, cyr in _MULTI:
            if word.startswith(lat, i):
                res.append(cyr)
                i += len(lat)
                break
        else:
            ch = word[i]
            if ch == "y" and i > 0 and word[i - 1] in _VOWELS and (i + 1 == len(word) or word[i + 1] not in _VOWELS):
                res.append("й")
            else:
                res.append(_SINGLE.get(ch, ch))
            i += 1
    return "".join(res)


_ELISION = re.compile(r"^(?:[a-z]{1,2}|qu|quelqu|aujourd|dell|all|dall|nell|sull|degl|coll|tutt|quell|quest)'")
_CONTRACTION = re.compile(r"'(?:s|t|ll|re|ve|d|m)$")


def _soft_sign(word: str) -> bool:
    """An apostrophe that stands for the soft sign ("den'gi", "krov'"), not a French/Italian elision
    ("l'acide", "quelqu'un") or an English contraction ("year's", "don't")."""
    return "'" in word and not _ELISION.match(word) and not _CONTRACTION.search(word)


def russian_translit(text: str) -> bool:
    """True when a Latin-script prompt reads as Russian typed in Latin letters: at least two of its words (and
    a quarter of them) carry a mark - a Russian-only word, a Russian letter group, a soft sign, a Russian
    ending - and one of them is a Russian word or three are marked."""
    words = _WORD.findall(text.casefold())
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", text))
    if not words or cyrillic * 2 >= len(re.findall(r"[a-zA-Z]", text)):  # Cyrillic prompt (not one look-alike)
        return False
    ru_words = sum(w.strip("'") in _RU_WORDS for w in words)
    marked = sum(w.strip("'") in _RU_WORDS or bool(_RU_CLUSTER.search(w)) or _soft_sign(w)
                 or (len(w) >= 5 and w.endswith(("yj", "aya", "ogo", "ykh", "yut", "sya"))) for w in words)
    return marked >= 2 and (ru_words >= 1 or marked >= 3) and marked * 4 >= len(words)
