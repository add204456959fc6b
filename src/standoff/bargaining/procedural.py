"""A procedural model: an agenda setter's proposal, limited to what the voting rule lets replace
the status quo.

The procedural models of EU legislation (Steunenberg 1994, Tsebelis 1994, Crombez 1996; the
models compared by Thomson et al. 2006) share one spatial logic on a single dimension: a proposal
x replaces the reference point d (the status quo) only if a coalition of voters holding at least
the quota of the votes prefers x to d, and every veto player (the Parliament under co-decision)
prefers it too or is indifferent; the agenda setter (the Commission) proposes, among the points
that pass, the one it likes best. With single-peaked symmetric preferences that set is an interval
around d and the outcome is the setter's ideal point clipped to it:

- voter i prefers x to d iff |x - p_i| < |d - p_i|. Ordering the voters by position, a is the
  position at which the votes counted from the top first reach the quota q, b the one at which
  the votes counted from the bottom first reach it (a <= b for q > 1/2; a = the lowest and
  b = the highest position under unanimity). A move right of d passes iff the voters at or beyond
  its midpoint with d hold q: x <= 2a - d; a move left iff x >= 2b - d. [a, b] is the core: the
  points no qualified majority can replace.
- d inside [a, b]: nothing passes (gridlock), the status quo stands. d < a: x in [d, 2a - d].
  d > b: x in [2b - d, d]. A veto player v at p_v adds x between d and 2 p_v - d.
- The outcome is the setter's ideal point clipped to that interval (the setter's utility is
  single-peaked), the indifferent pivot voting yes (the closure of the win set).
- Where an issue has no reference point the win set is undefined; the outcome is then the
  setter's ideal point clipped to the core [a, b]: the point it likes best among those no
  qualified majority would overturn.

Options: `quota` in (1/2, 1], the share of the voters' votes (capabilities) a change needs
(1 = unanimity, the default); `setter`, an actor's name (`BargainingInputs.actors`) or `mean`,
the capability x salience weighted mean of every actor's position (the compromise proposed by an
impartial chair; also used where the named setter is not among the actors); `veto`, the names of
actors who must accept a change besides the voters; `non_voters`, the names of actors who do not
vote (the Commission and the Parliament in the Council). docs/model-procedural.md has the cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from .base import BargainingInputs, FloatArray, weighted_mean
from .one_step import OneStep, reference

_TOLERANCE = 1e-12  # votes reaching the quota up to rounding in the cumulative sum


def _names(value: Sequence[str] | str | None) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(str(v) for v in value)


def core(position: FloatArray, votes: FloatArray, quota: float) -> tuple[FloatArray, FloatArray]:
    """(D, K) the ends a <= b of the core: the positions where the votes counted from the top,
    resp. from the bottom, first reach `quota` of the total. position (D, N, K); votes (D, N, K)
    >= 0 with a positive total on every issue."""
    order = np.argsort(position, axis=1, kind="stable")
    x = np.take_along_axis(position, order, axis=1)
    v = np.take_along_axis(votes, order, axis=1)
    need = quota * v.sum(axis=1, keepdims=True) * (1 - _TOLERANCE)
    from_bottom = np.argmax(np.cumsum(v, axis=1) >= need, axis=1)
    from_top = np.argmax(np.cumsum(v[:, ::-1], axis=1) >= need, axis=1)
    left = np.take_along_axis(x[:, ::-1], from_top[:, None, :], axis=1)[:, 0]
    right = np.take_along_axis(x, from_bottom[:, None, :], axis=1)[:, 0]
    return left, right


class Procedural(OneStep):
    name: ClassVar[str] = "procedural"
    citation: ClassVar[str] = (
        "Steunenberg, B. (1994). Decision making under different institutional arrangements: "
        "legislation by the European Community. Journal of Institutional and Theoretical "
        "Economics 150(4): 642-669; Tsebelis, G. (1994). The power of the European Parliament "
        "as a conditional agenda setter. American Political Science Review 88(1): 128-142; "
        "Crombez, C. (1996). Legislative procedures in the European Community. British Journal "
        "of Political Science 26(2): 199-228."
    )

    def __init__(
        self,
        quota: float = 1.0,
        setter: str = "mean",
        veto: Sequence[str] | str | None = None,
        non_voters: Sequence[str] | str | None = None,
    ):
        quota = float(quota)
        if not 0.5 < quota <= 1.0:
            raise ValueError(f"quota must be above 1/2 and at most 1, not {quota}")
        if not isinstance(setter, str) or not setter:
            raise ValueError("setter must be an actor's name or 'mean'")
        self.quota = quota
        self.setter = setter
        self.veto = _names(veto)
        self.non_voters = _names(non_voters)

    def options(self) -> dict[str, Any]:
        return {
            "quota": self.quota,
            "setter": self.setter,
            "veto": list(self.veto),
            "non_voters": list(self.non_voters),
        }

    def _index(self, inputs: BargainingInputs, names: tuple[str, ...]) -> list[int]:
        return [inputs.actors.index(n) for n in names if n in inputs.actors]

    def solve(self, inputs: BargainingInputs) -> FloatArray:
        d = reference(inputs)
        x = inputs.position
        n = inputs.n_actors
        votes = np.broadcast_to(inputs.capability[:, :, None], x.shape).astype(float)
        outside = self._index(inputs, self.non_voters)
        voting = np.ones(n, dtype=bool)
        voting[outside] = False
        votes = np.where(voting[None, :, None], np.maximum(votes, 0.0), 0.0)
        # no votes at all on an issue: every actor votes alike
        none = votes.sum(axis=1, keepdims=True) <= 0
        votes = np.where(none, 1.0, votes)
        left, right = core(x, votes, self.quota)
        setter = self._index(inputs, (self.setter,))
        if setter:
            ideal = x[:, setter[0], :]
        else:
            ideal = weighted_mean(x, inputs.capability, inputs.salience)
        known = ~np.isnan(d)
        dd = np.where(known, d, 0.0)
        # the set that replaces d (closure), an interval [lo, hi] around d
        lo = np.where(dd > right, 2 * right - dd, dd)
        hi = np.where(dd < left, 2 * left - dd, dd)
        for v in self._index(inputs, self.veto):
            mirror = 2 * x[:, v, :] - dd
            lo = np.maximum(lo, np.minimum(dd, mirror))
            hi = np.minimum(hi, np.maximum(dd, mirror))
        # without a reference point: the core
        lo = np.where(known, lo, left)
        hi = np.where(known, hi, right)
        out = np.clip(ideal, lo, hi)
        return np.clip(out, inputs.low, inputs.high)
