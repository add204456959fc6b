"""Outcome probabilities from a fitted game: for the rows of a data table (as the R package's
`predict()`), or for covariate values given by name, at the estimates or at coefficients drawn
from their sampling distribution (normal, with the estimated covariance), so that a forecast that
uses a fitted game carries the uncertainty of its estimation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CaseError, Problem
from .design import regressors
from .fit import GameFit
from .io import Table
from .model import choices


def outcome_probabilities(
    fit: GameFit,
    values: Mapping[str, Any],
    n: int,
    theta: np.ndarray | None = None,
) -> np.ndarray:
    """An (n, 3) array: each observation's probability of the status quo, of player 2 giving in
    and of player 2 resisting. `values` maps each covariate the formula reads to a value or an
    array of n values (a level for a text column); `theta` is None for the estimates, or an
    (n, k) array with one draw of the coefficients per observation. Raises ValueError."""
    X = regressors(fit.formula, values, fit.levels, n)
    counts = [M.shape[1] for M in X]
    if sum(counts) != len(fit.estimate):
        raise ValueError(
            f"the formula gives {sum(counts)} coefficients; the fitted game has {len(fit.estimate)}"
        )
    b = fit.estimate if theta is None else theta
    return choices(b, X, fit.link, fit.kind).outcomes()


def draw_coefficients(fit: GameFit, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws of the coefficients from their sampling distribution, N(estimate, vcov). Raises
    ValueError when the fitted game has no usable covariance."""
    if fit.vcov is None:
        raise ValueError("the fitted game has no covariance of its estimates (no standard errors)")
    V = (fit.vcov + fit.vcov.T) / 2
    values, vectors = np.linalg.eigh(V)
    if values.min() < -1e-10 * max(1.0, float(values.max())):
        raise ValueError(
            "the covariance of the estimates is not positive definite (the coefficients are not "
            "locally identified); it cannot be drawn from"
        )
    root = vectors * np.sqrt(np.clip(values, 0, None))
    z = rng.standard_normal((n, len(fit.estimate)))
    return fit.estimate + z @ root.T


def predict_table(fit: GameFit, table: Table) -> tuple[np.ndarray, np.ndarray]:
    """Outcome probabilities for every row of `table` with every covariate the formula reads:
    (indices of those rows, (rows, 3) probabilities). Raises CaseError."""
    columns = fit.formula.columns
    for name in columns:
        if name not in table.cells:
            raise CaseError([Problem(table.path, 1, name, "no such column (the game reads it)")])
    keep = np.ones(len(table), dtype=bool)
    for name in columns:
        keep &= ~table.missing(name)
    idx = np.flatnonzero(keep)
    values: dict[str, Any] = {}
    for name in columns:
        if name in fit.levels:
            cells = table.text(name)
            text = [cells[k] for k in idx]
            for k, t in zip(idx, text, strict=True):
                if t not in fit.levels[name]:
                    raise CaseError(
                        [
                            Problem(
                                table.path,
                                table.lines[k],
                                name,
                                f"{t!r} is not one of the levels the game was fitted on "
                                f"({', '.join(fit.levels[name])})",
                            )
                        ]
                    )
            values[name] = text
        else:
            numbers = table.numeric(name)
            if numbers is None:
                bad = next(
                    k
                    for k, t in enumerate(table.text(name))
                    if t not in ("", "NA") and not _is_number(t)
                )
                raise CaseError(
                    [
                        Problem(
                            table.path,
                            table.lines[bad],
                            name,
                            f"{table.cells[name][bad]!r} is not a number (the game was fitted "
                            "with this column numeric)",
                        )
                    ]
                )
            values[name] = numbers[idx]
    if len(idx) == 0:
        return idx, np.zeros((0, 3))
    return idx, outcome_probabilities(fit, values, len(idx))


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False
