"""Reverse search (sora_lite/provenance/fingerprint.py): hit and false-match rates.
`PYTHONPATH=. python bench/fingerprint.py [--engine N] [--seconds S] [--real-seconds S]`.

The "store" holds N world-engine clips made by `create_clip` (256², visible + invisible mark, other prompts
and seeds) and the first S seconds of every real camera clip in ../shared/realfootage (standing in for
Hub-model output, which looks like camera footage). Each stored clip is then attacked — CRF 28 + half size +
10 % crop (centre, corner, or one side only) + mirror, written again with AAC sound (no C2PA) — and
looked up:

* hit: the best match is the clip it came from;
* false match (leave-one-out): the same query against the store *without* its source matches anything;
* other moment: a later, non-overlapping window of a long real clip (same camera, same scene) against the
  store, which holds only the first window — reported apart, since it is the same footage.

Prints per-attack rows and the distance margins (worst genuine vs best unrelated).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["SORA_LITE_HOME"] = tempfile.mkdtemp()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
from test_watermark import h264, half  # noqa: E402

from sora_lite.engines import GenerationRequest  # noqa: E402
from sora_lite.media import Clip, read_video, write_video  # noqa: E402
from sora_lite.provenance import fingerprint as fp  # noqa: E402
from sora_lite.studio import create_clip  # noqa: E402

REAL = ROOT.parent / "shared" / "realfootage"
PROMPTS = ["a yellow ball dropped from 1 metre", "a red rubber ball dropped from 1 metre onto a wooden floor",
           "three blue cubes on a table at night", "a row of dominoes on grass at sunset, orbit",
           "a green ball rolls down a ramp", "a white cube slides across an empty floor",
           "two balls collide on a grey floor", "a stack of boxes topples over", "a red ball dropped from 1 metre",
           "a yellow ball dropped from 2 metres", "a blue ball bounces on a trampoline", "a pendulum swings"]


def crop(frames: np.ndarray, where: str, keep: float = 0.9) -> np.ndarray:
    h, w = frames.shape[1:3]
    hh, ww = int(h * keep), int(w * keep)
    if where == "centre":
        return frames[:, (h - hh) // 2 : (h - hh) // 2 + hh, (w - ww) // 2 : (w - ww) // 2 + ww]
    if where == "corner":
        return frames[:, h - hh :, w - ww :]
    return frames[:, :, w - ww :]  # "side": 10 % off the left edge only (aspect changes)


ATTACKS = {f"crf28+half+crop10 {where}+mirror": (lambda f, w=where: crop(half(h264(f, 28)), w)[:, :, ::-1])
           for where in ("centre", "corner", "side")}


def attacked_file(clip: Clip, attack, path: Path) -> Path:
    frames = np.ascontiguousarray(attack(clip.frames))
    return write_video(Clip(frames, clip.fps, clip.audio, clip.sample_rate), path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", type=int, default=10, help="world-engine clips in the store")
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each engine clip")
    ap.add_argument("--from", dest="engine_dir", default=None,
                    help="use the .mp4 clips in this folder (made earlier by create_clip) instead of rendering")
    ap.add_argument("--real-seconds", type=float, default=5.0, help="window of each real clip that is stored")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    sources: dict[str, Clip] = {}
    paths: dict[str, Path] = {}
    made = sorted(Path(args.engine_dir).glob("*.mp4"))[: args.engine] if args.engine_dir else []
    for i, path in enumerate(made):
        sources[f"engine{i}"] = read_video(path)
        paths[f"engine{i}"] = path
    for i, prompt in enumerate(PROMPTS[: args.engine] if not made else []):
        request = GenerationRequest(prompt=prompt, seconds=args.seconds, width=256, height=256, fps=24, seed=i)
        rec = create_clip(request, work / f"engine{i}.mp4")
        sources[f"engine{i}"] = read_video(rec.video_path)
        paths[f"engine{i}"] = Path(rec.video_path)
    others: dict[str, Clip] = {}
    for path in sorted(REAL.glob("*.mp4")):
        sources[path.stem] = read_video(path, end=args.real_seconds)
        paths[path.stem] = write_video(sources[path.stem], work / f"stored_{path.stem}.mp4")
        seconds = len(read_video(path, with_audio=False).frames) / float(sources[path.stem].fps)
        if seconds >= 2 * args.real_seconds + 1.0:  # a later window that does not overlap the stored one
            others[path.stem] = read_video(path, start=args.real_seconds + 1.0, end=2 * args.real_seconds + 1.0)
    store: dict[str, fp.Fingerprint] = {}
    for name, path in paths.items():
        store[name] = fp.fingerprint_file(path, stored=True)
    print(f"store: {sum(k.startswith('engine') for k in store)} engine clips ({args.engine_dir or f'{args.seconds:g} s, 256²'}), "
          f"{sum(not k.startswith('engine') for k in store)} real clips (first {args.real_seconds:g} s); "
          f"built in {time.perf_counter() - t0:.0f} s")

    genuine: list[float] = []
    unrelated: list[tuple[float, str, str]] = []
    print(f"{'attack':38s} {'kind':7s} {'hits':>8s} {'false matches':>14s} {'by video':>9s} {'by sound':>9s} "
          f"{'worst genuine':>13s}")
    for aname, attack in ATTACKS.items():
        for kind in ("engine", "real"):
            names = [n for n in sources if n.startswith("engine") == (kind == "engine")]
            hits = false = by_video = by_sound = 0
            worst = 0.0
            for name in names:
                query = fp.fingerprint_file(attacked_file(sources[name], attack, work / "q.mp4"), stored=False)
                results = [fp.compare(query, other, fpr) for other, fpr in store.items()]
                own = next(r for r in results if r.clip_id == name)
                genuine.append(own.video_distance if own.video_distance is not None else 1.0)
                worst = max(worst, genuine[-1])
                rest = [r for r in results if r.clip_id != name]
                unrelated += [(r.video_distance or 1.0, name, r.clip_id) for r in rest]
                ranked = fp.search(query, store.items(), limit=1)
                hits += bool(ranked) and ranked[0].clip_id == name
                by_video += own.video_matched
                by_sound += own.audio_matched
                false += any(r.matched for r in rest)
            print(f"{aname:38s} {kind:7s} {hits:3d}/{len(names):<4d} {false:7d}/{len(names):<6d} "
                  f"{by_video:4d}/{len(names):<4d} {by_sound:4d}/{len(names):<4d} {worst:13.3f}", flush=True)
    later_matches = []
    for name, clip in others.items():
        query = fp.fingerprint_file(attacked_file(clip, lambda f: f, work / "q.mp4"), stored=False)
        later_matches += [r.clip_id for r in fp.search(query, store.items(), limit=5)]
    unrelated.sort()
    print(f"worst genuine distance {max(genuine):.3f} (threshold {fp.VIDEO_MAX_DISTANCE}); closest unrelated "
          + ", ".join(f"{d:.3f} ({a}→{b})" for d, a, b in unrelated[:4]))
    pairs = len(unrelated)
    print(f"unrelated query/stored pairs with video distance ≤ threshold: "
          f"{sum(d <= fp.VIDEO_MAX_DISTANCE for d, _, _ in unrelated)}/{pairs}")
    print(f"other moments of {len(others)} long real clips: matched {len(later_matches)} stored clips "
          f"({', '.join(sorted(set(later_matches))) or 'none'}) — same camera and scene, not the stored window")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
