"""A forecast on the terminal: the header, what the observations changed, the scenarios and
questions, how each scenario comes about, where the bargain settles, and the outside view."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..console import Table, err, out, printable, safe

if TYPE_CHECKING:
    from rich.console import Console

    from ..outside.view import OutsideView
    from ..result import ForecastResult, Probability

FEW_INPUT_DRAWS = 50  # below this many effective input draws a conditioned forecast is flagged


def print_forecast(result: ForecastResult) -> None:
    """Every table of a forecast, in the order a reader takes them."""
    loaded = result.case
    header = safe(f"{loaded.title or loaded.id}")
    if loaded.as_of:
        header += f", as of {loaded.as_of:%d %B %Y}"
    out.print(f"[bold]{header}[/bold]  ({result.draws:,} draws, seed {result.seed})")
    if result.is_crisis and "pace" in result.options:
        from ..compile.pace import describe

        clock = describe(str(result.options["pace"]))
        odds = result.options["odds_factor"]
        out.print(safe(f"Clock: {clock}; every event's odds per round x{odds:g} "
                       "(docs/validation.md)"), highlight=False)  # fmt: skip
    if result.observed is not None:
        _print_observed(result)
    if result.is_crisis:
        _print_probabilities(
            "Scenarios",
            [(s.label or s.id, s.id, s.probability, s.observed) for s in result.scenarios],
        )
        _print_probabilities(
            "Questions",
            [(q.text or q.id, q.id, q.probability, q.observed) for q in result.questions],
        )
        _print_paths(result)
    _print_settlement(result)
    if result.outside_view is not None:  # the case declares a reference class
        print_outside_view(result.outside_view, out)


def _print_observed(result: ForecastResult) -> None:
    seen = result.observed
    assert seen is not None
    out.print(
        printable(
            f"Conditioned on {Path(seen.file).name}: what was seen to {seen.as_of:%d %B %Y} "
            f"({seen.rounds} round{'s' if seen.rounds != 1 else ''}). The {result.draws:,} "
            "histories weigh as "
            f"{seen.effective_draws:,.0f} effective ones ({seen.effective_inputs:,.0f} effective "
            "input draws)."
        ),
        markup=False,
        highlight=False,
    )
    if seen.effective_inputs < FEW_INPUT_DRAWS:
        err.print(
            f"warning: the conditioned forecast rests on {seen.effective_inputs:.0f} effective "
            "draws of the uncertain inputs; its spreads across input draws are rough; more "
            "--draws steady them",
            markup=False,
            highlight=False,
        )
    moved = [s for s in seen.inputs if abs(s.shift) >= 0.1][:5]
    if not moved:
        return
    table = Table(title="Inputs the observations moved most", title_justify="left")
    table.add_column("input")
    table.add_column("before (5–50–95%)", justify="right")
    table.add_column("after", justify="right")
    table.add_column("shift (sd)", justify="right")
    for s in moved:
        table.add_row(
            safe(s.label),
            " – ".join(f"{v:.3g}" for v in s.prior),
            " – ".join(f"{v:.3g}" for v in s.posterior),
            f"{s.shift:+.2f}",
        )
    out.print(table)


def _print_probabilities(
    title: str, items: list[tuple[str, str, Probability, bool | None]]
) -> None:
    """Each item's probability, word and spread; one the observations decided (its fourth field
    True or False) reads "observed: yes" or "observed: no" instead: it is not a forecast."""
    table = Table(title=title, title_justify="left")
    table.add_column(title.rstrip("s").lower(), ratio=1)
    table.add_column("probability", justify="right", no_wrap=True)
    table.add_column("in words", no_wrap=True)
    table.add_column("across input draws (5–95%)", ratio=1)
    for label, ident, p, observed in items:
        name = f"{safe(label)} [dim]({safe(ident)})[/dim]"
        if observed is not None:
            table.add_row(name, "—", f"observed: {'yes' if observed else 'no'}", "—")
            continue
        spread = f"{p.low:.0%} – {p.high:.0%}"
        if p.spread is not None and p.spread.two_peaked:
            spread += f"; split: {p.spread.describe()}"
        table.add_row(name, f"{p.p:.0%}", p.words, spread)
    out.print(table)


def _print_paths(result: ForecastResult) -> None:
    """Each scenario's most common order of first events, and how each side saw the main dyad."""
    table = Table(title="How each scenario comes about", title_justify="left")
    table.add_column("scenario", no_wrap=True)
    table.add_column("most common path (share of the scenario)", ratio=1)
    table.add_column("how each side saw the dyad", ratio=1)
    for scenario in result.scenarios:
        top = scenario.paths[0] if scenario.paths else None
        path = f"{' → '.join(top.events)} ({top.share:.0%})" if top else "—"
        views = []
        for dyad in scenario.views[:1]:
            for side in dyad.sides:
                kind, share = max(side.shares.items(), key=lambda kv: kv[1])
                views.append(f"{side.actor}: {kind} {share:.0%}")
        table.add_row(safe(scenario.id), safe(path), safe("; ".join(views) or "—"))
    out.print(table)


def _print_settlement(result: ForecastResult) -> None:
    table = Table("issue", "scale", "median", "inputs 5–95%", "mean",
                  title=f"Where the bargain settles ({result.model})",
                  title_justify="left")  # fmt: skip
    for s in result.settlement:
        table.add_row(
            safe(s.label or s.id),
            f"{s.scale[0]:g}–{s.scale[1]:g}",
            f"{s.median:.1f}",
            f"{s.interval[0]:.1f} – {s.interval[1]:.1f}",
            f"{s.mean:.1f}",
        )
    out.print(table)


def print_outside_view(view: OutsideView, console: Console) -> None:
    """The terminal table: each declared comparison, the case beside its class."""
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
