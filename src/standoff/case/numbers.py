"""Uncertain numbers, written as analysts write them.

    50                      a fixed number
    40 to 60                a 90% interval: lognormal when both ends are positive and the quantity
                            is unbounded above, else normal; clipped to the quantity's valid range
    normal(m, sd)           normal with mean m and standard deviation sd, clipped
    uniform(a, b)           uniform on [a, b]
    triangular(a, mode, b)  triangular on [a, b] with the given mode
    beta(a, b)              Beta(a, b) stretched over the quantity's valid range (bounded ones only)

The exact parameterization of `A to B`: normal with mean (A + B) / 2 and sd (B - A) / (2 z), or
lognormal with log-mean (ln A + ln B) / 2 and log-sd (ln B - ln A) / (2 z), where z = 1.6449 is
the standard normal's 95th percentile, so that A and B are the 5th and 95th percentiles.

A signed amount (a change an effect makes, a crisis parameter: `Quantity.signed`) keeps the sign
its interval is written with: `0 to 0.05` is never drawn below 0, `-5 to 0` never above it; an
interval that straddles zero (`-0.02 to 0.05`), or a `normal(m, sd)`, may take either sign.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

Z90 = 1.6448536269514722  # standard normal 95th percentile: a 90% interval is mean +- Z90 sd
# The tail beyond which a number with unbounded support (normal, lognormal) is taken not to reach,
# at each end, when a formula's range is bounded before any draw (`Dist.extent`): one in a million.
TAIL = 1e-6

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(rf"^\s*({_NUM})\s*$")
_RANGE = re.compile(rf"^\s*({_NUM})\s+to\s+({_NUM})\s*$")
_CALL = re.compile(r"^\s*([a-z]+)\s*\((.*)\)\s*$")
_ARITY = {"normal": 2, "uniform": 2, "triangular": 3, "beta": 2}
_SIGNATURE = {
    "normal": "normal(mean, sd)",
    "uniform": "uniform(low, high)",
    "triangular": "triangular(low, mode, high)",
    "beta": "beta(a, b)",
}


@dataclass(frozen=True)
class Quantity:
    """What a number measures: its valid range. `high` is None when unbounded above."""

    name: str
    low: float
    high: float | None
    # an amount whose sign is its direction (a change, a crisis parameter): an `A to B` interval
    # on one side of zero is drawn on that side only (`Dist.limits`)
    signed: bool = False

    def describe(self) -> str:
        if self.high is None:
            return f"at least {self.low:g}"
        return f"between {self.low:g} and {self.high:g}"


def percent_hint(value: Dist, quantity: Quantity) -> str:
    """`; written as a percentage? did you mean 0.6?` for a number of a 0-1 quantity (a
    salience, a probability) written on a 0-100 scale: every number written is 0 or above 1, and
    none above 100. Empty otherwise."""
    if (quantity.low, quantity.high) != (0.0, 1.0) or value.kind == "beta":
        return ""
    if not all(p == 0 or 1 < p <= 100 for p in value.params) or not any(value.params):
        return ""
    shown = Dist(value.kind, tuple(p / 100 for p in value.params))
    return f"; written as a percentage? did you mean {shown}?"


@dataclass(frozen=True)
class Dist:
    """A parsed uncertain number. kind is one of fixed, range, normal, uniform, triangular, beta."""

    kind: str
    params: tuple[float, ...]
    text: str = ""

    @property
    def is_fixed(self) -> bool:
        return self.kind == "fixed"

    def __str__(self) -> str:
        if self.text:
            return self.text
        if self.kind == "fixed":
            return f"{self.params[0]:g}"
        if self.kind == "range":
            return f"{self.params[0]:g} to {self.params[1]:g}"
        return f"{self.kind}({', '.join(f'{p:g}' for p in self.params)})"

    def support(self) -> tuple[float, float]:
        """The interval the user wrote: where most or all of the mass lies before clipping."""
        p = self.params
        if self.kind == "fixed":
            return p[0], p[0]
        if self.kind == "normal":
            return p[0] - Z90 * p[1], p[0] + Z90 * p[1]
        if self.kind == "triangular":
            return p[0], p[2]
        if self.kind == "beta":
            return 0.0, 1.0
        return p[0], p[1]

    def limits(self, quantity: Quantity) -> tuple[float, float]:
        """The range draws are clipped to: the quantity's valid range and, for a signed amount
        written `A to B` on one side of zero, that side.

        >>> change = Quantity("a salience change", -1.0, 1.0, signed=True)
        >>> parse_uncertain("0 to 0.05").limits(change), parse_uncertain("-5 to 0").limits(change)
        ((0.0, 1.0), (-1.0, 0.0))
        >>> parse_uncertain("-0.02 to 0.05").limits(change)  # straddles zero: either sign
        (-1.0, 1.0)
        """
        low, high = quantity.low, math.inf if quantity.high is None else quantity.high
        if quantity.signed and self.kind == "range":
            if self.params[0] >= 0:
                low = max(low, 0.0)
            elif self.params[1] <= 0:
                high = min(high, 0.0)
        return low, high

    def extent(self, quantity: Quantity, tail: float = TAIL) -> tuple[float, float]:
        """The range of this number's draws, as far as the `tail` quantile at each end where its
        support is unbounded (normal; lognormal), clipped as its draws are (`limits`).

        >>> rate = Quantity("parameter rate", -1e12, None, signed=True)
        >>> low, high = parse_uncertain("0.40 to 0.80").extent(rate)  # lognormal
        >>> round(low, 3), round(high, 3)
        (0.208, 1.54)
        >>> parse_uncertain("uniform(2, 5)").extent(rate)
        (2.0, 5.0)
        """
        p = self.params
        z = NormalDist().inv_cdf(1.0 - tail)
        if self.kind == "fixed":
            ends = p[0], p[0]
        elif self.kind == "range" and self._lognormal(quantity):
            la, lb = math.log(p[0]), math.log(p[1])
            mid, sd = (la + lb) / 2, (lb - la) / (2 * Z90)
            ends = math.exp(mid - z * sd), math.exp(mid + z * sd)
        elif self.kind == "range":
            mid, sd = (p[0] + p[1]) / 2, (p[1] - p[0]) / (2 * Z90)
            ends = mid - z * sd, mid + z * sd
        elif self.kind == "normal":
            ends = p[0] - z * p[1], p[0] + z * p[1]
        elif self.kind == "triangular":
            ends = p[0], p[2]
        elif self.kind == "uniform":
            ends = p[0], p[1]
        else:  # beta: the quantity's range
            ends = quantity.low, math.inf if quantity.high is None else quantity.high
        low, high = self.limits(quantity)
        return min(max(ends[0], low), high), min(max(ends[1], low), high)

    def check(self, quantity: Quantity) -> str | None:
        """A problem with this number as a value of `quantity`, or None.

        >>> position = Quantity("position", 0.0, 100.0)
        >>> parse_uncertain("40 to 60").check(position) is None
        True
        >>> parse_uncertain("90 to 120").check(position)
        'end 120 is outside the valid range (between 0 and 100)'
        >>> parse_uncertain("50 to 70").check(Quantity("salience", 0.0, 1.0)).split("; ")[1]
        'written as a percentage? did you mean 0.5 to 0.7?'
        """
        problem = self._outside(quantity)
        return problem + percent_hint(self, quantity) if problem else None

    def _outside(self, quantity: Quantity) -> str | None:
        p = self.params
        lo, hi = quantity.low, quantity.high
        upper = math.inf if hi is None else hi

        def outside(v: float) -> bool:
            return v < lo or v > upper

        if self.kind == "beta":
            if hi is None:
                return f"beta() needs a bounded quantity; {quantity.name} is unbounded above"
            return None
        if self.kind == "normal":
            return (
                f"mean {p[0]:g} is outside the valid range ({quantity.describe()})"
                if outside(p[0])
                else None
            )
        ends = self.support()
        bad = [v for v in ends if outside(v)]
        if bad:
            what = "value" if self.kind == "fixed" else "end"
            return f"{what} {bad[0]:g} is outside the valid range ({quantity.describe()})"
        return None

    def central(self, quantity: Quantity) -> float:
        """The value a single deterministic run uses: the median of the distribution, the mode of a
        triangular one, clipped to the valid range.

        `A to B` is normal (median the midpoint) on a bounded quantity, lognormal (median the
        geometric mean) on one unbounded above with positive ends:

        >>> position = Quantity("position", 0.0, 100.0)
        >>> capability = Quantity("capability", 0.0, None)
        >>> parse_uncertain("40 to 60").central(position)
        50.0
        >>> round(parse_uncertain("40 to 60").central(capability), 3)
        48.99
        >>> parse_uncertain("normal(120, 10)").central(position)  # clipped to the range
        100.0
        """
        p = self.params
        if self.kind == "fixed":
            v = p[0]
        elif self.kind == "range":
            v = math.sqrt(p[0] * p[1]) if self._lognormal(quantity) else (p[0] + p[1]) / 2
        elif self.kind == "normal":
            v = p[0]
        elif self.kind == "uniform":
            v = (p[0] + p[1]) / 2
        elif self.kind == "triangular":
            v = p[1]
        else:  # beta: its mean, on the quantity's range
            assert quantity.high is not None
            v = quantity.low + (quantity.high - quantity.low) * p[0] / (p[0] + p[1])
        low, high = self.limits(quantity)
        return min(max(v, low), high)

    def _lognormal(self, quantity: Quantity) -> bool:
        return (
            self.kind == "range"
            and quantity.high is None
            and self.params[0] > 0
            and self.params[1] > 0
        )

    def sample(self, rng: np.random.Generator, n: int, quantity: Quantity) -> NDArray[np.float64]:
        """n draws, clipped to the quantity's valid range. Fixed numbers use no randomness."""
        p = self.params
        if self.kind == "fixed":
            return np.full(n, p[0])
        if self.kind == "range":
            if self._lognormal(quantity):
                la, lb = math.log(p[0]), math.log(p[1])
                out = rng.lognormal((la + lb) / 2, (lb - la) / (2 * Z90), n)
            else:
                out = rng.normal((p[0] + p[1]) / 2, (p[1] - p[0]) / (2 * Z90), n)
        elif self.kind == "normal":
            out = rng.normal(p[0], p[1], n)
        elif self.kind == "uniform":
            out = rng.uniform(p[0], p[1], n)
        elif self.kind == "triangular":
            out = rng.triangular(p[0], p[1], p[2], n) if p[0] < p[2] else np.full(n, p[0])
        else:
            assert quantity.high is not None
            out = quantity.low + (quantity.high - quantity.low) * rng.beta(p[0], p[1], n)
        return np.clip(out, *self.limits(quantity))


def is_share(dist: Dist) -> bool:
    """Whether a crisis parameter written as `dist` is a share, drawn on [0, 1]: `beta(a, b)`, or
    an interval `A to B` with both ends in [0, 1] (a rate, a probability, a fraction). Such an
    interval is then normal and clipped to [0, 1], as a salience's is, so that no draw of it
    leaves [0, 1]; to let a parameter leave [0, 1], write an end outside it or `normal(m, sd)`.

    >>> is_share(parse_uncertain("0.4 to 0.8")), is_share(parse_uncertain("0.5 to 1.5"))
    (True, False)
    >>> is_share(parse_uncertain("beta(2, 5)")), is_share(parse_uncertain("normal(0.5, 0.1)"))
    (True, False)
    """
    if dist.kind == "beta":
        return True
    return dist.kind == "range" and 0.0 <= dist.params[0] and dist.params[1] <= 1.0


def quantile(dist: Dist, u: NDArray[np.float64], quantity: Quantity) -> NDArray[np.float64]:
    """The values of `dist` at probabilities u (its inverse CDF, as sampled: clipped to the
    quantity's valid range). Used to place inputs at chosen quantiles for sensitivity analysis."""
    from scipy import stats  # imported here: scipy.stats is slow to import

    p = dist.params
    u = np.asarray(u, dtype=float)
    if dist.kind == "fixed":
        out = np.full(u.shape, p[0])
    elif dist.kind == "range":
        if dist._lognormal(quantity):
            la, lb = math.log(p[0]), math.log(p[1])
            out = np.exp((la + lb) / 2 + (lb - la) / (2 * Z90) * stats.norm.ppf(u))
        else:
            out = (p[0] + p[1]) / 2 + (p[1] - p[0]) / (2 * Z90) * stats.norm.ppf(u)
    elif dist.kind == "normal":
        out = p[0] + p[1] * stats.norm.ppf(u)
    elif dist.kind == "uniform":
        out = p[0] + (p[1] - p[0]) * u
    elif dist.kind == "triangular":
        width = p[2] - p[0]
        out = stats.triang.ppf(u, (p[1] - p[0]) / width, loc=p[0], scale=width)
    else:
        assert quantity.high is not None
        out = quantity.low + (quantity.high - quantity.low) * stats.beta.ppf(u, p[0], p[1])
    return np.clip(out, *dist.limits(quantity))


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def parse_uncertain(value: object) -> Dist:
    """Parse a number or an uncertain-number string. Raises ValueError with a readable message.

    >>> parse_uncertain(50)
    Dist(kind='fixed', params=(50.0,), text='')
    >>> d = parse_uncertain("40 to 60")
    >>> d.kind, d.params, str(d)
    ('range', (40.0, 60.0), '40 to 60')
    >>> parse_uncertain("triangular(0, 20, 100)").params
    (0.0, 20.0, 100.0)
    >>> parse_uncertain("60 to 40")
    Traceback (most recent call last):
    ...
    ValueError: in '60 to 40' the low end must be below the high end
    """
    if isinstance(value, Dist):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(
            f"expected a number or an uncertain number such as '40 to 60', got {value!r}"
        )
    if isinstance(value, int | float):
        try:
            v = float(value)
        except OverflowError:
            raise ValueError(f"{str(value)[:12]}... is too large to be a number") from None
        if not math.isfinite(v):
            raise ValueError(f"{value!r} is not a finite number")
        return Dist("fixed", (v,))
    if not isinstance(value, str):
        raise ValueError(
            "expected a number or an uncertain number such as '40 to 60', "
            f"got {type(value).__name__}"
        )
    text = value.strip()
    if m := _NUMBER.match(text):
        return Dist("fixed", (_finite(m.group(1)),), text)
    if m := _RANGE.match(text):
        a, b = _finite(m.group(1)), _finite(m.group(2))
        if not a < b:
            raise ValueError(f"in '{text}' the low end must be below the high end")
        return Dist("range", (a, b), text)
    if m := _CALL.match(text):
        name, inner = m.group(1), m.group(2)
        if name not in _ARITY:
            raise ValueError(
                f"unknown distribution {name!r}; use one of {', '.join(_SIGNATURE.values())}"
            )
        parts = [s.strip() for s in inner.split(",")] if inner.strip() else []
        if len(parts) != _ARITY[name] or not all(_NUMBER.match(s) for s in parts):
            raise ValueError(f"'{text}': expected {_SIGNATURE[name]} with numbers")
        args = tuple(_finite(s) for s in parts)
        _check_params(name, args, text)
        return Dist(name, args, text)
    if re.match(r"^[a-z]+\s*\([^)]*$", text):
        raise ValueError(
            f"cannot read {text!r}: a distribution inside {{ }} must be quoted, e.g. "
            f"position: '{text}, ...)'"
        )
    raise ValueError(
        f"cannot read {text!r} as a number; write 50, '40 to 60', normal(m, sd), uniform(a, b), "
        "triangular(a, mode, b) or beta(a, b)"
    )


def _check_params(name: str, args: tuple[float, ...], text: str) -> None:
    if name == "normal" and not args[1] > 0:
        raise ValueError(f"'{text}': the standard deviation must be positive")
    if name == "uniform" and not args[0] < args[1]:
        raise ValueError(f"'{text}': the low end must be below the high end")
    if name == "triangular" and not (args[0] <= args[1] <= args[2] and args[0] < args[2]):
        raise ValueError(f"'{text}': need low <= mode <= high and low < high")
    if name == "beta" and not (args[0] > 0 and args[1] > 0):
        raise ValueError(f"'{text}': both shape parameters must be positive")
