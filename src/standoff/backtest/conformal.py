"""Predictive intervals calibrated on residuals: split and cross-conformal prediction.

The nonconformity score of an issue is its absolute residual |outcome - prediction| on the common
0-100 scale. Given n calibration scores, the split-conformal half-width at level 1 - alpha is the
ceil((n + 1)(1 - alpha))-th smallest score, i.e. the empirical quantile at level
ceil((n + 1)(1 - alpha)) / n; then [prediction - q, prediction + q] covers a new exchangeable
outcome with probability at least 1 - alpha (Vovk, Gammerman & Shafer 2005, *Algorithmic Learning
in a Random World*, ch. 2 and 4; Lei, G'Sell, Rinaldo, Tibshirani & Wasserman 2018,
"Distribution-free predictive inference for regression", JASA 113(523): 1094-1111, sec. 2.2).
When ceil((n + 1)(1 - alpha)) > n the quantile is infinite: too few scores to calibrate.

Cross-conformal (out of fold): the issues are dealt to folds (whole proposals, so that issues
decided together never sit on both sides); the issues of each fold get the half-width calibrated
on the scores of the other folds only. For a model that is not fitted (the engines, the median,
the status quo) every score is a fixed function of its issue, so each fold's interval is an
ordinary split-conformal interval. For a fitted model (the blend) the scores of the calibration
folds must themselves be out of fold (`scores_within`: residuals of fits that did not see them),
which makes the guarantee approximate (the cross-conformal/CV+ setting of Barber, Candès, Ramdas &
Tibshirani 2021, Ann. Statist. 49(1): 486-507).

Per stratum (a Mondrian conformal predictor; Vovk et al. 2005, ch. 4): with a label per issue
(the Council voting rule), each issue's half-width is calibrated on the scores of its own stratum
only, so that the coverage holds within each stratum and not only on average over them.

Intervals are clipped to the scale; clipping cannot change whether an outcome on the scale is
covered.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
LEVEL = 0.8
_EPS = 1e-9  # (n + 1) * level in floating point may land just above a whole number (100 * 0.55)


class CalibrationError(ValueError):
    """Too few scores with outcomes to calibrate an interval at the level asked; `stratum` names
    the stratum (voting rule) that has too few, if any."""

    def __init__(self, message: str, stratum: str | None = None):
        super().__init__(message)
        self.stratum = stratum


def conformal_rank(n: int, level: float = LEVEL) -> int:
    """The rank k = ceil((n + 1) * level) of the conformal quantile among n scores (1-based);
    k > n means no finite quantile.

    >>> conformal_rank(9), conformal_rank(10), conformal_rank(4), conformal_rank(3)
    (8, 9, 4, 4)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), not {level}")
    return math.ceil((n + 1) * level - _EPS)


def min_calibration(level: float = LEVEL) -> int:
    """The fewest scores that give a finite conformal quantile at `level` (4 at 80%).

    >>> min_calibration(0.8), min_calibration(0.9), min_calibration(0.5)
    (4, 9, 1)
    """
    n = 1
    while conformal_rank(n, level) > n:
        n += 1
    return n


def conformal_quantile(scores: ArrayLike, level: float = LEVEL) -> float:
    """The finite-sample conformal quantile of `scores` (NaN ignored): the
    ceil((n + 1) * level)-th smallest. Raises CalibrationError when there are too few.

    >>> conformal_quantile([5, 1, 4, 2, 3])  # n = 5: rank ceil(6 * 0.8) = 5, the largest
    5.0
    >>> conformal_quantile(range(1, 11))  # n = 10: rank ceil(8.8) = 9
    9.0
    """
    s = np.sort(np.asarray(scores, float).ravel())
    s = s[~np.isnan(s)]
    k = conformal_rank(s.size, level)
    if k > s.size:
        raise CalibrationError(
            f"{s.size} issue(s) with outcomes: too few to calibrate the {level:.0%} interval "
            f"(at least {min_calibration(level)} needed)"
        )
    return float(s[k - 1])


def _need(n: int, level: float, where: str = "", stratum: str | None = None) -> None:
    if conformal_rank(n, level) > n:
        raise CalibrationError(
            f"{where}{n} issue(s) with outcomes{f' ({stratum})' if stratum else ''}: too few to "
            f"calibrate the {level:.0%} interval (at least {min_calibration(level)} needed)",
            stratum,
        )


def split_conformal(
    scores: ArrayLike,
    n_issues: int,
    level: float = LEVEL,
    strata: ArrayLike | None = None,
    calibration_strata: ArrayLike | None = None,
) -> FloatArray:
    """Half-widths of `n_issues` new issues from calibration `scores` (NaN = no outcome): one
    conformal quantile for all, or with `strata` (one label per new issue) and
    `calibration_strata` (one per score) a quantile per stratum from that stratum's scores only
    (a Mondrian conformal predictor; Vovk, Gammerman & Shafer 2005, ch. 4)."""
    s = np.asarray(scores, float)
    if strata is None or calibration_strata is None:
        _need(int((~np.isnan(s)).sum()), level)
        return np.full(n_issues, conformal_quantile(s, level))
    new, old = np.asarray(strata), np.asarray(calibration_strata)
    q = np.full(n_issues, np.nan)
    for label in np.unique(new):
        mine = s[(old == label) & ~np.isnan(s)]
        _need(mine.size, level, stratum=str(label))
        q[new == label] = conformal_quantile(mine, level)
    return q


def cross_conformal(
    point: ArrayLike,
    outcome: ArrayLike,
    fold: ArrayLike,
    level: float = LEVEL,
    scores_within: Callable[[NDArray[np.bool_]], FloatArray] | None = None,
    strata: ArrayLike | None = None,
) -> FloatArray:
    """Half-width of every issue's interval, calibrated out of fold.

    Issues in fold f get q_f = conformal_quantile of the scores of the issues with an outcome in
    the other folds (with `strata`, one label per issue: of those in the same stratum only). The
    scores are |outcome - point| unless `scores_within(mask)` is given: then it returns the scores
    of the issues in `mask`, in order (a fitted model's out-of-fold residuals computed within
    `mask` only). Issues without an outcome are predicted but never calibrate.
    """
    p = np.asarray(point, float)
    y = np.asarray(outcome, float)
    folds = np.asarray(fold)
    labels = None if strata is None else np.asarray(strata)
    known = ~np.isnan(y) & ~np.isnan(p)
    q = np.full(p.shape, np.nan)
    for f in np.unique(folds):
        test = folds == f
        where = f"outside fold {int(f)} of {np.unique(folds).size}: "
        if labels is None:
            _need(int((known & ~test).sum()), level, where)
        else:
            for label in np.unique(labels[test]):
                n = int((known & ~test & (labels == label)).sum())
                _need(n, level, where, str(label))
        scores = np.full(p.shape, np.nan)
        if scores_within is None:
            scores[~test] = np.abs(y - p)[~test]
        else:
            scores[~test] = scores_within(~test)
        scores[~known] = np.nan
        q[test] = split_conformal(
            scores[~test],
            int(test.sum()),
            level,
            None if labels is None else labels[test],
            None if labels is None else labels[~test],
        )
    return q


def interval(
    point: ArrayLike, half_width: ArrayLike, low: float = 0.0, high: float = 100.0
) -> tuple[FloatArray, FloatArray]:
    """[point - q, point + q] clipped to [low, high].

    >>> lo, hi = interval([10.0, 50.0], [20.0, 20.0])
    >>> lo.tolist(), hi.tolist()
    ([0.0, 30.0], [30.0, 70.0])
    """
    p = np.asarray(point, float)
    q = np.asarray(half_width, float)
    return np.clip(p - q, low, high), np.clip(p + q, low, high)
