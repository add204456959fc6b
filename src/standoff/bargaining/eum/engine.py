"""The EUM engine: its options (their choices and readings in `readings.py`), the loop over
blocks of draws (on threads), issues and rounds, the dispatch of each round to the compiled
kernel (`kernel.py`) or the numpy equations (`equations.py`), and the per-round dyadic results
(`DyadicRounds`, assembled by `issue_run.py`)."""

from __future__ import annotations

import copy
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..base import (
    BargainingInputs,
    Engine,
    FloatArray,
    OneRound,
    Trajectory,
    weighted_median,
)
from .constants import BLOCK, COMPILED_BLOCK, SAME_POSITION
from .equations import Beliefs, Readings, Step, numpy_round, risk_exponent
from .issue_run import (
    Array,
    IssueRun,
    assemble,
    cycle_median,
    cycles_closed,
    dyadic_round,
    empty_step,
    unfilled,
)
from .kernel_args import KernelInputs, KernelOptions
from .native import round_function
from .readings import (
    CHOICE_MODES,
    CYCLE_RULES,
    DEFAULT_READING,
    DYADIC_FIELDS,
    KERNELS,
    PROBABILITY_MODES,
    READINGS,
    RISK_MODES,
    STOP_RULES,
    Reading,
)


class ExpectedUtility(Engine):
    """The EUM engine. Options (keywords; `-o KEY=VALUE` on the command line):

    reading: a named set of the choices below (`READINGS`): "forecast" (the default: the paper's
        pairwise eq. P, run to convergence with cycle detection) or "scholz-table2" (the choices
        that reproduce Scholz et al.'s Table 2: all-triples P, 8 fixed rounds). Any option below
        given explicitly overrides the reading's choice; `options()` reports the resolved ones.
    Q: probability that the status quo holds if i does not challenge j (default 1.0).
    T: probability that, if the status quo does not hold, things get better for i (default 1.0;
        no effect when Q = 1).
    risk: "recompute" each round from the actors' security (Scholz et al.), "off" (everyone risk
        neutral, r = 1), or "given" (R_i = the case's risk attitude in [-1, 1]).
    stop: "fixed" (run the rounds asked for) or "converged" (a draw stops, issue by issue, once no
        position moves more than `tolerance` x the issue's range in a round; at most the rounds
        asked for).
    max_rounds: the rounds `run` takes when it is given none: the rounds run (stop="fixed") or
        the cap (stop="converged").
    tolerance: the share of the issue's range within which two states count as one.
    cycles: with stop="converged", "average" (a draw whose next state returns, within
        `tolerance`, to an earlier one is in a cycle: it stops there, and its settlement is the
        weighted median averaged over the states of the cycle) or "off" (run on to the cap).
    probability, choice, vote_risk: readings of the paper's ambiguous points (docs/model-eum.md).
    diagnostics: keep the per-round dyadic results in `Trajectory.dyadic` (default True).
    dyadic: which of them: "all" (default) or "crisis" (only what a crisis reads: the
        interaction codes, eu_self, eu_other and p_win; offer, taken and risk_exponent are None).
    threads: worker threads over blocks of draws (default: the CPU count), one pool for the
        engine's lifetime (started at the first run that needs it; not pickled or copied).
        The kernel compiled ahead of time holds the GIL, so where it serves the engine uses one.
    kernel: "compiled" (default: the kernel of `kernel.py`, compiled ahead of time where `make`
        built it (native.py), else by numba at first use) or "numpy" (the vectorized
        numpy implementation of `equations.py`, kept as the reference the kernel is tested
        against). The two agree up to float rounding; neither changes the model.

    A `DyadicEngine`: with `diagnostics` on, `run` fills `Trajectory.dyadic`. `Trajectory.
    diagnostics` holds, per draw and issue, "cycle_length" (1: converged; L >= 2: stopped in a
    cycle of L states; 0: did not stop) and "cycle_settlement" (the cycle's averaged weighted
    median; NaN where there is no cycle).
    """

    name: ClassVar[str] = "eum"
    citation: ClassVar[str] = (
        "Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's "
        "group decision model. Journal of Theoretical Politics 23(4): 510-531."
    )

    def __init__(
        self,
        reading: str = DEFAULT_READING,
        Q: float = 1.0,
        T: float = 1.0,
        risk: str | None = None,
        stop: str | None = None,
        tolerance: float | None = None,
        max_rounds: int | None = None,
        cycles: str | None = None,
        probability: str | None = None,
        choice: str | None = None,
        vote_risk: bool | None = None,
        diagnostics: bool = True,
        threads: int | None = None,
        kernel: str = "compiled",
        dyadic: str = "all",
    ) -> None:
        if reading not in READINGS:
            raise ValueError(f"reading must be one of {', '.join(READINGS)}; got {reading!r}")
        chosen = READINGS[reading]
        risk = chosen.risk if risk is None else risk
        stop = chosen.stop if stop is None else stop
        probability = chosen.probability if probability is None else probability
        choice = chosen.choice if choice is None else choice
        if cycles is None:  # the reading's rule, where the stop rule has cycles to detect
            cycles = chosen.cycles if stop == "converged" else "off"
        if not 0.0 <= float(Q) <= 1.0:
            raise ValueError(f"Q must be in [0, 1], got {Q}")
        if not 0.0 <= float(T) <= 1.0:
            raise ValueError(f"T must be in [0, 1], got {T}")
        for label, value, allowed in (
            ("risk", risk, RISK_MODES),
            ("stop", stop, STOP_RULES),
            ("cycles", cycles, CYCLE_RULES),
            ("probability", probability, PROBABILITY_MODES),
            ("choice", choice, CHOICE_MODES),
            ("kernel", kernel, KERNELS),
            ("dyadic", dyadic, DYADIC_FIELDS),
        ):
            if value not in allowed:
                raise ValueError(f"{label} must be one of {', '.join(allowed)}; got {value!r}")
        if cycles != "off" and stop != "converged":
            raise ValueError("cycles=average needs stop=converged")
        tolerance = chosen.tolerance if tolerance is None else tolerance
        if not float(tolerance) >= 0.0:
            raise ValueError("tolerance must be >= 0")
        max_rounds = chosen.max_rounds if max_rounds is None else max_rounds
        if int(max_rounds) != max_rounds or max_rounds < 0:
            raise ValueError(f"max_rounds must be a non-negative integer, got {max_rounds}")
        self.reading = reading
        self.Q = float(Q)
        self.T = float(T)
        self.risk = risk
        self.stop = stop
        self.tolerance = float(tolerance)
        self.max_rounds = int(max_rounds)
        self.cycles = cycles
        self.probability = probability
        self.choice = choice
        self.vote_risk = bool(chosen.vote_risk if vote_risk is None else vote_risk)
        self.diagnostics = bool(diagnostics)
        self.threads = max(1, int(threads if threads is not None else (os.cpu_count() or 1)))
        self.kernel = kernel
        self.dyadic = dyadic
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """The options, without the thread pool (a copy or an unpickled engine starts its own)."""
        state = dict(self.__dict__)
        state["_pool"] = None
        del state["_pool_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pool = None
        self._pool_lock = threading.Lock()

    def _kernel_threads(self) -> int:
        """Threads over blocks of draws: one where the ahead-of-time kernel runs (it holds
        the GIL: native.py), else the engine's."""
        if self.kernel == "compiled" and round_function() is not None:
            return 1
        return self.threads

    def _threads(self) -> ThreadPoolExecutor:
        """The engine's thread pool, started on first use and reused by every later run."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="eum")
            return self._pool

    @property
    def provides_dyadic(self) -> bool:
        """Whether `run` fills `Trajectory.dyadic` (the `diagnostics` option)."""
        return self.diagnostics

    def for_crisis(self) -> ExpectedUtility:
        """A copy that keeps only the dyadic results a crisis reads (dyadic="crisis")."""
        engine = copy.copy(self)
        engine.dyadic = "crisis"
        return engine

    def positions_only(self) -> ExpectedUtility:
        """A copy with `diagnostics` off: `run` keeps no per-round dyadic results."""
        engine = copy.copy(self)
        engine.diagnostics = False
        return engine

    @property
    def readings(self) -> Readings:
        return Readings(
            Q=self.Q,
            T=self.T,
            risk=self.risk,
            probability=self.probability,
            choice=self.choice,
            vote_risk=self.vote_risk,
        )

    def options(self) -> dict[str, Any]:
        return {
            "reading": self.reading,
            "Q": self.Q,
            "T": self.T,
            "risk": self.risk,
            "stop": self.stop,
            "max_rounds": self.max_rounds,
            "tolerance": self.tolerance,
            "cycles": self.cycles,
            "probability": self.probability,
            "choice": self.choice,
            "vote_risk": self.vote_risk,
        }

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        """(D, K): the capability x salience weighted (Condorcet) median of the final positions;
        for a draw stopped in a cycle (cycles="average"), that median averaged over the states
        of the cycle."""
        settled = weighted_median(trajectory.final, inputs.capability, inputs.salience)
        cycle = trajectory.diagnostics.get("cycle_settlement")
        if cycle is None:
            return settled
        return np.where(np.isnan(cycle), settled, cycle)

    # ------------------------------------------------------------------------------------------
    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.max_rounds if rounds is None else rounds
        if steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        n_draws, n_actors, n_issues = inputs.position.shape
        readings = self.readings
        size = BLOCK
        threads = self._kernel_threads()
        if self.kernel == "compiled":  # one block per thread, if that makes blocks small enough
            size = min(COMPILED_BLOCK, max(1, -(-n_draws // threads)))
        blocks = [slice(a, min(n_draws, a + size)) for a in range(0, n_draws, size)]
        results: list[list[IssueRun]] = [[] for _ in blocks]  # per block, per issue

        def one_block(b: int) -> None:
            part = inputs.take(blocks[b])
            # issues run one by one
            results[b] = [self._run_issue(part, k, steps, readings) for k in range(n_issues)]

        if threads > 1 and len(blocks) > 1:
            list(self._threads().map(one_block, range(len(blocks))))
        else:
            for b in range(len(blocks)):
                one_block(b)

        rounds_run = np.zeros(n_draws, dtype=np.int64)
        for block, runs in zip(blocks, results, strict=True):
            for run in runs:
                rounds_run[block] = np.maximum(rounds_run[block], run.rounds_run)
        # the rounds kept: all asked for, or (converged) as many as the slowest draw moved in,
        # but at least one where any was asked (the crisis layer reads round 0 of a one-round
        # run, also where nobody moves); a draw or issue that stopped earlier repeats its final
        # state, and its dyadic results those of the round that found it at rest
        kept = steps
        if self.stop == "converged" and n_draws:
            kept = max(int(rounds_run.max()), min(steps, 1))
        positions = np.empty((n_draws, kept + 1, n_actors, n_issues))
        cycle_length = np.zeros((n_draws, n_issues))
        cycle_settlement = np.full((n_draws, n_issues), np.nan)
        dyadic = (
            unfilled(n_draws, kept, n_actors, n_issues, self.dyadic == "all")
            if self.diagnostics
            else None
        )
        for block, runs in zip(blocks, results, strict=True):
            for k, run in enumerate(runs):
                last = min(run.rounds, kept)
                positions[block, : last + 1, :, k] = run.history[:, : last + 1]
                positions[block, last + 1 :, :, k] = run.history[:, last, None]
                cycle_length[block, k] = run.cycle_length
                cycle_settlement[block, k] = run.cycle_settlement
                if dyadic is not None:
                    assemble(dyadic.draws(block), k, run)
        return Trajectory(
            positions=positions,
            rounds_run=rounds_run,
            dyadic=dyadic,
            diagnostics={"cycle_length": cycle_length, "cycle_settlement": cycle_settlement},
        )

    def one_round(self, inputs: BargainingInputs) -> OneRound:
        """One round of a one-issue problem, the numbers `run(inputs, 1)` gives, without the
        run's bookkeeping (its per-block copies, the trajectory and the per-round dyadic arrays
        it assembles): the compiled kernel writes every block of draws into one set of arrays,
        and a draw that does not move beyond the tolerance (stop="converged") stays put. The
        crisis layer calls it every round."""
        if self.kernel != "compiled" or inputs.n_issues != 1:
            return super().one_round(inputs)
        n_draws, n_actors = inputs.position.shape[:2]
        low, high = float(inputs.low[0]), float(inputs.high[0])
        scale = high - low if high > low else 1.0
        beliefs = Beliefs.of(inputs, 0)
        x = np.ascontiguousarray(inputs.position[:, :, 0])
        step = empty_step(n_draws, n_actors)
        threads = self._kernel_threads()
        size = min(COMPILED_BLOCK, max(1, -(-n_draws // threads)))
        blocks = [slice(a, min(n_draws, a + size)) for a in range(0, n_draws, size)]

        def one_block(b: int) -> None:
            part = blocks[b]
            given = None if inputs.risk is None else inputs.risk[part]
            out = Step._make(a[part] for a in step)
            self._round_compiled(x[part], given, beliefs.take(part), low, high, scale, out)

        if threads > 1 and len(blocks) > 1:
            list(self._threads().map(one_block, range(len(blocks))))
        else:
            for b in range(len(blocks)):
                one_block(b)
        moved = step.new_position
        if self.stop == "converged":  # as `_run_issue`: a draw that does not move stays put
            moves = np.abs(moved - x).max(axis=1) > self.tolerance * scale
            moved = np.where(moves[:, None], moved, x)
        return OneRound(
            moved,
            step.code.astype(np.int8),
            step.eu_self.astype(np.float32),
            step.eu_other.astype(np.float32),
            step.p_win.astype(np.float32),
        )

    def _run_issue(
        self, inputs: BargainingInputs, k: int, steps: int, readings: Readings
    ) -> IssueRun:
        """Run issue k for a block of draws.

        With stop="converged" only the draws still moving are computed each round; a stopped
        draw keeps its positions, and its dyadic results repeat those of the round that found
        it at rest (computed from the same positions, they would be the same). A draw stops
        when its next state is, within `tolerance` x the range, its current one (converged,
        cycle length 1) or, with cycles="average", an earlier one (a cycle: the states from
        that one to the current one). The move that would close the cycle is not made, as the
        sub-tolerance move of a converged draw is not: the draw keeps its current state."""
        n_draws, n_actors = inputs.position.shape[:2]
        low, high = float(inputs.low[k]), float(inputs.high[k])
        scale = high - low if high > low else 1.0
        beliefs = Beliefs.of(inputs, k)
        x = inputs.position[:, :, k].copy()
        converged = self.stop == "converged"
        detect = self.cycles == "average"
        tolerance = self.tolerance * scale
        active = np.ones(n_draws, dtype=bool)
        rounds_run = np.full(n_draws, 0 if converged else steps, dtype=np.int64)
        cycle_length = np.zeros(n_draws)
        cycle_settlement = np.full(n_draws, np.nan)
        # the states so far, [draw, round, actor]; grown as rounds are computed
        history = np.empty((n_draws, min(steps, 15) + 1, n_actors))
        history[:, 0] = x
        # each state's fingerprint sum_i (i + 1) x_i: two states within the tolerance have
        # fingerprints within `near` (plus rounding), so only those pairs are compared in full
        coefficient = np.arange(1.0, n_actors + 1.0)
        near = coefficient.sum() * (tolerance + 1e-12 * max(abs(low), abs(high), scale))
        fingerprint = np.empty((n_draws, steps + 1)) if detect else np.empty((0, 0))
        if detect:
            fingerprint[:, 0] = x @ coefficient
        dyadic: list[tuple[NDArray[np.intp] | None, tuple[Array | None, ...]]] = []
        computed = np.zeros(n_draws, dtype=np.int64)
        t = 0
        while t < steps and active.any():
            rows = None if active.all() else np.flatnonzero(active)
            if rows is None:
                now, seen, given = x, beliefs, inputs.risk
            else:
                now, seen = x[rows], beliefs.take(rows)
                given = None if inputs.risk is None else inputs.risk[rows]
            if self.kernel == "compiled":
                step = self._round_compiled(now, given, seen, low, high, scale)
            else:
                step = numpy_round(now, given, seen, low, high, scale, readings)
            new_x = step.new_position
            if converged:
                index = np.arange(n_draws) if rows is None else rows
                moves = np.abs(new_x - now).max(axis=1) > tolerance
                period = np.zeros(len(index), dtype=np.int64)
                if detect and t >= 1:
                    period = cycles_closed(
                        new_x, moves, index, t, history, fingerprint, coefficient, near,
                        tolerance,
                    )  # fmt: skip
                    looped = np.flatnonzero(period)
                    if looped.size:
                        cycle_length[index[looped]] = period[looped]
                        cycle_settlement[index[looped]] = cycle_median(
                            history[index[looped], : t + 1],
                            inputs.capability[index[looped]],
                            inputs.salience[index[looped], :, k],
                            t + 1 - period[looped],
                        )
                go = moves & (period == 0)
                cycle_length[index[~moves]] = 1
                x[index[go]] = new_x[go]
                rounds_run[index[go]] = t + 1
                active[index[~go]] = False
            else:
                x = new_x
            if t + 1 >= history.shape[1]:
                history = np.concatenate([history, np.empty_like(history)], axis=1)
            history[:, t + 1] = x
            if detect:
                fingerprint[:, t + 1] = x @ coefficient
            if self.diagnostics:
                dyadic.append((rows, dyadic_round(step, self.dyadic == "all")))
            computed[slice(None) if rows is None else rows] = t + 1
            t += 1
        return IssueRun(
            history=history,
            rounds=t,
            computed=computed,
            rounds_run=rounds_run,
            cycle_length=cycle_length,
            cycle_settlement=cycle_settlement,
            dyadic=dyadic,
        )

    def _round_compiled(
        self,
        x: FloatArray,
        given: FloatArray | None,
        beliefs: Beliefs,
        low: float,
        high: float,
        scale: float,
        out: Step | None = None,
    ) -> Step:
        """`equations.numpy_round` through the compiled kernel (kernel.py): the same equations,
        into `out` where given (C-contiguous arrays of the right shapes), else new arrays.
        The kernel compiled ahead of time (native.py) serves where it is built; else numba's,
        imported here, at its first use, not with the engine: commands that never run it do
        not load numba."""

        n_draws, n_actors = x.shape
        empty = np.empty((0, 0, 0))
        if self.risk == "given" and given is not None:
            r_given = risk_exponent(np.clip(given, -1.0, 1.0))
        elif self.risk == "given":
            r_given = risk_exponent(np.zeros((n_draws, n_actors)))
        else:
            r_given = np.ones((n_draws, n_actors))
        mu_view = mu_true = np.zeros((n_draws, n_actors))
        if self.Q < 1.0:
            truth = beliefs.truth(x, scale)
            mu_true = truth.median()
            mu_view = beliefs.world(x, low, high, scale).median() if beliefs.perceived else mu_true
        offset = beliefs.position_offset
        step = out if out is not None else empty_step(n_draws, n_actors)

        def contiguous(a: FloatArray | None) -> FloatArray:
            return empty if a is None else np.ascontiguousarray(a, dtype=np.float64)

        arrays = KernelInputs(
            x=np.ascontiguousarray(x, dtype=np.float64),
            offset=contiguous(offset),
            seen_weight=contiguous(beliefs.seen_weight),
            seen_salience=contiguous(beliefs.seen_salience),
            weight=np.ascontiguousarray(beliefs.capability * beliefs.salience, dtype=np.float64),
            salience=np.ascontiguousarray(beliefs.salience, dtype=np.float64),
            mu_view=np.ascontiguousarray(mu_view, dtype=np.float64),
            mu_true=np.ascontiguousarray(mu_true, dtype=np.float64),
            r_given=np.ascontiguousarray(r_given, dtype=np.float64),
        )
        options = KernelOptions(
            low=low,
            high=high,
            scale=float(scale),
            same_position=SAME_POSITION,
            Q=self.Q,
            T=self.T,
            recompute_risk=self.risk == "recompute",
            neutral=self.risk == "off",
            vote_risk=self.vote_risk,
            pairwise=self.probability == "pairwise",
            nearest=self.choice == "nearest",
            perceived=beliefs.perceived,
            has_offset=offset is not None,
        )
        native = round_function()
        if native is not None:
            native(*arrays, *options, *step)
        else:
            from .kernel import round_kernel

            round_kernel(arrays, options, step)
        return step


__all__ = [
    "CHOICE_MODES",
    "CYCLE_RULES",
    "DEFAULT_READING",
    "DYADIC_FIELDS",
    "KERNELS",
    "PROBABILITY_MODES",
    "READINGS",
    "RISK_MODES",
    "STOP_RULES",
    "ExpectedUtility",
    "Reading",
]
