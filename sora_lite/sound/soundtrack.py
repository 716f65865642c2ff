"""Everything a clip's soundtrack holds, composed once: the engine gives its effects (contacts, footsteps,
friction), the shots' texts and cut times and where speakers stand; this adds the spoken lines, a score
when asked, the place and weather beds, and mixes them at the loudness target.

The engine stays in charge of what it simulated (effects, positions); this module only decides how the
film sounds around them, so every engine can share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from sora_lite.common.sound import SAMPLE_RATE
from sora_lite.sound import dialogue, mix, music, places
from sora_lite.sound.events import SoundEvent

LINE_LEAD_S = 0.3  # a line starts this long after its shot begins (or its speaker appears)
LINE_GAP_S = 0.25  # between two lines of one shot
MAX_ACCENTS = 3  # the loudest impacts the score accents

# (line, shot index, earliest start s) → (start s, pan −1…1, source object name or None)
Placer = Callable[[dialogue.Line, int, float], tuple[float, float, "str | None"]]


@dataclass
class Soundtrack:
    audio: np.ndarray  # 2×N float32 at SAMPLE_RATE
    events: list[SoundEvent] = field(default_factory=list)
    mix: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)  # per spoken line: words, voice, start, source

    def sidecar(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in sorted(self.events, key=lambda e: (e.start, e.kind))]


def describe_sound(text: str) -> dict[str, Any]:
    """What a text will sound like, before anything is rendered: the parse view's `sound` section."""
    lines = [{"words": ln.words, "voice": ln.voice, "manner": ln.manner, "speaker": ln.speaker}
             for ln in dialogue.find_lines(text)]
    return {"lines": lines, "music": music.mood_from_text(text), "beds": places.beds_from_text(text)}


def compose(
    texts: list[str], shot_starts: list[float], seconds: float, effects: np.ndarray,
    impacts: list[tuple[float, float]] | None = None, default_ambience: np.ndarray | None = None,
    place_line: Placer | None = None, seed: int = 0, normalise: bool = True, voices: np.ndarray | None = None,
) -> Soundtrack:
    """`texts[i]` is shot i's text (the prompt for one shot), starting at `shot_starts[i]` s. `impacts` are
    (time, strength) of the simulated contacts; `default_ambience` is the engine's own bed, used when the
    texts name no place or weather. `voices` (2×N) joins the dialogue stem as it is (a cameo's own voice)."""
    n = effects.shape[-1]
    events: list[SoundEvent] = []
    lines_info: list[dict[str, Any]] = []
    talk = np.zeros((2, n), dtype=np.float32)
    for i, text in enumerate(texts):
        shot_end = shot_starts[i + 1] if i + 1 < len(shot_starts) else seconds
        earliest = shot_starts[i] + LINE_LEAD_S
        for line in dialogue.find_lines(text):
            start, pan, source = place_line(line, i, earliest) if place_line else (earliest, 0.0, None)
            if start >= shot_end - 0.2:
                lines_info.append({"words": line.words, "voice": line.voice, "start": None,
                                   "note": "no time left in the shot for this line"})
                continue
            track, event = dialogue.place_line(line, start, pan, n, source=source)
            talk += track
            events.append(event)
            lines_info.append({"words": line.words, "voice": line.voice, "manner": line.manner,
                               "start": round(event.start, 4), "end": round(event.end, 4), "source": source})
            earliest = event.end + LINE_GAP_S
    joined = " ".join(texts)
    mood = music.mood_from_text(joined)
    score = None
    if mood:
        loudest = sorted(impacts or [], key=lambda x: -x[1])[:MAX_ACCENTS]
        score, music_events = music.score(seconds, mood, [s for s in shot_starts[1:]], [t for t, _ in loudest], seed)
        score = score[:, :n] if score.shape[1] >= n else np.pad(score, ((0, 0), (0, n - score.shape[1])))
        events.extend(music_events)
    beds = places.beds_from_text(joined)
    ambience = None
    if beds:
        ambience = np.sum([places.bed(kind, n / SAMPLE_RATE, seed)[:, :n] for kind in beds], axis=0)
        events.extend(SoundEvent("ambience", 0.0, seconds, detail={"bed": kind}) for kind in beds)
    elif default_ambience is not None:
        ambience = default_ambience
    if voices is not None:
        talk = talk + voices[:, :n].astype(np.float32)
    out, report = mix.mix(talk if talk.any() else None, effects, score, ambience,
                          target_lufs=mix.TARGET_LUFS if normalise else None, named_bed=bool(beds))
    if out.shape[-1] < n:
        out = np.pad(out, ((0, 0), (0, n - out.shape[-1])))
    info = {**report.to_dict(), "music": mood, "beds": beds}
    return Soundtrack(audio=out.astype(np.float32), events=events, mix=info, lines=lines_info)
