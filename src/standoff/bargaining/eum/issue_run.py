"""One issue's run for a block of draws, and its per-round dyadic results: the output arrays a
round fills, the rounds' results assembled into `DyadicRounds` (a draw at rest repeating its last
round), and the detection of a draw's cycle of states with the settlement averaged over it."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..base import DyadicRounds, FloatArray, weighted_median
from .equations import Step

Array = NDArray[Any]


def empty_step(n_draws: int, n_actors: int) -> Step:
    """A round's output arrays for the kernel to fill."""
    pair = (n_draws, n_actors, n_actors)
    return Step(
        new_position=np.empty((n_draws, n_actors)),
        eu_self=np.empty(pair),
        eu_other=np.empty(pair),
        code=np.empty(pair, dtype=np.int8),
        offers=np.empty(pair),
        taken=np.empty((n_draws, n_actors), dtype=np.int8),
        risk_exponent=np.empty((n_draws, n_actors)),
        p_win=np.empty(pair),
    )


class IssueRun(NamedTuple):
    """One issue's run for a block of draws (`ExpectedUtility._run_issue`)."""

    history: FloatArray  # (D, >= rounds + 1, N): the states, rows 0..rounds filled
    rounds: int  # rounds computed
    computed: NDArray[np.int64]  # (D,) rounds computed for each draw (it rests after them)
    rounds_run: NDArray[np.int64]  # (D,) rounds each draw moved in
    cycle_length: FloatArray  # (D,) 1 converged, L >= 2 a cycle of L states, 0 not stopped
    cycle_settlement: FloatArray  # (D,) the cycle's averaged weighted median; NaN: no cycle
    # per round: the draws computed (None: all) and their `DyadicRounds` fields
    dyadic: list[tuple[NDArray[np.intp] | None, tuple[Array | None, ...]]]


def unfilled(
    draws: int, rounds: int, n_actors: int, n_issues: int, full: bool = True
) -> DyadicRounds:
    """`DyadicRounds` arrays left uninitialized: `assemble` writes every round of every draw
    (each block's run computes at least one round where any is kept). Not `full`: no offer,
    taken or risk_exponent (None)."""
    pair = (draws, rounds, n_issues, n_actors, n_actors)
    single = (draws, rounds, n_issues, n_actors)
    return DyadicRounds(
        eu_self=np.empty(pair, dtype=np.float32),
        eu_other=np.empty(pair, dtype=np.float32),
        interaction=np.empty(pair, dtype=np.int8),
        offer=np.empty(pair, dtype=np.float32) if full else None,
        taken=np.empty(single, dtype=np.int8) if full else None,
        risk_exponent=np.empty(single, dtype=np.float32) if full else None,
        p_win=np.empty(pair, dtype=np.float32),
    )


def dyadic_round(step: Step, full: bool = True) -> tuple[Array | None, ...]:
    """One round's dyadic results in the order and types of `DyadicRounds`' fields (not `full`:
    None for offer, taken and risk_exponent)."""
    return (
        step.eu_self.astype(np.float32),
        step.eu_other.astype(np.float32),
        step.code.astype(np.int8),
        # offer[.., j, i]: made by j to i
        np.swapaxes(step.offers, 1, 2).astype(np.float32) if full else None,
        step.taken.astype(np.int8) if full else None,
        step.risk_exponent.astype(np.float32) if full else None,
        step.p_win.astype(np.float32),
    )


def assemble(dyadic: DyadicRounds, k: int, run: IssueRun) -> None:
    """Issue k's per-round results into `dyadic` (views of a block of draws). A draw at rest
    repeats the last round computed for it (computed from the same positions, a later round
    would give the same results)."""
    targets: tuple[Array | None, ...] = (
        dyadic.eu_self,
        dyadic.eu_other,
        dyadic.interaction,
        dyadic.offer,
        dyadic.taken,
        dyadic.risk_exponent,
        dyadic.p_win,
    )
    kept = dyadic.rounds
    for t, (rows, fields) in enumerate(run.dyadic[:kept]):
        for target, value in zip(targets, fields, strict=True):
            if target is not None:
                target[slice(None) if rows is None else rows, t, k] = value
    computed = np.minimum(run.computed, kept)
    for count in np.unique(computed[computed < kept]):
        resting = np.flatnonzero(computed == count)
        for target in targets:
            if target is not None:
                target[resting, count:, k] = target[resting, count - 1, k][:, None]


def cycles_closed(
    new_x: FloatArray,
    moves: NDArray[np.bool_],
    index: NDArray[np.intp],
    t: int,
    history: FloatArray,
    fingerprint: FloatArray,
    coefficient: FloatArray,
    near: float,
    tolerance: float,
) -> NDArray[np.int64]:
    """For the draws `index` (their next states new_x, (A, N), in round t), the length of
    the cycle each closes: L = t + 1 - s for the latest earlier state s < t that new_x
    returns to (every actor within `tolerance`); 0 where none. history: (D, R + 1, N) the
    states so far (rows 0..t are filled), fingerprint: (D, R + 1) theirs."""
    period = np.zeros(len(index), dtype=np.int64)
    close = np.abs(fingerprint[index, :t] - (new_x @ coefficient)[:, None]) <= near
    close &= moves[:, None]
    which, earlier = np.nonzero(close)
    if which.size == 0:
        return period
    gap = np.abs(history[index[which], earlier] - new_x[which]).max(axis=1)
    which, earlier = which[gap <= tolerance], earlier[gap <= tolerance]
    latest = np.full(len(index), -1, dtype=np.int64)
    np.maximum.at(latest, which, earlier)
    return np.where(latest >= 0, t + 1 - latest, 0)


def cycle_median(
    states: FloatArray, capability: FloatArray, salience: FloatArray, start: NDArray[np.int64]
) -> FloatArray:
    """(A,) the weighted median averaged over the states start..T - 1 of each draw's cycle.
    states: (A, T, N) every state so far; capability, salience: (A, N) the true ones."""
    n_draws, n_states, n_actors = states.shape
    medians = weighted_median(
        states.reshape(n_draws * n_states, n_actors, 1),
        np.repeat(capability, n_states, axis=0),
        np.repeat(salience, n_states, axis=0)[:, :, None],
    ).reshape(n_draws, n_states)
    inside = np.arange(n_states)[None, :] >= start[:, None]
    return (medians * inside).sum(axis=1) / inside.sum(axis=1)
