"""Simulated histories of a crisis: what happened in each draw, as arrays with a leading draw
axis. A block of draws gives one `CrisisHistories`; blocks are joined in draw order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class CrisisHistories:
    scenario: NDArray[np.int64]  # (D,): index of the scenario rule that held
    questions: NDArray[np.bool_]  # (D, Q): yes / no
    fired: NDArray[np.bool_]  # (D, T, E): event e happened in round t
    views: NDArray[np.int8]  # (D, T, P, 2): each side's dominant view of dyad p (VIEW_CLASSES)
    beliefs: NDArray[np.float64]  # (D, T + 1, B): each belief's probability after each round
    ended: NDArray[np.int64]  # (D,): the round in which the crisis ended, or T
    settlement: NDArray[np.float64]  # (D, K): weighted median of the final positions

    @property
    def draws(self) -> int:
        return int(self.scenario.shape[0])

    @staticmethod
    def concat(parts: Sequence[CrisisHistories]) -> CrisisHistories:
        """The histories of consecutive blocks, joined in order."""
        if len(parts) == 1:
            return parts[0]
        joined = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(parts[0])
        }
        return CrisisHistories(**joined)


Path = tuple[int, ...]  # event indices in the order they first happened


@dataclass(frozen=True)
class CrisisTally:
    """What the summaries need of the histories of draws [start, stop), reduced so that its size
    does not grow with the draws (except the beliefs and the settlement, kept per draw: the
    beliefs' means and the settlement's quantiles are taken over every draw). Tallies of
    consecutive blocks merge (`merge`) into the tally of their union, with the same numbers.

    Hits (the scenarios, then the questions) are summed per group of `replicates` consecutive
    draws; a group cut by the block's ends keeps its draws' hits (`head`, `tail`) until merging
    completes it."""

    start: int
    stop: int
    replicates: int
    hits: NDArray[np.int64]  # (H,): draws where each scenario (S), then each question (Q), held
    head: NDArray[np.bool_]  # (h, H): per-draw hits before the first group boundary
    groups: NDArray[np.int64]  # (G, H): hits per whole group inside
    tail: NDArray[np.bool_]  # (t, H): per-draw hits after the last group boundary
    paths: tuple[dict[Path, int], ...]  # per scenario: draws per first-occurrence order
    view_counts: NDArray[np.int64]  # (S, P, 2, C): running rounds with each side's view class
    running: NDArray[np.int64]  # (S,): running (draw, round) cells
    differ: NDArray[np.int64]  # (S, P): running rounds where the two sides' views differed
    happened: NDArray[np.int64]  # (T, E): draws where the event has happened by round t
    seen_in: NDArray[np.int64]  # (T, E, S): same, jointly with the indicators' scenario index
    in_scenario: NDArray[np.int64]  # (S,): draws per indicators' scenario index (-1 is the last)
    beliefs: NDArray[np.float64]  # (D, T + 1, B) per draw
    settlement: NDArray[np.float64]  # (D, K) per draw

    @property
    def draws(self) -> int:
        return self.stop - self.start

    @property
    def n_scenarios(self) -> int:
        return len(self.paths)

    @staticmethod
    def of(h: CrisisHistories, n_scenarios: int, replicates: int, start: int = 0) -> CrisisTally:
        """The tally of histories `h` of draws [start, start + h.draws)."""
        d, s_n = h.draws, n_scenarios
        stop = start + d
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
        paths: list[dict[Path, int]] = []
        view_counts = np.zeros((s_n, n_pairs, 2, n_classes), np.int64)
        differ = np.zeros((s_n, n_pairs), np.int64)
        cells = np.zeros(s_n, np.int64)
        for s in range(s_n):
            members = onehot[:, s]
            counted: dict[Path, int] = {}
            if members.any():
                rows, counts = np.unique(sequence[members], axis=0, return_counts=True)
                counted = {
                    tuple(int(e) for e in row): int(c) for row, c in zip(rows, counts, strict=True)
                }
                run = running[members]
                cells[s] = int(run.sum())
                seen = h.views[members][run]  # (cells, P, 2)
                for p in range(n_pairs):
                    for side in range(2):
                        view_counts[s, p, side] = np.bincount(
                            seen[:, p, side].astype(np.int64), minlength=n_classes
                        )[:n_classes]
                    differ[s, p] = int(np.count_nonzero(seen[:, p, 0] != seen[:, p, 1]))
            paths.append(counted)
        by_round = np.cumsum(h.fired, axis=1) > 0  # (D, T, E)
        scen = np.where(h.scenario < 0, h.scenario + s_n, h.scenario)  # as np.eye(S)[scenario]
        in_scenario = np.bincount(scen, minlength=s_n).astype(np.int64)
        seen_in = np.zeros((n_rounds, n_events, s_n), np.int64)
        for s in range(s_n):
            seen_in[:, :, s] = by_round[scen == s].sum(axis=0, dtype=np.int64)
        return CrisisTally(
            start=start,
            stop=stop,
            replicates=r,
            hits=hit.sum(axis=0, dtype=np.int64),
            head=hit[: b0 - start],
            groups=groups,
            tail=hit[b1 - start :],
            paths=tuple(paths),
            view_counts=view_counts,
            running=cells,
            differ=differ,
            happened=by_round.sum(axis=0, dtype=np.int64),
            seen_in=seen_in,
            in_scenario=in_scenario,
            beliefs=h.beliefs,
            settlement=h.settlement,
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
        paths: list[dict[Path, int]] = [dict(p) for p in first.paths]
        for part in parts[1:]:
            for s, counted in enumerate(part.paths):
                for path, c in counted.items():
                    paths[s][path] = paths[s].get(path, 0) + c
        n_classes = max(p.view_counts.shape[-1] for p in parts)

        def padded(v: NDArray[np.int64]) -> NDArray[np.int64]:
            pad = n_classes - v.shape[-1]
            return np.pad(v, [(0, 0)] * (v.ndim - 1) + [(0, pad)]) if pad else v

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
            beliefs=np.concatenate([p.beliefs for p in parts]),
            settlement=np.concatenate([p.settlement for p in parts]),
        )


def _total(arrays: Sequence[NDArray[np.int64]]) -> NDArray[np.int64]:
    """The element-wise sum of equally shaped integer arrays."""
    return np.asarray(np.sum(arrays, axis=0, dtype=np.int64), dtype=np.int64)
