"""Everything the report says, computed from a run: no sentence states a number the run did not
produce. The templates only lay it out."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..bargaining import ENGINES
from ..case.numbers import Dist
from ..case.schema import Case
from ..result import DyadTrace, ForecastResult, Indicator, ScenarioForecast, Sensitivity
from ..sample import central_inputs
from ..words import icd203
from . import figures


def pct(p: float) -> str:
    return f"{100 * p:.0f}%"


@dataclass
class Report:
    case: Case
    title: str
    headline: str
    nutshell: list[str]
    scenarios: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    dates: list[str]
    actors: list[dict[str, Any]]
    perceptions: list[dict[str, Any]]
    settlement: list[dict[str, Any]]
    drivers: list[dict[str, Any]]
    driver_sentences: list[str]
    watch: list[dict[str, Any]]
    method: dict[str, Any]
    footer: dict[str, Any]
    figures: dict[str, str] = field(default_factory=dict)
    changed: dict[str, Any] | None = None  # conditioned on observations: what they changed
    outside: dict[str, Any] | None = None  # the reference class's base rates beside the case
    bargaining: list[dict[str, Any]] = field(default_factory=list)  # per dyad, round by round
    bargaining_caption: str = ""


def _scenario_rows(
    scenarios: tuple[ScenarioForecast, ...],
    events: Mapping[str, str] | None = None,
    actors: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per scenario; paths name events by their labels, and views name actors by their
    names (the JSON keeps the ids)."""
    names = dict(events or {})
    who = dict(actors or {})
    return [
        {
            "id": s.id,
            "label": s.label,
            "description": s.description,
            "rule": s.rule,
            "p": s.probability.p,
            "interval": [s.probability.low, s.probability.high],
            "split": s.probability.spread.describe() if s.probability.spread else None,
            "words": s.probability.words,
            "paths": [
                f"{' → '.join(names.get(e, e) for e in p.events)} ({pct(p.share)})" for p in s.paths
            ],
            "interactions": [
                {
                    "sides": [
                        _dominant(who.get(side.actor, side.actor), side.shares)
                        for side in view.sides
                    ],
                    "views_differ": view.views_differ,
                }
                for view in s.views
            ],
        }
        for s in scenarios
    ]


def _dominant(actor: str, shares: Mapping[str, float]) -> dict[str, Any]:
    """The interaction a side saw most often (ties: the later class, as dictsort did)."""
    kind, share = sorted(shares.items(), key=lambda kv: kv[1])[-1]
    return {"actor": actor, "kind": kind, "share": share}


def _nutshell(rows: list[dict[str, Any]], sensitivity: Sensitivity | None) -> list[str]:
    ranked = sorted(rows, key=lambda r: -r["p"])
    top = ranked[0]
    lines = [
        f"Most likely: {top['label']} — {top['words']} ({pct(top['p'])}; "
        f"{pct(top['interval'][0])}–{pct(top['interval'][1])} across input draws)."
    ]
    if len(ranked) > 1:
        second = ranked[1]
        lines.append(
            f"Main alternative: {second['label']} — {second['words']} ({pct(second['p'])}; "
            f"{pct(second['interval'][0])}–{pct(second['interval'][1])} across input draws)."
        )
    scenario_drivers = (
        [d for d in sensitivity.drivers if d.kind == "scenario"] if sensitivity else []
    )
    if scenario_drivers:
        best = max(scenario_drivers, key=lambda d: d.mu_star)
        target = next((r["label"] for r in rows if r["id"] == best.target), best.target)
        lines.append(
            f"Key uncertainty: {best.label}. Across its 90% range it moves "
            f"the chance of '{target}' by about {100 * best.mu_star:.0f} points."
        )
    else:
        widest = max(rows, key=lambda r: r["interval"][1] - r["interval"][0])
        lines.append(
            f"Key uncertainty: the chance of {widest['label']} could lie anywhere from "
            f"{pct(widest['interval'][0])} to {pct(widest['interval'][1])} given the inputs."
        )
    return lines


def _driver_rows(
    sensitivity: Sensitivity, labels: dict[str, str], top: int = 12
) -> tuple[list[dict[str, Any]], list[str]]:
    best: dict[str, Any] = {}
    for d in (d for d in sensitivity.drivers if d.kind == "scenario"):
        if d.input not in best or d.mu_star > best[d.input].mu_star:
            best[d.input] = d
    ranked = sorted(best.values(), key=lambda d: -d.mu_star)[:top]
    rows = [
        {
            "input": d.input,
            "name": d.label,
            "target": labels.get(d.target, d.target),
            "target_id": d.target,
            "mu_star": d.mu_star,
            "mu": d.mu,
            "sigma": d.sigma,
            "conf": d.mu_star_conf,
            "low": d.low,
            "high": d.high,
        }
        for d in ranked
    ]
    sentences = []
    for row in rows[:3]:
        direction = "higher" if row["mu"] >= 0 else "lower"
        sentences.append(
            f"If {row['name']} were at the high end of its range ({row['high']:.3g}) rather than "
            f"the low end ({row['low']:.3g}), the chance of '{row['target']}' would be about "
            f"{abs(100 * row['mu']):.0f} points {direction} on average (Morris μ = "
            f"{100 * row['mu']:+.0f}, μ* = {100 * row['mu_star']:.0f} ± {100 * row['conf']:.0f})."
        )
    return rows, sentences


def _named_events(rule: str, events: Iterable[str]) -> set[str]:
    """The events a scenario rule names (quoted or bare), e.g. {"walkout"} for
    `happened('walkout')`."""
    words = set(re.findall(r"""'([^']*)'|"([^"]*)"|([A-Za-z_][\w.-]*)""", rule or ""))
    said = {w for group in words for w in group if w}
    return said & set(events)


def defining_events(scenarios: Iterable[ScenarioForecast], events: Iterable[str]) -> set[str]:
    """Events named in a scenario's rule: seeing one tells the reader the scenario by definition,
    so it is no indicator to watch."""
    known = list(events)
    out: set[str] = set()
    for s in scenarios:
        out |= _named_events(s.rule, known)
    return out


def _watch_rows(
    found: tuple[Indicator, ...], labels: dict[str, str], drop: set[str] | None = None
) -> list[dict[str, Any]]:
    """The watch list, without indicators whose event defines a scenario (`drop`)."""
    rows = []
    for ind in found:
        if drop and ind.event in drop:
            continue
        moves: list[dict[str, Any]] = []
        for s, prior in ind.prior.items():
            seen, unseen = ind.if_seen[s], ind.if_not_seen[s]
            moves.append(
                {"scenario": labels.get(s, s), "prior": prior, "if_seen": seen, "if_not": unseen}
            )
        biggest = max(moves, key=lambda m: abs(m["if_seen"] - m["prior"]))
        sentence = (
            f"If '{ind.label}' has happened by {ind.date}, '{biggest['scenario']}' goes from "
            f"{pct(biggest['prior'])} to {pct(biggest['if_seen'])}; "
            f"if not, to {pct(biggest['if_not'])}."
        )
        rows.append(
            {
                "event": ind.event,
                "label": ind.label,
                "date": ind.date,
                "round": ind.round,
                "p_seen": ind.p_seen,
                "bits": ind.information,
                "moves": moves,
                "sentence": sentence,
            }
        )
    return rows


def _perceptions(case: Case) -> tuple[list[dict[str, Any]], list[tuple[int, int, int, float]]]:
    """Every place where an actor's view differs from the truth, fixed perceptions and beliefs
    alike, as table rows; and the believed positions, as (holder, about, issue, value)."""
    actor_index = {a.id: n for n, a in enumerate(case.actors)}
    issue_index = {i.id: k for k, i in enumerate(case.issues)}
    # (holder, about, issue or None for capability, attribute, believed value, source)
    found: list[tuple[str, str, str | None, str, Dist, str]] = []
    for holder, about_map in case.perceptions.items():
        for about, belief in about_map.items():
            if belief.capability is not None:
                found.append(
                    (holder, about, None, "capability", belief.capability, "fixed perception")
                )
            for issue_id, seen in belief.stances.items():
                for attr in ("position", "salience"):
                    value = getattr(seen, attr)
                    if value is not None:
                        found.append((holder, about, issue_id, attr, value, "fixed perception"))
    for spec in case.crisis.beliefs if case.crisis else []:
        truth = ", false" if spec.truth is False else ""
        source = f"belief '{spec.label or spec.id}' (prior {spec.prior}{truth})"
        for about, attrs in spec.perception.items():
            if attrs.capability is not None:
                found.append((spec.holder, about, None, "capability", attrs.capability, source))
            for issue_id, values in attrs.stances.items():
                for attr, dist in values.items():
                    found.append((spec.holder, about, issue_id, attr, dist, source))
    rows: list[dict[str, Any]] = []
    positions: list[tuple[int, int, int, float]] = []
    for holder, about, issue, attr, dist, source in found:
        actor = case.actors[actor_index[about]]
        true = actor.capability if issue is None else getattr(actor.stances[issue], attr)
        rows.append(
            {
                "holder": holder,
                "about": about,
                "source": source,
                "truth": str(true),
                "believed": str(dist),
                "attribute": attr if issue is None else f"{attr} on {issue}",
            }
        )
        if issue is not None and attr == "position":
            k = issue_index[issue]
            positions.append(
                (
                    actor_index[holder],
                    actor_index[about],
                    k,
                    dist.central(case.issues[k].quantity()),
                )
            )
    return rows, positions


def _bargaining_rows(traces: Iterable[DyadTrace], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per dyad, its name and a table of rows over the rounds: the mean distance, the first
    side's chance of prevailing, each side's expected utility of challenging the other, and each
    side's most common dominant view (with its share); "–" in a round no draw reaches."""
    rows: list[dict[str, Any]] = []
    for trace in traces:
        a, b = (names.get(x, x) for x in trace.actors)

        def most(views: Mapping[str, tuple[float | None, ...]], t: int) -> str:
            shares = [(share, kind) for kind, v in views.items() if (share := v[t]) is not None]
            if not shares:
                return "–"
            share, kind = max(shares, key=lambda sk: sk[0])  # ties: the first class
            return f"{kind} {pct(share)}"

        def fmt(values: tuple[float | None, ...], form: str) -> list[str]:
            # rounded first, so that a value just below 0 reads 0.00, not -0.00
            return [
                "–" if v is None else pct(v) if form == "%" else format(round(v, 2) + 0.0, form)
                for v in values
            ]

        n = len(trace.gap)
        rows.append(
            {
                "name": f"{a} – {b}",
                "first": a,
                "gap": list(trace.gap),
                "prevails": list(trace.prevails),
                "rows": [
                    {"label": "distance on the issues (gap, 0–1)", "cells": fmt(trace.gap, ".2f")},
                    {"label": f"{a} prevails, as {a} sees it", "cells": fmt(trace.prevails, "%")},
                    {"label": f"{a}'s expected utility of challenging {b}",
                     "cells": fmt(trace.eu, "+.2f")},
                    {"label": f"{b}'s expected utility of challenging {a}",
                     "cells": fmt(trace.eu_back, "+.2f")},
                    *(
                        {"label": f"how {names.get(side.actor, side.actor)} mostly sees it",
                         "cells": [most(side.views, t) for t in range(n)]}
                        for side in trace.sides
                    ),
                ],
            }
        )  # fmt: skip
    return rows


def _changed(result: ForecastResult, before: ForecastResult | None) -> dict[str, Any] | None:
    """What the observations changed: each scenario and question before (`before`, the same
    forecast unconditioned) and after, and the inputs they moved most."""
    seen = result.observed
    if seen is None:
        return None
    items: list[dict[str, Any]] = []
    if before is not None:
        for kind, now, then in (
            ("scenario", result.scenarios, before.scenarios),
            ("question", result.questions, before.questions),
        ):
            old = {x.id: x for x in then}
            for x in now:
                label = getattr(x, "label", None) or getattr(x, "text", None) or x.id
                p0, p1 = old[x.id].probability.p, x.probability.p
                items.append(
                    {"kind": kind, "id": x.id, "label": label, "before": p0, "after": p1,
                     "delta": p1 - p0}
                )  # fmt: skip
    moved = [s for s in seen.inputs if abs(s.shift) >= 0.05][:8]
    inputs = [
        {
            "label": s.label, "key": s.key, "prior": list(s.prior), "posterior": list(s.posterior),
            "shift": s.shift,
            "sentence": (
                f"{s.label}: {'up' if s.shift > 0 else 'down'} {abs(s.shift):.1f} prior standard "
                f"deviations (median {s.prior[1]:.3g} → {s.posterior[1]:.3g})"
            ),
        }
        for s in moved
    ]  # fmt: skip
    beliefs: list[dict[str, Any]] = []
    if before is not None and result.timeline is not None and before.timeline is not None:
        old_beliefs = {line.id: line for line in before.timeline.beliefs}
        t = seen.rounds
        for line in result.timeline.beliefs:
            beliefs.append(
                {"id": line.id, "before": old_beliefs[line.id].mean_by_round[t],
                 "after": line.mean_by_round[t]}
            )  # fmt: skip
    return {
        "file": seen.file.rsplit("/", 1)[-1],
        "as_of": seen.as_of.isoformat(),
        "rounds": seen.rounds,
        "hash": seen.hash,
        "events": {e: [d.isoformat() for d in days] for e, days in seen.events.items()},
        "effective": seen.effective_draws,
        "effective_inputs": seen.effective_inputs,
        "items": items,
        "inputs": inputs,
        "beliefs": beliefs,
    }


def build_report(
    result: ForecastResult, reproduce: str | None = None, before: ForecastResult | None = None
) -> Report:
    """Everything the report says, from a crisis forecast (with its drivers, if it ran them).
    `reproduce`: the command that reproduces the run, as the user would type it. `before`: for
    a forecast conditioned on observations, the same forecast without them ("What changed")."""
    case = result.case
    if result.timeline is None:
        raise ValueError("the report needs a crisis case")
    timeline = result.timeline
    sensitivity = result.drivers
    event_labels = {e.id: e.label or e.id for e in timeline.events}
    rows = _scenario_rows(
        result.scenarios, event_labels, {a.id: a.name or a.id for a in case.actors}
    )
    scenario_labels = {r["id"]: r["label"] for r in rows}
    question_rows: list[dict[str, Any]] = [
        {
            "id": q.id,
            "text": q.text,
            "criteria": q.criteria,
            "resolves": q.resolves.isoformat(),
            "p": q.probability.p,
            "interval": [q.probability.low, q.probability.high],
            "split": q.probability.spread.describe() if q.probability.spread else None,
            "words": q.probability.words,
            "rule": q.rule,
        }
        for q in result.questions
    ]
    event_rows: list[dict[str, Any]] = [
        {"id": e.id, "label": e.label or e.id, "by_round": list(e.by_round)}
        for e in timeline.events
    ]
    dates = [d.isoformat() for d in timeline.dates]
    labels_seen = Counter(e["label"] for e in event_rows)
    central = central_inputs(case)
    actor_rows = []
    for n, actor in enumerate(case.actors):
        actor_rows.append(
            {
                "id": actor.id,
                "name": actor.name or actor.id,
                "capability": str(actor.capability),
                "capability_central": float(central.capability[0, n]),
                "stances": [
                    {
                        "issue": i.label or i.id,
                        "position": str(actor.stances[i.id].position),
                        "salience": str(actor.stances[i.id].salience),
                    }
                    for i in case.issues
                ],
            }
        )
    perception_rows, believed_positions = _perceptions(case)
    settlement_rows = [
        {
            "id": s.id,
            "label": s.label,
            "median": s.median,
            "interval": list(s.interval),
            "mean": s.mean,
        }
        for s in result.settlement
    ]
    drivers: list[dict[str, Any]] = []
    sentences: list[str] = []
    labels = {**scenario_labels, **{q.id: q.id for q in result.questions}}
    if sensitivity is not None:
        drivers, sentences = _driver_rows(sensitivity, labels)
    watch = _watch_rows(
        result.indicators, scenario_labels, defining_events(result.scenarios, event_labels)
    )
    digest = hashlib.sha256(result.case_bytes or case.model_dump_json().encode()).hexdigest()
    method = {
        "engine": result.model,
        "citation": ENGINES[result.model].citation,
        "replicates": result.replicates,
        "rounds": dates,
        "sensitivity": None
        if sensitivity is None
        else {
            "trajectories": sensitivity.trajectories,
            "replicates": sensitivity.replicates,
            "evaluations": sensitivity.evaluations,
            "inputs": len(sensitivity.inputs),
        },
        "parameters": {
            name: str(d) for name, d in (case.crisis.parameters.items() if case.crisis else [])
        },
    }
    footer = {
        "sha256": digest,
        "draws": result.draws,
        "seed": result.seed,
        "version": __version__,
        "case": case.id,
        "reproduce": reproduce
        or f"standoff forecast {case.id} --draws {result.draws} --seed {result.seed}",
        "engine_options": dict(result.options),
    }
    top = max(rows, key=lambda r: r["p"])
    report = Report(
        case=case,
        title=case.title or case.id,
        headline=headline(top),
        nutshell=_nutshell(rows, sensitivity),
        scenarios=rows,
        questions=question_rows,
        events=event_rows,
        dates=dates,
        actors=actor_rows,
        perceptions=perception_rows,
        settlement=settlement_rows,
        drivers=drivers,
        driver_sentences=sentences,
        watch=watch,
        method=method,
        footer=footer,
    )
    report.figures = {
        "scenarios": figures.probabilities(
            [r["label"] for r in rows],
            [r["p"] for r in rows],
            [r["interval"] for r in rows],
            "Scenarios",
        ),
        "questions": figures.probabilities(
            [q["text"] or q["id"] for q in question_rows],
            [q["p"] for q in question_rows],
            [q["interval"] for q in question_rows],
            "Questions",
        ),
        "timeline": figures.timeline(
            dates,
            {
                (e["label"] if labels_seen[e["label"]] == 1 else f"{e['label']} ({e['id']})"): e[
                    "by_round"
                ]
                for e in event_rows
            },
            "Probability that each event has happened by each date",
        ),
        "actors": figures.actors_map(
            [
                (i.label or i.id, i.range[0], i.range[1], i.low_means, i.high_means)
                for i in case.issues
            ],
            [a.id for a in case.actors],
            central.position[0],
            central.capability[0],
            central.salience[0],
            believed_positions,
        ),
        "settlement": figures.distributions(
            [(i.label or i.id, i.range[0], i.range[1]) for i in case.issues],
            [s.counts for s in result.settlement],
            [s.median for s in result.settlement],
        ),
    }
    report.bargaining = _bargaining_rows(
        timeline.dyads, {a.id: a.name or a.id for a in case.actors}
    )
    if report.bargaining:
        weighed = " (weighted by the observations)" if result.observed is not None else ""
        report.bargaining_caption = (
            "For each dyad, the mean over the simulated histories whose crisis is still running "
            f"in each round{weighed}, as that round's bargaining left them, before its events: "
            "the distance between the two on the issues (gap: 0 to 1 of each issue's scale, "
            "weighted by the first side's saliences) and the first side's chance of prevailing "
            "against the other, as it sees it (prevails; the dotted line is an even chance)."
        )
        report.figures["bargaining"] = figures.bargaining(
            dates,
            [(d["name"], d["first"], d["gap"], d["prevails"]) for d in report.bargaining],
            "How the bargaining moved",
        )
    report.changed = _changed(result, before)
    if result.outside_view is not None:
        from ..outside.case import report_rows

        report.outside = report_rows(result.outside_view)
    if report.changed is not None:
        if report.changed["items"]:
            report.figures["changed"] = figures.changes(
                [i["label"] for i in report.changed["items"]],
                [i["before"] for i in report.changed["items"]],
                [i["after"] for i in report.changed["items"]],
                "Before and after the observations",
            )
        if report.changed["inputs"]:
            report.figures["moved"] = figures.shifts(
                [i["label"] for i in report.changed["inputs"]],
                [i["prior"] for i in report.changed["inputs"]],
                [i["posterior"] for i in report.changed["inputs"]],
                "The inputs the observations moved most",
            )
    if drivers:
        report.figures["drivers"] = figures.drivers(
            [d["name"] for d in drivers],
            [d["mu_star"] for d in drivers],
            [d["target"] for d in drivers],
            "What drives the forecast",
        )
    return report


def headline(top: Mapping[str, Any]) -> str:
    """The report's headline on the most likely scenario. Its ICD 203 word can be "unlikely"
    when no scenario is more likely than not; the headline then says both."""
    if top["p"] > 0.5:
        return f"Most likely: {top['label']}, {top['words']} ({pct(top['p'])})"
    return (
        f"Most likely: {top['label']} ({pct(top['p'])}, {top['words']} in ICD 203 terms: "
        "no scenario is more likely than not)"
    )


def icd203_table() -> list[tuple[str, str]]:
    """The ICD 203 bands, for the method section."""
    return [
        ("almost no chance", "1–5%"),
        ("very unlikely", "5–20%"),
        ("unlikely", "20–45%"),
        ("roughly even chance", "45–55%"),
        ("likely", "55–80%"),
        ("very likely", "80–95%"),
        ("almost certain", "95–99%"),
    ]


__all__ = ["Report", "build_report", "icd203", "icd203_table"]
