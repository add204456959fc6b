"""Scoring rules: point errors, interval forecasts, probabilistic categorical forecasts.

Point forecasts on a 0-100 scale: mean and median absolute error, root mean squared error, the share
within 10 points. Interval and sample forecasts: coverage of the central interval, and the
continuous ranked probability score from samples, CRPS = E|X - y| - E|X - X'| / 2 (Gneiting &
Raftery 2007, "Strictly proper scoring rules, prediction, and estimation", JASA 102: 359-378,
eq. 21). Categorical forecasts: the multi-category Brier score sum_k (p_k - o_k)^2 (Brier 1950),
the log score -ln p_outcome, and the ranked probability score for ordered outcomes,
sum_k (P_k - O_k)^2 / (K - 1) over the cumulative probabilities (Epstein 1969; Wilks, *Statistical
Methods in the Atmospheric Sciences*, 3rd ed., eq. 8.52). Lower is better for all three.

Confidence intervals come from the bootstrap over clusters (the proposals of DEU III: issues of one
proposal are decided together, so they are not independent), percentile method; comparisons of two
models resample the same clusters for both (a paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
DEFAULT_BOOTSTRAP = 2000
# The calibration table's bins: at least two, and no more than a table can show (every command's
# --bins and every caller of `calibration_table` keep to this).
MIN_BINS, MAX_BINS = 2, 100


def absolute_errors(prediction: ArrayLike, outcome: ArrayLike) -> FloatArray:
    return np.abs(np.asarray(prediction, float) - np.asarray(outcome, float))


def point_scores(prediction: ArrayLike, outcome: ArrayLike) -> dict[str, float]:
    """MAE, median absolute error, RMSE and the share within 10 points."""
    err = absolute_errors(prediction, outcome)
    if err.size == 0:
        return {"n": 0, "mae": np.nan, "median_ae": np.nan, "rmse": np.nan, "within10": np.nan}
    return {
        "n": int(err.size),
        "mae": float(err.mean()),
        "median_ae": float(np.median(err)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "within10": float(np.mean(err <= 10.0)),
    }


def crps_samples(samples: ArrayLike, outcome: ArrayLike) -> FloatArray:
    """CRPS of each forecast given as samples (issues, draws) against outcomes (issues,).

    Uses the sorted-sample identity E|X - X'| = 2 / m^2 sum_i (2i - m - 1) x_(i) (1-based i)."""
    x = np.sort(np.asarray(samples, float), axis=-1)
    y = np.asarray(outcome, float)
    m = x.shape[-1]
    first = np.abs(x - y[..., None]).mean(axis=-1)
    rank = 2.0 * np.arange(1, m + 1) - m - 1
    spread = 2.0 * (x * rank).sum(axis=-1) / m**2
    return first - spread / 2.0


def interval_scores(
    lower: ArrayLike, upper: ArrayLike, outcome: ArrayLike, samples: ArrayLike | None = None
) -> dict[str, float]:
    """Coverage of [lower, upper], its mean width and, given samples, the mean CRPS."""
    y = np.asarray(outcome, float)
    lo, hi = np.asarray(lower, float), np.asarray(upper, float)
    inside = (lo <= y) & (y <= hi)
    out = {
        "coverage": float(inside.mean()) if y.size else np.nan,
        "width": float((hi - lo).mean()) if y.size else np.nan,
    }
    if samples is not None:
        out["crps"] = float(crps_samples(samples, y).mean()) if y.size else np.nan
    return out


def _one_hot(outcome: int, k: int) -> FloatArray:
    if not 0 <= outcome < k:
        raise ValueError(f"outcome index {outcome} outside 0..{k - 1}")
    o = np.zeros(k)
    o[outcome] = 1.0
    return o


def brier(probabilities: Sequence[float], outcome: int) -> float:
    """Multi-category Brier score: sum_k (p_k - o_k)^2, in [0, 2]."""
    p = np.asarray(probabilities, float)
    return float(np.sum((p - _one_hot(outcome, p.size)) ** 2))


def log_score(probabilities: Sequence[float], outcome: int, floor: float = 1e-6) -> float:
    """-ln p(outcome), with p floored so that a certain miss scores -ln(floor), not infinity, and
    a certain hit scores 0 (not -0, which prints as -0.000)."""
    p = np.asarray(probabilities, float)
    _one_hot(outcome, p.size)
    return float(-np.log(max(float(p[outcome]), floor))) + 0.0


def rps(probabilities: Sequence[float], outcome: int) -> float:
    """Ranked probability score for ordered categories: sum_k (P_k - O_k)^2 / (K - 1), K >= 2."""
    p = np.asarray(probabilities, float)
    if p.size < 2:
        raise ValueError("RPS needs at least two categories")
    cp = np.cumsum(p)[:-1]
    co = np.cumsum(_one_hot(outcome, p.size))[:-1]
    return float(np.sum((cp - co) ** 2) / (p.size - 1))


def check_bins(bins: int) -> None:
    """ValueError unless `bins` is a whole number from MIN_BINS to MAX_BINS."""
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer):
        raise ValueError(f"{bins!r}: not a whole number of bins")
    if not MIN_BINS <= bins <= MAX_BINS:
        raise ValueError(f"{bins}: a calibration table has {MIN_BINS} to {MAX_BINS} bins")


def calibration_table(
    probabilities: ArrayLike, hits: ArrayLike, bins: int = 5
) -> list[dict[str, float]]:
    """Forecast probabilities binned into equal-width bins: per bin the count, the mean forecast
    and the observed frequency. ValueError for a number of bins outside MIN_BINS..MAX_BINS."""
    check_bins(bins)
    p = np.asarray(probabilities, float)
    h = np.asarray(hits, float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "n": int(mask.sum()),
                "forecast": float(p[mask].mean()) if mask.any() else np.nan,
                "observed": float(h[mask].mean()) if mask.any() else np.nan,
            }
        )
    return rows


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:.2f} [{self.low:.2f}, {self.high:.2f}]"


def _cluster_index(clusters: Sequence[str]) -> tuple[NDArray[np.intp], int]:
    _, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    return inverse.astype(np.intp), int(inverse.max()) + 1 if len(inverse) else 0


def bootstrap(
    values: ArrayLike,
    clusters: Sequence[str],
    statistic: Callable[[FloatArray, FloatArray], float] | None = None,
    n: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Cluster bootstrap of the mean of `values` (or a weighted statistic), percentile interval.

    Each replicate draws clusters with replacement; an issue counts once per time its cluster is
    drawn. `statistic(values, counts)` gets every issue's count (default: the weighted mean)."""
    v = np.asarray(values, float)
    index, k = _cluster_index(clusters)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, k, size=(n, k))
    cluster_counts = np.zeros((n, k))
    np.add.at(cluster_counts, (np.arange(n)[:, None], picks), 1.0)
    counts = cluster_counts[:, index]  # (n, issues)
    if statistic is None:
        reps = (counts * v).sum(axis=1) / counts.sum(axis=1)
    else:
        reps = np.array([statistic(v, c) for c in counts])
    alpha = (1 - level) / 2
    lo, hi = np.quantile(reps, [alpha, 1 - alpha])
    est = float(v.mean()) if statistic is None else statistic(v, np.ones_like(v))
    return Interval(est, float(lo), float(hi))


def paired_difference(
    errors_a: ArrayLike,
    errors_b: ArrayLike,
    clusters: Sequence[str],
    n: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """Mean of errors_a - errors_b with a paired cluster-bootstrap interval at `level` (95% by
    default; negative: a is better)."""
    diff = np.asarray(errors_a, float) - np.asarray(errors_b, float)
    return bootstrap(diff, clusters, n=n, seed=seed, level=level)
