"""Fréchet Video Distance as a torchmetrics Metric, over I3D (StyleGAN-V) or VideoMAE (cd-FVD) features.

States follow torchmetrics' FID: per side (real / generated) a float64 feature sum, a float64 sum of
outer products and a count, all reduced by "sum", so shards from several processes merge exactly. The
raw features are also kept (reduced by "cat") for the bootstrap CI; a reference side given only as
precomputed moments is held fixed in the bootstrap.

N and a warning are reported with every value: FVD is biased upward at small N and values at different
N are not comparable. The warning fires below `stable_floor` (default 2048, the N used by StyleGAN-V and
cd-FVD) and says so more strongly when N ≤ feature dim (the covariance is then rank-deficient).

`protocol` (eval/protocols.py) decides the covariance divisor and the N cap: "stylegan-v" and "cd-fvd"
use ÷N and stop at 2048 per side, as their FeatureStats do; the default "sora-lite" uses ÷(N−1). Every
result carries `protocol` and a `comparability` label; below N = 2048 it says "not comparable with
published FVD (N=…)". The bootstrap CI always uses ÷(N−1) resamples (a spread, not a published number).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities.data import dim_zero_cat

from eval.metrics.errors import MetricInputError, MetricSkipped
from eval.metrics.frechet import (
    bootstrap_interval,
    frechet_distance_of,
    moments_from_sums,
)
from eval.protocols import comparability

STABLE_FLOOR = 2048
SIDES = ("real", "fake")


class VideoFeatureExtractor(Protocol):
    name: str
    feature_dim: int

    def __call__(self, videos: Sequence[Any]) -> np.ndarray: ...


def extract(extractor: Any, videos: Sequence[Any], real: bool) -> np.ndarray:
    """Features of one side; `real` reaches extractors that take it (the protocol's offset policy per side),
    an extension extractor without sides is called as before."""
    import inspect

    try:
        sided = "real" in inspect.signature(extractor).parameters
    except (TypeError, ValueError):  # no introspectable signature
        sided = False
    return extractor(videos, real=real) if sided else extractor(videos)


def _side(real: bool) -> str:
    return "real" if real else "fake"


class FVD(Metric):
    """update(videos, real=...) with decoded videos, or update_features / update_moments for references."""

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(
        self,
        extractor: VideoFeatureExtractor | None = None,
        feature_dim: int | None = None,
        bootstrap_rounds: int = 200,
        seed: int = 0,
        stable_floor: int = STABLE_FLOOR,
        protocol: Any = None,
        **kwargs: Any,
    ) -> None:
        from eval.protocols import fvd_protocol

        super().__init__(**kwargs)
        self.protocol = fvd_protocol(protocol) if isinstance(protocol, str) else (protocol or fvd_protocol("sora-lite"))
        dim = feature_dim or (extractor.feature_dim if extractor is not None else None)
        if not dim:
            raise ValueError("FVD needs an extractor or a feature_dim")
        self.extractor = extractor
        self.feature_dim = int(dim)
        self.bootstrap_rounds = bootstrap_rounds
        self.seed = seed
        self.stable_floor = stable_floor
        for side in SIDES:
            self.add_state(f"{side}_sum", torch.zeros(dim, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{side}_outer", torch.zeros(dim, dim, dtype=torch.float64), dist_reduce_fx="sum")
            self.add_state(f"{side}_n", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")
            self.add_state(f"{side}_features", [], dist_reduce_fx="cat")

    def update(self, videos: Sequence[Any], real: bool = False) -> None:  # type: ignore[override]
        """Videos: a list of T×H×W×3 uint8 arrays (or one B×T×H×W×3 array)."""
        if self.extractor is None:
            raise MetricSkipped(
                "FVD has no feature extractor", "build FVD with extractor=I3DFeatures.load() or VideoMAEFeatures.load()"
            )
        self.update_features(extract(self.extractor, list(videos), real=real), real=real)

    def update_features(self, features: Any, real: bool = False) -> None:
        feats = torch.as_tensor(np.asarray(features), dtype=torch.float64)
        if feats.ndim == 1:
            feats = feats[None]
        if feats.ndim != 2 or feats.shape[1] != self.feature_dim:
            raise MetricInputError(f"features must be N×{self.feature_dim}, got {tuple(feats.shape)}")
        if not torch.isfinite(feats).all():
            raise MetricInputError("features contain NaN or inf")
        side = _side(real)
        cap = self.protocol.max_items
        if cap is not None:  # the references' FeatureStats.append: items past max_items are dropped
            feats = feats[: max(cap - int(getattr(self, f"{side}_n")), 0)]
            if not len(feats):
                return
        setattr(self, f"{side}_sum", getattr(self, f"{side}_sum") + feats.sum(0))
        setattr(self, f"{side}_outer", getattr(self, f"{side}_outer") + feats.T @ feats)
        setattr(self, f"{side}_n", getattr(self, f"{side}_n") + feats.shape[0])
        getattr(self, f"{side}_features").append(feats)

    def update_moments(self, mean: Any, cov: Any, n: int, real: bool = True) -> None:
        """Precomputed statistics (e.g. published reference stats): folded into the sums exactly."""
        mu = torch.as_tensor(np.asarray(mean), dtype=torch.float64)
        sigma = torch.as_tensor(np.asarray(cov), dtype=torch.float64)
        if mu.shape != (self.feature_dim,) or sigma.shape != (self.feature_dim, self.feature_dim) or n < 2:
            raise MetricInputError(f"moments must be mean[{self.feature_dim}], cov[{self.feature_dim}²], n ≥ 2")
        side = _side(real)
        setattr(self, f"{side}_sum", getattr(self, f"{side}_sum") + n * mu)
        ddof = self.protocol.cov_ddof  # the moments are taken to be ÷(n − ddof), as this protocol computes them
        setattr(self, f"{side}_outer", getattr(self, f"{side}_outer") + (n - ddof) * sigma + n * torch.outer(mu, mu))
        setattr(self, f"{side}_n", getattr(self, f"{side}_n") + int(n))

    def _features(self, side: str) -> np.ndarray | None:
        stored = getattr(self, f"{side}_features")
        if isinstance(stored, list) and not stored:
            return None
        feats = dim_zero_cat(stored).cpu().numpy()
        if len(feats) != int(getattr(self, f"{side}_n")):
            return None
        # A canonical row order, so the seeded bootstrap gives the same CI however shards were merged.
        return feats[np.lexsort(feats.T[::-1])]

    def compute(self) -> dict[str, Any]:
        n_real, n_fake = int(self.real_n), int(self.fake_n)
        if n_real < 2 or n_fake < 2:
            raise MetricInputError(f"FVD needs at least 2 reference and 2 generated videos, got {n_real} and {n_fake}")
        ddof = self.protocol.cov_ddof
        real = moments_from_sums(self.real_sum.cpu().numpy(), self.real_outer.cpu().numpy(), n_real, ddof)
        fake = moments_from_sums(self.fake_sum.cpu().numpy(), self.fake_outer.cpu().numpy(), n_fake, ddof)
        value = frechet_distance_of(real, fake)
        low = high = float("nan")
        real_feats, fake_feats = self._features("real"), self._features("fake")
        if self.bootstrap_rounds and fake_feats is not None:
            low, high = bootstrap_interval(
                real if real_feats is None else real_feats, fake_feats, self.bootstrap_rounds, self.seed
            )
        return {
            "fvd": value,
            "ci_low": low,
            "ci_high": high,
            "n_real": n_real,
            "n_fake": n_fake,
            "feature_dim": self.feature_dim,
            "warning": self._warning(min(n_real, n_fake)),
            "protocol": self.protocol.name,
            "comparability": comparability(self.protocol, min(n_real, n_fake)),
        }

    def _warning(self, n: int) -> str | None:
        if n <= self.feature_dim:
            return (
                f"N={n} ≤ feature dim {self.feature_dim}: covariance is rank-deficient, FVD is unreliable; "
                f"use ≥ {self.stable_floor} videos per side"
            )
        if n < self.stable_floor:
            return f"N={n} < {self.stable_floor}: FVD is biased upward at small N; compare only at equal N"
        return None


def score_sample(frames: Any, extractor: VideoFeatureExtractor) -> dict[str, Any]:
    """Per-video part of FVD (the distance itself is set-level): the feature vector and its norm."""
    feature = extractor([frames])[0]
    return {"feature": feature, "feature_norm": float(np.linalg.norm(feature))}


def reference_features(source: str | os.PathLike[str], column: str = "features", split: str = "train") -> np.ndarray:
    """Reference features from a .npy/.npz file, a folder of them, or a Hub dataset id with a features column."""
    path = Path(source)
    if path.is_dir():
        files = sorted([*path.glob("*.npy"), *path.glob("*.npz")])
        if not files:
            raise MetricInputError(f"no .npy/.npz feature files in {path}")
        return np.concatenate([np.atleast_2d(_load_array(f, column)) for f in files])
    if path.is_file():
        return np.atleast_2d(_load_array(path, column))
    try:
        import datasets

        table = datasets.load_dataset(str(source), split=split)
    except Exception as exc:  # datasets raises many types for "not reachable / not found"
        raise MetricSkipped(
            f"reference '{source}' is neither a local file/folder nor a loadable Hub dataset ({exc.__class__.__name__})",
            "pass a folder of .npy feature files, a folder of reference videos, or a cached Hub dataset id",
        ) from exc
    if column not in table.column_names:
        raise MetricInputError(f"dataset '{source}' has no '{column}' column (has {table.column_names})")
    return np.asarray(table[column], dtype=np.float64)


def _load_array(file: Path, column: str) -> np.ndarray:
    data = np.load(file)
    if isinstance(data, np.lib.npyio.NpzFile):
        if column not in data.files:
            raise MetricInputError(f"{file} has no '{column}' array (has {data.files})")
        return np.asarray(data[column], dtype=np.float64)
    return np.asarray(data, dtype=np.float64)
