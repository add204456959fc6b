"""Out-of-sample checks of a crisis game: K-fold cross-validation of the fitted game against two
simpler forecasts of the same three outcomes:

- a multinomial logit on the same covariates (every regressor of any utility equation, once,
  with an intercept), which forgets the game's structure and keeps only the data;
- the base rates: each outcome's share in the training folds.

Folds are drawn at random within each outcome (stratified), from a seed, so every training set
holds every outcome. Each held-out observation is scored by the log score (the log of the
probability given to what happened; higher is better) and the Brier score (the squared distance
of the three probabilities from what happened, 0 to 2; lower is better). The means come with
their standard errors over observations, and each rival's difference from the game with the
standard error of the paired difference, which is what says whether the game does better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .design import Design
from .fit import FitError, fit_design
from .formula import GameFormula
from .model import Game


@dataclass(frozen=True)
class Score:
    """One forecaster's held-out scores: per observation, and their means with standard errors."""

    name: str
    log: np.ndarray
    brier: np.ndarray

    def mean(self, what: str) -> tuple[float, float]:
        x = self.log if what == "log" else self.brier
        return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(len(x)))

    def versus(self, other: Score, what: str) -> tuple[float, float]:
        """Mean and standard error of (self - other), paired over observations."""
        a = self.log if what == "log" else self.brier
        b = other.log if what == "log" else other.brier
        d = a - b
        return float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(len(d)))


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    seed: int
    n: int
    scores: list[Score]  # the game first
    failed_folds: int


def folds_of(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Each observation's fold (0..k-1), random within each outcome."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    offset = 0
    for outcome in np.unique(y):
        where = np.flatnonzero(y == outcome)
        rng.shuffle(where)
        fold[where] = (np.arange(len(where)) + offset) % k
        offset += len(where)
    return fold


def mnl_matrix(design: Design) -> np.ndarray:
    """Every regressor of any equation, once by name, after an intercept."""
    cols = [np.ones(len(design.y))]
    seen = {"(Intercept)"}
    for M, names in zip(design.X, design.columns, strict=True):
        for j, name in enumerate(names):
            if name not in seen:
                seen.add(name)
                cols.append(M[:, j])
    return np.column_stack(cols)


def fit_mnl(W: np.ndarray, y: np.ndarray, classes: int = 3) -> np.ndarray:
    """The maximum likelihood multinomial logit, the first outcome the baseline: a (k, classes)
    array of coefficients whose first column is zero."""
    n, k = W.shape
    Y = np.eye(classes)[y]

    def f(b: np.ndarray) -> tuple[float, np.ndarray]:
        B = np.column_stack([np.zeros(k), b.reshape(k, classes - 1)])
        eta = W @ B
        logp = eta - special.logsumexp(eta, axis=1, keepdims=True)
        value = -float(np.sum(Y * logp)) / n
        grad = -(W.T @ (Y - np.exp(logp)))[:, 1:] / n
        return value, grad.ravel()

    res = optimize.minimize(
        f, np.zeros(k * (classes - 1)), jac=True, method="BFGS", options={"gtol": 1e-8}
    )
    return np.column_stack([np.zeros(k), res.x.reshape(k, classes - 1)])


def mnl_probabilities(W: np.ndarray, B: np.ndarray) -> np.ndarray:
    eta = W @ B
    return np.exp(eta - special.logsumexp(eta, axis=1, keepdims=True))


def _scores(P: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P = np.clip(P, 1e-300, 1.0)
    onehot = np.eye(P.shape[1])[y]
    return np.log(P[np.arange(len(y)), y]), np.sum((P - onehot) ** 2, axis=1)


def cross_validate(
    design: Design,
    formula: GameFormula,
    game: Game,
    link: str,
    kind: str,
    folds: int = 10,
    seed: int = 1,
) -> CrossValidation:
    """Held-out scores of the game, the multinomial logit and the base rates. A fold whose game
    cannot be fitted (a factor level absent from its training rows) is left out of all three."""
    from .model import choices

    if folds < 2 or folds > len(design.y):
        raise ValueError(
            f"folds must be between 2 and the number of observations ({len(design.y)})"
        )
    fold = folds_of(design.y, folds, seed)
    W = mnl_matrix(design)
    n = len(design.y)
    P = {name: np.full((n, 3), np.nan) for name in ("game", "mnl", "base")}
    failed = 0
    for k in range(folds):
        test, train = fold == k, fold != k
        sub = Design(
            [M[train] for M in design.X],
            design.columns,
            design.y[train],
            design.outcomes,
            design.levels,
            design.numeric,
            design.rows[train],
            0,
        )
        try:
            fitted = fit_design(sub, formula, link, kind, game, standard_errors=False)
        except FitError:
            failed += 1
            continue
        X_test = [M[test] for M in design.X]
        P["game"][test] = choices(fitted.estimate, X_test, link, kind).outcomes()
        P["mnl"][test] = mnl_probabilities(W[test], fit_mnl(W[train], design.y[train]))
        rates = np.bincount(design.y[train], minlength=3) / train.sum()
        P["base"][test] = rates
    scored = ~np.isnan(P["game"][:, 0])
    y = design.y[scored]
    labels = {"game": "game", "mnl": "multinomial logit", "base": "base rates"}
    scores = []
    for key, name in labels.items():
        log, brier = _scores(P[key][scored], y)
        scores.append(Score(name, log, brier))
    return CrossValidation(folds, seed, int(scored.sum()), scores, failed)
