"""Everything the report says, computed from a run: no sentence states a number the run did not
produce. The templates only lay it out.

`build_report` gathers the rows (`scenarios.py`: scenarios, questions, the watch list;
`drivers.py`: the drivers; `case_rows.py`: the actors, beliefs, calendar, parameters, events and
settlement; `run_rows.py`: each dyad's bargaining and what the observations changed), typed in
`rows.py` and worded by `wording.py`, and draws the figures (`figures.py`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import TYPE_CHECKING

from .. import __version__
from ..bargaining import ENGINES
from ..case.schema import Case, reader_name
from ..result import ForecastResult
from ..simulate.sample import central_inputs
from ..words import icd203
from .case_rows import (
    actor_rows,
    calendar_marks,
    calendar_rows,
    event_rows,
    parameter_rows,
    perception_rows,
    settlement_rows,
)
from .drivers import driver_rows
from .rows import (
    ActorRow,
    CalendarRow,
    ChangedRows,
    DriverRow,
    DyadRounds,
    EventRow,
    Footer,
    MethodNote,
    OutsideRows,
    PerceptionRow,
    QuestionRow,
    ScenarioRow,
    SensitivityNote,
    SettlementRow,
    WatchRow,
)
from .run_rows import bargaining_rows, observation_changes
from .scenarios import (
    defining_events,
    names_of,
    nutshell,
    period_of,
    question_rows,
    scenario_rows,
    watch_rows,
)
from .wording import INPUTS_VARY, headline, icd203_table, pct

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..bargaining.base import BargainingInputs
    from ..run.executor import ProgressFn

#: The stage the report's progress is reported under (`standoff.run.executor.ProgressFn`).
STAGE = "writing the report"
#: The bargaining engines by a reader's name.
ENGINE_NAMES = {
    "eum": "the expected utility model",
    "compromise": "the compromise model",
    "smp": "the spatial model of politics",
}
#: The most rounds a table shows side by side; a longer calendar takes several tables.
ROUNDS_PER_TABLE = 12


@dataclass
class Report:
    case: Case
    title: str
    headline: str
    nutshell: list[str]
    scenarios: tuple[ScenarioRow, ...]
    questions: tuple[QuestionRow, ...]
    events: tuple[EventRow, ...]
    dates: list[str]
    actors: tuple[ActorRow, ...]
    perceptions: tuple[PerceptionRow, ...]
    settlement: tuple[SettlementRow, ...]
    drivers: tuple[DriverRow, ...]
    driver_sentences: list[str]
    watch: tuple[WatchRow, ...]
    method: MethodNote
    footer: Footer
    figures: dict[str, str] = field(default_factory=dict)
    changed: ChangedRows | None = None  # conditioned on observations: what they changed
    outside: OutsideRows | None = None  # the reference class's base rates beside the case
    bargaining: tuple[DyadRounds, ...] = ()  # per dyad, round by round
    bargaining_caption: str = ""
    calendar: tuple[CalendarRow, ...] = ()  # the case's scheduled events
    # the rounds (indices into `dates`) of each table over the rounds, `ROUNDS_PER_TABLE` at most
    blocks: list[list[int]] = field(default_factory=list)
    # each figure's title (its SVG <title> and Markdown alt text) and caption, by figure name
    titles: dict[str, str] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)


class _Steps:
    """The report's progress: each call is one step done of `steps` (stage `STAGE`)."""

    def __init__(self, progress: ProgressFn | None, steps: int) -> None:
        self.progress, self.steps, self.done = progress, steps, 0

    def __call__(self) -> None:
        if self.progress is not None:
            self.progress(STAGE, min(self.done, self.steps), self.steps)
        self.done += 1


def build_report(
    result: ForecastResult,
    reproduce: str | None = None,
    before: ForecastResult | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Everything the report says, from a crisis forecast (with its drivers, if it ran them).
    `reproduce`: the command that reproduces the run, as the user would type it. `before`: for
    a forecast conditioned on observations, the same forecast without them ("What changed").
    `progress` hears of each figure drawn (stage `STAGE`)."""
    if result.timeline is None:
        raise ValueError("the report needs a crisis case")
    # loading the figures' library, the text, each figure, and the end
    step = _Steps(
        progress,
        3 + 5 + bool(result.timeline.dyads) + bool(result.drivers) + 2 * bool(result.observed),
    )
    step()
    from . import figures  # matplotlib: a second or more to load, under the progress bar

    names = names_of(result.case)
    central = central_inputs(result.case)
    report, believed_positions = _text(result, names, central, reproduce)
    step()
    _case_figures(report, result, names, central, believed_positions, figures, step)
    _bargaining_figure(report, result, names, figures, step)
    report.changed = observation_changes(result, before, names)
    if result.outside_view is not None:
        from .outside_rows import report_rows

        report.outside = report_rows(result.outside_view)
    _observation_figures(report, figures, step)
    _drivers_figure(report, figures, step)
    step.done = step.steps
    step()
    return report


def _text(
    result: ForecastResult,
    names: dict[str, dict[str, str]],
    central: BargainingInputs,
    reproduce: str | None,
) -> tuple[Report, list[tuple[int, int, int, float]]]:
    """The report's text and tables, without its figures; and the believed positions the
    actors' figure marks."""
    case = result.case
    assert result.timeline is not None
    rows = scenario_rows(result.scenarios, names, period_of(case))
    scenario_labels = {r.id: r.label for r in rows}
    events = event_rows(result, case)
    dates = [d.isoformat() for d in result.timeline.dates]
    perceptions, believed_positions = perception_rows(case, names)
    drivers: tuple[DriverRow, ...] = ()
    sentences: list[str] = []
    labels = {
        **scenario_labels,
        **{q.id: q.text or reader_name("", q.id) for q in result.questions},
    }
    if result.drivers is not None:
        drivers, sentences = driver_rows(result.drivers, labels)
    event_names = {e.id: e.label for e in events}
    watch = watch_rows(
        tuple(replace(i, label=event_names.get(i.event, i.label)) for i in result.indicators),
        scenario_labels,
        defining_events(result.scenarios),
        {e.id: e.note for e in events},
    )
    top = max(rows, key=lambda r: r.p)
    report = Report(
        case=case,
        title=case.title or reader_name("", case.id),
        headline=headline(top),
        nutshell=nutshell(rows, drivers),
        scenarios=rows,
        questions=question_rows(result),
        events=events,
        dates=dates,
        actors=actor_rows(case, names, central),
        perceptions=perceptions,
        settlement=settlement_rows(result, case),
        drivers=drivers,
        driver_sentences=sentences,
        watch=watch,
        method=_method(result, dates),
        footer=_footer(result, reproduce),
        calendar=calendar_rows(case),
        blocks=[
            list(range(t, min(t + ROUNDS_PER_TABLE, len(dates))))
            for t in range(0, len(dates), ROUNDS_PER_TABLE)
        ],
    )
    return report, believed_positions


def _method(result: ForecastResult, dates: list[str]) -> MethodNote:
    """The method section: the engine and its citation, the replicates, the rounds, the
    sensitivity analysis run (None without one) and the crisis parameters."""
    sensitivity = result.drivers
    return MethodNote(
        engine=ENGINE_NAMES.get(result.model, result.model),
        citation=ENGINES[result.model].citation,
        replicates=result.replicates,
        rounds=tuple(dates),
        sensitivity=None
        if sensitivity is None
        else SensitivityNote(
            trajectories=sensitivity.trajectories,
            replicates=sensitivity.replicates,
            evaluations=sensitivity.evaluations,
            inputs=len(sensitivity.inputs),
        ),
        parameters=parameter_rows(result.case),
    )


def _footer(result: ForecastResult, reproduce: str | None) -> Footer:
    """What reproduces the report: the case file's digest, the draws, the seed, the version and
    the command."""
    case = result.case
    digest = hashlib.sha256(result.case_bytes or case.model_dump_json().encode()).hexdigest()
    return Footer(
        sha256=digest,
        draws=result.draws,
        seed=result.seed,
        version=__version__,
        case=case.id,
        reproduce=reproduce
        or f"standoff forecast {case.id} --draws {result.draws} --seed {result.seed}",
        engine_options=dict(result.options),
    )


def _figure(
    report: Report, step: _Steps, name: str, title: str, caption: str, svg: Callable[[str], str]
) -> None:
    """Draw one figure (`svg` of its title) into the report, with its title and caption."""
    report.figures[name], report.titles[name], report.captions[name] = (
        svg(title),
        title,
        caption,
    )
    step()


def _case_figures(
    report: Report,
    result: ForecastResult,
    names: dict[str, dict[str, str]],
    central: BargainingInputs,
    believed_positions: list[tuple[int, int, int, float]],
    figures: ModuleType,
    step: _Steps,
) -> None:
    """The figures of the scenarios, the questions, the events' timeline, the actors and the
    settlement."""
    case = result.case
    assert result.timeline is not None
    rows, question_rows, event_rows = report.scenarios, report.questions, report.events
    dates = report.dates
    spread = (
        "Bars: the probability over all simulated histories; lines: its range (5th to 95th "
        f"percentile) {INPUTS_VARY}."
    )
    _figure(
        report, step, "scenarios", "How likely each scenario is", spread,
        lambda t: figures.probabilities([r.label for r in rows], [r.p for r in rows],
                                        [r.interval for r in rows], t,
                                        [r.observed for r in rows]),
    )  # fmt: skip
    _figure(
        report, step, "questions", "How likely each question is to resolve yes", spread,
        lambda t: figures.probabilities([q.text or q.id for q in question_rows],
                                        [q.p for q in question_rows],
                                        [q.interval for q in question_rows], t,
                                        [q.observed for q in question_rows]),
    )  # fmt: skip
    marks = calendar_marks(report.calendar, case.as_of, result.timeline.dates)
    _figure(
        report, step, "timeline", "Probability that each event has happened by each date",
        "Each line: the share of simulated histories in which the event has happened by the end "
        "of the round ending on that date."
        + (" Dotted lines: the dates of the calendar, numbered as in its table." if marks else ""),
        lambda t: figures.timeline(dates, {e.label: e.by_round for e in event_rows}, t,
                                   marks),
    )  # fmt: skip
    _figure(
        report, step, "actors", "Where the actors stand on each issue",
        "Each actor's position on each issue (central values); marker area: capability; darker "
        "fill: higher salience. Hollow diamonds and arrows: where another actor believes it "
        "stands.",
        lambda t: figures.actors_map(
            [(names["issue"][i.id], i.range[0], i.range[1], i.low_means, i.high_means)
             for i in case.issues],
            [names["actor"][a.id] for a in case.actors], central.position[0],
            central.capability[0], central.salience[0], believed_positions, t),
    )  # fmt: skip
    _figure(
        report, step, "settlement", "Where the bargain settles on each issue",
        "How often the bargain settles at each point of each issue's scale over the simulated "
        "histories (the ends of the scale say what they stand for); dashed line: the median.",
        lambda t: figures.distributions(
            [(names["issue"][i.id], i.range[0], i.range[1], i.low_means, i.high_means)
             for i in case.issues],
            [s.counts for s in result.settlement], [s.median for s in result.settlement], t),
    )  # fmt: skip


def _bargaining_figure(
    report: Report,
    result: ForecastResult,
    names: dict[str, dict[str, str]],
    figures: ModuleType,
    step: _Steps,
) -> None:
    """Each dyad's bargaining round by round, as rows and as a figure (none without dyads)."""
    assert result.timeline is not None
    dates = report.dates
    report.bargaining = bargaining_rows(result.timeline.dyads, names["actor"])
    if report.bargaining:
        weighed = " (weighted by the observations)" if result.observed is not None else ""
        report.bargaining_caption = (
            "For each dyad, the mean over the simulated histories whose crisis is still running "
            f"in each round{weighed}, as that round's bargaining left them, before its events: "
            "the distance between the two on the issues (gap: 0 to 1 of each issue's scale, "
            "weighted by the first side's saliences) and the first side's chance of prevailing "
            "against the other, as it sees it (prevails; the dotted line is an even chance)."
        )
        dyads = [(d.name, d.first, d.gap, d.prevails) for d in report.bargaining]
        _figure(
            report, step, "bargaining", "How the bargaining moved", report.bargaining_caption,
            lambda t: figures.bargaining(dates, dyads, t),
        )  # fmt: skip


def _observation_figures(report: Report, figures: ModuleType, step: _Steps) -> None:
    """What the observations changed: the probabilities before and after, and the inputs they
    moved most (none for a forecast without observations)."""
    if report.changed is not None:
        items, moved = report.changed.items, report.changed.inputs
        if items:
            _figure(
                report, step, "changed", "Before and after the observations",
                "Each probability before the observations (hollow circle) and after them (filled), "
                "joined by an arrow.",
                lambda t: figures.changes([i.label for i in items], [i.before for i in items],
                                          [i.after for i in items], t),
            )  # fmt: skip
        if moved:
            _figure(
                report, step, "moved", "The inputs the observations moved most",
                "Each input's range (5th to 95th percentile) and median before the observations "
                "(upper, hollow) and after them (lower, filled), on a scale from the range before "
                "(0) to its end (1), so that inputs in different units share one axis.",
                lambda t: figures.shifts([i.label for i in moved], [i.prior for i in moved],
                                         [i.posterior for i in moved], t),
            )  # fmt: skip


def _drivers_figure(report: Report, figures: ModuleType, step: _Steps) -> None:
    """The drivers' figure (none without a sensitivity analysis)."""
    drivers = report.drivers
    if drivers:
        _figure(
            report, step, "drivers", "What drives the forecast",
            "For each uncertain input, how many percentage points the chance of the scenario it "
            "moves most (named beside the bar) changes on average when the input moves across its "
            "range (5th to 95th percentile).",
            lambda t: figures.drivers([d.name for d in drivers], [d.mu_star for d in drivers],
                                      [d.target for d in drivers], t),
        )  # fmt: skip


__all__ = ["STAGE", "Report", "build_report", "icd203", "icd203_table", "pct"]
