"""The `standoff baserates` command (registered lazily in cli/lazy.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .. import outputs
from ..console import Table, fail, out, safe
from ..outside.filters import FilterError, ReferenceClass, build, either, parse_date
from ..outside.icb import DataError, read_crises
from ..outside.rates import Rate
from ..outside.view import SURVIVAL_MONTHS, BaseRates, ClassTooSmall, base_rates, label, rates_json


def baserates(
    nuclear: Annotated[
        bool, typer.Option("--nuclear", help="A crisis actor had nuclear weapons.")
    ] = False,
    not_nuclear: Annotated[
        bool, typer.Option("--not-nuclear", help="No crisis actor had nuclear weapons.")
    ] = False,
    protracted: Annotated[
        bool, typer.Option("--protracted", help="Part of a protracted conflict (ICB PROTRAC).")
    ] = False,
    not_protracted: Annotated[
        bool, typer.Option("--not-protracted", help="Not part of a protracted conflict.")
    ] = False,
    great_power: Annotated[
        bool,
        typer.Option("--great-power", help="A great power or superpower was a crisis actor."),
    ] = False,
    no_great_power: Annotated[
        bool,
        typer.Option("--no-great-power", help="No great power or superpower was a crisis actor."),
    ] = False,
    superpower: Annotated[
        bool, typer.Option("--superpower", help="A superpower was a crisis actor.")
    ] = False,
    no_superpower: Annotated[
        bool, typer.Option("--no-superpower", help="No superpower was a crisis actor.")
    ] = False,
    mediated: Annotated[bool, typer.Option("--mediated", help="A third party mediated.")] = False,
    not_mediated: Annotated[
        bool, typer.Option("--not-mediated", help="No third party mediated.")
    ] = False,
    gravity: Annotated[
        list[str] | None,
        typer.Option(
            help="Gravest threat (repeatable or comma-separated): economic, limited-military, "
            "political, territorial, influence, grave-damage, existence, other."
        ),
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option(
            help="Region (repeatable): e.g. east-asia, middle-east, central-america, or a group: "
            "asia, africa, europe, americas."
        ),
    ] = None,
    violence: Annotated[
        list[str] | None,
        typer.Option(help="Violence: none, minor-clashes, serious-clashes, full-scale-war."),
    ] = None,
    actor: Annotated[
        list[str] | None,
        typer.Option(help="A crisis actor's ICB code, e.g. PRK (repeatable: any of them)."),
    ] = None,
    triggered_after: Annotated[
        str | None, typer.Option(help="Triggered on or after DATE (or YEAR: its 1 January).")
    ] = None,
    triggered_before: Annotated[str | None, typer.Option(help="Triggered before DATE.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Draw the class as of DATE: crises triggered before it; those still open then "
            "are censored and their outcomes left out."
        ),
    ] = None,
    min_crises: Annotated[
        int, typer.Option(min=1, help="Refuse a class with fewer crises than this.")
    ] = 10,
    data: Annotated[
        Path | None,
        typer.Option(help="The ICB folder (default: $STANDOFF_ICB, else ../shared/data/icb)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the base rates as JSON here.")
    ] = None,
) -> None:
    """Base rates of a reference class of international crises (ICB data, 1918-2017): how they
    ended, how violent they became, how long they lasted, how often mediation came."""
    reference = _reference(
        (
            ("nuclear", "--nuclear", nuclear, "--not-nuclear", not_nuclear),
            ("protracted", "--protracted", protracted, "--not-protracted", not_protracted),
            ("great_power", "--great-power", great_power, "--no-great-power", no_great_power),
            ("superpower", "--superpower", superpower, "--no-superpower", no_superpower),
            ("mediated", "--mediated", mediated, "--not-mediated", not_mediated),
        ),
        {
            "gravity": gravity, "region": region, "violence": violence, "actors": actor,
            "triggered_after": triggered_after, "triggered_before": triggered_before,
        },
        min_crises,
        as_of,
    )  # fmt: skip
    print_rates(_class_rates(reference, data, json_out), out)


def _reference(
    pairs: tuple[tuple[str, str, bool, str, bool], ...],
    given: dict[str, Any],
    min_crises: int,
    as_of: str | None,
) -> ReferenceClass:
    """The reference class the options describe: each pair of flags (name, flag, value, its
    opposite, value: one, the other or neither, never both), the other filters as given, the
    smallest class allowed and the as-of date."""
    try:  # each pair of flags: one, the other or neither, never both
        flags = {
            name: either(yes_flag, yes, no_flag, no) for name, yes_flag, yes, no_flag, no in pairs
        }
    except FilterError as e:
        raise fail(str(e)) from None
    filters: dict[str, Any] = {}
    for name, value in (*flags.items(), *given.items()):
        if value is not None and value != []:
            filters[name] = _split(value) if isinstance(value, list) else value
    filters["min_crises"] = min_crises
    try:
        cutoff = parse_date("--as-of", as_of) if as_of else None
        return build(filters, as_of=cutoff)
    except FilterError as e:
        raise fail(str(e)) from None


def _class_rates(reference: ReferenceClass, data: Path | None, json_out: Path | None) -> BaseRates:
    """The base rates of the class in the ICB data (at `data`, else the default), written as JSON
    to `json_out` where given."""
    from ..outside.icb import files

    inputs = files(data)  # what the command reads: the ICB tables
    if json_out is not None:
        try:
            outputs.check(json_out, inputs)
        except outputs.OutputError as e:
            raise fail(str(e)) from None
    try:
        crises = read_crises(data)
    except DataError as e:
        raise fail(str(e)) from None
    unknown = [a for a in reference.actors if a not in {x.code for c in crises for x in c.actors}]
    if unknown:
        codes = sorted({x.code for c in crises for x in c.actors})
        raise fail(f"unknown actor {', '.join(unknown)}; ICB actor codes: {', '.join(codes)}")
    try:
        rates = base_rates(crises, reference)
    except ClassTooSmall as e:
        raise fail(str(e)) from None
    if json_out is not None:
        try:
            outputs.write_text(json_out, json.dumps(rates_json(rates), indent=2) + "\n", inputs)
        except outputs.OutputError as e:
            raise fail(str(e)) from None
    return rates


def _split(values: list[str]) -> list[str]:
    return [v.strip() for x in values for v in x.split(",") if v.strip()]


def _row(table: Table, label: str, rate: Rate) -> None:
    if rate.n == 0:
        table.add_row(safe(label), "—", "0", "—")
        return
    table.add_row(
        safe(label), f"{rate.count} of {rate.n}", f"{rate.p:.0%}",
        f"{rate.low:.0%} – {rate.high:.0%}",
    )  # fmt: skip


def _table(title: str, unit: str = "crises") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("", ratio=1)
    table.add_column(unit, justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("90% interval (Jeffreys)", no_wrap=True)
    return table


def print_rates(rates: BaseRates, console: Console) -> None:
    """The base rates as terminal tables."""
    ref = rates.reference
    open_now = rates.n - len(rates.closed)
    console.print(
        f"[bold]Reference class[/bold]: {safe(ref.describe())}: {rates.n} crises"
        + (
            f" ({open_now} still open at the cutoff: censored, outcomes left out)"
            if open_now
            else ""
        )
    )
    console.print("[dim]" + safe("; ".join(m.name for m in rates.members)) + "[/dim]")
    for title, shares, unit in (
        ("How they ended (form of outcome)", rates.form, "crises"),
        ("How violent they became", rates.violence, "crises"),
        ("Tension afterwards (escalation: another crisis within five years)", rates.tension,
         "crises"),
        ("Content of the outcome, per crisis actor", rates.content, "crisis actors"),
    ):  # fmt: skip
        table = _table(title, unit)
        for name, rate in shares.items():
            _row(table, label(name), rate)
        console.print(table)
    for code, shares in rates.content_by_actor.items():
        table = _table(f"Content of the outcome for {code}", "crises")
        for name, rate in shares.items():
            _row(table, name, rate)
        console.print(table)
    med = rates.mediation
    table = _table("Mediation and its result")
    _row(table, "mediated", med.mediated)
    _row(table, "formal or semi-formal agreement, if mediated", med.agreement_mediated)
    _row(table, "formal or semi-formal agreement, if not mediated", med.agreement_unmediated)
    _row(table, "tension reduced afterwards, if mediated", med.reduction_mediated)
    _row(table, "tension reduced afterwards, if not mediated", med.reduction_unmediated)
    console.print(table)
    table = Table(title="How long they lasted (Kaplan–Meier)", title_justify="left")
    table.add_column("", ratio=1)
    table.add_column("crises", justify="right", no_wrap=True)
    table.add_column("still open", justify="right", no_wrap=True)
    table.add_column("90% interval (Greenwood, log-log)", no_wrap=True)
    for months in SURVIVAL_MONTHS:
        rate = rates.still_open(months)
        table.add_row(
            f"after {months} month{'s' if months > 1 else ''}", f"{rate.count} of {rate.n}",
            f"{rate.p:.0%}", f"{rate.low:.0%} – {rate.high:.0%}",
        )  # fmt: skip
    console.print(table)
    median = rates.survival.median()
    hazard = rates.hazard
    console.print(
        f"median duration {median:.1f} months; " if median is not None else "median duration: —; ",
        f"monthly chance of ending {hazard.rate.p:.1%} ({hazard.rate.low:.1%}–"
        f"{hazard.rate.high:.1%}): {hazard.ended} ended in {hazard.months} crisis-months, "
        f"posterior {hazard.distribution()}; as a case parameter "
        f"`{{base_rate: monthly_end_hazard}}` = {hazard.as_parameter()}",
        sep="",
        highlight=False,
    )
