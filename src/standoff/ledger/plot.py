"""A question's probability over time, one line per case, with its resolution (matplotlib,
loaded here only)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import outputs
from .errors import LedgerError
from .record import Record, StoredResolution

BY = ("as-of", "recorded")
# per case, its points: (when, P(yes), 90% Monte Carlo interval or None)
Series = dict[str, list[tuple[datetime, float, list[float] | None]]]
# the newest resolution of each (case, kind, item), as `Ledger.resolutions` gives them
Resolved = Mapping[tuple[str, str, str], StoredResolution]


def _when(record: Record, by: str) -> datetime:
    """The time a record is drawn at: its as-of date (the record time when it has none), or the
    time it was recorded."""
    if by == "as-of" and record.as_of:
        with contextlib.suppress(ValueError):
            return datetime.combine(date.fromisoformat(record.as_of[:10]), datetime.min.time())
    return datetime.fromisoformat(record.recorded_at).replace(tzinfo=None)


def split_question(question: str) -> tuple[str | None, str]:
    """`CASE:QUESTION` or `QUESTION` as (case or None, question).

    >>> split_question("us-dprk-2018:second_summit")
    ('us-dprk-2018', 'second_summit')
    """
    case, sep, item = question.rpartition(":")
    return (case or None, item) if sep else (None, question)


def plot_question(
    name: str,
    records: list[Record],
    resolved: Resolved,
    question: str,
    out: Path,
    by: str = "as-of",
    inputs: Iterable[str] = (),
) -> int:
    """Draw `question` (`QUESTION` or `CASE:QUESTION`) of the records into the PNG `out`:
    P(yes) of each record with its 90% Monte Carlo interval where the forecast has one, a line
    per case, and a dashed line at the outcome (1 yes, 0 no) from the newest resolution. `out`
    may not be one of `inputs` (the ledger's files: `location.ledger_files`). Gives the
    number of points drawn; LedgerError when no record has the question or `out` cannot be
    written."""
    case, item = split_question(question)
    series: Series = {}
    for record in records:
        if case is not None and record.case_id != case:
            continue
        p = record.p("question", item)
        if p is None:
            continue
        entry = record.saved.questions.get(item)
        mc = None if entry is None else entry.mc_interval
        interval = None if mc is None else list(mc)
        series.setdefault(record.case_id, []).append((_when(record, by), p, interval))
    if not series:
        raise LedgerError(f"{name}: no recorded forecast has the question {question!r}")
    fig = draw_question(item, series, resolved, by)
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    try:
        outputs.write_bytes(out, buffer.getvalue(), inputs)
    except outputs.OutputError as e:
        raise LedgerError(str(e)) from None
    return sum(len(points) for points in series.values())


def draw_question(
    item: str,
    series: Series,
    resolved: Resolved,
    by: str = "as-of",
) -> Any:
    """The figure of `plot_question` (open: the caller closes it). Every label stays inside the
    figure: the x axis spans the forecasts and the resolution dates with a margin, and a
    resolution's label reads leftwards from its point in the right half of the plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.dates import date2num

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    notes: list[tuple[float, float, str, str]] = []  # (x, outcome, text, colour)
    spanned: list[float] = []
    for n, (case_id, points) in enumerate(sorted(series.items())):
        points.sort(key=lambda x: x[0])
        color = f"C{n % 10}"
        xs = [float(date2num(x)) for x, _, _ in points]
        ys = [y for _, y, _ in points]
        spanned += xs
        ax.plot(xs, ys, marker="o", color=color, label=case_id)
        for x, (_, _, interval) in zip(xs, points, strict=True):
            if interval is not None:
                ax.vlines(x, interval[0], interval[1], color=color, alpha=0.4)
        resolution = resolved.get((case_id, "question", item))
        if resolution is not None:
            answer, when = resolution.outcome, resolution.resolved_on or ""
            outcome = 1.0 if answer == "yes" else 0.0
            at = xs[-1]
            with contextlib.suppress(ValueError):
                resolved_day = date.fromisoformat(str(when)[:10])
                at = float(date2num(datetime.combine(resolved_day, datetime.min.time())))
                ax.plot([at], [outcome], marker="*", markersize=12, color=color)
            spanned.append(at)
            ax.axhline(outcome, color=color, linestyle="--", linewidth=1)
            notes.append((at, outcome, f"resolved {answer} {when}".strip(), color))
    low, high = min(spanned), max(spanned)
    margin = max(0.05 * (high - low), 1.0)  # at least a day each side
    ax.set_xlim(low - margin, high + margin)
    middle = (low + high) / 2
    for at, outcome, text, color in notes:
        right_half = at > middle
        ax.annotate(
            text,
            (at, outcome),
            textcoords="offset points",
            xytext=(-6 if right_half else 6, -12 if outcome else 4),
            ha="right" if right_half else "left",
            color=color,
            fontsize=8,
        )
    ax.xaxis_date()
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("P(yes)")
    ax.set_xlabel("as-of date" if by == "as-of" else "recorded (UTC)")
    ax.set_title(f"{item}: probability over time")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
