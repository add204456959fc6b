"""Checks that need the whole case: unique ids, known references, numbers inside their ranges."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import Problem
from .numbers import Dist, Quantity
from .schema import CAPABILITY, FORMAT_VERSION, RISK, SALIENCE, Case
from .yamlread import Path, dotted, line_of


def check_case(case: Case, file: str, lines: dict[Path, int]) -> list[Problem]:
    problems: list[Problem] = []

    def add(path: Path, message: str, key: bool = False) -> None:
        line = lines.get((*path, "<key>")) if key else None
        problems.append(Problem(file, line or line_of(lines, path), dotted(path), message))

    def number(path: Path, value: Dist | None, quantity: Quantity) -> None:
        if value is not None and (msg := value.check(quantity)):
            add(path, msg)

    if case.standoff != FORMAT_VERSION:
        add(
            ("standoff",),
            f"unsupported format version {case.standoff}; this standoff reads {FORMAT_VERSION}",
        )

    for section, items in (
        ("issues", case.issues),
        ("actors", case.actors),
        ("scenarios", case.scenarios),
        ("questions", case.questions),
        ("calendar", case.calendar),
    ):
        _unique(section, [item.id for item in items], add)

    issues = {issue.id: issue for issue in case.issues}
    bad_range: set[str] = set()
    for i, issue in enumerate(case.issues):
        low, high = issue.range
        if not low < high:
            bad_range.add(issue.id)
            add(("issues", i, "range"), f"the low end {low:g} must be below the high end {high:g}")

    actor_ids = set(case.actor_ids)
    for a, actor in enumerate(case.actors):
        base: Path = ("actors", a)
        number((*base, "capability"), actor.capability, CAPABILITY)
        number((*base, "risk"), actor.risk, RISK)
        for issue_id, stance in actor.stances.items():
            if issue_id not in issues:
                add((*base, "stances", issue_id), f"unknown issue {issue_id!r}", key=True)
                continue
            if issue_id not in bad_range:
                number(
                    (*base, "stances", issue_id, "position"),
                    stance.position,
                    issues[issue_id].quantity(),
                )
            number((*base, "stances", issue_id, "salience"), stance.salience, SALIENCE)
        for issue_id in issues:
            if issue_id not in actor.stances:
                add(
                    (*base, "stances"),
                    f"no stance on issue {issue_id!r} (give salience 0 if it does not care)",
                    key=True,
                )

    for holder, beliefs in case.perceptions.items():
        if holder not in actor_ids:
            add(("perceptions", holder), f"unknown actor {holder!r}", key=True)
            continue
        for about, belief in beliefs.items():
            base = ("perceptions", holder, about)
            if about not in actor_ids:
                add(base, f"unknown actor {about!r}", key=True)
                continue
            if about == holder:
                add(
                    base,
                    "an actor's beliefs about itself are its true attributes; remove this entry",
                    key=True,
                )
                continue
            number((*base, "capability"), belief.capability, CAPABILITY)
            for issue_id, seen in belief.stances.items():
                if issue_id not in issues:
                    add((*base, "stances", issue_id), f"unknown issue {issue_id!r}", key=True)
                    continue
                if issue_id not in bad_range:
                    number(
                        (*base, "stances", issue_id, "position"),
                        seen.position,
                        issues[issue_id].quantity(),
                    )
                number((*base, "stances", issue_id, "salience"), seen.salience, SALIENCE)

    if case.as_of and case.horizon and not case.horizon > case.as_of:
        add(("horizon",), f"the horizon {case.horizon} must come after as_of {case.as_of}")
    return problems


def _unique(section: str, ids: Iterable[str], add: Any) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            add((section, i, "id"), f"duplicate id {ident!r}")
        seen.add(ident)
