"""The log-likelihood of a crisis game and its derivatives (Kenkel & Signorino 2014, eq. 1):

    log L = sum over status quo log p1 + sum over give in (log p2 + log p3)
            + sum over resist (log p2 + log p4),

with the choice probabilities of `model.choices`. The gradient is analytic; the Hessian, for the
standard errors, is the central difference of the analytic gradient."""

from __future__ import annotations

import numpy as np

from .model import SQRT2, choices, pdf


def loglik_terms(
    theta: np.ndarray, X: list[np.ndarray], y: np.ndarray, link: str, kind: str
) -> np.ndarray:
    """Each observation's log-likelihood (y: 0 status quo, 1 give in, 2 resist)."""
    c = choices(theta, X, link, kind)
    return np.where(
        y == 0,
        np.log(c.p1),
        np.log(c.p2) + np.where(y == 1, np.log(c.p3), np.log(c.p4)),
    )


def loglik_gradient(
    theta: np.ndarray, X: list[np.ndarray], y: np.ndarray, link: str, kind: str
) -> np.ndarray:
    """The gradient of the summed log-likelihood, analytic (the bounds on the probabilities are
    treated as inactive, as in the R package)."""
    c = choices(theta, X, link, kind)
    X11, X13, X14, Z = X
    _, u13, u14, u24 = c.utilities
    p2, p3, p4 = c.p2, c.p3, c.p4
    # player 2: dp4/dgamma
    dp4 = pdf(link, u24 / SQRT2) / SQRT2
    # player 1: dp2 = f(a) da; a = num / d
    fa = pdf(link, c.a)
    if kind == "private":
        dnum_dp4 = u14 - u13
        dd_dp4 = (p4 - p3) / c.d
        da_dp4 = (dnum_dp4 * c.d - c.num * dd_dp4) / (c.d * c.d)
    else:
        da_dp4 = (u14 - u13) / c.d
    # d log L / d p2 and d log L / d p4 per observation
    dl_dp2 = np.where(y == 0, -1 / c.p1, 1 / p2)
    dl_dp4 = np.where(y == 0, 0.0, np.where(y == 1, -1 / p3, 1 / p4))
    w_a = dl_dp2 * fa / c.d  # d log L / d num, holding p4
    g11 = -(w_a @ X11) if X11.shape[1] else np.zeros(0)
    g13 = (w_a * p3) @ X13 if X13.shape[1] else np.zeros(0)
    g14 = (w_a * p4) @ X14 if X14.shape[1] else np.zeros(0)
    w_g = (dl_dp2 * fa * da_dp4 + dl_dp4) * dp4
    g24 = w_g @ Z if Z.shape[1] else np.zeros(0)
    return np.concatenate([g11, g13, g14, g24])


def loglik(theta: np.ndarray, X: list[np.ndarray], y: np.ndarray, link: str, kind: str) -> float:
    return float(np.sum(loglik_terms(theta, X, y, link, kind)))


def hessian(
    theta: np.ndarray, X: list[np.ndarray], y: np.ndarray, link: str, kind: str
) -> np.ndarray:
    """The Hessian of the log-likelihood: central differences of the analytic gradient, with a
    step scaled to each coefficient, made symmetric."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(float(theta[j])))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        H[:, j] = (
            loglik_gradient(up, X, y, link, kind) - loglik_gradient(down, X, y, link, kind)
        ) / (2 * h)
    return (H + H.T) / 2
