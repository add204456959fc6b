"""Checks that need the whole case: unique ids, known references, numbers inside their ranges."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..controlchars import first_control
from ..errors import Problem
from ..suggest import unknown
from .numbers import Dist, Quantity
from .schema import CAPABILITY, FORMAT_VERSION, RISK, SALIENCE, Case
from .yamlread import Path, dotted, line_of

#: The largest magnitude of any number in a case: capabilities, issue scales, crisis parameters.
#: Far beyond any real input, and far below where sums of capabilities x saliences overflow.
MAX_MAGNITUDE = 1e12
#: The widest issue scale (high - low).
MAX_WIDTH = 1e9


def _too_large(value: Dist) -> str | None:
    """A number past MAX_MAGNITUDE anywhere in what the user wrote."""
    big = max(abs(p) for p in value.params)
    if big > MAX_MAGNITUDE:
        return (
            f"{big:g} is too large: numbers in a case must be within ±{MAX_MAGNITUDE:g} "
            "(rescale, e.g. capability in billions)"
        )
    return None


def check_case(case: Case, file: str, lines: dict[Path, int]) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: Path, message: str, key: bool = False) -> None:
        line = lines.get((*path, "<key>")) if key else None
        problems.append(Problem(file, line or line_of(lines, path), dotted(path), message))

    def number(path: Path, value: Dist | None, quantity: Quantity) -> None:
        if value is not None and (msg := _too_large(value) or value.check(quantity)):
            add(path, msg)

    if case.standoff != FORMAT_VERSION:
        add(
            ("standoff",),
            f"unsupported format version {case.standoff}; this standoff reads {FORMAT_VERSION}",
        )

    _check_plain_ids(case, add)
    for section, items in _id_sections(case):
        _unique(section, [item.id for item in items], add)

    issues = {issue.id: issue for issue in case.issues}
    bad_range: set[str] = set()
    for i, issue in enumerate(case.issues):
        low, high = issue.range
        if not low < high:
            bad_range.add(issue.id)
            add(("issues", i, "range"), f"the low end {low:g} must be below the high end {high:g}")
        elif max(abs(low), abs(high)) > MAX_MAGNITUDE or high - low > MAX_WIDTH:
            bad_range.add(issue.id)
            add(
                ("issues", i, "range"),
                f"[{low:g}, {high:g}] is too wide: an issue's ends must be within "
                f"±{MAX_MAGNITUDE:g} and at most {MAX_WIDTH:g} apart (e.g. [0, 100])",
            )

    def stances(base: Path, given: Mapping[str, Any]) -> None:
        """The stances of an actor, or of an actor as another sees it: each on a known issue,
        its position within the issue's scale and its salience from 0 to 1."""
        for issue_id, stance in given.items():
            if issue_id not in issues:
                add((*base, "stances", issue_id), unknown("issue", issue_id, issues), key=True)
                continue
            if issue_id not in bad_range:
                number(
                    (*base, "stances", issue_id, "position"),
                    stance.position,
                    issues[issue_id].quantity(),
                )
            number((*base, "stances", issue_id, "salience"), stance.salience, SALIENCE)

    actor_ids = set(case.actor_ids)
    for a, actor in enumerate(case.actors):
        base: Path = ("actors", a)
        number((*base, "capability"), actor.capability, CAPABILITY)
        number((*base, "risk"), actor.risk, RISK)
        stances(base, actor.stances)
        for issue_id in issues:
            if issue_id not in actor.stances:
                add(
                    (*base, "stances"),
                    f"no stance on issue {issue_id!r} (give salience 0 if it does not care)",
                    key=True,
                )

    for holder, beliefs in case.perceptions.items():
        if holder not in actor_ids:
            add(("perceptions", holder), unknown("actor", holder, case.actor_ids), key=True)
            continue
        for about, belief in beliefs.items():
            base = ("perceptions", holder, about)
            if about not in actor_ids:
                add(base, unknown("actor", about, case.actor_ids), key=True)
                continue
            if about == holder:
                add(
                    base,
                    "an actor's beliefs about itself are its true attributes; remove this entry",
                    key=True,
                )
                continue
            number((*base, "capability"), belief.capability, CAPABILITY)
            stances(base, belief.stances)

    if case.crisis is not None:
        _check_crisis_numbers(case, add)
        _check_crisis_references(case, add)
        if not case.scenarios:
            add(
                ("crisis",),
                "a crisis case needs at least one scenario: add a `scenarios:` list, each with "
                "an id and a `when` rule (see docs/cases.md)",
                key=True,
            )

    if case.as_of and case.horizon and not case.horizon > case.as_of:
        add(("horizon",), f"the horizon {case.horizon} must come after as_of {case.as_of}")
    if case.reference_class is not None:
        from .reference_class import check as check_reference_class

        problems.extend(check_reference_class(case, file, lines))
    return problems


def _id_sections(case: Case) -> tuple[tuple[str, Sequence[Any]], ...]:
    """The case's lists of things with an id, by section."""
    return (
        ("issues", case.issues),
        ("actors", case.actors),
        ("scenarios", case.scenarios),
        ("questions", case.questions),
        ("calendar", case.calendar),
    )


def _check_plain_ids(case: Case, add: Any) -> None:
    """No id holds a control character or a bidirectional override (`standoff.controlchars`):
    ids are printed in tables, error messages and shared ledgers, where such a character would
    act on the reader's terminal (set its title, hide rows) or make two ids look alike."""
    ids: list[tuple[Path, str, bool]] = [(("id",), case.id, False)]
    for section, items in _id_sections(case):
        ids += [((section, i, "id"), item.id, False) for i, item in enumerate(items)]
    if case.crisis is not None:
        crisis = case.crisis
        ids += [(("crisis", "events", e, "id"), ev.id, False) for e, ev in enumerate(crisis.events)]
        ids += [
            (("crisis", "beliefs", b, "id"), be.id, False) for b, be in enumerate(crisis.beliefs)
        ]
        ids += [(("crisis", "parameters", name), name, True) for name in crisis.parameters]
    for path, ident, key in ids:
        char = first_control(ident)
        if char is not None:
            add(
                path,
                f"the id {ident!r} holds the control character U+{ord(char):04X}; an id is "
                "plain text, without control characters or bidirectional overrides",
                key=key,
            )


def _unique(section: str, ids: Iterable[str], add: Any) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            add((section, i, "id"), f"duplicate id {ident!r}")
        seen.add(ident)


def _check_crisis_numbers(case: Case, add: Any) -> None:
    """Every number of the crisis section within ±MAX_MAGNITUDE (their ranges are checked when
    the crisis is compiled)."""
    crisis = case.crisis
    assert crisis is not None

    def big(path: Path, value: Dist | None) -> None:
        if value is not None and (msg := _too_large(value)):
            add(path, msg)

    for name, value in crisis.parameters.items():
        big(("crisis", "parameters", name), value)
    for b, belief in enumerate(crisis.beliefs):
        big(("crisis", "beliefs", b, "prior"), belief.prior)
        for actor, seen in belief.perception.items():
            at: Path = ("crisis", "beliefs", b, "perception", actor)
            big((*at, "capability"), seen.capability)
            for issue, fields in seen.stances.items():
                for name, value in fields.items():
                    big((*at, "stances", issue, name), value)
    sections: list[tuple[Path, Any]] = [
        (("crisis", "events", e), event) for e, event in enumerate(crisis.events)
    ]
    sections += [(("calendar", c), entry) for c, entry in enumerate(case.calendar)]
    for at, holder in sections:
        for k, effect in enumerate(holder.effects):
            for name in ("by", "to", "fraction", "add", "scale", "set", "ratio"):
                big((*at, "effects", k, name), getattr(effect, name))


def _check_crisis_references(case: Case, add: Any) -> None:
    """The ids the crisis section refers to (dyads, ladder, belief holders and perceptions, the
    actors, issues and beliefs of effects) are defined; an unknown one names the known ones.
    Formulas are checked when the crisis is compiled."""
    crisis = case.crisis
    assert crisis is not None
    actors, issues = case.actor_ids, case.issue_ids
    events = [event.id for event in crisis.events]
    belief_ids = [belief.id for belief in crisis.beliefs]
    for i, pair in enumerate(crisis.dyads):
        for who in pair:
            if who not in actors:
                add(("crisis", "dyads", i), unknown("actor", who, actors))
    for i, ident in enumerate(crisis.ladder):
        if ident not in events:
            add(("crisis", "ladder", i), unknown("event", ident, events))
    for b, belief in enumerate(crisis.beliefs):
        at: Path = ("crisis", "beliefs", b)
        if belief.holder not in actors:
            add((*at, "holder"), unknown("actor", belief.holder, actors))
        for about, seen in belief.perception.items():
            if about not in actors:
                add((*at, "perception", about), unknown("actor", about, actors), key=True)
                continue
            for issue_id in seen.stances:
                if issue_id not in issues:
                    where = (*at, "perception", about, "stances", issue_id)
                    add(where, unknown("issue", issue_id, issues), key=True)
    sections: list[tuple[Path, Any]] = [
        (("crisis", "events", e), event) for e, event in enumerate(crisis.events)
    ]
    sections += [(("calendar", c), entry) for c, entry in enumerate(case.calendar)]
    for at, holder in sections:
        for k, effect in enumerate(holder.effects):
            where = (*at, "effects", k)
            for name, kind, known in (
                ("actor", "actor", actors),
                ("toward", "actor", actors),
                ("issue", "issue", issues),
                ("belief", "belief", belief_ids),
            ):
                value = getattr(effect, name)
                if value is not None and value not in known:
                    add((*where, name), unknown(kind, value, known))
