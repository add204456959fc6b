"""The pipeline: case -> draws -> bargaining engine -> forecast (settlement distribution per issue).

Draws run in chunks; each chunk's inputs come from the block-seeded sampler, so the result does not
depend on the chunk size. Engines are deterministic given their inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import __version__
from .bargaining import Engine, make_engine, weighted_mean, weighted_median
from .bargaining.base import BargainingInputs, Trajectory
from .case.schema import Case
from .sample import Sampler, central_inputs

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20180815
DEFAULT_CHUNK = 4096
INTERVAL = (0.05, 0.95)


@dataclass(frozen=True)
class Forecast:
    case: Case
    model: str
    options: dict[str, Any]
    draws: int
    seed: int
    settlement: NDArray[np.float64]  # (D, K)
    rounds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def settlement_summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        lo_q, hi_q = INTERVAL
        for k, issue in enumerate(self.case.issues):
            values = self.settlement[:, k]
            out[issue.id] = {
                "label": issue.label,
                "median": _num(np.median(values)),
                "interval": [_num(np.quantile(values, lo_q)), _num(np.quantile(values, hi_q))],
                "mean": _num(values.mean()),
                "sd": _num(values.std()),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case.id,
            "title": self.case.title,
            "as_of": self.case.as_of.isoformat() if self.case.as_of else None,
            "model": self.model,
            "options": self.options,
            "rounds": self.rounds,
            "draws": self.draws,
            "seed": self.seed,
            "interval": list(INTERVAL),
            "settlement": self.settlement_summary(),
            "standoff": __version__,
        }


def _num(x: float | np.floating[Any]) -> float:
    """Round for output, so that JSON is stable across platforms' last-bit differences."""
    return round(float(x), 6)


def crisis_json(result: Any, sensitivity: Any = None) -> dict[str, Any]:
    """The JSON of a crisis forecast (a standoff.crisis.CrisisResult), with the drivers when a
    sensitivity analysis (standoff.sensitivity.Sensitivity) was run."""
    from .crisis import summarize
    from .crisis.indicators import indicators

    case = result.case
    summary = summarize(result)
    summary["indicators"] = [
        {
            "event": ind.event, "round": ind.round, "date": ind.date, "p_seen": _num(ind.p_seen),
            "bits": _num(ind.information),
            "if_seen": {k: _num(v) for k, v in ind.if_seen.items()},
            "if_not_seen": {k: _num(v) for k, v in ind.if_not_seen.items()},
        }
        for ind in indicators(result)
    ]  # fmt: skip
    if sensitivity is not None:
        summary["drivers"] = sensitivity.to_json()
    return {
        "case": case.id,
        "title": case.title,
        "as_of": case.as_of.isoformat() if case.as_of else None,
        "horizon": case.horizon.isoformat() if case.horizon else None,
        "model": case.crisis.engine,
        "draws": result.draws,
        "seed": result.seed,
        **summary,
        "standoff": __version__,
    }


def run_forecast(
    case: Case,
    model: str = "compromise",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    chunk_size: int = DEFAULT_CHUNK,
    rounds: int | None = None,
    options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Forecast:
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk size must be at least 1")
    engine = make_engine(model, **(options or {}))
    sampler = Sampler(case, seed)
    settlement = np.empty((draws, len(case.issues)))
    for start in range(0, draws, chunk_size):
        stop = min(draws, start + chunk_size)
        inputs = sampler.draws(start, stop).inputs
        trajectory = engine.run(inputs, rounds)
        settlement[start:stop] = engine.settlement(inputs, trajectory)
        if progress:
            progress(stop - start)
    return Forecast(
        case=case,
        model=model,
        options=engine.options(),
        draws=draws,
        seed=seed,
        settlement=settlement,
        rounds=rounds,
    )


@dataclass(frozen=True)
class Settlement:
    """One deterministic run of an engine on the case's central values."""

    case: Case
    engine: Engine
    inputs: BargainingInputs
    trajectory: Trajectory

    def medians(self) -> NDArray[np.float64]:
        """(R + 1, K) weighted median per round."""
        return np.stack(
            [
                weighted_median(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )

    def means(self) -> NDArray[np.float64]:
        """(R + 1, K) capability x salience weighted mean per round."""
        return np.stack(
            [
                weighted_mean(
                    self.trajectory.positions[:, r], self.inputs.capability, self.inputs.salience
                )[0]
                for r in range(self.trajectory.positions.shape[1])
            ]
        )

    def to_json(self) -> dict[str, Any]:
        positions = self.trajectory.positions[0]
        medians, means = self.medians(), self.means()
        return {
            "model": self.engine.name,
            "options": self.engine.options(),
            "case": self.case.id,
            "issues": list(self.case.issue_ids),
            "actors": list(self.case.actor_ids),
            "rounds": [
                {
                    "round": r,
                    "positions": {
                        a: [_num(v) for v in positions[r, n]]
                        for n, a in enumerate(self.case.actor_ids)
                    },
                    "median": [_num(v) for v in medians[r]],
                    "mean": [_num(v) for v in means[r]],
                }
                for r in range(positions.shape[0])
            ],
            "standoff": __version__,
        }


def settle(
    case: Case,
    model: str = "compromise",
    rounds: int | None = None,
    options: dict[str, Any] | None = None,
) -> Settlement:
    engine = make_engine(model, **(options or {}))
    inputs = central_inputs(case)
    return Settlement(
        case=case, engine=engine, inputs=inputs, trajectory=engine.run(inputs, rounds)
    )
