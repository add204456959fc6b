"""A backtest run: predictions of one model on a DEU III file, and their scores by voting rule.

Two intervals, for two different questions:

- the **predictive interval** (`low80`, `high80`): where the outcome will fall, 80% of the time.
  Conformal, calibrated on the model's absolute residuals (conformal.py): out of fold within the
  file when it has outcomes (folds of whole proposals), else on a training file with outcomes
  (`training_file`; the holdout's outcomes are never read).
- the **input band** (`band_low80`, `band_high80`, with draws > 1): the 10th-90th percentile of
  the model's settlements over draws of noisy positions and saliences. It measures how sensitive
  the prediction is to its inputs, not how far the outcome may be from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import outputs
from ..bargaining import ENGINES
from ..errors import CaseError, Problem
from ..run.executor import Executor
from . import best
from .conformal import LEVEL, CalibrationError, cross_conformal, interval, split_conformal
from .deu3 import Dataset, read_deu3
from .models import (
    EXTRA_MODELS,
    FloatArray,
    Setup,
    apply_blend,
    cross_validated_blend,
    features,
    fit_blend,
    group_folds,
    issue_inputs,
    run_engine,
)
from .scores import Interval, bootstrap, interval_scores, paired_difference, point_scores

RULES = ("all", "QMV", "Unan")
DEFAULT_FOLDS = 5
GAIN_LEVEL = 0.9  # the paired bootstrap interval the best model's gain is shown with


def model_names() -> list[str]:
    return sorted(ENGINES) + list(EXTRA_MODELS)


@dataclass
class Prediction:
    model: str
    data: Dataset
    point: FloatArray  # (issues,)
    samples: FloatArray | None = None  # (issues, draws) when draws > 1
    notes: list[str] = field(default_factory=list)
    half_width: FloatArray | None = None  # (issues,) of the 80% predictive interval
    # the best model's candidate predictions: (on `data`, on the training file or None)
    candidates: tuple[FloatArray, FloatArray | None] | None = None

    def predictive(self) -> tuple[FloatArray, FloatArray] | None:
        """The 80% predictive (conformal) interval, clipped to 0-100; None if not calibrated."""
        if self.half_width is None:
            return None
        return interval(self.point, self.half_width)

    def band(self, level: float = LEVEL) -> tuple[FloatArray, FloatArray] | None:
        """The input band: central `level` percentile interval of the settlements over draws of
        noisy inputs; None without draws. Not a predictive interval."""
        if self.samples is None:
            return None
        a = (1 - level) / 2
        lo, hi = np.quantile(self.samples, [a, 1 - a], axis=1)
        return lo, hi


def predict(
    model: str,
    data: Dataset,
    setup: Setup,
    draws: int = 1,
    seed: int = 0,
    train: Dataset | None = None,
    folds: int = DEFAULT_FOLDS,
    options: dict[str, Any] | None = None,
    calibrate: bool = False,
    calibrate_by: str = "rule",
    executor: Executor | None = None,
) -> Prediction:
    """One model's predictions on every issue of `data`.

    The blend is fitted on `train` when given (all of it), else cross-validated within `data`
    (k folds of whole proposals): each issue is predicted by weights fitted without its proposal.
    With `calibrate`, the 80% predictive interval too (`calibrate_interval`, `calibrate_by`
    `rule` or `all`). With an `executor`, the engine's issues run on it in blocks (the same
    predictions).
    """
    made = _predict(model, data, setup, draws, seed, train, folds, options, executor)
    if calibrate:
        calibrate_interval(
            made, setup, seed, train, folds, options, by=calibrate_by, executor=executor
        )
    return made


def _predict(
    model: str,
    data: Dataset,
    setup: Setup,
    draws: int,
    seed: int,
    train: Dataset | None,
    folds: int,
    options: dict[str, Any] | None,
    executor: Executor | None = None,
) -> Prediction:
    if model == "status-quo":
        comp = run_engine("compromise", [issue_inputs(i, data.gdp, setup) for i in data.issues])
        ref = np.array([i.reference for i in data.issues])
        return Prediction(model, data, np.where(np.isnan(ref), comp[:, 0], ref))
    if model == "best":
        return _predict_best(data, setup, seed, train, folds, executor)
    if model == "blend":
        feats = features(data, setup)
        voting = [i.voting for i in data.issues]
        if train is None:
            outcome = np.array([i.outcome for i in data.issues])
            point = cross_validated_blend(
                feats, outcome, voting, [i.proposal for i in data.issues], k=folds, seed=seed
            )
            note = f"blend: {folds}-fold cross-validated within {data.file} (folds of proposals)"
        else:
            outcome = np.array([i.outcome for i in train.issues])
            weights = fit_blend(features(train, setup), outcome, [i.voting for i in train.issues])
            point = apply_blend(feats, weights, voting)
            shown = ", ".join(f"{k}: {np.round(v, 2).tolist()}" for k, v in weights.items())
            note = f"blend fitted on {train.file}; weights (compromise, median, rp, com) {shown}"
        return Prediction(model, data, point, notes=[note])
    per_issue = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    settled = run_engine(
        model, per_issue, draws=draws, seed=seed, setup=setup, options=options, executor=executor
    )
    return Prediction(model, data, settled[:, 0], settled if draws > 1 else None)


def _outcomes(data: Dataset) -> FloatArray:
    return np.array([i.outcome for i in data.issues])


def _voting(data: Dataset) -> NDArray[Any]:
    return np.array([i.voting for i in data.issues])


def _proposals(data: Dataset) -> list[str]:
    return [i.proposal for i in data.issues]


def _predict_best(
    data: Dataset,
    setup: Setup,
    seed: int,
    train: Dataset | None,
    folds: int,
    executor: Executor | None = None,
) -> Prediction:
    """The best model (best.py): nested cross-validation within `data` when it is its own training
    file, else chosen and fitted on `train`."""
    labels = [c.label for c in best.CANDIDATES]
    x = best.candidate_predictions(data, setup, executor=executor)
    if train is None:
        if not data.scored:
            why = "best: no outcomes here to choose the model on (give --train FILE)"
            raise CaseError([Problem(data.file, 1, "out", why)])
        y = _outcomes(data)
        fit = best.nested(x, y, _voting(data), _proposals(data), folds, seed, labels)
        note = (
            f"best: chosen by {folds}-fold cross-validation within each training part of "
            f"{data.file} and predicted out of fold, the choice included (nested, folds of "
            f"proposals); chosen: {best.describe(fit, labels)}"
        )
        made = Prediction("best", data, fit.point, notes=[note], candidates=(x, None))
        known = ~np.isnan(y)
        if known.any():
            clusters = [p for p, k in zip(_proposals(data), known, strict=True) if k]
            gain = paired_difference(
                np.abs(fit.point - y)[known], np.abs(x[:, 0] - y)[known], clusters,
                seed=seed, level=GAIN_LEVEL,
            )  # fmt: skip
            made.notes.append(
                f"best − compromise: {gain.estimate:+.2f} MAE, {GAIN_LEVEL:.0%} paired cluster "
                f"bootstrap interval [{gain.low:+.2f}, {gain.high:+.2f}] (over proposals)"
            )
        return made
    xt = best.candidate_predictions(train, setup, executor=executor)
    fit = best.fitted(xt, _outcomes(train), _voting(train), _proposals(train), x, _voting(data),
                      folds, seed, labels)  # fmt: skip
    note = (
        f"best: chosen by {folds}-fold cross-validation on {train.file} and fitted there: "
        f"{best.describe(fit, labels)}"
    )
    return Prediction("best", data, fit.point, notes=[note], candidates=(x, xt))


CALIBRATE_BY = ("rule", "all")


def calibrate_interval(
    prediction: Prediction,
    setup: Setup,
    seed: int = 0,
    train: Dataset | None = None,
    folds: int = DEFAULT_FOLDS,
    options: dict[str, Any] | None = None,
    by: str = "rule",
    level: float = LEVEL,
    executor: Executor | None = None,
) -> None:
    """Set `prediction.half_width`: the conformal half-width of the 80% predictive interval.

    Without `train`, out of fold within the prediction's file (which must have outcomes): the
    folds of whole proposals of `group_folds(proposals, folds, seed)` (the blend's folds), each
    calibrated on the absolute residuals of the other folds; the blend's residuals there are
    themselves out of fold (an inner cross-validation within the other folds). With `train`
    (a file with outcomes): the conformal quantile of the model's absolute residuals on `train`
    (the blend's cross-validated there). `by`: `rule` calibrates each Council voting rule on the
    residuals of its own issues (Mondrian), `all` pools them. Raises CaseError when there are too
    few outcomes to calibrate.
    """
    if by not in CALIBRATE_BY:
        raise ValueError(f"by must be one of {', '.join(CALIBRATE_BY)}")
    model, data = prediction.model, prediction.data
    voting = np.array([i.voting for i in data.issues])
    strata = voting if by == "rule" else None
    try:
        if train is None:
            if not data.scored:
                raise CalibrationError("no outcomes here to calibrate the interval on (--train)")
            outcome = np.array([i.outcome for i in data.issues])
            fold = group_folds([i.proposal for i in data.issues], folds, seed)
            within = None
            if model == "blend":
                within = _blend_scores_within(data, setup, fold)
            elif model == "best":
                within = _best_scores_within(prediction, folds, seed, fold)
            q = cross_conformal(prediction.point, outcome, fold, level, within, strata)
            how = f"cross-conformal over {folds} folds of proposals"
        else:
            if model == "best" and prediction.candidates is not None:
                fitted = _best_within_train(prediction, train, folds, seed)
            else:
                fitted = _predict(model, train, setup, 1, seed, None, folds, options, executor)
            outcome = np.array([i.outcome for i in train.issues])
            residual = np.abs(outcome - fitted.point)
            old = np.array([i.voting for i in train.issues]) if by == "rule" else None
            q = split_conformal(residual, len(data.issues), level, strata, old)
            scored = int((~np.isnan(residual)).sum())
            cv = f", the {model} cross-validated there" if model in ("blend", "best") else ""
            how = f"calibrated on {train.file} ({scored} issues with outcomes{cv})"
    except CalibrationError as e:
        where = data.file if train is None else train.file
        hint = " (--calibrate-by all pools the voting rules)" if e.stratum else ""
        raise CaseError([Problem(where, 1, "out", f"{model}: {e}{hint}")]) from None
    prediction.half_width = q
    per = f"by voting rule, {_spread(q, voting)}" if by == "rule" else _spread(q)
    prediction.notes.append(f"{model}: {level:.0%} predictive interval ± {per}; {how}")


def _spread(q: FloatArray, labels: NDArray[Any] | None = None) -> str:
    if labels is None:
        lo, hi = np.nanmin(q), np.nanmax(q)
        return f"{lo:.1f}" + (f"–{hi:.1f}" if hi > lo else "")
    return ", ".join(f"{r} {_spread(q[labels == r])}" for r in np.unique(labels))


def _blend_scores_within(
    data: Dataset, setup: Setup, fold: NDArray[np.intp]
) -> Callable[[NDArray[np.bool_]], FloatArray]:
    """The blend's calibration scores on a subset of issues: the absolute residuals of a
    cross-validation within the subset (its own folds), so that no calibration score comes from
    weights fitted on that issue or on the held-out fold."""
    feats = features(data, setup)
    outcome = np.array([i.outcome for i in data.issues])
    voting = [i.voting for i in data.issues]
    groups = [i.proposal for i in data.issues]

    def scores(mask: NDArray[np.bool_]) -> FloatArray:
        inner = fold[mask]
        if np.unique(inner[~np.isnan(outcome[mask])]).size < 2:
            raise CalibrationError("the blend needs outcomes in at least three folds to calibrate")
        pred = cross_validated_blend(
            {name: v[mask] for name, v in feats.items()},
            outcome[mask],
            [v for v, m in zip(voting, mask, strict=True) if m],
            [g for g, m in zip(groups, mask, strict=True) if m],
            fold=inner,
        )
        return np.abs(outcome[mask] - pred)

    return scores


def _best_within_train(prediction: Prediction, train: Dataset, folds: int, seed: int) -> Prediction:
    """The best model's out-of-fold predictions on the training file (nested there): the scores
    that calibrate its interval on a file without outcomes."""
    assert prediction.candidates is not None and prediction.candidates[1] is not None
    labels = [c.label for c in best.CANDIDATES]
    xt = prediction.candidates[1]
    fit = best.nested(xt, _outcomes(train), _voting(train), _proposals(train), folds, seed,
                      labels)  # fmt: skip
    return Prediction("best", train, fit.point)


def _best_scores_within(
    prediction: Prediction, folds: int, seed: int, fold: NDArray[np.intp]
) -> Callable[[NDArray[np.bool_]], FloatArray]:
    """The best model's calibration scores on a subset of issues: the absolute residuals of its
    nested cross-validation within the subset (the subset's own folds), so that no score comes
    from a choice or a fit that saw that issue or the held-out fold."""
    assert prediction.candidates is not None
    data = prediction.data
    x = prediction.candidates[0]
    y, voting, groups = _outcomes(data), _voting(data), _proposals(data)
    labels = [c.label for c in best.CANDIDATES]

    def scores(mask: NDArray[np.bool_]) -> FloatArray:
        inner = fold[mask]
        if np.unique(inner[~np.isnan(y[mask])]).size < 2:
            raise CalibrationError("the best model needs outcomes in at least three folds to "
                                   "calibrate")  # fmt: skip
        sub = [g for g, m in zip(groups, mask, strict=True) if m]
        fit = best.nested(x[mask], y[mask], voting[mask], sub, folds, seed, labels, fold=inner)
        return np.abs(y[mask] - fit.point)

    return scores


def scores(prediction: Prediction, n_boot: int = 2000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Scores per voting rule (`all`, `QMV`, `Unan`) over issues with a known outcome, with a
    cluster-bootstrap 95% interval of the MAE."""
    data = prediction.data
    outcome = np.array([i.outcome for i in data.issues])
    voting = np.array([i.voting for i in data.issues])
    known = ~np.isnan(outcome) & ~np.isnan(prediction.point)
    predictive = prediction.predictive()
    band = prediction.band()
    out: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        mask = known & ((voting == rule) if rule != "all" else True)
        if not mask.any():
            continue
        row: dict[str, Any] = point_scores(prediction.point[mask], outcome[mask])
        err = np.abs(prediction.point[mask] - outcome[mask])
        clusters = [i.proposal for i, m in zip(data.issues, mask, strict=True) if m]
        row["mae_ci"] = bootstrap(err, clusters, n=n_boot, seed=seed)
        if predictive is not None:
            pi = interval_scores(predictive[0][mask], predictive[1][mask], outcome[mask])
            row["pi_coverage"], row["pi_width"] = pi["coverage"], pi["width"]
        if band is not None and prediction.samples is not None:
            ib = interval_scores(band[0][mask], band[1][mask], outcome[mask],
                                 prediction.samples[mask])  # fmt: skip
            row["band_coverage"], row["band_width"], row["crps"] = (
                ib["coverage"], ib["width"], ib["crps"]
            )  # fmt: skip
        out[rule] = row
    return out


def compare(
    a: Prediction, b: Prediction, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, Interval]:
    """MAE(a) - MAE(b) per voting rule with a paired cluster-bootstrap interval at `level`."""
    data = a.data
    outcome = np.array([i.outcome for i in data.issues])
    voting = np.array([i.voting for i in data.issues])
    known = ~np.isnan(outcome)
    out = {}
    for rule in RULES:
        mask = known & ((voting == rule) if rule != "all" else True)
        if not mask.any():
            continue
        clusters = [i.proposal for i, m in zip(data.issues, mask, strict=True) if m]
        out[rule] = paired_difference(
            np.abs(a.point[mask] - outcome[mask]),
            np.abs(b.point[mask] - outcome[mask]),
            clusters,
            n=n_boot,
            seed=seed,
            level=level,
        )
    return out


def training_file(data: Dataset, train: Path | None) -> Dataset | None:
    """The file the blend is fitted on and the predictive interval calibrated on: `train` if
    given; none (cross-validate within `data`) if `data` has outcomes; else `deu3-dev.tsv` beside
    `data`. Never a file without outcomes."""
    if train is None:
        if data.scored:
            return None
        train = Path(data.file).with_name("deu3-dev.tsv")
        if not train.exists():
            why = (
                "no outcomes here and no deu3-dev.tsv beside: give --train FILE with outcomes to "
                "fit and calibrate on (or --no-interval for a model other than the blend)"
            )
            raise CaseError([Problem(data.file, 1, "--train", why)])
    fitted = read_deu3(train)
    if not fitted.scored:
        raise CaseError([Problem(str(train), 1, "out", "no outcomes to fit or calibrate on")])
    return fitted


PREDICTION_COLUMNS = ("isnr", "prediction")
INTERVAL_COLUMNS = ("low80", "high80")
BAND_COLUMNS = ("band_low80", "band_high80")


def write_predictions(
    path: Path, predictions: list[Prediction], band: bool = False, inputs: Sequence[Path] = ()
) -> None:
    """CSV: `isnr,prediction` (0-100); then `low80,high80`, the 80% predictive interval, when
    the predictions were calibrated; then `band_low80,band_high80`, the input band, with `band`
    (draws > 1; empty for a model without draws). With several models a `model` column first.
    Written atomically, never over one of `inputs` (`standoff.outputs`; raises OutputError)."""
    many = len(predictions) > 1
    calibrated = any(p.half_width is not None for p in predictions)
    header = (["model"] if many else []) + list(PREDICTION_COLUMNS)
    header += list(INTERVAL_COLUMNS) if calibrated else []
    header += list(BAND_COLUMNS) if band else []
    lines = [",".join(header)]
    for p in predictions:
        pi, ib = p.predictive(), p.band()
        for k, issue in enumerate(p.data.issues):
            row = ([p.model] if many else []) + [issue.isnr, _fmt(p.point[k])]
            if calibrated:
                row += [_fmt(pi[0][k]), _fmt(pi[1][k])] if pi else ["", ""]
            if band:
                row += [_fmt(ib[0][k]), _fmt(ib[1][k])] if ib else ["", ""]
            lines.append(",".join(row))
    outputs.write_text(path, "\n".join(lines) + "\n", inputs)


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.4f}"
