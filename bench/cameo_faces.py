"""Why the cameo likeness threshold is dlib's 0.6: `python bench/cameo_faces.py [--frames 8]`.

No face data set can be downloaded here, so the pairs come from what is on disk:
- identities: scikit-image's astronaut (Eileen Collins), matplotlib's Grace Hopper photo, and the people in the
  real talking-head / speech clips of `../shared/realfootage/` (one person per clip), `--frames` frames each;
- same-person pairs: two frames of one clip (expression, mouth, small pose changes), and each still photo
  against its copies re-saved as JPEG (q 90/50/30), resized (½, ⅓), cropped, mirrored, brighter, darker,
  grey, colour-shifted, rotated 8°, blurred;
- different-person pairs: every face of one identity against every face of another; and scikit-image's
  LFW subset (about 100 tiny 25 px crops of unknown people, upscaled) against every identity (the LFW
  subset may contain one of our identities; any such pair would show up as a "different" pair below 0.6);
- small faces: each still shrunk so its face is 40/30/25/20/18 px, then enlarged back the way the output
  check does (`faces.detect_small_faces`), against the original.

Prints counts, min/median/max per group and the error rates at several thresholds (dlib reports 99.38 % on
LFW at 0.6 with this model; our pairs are far fewer and easier, so they check the choice, not replace it).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sora_lite.cameo import faces  # noqa: E402
from sora_lite.media import sample_frames  # noqa: E402

FOOTAGE = ROOT.parent / "shared" / "realfootage"
PEOPLE = ("av_talkinghead_retalk1.mp4", "av_talkinghead_retalk3.mp4", "av_talkinghead_news_kim.mp4",
          "av_speech_grid_bbaf2n.mp4", "av_speech_grid_lwbsza.mp4", "av_speech_tedx_lrs3.mp4", "av_drumming_kit.mp4")
THRESHOLDS = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7)


def embedding(image: np.ndarray, small: bool = False) -> np.ndarray | None:
    frame, found = faces.detect_small_faces(image) if small else (image, faces.detect_faces(image))
    if not found:
        return None
    vectors = faces.represent(frame, found[0])
    return np.asarray(vectors[0].vector) if vectors[0].method == faces.EMBEDDING_METHOD else None


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def variants(image: np.ndarray) -> dict[str, np.ndarray]:
    h, w = image.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.0)
    return {
        "jpeg90": jpeg(image, 90), "jpeg50": jpeg(image, 50), "jpeg30": jpeg(image, 30),
        "half": cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
        "third": cv2.resize(image, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA),
        "crop": image[h // 10: h - h // 10, w // 10: w - w // 10], "mirror": image[:, ::-1].copy(),
        "brighter": np.clip(image * 1.3 + 15, 0, 255).astype(np.uint8), "darker": (image * 0.6).astype(np.uint8),
        "grey": np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=-1),
        "colour": np.clip(image.astype(int) + [25, -10, -20], 0, 255).astype(np.uint8),
        "rotate8": cv2.warpAffine(image, rot, (w, h), borderMode=cv2.BORDER_REPLICATE),
        "blur": cv2.GaussianBlur(image, (0, 0), 1.2),
    }


def stills() -> dict[str, np.ndarray]:
    import matplotlib
    from skimage import data

    hopper = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return {"astronaut": data.astronaut(), "grace_hopper": np.asarray(Image.open(hopper).convert("RGB"))}


def summary(values: list[float]) -> str:
    if not values:
        return "n=0"
    v = np.asarray(values)
    return f"n={v.size} min={v.min():.3f} median={np.median(v):.3f} max={v.max():.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--json", type=Path, default=None, help="also write the distances here")
    args = ap.parse_args()
    if faces.representation_method() != faces.EMBEDDING_METHOD:
        sys.exit("needs dlib's embedding (pip install face_recognition_models)")

    identities: dict[str, list[np.ndarray]] = {}
    same_aug: list[float] = []
    small: dict[int, list[float]] = {}
    for name, image in stills().items():
        ref = embedding(image)
        identities[name] = [ref]
        for variant in variants(image).values():
            e = embedding(variant)
            if e is not None:
                same_aug.append(float(np.linalg.norm(e - ref)))
                identities[name].append(e)
        box = faces.detect_faces(image)[0]
        for side in (40, 30, 25, 20, 18):
            scale = side / box.w
            tiny = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            e = embedding(tiny, small=True)
            small.setdefault(side, []).append(float(np.linalg.norm(e - ref)) if e is not None else float("nan"))
    for clip in PEOPLE:
        path = FOOTAGE / clip
        if not path.is_file():
            continue
        frames, _ = sample_frames(path, args.frames)
        found = [e for e in (embedding(f, small=True) for f in frames) if e is not None]
        if found:
            identities[clip.removesuffix(".mp4")] = found

    same_video = [float(np.linalg.norm(a - b)) for name, es in identities.items() if name not in ("astronaut", "grace_hopper")
                  for a, b in combinations(es, 2)]
    different = [float(np.linalg.norm(a - b)) for (n1, e1), (n2, e2) in combinations(identities.items(), 2) for a in e1 for b in e2]
    closest_pair = min(((float(np.linalg.norm(a - b)), n1, n2) for (n1, e1), (n2, e2) in combinations(identities.items(), 2)
                        for a in e1 for b in e2), default=None)
    lfw: list[float] = []
    try:
        from skimage import data

        for face in data.lfw_subset()[:100]:
            grey = cv2.resize((face * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
            e = embedding(np.repeat(grey[..., None], 3, axis=-1))
            if e is not None:
                lfw += [float(np.linalg.norm(e - r)) for es in identities.values() for r in es]
    except Exception as exc:  # the LFW subset ships with scikit-image's data; say so if it is missing
        print(f"LFW subset skipped: {exc}")

    print(f"identities: {len(identities)} ({', '.join(f'{k}:{len(v)}' for k, v in identities.items())})")
    print(f"same person, re-saved/edited photo: {summary(same_aug)}")
    print(f"same person, two frames of one video: {summary(same_video)}")
    print(f"different people (our identities): {summary(different)}; closest: {closest_pair}")
    print(f"different people (LFW subset vs ours): {summary(lfw)}")
    for side, values in small.items():
        print(f"small face {side:>2} px, enlarged: " + ", ".join(f"{v:.3f}" for v in values))
    print("\n| threshold | same refused as different | different accepted as same (ours) | (LFW) |")
    print("|---|---|---|---|")
    same = same_aug + same_video
    for t in THRESHOLDS:
        fr = np.mean(np.asarray(same) >= t) if same else float("nan")
        fa = np.mean(np.asarray(different) < t) if different else float("nan")
        fl = np.mean(np.asarray(lfw) < t) if lfw else float("nan")
        print(f"| {t:.2f} | {fr:.1%} of {len(same)} | {fa:.2%} of {len(different)} | {fl:.2%} of {len(lfw)} |")
    if args.json:
        args.json.write_text(json.dumps({"same_aug": same_aug, "same_video": same_video, "different": different,
                                         "lfw": lfw, "small": small}))


if __name__ == "__main__":
    main()
