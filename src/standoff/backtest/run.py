"""A backtest run: predictions of one model on a DEU III file, and their scores by voting rule."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..bargaining import ENGINES
from ..errors import CaseError, Problem
from .deu3 import Dataset, read_deu3
from .models import (
    EXTRA_MODELS,
    FloatArray,
    Setup,
    apply_blend,
    cross_validated_blend,
    features,
    fit_blend,
    issue_inputs,
    run_engine,
)
from .scores import Interval, bootstrap, interval_scores, paired_difference, point_scores

RULES = ("all", "QMV", "Unan")
DEFAULT_FOLDS = 5


def model_names() -> list[str]:
    return sorted(ENGINES) + list(EXTRA_MODELS)


@dataclass
class Prediction:
    model: str
    data: Dataset
    point: FloatArray  # (issues,)
    samples: FloatArray | None = None  # (issues, draws) when draws > 1
    notes: list[str] = field(default_factory=list)

    def interval(self, level: float = 0.8) -> tuple[FloatArray, FloatArray] | None:
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
) -> Prediction:
    """One model's predictions on every issue of `data`.

    The blend is fitted on `train` when given (all of it), else cross-validated within `data`
    (k folds of whole proposals): each issue is predicted by weights fitted without its proposal.
    """
    if model == "status-quo":
        comp = run_engine("compromise", [issue_inputs(i, data.gdp, setup) for i in data.issues])
        ref = np.array([i.reference for i in data.issues])
        return Prediction(model, data, np.where(np.isnan(ref), comp[:, 0], ref))
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
    settled = run_engine(model, per_issue, draws=draws, seed=seed, setup=setup, options=options)
    return Prediction(model, data, settled[:, 0], settled if draws > 1 else None)


def scores(prediction: Prediction, n_boot: int = 2000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Scores per voting rule (`all`, `QMV`, `Unan`) over issues with a known outcome, with a
    cluster-bootstrap 95% interval of the MAE."""
    data = prediction.data
    outcome = np.array([i.outcome for i in data.issues])
    voting = np.array([i.voting for i in data.issues])
    known = ~np.isnan(outcome) & ~np.isnan(prediction.point)
    interval = prediction.interval()
    out: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        mask = known & ((voting == rule) if rule != "all" else True)
        if not mask.any():
            continue
        row: dict[str, Any] = point_scores(prediction.point[mask], outcome[mask])
        err = np.abs(prediction.point[mask] - outcome[mask])
        clusters = [i.proposal for i, m in zip(data.issues, mask, strict=True) if m]
        row["mae_ci"] = bootstrap(err, clusters, n=n_boot, seed=seed)
        if interval is not None and prediction.samples is not None:
            row.update(
                interval_scores(
                    interval[0][mask], interval[1][mask], outcome[mask], prediction.samples[mask]
                )
            )
        out[rule] = row
    return out


def compare(a: Prediction, b: Prediction, n_boot: int = 2000, seed: int = 0) -> dict[str, Interval]:
    """MAE(a) - MAE(b) per voting rule with a paired cluster-bootstrap 95% interval."""
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
        )
    return out


def training_file(data: Dataset, train: Path | None) -> Dataset | None:
    """The file the blend is fitted on: `train` if given; none (cross-validate) if `data` has
    outcomes; else `deu3-dev.tsv` beside `data`. Never a file without outcomes."""
    if train is None:
        if data.scored:
            return None
        train = Path(data.file).with_name("deu3-dev.tsv")
        if not train.exists():
            raise CaseError(
                [Problem(data.file, 1, "--train", "no outcomes here and no deu3-dev.tsv beside")]
            )
    fitted = read_deu3(train)
    if not fitted.scored:
        raise CaseError([Problem(str(train), 1, "out", "no outcomes to fit on")])
    return fitted


def write_predictions(path: Path, predictions: list[Prediction]) -> None:
    """CSV: isnr, prediction (0-100), and lower80/upper80 where sampled; with several models a
    `model` column first."""
    many = len(predictions) > 1
    sampled = any(p.samples is not None for p in predictions)
    header = (["model"] if many else []) + ["isnr", "prediction"]
    header += ["lower80", "upper80"] if sampled else []
    lines = [",".join(header)]
    for p in predictions:
        band = p.interval()
        for k, issue in enumerate(p.data.issues):
            row = ([p.model] if many else []) + [issue.isnr, _fmt(p.point[k])]
            if sampled:
                row += [_fmt(band[0][k]), _fmt(band[1][k])] if band else ["", ""]
            lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.4f}"
