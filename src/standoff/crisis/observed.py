"""Observations: what has been seen of a crisis since its case was written.

An observation file is YAML:

    as_of: 2019-03-15             # observations cover every round that ends on or before this date
    events:
      summit: [2019-02-27]        # happened in the rounds holding these dates, and in no other
      summit_fails: [2019-02-28]
      walkout: []                 # did not happen

An event listed is observed in every round that ends on or before `as_of`: it happened in exactly
the rounds that hold its dates (round t holds the days after the end of round t - 1, up to and
including its own end; round 1 starts the day after the case's `as_of`). An event not listed is
not observed: the simulation draws it as usual. `note:` and `source:` keys, at the top or as an
event's `{dates: [...], note: ..., source: ...}`, are kept for the reader and ignored otherwise.

`read_observations` checks the file's shape; `compile_observations` checks it against a compiled
crisis (known events, dates inside the observed rounds, a `once` event listed at most once) and
gives the `ObservedPlan` the simulation conditions on (`crisis.simulate`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..case.yamlread import line_of, read_text_file, read_yaml, unknown_keys
from ..errors import CaseError, Problem
from .model import CompiledCrisis

TOP_KEYS = ("as_of", "events", "note", "source")
EVENT_KEYS = ("dates", "note", "source")
EXAMPLE = "as_of: 2019-03-15 and events: {summit: [2019-02-27], walkout: []}"

Lines = dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class Observations:
    """An observation file as written: its dates, and where each was written (for errors)."""

    file: str
    text: str
    as_of: dt.date
    events: dict[str, tuple[dt.date, ...]]  # in the file's order
    lines: Lines = field(repr=False, compare=False)

    @property
    def hash(self) -> str:
        """SHA-256 of the file's text (UTF-8): names exactly what a forecast was conditioned on."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def as_json(self) -> dict[str, Any]:
        return {
            "file": Path(self.file).name,
            "as_of": self.as_of.isoformat(),
            "events": {e: [d.isoformat() for d in days] for e, days in self.events.items()},
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ObservedPlan:
    """The observations against a compiled crisis: rounds [0, rounds) are observed; in them each
    event listed in `events` (indices into the crisis's events) fired exactly where `fired` says.
    `where[n]` says, for the n-th observed event, what was seen, for messages."""

    rounds: int
    events: tuple[int, ...]
    fired: NDArray[np.bool_] = field(repr=False)  # (rounds, len(events))
    ids: tuple[str, ...]
    dates: tuple[dt.date, ...]  # the end of each observed round

    def column(self, event: int) -> int:
        """The column of event index `event` in `fired`, or -1 when it is not observed."""
        return self.events.index(event) if event in self.events else -1

    def describe(self, code: int, n_events: int) -> str:
        """Words for the observation coded t * n_events + e (round t, event e)."""
        t, e = divmod(code, n_events)
        column = self.column(e)
        ident = self.ids[column] if column >= 0 else str(e)
        seen = bool(self.fired[t, column]) if column >= 0 else False
        start = "the case's as-of date" if t == 0 else self.dates[t - 1].isoformat()
        return (
            f"{ident!r} {'happening' if seen else 'not happening'} in round {t + 1} "
            f"(after {start}, to {self.dates[t].isoformat()})"
        )


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def read_observations(path: Path) -> Observations:
    """An observation file, its shape checked (see the module's docstring). Raises CaseError."""
    file = str(path)
    text = read_text_file(path)
    return parse_observations(text, file)


def parse_observations(text: str, file: str) -> Observations:
    """`read_observations` of text already read."""
    data, lines = read_yaml(text, file)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise CaseError([Problem(file, 1, "(top level)", f"expected a mapping with {EXAMPLE}")])
    problems += unknown_keys(data, TOP_KEYS, (), file, lines)
    as_of = _date(data.get("as_of"))
    if as_of is None:
        problems.append(
            Problem(
                file,
                line_of(lines, ("as_of",)),
                "as_of",
                "missing: give the date the observations run to, e.g. as_of: 2019-03-15"
                if data.get("as_of") is None
                else f"not a date: {data.get('as_of')!r}; write YYYY-MM-DD",
            )
        )
    raw = data.get("events", {})
    events: dict[str, tuple[dt.date, ...]] = {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append(
            Problem(
                file,
                line_of(lines, ("events",)),
                "events",
                "expected a mapping of event id: [dates it happened on] ([] for never)",
            )
        )
        raw = {}
    for ident, value in raw.items():
        at: tuple[str | int, ...] = ("events", ident)
        name = f"events.{ident}"
        if isinstance(value, dict):
            problems += unknown_keys(value, EVENT_KEYS, at, file, lines)
            value = value.get("dates", [])
            at = (*at, "dates")
        if value is None:
            value = []
        if not isinstance(value, list):
            value = [value]  # one date written without brackets
        days: list[dt.date] = []
        for n, item in enumerate(value):
            day = _date(item)
            if day is None:
                problems.append(
                    Problem(
                        file,
                        line_of(lines, (*at, n)),
                        name,
                        f"not a date: {item!r}; write YYYY-MM-DD",
                    )
                )
            else:
                days.append(day)
        events[str(ident)] = tuple(sorted(days))
    if problems:
        raise CaseError(problems)
    assert as_of is not None
    return Observations(file=file, text=text, as_of=as_of, events=events, lines=lines)


def compile_observations(
    observations: Observations, plan: CompiledCrisis, case_as_of: dt.date
) -> ObservedPlan:
    """The observed rounds and what was seen in them, checked against the crisis: every event
    named is one of its events; `as_of` is on or after the case's own; every date falls after the
    case's as-of date and inside a round that ends on or before `as_of`; an event that happens at
    most once (`once: true`) is listed on one date at most. Raises CaseError."""
    file, lines = observations.file, observations.lines
    problems: list[Problem] = []
    as_of = observations.as_of
    if as_of < case_as_of:
        problems.append(
            Problem(
                file,
                line_of(lines, ("as_of",)),
                "as_of",
                f"{as_of} is before the case's as-of date {case_as_of}: observations cover what "
                "happened after it",
            )
        )
    rounds = sum(1 for day in plan.dates if day <= as_of)
    index = {event.id: e for e, event in enumerate(plan.events)}
    ids: list[str] = []
    columns: list[int] = []
    fired = np.zeros((rounds, len(observations.events)), dtype=bool)
    for c, (ident, days) in enumerate(observations.events.items()):
        at = ("events", ident)
        if ident not in index:
            close = difflib.get_close_matches(ident, list(index), n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else f"the case's events are: {', '.join(index)}"
            )
            problems.append(
                Problem(
                    file,
                    lines.get((*at, "<key>"), line_of(lines, at)),
                    f"events.{ident}",
                    f"the case has no event {ident!r}; {hint}",
                )
            )
            continue
        e = index[ident]
        seen_rounds: list[int] = []
        for day in days:
            line = line_of(lines, at)
            if day <= case_as_of:
                problems.append(
                    Problem(
                        file,
                        line,
                        f"events.{ident}",
                        f"{day} is on or before the case's as-of date {case_as_of}; the case "
                        "already knows what happened then",
                    )
                )
                continue
            if day > as_of:
                problems.append(
                    Problem(file, line, f"events.{ident}", f"{day} is after as_of ({as_of})")
                )
                continue
            t = next((t for t, end in enumerate(plan.dates) if end >= day), None)
            if t is None or t >= rounds:
                end = plan.dates[t] if t is not None else None
                problems.append(
                    Problem(
                        file,
                        line,
                        f"events.{ident}",
                        f"{day} falls in a round that ends on {end}, after as_of ({as_of}): "
                        "observations cover whole rounds; move as_of to the round's end or "
                        "leave the date out"
                        if end is not None
                        else f"{day} is after the case's last round",
                    )
                )
                continue
            if t not in seen_rounds:
                seen_rounds.append(t)
            fired[t, c] = True
        if plan.events[e].once and len(seen_rounds) > 1:
            problems.append(
                Problem(
                    file,
                    line_of(lines, at),
                    f"events.{ident}",
                    f"event {ident!r} happens at most once in the case (once: true) but is listed "
                    f"in {len(seen_rounds)} rounds",
                )
            )
        ids.append(ident)
        columns.append(e)
    if problems:
        raise CaseError(problems)
    keep = [c for c, ident in enumerate(observations.events) if ident in index]
    return ObservedPlan(
        rounds=rounds,
        events=tuple(columns),
        fired=fired[:, keep],
        ids=tuple(ids),
        dates=tuple(plan.dates[:rounds]),
    )
