"""The report's "Outside view" section: the case's reference class, its members, its main base
rates, and each comparison of the case with its class (pipeline/outside.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .rows import ComparisonRow, OutsideRows

if TYPE_CHECKING:
    from ..outside.view import OutsideView


def report_rows(view: OutsideView) -> OutsideRows:
    """What the report's "Outside view" section shows: the class, its members, its main base
    rates and each comparison, with large gaps flagged."""
    from ..outside.view import label

    rates = view.rates
    median = rates.survival.median()
    return OutsideRows(
        description=rates.reference.describe(),
        n=rates.n,
        ended=len(rates.closed),
        open=rates.n - len(rates.closed),
        members=tuple(m.name for m in rates.members),
        violence=tuple((label(k), r) for k, r in rates.violence.items()),
        form=tuple((label(k), r) for k, r in rates.form.items()),
        mediated=rates.mediation.mediated,
        median_months=median,
        hazard=rates.hazard.rate,
        gap_rule="the case's probability lies outside the 90% (Jeffreys) interval of the "
        "class's rate",
        comparisons=tuple(
            ComparisonRow(
                id=c.id,
                kind=c.kind,
                label=c.label,
                case_p=c.case_p,
                outcome=c.target.describe(),
                count=c.rate.count,
                n=c.rate.n,
                p=c.rate.p,
                low=c.rate.low,
                high=c.rate.high,
                gap=c.gap,
                observed=view.shown(c) if c.id in view.observed else None,
                sentence=c.sentence()
                if c.id not in view.observed
                else f"the observations settled {c.label}: {view.shown(c)}; "
                f"{c.rate.count} of {c.rate.n} similar crises: {c.target.describe()}",
            )
            for c in view.comparisons
        ),
    )
