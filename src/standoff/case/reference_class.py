"""A case's reference class: the `reference_class:` block, checked at load, its base rates, and
the crisis parameters written from one (`{base_rate: NAME}`). The outside view beside a forecast
is `pipeline/outside.py`.

    reference_class:
      nuclear: true                 # the filters of `standoff baserates` (see filters.py)
      protracted: true
      region: east-asia
      compare:                      # scenario or question id -> the ICB outcome it corresponds to
        armed_clash: {violence: [serious clashes, full-scale war]}
        talks_continue: {still_open_after: 12}

The as-of rule is enforced here, not left to the YAML: the class is always drawn as of the case's
`as_of` (a case with a reference class must have one), so no crisis triggered on or after that
date enters it, whatever `triggered_before` says. The mapping from the case's scenarios and
questions to ICB outcomes is the case's own (`compare:`); nothing is guessed.

A large gap: the case's probability lies outside the 90% interval of the class's rate. A question
the observations of a conditioned forecast decided is shown as observed (its answer) and never
flagged: it is no longer a forecast to set beside its class (docs/observations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import CaseError, Problem
from ..outside.filters import FilterError, ReferenceClass, build
from ..outside.view import BaseRates, CompareError, Target, parse_target

if TYPE_CHECKING:
    from .schema import Case
    from .source import SourceMap

COMPARE = "compare"
BLOCK = "reference_class"


def _line(lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...], key: bool = False) -> int:
    from .yamlread import line_of

    if key and (found := lines.get((*path, "<key>"))):
        return found
    return line_of(dict(lines), path)


def parse(
    block: Any, case: Case, file: str, lines: Mapping[tuple[Any, ...], int]
) -> tuple[ReferenceClass | None, dict[str, Target], list[Problem]]:
    """The reference class and comparisons of a case's block, and every problem found (each at
    its line, unknown names listing the known ones)."""
    problems: list[Problem] = []

    def add(path: tuple[Any, ...], message: str, key: bool = False) -> None:
        dotted = ".".join(str(p) for p in path)
        problems.append(Problem(file, _line(lines, path, key), dotted, message))

    if not isinstance(block, Mapping):
        add((BLOCK,), "must be a mapping of filters (e.g. nuclear: true) and a compare: mapping")
        return None, {}, problems
    if case.as_of is None:
        add(
            (BLOCK,),
            "a reference class needs the case's as_of date: the class may only hold crises "
            "triggered before it",
            key=True,
        )
    filters = {k: v for k, v in block.items() if k != COMPARE}
    reference: ReferenceClass | None = None
    for raw_key, value in filters.items():  # each filter alone, so every bad one is reported
        try:
            build({raw_key: value})
        except FilterError as e:
            add((BLOCK, raw_key), str(e), key=e.key is None)
    if not problems:
        reference = build(filters, as_of=case.as_of)
    targets: dict[str, Target] = {}
    compare = block.get(COMPARE, {}) or {}
    if not isinstance(compare, Mapping):
        add((BLOCK, COMPARE), "must map scenario or question ids to ICB outcomes")
        return reference, targets, problems
    known = {s.id: "scenario" for s in case.scenarios}
    known.update({q.id: "question" for q in case.questions})
    for ident, entry in compare.items():
        if ident not in known:
            from ..suggest import unknown

            add((BLOCK, COMPARE, ident), unknown("scenario or question", ident, known), key=True)
            continue
        try:
            targets[str(ident)] = parse_target(entry)
        except CompareError as e:
            add((BLOCK, COMPARE, ident), str(e))
    return reference, targets, problems


def check(case: Case, file: str, lines: Mapping[tuple[Any, ...], int]) -> list[Problem]:
    """The problems of a case's `reference_class:` block (none when it has no such block)."""
    block = getattr(case, BLOCK, None)
    if block is None:
        return []
    return parse(block, case, file, lines)[2]


def _at_block(source: SourceMap, message: str) -> Problem:
    """A problem of the whole class, at the `reference_class:` key's line."""
    return Problem(source.file, _line(source.lines, (BLOCK,), key=True), BLOCK, message)


def class_rates(case: Case, source: SourceMap) -> tuple[BaseRates, dict[str, Target]] | None:
    """The base rates of a case's reference class and its declared comparisons (None without a
    class): all that the outside view needs but the forecast's probabilities, so it can be
    computed while the forecast runs. Raises CaseError at the block's line when the data are
    missing, an actor code is unknown or the class is too small."""
    from ..outside.icb import DataError, read_crises
    from ..outside.view import ClassTooSmall, base_rates

    block = getattr(case, BLOCK, None)
    if block is None:
        return None
    reference, targets, problems = parse(block, case, source.file, source.lines)
    if problems or reference is None:
        raise CaseError(problems)
    if reference.as_of is None or reference.cutoff() is None:  # parse reports it; never skip it
        raise CaseError([_at_block(source, "a reference class needs the case's as_of")])
    try:
        crises = read_crises()
    except DataError as e:
        raise CaseError([_at_block(source, str(e))]) from None
    codes = {a.code for c in crises for a in c.actors}
    unknown = [a for a in reference.actors if a not in codes]
    if unknown:
        known = ", ".join(sorted(codes))
        message = f"unknown ICB actor code {', '.join(unknown)}; known: {known}"
        raise CaseError([source.problem((BLOCK, "actors"), message)])
    try:
        return base_rates(crises, reference), targets
    except ClassTooSmall as e:
        raise CaseError([_at_block(source, str(e))]) from None


# --- a parameter written from a base rate ---------------------------------------------------------

#: The base rates a crisis parameter may be written from: name -> what it is.
BASE_RATES = {
    "monthly_end_hazard": "the chance a crisis of the class ends in a given month: the 90% "
    "interval of the Jeffreys posterior Beta(ended + 1/2, crisis-months - ended + 1/2) of its "
    "constant monthly hazard, written `A to B`",
}
BASE_RATE_KEY = "base_rate"


def _has_base_rate(data: Mapping[str, Any]) -> bool:
    crisis = data.get("crisis")
    params = crisis.get("parameters") if isinstance(crisis, Mapping) else None
    return isinstance(params, Mapping) and any(
        isinstance(v, Mapping) and BASE_RATE_KEY in v for v in params.values()
    )


def resolve_base_rates(
    data: dict[str, Any], lines: Mapping[tuple[Any, ...], int], file: str
) -> None:
    """Replace each crisis parameter written `{base_rate: NAME}` by the distribution the case's
    reference class gives it (e.g. `0.1587 to 0.2139` for `monthly_end_hazard`), in place, before
    the case is validated. Raises CaseError at the parameter's line: an unknown name (listing the
    known ones), no reference class or as_of, a class with problems, too few crises, or no data.
    """
    import datetime as dt

    from ..outside.filters import parse_date
    from ..outside.icb import DataError, read_crises
    from ..outside.view import ClassTooSmall, base_rates

    if not _has_base_rate(data):
        return
    params = data["crisis"]["parameters"]
    problems: list[Problem] = []

    def add(path: tuple[Any, ...], message: str) -> None:
        problems.append(Problem(file, _line(lines, path), ".".join(map(str, path)), message))

    wanted: dict[str, str] = {}
    for name, value in params.items():
        if not (isinstance(value, Mapping) and BASE_RATE_KEY in value):
            continue
        path = ("crisis", "parameters", name)
        extra = sorted(set(value) - {BASE_RATE_KEY, "label", "note"})
        rate = value[BASE_RATE_KEY]
        if extra:
            add((*path, extra[0]), f"unknown key {extra[0]!r}; a base rate is {{base_rate: NAME}}, "
                "with an optional label and note")  # fmt: skip
        elif rate not in BASE_RATES:
            add(
                (*path, BASE_RATE_KEY),
                f"unknown base rate {rate!r}; known: {', '.join(BASE_RATES)}",
            )
        elif data["crisis"].get("step", "month") != "month":
            add(path, f"{rate} is a monthly rate; the crisis step must be month")
        else:
            wanted[name] = str(rate)
    block = data.get(BLOCK)
    as_of = data.get("as_of")
    if wanted and not isinstance(block, Mapping):
        first = next(iter(wanted))
        add(("crisis", "parameters", first), "a parameter from a base rate needs the case's "
            "reference_class: (the crises it is drawn from)")  # fmt: skip
    if problems:
        raise CaseError(problems)
    if not wanted or not isinstance(block, Mapping):
        return
    try:
        when = as_of if isinstance(as_of, dt.date) else parse_date("as_of", as_of)
        reference = build({k: v for k, v in block.items() if k != COMPARE}, as_of=when)
        rates = base_rates(read_crises(), reference)
    except (FilterError, DataError, ClassTooSmall) as e:
        # the reference class's own problems are reported at its lines by `check`; here the
        # parameter cannot be written, so say so at the parameter
        first = next(iter(wanted))
        raise CaseError(
            [Problem(file, _line(lines, ("crisis", "parameters", first)),
                     f"crisis.parameters.{first}", f"cannot draw its base rate: {e}")]
        ) from None  # fmt: skip
    for name in wanted:
        words = {k: v for k, v in params[name].items() if k != BASE_RATE_KEY}  # label, note
        rate = rates.hazard.as_parameter()
        params[name] = {"value": rate, **words} if words else rate
