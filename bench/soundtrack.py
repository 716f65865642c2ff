"""Soundtrack bench: loudness of the mix over 20 varied prompts, and the engine's speed with a spoken line.

    python3 bench/soundtrack.py [--size 256] [--seconds 5]

Prints, per prompt, integrated loudness (pyloudnorm, BS.1770-4) and true peak (8× oversampled) of the
delivered audio, the mix's gain, what the soundtrack held, then the share within ±1 LU of −16 LUFS with true
peak ≤ −1 dBTP, and the world engine's real-time factor for a 5 s clip with one spoken line, with the line
synthesised (cold) and from the speech cache (warm).

The rule for a quiet clip (sora_lite/sound/mix.py): a mix is gained to the target when its foreground
(speech, effects, music) holds an audible event — a peak of at least −60 dBFS as synthesised; a clip whose
physics made no audible sound (or a bed alone) keeps the bed's own level, and its note says so. Such a clip
is counted apart, not as a miss.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy import signal  # noqa: E402

PROMPTS = [
    'a man in a suit says "welcome to the show" to the camera',
    "a red ball bounces on a wooden floor",
    "a bowling ball knocks down ten pins, close-up",
    "a dog runs along a beach at sunset",
    "two cars collide at an intersection in the rain",
    'a woman whispers "can you hear me" in a quiet kitchen',
    "a glass marble rolls toward a metal sphere, upbeat music",
    "a blue cube slides down a steep ramp and stops on the floor",
    "a horse gallops across a meadow, cinematic score",
    'a child shouts "look at that!" in a park',
    "a tennis ball drops onto a granite table, tense music",
    "a person walks through a forest on a windy day",
    "a steel ball drops onto a tile floor in an office",
    "a cat jumps onto a couch in a living room, lo-fi beat",
    "rain falls on a city street at night",
    'a man says "it is raining again" on a rainy street',
    "a basketball bounces in a gym, with music",
    "a boat rocks on the ocean, calm music",
    "three wooden blocks tumble off a table",
    "a crowd cheers at a stadium as a ball flies",
]


def measure(audio: np.ndarray, rate: int) -> tuple[float, float]:
    import pyloudnorm

    x = np.asarray(audio, dtype=np.float64)
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(x.T))
    tp = float(np.abs(signal.resample_poly(x, 8, 1, axis=-1)).max())
    return lufs, 20 * np.log10(tp) if tp > 0 else float("-inf")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    from sora_lite.engines.base import GenerationRequest
    from sora_lite.engines.world.engine import WorldEngine
    from sora_lite.sound import mix

    engine = WorldEngine()
    engine.generate(GenerationRequest(prompt="a ball", seconds=1, width=128, height=128))  # warm up
    ok = quiet = 0
    print(f"{'LUFS':>7} {'dBTP':>6} {'gain':>5}  soundtrack | prompt")
    for k, prompt in enumerate(PROMPTS):
        res = engine.generate(GenerationRequest(prompt=prompt, seconds=args.seconds, width=args.size,
                                                height=args.size, seed=k))
        lufs, tp = measure(res.clip.audio, res.clip.sample_rate)
        good = abs(lufs - mix.TARGET_LUFS) <= 1.0 and tp <= mix.TRUE_PEAK_DBTP + 0.05
        st = res.info.get("soundtrack", {})
        silent = not good and any(w in str(st.get("note", "")) for w in ("no audible event", "ambience only"))
        ok += good
        quiet += silent
        held = res.info["audio_source"].replace("simulated contacts", "contacts")
        note = f" [{st.get('note')}]" if st.get("note") else ""
        mark = "ok " if good else "QUIET" if silent else "OFF"
        print(f"{lufs:7.2f} {tp:6.2f} {st.get('gain_db') or 0:5.1f}  {mark} {held}{note} | {prompt}")
    print(f"\nloudness target met (−16 ±1 LUFS, ≤ −1 dBTP): {ok}/{len(PROMPTS)}; quiet by the rule above: {quiet}")

    line = 'a man says "good evening and welcome to the news" to the camera'
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SORA_LITE_CACHE_DIR"] = cache
        from sora_lite.sound import speech

        speech.speak.cache_clear()
        t0 = time.perf_counter()
        speech._voice()  # once per process (the app keeps it); a first clip in a fresh process pays it too
        print(f"Piper voice load (once per process, model patched for phoneme timings on first use): "
              f"{time.perf_counter() - t0:.2f} s")
        for label in ("line synthesised (not cached)", "line from the speech cache"):
            t0 = time.perf_counter()
            engine.generate(GenerationRequest(prompt=line, seconds=5, width=args.size, height=args.size, seed=1))
            wall = time.perf_counter() - t0
            print(f"world engine, 5 s at {args.size}² with one spoken line, {label}: {wall:.2f} s = "
                  f"{5 / wall:.1f}× real time")
            speech.speak.cache_clear()  # the second run reads the disk cache, as a new process would
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
