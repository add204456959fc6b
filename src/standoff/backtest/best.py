"""The best model (`--model best`): chosen on issues with outcomes alone, by cross-validation.

Every candidate below predicts each issue from its inputs alone (no outcome is read). Three ways
of turning them into one prediction are compared:

- `single:<candidate>`: one candidate as it is (nothing fitted);
- `switch`: per Council voting rule, the candidate with the lowest mean absolute error on the
  training issues of that rule;
- `stack`: per voting rule, a convex combination of all the candidates (weights >= 0 summing to
  1) with the least absolute error on the training issues, a linear programme (least absolute
  deviations; Koenker & Bassett 1978) solved exactly by HiGHS.

A rule with fewer than MIN_RULE training issues takes the pooled fit. The method is **chosen** by
the mean absolute error of its predictions cross-validated within the training issues (folds of
whole proposals), ties going to the simpler method (singles, then the switch, then the stack).

On a file with outcomes and no training file (the dev split), `best` is evaluated out of fold,
selection included (nested cross-validation): each fold of proposals is predicted by the method
chosen and fitted on the other folds alone. On a file without outcomes (the holdout) the method is
chosen and fitted on the training file (`deu3-dev.tsv`) and applied to the file's candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from ..run.executor import Executor
from .deu3 import Dataset
from .models import COM, FloatArray, Setup, group_folds, issue_inputs, run_engine

MIN_RULE = 5  # training issues a voting rule needs for a fit of its own


@dataclass(frozen=True)
class Candidate:
    """A prediction from the inputs alone: an engine with options, or `median`, `status-quo`
    (the reference point, the compromise where blank), `commission` (the Commission's position,
    the compromise where blank)."""

    model: str
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        if not self.options:
            return self.model
        return f"{self.model}({','.join(f'{k}={v}' for k, v in self.options)})"


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("compromise"),
    Candidate("median"),
    Candidate("status-quo"),
    Candidate("commission"),
    Candidate("eum"),
    Candidate("smp"),
    Candidate("exchange"),
    Candidate("condorcet"),
    Candidate("condorcet", (("pce", "markov_uniform"),)),
    Candidate("nash"),
    Candidate("nash", (("disagreement", "worst"),)),
    Candidate("nash", (("disagreement", "worst"), ("utility", "linear"))),
    Candidate("procedural"),
)


def candidate_predictions(
    data: Dataset,
    setup: Setup,
    candidates: tuple[Candidate, ...] = CANDIDATES,
    executor: Executor | None = None,
) -> FloatArray:
    """(issues, candidates) each candidate's prediction of every issue (central inputs)."""
    per_issue = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    compromise = run_engine("compromise", per_issue, setup=setup)[:, 0]
    columns = []
    for c in candidates:
        if c.model == "status-quo":
            ref = np.array([i.reference for i in data.issues])
            columns.append(np.where(np.isnan(ref), compromise, ref))
        elif c.model == "commission":
            com = np.array([i.position[COM] for i in data.issues])
            columns.append(np.where(np.isnan(com), compromise, com))
        else:
            settled = run_engine(c.model, per_issue, setup=setup, options=dict(c.options),
                                 executor=executor)  # fmt: skip
            columns.append(settled[:, 0])
    return np.stack(columns, axis=1)


Predictor = Callable[[FloatArray, NDArray[Any]], FloatArray]


def _by_rule(
    fit_one: Callable[[FloatArray, FloatArray], FloatArray],
    x: FloatArray,
    y: FloatArray,
    voting: NDArray[Any],
) -> dict[str, FloatArray]:
    """Weights per voting rule (and `*`, pooled) fitted by `fit_one` on the rows with outcomes
    and every candidate known."""
    ok = ~np.isnan(y) & np.isfinite(x).all(axis=1)
    if not ok.any():
        raise ValueError("no training issues with outcomes to choose the best model on")
    pooled = fit_one(x[ok], y[ok])
    fitted = {"*": pooled}
    for rule in np.unique(voting):
        mask = ok & (voting == rule)
        fitted[str(rule)] = fit_one(x[mask], y[mask]) if mask.sum() >= MIN_RULE else pooled
    return fitted


def _apply(weights: dict[str, FloatArray], x: FloatArray, voting: NDArray[Any]) -> FloatArray:
    w = np.stack([weights.get(str(rule), weights["*"]) for rule in voting])
    return np.asarray((x * w).sum(axis=1), dtype=float)


def _pick_one(x: FloatArray, y: FloatArray) -> FloatArray:
    """One-hot weights on the column with the lowest mean absolute error (the first on ties)."""
    mae = np.abs(x - y[:, None]).mean(axis=0)
    w = np.zeros(x.shape[1])
    w[int(np.argmin(mae))] = 1.0
    return w


def lad_simplex(x: FloatArray, y: FloatArray) -> FloatArray:
    """Weights w >= 0, sum w = 1, minimizing sum |y - x w|: the linear programme
    min sum(e+ + e-) s.t. x w + e+ - e- = y, sum w = 1, w, e+, e- >= 0."""
    n, f = x.shape
    eye = sparse.identity(n, format="csr")
    a_eq = sparse.vstack(
        [
            sparse.hstack([sparse.csr_matrix(x), eye, -eye]),
            sparse.hstack([sparse.csr_matrix(np.ones((1, f))), sparse.csr_matrix((1, 2 * n))]),
        ],
        format="csr",
    )
    cost = np.concatenate([np.zeros(f), np.ones(2 * n)])
    result = linprog(cost, A_eq=a_eq, b_eq=np.append(y, 1.0), bounds=(0, None), method="highs")
    if result.status != 0:  # infeasible cannot happen (w on one vertex is feasible); be safe
        return _pick_one(x, y)
    w = np.clip(result.x[:f], 0.0, None)
    return w / w.sum()


METHODS = ("single", "switch", "stack")


@dataclass(frozen=True)
class Method:
    """How candidates become one prediction: `single` (column `column`), `switch` or `stack`."""

    kind: str
    column: int = 0

    def fit(self, x: FloatArray, y: FloatArray, voting: NDArray[Any]) -> dict[str, FloatArray]:
        if self.kind == "single":
            w = np.zeros(x.shape[1])
            w[self.column] = 1.0
            return {"*": w}
        return _by_rule(_pick_one if self.kind == "switch" else lad_simplex, x, y, voting)

    def label(self, labels: list[str]) -> str:
        return f"single:{labels[self.column]}" if self.kind == "single" else self.kind


def methods(n_candidates: int) -> list[Method]:
    """Every method, simplest first (the order that breaks ties)."""
    return [Method("single", c) for c in range(n_candidates)] + [Method("switch"), Method("stack")]


def cross_validated(
    method: Method, x: FloatArray, y: FloatArray, voting: NDArray[Any], fold: NDArray[np.intp]
) -> FloatArray:
    """Out-of-fold predictions of `method`: each fold predicted by weights fitted on the others."""
    pred = np.full(y.shape, np.nan)
    for f in np.unique(fold):
        train = fold != f
        weights = method.fit(x[train], y[train], voting[train])
        pred[~train] = _apply(weights, x[~train], voting[~train])
    return pred


def choose(
    x: FloatArray,
    y: FloatArray,
    voting: NDArray[Any],
    groups: list[str],
    folds: int,
    seed: int,
    labels: list[str] | None = None,
) -> tuple[Method, dict[str, float]]:
    """The method with the lowest cross-validated MAE on these issues (folds of proposals), and
    every method's CV MAE by its label (`labels` name the candidates; by default their
    indices)."""
    names = labels if labels is not None else [str(c) for c in range(x.shape[1])]
    fold = group_folds(groups, min(folds, len(set(groups))), seed)
    known = ~np.isnan(y) & np.isfinite(x).all(axis=1)
    scores: dict[str, float] = {}
    best: Method | None = None
    best_mae = np.inf
    for m in methods(x.shape[1]):
        pred = cross_validated(m, x, y, voting, fold)
        mae = float(np.nanmean(np.abs(pred - y)[known]))
        scores[m.label(names)] = mae
        if mae < best_mae - 1e-12:
            best, best_mae = m, mae
    assert best is not None
    return best, scores


@dataclass
class BestFit:
    """Predictions of the best model and how they were made."""

    point: FloatArray
    chosen: list[str] = field(default_factory=list)  # the method chosen (per outer fold)
    weights: dict[str, FloatArray] = field(default_factory=dict)  # when fitted once


def nested(
    x: FloatArray,
    y: FloatArray,
    voting: NDArray[Any],
    groups: list[str],
    folds: int,
    seed: int,
    labels: list[str],
    fold: NDArray[np.intp] | None = None,
) -> BestFit:
    """Out-of-fold predictions of the whole procedure, choice included: each outer fold (of
    proposals; `fold` if given) is predicted by the method chosen by an inner cross-validation on
    the other folds and fitted on them."""
    fold = group_folds(groups, folds, seed) if fold is None else np.asarray(fold)
    pred = np.full(y.shape, np.nan)
    chosen = []
    for f in np.unique(fold):
        train = fold != f
        inner_groups = [g for g, t in zip(groups, train, strict=True) if t]
        method, _ = choose(x[train], y[train], voting[train], inner_groups, folds, seed, labels)
        weights = method.fit(x[train], y[train], voting[train])
        pred[~train] = _apply(weights, x[~train], voting[~train])
        chosen.append(method.label(labels))
    return BestFit(pred, chosen)


def fitted(
    x_train: FloatArray,
    y_train: FloatArray,
    voting_train: NDArray[Any],
    groups_train: list[str],
    x: FloatArray,
    voting: NDArray[Any],
    folds: int,
    seed: int,
    labels: list[str],
) -> BestFit:
    """The method chosen by cross-validation on the training issues, fitted on all of them,
    applied to `x`."""
    method, _ = choose(x_train, y_train, voting_train, groups_train, folds, seed, labels)
    weights = method.fit(x_train, y_train, voting_train)
    return BestFit(_apply(weights, x, voting), [method.label(labels)], weights)


def describe(fit: BestFit, labels: list[str]) -> str:
    """The choice in words: the method (per fold) and, when fitted once, its weights per rule."""
    counts: dict[str, int] = {}
    for c in fit.chosen:
        counts[c] = counts.get(c, 0) + 1
    text = ", ".join(f"{c} ({n} of {len(fit.chosen)})" if len(fit.chosen) > 1 else c
                     for c, n in counts.items())  # fmt: skip
    if fit.weights and fit.chosen and not fit.chosen[0].startswith("single:"):
        parts = []
        for rule, w in fit.weights.items():
            shown = ", ".join(f"{labels[i]} {w[i]:.2f}" for i in np.argsort(-w) if w[i] >= 0.005)
            parts.append(f"{rule}: {shown}")
        text += "; weights " + "; ".join(parts)
    return text
