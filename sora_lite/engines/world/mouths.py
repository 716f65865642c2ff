"""Spoken lines planned before the shots are drawn, so a speaker's mouth moves with its line.

The soundtrack (sound/soundtrack.py) is mixed after the simulation, but the renderer draws each shot while
the next one simulates: the lines' start times, their speakers and the per-frame mouth openness must be known
first. This plans every quoted line of every shot (same rules as `soundtrack.compose`: a line starts
LINE_LEAD_S into its shot, the next LINE_GAP_S after the previous one's voice ends), synthesises it (cached),
and writes the openness (`sound.speech.mouth_openness`: by viseme from Piper's phoneme timings, or the speech
envelope at lag 0 where the voice gives none) into the qpos of the speaker's "mouth" slide (recipes._human)
before drawing.
The compose step then places each line exactly where it was planned, so picture and sound agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sora_lite.sound.dialogue import Line, find_lines, speaker_of
from sora_lite.sound.events import SoundEvent
from sora_lite.sound.soundtrack import LINE_GAP_S, LINE_LEAD_S
from sora_lite.sound.speech import mouth_openness, speak

MOUTH_TRAVEL = 2.6  # open mouth slide, in half-depths of the mouth box (recipes._human): shows through the face
MAX_TURN = math.radians(85)  # the head turns at most this far from the body toward whom it addresses
TURN_LEAD_S = 0.3
TURN_EASE_S = 0.25


@dataclass
class PlannedLine:
    line: Line
    shot: int
    start: float  # seconds from the clip's start (the first sample of the synthesised line)
    end: float  # end of its voice
    source: str | None  # the body that speaks it (None: heard, unplaced)


def plan_lines(prompts: list[str], shot_starts: list[float], seconds: float,
               names_per_shot: list[list[str]]) -> list[PlannedLine]:
    """Every quoted line, when it starts and who says it (a line with no time left in its shot is left out)."""
    out = []
    for i, text in enumerate(prompts):
        shot_end = shot_starts[i + 1] if i + 1 < len(shot_starts) else seconds
        earliest = shot_starts[i] + LINE_LEAD_S
        for line in find_lines(text):
            if earliest >= shot_end - 0.2:
                continue
            spoken = speak(line.words, line.voice)
            spans = spoken.spans or ((0.0, spoken.seconds),)
            end = earliest + spans[-1][1]
            out.append(PlannedLine(line, i, earliest, end, speaker_of(line.speaker, names_per_shot[i])))
            earliest = end + LINE_GAP_S
    return out


def unshifted_speech(event: SoundEvent, planned: dict[tuple[int, str], PlannedLine]) -> SoundEvent:
    """A speech event placed off its planned start (audio_shift) recorded at the picture's time, the shift in
    its detail."""
    p = next((q for q in planned.values() if event.kind == "speech" and q.line.words == event.words
              and q.source == event.source), None)
    if p is None:
        return event
    silence = (speak(p.line.words, p.line.voice).spans or ((0.0, 0.0),))[0][0]  # before the voice begins
    moved = event.start - silence - p.start  # how far the line was placed off its planned start
    detail = {**event.detail, "audio_shift_s": round(moved, 4),
              "spans": [[round(a - moved, 3), round(b - moved, 3)] for a, b in event.detail.get("spans", [])]}
    return replace(event, start=event.start - moved, end=event.end - moved, detail=detail)


def openness_by_speaker(lines: list[PlannedLine], fps: float, n_frames: int) -> dict[str, np.ndarray]:
    """Per speaking body, its mouth's openness (0–1) in every frame of the clip."""
    out: dict[str, np.ndarray] = {}
    for p in lines:
        if p.source is None:
            continue
        spoken = speak(p.line.words, p.line.voice)
        o = mouth_openness(spoken.audio, p.start, fps, n_frames, spoken.phonemes)
        out[p.source] = np.maximum(out.get(p.source, np.zeros(n_frames)), o)
    return out


def turn_weights(lines: list[PlannedLine], fps: float, n_frames: int) -> dict[str, np.ndarray]:
    """Per speaking body, how far (0–1) its head is turned toward whom it addresses in each frame: fully while
    it speaks (from TURN_LEAD_S before to TURN_LEAD_S after), easing in and out over TURN_EASE_S."""
    t = np.arange(n_frames) / fps
    out: dict[str, np.ndarray] = {}
    for p in lines:
        if p.source is None:
            continue
        a, b = p.start - TURN_LEAD_S, p.end + TURN_LEAD_S
        w = np.clip(np.minimum(t - (a - TURN_EASE_S), (b + TURN_EASE_S) - t) / TURN_EASE_S, 0.0, 1.0)
        out[p.source] = np.maximum(out.get(p.source, np.zeros(n_frames)), w)
    return out


def addressees(lines: list[PlannedLine], people: list[str]) -> dict[str, str | None]:
    """Whom each speaker faces: another person in the scene unless the line is said to the camera (None)."""
    out: dict[str, str | None] = {}
    for p in lines:
        if p.source is None or p.source in out:
            continue
        said_to_camera = any(w in p.line.speaker.lower() or w in p.line.words.lower() for w in ("camera", "viewer"))
        others = [n for n in people if n != p.source]
        out[p.source] = None if said_to_camera or not others else others[0]
    return out


def is_person(recipe: str) -> bool:
    from sora_lite.engines.world import recipes as R

    return R.recipes().get(recipe, {}).get("mover") == "person"


def _joint(model: Any, prefix: str, role: str) -> int | None:
    import mujoco

    for j in range(model.njnt):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or ""
        if name.startswith(prefix + "_a") and name.endswith("_" + role):
            return j
    return None


def pose_mouths(model: Any, scene: Any, qpos: np.ndarray, start_frame: int, openness: dict[str, np.ndarray],
                turn: dict[str, np.ndarray] | None = None, facing: dict[str, str | None] | None = None,
                poses: list[Any] | None = None) -> dict[str, np.ndarray]:
    """Write each speaker's mouth openness, and its head's turn toward whom it addresses (the camera, or
    another person), into the segment's qpos (n×nq, in place). Returns each speaker's mouth position in the
    world in every frame of the segment (n×3, the front of the mouth), for the ground truth's pixels."""
    import mujoco

    n = qpos.shape[0]
    where: dict[str, np.ndarray] = {}
    index = {b.name: b.index for b in scene.bodies}
    data = None
    for name, o in openness.items():
        if name not in index:
            continue
        prefix = f"obj{index[name]}"
        jm, jl = _joint(model, prefix, "mouth"), _joint(model, prefix, "look")
        if jm is None:
            continue
        if data is None:
            data = mujoco.MjData(model)
        adr = int(model.jnt_qposadr[jm])
        geom = next(g for g in range(model.ngeom) if int(model.geom_bodyid[g]) == int(model.jnt_bodyid[jm]))
        half = float(np.abs(model.geom_size[geom] @ model.jnt_axis[jm]))  # the box's half depth along its slide
        travel = MOUTH_TRAVEL * half
        qpos[:, adr] = o[start_frame:start_frame + n] * travel
        w = (turn or {}).get(name)
        target_body = (facing or {}).get(name)
        pts = np.empty((n, 3))
        for i in range(n):
            data.qpos[:] = qpos[i]
            if jl is not None and w is not None and poses is not None and w[start_frame + i] > 0:
                la = int(model.jnt_qposadr[jl])
                data.qpos[la] = 0.0
                mujoco.mj_kinematics(model, data)
                head = data.geom_xpos[geom]
                if target_body is not None and target_body in index:
                    tb = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"obj{index[target_body]}")
                    target = data.xpos[tb] if tb >= 0 else poses[i].position()
                else:
                    target = poses[i].position()
                face = data.xaxis[jm]  # the mouth opens toward where the face looks
                d = np.asarray(target, dtype=float) - head
                angle = math.atan2(face[0] * d[1] - face[1] * d[0], face[0] * d[0] + face[1] * d[1])
                angle = float(np.clip(angle, -MAX_TURN, MAX_TURN)) * float(w[start_frame + i])
                qpos[i, la] = angle
                data.qpos[la] = angle
            data.qpos[adr] = 0.0  # the closed mouth's place, whatever the opening
            mujoco.mj_kinematics(model, data)
            pts[i] = data.geom_xpos[geom] + data.xaxis[jm] * (travel * 0.5 + half)
        where[name] = pts
    return where
