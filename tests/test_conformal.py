"""Conformal predictive intervals: the finite-sample quantile, out-of-fold coverage on synthetic
exchangeable residuals, per-rule (Mondrian) calibration, and the real dev file."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from standoff.backtest.conformal import (
    CalibrationError,
    conformal_quantile,
    conformal_rank,
    cross_conformal,
    interval,
    min_calibration,
    split_conformal,
)
from standoff.backtest.deu3 import parse_deu3, read_deu3
from standoff.backtest.models import Setup, group_folds
from standoff.backtest.run import calibrate_interval, predict
from standoff.errors import CaseError

from .test_backtest_deu3 import DEV, needs_data, row, tsv


def test_finite_sample_quantile_by_hand() -> None:
    # n = 5: rank ceil(6 * 0.8) = 5, the largest; the plain 80% quantile would be 4.2
    assert conformal_quantile([3.0, 1.0, 2.0, 5.0, 4.0]) == 5.0
    # n = 10: rank ceil(11 * 0.8) = ceil(8.8) = 9
    assert conformal_quantile(np.arange(10.0, 0.0, -1.0)) == 9.0
    # n = 4: rank ceil(5 * 0.8) = 4 exactly (not 5 from rounding 4.000...1 up)
    assert conformal_rank(4) == 4 and conformal_quantile([1.0, 2.0, 3.0, 4.0]) == 4.0
    # 100 * 0.55 is 55.00000000000001 in floating point: the rank is still 55
    assert conformal_rank(99, 0.55) == 55
    # NaN (no outcome) is left out: n = 5 again
    assert conformal_quantile([np.nan, 3.0, 1.0, np.nan, 2.0, 5.0, 4.0]) == 5.0
    assert min_calibration(0.8) == 4 and min_calibration(0.9) == 9
    with pytest.raises(CalibrationError, match="3 issue"):
        conformal_quantile([1.0, 2.0, 3.0])
    lo, hi = interval([5.0, 95.0], [10.0, 10.0])
    assert lo.tolist() == [0.0, 85.0] and hi.tolist() == [15.0, 100.0]


def test_out_of_fold_coverage_on_exchangeable_residuals() -> None:
    """20 issues (one proposal each) in 5 folds of 4: every issue is calibrated on the 16 of the
    other folds, so with continuous exchangeable scores it is covered with probability exactly
    rank / (n + 1) = ceil(17 * 0.8) / 17 = 14/17 = 0.824 (Lei et al. 2018, sec. 2.2)."""
    rng = np.random.default_rng(7)
    trials, n = 3000, 20
    groups = [f"p{j:02d}" for j in range(n)]
    covered = np.empty(trials)
    for t in range(trials):
        point = rng.uniform(20, 80, n)
        outcome = point + rng.standard_t(3, n) * 10  # heavy tails: no normality assumed
        fold = group_folds(groups, 5, seed=t)
        lo, hi = interval(point, cross_conformal(point, outcome, fold), -np.inf, np.inf)
        covered[t] = np.mean((lo <= outcome) & (outcome <= hi))
    se = covered.std(ddof=1) / np.sqrt(trials)
    assert covered.mean() == pytest.approx(14 / 17, abs=3 * se)
    assert se < 0.003  # the check is tight enough to tell 14/17 from the plain quantile's ~0.76


def test_mondrian_calibrates_each_rule_on_its_own_scores() -> None:
    a = np.arange(1.0, 11.0)  # stratum A: 1..10
    b = a + 100.0  # stratum B: 101..110
    scores = np.concatenate([a, b])
    labels = np.array(["A"] * 10 + ["B"] * 10)
    new = np.array(["B", "A", "A"])
    # per stratum: n = 10, rank 9
    assert split_conformal(scores, 3, strata=new, calibration_strata=labels).tolist() == [
        109.0,
        9.0,
        9.0,
    ]
    # pooled: n = 20, rank ceil(16.8) = 17, the 17th smallest is 107
    assert split_conformal(scores, 3).tolist() == [107.0] * 3
    with pytest.raises(CalibrationError, match="C"):
        split_conformal(scores, 1, strata=np.array(["C"]), calibration_strata=labels)


def test_cross_conformal_never_calibrates_on_the_held_out_fold() -> None:
    point = np.zeros(10)
    outcome = np.arange(10.0)
    fold = np.repeat(np.arange(5), 2)  # folds {0,1}, {2,3}, ...
    seen: list[NDArray[np.bool_]] = []

    def within(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
        seen.append(mask.copy())
        return np.abs(outcome[mask] - point[mask])

    q = cross_conformal(point, outcome, fold, scores_within=within)
    assert len(seen) == 5
    for f, mask in enumerate(seen):
        assert not mask[fold == f].any() and mask[fold != f].all()
    # fold 4 (outcomes 8, 9) is calibrated on 0..7: n = 8, rank ceil(7.2) = 8, q = 7
    assert q[8] == q[9] == 7.0
    # fold 0 on 2..9: q = 9
    assert q[0] == 9.0
    assert np.array_equal(q, cross_conformal(point, outcome, fold))


def test_cross_conformal_too_few_outcomes() -> None:
    # 5 issues in 5 folds: 4 calibrate each, just enough; 4 issues: 3, too few
    assert np.isfinite(cross_conformal(np.zeros(5), np.arange(5.0), np.arange(5))).all()
    with pytest.raises(CalibrationError, match="too few"):
        cross_conformal(np.zeros(4), np.arange(4.0), np.arange(4))
    # outcomes missing (NaN) do not count
    y = np.array([0.0, 1.0, 2.0, 3.0, np.nan, np.nan])
    with pytest.raises(CalibrationError):
        cross_conformal(np.zeros(6), y, np.arange(6))
    # by stratum: enough issues in all, but one rule has too few
    labels = np.array(["QMV"] * 8 + ["Unan"] * 2)
    with pytest.raises(CalibrationError, match="Unan"):
        cross_conformal(np.zeros(10), np.arange(10.0), np.arange(10) % 5, strata=labels)


def synthetic(n_proposals: int = 30, seed: int = 0, outcomes: bool = True) -> str:
    """A DEU III file of n_proposals proposals of two issues, a third unanimity."""
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(n_proposals):
        rule = "Unan" if j % 3 == 0 else "QMV"
        for i in (1, 2):
            pos = rng.choice([0, 25, 50, 75, 100], size=4)
            positions = dict(zip(("com", "de", "fr", "uk"), map(str, pos), strict=True))
            out = {"out": str(int(rng.integers(0, 101)))} if outcomes else {}
            rows.append(
                row(f"d{j:05d}i{i}", positions, {"com": "50", "de": "80", "fr": "60", "uk": "40"},
                    counvte=rule, rp=str(int(pos[0])), **out)
            )  # fmt: skip
    return tsv(*rows)


@pytest.mark.parametrize("model", ["compromise", "median", "blend"])
def test_calibrated_models_on_a_synthetic_file(model: str) -> None:
    data = parse_deu3(synthetic(), "syn.tsv")
    p = predict(model, data, Setup(capabilities="equal"), calibrate=True)
    assert p.half_width is not None and np.isfinite(p.half_width).all()
    lo, hi = p.predictive() or (None, None)
    assert lo is not None and hi is not None
    assert ((0 <= lo) & (lo <= p.point + 1e-9) & (p.point <= hi + 1e-9) & (hi <= 100)).all()
    # per voting rule: the same half-width within a fold and rule, from that rule's scores
    fold = group_folds([i.proposal for i in data.issues], 5, 0)
    voting = np.array([i.voting for i in data.issues])
    for f in range(5):
        for rule in ("QMV", "Unan"):
            assert np.unique(p.half_width[(fold == f) & (voting == rule)]).size <= 1


def test_training_file_calibration_reads_only_the_training_outcomes() -> None:
    """On a file calibrated on a training file, changing its own outcomes changes nothing."""
    train = parse_deu3(synthetic(seed=1), "train.tsv")
    setup = Setup(capabilities="equal")
    a = parse_deu3(synthetic(seed=2), "a.tsv")
    b = parse_deu3(synthetic(seed=2, outcomes=False), "b.tsv")
    widths = []
    for data in (a, b):
        p = predict("median", data, setup, train=train, calibrate=True)
        assert p.half_width is not None
        widths.append(p.half_width)
    assert np.array_equal(widths[0], widths[1])
    # and it is the training file's conformal quantile of the median's residuals, per rule
    fitted = predict("median", train, setup)
    residual = np.abs(np.array([i.outcome for i in train.issues]) - fitted.point)
    rules = np.array([i.voting for i in train.issues])
    voting = np.array([i.voting for i in b.issues])
    for rule in ("QMV", "Unan"):
        assert np.all(widths[1][voting == rule] == conformal_quantile(residual[rules == rule]))


def test_calibration_errors_are_case_errors() -> None:
    small = parse_deu3(synthetic(n_proposals=2), "small.tsv")  # 4 issues with outcomes
    p = predict("compromise", small, Setup())
    with pytest.raises(CaseError, match=r"small\.tsv:1: out: compromise: .*too few"):
        calibrate_interval(p, Setup())
    unscored = parse_deu3(synthetic(outcomes=False), "none.tsv")
    with pytest.raises(CaseError, match="no outcomes here"):
        calibrate_interval(predict("median", unscored, Setup()), Setup())


@needs_data
@pytest.mark.slow
def test_dev_out_of_fold_coverage_is_near_80() -> None:
    data = read_deu3(DEV)
    outcome = np.array([i.outcome for i in data.issues])
    known = ~np.isnan(outcome)
    for model in ("compromise", "median", "blend"):
        p = predict(model, data, Setup(), calibrate=True)
        lo, hi = p.predictive() or (outcome, outcome)
        coverage = np.mean(((lo <= outcome) & (outcome <= hi))[known])
        assert 0.75 <= coverage <= 0.85, (model, coverage)
        # the input band is not a predictive interval: the compromise's covers far less
    band = predict("compromise", data, Setup(), draws=50).band()
    assert band is not None
    assert np.mean(((band[0] <= outcome) & (outcome <= band[1]))[known]) < 0.3
