"""Simulated histories of a crisis: what happened in each draw, as arrays with a leading draw
axis. A block of draws gives one `CrisisHistories`; blocks are joined in draw order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .crisis import VIEW_CLASSES


@dataclass(frozen=True)
class CrisisHistories:
    scenario: NDArray[np.int64]  # (D,): index of the scenario rule that held
    questions: NDArray[np.bool_]  # (D, Q): yes / no
    fired: NDArray[np.bool_]  # (D, T, E): event e happened in round t
    views: NDArray[np.int8]  # (D, T, P, 2): each side's dominant view of dyad p (VIEW_CLASSES)
    # (D, T, P, len(TRACE_TERMS)): each dyad's gap, prevails and the two sides' eu, as the
    # round's bargaining left them (before the round's events)
    bargaining: NDArray[np.float64]
    beliefs: NDArray[np.float64]  # (D, T + 1, B): each belief's probability after each round
    ended: NDArray[np.int64]  # (D,): the round in which the crisis ended, or T
    settlement: NDArray[np.float64]  # (D, K): weighted median of the final positions
    # conditioned on observations only (else None): each draw's weight (the probability of what
    # was observed), the observation that set it to 0 (t * E + e, or -1), and each draw's values
    # of the uncertain inputs, in the order of `uncertain_keys` of the run
    weight: NDArray[np.float64] | None = None
    killed: NDArray[np.int64] | None = None
    uncertain: NDArray[np.float64] | None = None

    @property
    def draws(self) -> int:
        return int(self.scenario.shape[0])

    @staticmethod
    def concat(parts: Sequence[CrisisHistories]) -> CrisisHistories:
        """The histories of consecutive blocks, joined in order."""
        if len(parts) == 1:
            return parts[0]
        joined = {
            f.name: (
                None
                if getattr(parts[0], f.name) is None
                else np.concatenate([getattr(p, f.name) for p in parts])
            )
            for f in fields(parts[0])
        }
        return CrisisHistories(**joined)  # type: ignore[arg-type]


Path = tuple[int, ...]  # event indices in the order they first happened


# The settlement of each issue is kept as a histogram of this many equal bins over the issue's
# range (its quantiles are read from it, to within range / SETTLEMENT_BINS) with the exact sums for
# its mean and standard deviation: a tally's size does not grow with the draws.
SETTLEMENT_BINS = 4096


def settlement_histogram(
    values: NDArray[np.float64], bounds: NDArray[np.float64], weights: NDArray[np.float64] | None
) -> NDArray[Any]:
    """(K, SETTLEMENT_BINS): per issue k, the draws (or their weights) whose value falls in each
    bin of [bounds[k, 0], bounds[k, 1]] (a value at the top goes in the last bin)."""
    n_issues = values.shape[1]
    dtype = np.int64 if weights is None else np.float64
    out = np.zeros((n_issues, SETTLEMENT_BINS), dtype)
    for k in range(n_issues):
        low, high = float(bounds[k, 0]), float(bounds[k, 1])
        width = (high - low) / SETTLEMENT_BINS if high > low else 1.0
        index = np.clip(((values[:, k] - low) / width).astype(np.int64), 0, SETTLEMENT_BINS - 1)
        out[k] = np.bincount(index, weights=weights, minlength=SETTLEMENT_BINS)
    return out


# Beliefs are summed over draws as integer multiples of this (a belief is a probability, so a sum
# over fewer than 2**31 draws fits in int64): the sum is exact, the same in any order or chunking.
BELIEF_QUANTUM = 2.0**-32
# The dyads' terms each round (gap, prevails, eu) are summed over draws the same way, as integer
# multiples of BELIEF_QUANTUM: gap and prevails lie in [0, 1] and eu within about +-4, so a sum
# over fewer than 2**29 draws fits in int64.


def trace_tally(
    h: CrisisHistories, running: NDArray[np.bool_]
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Per round, over the draws whose crisis is still running (`running`, (D, T)): the draws
    (conditioned: their weight), (T,); the sums of each dyad's terms, (T, P, len(TRACE_TERMS)),
    in BELIEF_QUANTUM units (conditioned: weighted sums); and the draws (weight) in which each
    side's dominant view of each dyad is each class, (T, P, 2, len(VIEW_CLASSES))."""
    w = h.weight
    n_rounds, n_pairs = h.views.shape[1], h.views.shape[2]
    n_classes = len(VIEW_CLASSES)
    values = np.where(running[:, :, None, None], h.bargaining, 0.0)  # (D, T, P, V)
    if w is None:
        cells = running.sum(axis=0, dtype=np.int64)
        sums = np.rint(values / BELIEF_QUANTUM).astype(np.int64).sum(axis=0)
    else:
        cells = np.tensordot(w, running.astype(np.float64), axes=(0, 0))
        sums = np.tensordot(w, values, axes=(0, 0))
    # one bin per (round, dyad, side, class), counted over the running cells
    base = np.arange(n_rounds * n_pairs * 2).reshape(n_rounds, n_pairs, 2) * n_classes
    bins = (base[None] + h.views)[running]  # (cells, P, 2)
    cell_w = None if w is None else np.broadcast_to(w[:, None], running.shape)[running]
    size = n_rounds * n_pairs * 2 * n_classes
    counted = np.bincount(
        bins.ravel(),
        weights=None if cell_w is None else np.repeat(cell_w, n_pairs * 2),
        minlength=size,
    )
    views = counted.astype(np.int64 if w is None else np.float64).reshape(
        n_rounds, n_pairs, 2, n_classes
    )
    return cells, sums, views


@dataclass(frozen=True)
class Posterior:
    """A conditioned run's weights per input draw (group of replicates) touched by a block: what
    the effective sample size, the weighted probabilities with their intervals, and the posterior
    of each uncertain input are computed from. Rows are in group order; a group cut by a block's
    ends has a row in each block, joined by `merge`."""

    group: NDArray[np.int64]  # (G,): the group (input draw) index
    count: NDArray[np.int64]  # (G,): its draws in the block
    weight: NDArray[np.float64]  # (G,): the sum of their weights
    weight_sq: NDArray[np.float64]  # (G,): the sum of their squared weights
    hits: NDArray[np.float64]  # (G, H): the weight of the draws where each item held
    values: NDArray[np.float64]  # (G, k): the group's value of each uncertain input
    killed: int  # the latest observation (t * E + e) that set a draw's weight to 0, or -1

    @staticmethod
    def of(h: CrisisHistories, hit: NDArray[np.bool_], replicates: int, start: int) -> Posterior:
        assert h.weight is not None and h.killed is not None
        group = (start + np.arange(h.draws)) // replicates
        ids, first, inverse = np.unique(group, return_index=True, return_inverse=True)
        w = h.weight
        values = h.uncertain[first] if h.uncertain is not None else np.zeros((len(ids), 0))
        hits = np.zeros((len(ids), hit.shape[1]))
        np.add.at(hits, inverse, w[:, None] * hit)
        return Posterior(
            group=ids.astype(np.int64),
            count=np.bincount(inverse, minlength=len(ids)).astype(np.int64),
            weight=np.bincount(inverse, weights=w, minlength=len(ids)).astype(np.float64),
            weight_sq=np.bincount(inverse, weights=w * w, minlength=len(ids)).astype(np.float64),
            hits=hits,
            values=values,
            killed=int(h.killed.max(initial=-1)),
        )

    @staticmethod
    def merge(parts: Sequence[Posterior]) -> Posterior:
        """The rows of consecutive blocks, a group cut between two blocks joined into one row."""
        group = np.concatenate([p.group for p in parts])
        ids, first, inverse = np.unique(group, return_index=True, return_inverse=True)
        n = len(ids)

        def summed(name: str) -> NDArray[Any]:
            rows = np.concatenate([getattr(p, name) for p in parts])
            out = np.zeros((n, *rows.shape[1:]), dtype=rows.dtype)
            np.add.at(out, inverse, rows)
            return out

        return Posterior(
            group=ids.astype(np.int64),
            count=summed("count"),
            weight=summed("weight"),
            weight_sq=summed("weight_sq"),
            hits=summed("hits"),
            values=np.concatenate([p.values for p in parts])[first],
            killed=max(p.killed for p in parts),
        )

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    @property
    def effective(self) -> float:
        """Kish's effective sample size of the weighted histories, (sum w)^2 / sum w^2."""
        square = float(self.weight_sq.sum())
        return self.total**2 / square if square > 0 else 0.0


def _unique_rows(
    sequence: NDArray[np.int64], n_events: int
) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """`np.unique(sequence, axis=0, return_inverse=True)` for rows of event indices (-1 to
    n_events - 1): each row read as one number in base n_events + 1, most significant first,
    whose order is the rows' order, where that number fits in 63 bits (13 events: 14^13 does);
    else numpy's row-wise unique."""
    width = sequence.shape[1]
    if width and (n_events + 1) ** width < 2**63:
        base = np.int64(n_events + 1)
        keys = np.zeros(len(sequence), dtype=np.int64)
        for column in range(width):
            keys = keys * base + (sequence[:, column] + 1)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return sequence[first], inverse.reshape(-1)
    rows, inverse = np.unique(sequence, axis=0, return_inverse=True)
    return rows, inverse.reshape(-1)


@dataclass(frozen=True)
class CrisisTally:
    """What the summaries need of the histories of draws [start, stop), reduced so that its size
    does not grow with the draws (except the hits per group of replicates, and a conditioned
    run's per-input-draw weights: one row per input draw). Tallies of consecutive blocks merge
    (`merge`) into the tally of their union, with the same numbers.

    Unconditioned, every count is an integer count of draws. Conditioned on observations
    (`posterior` is set), every count is instead a sum of the draws' weights, and `total` is the
    sum of all weights: the shares are then the conditioned probabilities.

    Hits (the scenarios, then the questions) are summed per group of `replicates` consecutive
    draws; a group cut by the block's ends keeps its draws' hits (`head`, `tail`) until merging
    completes it."""

    start: int
    stop: int
    replicates: int
    hits: NDArray[Any]  # (H,): draws (or weight) where each scenario (S), then question (Q), held
    head: NDArray[np.bool_]  # (h, H): per-draw hits before the first group boundary
    groups: NDArray[np.int64]  # (G, H): hits per whole group inside
    tail: NDArray[np.bool_]  # (t, H): per-draw hits after the last group boundary
    paths: tuple[dict[Path, Any], ...]  # per scenario: draws (weight) per first-occurrence order
    view_counts: NDArray[Any]  # (S, P, 2, C): running rounds with each side's view class
    running: NDArray[Any]  # (S,): running (draw, round) cells
    differ: NDArray[Any]  # (S, P): running rounds where the two sides' views differed
    happened: NDArray[Any]  # (T, E): draws where the event has happened by round t
    seen_in: NDArray[Any]  # (T, E, S): same, jointly with the indicators' scenario index
    in_scenario: NDArray[Any]  # (S,): draws per indicators' scenario index (-1 is the last)
    belief_sum: NDArray[Any]  # (T + 1, B): beliefs summed over draws (in BELIEF_QUANTUM units
    # unconditioned; weighted sums conditioned)
    bounds: NDArray[np.float64]  # (K, 2): each issue's range, the histogram's span
    settlement_counts: NDArray[Any]  # (K, SETTLEMENT_BINS): draws (weight) per settlement bin
    settlement_sum: NDArray[np.float64]  # (K,): sum over draws (weighted) of the settlement
    settlement_sq: NDArray[np.float64]  # (K,): the same of its square
    # per round, among the draws whose crisis is still running (see `trace_tally`): the draws
    # (weight), the sums of each dyad's terms (TRACE_TERMS), and each side's dominant views
    trace_running: NDArray[Any]  # (T,)
    trace_sum: NDArray[Any]  # (T, P, len(TRACE_TERMS))
    trace_views: NDArray[Any]  # (T, P, 2, len(VIEW_CLASSES))
    posterior: Posterior | None = None

    @property
    def draws(self) -> int:
        return self.stop - self.start

    @property
    def total(self) -> float:
        """What a share is a share of: the draws, or conditioned, the sum of their weights."""
        return float(self.draws) if self.posterior is None else self.posterior.total

    @property
    def n_scenarios(self) -> int:
        return len(self.paths)

    def belief_means(self) -> NDArray[np.float64]:
        """(T + 1, B): each belief's mean (conditioned: weighted mean) after each round."""
        if self.posterior is None:
            return np.asarray(self.belief_sum * BELIEF_QUANTUM / self.draws, dtype=np.float64)
        return np.asarray(self.belief_sum / self.total, dtype=np.float64)

    def trace_means(self) -> NDArray[np.float64]:
        """(T, P, len(TRACE_TERMS)): each dyad's mean terms per round over the draws still
        running in it (conditioned: weighted means); NaN in a round no draw (weight) reaches."""
        sums = self.trace_sum * BELIEF_QUANTUM if self.posterior is None else self.trace_sum
        return _per_running(np.asarray(sums, dtype=np.float64), self.trace_running)

    def trace_view_shares(self) -> NDArray[np.float64]:
        """(T, P, 2, len(VIEW_CLASSES)): per round, the share of the draws still running in it
        (conditioned: of their weight) in which each side's dominant view is each class."""
        return _per_running(np.asarray(self.trace_views, dtype=np.float64), self.trace_running)

    @staticmethod
    def of(
        h: CrisisHistories,
        n_scenarios: int,
        replicates: int,
        start: int = 0,
        bounds: NDArray[np.float64] | None = None,
    ) -> CrisisTally:
        """The tally of histories `h` of draws [start, start + h.draws). `bounds` (K, 2): each
        issue's range (default 0 to 100)."""
        d, s_n = h.draws, n_scenarios
        stop = start + d
        w = h.weight
        span = (
            np.tile([0.0, 100.0], (h.settlement.shape[1], 1))
            if bounds is None
            else np.asarray(bounds, dtype=np.float64)
        )

        def count(mask: NDArray[Any], where: NDArray[np.bool_] | None = None) -> NDArray[Any]:
            """Draws (axis 0) where mask holds, among the draws `where` selects (mask's rows):
            counted, or with weights, weighed."""
            if w is None:
                return np.asarray(mask.sum(axis=0, dtype=np.int64))
            return np.tensordot(w if where is None else w[where], mask, axes=(0, 0))

        onehot = h.scenario[:, None] == np.arange(s_n)[None, :]  # (D, S)
        hit = np.concatenate([onehot, h.questions.astype(bool)], axis=1)  # (D, H)
        r = replicates
        b0 = min(stop, -(-start // r) * r)
        b1 = max(b0, (stop // r) * r)
        whole = hit[b0 - start : b1 - start]
        groups = whole.reshape(-1, r, hit.shape[1]).sum(axis=1, dtype=np.int64)
        # the order in which events first happened, per draw (as `summary.paths` had it)
        _, n_rounds, n_events = h.fired.shape
        ever = h.fired.any(axis=1)
        first = np.where(ever, h.fired.argmax(axis=1), n_rounds)  # (D, E)
        order = np.argsort(first * n_events + np.arange(n_events), axis=1)
        sequence = np.where(np.take_along_axis(first, order, axis=1) < n_rounds, order, -1)
        running = np.arange(h.views.shape[1])[None, :] <= h.ended[:, None]  # (D, T)
        n_pairs = h.views.shape[2]
        n_classes = int(h.views.max(initial=0)) + 1
        dtype = np.int64 if w is None else np.float64
        paths: list[dict[Path, Any]] = []
        view_counts = np.zeros((s_n, n_pairs, 2, n_classes), dtype)
        differ = np.zeros((s_n, n_pairs), dtype)
        cells = np.zeros(s_n, dtype)
        for s in range(s_n):
            members = onehot[:, s]
            counted: dict[Path, Any] = {}
            if members.any():
                rows, inverse = _unique_rows(sequence[members], n_events)
                weight = None if w is None else w[members]
                weighed = np.bincount(inverse.reshape(-1), weights=weight, minlength=len(rows))
                counted = {
                    tuple(row): int(c) if w is None else float(c)
                    for row, c in zip(rows.tolist(), weighed.tolist(), strict=True)
                    if c > 0  # a path no weight rests on is not a path of the forecast
                }
                run = running[members]
                seen = h.views[members][run]  # (cells, P, 2)
                cell_w = (
                    None if weight is None else np.broadcast_to(weight[:, None], run.shape)[run]
                )
                cells[s] = run.sum() if cell_w is None else cell_w.sum()
                for p in range(n_pairs):
                    for side in range(2):
                        view_counts[s, p, side] = np.bincount(
                            seen[:, p, side].astype(np.int64), weights=cell_w, minlength=n_classes
                        )[:n_classes]
                    differs = seen[:, p, 0] != seen[:, p, 1]
                    differ[s, p] = differs.sum() if cell_w is None else cell_w[differs].sum()
            paths.append(counted)
        by_round = np.logical_or.accumulate(h.fired, axis=1)  # (D, T, E)
        scen = np.where(h.scenario < 0, h.scenario + s_n, h.scenario)  # as np.eye(S)[scenario]
        in_scenario = np.bincount(scen, weights=w, minlength=s_n).astype(dtype)
        seen_in = np.zeros((n_rounds, n_events, s_n), dtype)
        for s in range(s_n):
            seen_in[:, :, s] = count(by_round[scen == s], scen == s)
        if w is None:
            belief_sum = np.rint(h.beliefs / BELIEF_QUANTUM).astype(np.int64).sum(axis=0)
        else:
            belief_sum = np.tensordot(w, h.beliefs, axes=(0, 0))
        trace_running, trace_sum, trace_views = trace_tally(h, running)
        return CrisisTally(
            start=start,
            stop=stop,
            replicates=r,
            hits=count(hit),
            head=hit[: b0 - start],
            groups=groups,
            tail=hit[b1 - start :],
            paths=tuple(paths),
            view_counts=view_counts,
            running=cells,
            differ=differ,
            happened=count(by_round),
            seen_in=seen_in,
            in_scenario=in_scenario,
            belief_sum=belief_sum,
            bounds=span,
            settlement_counts=settlement_histogram(h.settlement, span, w),
            settlement_sum=(
                h.settlement.sum(axis=0) if w is None else np.tensordot(w, h.settlement, axes=1)
            ),
            settlement_sq=(
                (h.settlement**2).sum(axis=0)
                if w is None
                else np.tensordot(w, h.settlement**2, axes=1)
            ),
            trace_running=trace_running,
            trace_sum=trace_sum,
            trace_views=trace_views,
            posterior=None if w is None else Posterior.of(h, hit, r, start),
        )

    @staticmethod
    def merge(parts: Sequence[CrisisTally]) -> CrisisTally:
        """The tally of consecutive blocks (in draw order), as if their draws were one block."""
        if len(parts) == 1:
            return parts[0]
        first, r = parts[0], parts[0].replicates
        width = first.hits.shape[0]
        complete: list[NDArray[np.int64]] = []
        head = np.zeros((0, width), bool)
        pending, pending_start = [np.zeros((0, width), bool)], first.start  # an open group
        for i, part in enumerate(parts):
            if i > 0 and part.start != parts[i - 1].stop:
                raise ValueError("tallies must be of consecutive blocks")
            pending.append(part.head)
            at = part.start + part.head.shape[0]
            if at % r:  # the block ends inside the open group
                continue
            rows = np.concatenate(pending)
            if pending_start % r:  # the merged block starts inside a group: its head
                head = rows
            elif rows.shape[0]:
                complete.append(rows.sum(axis=0, dtype=np.int64)[None, :])
            complete.append(part.groups)
            pending, pending_start = [part.tail], part.stop - part.tail.shape[0]
        rows = np.concatenate(pending)
        if pending_start % r:  # no group boundary at all: every draw is in the head
            head, rows = rows, np.zeros((0, width), bool)
        paths: list[dict[Path, Any]] = [dict(p) for p in first.paths]
        for part in parts[1:]:
            for s, counted in enumerate(part.paths):
                for path, c in counted.items():
                    paths[s][path] = paths[s].get(path, 0) + c
        n_classes = max(p.view_counts.shape[-1] for p in parts)

        def padded(v: NDArray[Any]) -> NDArray[Any]:
            pad = n_classes - v.shape[-1]
            return np.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, pad)]) if pad else v

        weighted = first.posterior is not None
        return CrisisTally(
            start=first.start,
            stop=parts[-1].stop,
            replicates=r,
            hits=_total([p.hits for p in parts]),
            head=head,
            groups=np.concatenate(complete) if complete else np.zeros((0, width), np.int64),
            tail=rows,
            paths=tuple(paths),
            view_counts=_total([padded(p.view_counts) for p in parts]),
            running=_total([p.running for p in parts]),
            differ=_total([p.differ for p in parts]),
            happened=_total([p.happened for p in parts]),
            seen_in=_total([p.seen_in for p in parts]),
            in_scenario=_total([p.in_scenario for p in parts]),
            belief_sum=_total([p.belief_sum for p in parts]),
            bounds=first.bounds,
            settlement_counts=_total([p.settlement_counts for p in parts]),
            settlement_sum=_total([p.settlement_sum for p in parts]),
            settlement_sq=_total([p.settlement_sq for p in parts]),
            trace_running=_total([p.trace_running for p in parts]),
            trace_sum=_total([p.trace_sum for p in parts]),
            trace_views=_total([p.trace_views for p in parts]),
            posterior=(
                Posterior.merge([p.posterior for p in parts if p.posterior is not None])
                if weighted
                else None
            ),
        )


def _per_running(values: NDArray[np.float64], running: NDArray[Any]) -> NDArray[np.float64]:
    """`values` (T, ...) divided by the draws (weight) running in each round; NaN where none."""
    cells = np.asarray(running, dtype=np.float64).reshape(-1, *([1] * (values.ndim - 1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cells > 0, values / np.where(cells > 0, cells, 1.0), np.nan)


def _total(arrays: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """The element-wise sum of equally shaped arrays (counts, or a conditioned run's weights),
    added in block order."""
    out = np.array(arrays[0], copy=True)
    for a in arrays[1:]:
        out = out + a
    return out
