"""Everything the report says, computed from a run: no sentence states a number the run did not
produce. The templates only lay it out."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from ..bargaining import ENGINES
from ..case.numbers import Dist
from ..case.schema import Case
from ..crisis.forecast import CrisisResult
from ..crisis.indicators import Indicator, indicators
from ..sample import central_inputs
from ..sensitivity import Sensitivity
from ..words import icd203
from . import figures


def pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def describe_input(case: Case, label: str) -> str:
    """A reader's name for an input label (see standoff.sample.slots and the crisis compiler)."""
    names = {a.id: a.name or a.id for a in case.actors}
    issues = {i.id: i.label or i.id for i in case.issues}
    beliefs = {b.id: b for b in (case.crisis.beliefs if case.crisis else [])}
    if m := re.fullmatch(r"capability\[(.+)\]", label):
        return f"capability of {names.get(m[1], m[1])}"
    if m := re.fullmatch(r"risk\[(.+)\]", label):
        return f"risk attitude of {names.get(m[1], m[1])}"
    if m := re.fullmatch(r"(position|salience)\[(.+), (.+)\]", label):
        what = "position on" if m[1] == "position" else "salience of"
        return f"{names.get(m[2], m[2])}: {what} {issues.get(m[3], m[3])}"
    if m := re.fullmatch(r"belief\[(.+)→(.+)\]\.(.+)", label):
        return f"what {names.get(m[1], m[1])} believes of {names.get(m[2], m[2])}: {m[3]}"
    if m := re.fullmatch(r"beliefs\.([^.]+)\.prior", label):
        spec = beliefs.get(m[1])
        if spec is not None:
            return (
                f"{names.get(spec.holder, spec.holder)}'s initial belief: {spec.label or spec.id}"
            )
    if m := re.fullmatch(r"beliefs\.([^.]+)\.(.+)", label):
        return f"belief {m[1]}, if true: {m[2]}"
    if m := re.fullmatch(r"crisis\.events\[(\d+)\]\.effects\[(\d+)\]\.(\w+)", label):
        events = case.crisis.events if case.crisis else []
        index = int(m[1])
        name = events[index].label or events[index].id if index < len(events) else m[1]
        return f"effect of '{name}': {m[3]}"
    if m := re.fullmatch(r"calendar\[(\d+)\]\.effects\[(\d+)\]\.(\w+)", label):
        index = int(m[1])
        entry = case.calendar[index].label or case.calendar[index].id
        return f"effect of '{entry}': {m[3]}"
    return f"parameter {label}"


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


def _scenario_rows(case: Case, summary: dict[str, Any]) -> list[dict[str, Any]]:
    labels = {s.id: s for s in case.scenarios}
    rows = []
    for ident, item in summary["scenarios"].items():
        spec = labels[ident]
        paths = [f"{' → '.join(p['path'])} ({pct(p['share'])})" for p in item["paths"]]
        rows.append(
            {
                "id": ident,
                "label": spec.label or ident,
                "description": spec.description,
                "rule": spec.when,
                "p": item["p"],
                "interval": item["interval"],
                "words": item["words"],
                "paths": paths,
                "interactions": item["interactions"],
            }
        )
    return rows


def _nutshell(rows: list[dict[str, Any]], sensitivity: Sensitivity | None, case: Case) -> list[str]:
    ranked = sorted(rows, key=lambda r: -r["p"])
    top = ranked[0]
    lines = [
        f"Most likely: {top['label']} — {top['words']} ({pct(top['p'])}, 90% interval "
        f"{pct(top['interval'][0])}–{pct(top['interval'][1])})."
    ]
    if len(ranked) > 1:
        second = ranked[1]
        lines.append(
            f"Main alternative: {second['label']} — {second['words']} ({pct(second['p'])}, "
            f"{pct(second['interval'][0])}–{pct(second['interval'][1])})."
        )
    scenario_drivers = (
        [d for d in sensitivity.drivers if d.kind == "scenario"] if sensitivity else []
    )
    if scenario_drivers:
        best = max(scenario_drivers, key=lambda d: d.mu_star)
        target = next((r["label"] for r in rows if r["id"] == best.target), best.target)
        lines.append(
            f"Key uncertainty: {describe_input(case, best.input)}. Across its 90% range it moves "
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
    case: Case, sensitivity: Sensitivity, labels: dict[str, str], top: int = 12
) -> tuple[list[dict[str, Any]], list[str]]:
    best: dict[str, Any] = {}
    for d in (d for d in sensitivity.drivers if d.kind == "scenario"):
        if d.input not in best or d.mu_star > best[d.input].mu_star:
            best[d.input] = d
    ranked = sorted(best.values(), key=lambda d: -d.mu_star)[:top]
    rows = [
        {
            "input": d.input,
            "name": describe_input(case, d.input),
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


def _watch_rows(found: list[Indicator], labels: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for ind in found:
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


def build_report(
    case: Case,
    case_text: bytes,
    result: CrisisResult,
    summary: dict[str, Any],
    sensitivity: Sensitivity | None,
) -> Report:
    rows = _scenario_rows(case, summary)
    scenario_labels = {r["id"]: r["label"] for r in rows}
    question_rows = [
        {
            "id": q.id,
            "text": q.text,
            "criteria": q.criteria,
            "resolves": summary["questions"][q.id]["resolves"],
            "p": summary["questions"][q.id]["p"],
            "interval": summary["questions"][q.id]["interval"],
            "words": summary["questions"][q.id]["words"],
            "rule": q.when,
        }
        for q in case.questions
    ]
    event_rows = [
        {"id": e, "label": v["label"] or e, "by_round": v["by_round"]}
        for e, v in summary["events"].items()
    ]
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
    settlement_rows = [{"id": k, **v} for k, v in summary["settlement"].items()]
    drivers: list[dict[str, Any]] = []
    sentences: list[str] = []
    labels = {**scenario_labels, **{q.id: q.id for q in case.questions}}
    if sensitivity is not None:
        drivers, sentences = _driver_rows(case, sensitivity, labels)
    watch = _watch_rows(indicators(result), scenario_labels)
    digest = hashlib.sha256(case_text).hexdigest()
    method = {
        "engine": case.crisis.engine if case.crisis else "compromise",
        "citation": ENGINES[case.crisis.engine if case.crisis else "compromise"].citation,
        "replicates": summary["replicates"],
        "rounds": summary["rounds"],
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
        "engine_options": {},
    }
    top = max(rows, key=lambda r: r["p"])
    report = Report(
        case=case,
        title=case.title or case.id,
        headline=f"{top['label']}: {top['words']} ({pct(top['p'])})",
        nutshell=_nutshell(rows, sensitivity, case),
        scenarios=rows,
        questions=question_rows,
        events=event_rows,
        dates=summary["rounds"],
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
            [q["id"] for q in question_rows],
            [q["p"] for q in question_rows],
            [q["interval"] for q in question_rows],
            "Questions",
        ),
        "timeline": figures.timeline(
            summary["rounds"],
            {e["label"]: e["by_round"] for e in event_rows},
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
            [(i.label or i.id, i.range[0], i.range[1]) for i in case.issues], result.settlement
        ),
    }
    if drivers:
        report.figures["drivers"] = figures.drivers(
            [d["input"] for d in drivers],
            [d["mu_star"] for d in drivers],
            [d["target_id"] for d in drivers],
            "What drives the forecast",
        )
    return report


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


__all__ = ["Report", "build_report", "describe_input", "icd203", "icd203_table", "np"]
