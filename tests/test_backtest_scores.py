"""Scoring rules against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from standoff.backtest.scores import (
    bootstrap,
    brier,
    calibration_table,
    crps_samples,
    interval_scores,
    log_score,
    paired_difference,
    point_scores,
    rps,
)


def test_point_scores_by_hand() -> None:
    s = point_scores([10, 50, 80, 0], [0, 55, 50, 0])  # errors 10, 5, 30, 0
    assert s["n"] == 4
    assert s["mae"] == pytest.approx(11.25)
    assert s["median_ae"] == pytest.approx(7.5)
    assert s["rmse"] == pytest.approx(math.sqrt((100 + 25 + 900 + 0) / 4))
    assert s["within10"] == pytest.approx(0.75)  # 10 counts as within


def test_crps_by_hand() -> None:
    # one sample: CRPS = |x - y|
    assert crps_samples([[30.0]], [50.0])[0] == pytest.approx(20.0)
    # samples {0, 100}, y = 50: E|X - y| = 50, E|X - X'| = 50, CRPS = 50 - 25 = 25
    assert crps_samples([[0.0, 100.0]], [50.0])[0] == pytest.approx(25.0)
    # samples {0, 10, 20}, y = 0: E|X-y| = 10; E|X-X'| = (0+10+20+10+0+10+20+10+0)/9 = 80/9
    assert crps_samples([[20.0, 0.0, 10.0]], [0.0])[0] == pytest.approx(10 - 40 / 9)


def test_interval_scores() -> None:
    s = interval_scores([0, 10], [20, 15], [5, 30], samples=[[5.0], [30.0]])
    assert s["coverage"] == pytest.approx(0.5)
    assert s["width"] == pytest.approx((20 + 5) / 2)
    assert s["crps"] == pytest.approx(0.0)
    # the ends count as inside; no samples, no CRPS
    s = interval_scores([10, 10], [20, 20], [10, 20])
    assert s["coverage"] == pytest.approx(1.0) and "crps" not in s


def test_brier_log_rps_by_hand() -> None:
    p = [0.2, 0.5, 0.3]
    assert brier(p, 1) == pytest.approx(0.04 + 0.25 + 0.09)
    assert log_score(p, 1) == pytest.approx(-math.log(0.5))
    # cumulative forecast (0.2, 0.7), observed (0, 1): (0.04 + 0.09) / 2
    assert rps(p, 1) == pytest.approx(0.065)
    assert rps(p, 0) == pytest.approx(((0.2 - 1) ** 2 + (0.7 - 1) ** 2) / 2)
    # binary: Brier (two-category form) = 2 (p - o)^2, RPS = (p - o)^2
    assert brier([0.3, 0.7], 1) == pytest.approx(2 * 0.09)
    assert rps([0.3, 0.7], 1) == pytest.approx(0.09)
    assert log_score([1.0, 0.0], 1) == pytest.approx(-math.log(1e-6))
    with pytest.raises(ValueError):
        brier(p, 3)


def test_calibration_table() -> None:
    rows = calibration_table([0.1, 0.15, 0.9, 0.95], [0, 1, 1, 1], bins=2)
    assert [r["n"] for r in rows] == [2, 2]
    assert rows[0]["forecast"] == pytest.approx(0.125)
    assert rows[0]["observed"] == pytest.approx(0.5)
    assert rows[1]["observed"] == pytest.approx(1.0)


def test_bootstrap_clusters_and_pairs() -> None:
    values = np.array([1.0, 1.0, 5.0, 5.0])
    ci = bootstrap(values, ["a", "a", "b", "b"], n=500, seed=1)
    assert ci.estimate == pytest.approx(3.0)
    assert 1.0 <= ci.low <= ci.high <= 5.0
    # identical clusters: every replicate is the same
    same = bootstrap(values, ["a", "a", "a", "a"], n=200)
    assert same.low == same.high == pytest.approx(3.0)
    diff = paired_difference([3.0, 4.0], [3.0, 4.0], ["a", "b"], n=200)
    assert (diff.estimate, diff.low, diff.high) == (0.0, 0.0, 0.0)
