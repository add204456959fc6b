"""A case's reference class: the `reference_class:` block, checked at load, and the outside view
computed beside a forecast.

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
from .filters import FilterError, ReferenceClass, build
from .view import BaseRates, CompareError, OutsideView, Target, parse_target

if TYPE_CHECKING:
    from rich.console import Console

    from ..case.schema import Case
    from ..case.source import SourceMap
    from ..result import ForecastResult

COMPARE = "compare"
BLOCK = "reference_class"


def _line(lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...], key: bool = False) -> int:
    from ..case.yamlread import line_of

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
    from .icb import DataError, read_crises
    from .view import ClassTooSmall, base_rates

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


def outside_view(
    case: Case,
    source: SourceMap,
    forecasts: Mapping[str, tuple[str, str, float]],
    rates: tuple[BaseRates, dict[str, Target]] | None = None,
) -> OutsideView | None:
    """The outside view of a case with a reference class (None without one). `forecasts` maps
    each scenario and question id to (kind, label, probability); `rates`: the class's
    `class_rates`, where already computed. CaseError as `class_rates`."""
    from .view import compare

    found = rates if rates is not None else class_rates(case, source)
    if found is None:
        return None
    base, targets = found
    return OutsideView(base, compare(base, targets, forecasts))


def outside_json(view: OutsideView) -> dict[str, Any]:
    from .view import rates_json

    data = rates_json(view.rates)
    data["large_gap_rule"] = "the case's probability lies outside the class rate's 90% interval"
    data["comparisons"] = [
        {**c.to_json(), "observed": "yes" if view.observed[c.id] else "no"}
        if c.id in view.observed
        else c.to_json()
        for c in view.comparisons
    ]
    return data


def attach(
    result: ForecastResult,
    source: SourceMap,
    rates: tuple[BaseRates, dict[str, Target]] | None = None,
) -> ForecastResult:
    """The forecast with its outside view (unchanged when the case declares no reference class),
    from the class's `class_rates` where given. Cheap: one pass over the ICB rows, read once per
    process (and scipy's special functions, imported at the first use)."""
    import dataclasses

    if getattr(result.case, BLOCK, None) is None:
        return result
    forecasts = {s.id: ("scenario", s.label or s.id, s.probability.p) for s in result.scenarios}
    forecasts.update(
        {q.id: ("question", q.text or q.id, q.probability.p) for q in result.questions}
    )
    view = outside_view(result.case, source, forecasts, rates)
    observed = {q.id: q.observed for q in result.questions if q.observed is not None}
    observed.update({s.id: s.observed for s in result.scenarios if s.observed is not None})
    if view is not None and observed:
        view = dataclasses.replace(
            view,
            comparisons=tuple(
                dataclasses.replace(c, gap=False) if c.id in observed else c
                for c in view.comparisons
            ),
            observed=observed,
        )
    return dataclasses.replace(result, outside_view=view)


def print_outside_view(view: OutsideView, console: Console) -> None:
    """The terminal table: each declared comparison, the case beside its class."""
    from ..console import Table, safe

    rates = view.rates
    table = Table(
        title=f"Outside view: {rates.n} similar crises in ICB ({safe(rates.reference.describe())})",
        title_justify="left",
    )
    table.add_column("scenario or question", ratio=1)
    table.add_column("the case", justify="right")
    table.add_column("the class (ICB outcome)", ratio=1)
    table.add_column("class 90% interval", justify="right")
    table.add_column("gap", max_width=14)
    for c in view.comparisons:
        table.add_row(
            f"{safe(c.label)} [dim]({safe(c.id)})[/dim]",
            view.shown(c),
            safe(f"{c.rate.count} of {c.rate.n}: {c.target.describe()} ({c.rate.p:.0%})"),
            f"{c.rate.low:.0%} – {c.rate.high:.0%}",
            "[bold]large: justify[/bold]" if c.gap else "",
        )
    console.print(table)
    if view.gaps:
        console.print(
            f"{len(view.gaps)} of {len(view.comparisons)} comparisons fall outside the class "
            "rate's 90% interval: say in the case why it differs from its class.",
            highlight=False,
        )


def report_rows(view: OutsideView) -> dict[str, Any]:
    """What the report's "Outside view" section shows: the class, its members, its main base
    rates and each comparison, with large gaps flagged."""
    from .view import label

    rates = view.rates
    median = rates.survival.median()
    return {
        "description": rates.reference.describe(),
        "n": rates.n,
        "ended": len(rates.closed),
        "open": rates.n - len(rates.closed),
        "members": [m.name for m in rates.members],
        "violence": [(label(k), r) for k, r in rates.violence.items()],
        "form": [(label(k), r) for k, r in rates.form.items()],
        "mediated": rates.mediation.mediated,
        "median_months": median,
        "hazard": rates.hazard.rate,
        "gap_rule": "the case's probability lies outside the 90% (Jeffreys) interval of the "
        "class's rate",
        "comparisons": [
            {
                "id": c.id,
                "kind": c.kind,
                "label": c.label,
                "case_p": c.case_p,
                "outcome": c.target.describe(),
                "count": c.rate.count,
                "n": c.rate.n,
                "p": c.rate.p,
                "low": c.rate.low,
                "high": c.rate.high,
                "gap": c.gap,
                "observed": view.shown(c) if c.id in view.observed else None,
                "sentence": c.sentence()
                if c.id not in view.observed
                else f"the observations settled {c.label}: {view.shown(c)}; "
                f"{c.rate.count} of {c.rate.n} similar crises: {c.target.describe()}",
            }
            for c in view.comparisons
        ],
    }


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

    from .filters import parse_date
    from .icb import DataError, read_crises
    from .view import ClassTooSmall, base_rates

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
