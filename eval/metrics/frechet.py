"""The Fréchet distance between two Gaussians fitted to feature sets, computed in float64.

d² = |μ1 − μ2|² + tr(Σ1) + tr(Σ2) − 2·tr((Σ1 Σ2)^½)

tr((Σ1 Σ2)^½) is the sum of singular values of L2ᵀ L1 (Cholesky factors; same spectrum as Σ1 Σ2), or
for a singular Σ (fewer samples than dimensions) the sum of √eigenvalues of the symmetric PSD matrix
Σ1^½ Σ2 Σ1^½ via `eigh` (tiny negative eigenvalues from rounding clipped to 0): no complex parts, no
Schur iterations. `scipy.linalg.sqrtm` is kept as a fallback when the eigen path fails, with an `eps`·I offset on both
covariances the way FID implementations handle near-singular estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GaussianMoments:
    """Mean and covariance (÷(N − ddof)) of a feature set, and how many samples made them."""

    mean: np.ndarray
    cov: np.ndarray
    n: int


def moments_from_sums(total: np.ndarray, outer_total: np.ndarray, n: int, ddof: int = 1) -> GaussianMoments:
    """Mean/covariance from running sums Σx and Σxxᵀ (the mergeable form, as torchmetrics' FID keeps).

    ddof=1: the unbiased ÷(N−1) (torchmetrics, np.cov); ddof=0: ÷N, what StyleGAN-V's and cd-FVD's
    `FeatureStats.get_mean_cov` compute (raw_cov/N − μμᵀ) and so what published FVDs use."""
    if n < 2:
        raise ValueError(f"need at least 2 samples for a covariance, got {n}")
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 (÷N) or 1 (÷(N−1)), got {ddof}")
    total = np.asarray(total, dtype=np.float64)
    outer_total = np.asarray(outer_total, dtype=np.float64)
    mean = total / n
    cov = (outer_total - n * np.outer(mean, mean)) / (n - ddof)
    return GaussianMoments(mean=mean, cov=(cov + cov.T) / 2, n=n)


def moments(features: np.ndarray, ddof: int = 1) -> GaussianMoments:
    """Mean and covariance ÷(N − ddof) of N×D features (ddof=0: the references' ÷N)."""
    feats = np.asarray(features, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] < 2:
        raise ValueError(f"features must be N×D with N ≥ 2, got shape {feats.shape}")
    return GaussianMoments(
        mean=feats.mean(0), cov=np.cov(feats, rowvar=False, ddof=ddof).reshape(feats.shape[1], -1), n=len(feats)
    )


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def trace_sqrt_product(cov1: np.ndarray, cov2: np.ndarray, eps: float = 1e-6) -> float:
    """tr((Σ1 Σ2)^½) for PSD Σ1, Σ2.

    Fast path: with Σ1 = L1 L1ᵀ and Σ2 = L2 L2ᵀ (Cholesky), the eigenvalues of Σ1 Σ2 are the squared
    singular values of L2ᵀ L1, so the trace is the sum of those singular values — two Cholesky
    factorisations and one values-only SVD. Singular Σ (no Cholesky) takes the eigh route instead.
    """
    try:
        low1, low2 = np.linalg.cholesky(cov1), np.linalg.cholesky(cov2)
        result = float(np.linalg.svd(low2.T @ low1, compute_uv=False).sum())
        if np.isfinite(result):
            return result
    except np.linalg.LinAlgError:
        pass
    try:
        root1 = _sqrt_psd(cov1)
        inner = root1 @ cov2 @ root1
        vals = np.linalg.eigvalsh((inner + inner.T) / 2)
        result = float(np.sqrt(np.clip(vals, 0.0, None)).sum())
        if np.isfinite(result):
            return result
    except np.linalg.LinAlgError:
        pass
    return _trace_sqrt_scipy(cov1, cov2, eps)


def _trace_sqrt_scipy(cov1: np.ndarray, cov2: np.ndarray, eps: float) -> float:
    import scipy.linalg

    root = scipy.linalg.sqrtm(cov1 @ cov2)
    if not np.isfinite(root).all():
        offset = np.eye(cov1.shape[0]) * eps
        root = scipy.linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    return float(np.real(np.trace(root)))


def frechet_distance(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray, eps: float = 1e-6
) -> float:
    """Squared Fréchet distance between N(mean1, cov1) and N(mean2, cov2), float64 throughout."""
    mean1, mean2 = np.atleast_1d(np.asarray(mean1, np.float64)), np.atleast_1d(np.asarray(mean2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    if mean1.shape != mean2.shape or cov1.shape != cov2.shape or cov1.shape != (mean1.size, mean1.size):
        raise ValueError(
            f"shapes do not match: means {mean1.shape}/{mean2.shape}, covariances {cov1.shape}/{cov2.shape}"
        )
    diff = mean1 - mean2
    value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt_product(cov1, cov2, eps)
    return float(max(value, 0.0))


def frechet_distance_of(a: GaussianMoments, b: GaussianMoments, eps: float = 1e-6) -> float:
    return frechet_distance(a.mean, a.cov, b.mean, b.cov, eps)


def frechet_distance_rows(a: np.ndarray, b: np.ndarray | GaussianMoments) -> float:
    """The same distance straight from the feature rows, for fewer rows than dimensions (the bootstrap's case).

    With centred rows X (n×d) and Σ = XᵀX/(n−1): tr(Σ) = ‖X‖²/(n−1), and the eigenvalues of Σ_b Σ_a are
    those of the small n×n matrices — tr((Σ_a Σ_b)^½) = Σ singular values of X_a X_bᵀ / √((n_a−1)(n_b−1)),
    or, against fixed moments, Σ √eig(X_a Σ_b X_aᵀ) / √(n_a−1). An n×n problem instead of a d×d one.
    """
    a = np.asarray(a, np.float64)
    mean_a = a.mean(0)
    xa, na = a - mean_a, len(a) - 1
    if isinstance(b, GaussianMoments):
        mean_b, trace_b = b.mean, float(np.trace(b.cov))
        inner = xa @ b.cov @ xa.T
        cross = float(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)).sum()) / np.sqrt(na)
    else:
        b = np.asarray(b, np.float64)
        mean_b = b.mean(0)
        xb, nb = b - mean_b, len(b) - 1
        trace_b = float(np.einsum("ij,ij->", xb, xb)) / nb
        cross = float(np.linalg.svd(xa @ xb.T, compute_uv=False).sum()) / np.sqrt(na * nb)
    diff = mean_a - mean_b
    value = diff @ diff + float(np.einsum("ij,ij->", xa, xa)) / na + trace_b - 2.0 * cross
    return float(max(value, 0.0))


def bootstrap_interval(
    real: np.ndarray | GaussianMoments,
    fake: np.ndarray,
    rounds: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Seeded bootstrap CI of the Fréchet distance, re-centred on the estimate.

    Resampling with replacement biases the Fréchet distance upward (duplicated rows act like a smaller
    sample), often so far that plain percentiles miss the point estimate entirely. The bootstrap
    distribution is therefore shifted by its bias (mean − θ) before taking percentiles: the interval
    keeps the bootstrap's spread and sits on θ. A reference given as moments only is held fixed.
    """
    rng = np.random.default_rng(seed)
    fake = np.asarray(fake, np.float64)
    fixed = real if isinstance(real, GaussianMoments) else None
    real_rows = None if fixed is not None else np.asarray(real, np.float64)
    point = frechet_distance_of(fixed or moments(real_rows), moments(fake))
    # Fewer rows than dimensions (typical: tens of videos, 400–1408-d features): the n×n route is exact
    # and ~100× faster than the d×d one for each of the rounds.
    small = max(len(fake), len(real_rows) if real_rows is not None else 0) < fake.shape[1]
    values = np.empty(rounds)
    for i in range(rounds):
        r = fixed if fixed is not None else real_rows[rng.integers(0, len(real_rows), len(real_rows))]
        f = fake[rng.integers(0, len(fake), len(fake))]
        if small:
            values[i] = frechet_distance_rows(f, r)
        else:
            values[i] = frechet_distance_of(r if isinstance(r, GaussianMoments) else moments(r), moments(f))
    tail = (1.0 - level) / 2 * 100
    q_low, q_high = np.percentile(values - (values.mean() - point), [tail, 100 - tail])
    return float(max(q_low, 0.0)), float(q_high)
