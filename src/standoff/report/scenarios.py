"""The report's rows of scenarios and indicators: what the reader calls each id, each
scenario's probability, paths and views, the nutshell, and the watch list of indicators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..case.schema import Case, reader_name
from ..result import ForecastResult, Indicator, ScenarioForecast
from .rows import DominantView, DriverRow, DyadViews, QuestionRow, ScenarioRow, WatchMove, WatchRow
from .wording import INPUTS_VARY, pct, split_words

#: An indicator is shown when seeing it, or not, moves some scenario by at least this much.
MIN_MOVE = 0.01


def names_of(case: Case) -> dict[str, dict[str, str]]:
    """What the reader calls each thing the case names by an id, by kind: the case's label or
    name, else the id in words (`reader_name`)."""
    crisis = case.crisis
    return {
        "actor": {a.id: reader_name(a.name, a.id) for a in case.actors},
        "issue": {i.id: reader_name(i.label, i.id) for i in case.issues},
        "event": {e.id: reader_name(e.label, e.id) for e in (crisis.events if crisis else [])},
        "belief": {b.id: reader_name(b.label, b.id) for b in (crisis.beliefs if crisis else [])},
    }


def period_of(case: Case) -> str:
    """The length of a round, as a plural noun: "months", "weeks", "quarters"."""
    return f"{case.crisis.step}s" if case.crisis else "rounds"


def _path_words(events: tuple[str, ...], names: Mapping[str, str], defining: list[str]) -> str:
    """A path of defining events by their labels; none of them: says so."""
    if events == ("(nothing)",):
        if not defining:
            return "no event"
        return "none of " + ", ".join(f"‘{names.get(e, e)}’" for e in defining)
    return " → ".join(names.get(e, e) for e in events)


def scenario_rows(
    scenarios: tuple[ScenarioForecast, ...],
    names: Mapping[str, Mapping[str, str]],
    period: str = "months",
) -> tuple[ScenarioRow, ...]:
    """One row per scenario; paths name events by their labels, and views name actors by their
    names (the JSON keeps the ids)."""
    events, who = names["event"], names["actor"]
    defining = [e for e in events if e in defining_events(scenarios)]
    return tuple(
        ScenarioRow(
            id=s.id,
            label=reader_name(s.label, s.id),
            description=s.description,
            p=s.probability.p,
            interval=(s.probability.low, s.probability.high),
            split=split_words(s.probability.spread),
            # a scenario the observations decided reads "observed: yes": it is not a forecast
            words=s.probability.words
            if s.observed is None
            else f"observed: {'yes' if s.observed else 'no'}",
            observed=s.observed,
            paths=tuple(
                f"{_path_words(p.events, events, defining)} ({pct(p.share)})"
                for p in s.paths
                if p.share >= 0.005  # a path shown as 0% says nothing
            ),
            interactions=tuple(
                DyadViews(
                    sides=tuple(
                        _dominant(who.get(side.actor, side.actor), side.shares)
                        for side in view.sides
                    ),
                    views_differ=view.views_differ,
                )
                for view in s.views
            ),
            period=period,
        )
        for s in scenarios
    )


def _dominant(actor: str, shares: Mapping[str, float]) -> DominantView:
    """The interaction a side saw most often (ties: the later class, as dictsort did)."""
    kind, share = sorted(shares.items(), key=lambda kv: kv[1])[-1]
    return DominantView(actor=actor, kind=kind, share=share)


def nutshell(rows: Sequence[ScenarioRow], drivers: Sequence[DriverRow]) -> list[str]:
    ranked = sorted(rows, key=lambda r: -r.p)
    top = ranked[0]
    if top.observed:  # what was seen settles the scenario: no alternative to weigh
        return [f"Decided by the observations: {top.label} (observed: yes)."]
    lines = [
        f"Most likely: {top.label} — {top.words} ({pct(top.p)}; "
        f"{pct(top.interval[0])}–{pct(top.interval[1])} {INPUTS_VARY})."
    ]
    if len(ranked) > 1 and ranked[1].observed is None:
        second = ranked[1]
        lines.append(
            f"Main alternative: {second.label} — {second.words} ({pct(second.p)}; "
            f"{pct(second.interval[0])}–{pct(second.interval[1])} {INPUTS_VARY})."
        )
    if drivers:
        best = drivers[0]  # the largest effect on any scenario: the table's first row
        lines.append(f"Key uncertainty: {best.sentence}")
    else:
        widest = max(rows, key=lambda r: r.interval[1] - r.interval[0])
        lines.append(
            f"Key uncertainty: the chance of {widest.label} could lie anywhere from "
            f"{pct(widest.interval[0])} to {pct(widest.interval[1])} given the inputs."
        )
    return lines


def defining_events(scenarios: Iterable[ScenarioForecast]) -> set[str]:
    """Events the scenario rules read: seeing one tells the reader the scenario by definition,
    so it is no indicator to watch, and the paths into each scenario are told by them."""
    return {e for s in scenarios for e in s.reads}


def watch_rows(
    found: tuple[Indicator, ...],
    labels: Mapping[str, str],
    drop: set[str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[WatchRow, ...]:
    """The watch list, without indicators whose event defines a scenario (`drop`) and without
    those that move no scenario by `MIN_MOVE` or more, seen or not."""
    rows = []
    for ind in found:
        if drop and ind.event in drop:
            continue
        moves = tuple(
            WatchMove(
                scenario=labels.get(s, s),
                prior=prior,
                if_seen=ind.if_seen[s],
                if_not=ind.if_not_seen[s],
            )
            for s, prior in ind.prior.items()
        )
        # the largest move, seen or not: what the sentence tells
        biggest, seen_branch = max(
            ((m, branch) for m in moves for branch in (True, False)),
            key=lambda mb: abs((mb[0].if_seen if mb[1] else mb[0].if_not) - mb[0].prior),
        )
        after = biggest.if_seen if seen_branch else biggest.if_not
        if abs(after - biggest.prior) < MIN_MOVE:
            continue  # seeing it or not changes nothing a reader would see
        if seen_branch:
            sentence = (
                f"If ‘{ind.label}’ has happened by {ind.date}, ‘{biggest.scenario}’ goes from "
                f"{pct(biggest.prior)} to {pct(biggest.if_seen)}; "
                f"if not, to {pct(biggest.if_not)}."
            )
        else:
            sentence = (
                f"If ‘{ind.label}’ has not happened by {ind.date}, ‘{biggest.scenario}’ goes "
                f"from {pct(biggest.prior)} to {pct(biggest.if_not)}; "
                f"if it has, to {pct(biggest.if_seen)}."
            )
        rows.append(
            WatchRow(
                event=ind.event,
                label=ind.label,
                note=(notes or {}).get(ind.event, ""),
                date=ind.date,
                round=ind.round,
                p_seen=ind.p_seen,
                bits=ind.information,
                moves=moves,
                sentence=sentence,
            )
        )
    return tuple(rows)


def question_rows(result: ForecastResult) -> tuple[QuestionRow, ...]:
    """One row per question: its text, criteria, date, probability, spread and word."""
    return tuple(
        QuestionRow(
            id=q.id,
            text=q.text,
            criteria=q.criteria,
            resolves=q.resolves.isoformat(),
            p=q.probability.p,
            interval=(q.probability.low, q.probability.high),
            split=split_words(q.probability.spread),
            # a question the observations decided reads "observed: yes": it is not a forecast
            words=q.probability.words
            if q.observed is None
            else f"observed: {'yes' if q.observed else 'no'}",
            observed=q.observed,
        )
        for q in result.questions
    )
