"""FVD: Fréchet distance vs scipy and a closed form, mergeable states, extractors on tiny random nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from eval.features.i3d import CLIP_FRAMES, I3DFeatures, i3d_path
from eval.features.videomae import VideoMAEFeatures, load_videomae
from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frechet import frechet_distance, moments
from eval.metrics.fvd import FVD, reference_features, score_sample


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """scipy.linalg.sqrtm of Σ1Σ2 on np.cov moments — covariance ÷(N−1), the "sora-lite" protocol's, NOT the
    references' ÷N (their FeatureStats arithmetic is golden-tested in tests/test_protocols_fvd.py)."""
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.real(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * root)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_matches_scipy_sqrtm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 24
    mix = rng.normal(size=(d, d))
    a = rng.normal(size=(200, d)) @ mix
    b = rng.normal(size=(150, d)) @ (mix + 0.3 * rng.normal(size=(d, d))) + 0.5
    ma, mb = moments(a), moments(b)
    ours = frechet_distance(ma.mean, ma.cov, mb.mean, mb.cov)
    assert ours == pytest.approx(scipy_frechet(a, b), rel=1e-4)


def test_eigh_path_matches_scipy_when_cholesky_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(120, 16)), rng.normal(size=(90, 16)) * 2 - 0.3

    def no_cholesky(_: np.ndarray) -> np.ndarray:
        raise np.linalg.LinAlgError("forced")

    monkeypatch.setattr(np.linalg, "cholesky", no_cholesky)
    ma, mb = moments(a), moments(b)
    assert frechet_distance(ma.mean, ma.cov, mb.mean, mb.cov) == pytest.approx(scipy_frechet(a, b), rel=1e-4)


def test_frechet_closed_form_isotropic_gaussians() -> None:
    d = 10
    mu1, mu2 = np.full(d, 0.5), np.linspace(-1, 1, d)
    s1, s2 = 0.7, 2.0
    expected = float(((mu1 - mu2) ** 2).sum() + d * (s1 - s2) ** 2)
    got = frechet_distance(mu1, s1**2 * np.eye(d), mu2, s2**2 * np.eye(d))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_identical_and_singular() -> None:
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(5, 32))  # N < d: rank-deficient covariance
    m = moments(feats)
    assert frechet_distance(m.mean, m.cov, m.mean, m.cov) == pytest.approx(0.0, abs=1e-8)
    other = moments(rng.normal(size=(6, 32)) + 1.0)
    value = frechet_distance(m.mean, m.cov, other.mean, other.cov)
    assert np.isfinite(value) and value > 20


def test_fvd_states_merge_equal_one_pass_and_report_n() -> None:
    rng = np.random.default_rng(4)
    real, fake = rng.normal(size=(60, 8)), rng.normal(size=(50, 8)) * 1.5 + 0.2
    whole = FVD(feature_dim=8, bootstrap_rounds=50, seed=1)
    whole.update_features(real, real=True)
    whole.update_features(fake, real=False)
    first, second = FVD(feature_dim=8, bootstrap_rounds=50, seed=1), FVD(feature_dim=8, bootstrap_rounds=50, seed=1)
    first.update_features(real[:25], real=True)
    first.update_features(fake[:30], real=False)
    second.update_features(real[25:], real=True)
    second.update_features(fake[30:], real=False)
    first.merge_state(second)
    a, b = whole.compute(), first.compute()
    assert a["fvd"] == pytest.approx(b["fvd"], rel=1e-10)
    assert a["fvd"] == pytest.approx(scipy_frechet(real, fake), rel=1e-4)
    assert (a["n_real"], a["n_fake"]) == (60, 50) == (b["n_real"], b["n_fake"])
    assert a["ci_low"] < a["fvd"] < a["ci_high"]
    assert (a["ci_low"], a["ci_high"]) == pytest.approx((b["ci_low"], b["ci_high"]))
    assert "N=50" in a["warning"]


def test_fvd_moments_reference_and_control() -> None:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=(400, 6))
    same, shifted = rng.normal(size=(300, 6)), rng.normal(size=(300, 6)) + 0.8
    results = []
    for fake in (same, shifted):
        metric = FVD(feature_dim=6, bootstrap_rounds=20)
        m = moments(ref)
        metric.update_moments(m.mean, m.cov, m.n, real=True)
        metric.update_features(fake)
        results.append(metric.compute())
    assert results[0]["fvd"] < 0.2 < 1.5 < results[1]["fvd"]
    assert results[1]["fvd"] == pytest.approx(scipy_frechet(ref, shifted), rel=1e-4)
    with pytest.raises(MetricInputError):
        FVD(feature_dim=6).compute()


def test_reference_features_from_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    np.save(tmp_path / "a.npy", rng.normal(size=(3, 4)))
    np.savez(tmp_path / "b.npz", features=rng.normal(size=(2, 4)))
    assert reference_features(tmp_path).shape == (5, 4)
    with pytest.raises(MetricSkipped):
        reference_features(tmp_path / "no-such-dataset")


class TinyI3D(torch.nn.Module):
    """Same call signature as the StyleGAN-V TorchScript I3D; records what it was fed."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3, 5)

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1.0
        pooled = x.mean(dim=(2, 3, 4))  # B×3
        out = self.proj(pooled)
        if return_features:
            return torch.cat(
                [
                    out,
                    x.amin(dim=(1, 2, 3, 4))[:, None],
                    x.amax(dim=(1, 2, 3, 4))[:, None],
                    torch.full_like(out[:, :1], float(x.shape[2])),
                    torch.full_like(out[:, :1], float(x.shape[3] - x.shape[4])),
                ],
                1,
            )
        return out.softmax(-1)


def test_i3d_extractor_on_tiny_torchscript(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "i3d_torchscript.pt"
    torch.jit.script(TinyI3D()).save(str(file))
    monkeypatch.setenv("SORA_LITE_I3D", str(file))
    extractor = I3DFeatures.load(device="cpu")
    extractor.feature_dim = 9
    rng = np.random.default_rng(7)
    videos = [rng.integers(0, 256, size=(20, 24, 32, 3), dtype=np.uint8) for _ in range(3)]
    videos[0][:] = 255
    feats = extractor(videos)
    assert feats.shape == (3, 9)
    assert feats[0, 5] == pytest.approx(1.0) and feats[0, 6] == pytest.approx(1.0)  # uint8 255 → +1.0
    assert feats[1, 5] >= -1.0 and feats[1, 6] <= 1.0
    assert (feats[:, 7] == CLIP_FRAMES).all() and (feats[:, 8] == 0).all()  # 16 frames, square crop
    metric = FVD(extractor=extractor, bootstrap_rounds=0)
    metric.update(videos, real=True)
    metric.update(videos[::-1], real=False)
    assert metric.compute()["fvd"] == pytest.approx(0.0, abs=1e-6)
    assert score_sample(videos[1], extractor)["feature"].shape == (9,)
    with pytest.raises(MetricInputError, match="16 frames"):
        extractor([videos[0][:10]])
    with pytest.raises(MetricSkipped, match="SORA_LITE_I3D"):
        i3d_path(tmp_path / "missing.pt")


def test_videomae_extractor_on_tiny_random_model(tmp_path: Path) -> None:
    from transformers import VideoMAEConfig, VideoMAEForVideoClassification

    config = VideoMAEConfig(
        image_size=32,
        patch_size=16,
        num_frames=4,
        tubelet_size=2,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=24,
        num_labels=3,
        use_mean_pooling=True,
    )
    torch.manual_seed(0)
    VideoMAEForVideoClassification(config).save_pretrained(tmp_path / "tiny-videomae")
    extractor = VideoMAEFeatures.load(tmp_path / "tiny-videomae")
    rng = np.random.default_rng(8)
    videos = [rng.integers(0, 256, size=(6, 40, 48, 3), dtype=np.uint8) for _ in range(2)]
    feats = extractor(videos)
    assert feats.shape == (2, 16)
    # Independent path: the classifier's own pre-logit feature on hand-made pixel values.
    model = extractor.model
    x = torch.nn.functional.interpolate(
        torch.from_numpy(videos[1][:4]).permute(0, 3, 1, 2).float() / 255,
        size=(32, 32),
        mode="bilinear",
        align_corners=False,
    )
    with torch.no_grad():
        expected = model.fc_norm(model.videomae(pixel_values=x[None]).last_hidden_state.mean(1))[0]
        logits = model(pixel_values=x[None]).logits[0]
        assert torch.allclose(model.classifier(torch.from_numpy(feats[1]).float()), logits, atol=1e-5)
    np.testing.assert_allclose(feats[1], expected.numpy(), atol=1e-5)
    with pytest.raises(MetricSkipped, match="hf download"):
        load_videomae("no-such-org/no-such-videomae")

    # --precision bf16: the network runs in bfloat16; features come back float64, close to fp32's.
    half = VideoMAEFeatures.load(tmp_path / "tiny-videomae", dtype=torch.bfloat16)
    assert {p.dtype for p in half.model.parameters()} == {torch.bfloat16}
    half_feats = half(videos)
    assert half_feats.dtype == np.float64 and not np.array_equal(half_feats, feats)
    assert np.linalg.norm(half_feats - feats) / np.linalg.norm(feats) < 0.05


def test_registry_reports_missing_weights_as_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from eval.scoring import SCORERS, ScorerOptions, make_scorers

    monkeypatch.setenv("SORA_LITE_I3D", str(tmp_path / "absent.pt"))
    assert {"clip", "fvd", "av_sync", "physics", "multishot", "physics_vlm"} <= set(SCORERS)
    with pytest.raises(MetricSkipped) as info:
        SCORERS["fvd"](ScorerOptions(fvd_features="i3d")).setup()
    assert "i3d_torchscript" in info.value.how_to_fix
    with pytest.raises(ValueError, match="choose from"):
        make_scorers(["nope"], ScorerOptions())


@pytest.mark.parametrize("n_real,n_fake,dim", [(40, 24, 96), (8, 9, 300)])
def test_row_route_for_few_samples_matches_scipy(n_real: int, n_fake: int, dim: int) -> None:
    """The bootstrap's n×n route (fewer rows than dimensions) gives scipy's distance, also against fixed moments."""
    from eval.metrics.frechet import frechet_distance_rows, moments

    rng = np.random.default_rng(n_real)
    real, fake = rng.normal(size=(n_real, dim)), rng.normal(0.3, 1.2, size=(n_fake, dim))
    expected = scipy_frechet(real, fake)
    assert frechet_distance_rows(fake, real) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance_rows(fake, moments(real)) == pytest.approx(expected, rel=1e-6)
