"""Quoted speech in a prompt or a storyboard shot → the lines to speak, who speaks them and how.

Recognised: `X says "…"` (says, said, asks, replies, answers, announces, calls, whispers, shouts, yells,
screams, sings), `X: "…"`, and a bare quoted sentence after a speaking verb elsewhere in the text. Straight,
curly and guillemet quotes all count. The speaker phrase picks the voice (a woman's, a child's, else a man's).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from sora_lite.common.sound import SAMPLE_RATE, VOICE_PEAK, voice_line
from sora_lite.sound.events import SoundEvent
from sora_lite.sound.speech import speak

SPEAK_VERBS = {
    "says": "says", "say": "says", "said": "says", "asks": "says", "asked": "says", "replies": "says",
    "replied": "says", "answers": "says", "announces": "says", "calls": "says", "tells": "says", "speaks": "says",
    "whispers": "whispers", "whispered": "whispers", "murmurs": "whispers",
    "shouts": "shouts", "shouted": "shouts", "yells": "shouts", "yelled": "shouts", "screams": "shouts",
    "exclaims": "shouts", "cries": "shouts", "sings": "says",
}
LINE_PEAK = VOICE_PEAK / math.sqrt(2)  # a spoken line sits 3 dB under a cameo's own voice sample at centre pan
MANNER_GAIN_DB = {"says": 0.0, "whispers": -9.0, "shouts": 3.0}
WOMAN = {"woman", "women", "girl", "lady", "she", "her", "mother", "mom", "grandmother", "female", "queen",
         "actress", "princess", "wife", "sister", "daughter", "aunt", "waitress", "businesswoman"}
CHILD = {"child", "kid", "boy", "baby", "toddler", "children", "kids", "son", "schoolboy", "schoolgirl"}
NOT_SPEAKERS = {"sign", "caption", "title", "text", "banner", "poster", "screen", "label", "headline", "subtitle",
                "note", "letter", "card", "board", "billboard", "shirt", "t-shirt"}  # on-screen text, not speech
QUOTE = r"[\"“”«»„‘’]"
# The speaker phrase and the words between verb and quote are bounded: unbounded lazy runs made a long text
# without quotes cost O(n^3) (22 s for 22 kB, a way to stall a server with one prompt).
_LINE = re.compile(
    rf"(?P<speaker>[^.!?\"“”«»„:]{{0,160}}?)\s*(?:\b(?P<verb>{'|'.join(SPEAK_VERBS)})\b[^\"“”«»„:]{{0,80}}?[,:]?|:)"
    rf"\s*{QUOTE}(?P<words>[^\"“”«»„]{{1,600}}?){QUOTE}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    words: str
    manner: str  # "says", "whispers", "shouts"
    speaker: str  # the phrase before the verb ("a man in a suit"), "" when none
    voice: str  # "man", "woman", "child"


def voice_for(speaker: str) -> str:
    words = {w.strip(".,;:!?'").lower() for w in speaker.split()}
    if words & CHILD or ("girl" in words and "little" in words):
        return "child"
    if words & WOMAN:
        return "woman"
    return "man"


def find_lines(text: str) -> list[Line]:
    """Every quoted line a text asks someone to speak, in order."""
    lines: list[Line] = []
    text = text or ""
    if not re.search(QUOTE, text):
        return lines
    for m in _LINE.finditer(text):
        words = " ".join(m.group("words").split()).strip()
        if not words or not any(ch.isalpha() for ch in words):
            continue
        verb = (m.group("verb") or "says").lower()
        speaker = " ".join((m.group("speaker") or "").split())
        if {w.strip(".,;:!?'").lower() for w in speaker.split()} & NOT_SPEAKERS:
            continue
        lines.append(Line(words=words, manner=SPEAK_VERBS.get(verb, "says"), speaker=speaker, voice=voice_for(speaker)))
    return lines


def place_line(line: Line, start: float, pan: float, n_samples: int, source: str | None = None) -> tuple[np.ndarray, SoundEvent]:
    """The line as a stereo track starting at `start` s, panned to the speaker; and its ground-truth event
    (start and end of the voiced part, the exact words). A line longer than the clip is cut with its event."""
    spoken = speak(line.words, line.voice)
    out = voice_line(spoken.audio, SAMPLE_RATE, start, pan, n_samples,
                     peak_to=LINE_PEAK * 10 ** (MANNER_GAIN_DB[line.manner] / 20))
    begin = int(round(start * SAMPLE_RATE))
    spans = spoken.spans or ((0.0, spoken.seconds),)
    end_limit = (n_samples - begin) / SAMPLE_RATE
    first, last = spans[0][0], min(spans[-1][1], end_limit)
    event = SoundEvent("speech", start + first, start + max(first, last), source=source, words=line.words,
                       detail={"voice": line.voice, "manner": line.manner,
                               "spans": [[round(start + a, 3), round(start + min(b, end_limit), 3)]
                                         for a, b in spans if a < end_limit]})
    return out, event


PERSON_WORDS = {"man", "woman", "person", "boy", "girl", "child", "kid", "people", "figure", "character", "guy",
                "lady", "speaker", "host", "presenter", "narrator"}


def speaker_of(phrase: str, names: list[str]) -> str | None:
    """Which object in the scene a speaker phrase ("a man in a suit") means: the name sharing most words with
    it, people first; None when nothing in the scene matches (the line is then heard, unplaced)."""
    words = {w.strip(".,;:!?'").lower() for w in phrase.split()}
    best, best_score = None, 0.0
    for name in names:
        parts = {w.lower() for w in name.replace("_", " ").replace("-", " ").split()}
        score = len(words & parts) + 0.5 * bool(parts & PERSON_WORDS and words & PERSON_WORDS)
        if score > best_score:
            best, best_score = name, score
    return best
