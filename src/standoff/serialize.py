"""JSON: a serialization of the typed results, nothing computed here. Numbers are rounded to six
decimals so that the JSON is stable across platforms' last-bit differences."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .pipeline.settle import Settlement
from .result import (
    DRIVER_RANGE,
    INTERVAL,
    DyadTrace,
    DyadView,
    ForecastResult,
    Indicator,
    ObservedResult,
    Probability,
    Sensitivity,
    Timeline,
)

JSON = dict[str, Any]


class NonFiniteError(ValueError):
    """A result holds NaN or an infinity, which strict JSON cannot carry; `field` names it."""

    def __init__(self, field: str):
        self.field = field
        super().__init__(f"{field}: not a finite number (NaN or infinity); JSON cannot hold it")


def _non_finite(data: Any, where: str = "") -> str | None:
    """The dotted path of the first NaN or infinity in `data`, or None."""
    if isinstance(data, float):
        return None if math.isfinite(data) else (where or "(top)")
    if isinstance(data, dict):
        for k, v in data.items():
            found = _non_finite(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(data, list | tuple):
        for n, v in enumerate(data):
            found = _non_finite(v, f"{where}[{n}]")
            if found:
                return found
    return None


def dumps(data: JSON) -> str:
    """The text of a JSON output file, as every command writes it: strict JSON (no NaN or
    Infinity: a non-finite number raises `NonFiniteError` naming its field). Text stays UTF-8;
    a lone surrogate (which no UTF-8 file can hold, e.g. a title written "\\ud800" in YAML) is
    written as its JSON escape `\\ud800`, so the file stays valid and nothing is lost."""
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise NonFiniteError(_non_finite(data) or "(a number)") from None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text + "\n"


_SURROGATE = re.compile("[\ud800-\udfff]")


def num(x: float | np.floating[Any]) -> float:
    """Round for output (a zero is written 0.0, never -0.0: a sign on a rounded zero means
    nothing and would make two equal answers differ in their text).

    >>> num(0.12345678), num(-1e-17)
    (0.123457, 0.0)
    """
    return round(float(x), 6) + 0.0


def forecast_json(result: ForecastResult) -> JSON:
    """The JSON that `standoff forecast --json` writes."""
    case = result.case
    if not result.is_crisis:
        return {
            "case": case.id,
            "title": case.title,
            "as_of": case.as_of.isoformat() if case.as_of else None,
            "model": result.model,
            "options": dict(result.options),
            "rounds": result.rounds,
            "draws": result.draws,
            "seed": result.seed,
            "interval": list(INTERVAL),
            "settlement": {
                s.id: {
                    "label": s.label, "median": num(s.median),
                    "interval": [num(s.interval[0]), num(s.interval[1])],
                    "mean": num(s.mean), "sd": num(s.sd),
                }
                for s in result.settlement
            },
            "standoff": __version__,
        }  # fmt: skip
    assert result.timeline is not None
    out: JSON = {
        "case": case.id,
        "title": case.title,
        "as_of": case.as_of.isoformat() if case.as_of else None,
        "horizon": case.horizon.isoformat() if case.horizon else None,
        "model": result.model,
        "draws": result.draws,
        "seed": result.seed,
        "scenarios": {
            s.id: {
                **_probability(s.probability),
                "paths": [{"path": list(p.events), "share": num(p.share)} for p in s.paths],
                "interactions": [_dyad(v) for v in s.views],
                # decided by the observations: "yes" or "no", not a forecast
                **({} if s.observed is None else {"observed": "yes" if s.observed else "no"}),
            }
            for s in result.scenarios
        },
        "questions": {
            q.id: {
                **_probability(q.probability),
                "text": q.text, "resolves": q.resolves.isoformat(), "criteria": q.criteria,
                "when": q.rule,
                # decided by the observations: "yes" or "no", not a forecast (left out of scores)
                **({} if q.observed is None else {"observed": "yes" if q.observed else "no"}),
            }
            for q in result.questions
        },
        "settlement": {
            s.id: {
                "label": s.label, "median": num(s.median),
                "interval": [num(s.interval[0]), num(s.interval[1])], "mean": num(s.mean),
            }
            for s in result.settlement
        },
        "events": {
            e.id: {"label": e.label, "by_round": [num(v) for v in e.by_round]}
            for e in result.timeline.events
        },
        "beliefs": {
            b.id: {"mean_by_round": [num(v) for v in b.mean_by_round]}
            for b in result.timeline.beliefs
        },
        "rounds": [d.isoformat() for d in result.timeline.dates],
        "replicates": result.replicates,
        # how far positions move per step, and the factor on every event's odds per round
        "pace": result.options.get("pace"),
        "odds_factor": num(result.options["odds_factor"]) if "odds_factor" in result.options
        else None,
        "indicators": [_indicator(ind) for ind in result.indicators],
        "bargaining": bargaining_json(result.timeline),
    }  # fmt: skip
    if result.drivers is not None:
        out["drivers"] = drivers_json(result.drivers)
    if result.observed is not None:
        out["observed"] = observed_json(result.observed)
        out["effective_draws"] = num(result.observed.effective_draws)
    if result.outside_view is not None:  # only when the case declares a reference class
        from .pipeline.outside import outside_json

        out["outside_view"] = outside_json(result.outside_view)
    out["standoff"] = __version__
    return out


def observed_json(seen: ObservedResult) -> JSON:
    """What a conditioned forecast was conditioned on (the file's text, its dates and its hash),
    and how far it moved each uncertain input (prior and posterior 5th, 50th, 95th percentiles
    and means, and the shift of the mean in prior standard deviations), most moved first."""
    return {
        "file": Path(seen.file).name,
        "as_of": seen.as_of.isoformat(),
        "events": {e: [d.isoformat() for d in days] for e, days in seen.events.items()},
        "hash": seen.hash,
        "text": seen.text,
        "rounds_observed": seen.rounds,
        "effective_input_draws": num(seen.effective_inputs),
        "inputs": [
            {
                "input": s.key, "label": s.label,
                "prior": [num(v) for v in s.prior], "posterior": [num(v) for v in s.posterior],
                "prior_mean": num(s.prior_mean), "posterior_mean": num(s.posterior_mean),
                "shift_sd": num(s.shift),
            }
            for s in seen.inputs
        ],
    }  # fmt: skip


def _probability(p: Probability) -> JSON:
    """p and its word; `interval`: the 5th..95th percentile of the probability across input
    draws; `mc_interval`: the 90% Monte Carlo interval of p; `spread`: the quantiles and the
    split (see `standoff.result.Spread`)."""
    out: JSON = {
        "p": num(p.p),
        "interval": [num(p.low), num(p.high)],
        "words": p.words,
        "mc_interval": [num(p.mc[0]), num(p.mc[1])],
    }
    if p.spread is not None:
        s = p.spread
        out["spread"] = {
            "quantiles": {
                f"{q:g}": num(v) for q, v in zip((5, 25, 50, 75, 95), s.quantiles, strict=True)
            },
            "under_5pct": num(s.below),
            "over_50pct": num(s.above),
            "two_peaked": s.two_peaked,
            "description": s.describe(),
            "input_draws": s.groups,
            "replicates": s.replicates,
        }
    return out


def _dyad(view: DyadView) -> JSON:
    entry: JSON = {"dyad": list(view.actors)}
    for side in view.sides:
        entry[side.actor] = {name: num(share) for name, share in side.shares.items()}
    entry["views_differ"] = num(view.views_differ)
    return entry


def bargaining_json(timeline: Timeline) -> JSON:
    """How the bargaining moved, round by round (see `standoff.result.DyadTrace`): `running`, the
    share of draws whose crisis is still running in each round (keyed by the round's date); per
    dyad, for each round's date, the means over those draws of `gap` (gap(a, b)), `prevails`
    (prevails(a, b)) and each side's `eu` (eu(a, b) under a, eu(b, a) under b), and `views`: per
    side, the share of those draws in which its dominant view of the other is each class. A
    round that no draw reaches has null for its numbers."""
    dates = [d.isoformat() for d in timeline.dates]
    return {
        "running": {day: num(v) for day, v in zip(dates, timeline.running, strict=True)},
        "dyads": [_trace(trace, dates) for trace in timeline.dyads],
    }


def _trace(trace: DyadTrace, dates: list[str]) -> JSON:
    a, b = trace.actors
    rounds: JSON = {}
    for t, day in enumerate(dates):
        rounds[day] = {
            "gap": _maybe(trace.gap[t]),
            "prevails": _maybe(trace.prevails[t]),
            "eu": {a: _maybe(trace.eu[t]), b: _maybe(trace.eu_back[t])},
            "views": {
                side.actor: {name: _maybe(shares[t]) for name, shares in side.views.items()}
                for side in trace.sides
            },
        }
    return {"dyad": [a, b], "rounds": rounds}


def _maybe(value: float | None) -> float | None:
    return None if value is None else num(value)


def _indicator(ind: Indicator) -> JSON:
    return {
        "event": ind.event, "round": ind.round, "date": ind.date, "p_seen": num(ind.p_seen),
        "bits": num(ind.information),
        "if_seen": {k: num(v) for k, v in ind.if_seen.items()},
        "if_not_seen": {k: num(v) for k, v in ind.if_not_seen.items()},
    }  # fmt: skip


def drivers_json(sensitivity: Sensitivity) -> JSON:
    """The drivers of each target, largest mu* first (`standoff sensitivity --json`)."""
    return {
        "method": "morris",
        "trajectories": sensitivity.trajectories,
        "replicates": sensitivity.replicates,
        "evaluations": sensitivity.evaluations,
        "seed": sensitivity.seed,
        "range": list(DRIVER_RANGE),
        "drivers": {
            target: [
                {
                    "input": d.input,
                    "mu_star": num(d.mu_star),
                    "mu": num(d.mu),
                    "sigma": num(d.sigma),
                    "mu_star_conf": num(d.mu_star_conf),
                    "low": num(d.low),
                    "high": num(d.high),
                }
                for d in sensitivity.for_target(target)
            ]
            for target in dict.fromkeys(d.target for d in sensitivity.drivers)
        },
    }


def settle_json(result: Settlement) -> JSON:
    """Every round's positions per actor, median and mean (`standoff settle --json`)."""
    case = result.case
    positions = result.trajectory.positions[0]
    medians, means = result.medians(), result.means()
    return {
        "model": result.engine.name,
        "options": result.engine.options(),
        "case": case.id,
        "issues": list(case.issue_ids),
        "actors": list(case.actor_ids),
        "rounds": [
            {
                "round": r,
                "positions": {
                    a: [num(v) for v in positions[r, n]] for n, a in enumerate(case.actor_ids)
                },
                "median": [num(v) for v in medians[r]],
                "mean": [num(v) for v in means[r]],
            }
            for r in range(positions.shape[0])
        ],
        "standoff": __version__,
    }
