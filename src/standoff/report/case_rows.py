"""The report's rows of the case: its actors, what each believes of the others, the calendar,
the crisis parameters, each event's timeline, and where the bargain settles on each issue."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..case.numbers import Dist
from ..case.schema import Case, reader_name
from ..result import ForecastResult
from .rows import (
    ActorRow,
    CalendarRow,
    EventRow,
    ParameterRow,
    PerceptionRow,
    SettlementRow,
    StanceRow,
)
from .wording import scale_words

if TYPE_CHECKING:
    from ..bargaining.base import BargainingInputs


def perception_rows(
    case: Case, names: Mapping[str, Mapping[str, str]]
) -> tuple[tuple[PerceptionRow, ...], list[tuple[int, int, int, float]]]:
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
    rows: list[PerceptionRow] = []
    positions: list[tuple[int, int, int, float]] = []
    for holder, about, issue, attr, dist, source, note in found:
        actor = case.actors[actor_index[about]]
        true = actor.capability if issue is None else getattr(actor.stances[issue], attr)
        rows.append(
            PerceptionRow(
                holder=who.get(holder, holder),
                about=who.get(about, about),
                source=source,
                note=note,
                truth=str(true),
                believed=str(dist),
                attribute=attr if issue is None else f"{attr} on {issues.get(issue, issue)}",
            )
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
    return tuple(rows), positions


def calendar_rows(case: Case) -> tuple[CalendarRow, ...]:
    """The case's scheduled events in date order: date, name and description."""
    return tuple(
        CalendarRow(
            id=entry.id,
            date=entry.date.isoformat(),
            label=reader_name(entry.label, entry.id),
            description=entry.description,
        )
        for entry in sorted(case.calendar, key=lambda e: e.date)
    )


def parameter_rows(case: Case) -> tuple[ParameterRow, ...]:
    """The crisis parameters: the reader's name (the case's label), the value as written, and
    the case's note on it."""
    crisis = case.crisis
    if crisis is None:
        return ()
    return tuple(
        ParameterRow(
            id=name,
            name=crisis.parameter_label(name) or reader_name("", name),
            value=str(dist),
            note=crisis.parameter_note(name),
        )
        for name, dist in crisis.parameters.items()
    )


def event_rows(result: ForecastResult, case: Case) -> tuple[EventRow, ...]:
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
        rows.append(EventRow(id=e.id, label=shown, note=notes.get(e.id, ""),
                             by_round=tuple(e.by_round)))  # fmt: skip
    return tuple(rows)


def calendar_marks(
    calendar: Sequence[CalendarRow], as_of: dt.date | None, ends: tuple[dt.date, ...]
) -> list[tuple[float, str]]:
    """Where each calendar entry falls on the timeline's x axis (round r ends at x = r, the
    as-of date is x = 0), with its number in the calendar table."""
    marks = []
    starts = (as_of or ends[0], *ends[:-1])
    for n, entry in enumerate(calendar, start=1):
        day = dt.date.fromisoformat(entry.date)
        for r, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
            if start < day <= end or (r == 1 and day == start):
                marks.append((r - 1 + (day - start).days / max((end - start).days, 1), str(n)))
                break
    return marks


def actor_rows(
    case: Case, names: Mapping[str, Mapping[str, str]], central: BargainingInputs
) -> tuple[ActorRow, ...]:
    """One row per actor: its name, note, capability (as written and central) and its stance on
    each issue."""
    return tuple(
        ActorRow(
            id=actor.id,
            name=names["actor"][actor.id],
            note=actor.note,
            capability=str(actor.capability),
            capability_central=float(central.capability[0, n]),
            stances=tuple(
                StanceRow(
                    issue=names["issue"][i.id],
                    position=str(actor.stances[i.id].position),
                    salience=str(actor.stances[i.id].salience),
                )
                for i in case.issues
            ),
        )
        for n, actor in enumerate(case.actors)
    )


def settlement_rows(result: ForecastResult, case: Case) -> tuple[SettlementRow, ...]:
    """One row per issue: where the bargain settles (median, range across the inputs, mean) on
    its scale, the scale's ends in words."""
    issues = {i.id: i for i in case.issues}
    return tuple(
        SettlementRow(
            id=s.id,
            label=reader_name(s.label, s.id),
            scale=scale_words(s.scale, issues[s.id].low_means, issues[s.id].high_means),
            median=s.median,
            interval=s.interval,
            mean=s.mean,
        )
        for s in result.settlement
    )
