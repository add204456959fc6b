"""Maximum likelihood for a crisis game.

Starting values come from statistical backward induction (Bas, Signorino & Walker 2008, as the R
package computes them): a binary regression of player 2's choice where player 1 challenged, then
one of player 1's choice on its utilities weighted by the fitted p3 and p4, both scaled by
sqrt(2). From there BFGS with the analytic gradient (scipy.optimize), then Newton steps on the
numerical Hessian until the gradient vanishes, so that the estimates are the maximum to many more
digits than four. Standard errors come from the inverse of the negative Hessian.

Identification (Lewis & Schultz 2003): a regressor in all three of player 1's utilities is not
identified (only differences of player 1's utilities matter), nor are regressors of one equation
that are linearly dependent; both are refused before fitting. A Hessian that is not negative
definite at the maximum is reported (`locally_identified` false).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

from .design import Design, column_names
from .formula import GameFormula
from .likelihood import hessian, loglik, loglik_gradient
from .model import EGAME12, GAMES, SQRT2, Game, cdf

#: Above this condition number of the Hessian, coefficients are reported as barely identified
#: (the package's examples are near 1e3; a covariate that separates the outcomes gives 1e12).
MAX_CONDITION = 1e10


class FitError(ValueError):
    """A model that cannot be fitted as specified; the message says why."""


@dataclass
class GameFit:
    """A fitted game: what it was fitted with, the estimates and their covariance."""

    game: str
    formula: GameFormula
    link: str
    kind: str
    outcomes: tuple[str, str, str]
    names: list[str]
    estimate: np.ndarray
    vcov: np.ndarray | None
    loglik: float
    n: int
    equations: dict[str, tuple[str, ...]]
    levels: dict[str, tuple[str, ...]]
    numeric: tuple[str, ...]
    converged: bool = True
    locally_identified: bool = True
    data: str | None = None
    rows_left_out: int = 0
    iterations: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def standard_errors(self) -> np.ndarray:
        if self.vcov is None:
            return np.full(len(self.estimate), np.nan)
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self.vcov))

    @property
    def spec(self) -> Game:
        return GAMES[self.game]

    def check_names(self) -> None:
        """The coefficients' names are those the formula, outcomes and levels give."""
        prefixes = self.spec.prefixes(self.outcomes)
        expected = coefficient_names(prefixes, column_names(self.formula, self.levels))
        if expected != self.names:
            raise ValueError(
                "the coefficients do not match the formula: expected "
                f"{', '.join(expected)}; found {', '.join(self.names)}"
            )


def coefficient_names(prefixes: list[str], columns: list[list[str]]) -> list[str]:
    """`u1(sq):(Intercept)`, `u1(sq):x`... as the R package names them; an equation fixed at 0
    has none."""
    return [f"{p}:{c}" for p, cols in zip(prefixes, columns, strict=True) for c in cols]


def _check(design: Design, prefixes: list[str]) -> None:
    counts = np.bincount(design.y, minlength=3)
    for k, count in enumerate(counts):
        if count == 0:
            raise FitError(
                f"no observation ends in outcome {design.outcomes[k]!r}; every outcome must occur"
            )
    c13, c14 = set(design.columns[1]), set(design.columns[2])
    common = [c for c in design.columns[0] if c in c13 and c in c14]
    if common:
        raise FitError(
            "not identified: player 1's three utilities all contain "
            f"{', '.join(common)} (only their differences matter: leave it out of one of them; "
            "Lewis & Schultz 2003)"
        )
    for M, names, prefix in zip(design.X, design.columns, prefixes, strict=True):
        if M.shape[1] and np.linalg.matrix_rank(M) < M.shape[1]:
            raise FitError(
                f"{prefix}: its regressors ({', '.join(names)}) are linearly dependent in the rows "
                "used (a column that is constant, or repeats another)"
            )


def _binary(X: np.ndarray, y: np.ndarray, link: str) -> np.ndarray:
    """A probit or logit regression of 0/1 `y` on `X` (the maximum, or zeros if it fails)."""
    k = X.shape[1]
    if k == 0:
        return np.zeros(0)

    def nll(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ b
        if link == "probit":
            lp, lq = special.log_ndtr(eta), special.log_ndtr(-eta)
            logf = -0.5 * eta * eta - 0.5 * math.log(2 * math.pi)
            gp, gq = np.exp(logf - lp), np.exp(logf - lq)
        else:
            lp, lq = -np.logaddexp(0, -eta), -np.logaddexp(0, eta)
            gp, gq = special.expit(-eta), special.expit(eta)
        value = -float(np.sum(y * lp + (1 - y) * lq))
        grad = -(X.T @ (y * gp - (1 - y) * gq))
        return value, grad

    res = optimize.minimize(nll, np.zeros(k), jac=True, method="BFGS", options={"maxiter": 500})
    return res.x if np.all(np.isfinite(res.x)) else np.zeros(k)


def start_values(X: list[np.ndarray], y: np.ndarray, link: str) -> np.ndarray:
    """Statistical backward induction: player 2's choice, then player 1's given p4."""
    X11, X13, X14, Z = X
    reached = y > 0
    gamma = _binary(Z[reached], (y[reached] == 2).astype(float), link)
    p4 = cdf(link, Z @ gamma) if Z.shape[1] else np.full(len(y), 0.5)
    W = np.column_stack([-X11, (1 - p4)[:, None] * X13, p4[:, None] * X14])
    beta = _binary(W, reached.astype(float), link)
    start = SQRT2 * np.concatenate([beta, gamma])
    return start if np.all(np.isfinite(start)) else np.zeros(len(start))


def maximize(
    X: list[np.ndarray],
    y: np.ndarray,
    link: str,
    kind: str,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, float, bool, int]:
    """The maximum likelihood estimate: (estimate, log-likelihood, converged, iterations)."""
    n = len(y)
    theta = start_values(X, y, link) if start is None else np.array(start, dtype=float)

    def f(b: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(all="ignore"):
            value = -loglik(b, X, y, link, kind) / n
            grad = -loglik_gradient(b, X, y, link, kind) / n
        if not math.isfinite(value) or not np.all(np.isfinite(grad)):
            return math.inf, np.zeros_like(b)
        return value, grad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = optimize.minimize(
            f, theta, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000}
        )
    theta = res.x
    iterations = int(res.nit)
    best = loglik(theta, X, y, link, kind)
    # Newton steps on the numerical Hessian: the last digits of the maximum
    for _ in range(50):
        g = loglik_gradient(theta, X, y, link, kind)
        if np.max(np.abs(g)) / n < 1e-12:
            break
        H = hessian(theta, X, y, link, kind)
        try:
            step = np.linalg.solve(-H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or float(g @ step) <= 0:
            break
        t = 1.0
        improved = False
        while t > 1e-6:
            trial = theta + t * step
            value = loglik(trial, X, y, link, kind)
            if math.isfinite(value) and value >= best - 1e-12 * abs(best):
                theta, best, improved = trial, value, True
                break
            t /= 2
        iterations += 1
        if not improved or np.max(np.abs(t * step)) < 1e-13:
            break
    g = loglik_gradient(theta, X, y, link, kind)
    converged = bool(np.all(np.isfinite(theta)) and np.max(np.abs(g)) / n < 1e-6)
    return theta, best, converged, iterations


def fit_design(
    design: Design,
    formula: GameFormula,
    link: str = "probit",
    kind: str = "agent",
    game: Game = EGAME12,
    data: str | None = None,
    start: np.ndarray | None = None,
    standard_errors: bool = True,
) -> GameFit:
    """Fit the game to a design (`design.build`). Raises FitError."""
    if kind == "private" and link != "probit":
        raise FitError(
            "private information is a probit model (normal shocks to each outcome's utility); "
            "use --link probit with --type private"
        )
    prefixes = game.prefixes(design.outcomes)
    _check(design, prefixes)
    names = coefficient_names(prefixes, design.columns)
    theta, ll, converged, iterations = maximize(design.X, design.y, link, kind, start)
    messages: list[str] = []
    vcov = None
    identified = True
    if standard_errors:
        H = hessian(theta, design.X, design.y, link, kind)
        try:
            np.linalg.cholesky(-H)
        except np.linalg.LinAlgError:
            identified = False
            messages.append(
                "the Hessian is not negative definite at the estimate: the coefficients may not "
                "be locally identified"
            )
        try:
            vcov = np.linalg.inv(-H)
        except np.linalg.LinAlgError:
            messages.append("the Hessian is singular: no standard errors")
        else:
            condition = float(np.linalg.cond(-H))
            if identified and not condition < MAX_CONDITION:
                messages.append(
                    f"the Hessian is nearly singular (condition number {condition:.1e}): some "
                    "coefficients are barely identified, as when a covariate separates the "
                    "outcomes; their estimates and standard errors are not to be trusted"
                )
    if not converged:
        messages.append("the maximization did not converge (the gradient is not zero)")
    return GameFit(
        game=game.name,
        formula=formula,
        link=link,
        kind=kind,
        outcomes=design.outcomes,
        names=names,
        estimate=theta,
        vcov=vcov,
        loglik=ll,
        n=len(design.y),
        equations=dict(zip(prefixes, (tuple(c) for c in design.columns), strict=True)),
        levels=dict(design.levels),
        numeric=design.numeric,
        converged=converged,
        locally_identified=identified,
        data=data,
        rows_left_out=design.left_out,
        iterations=iterations,
        messages=messages,
    )


def fit_table(
    table: Any,
    formula: GameFormula,
    link: str = "probit",
    kind: str = "agent",
    outcomes: list[str] | None = None,
    game: Game = EGAME12,
) -> GameFit:
    """Fit the game to a data table (`io.read_table`). Raises CaseError or FitError."""
    from .design import build

    design = build(table, formula, game.prefixes, outcomes)
    return fit_design(design, formula, link, kind, game, data=table.path)
