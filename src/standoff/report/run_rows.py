"""The report's rows of what the run traced: each dyad's bargaining round by round, and what
the observations of a conditioned forecast changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..case.schema import reader_name
from ..result import DyadTrace, ForecastResult
from .rows import (
    BeliefChange,
    ChangedItem,
    ChangedRows,
    DyadRounds,
    MovedInput,
    RoundsRow,
    SeenEvent,
)
from .wording import pct


def bargaining_rows(
    traces: Iterable[DyadTrace], names: Mapping[str, str]
) -> tuple[DyadRounds, ...]:
    """Per dyad, its name and a table of rows over the rounds: the mean distance, the first
    side's chance of prevailing, each side's expected utility of challenging the other, and each
    side's most common dominant view (with its share); "–" in a round no draw reaches."""
    rows: list[DyadRounds] = []
    for trace in traces:
        a, b = (names.get(x, x) for x in trace.actors)

        def most(views: Mapping[str, tuple[float | None, ...]], t: int) -> str:
            shares = [(share, kind) for kind, v in views.items() if (share := v[t]) is not None]
            if not shares:
                return "–"
            share, kind = max(shares, key=lambda sk: sk[0])  # ties: the first class
            return f"{kind} {pct(share)}"

        def fmt(values: tuple[float | None, ...], form: str) -> tuple[str, ...]:
            # rounded first, so that a value just below 0 reads 0.00, not -0.00
            return tuple(
                "–" if v is None else pct(v) if form == "%" else format(round(v, 2) + 0.0, form)
                for v in values
            )

        n = len(trace.gap)
        rows.append(
            DyadRounds(
                name=f"{a} – {b}",
                first=a,
                gap=trace.gap,
                prevails=trace.prevails,
                rows=(
                    RoundsRow("distance on the issues (gap, 0–1)", fmt(trace.gap, ".2f")),
                    RoundsRow(f"{a} prevails, as {a} sees it", fmt(trace.prevails, "%")),
                    RoundsRow(f"{a}'s expected utility of challenging {b}", fmt(trace.eu, "+.2f")),
                    RoundsRow(f"{b}'s expected utility of challenging {a}",
                              fmt(trace.eu_back, "+.2f")),
                    *(
                        RoundsRow(f"how {names.get(side.actor, side.actor)} mostly sees it",
                                  tuple(most(side.views, t) for t in range(n)))
                        for side in trace.sides
                    ),
                ),
            )
        )  # fmt: skip
    return tuple(rows)


def observation_changes(
    result: ForecastResult,
    before: ForecastResult | None,
    names: Mapping[str, Mapping[str, str]],
) -> ChangedRows | None:
    """What the observations changed: each scenario and question before (`before`, the same
    forecast unconditioned) and after, and the inputs they moved most; events and beliefs by
    their labels."""
    seen = result.observed
    if seen is None:
        return None
    items: list[ChangedItem] = []
    if before is not None:
        for kind, now, then in (
            ("scenario", result.scenarios, before.scenarios),
            ("question", result.questions, before.questions),
        ):
            old = {x.id: x for x in then}
            for x in now:
                label = reader_name(str(getattr(x, "label", "") or getattr(x, "text", "")), x.id)
                p0, p1 = old[x.id].probability.p, x.probability.p
                items.append(ChangedItem(kind=kind, id=x.id, label=label, before=p0, after=p1,
                                         delta=p1 - p0))  # fmt: skip
    moved = [s for s in seen.inputs if abs(s.shift) >= 0.05][:8]
    inputs = tuple(
        MovedInput(
            label=s.label, key=s.key, prior=s.prior, posterior=s.posterior, shift=s.shift,
            sentence=(
                f"{s.label}: {'up' if s.shift > 0 else 'down'} by {abs(s.shift):.1f} times its "
                f"standard deviation before the observations (median {s.prior[1]:.3g} → "
                f"{s.posterior[1]:.3g})"
            ),
        )
        for s in moved
    )  # fmt: skip
    beliefs: list[BeliefChange] = []
    if before is not None and result.timeline is not None and before.timeline is not None:
        old_beliefs = {line.id: line for line in before.timeline.beliefs}
        t = seen.rounds
        for line in result.timeline.beliefs:
            beliefs.append(
                BeliefChange(id=line.id, label=names["belief"].get(line.id, line.id),
                             before=old_beliefs[line.id].mean_by_round[t],
                             after=line.mean_by_round[t])
            )  # fmt: skip
    # by label: two events of one label read as one, the later's dates shown
    events = {
        names["event"].get(e, e): tuple(d.isoformat() for d in days)
        for e, days in seen.events.items()
    }
    return ChangedRows(
        file=seen.file.rsplit("/", 1)[-1],
        as_of=seen.as_of.isoformat(),
        rounds=seen.rounds,
        hash=seen.hash,
        events=tuple(SeenEvent(label, days) for label, days in events.items()),
        effective=seen.effective_draws,
        effective_inputs=seen.effective_inputs,
        items=tuple(items),
        inputs=inputs,
        beliefs=tuple(beliefs),
    )
