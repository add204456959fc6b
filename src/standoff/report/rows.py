"""The report's typed view model: one small frozen row per thing the report shows, with the
reader's names and the numbers the run produced. The builders (`scenarios.py`, `case_rows.py`,
`run_rows.py`, `drivers.py`, `outside_rows.py`) make them; the templates read their attributes.

Probabilities are floats in [0, 1] (the templates format them); intervals are (low, high); dates
are ISO strings; a value the case wrote as an uncertain number is its text as written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..outside.rates import Rate


# --- scenarios, questions and the watch list (scenarios.py) -------------------------------------


@dataclass(frozen=True)
class DominantView:
    """The interaction one side of a dyad saw most often in a scenario's histories."""

    actor: str
    kind: str  # conflict, compromise, capitulation, stalemate...
    share: float  # of the rounds (periods) it saw it


@dataclass(frozen=True)
class DyadViews:
    """How the two sides of a dyad saw their relation in a scenario's histories."""

    sides: tuple[DominantView, ...]
    views_differ: float  # share of the rounds in which the two saw different things


@dataclass(frozen=True)
class ScenarioRow:
    id: str
    label: str
    description: str
    p: float
    interval: tuple[float, float]  # 5th and 95th percentile as the uncertain inputs vary
    split: str | None  # where the probability splits into two groups, in words
    words: str  # the ICD 203 word, or "observed: yes" (or no)
    observed: bool | None  # decided by the observations (None: a forecast)
    paths: tuple[str, ...]  # the defining events' most common orders, with their shares
    interactions: tuple[DyadViews, ...]
    period: str  # the length of a round, plural: "months"


@dataclass(frozen=True)
class QuestionRow:
    id: str
    text: str
    criteria: str
    resolves: str
    p: float
    interval: tuple[float, float]
    split: str | None
    words: str
    observed: bool | None


@dataclass(frozen=True)
class WatchMove:
    """One scenario's chance now, and if the indicator is seen by its date or not."""

    scenario: str
    prior: float
    if_seen: float
    if_not: float


@dataclass(frozen=True)
class WatchRow:
    """An indicator to watch: an event by a date, and how seeing it or not moves each scenario."""

    event: str
    label: str
    note: str
    date: str
    round: int
    p_seen: float
    bits: float  # mutual information with the scenario
    moves: tuple[WatchMove, ...]  # one per scenario, in the scenarios' order
    sentence: str


# --- the case (case_rows.py) ---------------------------------------------------------------------


@dataclass(frozen=True)
class StanceRow:
    """An actor's stance on one issue, as the case writes it."""

    issue: str
    position: str
    salience: str


@dataclass(frozen=True)
class ActorRow:
    id: str
    name: str
    note: str
    capability: str  # as written
    capability_central: float
    stances: tuple[StanceRow, ...]  # one per issue, in the case's order


@dataclass(frozen=True)
class PerceptionRow:
    """One place where an actor's view of another differs from the truth."""

    holder: str
    about: str
    source: str  # a fixed perception, or the belief that holds it
    note: str
    truth: str
    believed: str
    attribute: str  # "capability", or "position on <issue>"...


@dataclass(frozen=True)
class CalendarRow:
    id: str
    date: str
    label: str
    description: str


@dataclass(frozen=True)
class ParameterRow:
    """A crisis parameter: the reader's name, its value as written and the case's note."""

    id: str
    name: str
    value: str
    note: str


@dataclass(frozen=True)
class EventRow:
    id: str
    label: str  # unique among the events: "label (2)" for a second of the same label
    note: str
    by_round: tuple[float, ...]  # probability that it has happened by the end of each round


@dataclass(frozen=True)
class SettlementRow:
    id: str
    label: str
    scale: str  # the scale's ends in words
    median: float
    interval: tuple[float, float]
    mean: float


# --- the drivers (drivers.py) --------------------------------------------------------------------


@dataclass(frozen=True)
class DriverRow:
    """An uncertain input by its largest effect on any scenario (method of Morris)."""

    input: str  # the input's key
    name: str
    note: str
    target: str  # the scenario it moves most, by its label
    target_id: str
    mu_star: float
    mu: float
    sigma: float
    conf: float  # 95% half-width of mu_star
    low: float  # the input at its 5th percentile
    high: float  # ... and 95th
    direction: str  # "raises it", "mostly lowers it", "either way"...
    effect: str  # mu_star in percentage points, as the table shows it
    sentence: str


# --- what the run traced (run_rows.py) -----------------------------------------------------------


@dataclass(frozen=True)
class RoundsRow:
    """One line of a table over the rounds: its label and a cell per round."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class DyadRounds:
    """One dyad's bargaining round by round: the figure's series and the table's rows."""

    name: str  # "A – B"
    first: str  # the first side, A
    gap: tuple[float | None, ...]
    prevails: tuple[float | None, ...]
    rows: tuple[RoundsRow, ...]


@dataclass(frozen=True)
class ChangedItem:
    """A scenario's or question's probability before the observations and after."""

    kind: str  # scenario or question
    id: str
    label: str
    before: float
    after: float
    delta: float


@dataclass(frozen=True)
class MovedInput:
    """An uncertain input the observations moved: its 5th, 50th and 95th percentile before and
    after, and the move of its mean in standard deviations before."""

    label: str
    key: str
    prior: tuple[float, float, float]
    posterior: tuple[float, float, float]
    shift: float
    sentence: str


@dataclass(frozen=True)
class BeliefChange:
    """A belief's mean probability at the observations' date, before them and after."""

    id: str
    label: str
    before: float
    after: float


@dataclass(frozen=True)
class SeenEvent:
    """An observed event by its label, and the dates it was seen (none: never)."""

    label: str
    days: tuple[str, ...]


@dataclass(frozen=True)
class ChangedRows:
    """What the observations of a conditioned forecast changed."""

    file: str  # the observation file's name
    as_of: str
    rounds: int  # rounds observed
    hash: str
    events: tuple[SeenEvent, ...]
    effective: float  # Kish's effective number of histories
    effective_inputs: float  # ... of settings of the uncertain inputs
    items: tuple[ChangedItem, ...]  # none without the unconditioned forecast
    inputs: tuple[MovedInput, ...]
    beliefs: tuple[BeliefChange, ...]


# --- the outside view (outside_rows.py) ----------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """A scenario or question of the case beside the rate of its ICB outcome in the class."""

    id: str
    kind: str
    label: str
    case_p: float
    outcome: str  # the ICB outcome it corresponds to, in words
    count: int
    n: int
    p: float
    low: float
    high: float
    gap: bool  # the case's probability lies outside the class rate's 90% interval
    observed: str | None  # "observed: yes" (or no) where the observations decided it
    sentence: str


@dataclass(frozen=True)
class OutsideRows:
    """The "Outside view" section: the reference class, its base rates and the comparisons."""

    description: str
    n: int
    ended: int
    open: int
    members: tuple[str, ...]
    violence: tuple[tuple[str, Rate], ...]  # (outcome in words, its rate in the class)
    form: tuple[tuple[str, Rate], ...]
    mediated: Rate
    median_months: float | None
    hazard: Rate  # the monthly chance of ending
    gap_rule: str
    comparisons: tuple[ComparisonRow, ...]


# --- the method and the footer (content.py) ------------------------------------------------------


@dataclass(frozen=True)
class SensitivityNote:
    """The sensitivity analysis run: Morris paths, replicates, evaluations and inputs."""

    trajectories: int
    replicates: int
    evaluations: int
    inputs: int


@dataclass(frozen=True)
class MethodNote:
    """The method section: the engine and its citation, the replicates, the rounds' dates, the
    sensitivity analysis (None without one) and the crisis parameters."""

    engine: str
    citation: str
    replicates: int | None  # histories per setting of the inputs (a crisis run has it)
    rounds: tuple[str, ...]
    sensitivity: SensitivityNote | None
    parameters: tuple[ParameterRow, ...]


@dataclass(frozen=True)
class Footer:
    """What reproduces the report."""

    sha256: str  # the case file's digest
    draws: int
    seed: int
    version: str
    case: str
    reproduce: str  # the command, as the user would type it
    engine_options: Mapping[str, Any]  # the engine's options: values of whatever type it takes
