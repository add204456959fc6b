"""Everything the report says, computed from a run: no sentence states a number the run did not
produce. The templates only lay it out."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..bargaining import ENGINES
from ..case.numbers import Dist
from ..case.schema import Case, reader_name
from ..result import (
    DyadTrace,
    ForecastResult,
    Indicator,
    ScenarioForecast,
    Sensitivity,
    Spread,
)
from ..sample import central_inputs
from ..words import icd203

if TYPE_CHECKING:
    from ..run.executor import ProgressFn

#: The stage the report's progress is reported under (`standoff.run.executor.ProgressFn`).
STAGE = "writing the report"
#: An indicator is shown when seeing it, or not, moves some scenario by at least this much.
MIN_MOVE = 0.01
#: The bargaining engines by a reader's name.
ENGINE_NAMES = {
    "eum": "the expected utility model",
    "compromise": "the compromise model",
    "smp": "the spatial model of politics",
}
#: The most rounds a table shows side by side; a longer calendar takes several tables.
ROUNDS_PER_TABLE = 12
#: Where the uncertain inputs vary: the words every range and split of the report uses.
INPUTS_VARY = "as the uncertain inputs vary"


def pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def points(x: float) -> str:
    """A change in probability in percentage points, in words: "1 point", "14 points"."""
    n = f"{100 * abs(x):.0f}"
    return f"{n} point" if n == "1" else f"{n} points"


def split_words(spread: Spread | None) -> str | None:
    """Where the probability divides into two groups as the inputs vary, in words (None when
    it does not)."""
    if spread is None or not spread.two_peaked:
        return None
    return (
        f"under 5% for {pct(spread.below)} of the settings of the uncertain inputs, "
        f"over 50% for {pct(spread.above)}"
    )


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
    calendar: list[dict[str, Any]] = field(default_factory=list)  # the case's scheduled events
    # the rounds (indices into `dates`) of each table over the rounds, `ROUNDS_PER_TABLE` at most
    blocks: list[list[int]] = field(default_factory=list)
    # each figure's title (its SVG <title> and Markdown alt text) and caption, by figure name
    titles: dict[str, str] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)


def _names(case: Case) -> dict[str, dict[str, str]]:
    """What the reader calls each thing the case names by an id, by kind: the case's label or
    name, else the id in words (`reader_name`)."""
    crisis = case.crisis
    return {
        "actor": {a.id: reader_name(a.name, a.id) for a in case.actors},
        "issue": {i.id: reader_name(i.label, i.id) for i in case.issues},
        "event": {e.id: reader_name(e.label, e.id) for e in (crisis.events if crisis else [])},
        "belief": {b.id: reader_name(b.label, b.id) for b in (crisis.beliefs if crisis else [])},
    }


def _period(case: Case) -> str:
    """The length of a round, as a plural noun: "months", "weeks", "quarters"."""
    return f"{case.crisis.step}s" if case.crisis else "rounds"


def _path_words(events: tuple[str, ...], names: Mapping[str, str], defining: list[str]) -> str:
    """A path of defining events by their labels; none of them: says so."""
    if events == ("(nothing)",):
        if not defining:
            return "no event"
        return "none of " + ", ".join(f"‘{names.get(e, e)}’" for e in defining)
    return " → ".join(names.get(e, e) for e in events)


def _scenario_rows(
    scenarios: tuple[ScenarioForecast, ...],
    names: Mapping[str, Mapping[str, str]],
    period: str = "months",
) -> list[dict[str, Any]]:
    """One row per scenario; paths name events by their labels, and views name actors by their
    names (the JSON keeps the ids)."""
    events, who = names["event"], names["actor"]
    defining = [e for e in events if e in defining_events(scenarios)]
    return [
        {
            "id": s.id,
            "label": reader_name(s.label, s.id),
            "description": s.description,
            "p": s.probability.p,
            "interval": [s.probability.low, s.probability.high],
            "split": split_words(s.probability.spread),
            # a scenario the observations decided reads "observed: yes": it is not a forecast
            "words": s.probability.words
            if s.observed is None
            else f"observed: {'yes' if s.observed else 'no'}",
            "observed": s.observed,
            "paths": [
                f"{_path_words(p.events, events, defining)} ({pct(p.share)})"
                for p in s.paths
                if p.share >= 0.005  # a path shown as 0% says nothing
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
            "period": period,
        }
        for s in scenarios
    ]


def _dominant(actor: str, shares: Mapping[str, float]) -> dict[str, Any]:
    """The interaction a side saw most often (ties: the later class, as dictsort did)."""
    kind, share = sorted(shares.items(), key=lambda kv: kv[1])[-1]
    return {"actor": actor, "kind": kind, "share": share}


def _nutshell(rows: list[dict[str, Any]], drivers: list[dict[str, Any]]) -> list[str]:
    ranked = sorted(rows, key=lambda r: -r["p"])
    top = ranked[0]
    if top.get("observed"):  # what was seen settles the scenario: no alternative to weigh
        return [f"Decided by the observations: {top['label']} (observed: yes)."]
    lines = [
        f"Most likely: {top['label']} — {top['words']} ({pct(top['p'])}; "
        f"{pct(top['interval'][0])}–{pct(top['interval'][1])} {INPUTS_VARY})."
    ]
    if len(ranked) > 1 and ranked[1].get("observed") is None:
        second = ranked[1]
        lines.append(
            f"Main alternative: {second['label']} — {second['words']} ({pct(second['p'])}; "
            f"{pct(second['interval'][0])}–{pct(second['interval'][1])} {INPUTS_VARY})."
        )
    if drivers:
        best = drivers[0]  # the largest effect on any scenario: the table's first row
        lines.append(f"Key uncertainty: {best['sentence']}")
    else:
        widest = max(rows, key=lambda r: r["interval"][1] - r["interval"][0])
        lines.append(
            f"Key uncertainty: the chance of {widest['label']} could lie anywhere from "
            f"{pct(widest['interval'][0])} to {pct(widest['interval'][1])} given the inputs."
        )
    return lines


def direction(mu: float, mu_star: float) -> str:
    """Which way an input moves a probability, from Morris's mean effect (mu) and mean absolute
    effect (mu_star >= |mu|): "up" or "down" when (nearly) every effect has that sign, "mostly
    up" or "mostly down" when three quarters or more of the effects' size has it, else "either
    way" (the sign depends on the other inputs)."""
    if mu_star <= 0:
        return "none"
    up = (mu_star + mu) / (2 * mu_star)  # the share of the effects' total size that is upward
    if up >= 0.95 or up <= 0.05:
        return "up" if up >= 0.95 else "down"
    if up >= 0.75 or up <= 0.25:
        return "mostly up" if up >= 0.75 else "mostly down"
    return "either way"


def driver_sentence(
    name: str, target: str, low: float, high: float, mu: float, mu_star: float
) -> str:
    """A driver in words: the size is its mean absolute effect (the table's figure), the
    direction as `direction` reads it."""
    way = direction(mu, mu_star)
    across = f"Moving {name} from the low end of its range ({low:.3g}) to the high end ({high:.3g})"
    size = f"about {points(mu_star)}"
    if way in ("up", "down"):
        verb = "raises" if way == "up" else "lowers"
        return f"{across} {verb} the chance of ‘{target}’ by {size} on average."
    if way in ("mostly up", "mostly down"):
        verb = "raising" if way == "mostly up" else "lowering"
        return f"{across} changes the chance of ‘{target}’ by {size} on average, mostly {verb} it."
    if way == "none":
        return f"{across} leaves the chance of ‘{target}’ unchanged."
    return (
        f"{across} changes the chance of ‘{target}’ by {size} on average, raising it for some "
        "settings of the other inputs and lowering it for others."
    )


DIRECTION_WORDS = {
    "up": "raises it",
    "down": "lowers it",
    "mostly up": "mostly raises it",
    "mostly down": "mostly lowers it",
    "either way": "either way",
    "none": "no change",
}


def _driver_rows(
    sensitivity: Sensitivity, labels: Mapping[str, str], top: int = 12
) -> tuple[list[dict[str, Any]], list[str]]:
    """The inputs that move a scenario most (each by its largest effect on any scenario), and
    a sentence for the first three: the sentence and the table give the same size and
    direction."""
    best: dict[str, Any] = {}
    for d in (d for d in sensitivity.drivers if d.kind == "scenario"):
        if d.input not in best or d.mu_star > best[d.input].mu_star:
            best[d.input] = d
    ranked = sorted(best.values(), key=lambda d: -d.mu_star)[:top]
    rows = []
    for d in ranked:
        target = labels.get(d.target, d.target)
        way = direction(d.mu, d.mu_star)
        rows.append(
            {
                "input": d.input,
                "name": d.label,
                "note": d.note,
                "target": target,
                "target_id": d.target,
                "mu_star": d.mu_star,
                "mu": d.mu,
                "sigma": d.sigma,
                "conf": d.mu_star_conf,
                "low": d.low,
                "high": d.high,
                "direction": DIRECTION_WORDS[way],
                "effect": f"{100 * d.mu_star:.0f}",
                "sentence": driver_sentence(d.label, target, d.low, d.high, d.mu, d.mu_star),
            }
        )
    return rows, [row["sentence"] for row in rows[:3]]


def defining_events(scenarios: Iterable[ScenarioForecast]) -> set[str]:
    """Events the scenario rules read: seeing one tells the reader the scenario by definition,
    so it is no indicator to watch, and the paths into each scenario are told by them."""
    return {e for s in scenarios for e in s.reads}


def _watch_rows(
    found: tuple[Indicator, ...],
    labels: Mapping[str, str],
    drop: set[str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The watch list, without indicators whose event defines a scenario (`drop`) and without
    those that move no scenario by `MIN_MOVE` or more, seen or not."""
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
        # the largest move, seen or not: what the sentence tells
        biggest, seen_branch = max(
            ((m, branch) for m in moves for branch in (True, False)),
            key=lambda mb: abs(mb[0]["if_seen" if mb[1] else "if_not"] - mb[0]["prior"]),
        )
        after = biggest["if_seen" if seen_branch else "if_not"]
        if abs(after - biggest["prior"]) < MIN_MOVE:
            continue  # seeing it or not changes nothing a reader would see
        if seen_branch:
            sentence = (
                f"If ‘{ind.label}’ has happened by {ind.date}, ‘{biggest['scenario']}’ goes from "
                f"{pct(biggest['prior'])} to {pct(biggest['if_seen'])}; "
                f"if not, to {pct(biggest['if_not'])}."
            )
        else:
            sentence = (
                f"If ‘{ind.label}’ has not happened by {ind.date}, ‘{biggest['scenario']}’ goes "
                f"from {pct(biggest['prior'])} to {pct(biggest['if_not'])}; "
                f"if it has, to {pct(biggest['if_seen'])}."
            )
        rows.append(
            {
                "event": ind.event,
                "label": ind.label,
                "note": (notes or {}).get(ind.event, ""),
                "date": ind.date,
                "round": ind.round,
                "p_seen": ind.p_seen,
                "bits": ind.information,
                "moves": moves,
                "sentence": sentence,
            }
        )
    return rows


def _perceptions(
    case: Case, names: Mapping[str, Mapping[str, str]]
) -> tuple[list[dict[str, Any]], list[tuple[int, int, int, float]]]:
    """Every place where an actor's view differs from the truth, fixed perceptions and beliefs
    alike, as table rows (actors and issues by name, with the case's note on it); and the
    believed positions, as (holder, about, issue, value)."""
    actor_index = {a.id: n for n, a in enumerate(case.actors)}
    issue_index = {i.id: k for k, i in enumerate(case.issues)}
    who, issues = names["actor"], names["issue"]
    # (holder, about, issue or None for capability, attribute, believed value, source, note)
    found: list[tuple[str, str, str | None, str, Dist, str, str]] = []
    for holder, about_map in case.perceptions.items():
        for about, belief in about_map.items():
            source = "fixed perception"
            if belief.capability is not None:
                found.append((holder, about, None, "capability", belief.capability, source,
                              belief.note))  # fmt: skip
            for issue_id, seen in belief.stances.items():
                for attr in ("position", "salience"):
                    value = getattr(seen, attr)
                    if value is not None:
                        found.append((holder, about, issue_id, attr, value, source, belief.note))
    for spec in case.crisis.beliefs if case.crisis else []:
        truth = "; the case takes it to be false" if spec.truth is False else ""
        truth = "; the case takes it to be true" if spec.truth is True else truth
        source = (
            f"if it holds the belief ‘{names['belief'][spec.id]}’ (probability {spec.prior} at "
            f"the start{truth})"
        )
        for about, attrs in spec.perception.items():
            if attrs.capability is not None:
                found.append((spec.holder, about, None, "capability", attrs.capability, source,
                              spec.note))  # fmt: skip
            for issue_id, values in attrs.stances.items():
                for attr, dist in values.items():
                    found.append((spec.holder, about, issue_id, attr, dist, source, spec.note))
    rows: list[dict[str, Any]] = []
    positions: list[tuple[int, int, int, float]] = []
    for holder, about, issue, attr, dist, source, note in found:
        actor = case.actors[actor_index[about]]
        true = actor.capability if issue is None else getattr(actor.stances[issue], attr)
        rows.append(
            {
                "holder": who.get(holder, holder),
                "about": who.get(about, about),
                "source": source,
                "note": note,
                "truth": str(true),
                "believed": str(dist),
                "attribute": attr if issue is None else f"{attr} on {issues.get(issue, issue)}",
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


def _changed(
    result: ForecastResult,
    before: ForecastResult | None,
    names: Mapping[str, Mapping[str, str]],
) -> dict[str, Any] | None:
    """What the observations changed: each scenario and question before (`before`, the same
    forecast unconditioned) and after, and the inputs they moved most; events and beliefs by
    their labels."""
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
                label = reader_name(str(getattr(x, "label", "") or getattr(x, "text", "")), x.id)
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
                f"{s.label}: {'up' if s.shift > 0 else 'down'} by {abs(s.shift):.1f} times its "
                f"standard deviation before the observations (median {s.prior[1]:.3g} → "
                f"{s.posterior[1]:.3g})"
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
                {"id": line.id, "label": names["belief"].get(line.id, line.id),
                 "before": old_beliefs[line.id].mean_by_round[t], "after": line.mean_by_round[t]}
            )  # fmt: skip
    return {
        "file": seen.file.rsplit("/", 1)[-1],
        "as_of": seen.as_of.isoformat(),
        "rounds": seen.rounds,
        "hash": seen.hash,
        "events": {
            names["event"].get(e, e): [d.isoformat() for d in days]
            for e, days in seen.events.items()
        },
        "effective": seen.effective_draws,
        "effective_inputs": seen.effective_inputs,
        "items": items,
        "inputs": inputs,
        "beliefs": beliefs,
    }


def _calendar(case: Case) -> list[dict[str, Any]]:
    """The case's scheduled events in date order: date, name and description."""
    return [
        {
            "id": entry.id,
            "date": entry.date.isoformat(),
            "label": reader_name(entry.label, entry.id),
            "description": entry.description,
        }
        for entry in sorted(case.calendar, key=lambda e: e.date)
    ]


def _parameters(case: Case) -> list[dict[str, Any]]:
    """The crisis parameters: the reader's name (the case's label), the value as written, and
    the case's note on it."""
    crisis = case.crisis
    if crisis is None:
        return []
    return [
        {
            "id": name,
            "name": crisis.parameter_label(name) or reader_name("", name),
            "value": str(dist),
            "note": crisis.parameter_note(name),
        }
        for name, dist in crisis.parameters.items()
    ]


def _event_rows(result: ForecastResult, case: Case) -> list[dict[str, Any]]:
    """Each event's timeline by a name no other event shares ("label (2)" for a second event of
    the same label), with the case's note on it."""
    assert result.timeline is not None
    notes = {e.id: e.note for e in case.crisis.events} if case.crisis else {}
    named = [(e, reader_name(e.label, e.id)) for e in result.timeline.events]
    counts = Counter(name for _, name in named)
    seen: Counter[str] = Counter()
    rows = []
    for e, name in named:
        seen[name] += 1
        shown = name if counts[name] == 1 else f"{name} ({seen[name]})"
        rows.append({"id": e.id, "label": shown, "note": notes.get(e.id, ""),
                     "by_round": list(e.by_round)})  # fmt: skip
    return rows


def _calendar_marks(
    calendar: list[dict[str, Any]], as_of: dt.date | None, ends: tuple[dt.date, ...]
) -> list[tuple[float, str]]:
    """Where each calendar entry falls on the timeline's x axis (round r ends at x = r, the
    as-of date is x = 0), with its number in the calendar table."""
    marks = []
    starts = (as_of or ends[0], *ends[:-1])
    for n, entry in enumerate(calendar, start=1):
        day = dt.date.fromisoformat(entry["date"])
        for r, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
            if start < day <= end or (r == 1 and day == start):
                marks.append((r - 1 + (day - start).days / max((end - start).days, 1), str(n)))
                break
    return marks


def build_report(
    result: ForecastResult,
    reproduce: str | None = None,
    before: ForecastResult | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Everything the report says, from a crisis forecast (with its drivers, if it ran them).
    `reproduce`: the command that reproduces the run, as the user would type it. `before`: for
    a forecast conditioned on observations, the same forecast without them ("What changed").
    `progress` hears of each figure drawn (stage `STAGE`)."""
    case = result.case
    if result.timeline is None:
        raise ValueError("the report needs a crisis case")
    # loading the figures' library, the text, each figure, and the end
    steps = 3 + 5 + bool(result.timeline.dyads) + bool(result.drivers) + 2 * bool(result.observed)
    done = 0

    def step() -> None:
        nonlocal done
        if progress is not None:
            progress(STAGE, min(done, steps), steps)
        done += 1

    step()
    from . import figures  # matplotlib: a second or more to load, under the progress bar

    timeline = result.timeline
    sensitivity = result.drivers
    names = _names(case)
    rows = _scenario_rows(result.scenarios, names, _period(case))
    scenario_labels = {r["id"]: r["label"] for r in rows}
    question_rows: list[dict[str, Any]] = [
        {
            "id": q.id,
            "text": q.text,
            "criteria": q.criteria,
            "resolves": q.resolves.isoformat(),
            "p": q.probability.p,
            "interval": [q.probability.low, q.probability.high],
            "split": split_words(q.probability.spread),
            # a question the observations decided reads "observed: yes": it is not a forecast
            "words": q.probability.words
            if q.observed is None
            else f"observed: {'yes' if q.observed else 'no'}",
            "observed": q.observed,
        }
        for q in result.questions
    ]
    event_rows = _event_rows(result, case)
    dates = [d.isoformat() for d in timeline.dates]
    central = central_inputs(case)
    actor_rows = []
    for n, actor in enumerate(case.actors):
        actor_rows.append(
            {
                "id": actor.id,
                "name": names["actor"][actor.id],
                "note": actor.note,
                "capability": str(actor.capability),
                "capability_central": float(central.capability[0, n]),
                "stances": [
                    {
                        "issue": names["issue"][i.id],
                        "position": str(actor.stances[i.id].position),
                        "salience": str(actor.stances[i.id].salience),
                    }
                    for i in case.issues
                ],
            }
        )
    perception_rows, believed_positions = _perceptions(case, names)
    issues = {i.id: i for i in case.issues}
    settlement_rows = [
        {
            "id": s.id,
            "label": reader_name(s.label, s.id),
            "scale": _scale_words(s.scale, issues[s.id].low_means, issues[s.id].high_means),
            "median": s.median,
            "interval": list(s.interval),
            "mean": s.mean,
        }
        for s in result.settlement
    ]
    drivers: list[dict[str, Any]] = []
    sentences: list[str] = []
    labels = {
        **scenario_labels,
        **{q.id: q.text or reader_name("", q.id) for q in result.questions},
    }
    if sensitivity is not None:
        drivers, sentences = _driver_rows(sensitivity, labels)
    event_names = {e["id"]: e["label"] for e in event_rows}
    watch = _watch_rows(
        tuple(replace(i, label=event_names.get(i.event, i.label)) for i in result.indicators),
        scenario_labels,
        defining_events(result.scenarios),
        {e["id"]: e["note"] for e in event_rows},
    )
    digest = hashlib.sha256(result.case_bytes or case.model_dump_json().encode()).hexdigest()
    method = {
        "engine": ENGINE_NAMES.get(result.model, result.model),
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
        "parameters": _parameters(case),
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
        title=case.title or reader_name("", case.id),
        headline=headline(top),
        nutshell=_nutshell(rows, drivers),
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
        calendar=_calendar(case),
        blocks=[
            list(range(t, min(t + ROUNDS_PER_TABLE, len(dates))))
            for t in range(0, len(dates), ROUNDS_PER_TABLE)
        ],
    )

    def figure(name: str, title: str, caption: str, svg: Any) -> None:
        report.figures[name], report.titles[name], report.captions[name] = (
            svg(title),
            title,
            caption,
        )
        step()

    step()
    spread = (
        "Bars: the probability over all simulated histories; lines: its range (5th to 95th "
        f"percentile) {INPUTS_VARY}."
    )
    figure(
        "scenarios", "How likely each scenario is", spread,
        lambda t: figures.probabilities([r["label"] for r in rows], [r["p"] for r in rows],
                                        [r["interval"] for r in rows], t),
    )  # fmt: skip
    figure(
        "questions", "How likely each question is to resolve yes", spread,
        lambda t: figures.probabilities([q["text"] or q["id"] for q in question_rows],
                                        [q["p"] for q in question_rows],
                                        [q["interval"] for q in question_rows], t),
    )  # fmt: skip
    marks = _calendar_marks(report.calendar, case.as_of, timeline.dates)
    figure(
        "timeline", "Probability that each event has happened by each date",
        "Each line: the share of simulated histories in which the event has happened by the end "
        "of the round ending on that date."
        + (" Dotted lines: the dates of the calendar, numbered as in its table." if marks else ""),
        lambda t: figures.timeline(dates, {e["label"]: e["by_round"] for e in event_rows}, t,
                                   marks),
    )  # fmt: skip
    figure(
        "actors", "Where the actors stand on each issue",
        "Each actor's position on each issue (central values); marker area: capability; darker "
        "fill: higher salience. Hollow diamonds and arrows: where another actor believes it "
        "stands.",
        lambda t: figures.actors_map(
            [(names["issue"][i.id], i.range[0], i.range[1], i.low_means, i.high_means)
             for i in case.issues],
            [names["actor"][a.id] for a in case.actors], central.position[0],
            central.capability[0], central.salience[0], believed_positions, t),
    )  # fmt: skip
    figure(
        "settlement", "Where the bargain settles on each issue",
        "How often the bargain settles at each point of each issue's scale over the simulated "
        "histories (the ends of the scale say what they stand for); dashed line: the median.",
        lambda t: figures.distributions(
            [(names["issue"][i.id], i.range[0], i.range[1], i.low_means, i.high_means)
             for i in case.issues],
            [s.counts for s in result.settlement], [s.median for s in result.settlement], t),
    )  # fmt: skip
    report.bargaining = _bargaining_rows(timeline.dyads, names["actor"])
    if report.bargaining:
        weighed = " (weighted by the observations)" if result.observed is not None else ""
        report.bargaining_caption = (
            "For each dyad, the mean over the simulated histories whose crisis is still running "
            f"in each round{weighed}, as that round's bargaining left them, before its events: "
            "the distance between the two on the issues (gap: 0 to 1 of each issue's scale, "
            "weighted by the first side's saliences) and the first side's chance of prevailing "
            "against the other, as it sees it (prevails; the dotted line is an even chance)."
        )
        dyads = [(d["name"], d["first"], d["gap"], d["prevails"]) for d in report.bargaining]
        figure(
            "bargaining", "How the bargaining moved", report.bargaining_caption,
            lambda t: figures.bargaining(dates, dyads, t),
        )  # fmt: skip
    report.changed = _changed(result, before, names)
    if result.outside_view is not None:
        from ..outside.case import report_rows

        report.outside = report_rows(result.outside_view)
    if report.changed is not None:
        items, moved = report.changed["items"], report.changed["inputs"]
        if items:
            figure(
                "changed", "Before and after the observations",
                "Each probability before the observations (hollow circle) and after them (filled), "
                "joined by an arrow.",
                lambda t: figures.changes([i["label"] for i in items], [i["before"] for i in items],
                                          [i["after"] for i in items], t),
            )  # fmt: skip
        if moved:
            figure(
                "moved", "The inputs the observations moved most",
                "Each input's range (5th to 95th percentile) and median before the observations "
                "(upper, hollow) and after them (lower, filled), on a scale from the range before "
                "(0) to its end (1), so that inputs in different units share one axis.",
                lambda t: figures.shifts([i["label"] for i in moved], [i["prior"] for i in moved],
                                         [i["posterior"] for i in moved], t),
            )  # fmt: skip
    if drivers:
        figure(
            "drivers", "What drives the forecast",
            "For each uncertain input, how many percentage points the chance of the scenario it "
            "moves most (named beside the bar) changes on average when the input moves across its "
            "range (5th to 95th percentile).",
            lambda t: figures.drivers([d["name"] for d in drivers],
                                      [d["mu_star"] for d in drivers],
                                      [d["target"] for d in drivers], t),
        )  # fmt: skip
    done = steps
    step()
    return report


def _scale_words(scale: tuple[float, float], low_means: str, high_means: str) -> str:
    """An issue's scale with what its ends stand for: "0 = keep sanctions … 100 = lift them"."""
    low, high = (f"{v:g}" for v in scale)
    low_end = f"{low} = {low_means}" if low_means else low
    high_end = f"{high} = {high_means}" if high_means else high
    return f"{low_end} … {high_end}"


def headline(top: Mapping[str, Any]) -> str:
    """The report's headline on the most likely scenario. Its ICD 203 word can be "unlikely"
    when no scenario is more likely than not; the headline then says both. A scenario the
    observations decided is not a forecast, and the headline says so."""
    if top.get("observed"):
        return f"Decided by the observations: {top['label']} (observed: yes)"
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
