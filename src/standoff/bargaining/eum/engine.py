"""The EUM engine: its options, the loop over blocks of draws (on threads), issues and rounds, the
dispatch of each round to the compiled kernel (`kernel.py`) or the numpy equations
(`equations.py`), and the per-round dyadic results (`DyadicRounds`)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ..base import (
    BargainingInputs,
    DyadicRounds,
    Engine,
    FloatArray,
    Trajectory,
    weighted_median,
)
from .constants import BLOCK, COMPILED_BLOCK, SAME_POSITION
from .equations import Beliefs, Readings, Step, numpy_round, risk_exponent
from .kernel import KernelInputs, KernelOptions, round_kernel

RISK_MODES = ("recompute", "off", "given")
PROBABILITY_MODES = ("all-triples", "pairwise")
CHOICE_MODES = ("scholz", "nearest")
STOP_RULES = ("fixed", "converged")
KERNELS = ("compiled", "numpy")


class ExpectedUtility(Engine):
    """The EUM engine. Options (keywords; `-o KEY=VALUE` on the command line):

    Q: probability that the status quo holds if i does not challenge j (default 1.0).
    T: probability that, if the status quo does not hold, things get better for i (default 1.0;
        no effect when Q = 1).
    risk: "recompute" each round from the actors' security (default, Scholz et al.), "off"
        (everyone risk neutral, r = 1), or "given" (R_i = the case's risk attitude in [-1, 1]).
    stop: "fixed" (run the rounds asked for) or "converged" (a draw stops once no position moves
        more than `tolerance` x the issue's range in a round; at most the rounds asked for).
    probability, choice, vote_risk: readings of the paper's ambiguous points (docs/model-eum.md);
        the defaults are the readings that reproduce Scholz et al.'s Table 2.
    diagnostics: keep the per-round dyadic results in `Trajectory.dyadic` (default True).
    threads: worker threads over blocks of draws (default: the CPU count).
    kernel: "compiled" (default: the numba kernel of `kernel.py`) or "numpy" (the vectorized
        numpy implementation of `equations.py`, kept as the reference the kernel is tested
        against). The two agree up to float rounding; neither changes the model.

    A `DyadicEngine`: with `diagnostics` on, `run` fills `Trajectory.dyadic`.
    """

    name: ClassVar[str] = "eum"
    citation: ClassVar[str] = (
        "Scholz, J. B., Calbert, G. J. & Smith, G. A. (2011). Unravelling Bueno de Mesquita's "
        "group decision model. Journal of Theoretical Politics 23(4): 510-531."
    )
    default_rounds: ClassVar[int | None] = 8

    def __init__(
        self,
        Q: float = 1.0,
        T: float = 1.0,
        risk: str = "recompute",
        stop: str = "fixed",
        tolerance: float = 1e-6,
        probability: str = "all-triples",
        choice: str = "scholz",
        vote_risk: bool = True,
        diagnostics: bool = True,
        threads: int | None = None,
        kernel: str = "compiled",
    ) -> None:
        if not 0.0 <= float(Q) <= 1.0:
            raise ValueError(f"Q must be in [0, 1], got {Q}")
        if not 0.0 <= float(T) <= 1.0:
            raise ValueError(f"T must be in [0, 1], got {T}")
        for label, value, allowed in (
            ("risk", risk, RISK_MODES),
            ("stop", stop, STOP_RULES),
            ("probability", probability, PROBABILITY_MODES),
            ("choice", choice, CHOICE_MODES),
            ("kernel", kernel, KERNELS),
        ):
            if value not in allowed:
                raise ValueError(f"{label} must be one of {', '.join(allowed)}; got {value!r}")
        if not float(tolerance) >= 0.0:
            raise ValueError("tolerance must be >= 0")
        self.Q = float(Q)
        self.T = float(T)
        self.risk = risk
        self.stop = stop
        self.tolerance = float(tolerance)
        self.probability = probability
        self.choice = choice
        self.vote_risk = bool(vote_risk)
        self.diagnostics = bool(diagnostics)
        self.threads = max(1, int(threads if threads is not None else (os.cpu_count() or 1)))
        self.kernel = kernel

    @property
    def provides_dyadic(self) -> bool:
        """Whether `run` fills `Trajectory.dyadic` (the `diagnostics` option)."""
        return self.diagnostics

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
            "Q": self.Q,
            "T": self.T,
            "risk": self.risk,
            "stop": self.stop,
            "tolerance": self.tolerance,
            "probability": self.probability,
            "choice": self.choice,
            "vote_risk": self.vote_risk,
        }

    def settlement(self, inputs: BargainingInputs, trajectory: Trajectory) -> FloatArray:
        """(D, K): the capability x salience weighted (Condorcet) median of the final positions."""
        return weighted_median(trajectory.final, inputs.capability, inputs.salience)

    # ------------------------------------------------------------------------------------------
    def run(self, inputs: BargainingInputs, rounds: int | None = None) -> Trajectory:
        steps = self.default_rounds if rounds is None else rounds
        if steps is None or steps < 0:
            raise ValueError("rounds must be a non-negative integer")
        n_draws, n_actors, n_issues = inputs.position.shape
        positions = np.empty((n_draws, steps + 1, n_actors, n_issues))
        positions[:, 0] = inputs.position
        rounds_run = np.zeros(n_draws, dtype=np.int64)
        dyadic = (
            DyadicRounds.empty(n_draws, steps, n_actors, n_issues) if self.diagnostics else None
        )
        readings = self.readings
        size = BLOCK
        if self.kernel == "compiled":  # one block per thread, if that makes blocks small enough
            size = min(COMPILED_BLOCK, max(1, -(-n_draws // self.threads)))
        blocks = [slice(a, min(n_draws, a + size)) for a in range(0, n_draws, size)]

        def one_block(block: slice) -> None:
            part = inputs.take(block)
            for k in range(n_issues):  # issues run one by one
                self._run_issue(
                    part,
                    k,
                    steps,
                    readings,
                    positions[block],
                    rounds_run[block],
                    None if dyadic is None else dyadic.draws(block),
                )

        if self.threads > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                list(pool.map(one_block, blocks))
        else:
            for block in blocks:
                one_block(block)

        if self.stop == "converged" and n_draws:
            positions = positions[:, : int(rounds_run.max()) + 1]
        if dyadic is not None:
            dyadic = dyadic.first(positions.shape[1] - 1)
        return Trajectory(positions=positions, rounds_run=rounds_run, dyadic=dyadic)

    def _run_issue(
        self,
        inputs: BargainingInputs,
        k: int,
        steps: int,
        readings: Readings,
        positions: FloatArray,
        rounds_run: NDArray[np.int64],
        dyadic: DyadicRounds | None,
    ) -> None:
        """Run issue k for a block of draws, writing into views of the output arrays."""
        n_draws = inputs.draws
        low, high = float(inputs.low[k]), float(inputs.high[k])
        scale = high - low if high > low else 1.0
        beliefs = Beliefs.of(inputs, k)
        x = inputs.position[:, :, k].copy()
        active = np.ones(n_draws, dtype=bool)
        for t in range(steps):
            if self.kernel == "compiled":
                step = self._round_compiled(x, inputs, beliefs, low, high, scale)
            else:
                step = numpy_round(x, inputs, beliefs, low, high, scale, readings)
            new_x = step.new_position
            if self.stop == "converged":
                moved = np.abs(new_x - x).max(axis=1) > self.tolerance * scale
                active &= moved
                new_x = np.where(active[:, None], new_x, x)
                rounds_run[:] = np.maximum(rounds_run, np.where(active, t + 1, 0))
            else:
                rounds_run[:] = steps
            x = new_x
            positions[:, t + 1, :, k] = x
            if dyadic is not None:
                _store(dyadic, t, k, step)
            if self.stop == "converged" and not active.any():
                positions[:, t + 2 :, :, k] = x[:, None, :]
                break

    def _round_compiled(
        self,
        x: FloatArray,
        inputs: BargainingInputs,
        beliefs: Beliefs,
        low: float,
        high: float,
        scale: float,
    ) -> Step:
        """`equations.numpy_round` through the compiled kernel (kernel.py): the same equations."""
        n_draws, n_actors = x.shape
        pair = (n_draws, n_actors, n_actors)
        empty = np.empty((0, 0, 0))
        if self.risk == "given" and inputs.risk is not None:
            r_given = risk_exponent(np.clip(inputs.risk, -1.0, 1.0))
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
        step = Step(
            new_position=np.empty((n_draws, n_actors)),
            eu_self=np.empty(pair),
            eu_other=np.empty(pair),
            code=np.empty(pair, dtype=np.int8),
            offers=np.empty(pair),
            taken=np.empty((n_draws, n_actors), dtype=np.int8),
            risk_exponent=np.empty((n_draws, n_actors)),
        )

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
        round_kernel(arrays, options, step)
        return step


def _store(dyadic: DyadicRounds, t: int, k: int, step: Step) -> None:
    """Round t of issue k into the dyadic results (float32, int8)."""
    dyadic.eu_self[:, t, k] = step.eu_self
    dyadic.eu_other[:, t, k] = step.eu_other
    dyadic.interaction[:, t, k] = step.code
    dyadic.offer[:, t, k] = np.swapaxes(step.offers, 1, 2)  # offer[.., j, i]: made by j to i
    dyadic.taken[:, t, k] = step.taken
    dyadic.risk_exponent[:, t, k] = step.risk_exponent
