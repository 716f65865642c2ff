"""Golden tests of the FVD protocols against re-implementations of the reference tools' own lines.

Each `ref_*` helper below re-types the few lines of the reference file it names (the same calls, the same
order), so a test fails as soon as our preparation, offsets or statistics drift from the reference. Each
test also shows that the project's own "sora-lite" path differs there, i.e. that it would have failed on
the code before the protocols existed.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from eval.features.i3d import CLIP_FRAMES, I3DFeatures, center_square
from eval.features.prepare import (
    cdfvd_clip,
    clip_start,
    stylegan_v_frame,
)
from eval.metrics.fvd import FVD
from eval.protocols import FVD_PROTOCOLS, PUBLISHED_N, comparability, fvd_protocol

# --- StyleGAN-V -----------------------------------------------------------------------------------------

def ref_stylegan_v_prepare(frame: np.ndarray, target_size: int) -> np.ndarray:
    """src/scripts/convert_videos_to_frames.py `process_video` (one frame), then the dataset's PIL load."""
    import torchvision.transforms.functional as TVF
    from PIL import Image

    frame = Image.fromarray(frame)
    frame = TVF.resize(frame, size=target_size, interpolation=Image.LANCZOS)
    frame = TVF.center_crop(frame, output_size=(target_size, target_size))
    f = io.BytesIO()
    frame.save(f, format="JPEG", q=95)  # the reference's call: PIL ignores `q`
    f.seek(0)
    return np.array(Image.open(f))


class ref_FeatureStats:
    """src/metrics/metric_utils.py FeatureStats (capture_mean_cov=True)."""

    def __init__(self, max_items: int | None = None) -> None:
        self.max_items, self.num_items, self.raw_mean, self.raw_cov = max_items, 0, None, None

    def append(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32)
        if (self.max_items is not None) and (self.num_items + x.shape[0] > self.max_items):
            if self.num_items >= self.max_items:
                return
            x = x[: self.max_items - self.num_items]
        if self.raw_mean is None:
            self.raw_mean = np.zeros([x.shape[1]], dtype=np.float64)
            self.raw_cov = np.zeros([x.shape[1], x.shape[1]], dtype=np.float64)
        self.num_items += x.shape[0]
        x64 = x.astype(np.float64)
        self.raw_mean += x64.sum(axis=0)
        self.raw_cov += x64.T @ x64

    def get_mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        mean = self.raw_mean / self.num_items
        cov = self.raw_cov / self.num_items
        cov = cov - np.outer(mean, mean)
        return mean, cov


def ref_compute_fvd(real: np.ndarray, fake: np.ndarray, max_items: int = PUBLISHED_N) -> float:
    """src/metrics/frechet_video_distance.py `compute_fvd`'s arithmetic on two feature sets."""
    stats_real, stats_gen = ref_FeatureStats(max_items), ref_FeatureStats(max_items)
    stats_real.append(real)
    stats_gen.append(fake)
    mu_real, sigma_real = stats_real.get_mean_cov()
    mu_gen, sigma_gen = stats_gen.get_mean_cov()
    m = np.square(mu_gen - mu_real).sum()
    s, _ = scipy.linalg.sqrtm(np.dot(sigma_gen, sigma_real), disp=False)
    return float(np.real(m + np.trace(sigma_gen + sigma_real - s * 2)))


def ref_random_offset(num_frames_available: int, load_n_consecutive: int = 16, subsample_factor: int = 1) -> int:
    """src/training/dataset.py VideoFramesFolderDataset.__getitem__ (random offset branch)."""
    return random.randint(0, num_frames_available - load_n_consecutive * subsample_factor + subsample_factor - 1)


@pytest.mark.parametrize("shape,size", [((64, 64), 64), ((96, 96), 64), ((90, 160), 64), ((97, 160), 64),
                                        ((160, 90), 48), ((120, 213), 128)])
def test_stylegan_v_frame_preparation_equals_reference(shape: tuple[int, int], size: int) -> None:
    rng = np.random.default_rng(sum(shape))
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    frame = np.stack([(xx * 255 // w), (yy * 255 // h), rng.integers(0, 256, (h, w))], -1).astype(np.uint8)
    ours = stylegan_v_frame(frame, size)
    np.testing.assert_array_equal(ours, ref_stylegan_v_prepare(frame, size))
    assert ours.shape == (size, size, 3)
    if shape != (size, size):  # the sora-lite path (centre square at native size) is not what the reference feeds
        assert center_square(frame[None])[0].shape != ours.shape or not np.array_equal(center_square(frame[None])[0], ours)


def test_stylegan_v_jpeg_is_pils_default_quality() -> None:
    """The reference's `q=95` is not a PIL keyword: the saved files are quality 75, and so are ours."""
    from PIL import Image

    frame = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    ours = stylegan_v_frame(frame, 32)
    q95 = io.BytesIO()
    Image.fromarray(frame).save(q95, format="JPEG", quality=95)
    assert not np.array_equal(ours, np.array(Image.open(q95)))
    np.testing.assert_array_equal(ours, ref_stylegan_v_prepare(frame, 32))


class RecordingI3D(torch.nn.Module):
    """The TorchScript I3D's call signature; features = [dtype is uint8, min, max, T, H, W, first-frame mean]."""

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        was_uint8 = torch.full((x.shape[0], 1), float(x.dtype == torch.uint8))
        if rescale:
            x = x.float() / 127.5 - 1.0
        x = x.float()
        b = x.shape[0]
        return torch.cat([
            was_uint8,
            x.reshape(b, -1).amin(1, keepdim=True),
            x.reshape(b, -1).amax(1, keepdim=True),
            torch.full((b, 1), float(x.shape[2])),
            torch.full((b, 1), float(x.shape[3])),
            torch.full((b, 1), float(x.shape[4])),
            x[:, :, 0].reshape(b, -1).mean(1, keepdim=True),
        ], 1)


def counting_video(t: int, h: int = 36, w: int = 64) -> np.ndarray:
    """Frame k is flat grey 8·k: a clip's first frame tells where it started."""
    return np.broadcast_to((np.arange(t) * 8).astype(np.uint8)[:, None, None, None], (t, h, w, 3)).copy()


def start_of(feature: np.ndarray) -> int:
    return int(round((feature[6] + 1.0) * 127.5 / 8))


@pytest.mark.slow
def test_stylegan_v_feeds_uint8_prepared_clips_and_offsets_real_side_only() -> None:
    proto = fvd_protocol("stylegan-v")
    extractor = I3DFeatures(RecordingI3D(), feature_dim=7, protocol=proto, seed=3)
    video = counting_video(30)
    real = extractor([video] * 6, real=True)
    fake = extractor([video] * 6, real=False)
    assert (real[:, 0] == 1).all() and (fake[:, 0] == 1).all()  # uint8 in, rescale=True as the reference calls it
    assert (real[:, 3] == CLIP_FRAMES).all() and (real[:, 4:6] == proto.resolution).all()
    assert [start_of(f) for f in fake] == [0] * 6  # generated side: from frame 0
    starts = [start_of(f) for f in real]
    assert all(0 <= s <= 30 - CLIP_FRAMES for s in starts) and len(set(starts)) > 1
    again = I3DFeatures(RecordingI3D(), feature_dim=7, protocol=proto, seed=3)([video] * 6, real=True)
    assert [start_of(f) for f in again] == starts  # seeded: the same offsets on a rerun
    # The uint8 clip equals the reference's preparation of the frames at those offsets.
    clip = extractor.clip_tensor(video, real=False)
    assert clip.dtype == torch.uint8
    expected = np.stack([ref_stylegan_v_prepare(f, 256) for f in video[:CLIP_FRAMES]])
    np.testing.assert_array_equal(clip.permute(1, 2, 3, 0).numpy(), expected)
    # sora-lite (the old path): float [-1, 1], first frames on both sides, native-size square.
    old = I3DFeatures(RecordingI3D(), feature_dim=7)([video] * 2, real=True)
    assert (old[:, 0] == 0).all() and (old[:, 4] == 36).all() and [start_of(f) for f in old] == [0, 0]


def test_offset_policy_matches_reference_range() -> None:
    random.seed(0)
    ref = {ref_random_offset(20) for _ in range(400)}
    rng = np.random.default_rng(0)
    ours = {clip_start(20, 16, "random", rng) for _ in range(400)}
    assert ours == ref == set(range(5))  # uniform over every full 16-frame window, both ends included
    assert clip_start(20, 16, "first", None) == 0
    with pytest.raises(Exception, match="16 frames"):
        clip_start(10, 16, "random", rng)


@pytest.mark.parametrize("n_real,n_fake,dim", [(300, 250, 12), (64, 64, 40)])
def test_stylegan_v_statistics_equal_reference(n_real: int, n_fake: int, dim: int) -> None:
    rng = np.random.default_rng(n_real + dim)
    mix = rng.normal(size=(dim, dim))
    real = rng.normal(size=(n_real, dim)) @ mix
    fake = rng.normal(0.2, 1.1, size=(n_fake, dim)) @ mix
    expected = ref_compute_fvd(real, fake)
    ours = FVD(feature_dim=dim, bootstrap_rounds=0, protocol="stylegan-v")
    ours.update_features(real.astype(np.float32), real=True)  # the extractor hands float32-rounded features
    ours.update_features(fake.astype(np.float32), real=False)
    got = ours.compute()
    assert got["fvd"] == pytest.approx(expected, rel=1e-7)
    old = FVD(feature_dim=dim, bootstrap_rounds=0)  # sora-lite: ÷(N−1)
    old.update_features(real.astype(np.float32), real=True)
    old.update_features(fake.astype(np.float32), real=False)
    assert abs(old.compute()["fvd"] - expected) / expected > 1e-4
    assert got["protocol"] == "stylegan-v" and got["n_real"] == n_real


def test_n_is_capped_at_2048_and_small_n_is_labelled_not_comparable() -> None:
    rng = np.random.default_rng(11)
    real, fake = rng.normal(size=(2100, 4)), rng.normal(size=(2050, 4)) + 0.1
    metric = FVD(feature_dim=4, bootstrap_rounds=0, protocol="stylegan-v")
    metric.update_features(real[:1500], real=True)
    metric.update_features(real[1500:], real=True)
    metric.update_features(fake, real=False)
    got = metric.compute()
    assert (got["n_real"], got["n_fake"]) == (PUBLISHED_N, PUBLISHED_N)
    assert got["fvd"] == pytest.approx(ref_compute_fvd(real, fake), rel=1e-6)
    assert "computed as published" in got["comparability"]
    small = FVD(feature_dim=4, bootstrap_rounds=0, protocol="stylegan-v")
    small.update_features(real[:120], real=True)
    small.update_features(fake[:100], real=False)
    label = small.compute()["comparability"]
    assert "not comparable with published FVD (N=100" in label
    assert "not comparable" in comparability(fvd_protocol("sora-lite"), 5000)


def test_fvd_set_score_carries_the_label_into_the_report() -> None:
    from eval.scoring import fvd_set_score

    rng = np.random.default_rng(2)
    s = fvd_set_score(rng.normal(size=(40, 3)), rng.normal(size=(50, 3)), protocol="stylegan-v")
    assert s.n == 40 and "not comparable with published FVD (N=40" in s.warning


# --- cd-FVD ---------------------------------------------------------------------------------------------

def ref_cdfvd_preprocess(video: torch.Tensor, resolution: int, sequence_length: int | None = None) -> torch.Tensor:
    """cdfvd/utils/data_utils.py `preprocess` (video: THWC uint8) → CTHW float."""
    video = video.permute(0, 3, 1, 2).float() / 255.
    t, c, h, w = video.shape
    if sequence_length is not None:
        video = video[:sequence_length]
    scale = resolution / min(h, w)
    if h < w:
        target_size = (resolution, math.ceil(w * scale))
    else:
        target_size = (math.ceil(h * scale), resolution)
    video = F.interpolate(video, size=target_size, mode='bilinear', align_corners=False, antialias=True)
    t, c, h, w = video.shape
    w_start = (w - resolution) // 2
    h_start = (h - resolution) // 2
    video = video[:, :, h_start:h_start + resolution, w_start:w_start + resolution]
    return video.permute(1, 0, 2, 3).contiguous()


@pytest.mark.parametrize("shape,resolution", [((48, 48), 32), ((45, 80), 32), ((81, 45), 40), ((72, 128), 256)])
def test_cdfvd_loader_equals_reference(shape: tuple[int, int], resolution: int) -> None:
    video = np.random.default_rng(shape[0]).integers(0, 256, (4, *shape, 3), dtype=np.uint8)
    ours = cdfvd_clip(video, resolution)  # T×C×R×R
    ref = ref_cdfvd_preprocess(torch.from_numpy(video), resolution).permute(1, 0, 2, 3)
    torch.testing.assert_close(ours, ref, rtol=0, atol=0)


def tiny_videomae(directory: Path, image_size: int = 32) -> Path:
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    config = VideoMAEConfig(image_size=image_size, patch_size=16, num_frames=16, tubelet_size=2, hidden_size=16,
                            num_hidden_layers=1, num_attention_heads=2, intermediate_size=24, num_labels=3,
                            use_mean_pooling=True)
    torch.manual_seed(0)
    VideoMAEForVideoClassification(config).save_pretrained(directory)
    return directory


def test_cdfvd_protocol_feeds_the_model_what_cdfvd_does(tmp_path: Path) -> None:
    """Loader (short side 256, crop) then preprocess_videomae's bilinear squash to the model's size."""
    from eval.features.videomae import VideoMAEFeatures

    folder = tiny_videomae(tmp_path / "vm")
    video = np.random.default_rng(4).integers(0, 256, (16, 45, 80, 3), dtype=np.uint8)  # 16:9, exactly 16 frames
    ours = VideoMAEFeatures.load(folder, protocol=fvd_protocol("cd-fvd")).clip_tensor(video)
    loader = ref_cdfvd_preprocess(torch.from_numpy(video), 256)  # CTHW
    expected = F.interpolate(loader.permute(1, 0, 2, 3), size=(32, 32), mode="bilinear", align_corners=False)
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    old = VideoMAEFeatures.load(folder).clip_tensor(video)  # sora-lite squashes the whole 16:9 frame
    assert (old - expected).abs().max() > 0.05
    # Both sides draw a seeded random clip.
    long = counting_video(24, 40, 40)
    a = VideoMAEFeatures.load(folder, protocol=fvd_protocol("cd-fvd"), seed=5)
    starts = {round(float(a.clip_tensor(long, real=False)[0].mean()) * 255 / 8) for _ in range(12)}
    assert len(starts) > 1 and starts <= set(range(9))


def test_presets_are_data_with_honest_labels() -> None:
    assert set(FVD_PROTOCOLS) == {"sora-lite", "stylegan-v", "cd-fvd"}
    assert "ViT-g" in FVD_PROTOCOLS["cd-fvd"].not_reproduced and "NOT" in FVD_PROTOCOLS["cd-fvd"].not_reproduced
    assert FVD_PROTOCOLS["stylegan-v"].cov_ddof == 0 and FVD_PROTOCOLS["sora-lite"].cov_ddof == 1
    with pytest.raises(ValueError, match="choose from"):
        fvd_protocol("tats")


def test_scorer_and_cli_pick_the_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eval.run import build_parser, config_from_args
    from eval.scoring import ScorerOptions, make_scorers, scorer_settings

    file = tmp_path / "i3d.pt"
    torch.jit.script(RecordingI3D()).save(str(file))
    scorers = make_scorers(["fvd", "clip"], ScorerOptions(fvd_protocol="stylegan-v", fvd_model=str(file),
                                                           clip_protocol="evalcrafter"))
    settings = scorer_settings(scorers)
    assert settings["fvd"].endswith("protocol=stylegan-v seed=0") and settings["clip"].endswith("protocol=evalcrafter")
    assert "openai/clip-vit-base-patch32" in settings["clip"]
    scorers["fvd"].setup()
    assert scorers["fvd"].extractor.protocol.name == "stylegan-v"
    assert "not cd-FVD's ViT-g" in scorer_settings(make_scorers(["fvd"], ScorerOptions(fvd_protocol="cd-fvd")))["fvd"]
    args = build_parser().parse_args(["--fvd-protocol", "stylegan-v", "--clip-protocol", "vbench"])
    config = config_from_args(args)
    assert (config.fvd_protocol, config.clip_protocol) == ("stylegan-v", "vbench")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*compute.*called before")
def run_stylegan_v(tmp_path: Path, gen_frames: int, extra: list[str] | None = None) -> tuple[Path, Path, Path, Path]:
    """3 generated and 3 reference MP4s, a tiny I3D TorchScript file, and `eval.run --fvd-protocol stylegan-v`."""
    from eval_fixtures import moving_square, write

    from eval import run as eval_run

    file = tmp_path / "i3d.pt"
    torch.jit.script(RecordingI3D()).save(str(file))
    gen, ref = tmp_path / "gen", tmp_path / "ref"
    gen.mkdir(), ref.mkdir()
    for k in range(3):
        write(gen / f"g{k}.mp4", moving_square(gen_frames, color=(200, 40 * k, 30)))
        write(ref / f"r{k}.mp4", moving_square(24, color=(30, 200, 40 * k)))
    out = tmp_path / "out"
    assert eval_run.main(["--generator", f"videos:{gen}", "--metrics", "fvd", "--fvd-protocol", "stylegan-v",
                          "--fvd-model", str(file), "--reference", f"videos:{ref}", "--out", str(out),
                          "--no-progress", *(extra or [])]) == 0
    return file, gen, ref, out


@pytest.mark.slow  # a fresh interpreter / end to end; the quick tier keeps this module's other tests
def test_cli_stylegan_v_end_to_end(tmp_path: Path) -> None:
    """`--fvd-protocol stylegan-v`: the number equals the reference pipeline on the same files, N and the
    protocol reach the leaderboard's settings and the report's not-comparable label."""
    import pandas as pd

    from sora_lite.media import read_video

    file, gen, ref, out = run_stylegan_v(tmp_path, gen_frames=20, extra=["--no-fvd-resample"])
    row = pd.read_csv(out / "leaderboard.csv", keep_default_na=False).iloc[0]
    assert row["fvd_n"] == 3 and "protocol=stylegan-v" in row["settings"]
    assert "not comparable with published FVD (N=3" in (out / "report.md").read_text()
    # The reference pipeline on the same decoded files: prepare, detector(uint8, rescale=True), FeatureStats ÷N.
    detector = torch.jit.load(str(file))
    real_extractor = I3DFeatures(detector, feature_dim=7, protocol=fvd_protocol("stylegan-v"), seed=0)
    real = real_extractor([read_video(p).frames for p in sorted(ref.glob("*.mp4"))], real=True)

    def ref_feats(video: np.ndarray, start: int) -> np.ndarray:
        clip = np.stack([ref_stylegan_v_prepare(f, 256) for f in video[start:start + 16]])
        x = torch.from_numpy(clip).permute(3, 0, 1, 2)[None]
        return detector(x, rescale=True, resize=True, return_features=True).numpy()[0]

    fake = np.stack([ref_feats(read_video(p).frames, 0) for p in sorted(gen.glob("*.mp4"))])
    rng = np.random.default_rng(0)  # the run's seed (--seeds 0): the same offsets, drawn file by file in order
    real_ref = np.stack([ref_feats(read_video(p).frames, clip_start(24, 16, "random", rng))
                         for p in sorted(ref.glob("*.mp4"))])
    np.testing.assert_allclose(real, real_ref, rtol=0, atol=1e-6)
    assert row["fvd_mean"] == pytest.approx(ref_compute_fvd(real_ref, fake), rel=1e-6)


def test_resample_passes_reach_the_protocols_n() -> None:
    from eval.protocols import resample_passes

    assert resample_passes(fvd_protocol("cd-fvd"), 120) == 18  # 18 × 120 = 2160 ≥ 2048, 17 × 120 < 2048
    assert resample_passes(fvd_protocol("stylegan-v"), 2048) == 1
    assert resample_passes(fvd_protocol("stylegan-v"), 3) == 683
    assert resample_passes(fvd_protocol("sora-lite"), 3) == 1  # the project's own protocol never re-samples
    assert resample_passes(fvd_protocol("cd-fvd"), 3, enabled=False) == 1


def test_fake_features_are_drawn_pass_by_pass_like_cdfvds_loader() -> None:
    """cd-FVD loops over the whole fake set, then again with fresh clips: pass-major order, so the cap at
    2048 drops the last pass's tail, never one video's extra clips."""
    from eval.scoring import fake_feature_set

    a = [[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]  # video 1: three clips
    b = [[2.0, 0.0], [2.0, 1.0], [2.0, 2.0]]
    rows, videos = fake_feature_set([a, b])
    assert videos == 2
    assert rows.tolist() == [[1, 0], [2, 0], [1, 1], [2, 1], [1, 2], [2, 2]]
    single, n = fake_feature_set([[0.5, 0.5], [0.1, 0.2]])  # one vector per video, as without re-sampling
    assert n == 2 and single.shape == (2, 2)


def test_scorer_draws_extra_random_clips_after_the_protocols_own() -> None:
    from eval.scoring import FVDScorer, ScorerOptions
    from sora_lite.media import Clip

    class Stub:
        name = "stub"

        def __init__(self) -> None:
            self.calls: list[tuple[int, str | None]] = []

        def __call__(self, videos, real=False, offset=None):
            self.calls.append((len(videos), offset))
            return np.array([[1.0 if offset == "random" else 0.0, float(k)] for k in range(len(videos))])

    scorer = FVDScorer(ScorerOptions(fvd_protocol="cd-fvd"))
    scorer.extractor = Stub()
    scorer.plan([40, 200])  # the smallest suite decides: ceil(2048 / 40) = 52 clips per video
    assert scorer.passes == 52 and "clips_per_video=52" in scorer.settings()
    video = np.zeros((20, 8, 8, 3), dtype=np.uint8)
    out = scorer.score(Clip(frames=video, fps=8.0), None)
    assert len(out.feature) == 52 and out.feature[0][0] == 0.0 and all(f[0] == 1.0 for f in out.feature[1:])
    assert scorer.extractor.calls == [(1, None), (51, "random")]
    scorer.plan([40], resample=False)
    assert scorer.passes == 1 and "clips_per_video" not in scorer.settings()


def test_resampled_label_says_how_many_videos() -> None:
    from eval.scoring import fvd_set_score

    rng = np.random.default_rng(0)
    ref = rng.normal(size=(2100, 4))
    fake = rng.normal(size=(2100, 4))
    cd = fvd_set_score(fake, ref, protocol="cd-fvd", videos=120)
    assert cd.n == 2048 and "re-sampled from 120 generated videos, as cd-FVD's loader does" in cd.warning
    sg = fvd_set_score(fake, ref, protocol="stylegan-v", videos=120)
    assert "not comparable" in sg.warning and "only 120 generated videos" in sg.warning
    plain = fvd_set_score(fake, ref, protocol="cd-fvd")
    assert "computed as published" in plain.warning and "re-sampled" not in plain.warning


@pytest.mark.slow
def test_cli_resamples_generated_clips_up_to_n(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through `eval.run`: with N lowered to 6 for the test, 3 generated videos give 2 clips each, N=6 reaches
    the leaderboard, the settings say so and the report names the 3 videos behind the 6 clips."""
    import dataclasses

    import pandas as pd

    from eval import protocols

    monkeypatch.setitem(protocols.FVD_PROTOCOLS, "stylegan-v",
                        dataclasses.replace(protocols.FVD_PROTOCOLS["stylegan-v"], max_items=6))
    _, _, _, out = run_stylegan_v(tmp_path, gen_frames=24)
    row = pd.read_csv(out / "leaderboard.csv", keep_default_na=False).iloc[0]
    assert row["fvd_n"] == 6 and "clips_per_video=2" in row["settings"]
    report = (out / "report.md").read_text()
    assert "N=6 < 2048" in report  # still below the published N, so still not comparable
