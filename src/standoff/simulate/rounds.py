"""The bargaining round of a crisis, computed once for each distinct state.

A round of the bargaining engine is a function of each draw's inputs alone, issue by issue: the
true capabilities, the issue's positions and saliences, what each actor perceives of them, and
the risk attitudes. Within a crisis those inputs are fixed by (1) the draw's input group (its
parameters and static perceptions: draws that share a draw of the inputs, the case's
`replicates`, share these) and (2) the state the history has reached: capabilities, the issue's
positions and saliences, and the beliefs. Many issue-draw states repeat: every replicate of an
input draw starts in the same state, and a draw whose positions are at rest and whose history
changed nothing on an issue meets the same state again next round.

`BargainingRound` therefore computes, each round and issue, only the states it has not just
computed: a draw whose key (its group and state, byte for byte) is the one it had last round
keeps last round's results, and the draws whose keys changed are computed once per distinct key.
Identical inputs give identical results, so every output is the one a full computation gives,
to the bit (the engine's results for a draw do not depend on the other draws in its call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..bargaining.base import BargainingInputs, Engine

if TYPE_CHECKING:
    from ..compile.plan import CompiledCrisis

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def distinct_rows(table: FloatArray) -> tuple[IntArray, IntArray]:
    """(first, inverse): for the rows of a 2-D table compared byte for byte, the index of one row
    of each distinct value and, for every row, which of those it equals.

    Rows are grouped by a 64-bit hash of their bytes, and the grouping is then checked byte for
    byte; should two different rows share a hash, the rows are compared whole instead."""
    table = np.ascontiguousarray(table, dtype=np.float64)
    if table.shape[0] == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    bits = table.view(np.uint64)
    mixed = bits ^ (bits >> np.uint64(31))
    digest = mixed @ _multipliers(table.shape[1])  # sum of products, modulo 2^64
    _, first, inverse = np.unique(digest, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not np.array_equal(bits, bits[first[inverse]]):  # two rows share a hash
        rows = table.view(np.dtype((np.void, table.shape[1] * 8))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    return first.astype(np.intp), inverse.astype(np.intp)


def _multipliers(width: int) -> NDArray[np.uint64]:
    """Fixed odd 64-bit multipliers, one per column, for the row hash of `distinct_rows`."""
    while len(_MULTIPLIERS) < width:
        _MULTIPLIERS.extend(
            int(v) | 1
            for v in np.random.default_rng(len(_MULTIPLIERS)).integers(
                1, 2**63, size=64, dtype=np.uint64
            )
        )
    return np.array(_MULTIPLIERS[:width], dtype=np.uint64)


_MULTIPLIERS: list[int] = []


def _columns(d: int, arrays: list[NDArray[np.float64] | None]) -> FloatArray:
    """(d, C) the arrays given (each with d rows; None skipped) side by side, as float64."""
    present = [np.asarray(a, dtype=np.float64).reshape(d, -1) for a in arrays if a is not None]
    return np.concatenate(present, axis=1) if present else np.zeros((d, 0))


class BargainingRound:
    """One engine round per crisis round for a block of draws, reusing results per issue where
    a draw's state repeats (see the module's docstring). The latest round's results: `moved`,
    every draw's positions after it, and `pair`, a dyadic result for one ordered pair."""

    def __init__(
        self,
        plan: CompiledCrisis,
        inputs: BargainingInputs,
        params: dict[str, FloatArray],
        engine: Engine,
    ) -> None:
        self.plan = plan
        self.inputs = inputs
        self.params = params
        self.engine = engine
        d, n, k = inputs.position.shape
        # the draws' groups: equal static inputs (every parameter, the drawn inputs and the
        # static perceptions), byte for byte
        static = _columns(
            d,
            [
                np.stack([params[name] for name in sorted(params)], axis=1) if params else None,
                inputs.capability,
                inputs.position,
                inputs.salience,
                inputs.risk,
                inputs.perceived_capability,
                inputs.perceived_position,
                inputs.perceived_salience,
            ],
        )
        _, group = distinct_rows(static)
        self.group = group.astype(np.float64)[:, None]
        # static perceptions are carried as offsets from the truth, so that they follow changes
        self.offset_capability = (
            None
            if inputs.perceived_capability is None
            else inputs.perceived_capability - inputs.capability[:, None, :]
        )
        self.offset_position = (
            None
            if inputs.perceived_position is None
            else inputs.perceived_position - inputs.position[:, None, :, :]
        )
        self.offset_salience = (
            None
            if inputs.perceived_salience is None
            else inputs.perceived_salience - inputs.salience[:, None, :, :]
        )
        self.perceived = (
            self.offset_capability is not None
            or self.offset_position is not None
            or self.offset_salience is not None
            or any(spec.shifts for spec in plan.beliefs)
        )
        # the beliefs that bear on issue k: those that shift a capability or something on k
        self.beliefs_of = [
            [
                b
                for b, spec in enumerate(plan.beliefs)
                if any(attr == "capability" or issue == kk for _, attr, issue, _ in spec.shifts)
            ]
            for kk in range(k)
        ]
        self.previous: list[FloatArray | None] = [None] * k
        # per issue, every state computed so far (rows appended as they are computed), and for
        # every draw the row of its current state
        self._tables: list[dict[str, NDArray[Any]]] = [
            {
                "moved": np.empty((0, n)),
                "code": np.empty((0, n, n), dtype=np.int8),
                "eu_self": np.empty((0, n, n), dtype=np.float32),
                "eu_other": np.empty((0, n, n), dtype=np.float32),
                "p_win": np.empty((0, n, n), dtype=np.float32),
            }
            for _ in range(k)
        ]
        self._size = [0] * k
        self.index = np.zeros((d, k), dtype=np.intp)

    @property
    def computed(self) -> int:
        """The issue-draw states computed so far."""
        return sum(self._size)

    @property
    def moved(self) -> FloatArray:
        """(D, N, K) every draw's positions after the latest round."""
        return np.stack(
            [table["moved"][self.index[:, k]] for k, table in enumerate(self._tables)], axis=2
        )

    def pair(self, name: str, i: int, j: int) -> NDArray[Any]:
        """(D, K) a dyadic result of the latest round for the ordered pair (i, j), on each issue:
        `code` (int8 `Interaction` codes), `eu_self` (E^i(U_ij)), `eu_other` (E^i(U_ji)) or
        `p_win` (P^i(i:j)), float32, as `DyadicRounds` gives them."""
        return np.stack(
            [table[name][self.index[:, k], i, j] for k, table in enumerate(self._tables)], axis=1
        )

    def latest(self, name: str) -> NDArray[Any]:
        """(D, K, N, N) a dyadic result of the latest round (as `pair`) for every pair."""
        return np.stack(
            [table[name][self.index[:, k]] for k, table in enumerate(self._tables)], axis=1
        )

    def _append(self, k: int, results: dict[str, NDArray[Any]]) -> int:
        """Add computed states to issue k's table; the row of the first."""
        table, size = self._tables[k], self._size[k]
        count = len(results["moved"])
        if size + count > len(table["moved"]):
            capacity = max(2 * len(table["moved"]), size + count)
            for name, old in table.items():
                grown = np.empty((capacity, *old.shape[1:]), dtype=old.dtype)
                grown[:size] = old[:size]
                table[name] = grown
        for name, values in results.items():
            table[name][size : size + count] = values
        self._size[k] = size + count
        return size

    def step(
        self,
        position: FloatArray,
        salience: FloatArray,
        capability: FloatArray,
        belief: FloatArray,
    ) -> None:
        """Run the round from this state (positions (D, N, K), saliences (D, N, K),
        capabilities (D, N), beliefs (D, B)), updating the results in place."""
        d = position.shape[0]
        for k in range(position.shape[2]):
            key = _columns(
                d,
                [
                    self.group,
                    capability,
                    position[:, :, k],
                    salience[:, :, k],
                    belief[:, self.beliefs_of[k]],
                ],
            )
            last = self.previous[k]
            rows = np.arange(d) if last is None else np.flatnonzero((key != last).any(axis=1))
            self.previous[k] = key
            if rows.size == 0:
                continue
            first, inverse = distinct_rows(key[rows])
            which = rows[first]
            done = self.engine.one_round(
                self.bargaining_inputs(which, k, position, salience, capability, belief)
            )
            start = self._append(
                k,
                {
                    "moved": done.moved,
                    "code": done.interaction,
                    "eu_self": done.eu_self,
                    "eu_other": done.eu_other,
                    "p_win": done.p_win,
                },
            )
            self.index[rows, k] = start + inverse

    def bargaining_inputs(
        self,
        rows: IntArray,
        k: int,
        position: FloatArray,
        salience: FloatArray,
        capability: FloatArray,
        belief: FloatArray,
    ) -> BargainingInputs:
        """Issue k's inputs for the given draws: the truth, and every actor's perceived world
        (static perceptions, then beliefs mixed in by their current probability)."""
        n = position.shape[1]
        low, high = self.inputs.low[k : k + 1], self.inputs.high[k : k + 1]
        cap_true = capability[rows]
        pos_true = position[rows, :, k : k + 1]
        sal_true = salience[rows, :, k : k + 1]
        # each viewer's copy of the truth, plus its static offsets where it has them
        cap = (
            np.repeat(cap_true[:, None, :], n, axis=1)
            if self.offset_capability is None
            else self.offset_capability[rows] + cap_true[:, None, :]
        )
        pos = (
            np.repeat(pos_true[:, None, :, :], n, axis=1)
            if self.offset_position is None
            else self.offset_position[rows, ..., k : k + 1] + pos_true[:, None, :, :]
        )
        sal = (
            np.repeat(sal_true[:, None, :, :], n, axis=1)
            if self.offset_salience is None
            else self.offset_salience[rows, ..., k : k + 1] + sal_true[:, None, :, :]
        )
        for b, spec in enumerate(self.plan.beliefs):
            p = belief[rows, b]
            i = spec.holder
            for j, attr, issue, label in spec.shifts:
                hyp = self.params[label][rows]
                if attr == "capability":
                    cap[:, i, j] += p * (hyp - cap[:, i, j])
                elif issue != k:
                    continue
                elif attr == "position":
                    pos[:, i, j, 0] += p * (hyp - pos[:, i, j, 0])
                else:
                    sal[:, i, j, 0] += p * (hyp - sal[:, i, j, 0])
        np.clip(cap, 0, None, out=cap)
        np.clip(pos, low, high, out=pos)
        np.clip(sal, 0, 1, out=sal)
        risk = self.inputs.risk
        return BargainingInputs(
            capability=cap_true,
            position=pos_true,
            salience=sal_true,
            low=low,
            high=high,
            risk=None if risk is None else risk[rows],
            perceived_capability=cap if self.perceived else None,
            perceived_position=pos if self.perceived else None,
            perceived_salience=sal if self.perceived else None,
        )
