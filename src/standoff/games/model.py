"""The two-player deterrence game (`egame12` in the R package `games`) and its choice
probabilities (Signorino 1999, 2003; Lewis & Schultz 2003; Kenkel & Signorino 2014).

Player 1 keeps the status quo (outcome 1, utility U11) or challenges; if challenged, player 2
gives in (outcome 2: U13 for player 1, 0 for player 2) or resists (outcome 3: U14 for player 1,
U24 for player 2). Each utility is linear in covariates, U = x'b. The players choose with random
utility, which makes each choice a probability:

- agent error (Signorino 1999): each action's expected utility gets an independent shock, unit
  normal (probit) or unit logistic (logit); the quantal response equilibrium is
      p4 = F(U24 / sqrt(2)),  p3 = 1 - p4,
      p2 = F((p3 U13 + p4 U14 - U11) / sqrt(2)),  p1 = 1 - p2,
  with F the normal or logistic distribution function;
- private information (Lewis & Schultz 2003; Signorino 2003): each outcome's utility gets an
  independent unit normal shock each player knows and the other does not; in the perfect
  Bayesian equilibrium
      p4 = Phi(U24 / sqrt(2)),
      p2 = Phi((p3 U13 + p4 U14 - U11) / sqrt(1 + p3^2 + p4^2)).

p2 is the probability that player 1 challenges and p4 that player 2 resists when challenged; the
outcome probabilities are p1, p2 p3 and p2 p4. The scale of the shocks is not identified and is
fixed at 1, so each coefficient is a ratio to it. Probabilities are kept within machine precision
of 0 and 1, as the R package keeps them, so that a log-likelihood stays finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

LINKS = ("probit", "logit")
KINDS = ("agent", "private")
EPS = float(np.finfo(float).eps)  # R's .Machine$double.eps
NEG_EPS = EPS / 2  # R's .Machine$double.neg.eps
SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class Game:
    """A game's shape: its utility equations (who gets each, at which outcome)."""

    name: str
    equations: int
    players: tuple[int, ...]  # the player of each utility equation
    at_outcome: tuple[int, ...]  # the outcome (0, 1, 2) each utility is for
    description: str

    def prefixes(self, outcomes: tuple[str, ...]) -> list[str]:
        """The equations' names as the R package prints them: `u1(sq)`, `u2(war)`."""
        return [f"u{p}({outcomes[k]})" for p, k in zip(self.players, self.at_outcome, strict=True)]


EGAME12 = Game(
    name="egame12",
    equations=4,
    players=(1, 1, 1, 2),
    at_outcome=(0, 1, 2, 2),
    description=(
        "two players, three outcomes: player 1 keeps the status quo or challenges; player 2 "
        "gives in or resists"
    ),
)
GAMES = {"egame12": EGAME12}


def cdf(link: str, x: np.ndarray) -> np.ndarray:
    return special.ndtr(x) if link == "probit" else special.expit(x)


def pdf(link: str, x: np.ndarray) -> np.ndarray:
    if link == "probit":
        return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    p = special.expit(x)
    return p * (1 - p)


def bounded(p: np.ndarray) -> np.ndarray:
    """Probabilities kept inside (0, 1) by machine precision, as the R package's finiteProbs."""
    return np.clip(p, EPS, 1 - NEG_EPS)


@dataclass(frozen=True)
class Choices:
    """Each observation's choice probabilities, with what the gradient needs."""

    p2: np.ndarray  # player 1 challenges
    p4: np.ndarray  # player 2 resists, if challenged
    a: np.ndarray  # player 1's standardized index: p2 = F(a)
    d: np.ndarray  # its scale
    num: np.ndarray  # p3 U13 + p4 U14 - U11
    utilities: tuple[np.ndarray, ...]

    @property
    def p1(self) -> np.ndarray:
        return 1 - self.p2

    @property
    def p3(self) -> np.ndarray:
        return 1 - self.p4

    def outcomes(self) -> np.ndarray:
        """Outcome probabilities, one row per observation: status quo, give in, resist."""
        return np.column_stack([self.p1, self.p2 * self.p3, self.p2 * self.p4])


def utilities(theta: np.ndarray, X: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """U11, U13, U14, U24 from the stacked coefficients and each equation's regressors; `theta`
    is one vector of coefficients, or one row of coefficients per observation (a draw of them)."""
    out = []
    start = 0
    for M in X:
        k = M.shape[1]
        b = theta[..., start : start + k]
        out.append(np.einsum("ij,ij->i", M, b) if theta.ndim == 2 else M @ b)
        start += k
    return tuple(out)


def choices(theta: np.ndarray, X: list[np.ndarray], link: str, kind: str) -> Choices:
    """The equilibrium choice probabilities of `egame12` at coefficients `theta`."""
    u11, u13, u14, u24 = utilities(theta, X)
    p4 = bounded(cdf(link, u24 / SQRT2))
    p3 = 1 - p4
    num = p3 * u13 + p4 * u14 - u11
    d = np.sqrt(1 + p3 * p3 + p4 * p4) if kind == "private" else np.full_like(num, SQRT2)
    a = num / d
    p2 = bounded(cdf(link, a))
    return Choices(p2, p4, a, d, num, (u11, u13, u14, u24))
