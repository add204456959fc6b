"""What a forecast run produces, as typed values: the one result the CLI, the JSON, the report
(and later the ledger and the web workspace) read. Probabilities and intervals are stored
unrounded; `standoff.serialize` rounds them for output.

Every number says what it is. A scenario's or question's probability `p` is its share of all
simulated histories; its word is ICD 203's for p; `Probability.mc` is the 90% Monte Carlo interval
of that estimate; `Probability.spread` is how the probability varies across draws of the uncertain
inputs (quantiles, and whether it splits in two). A settlement's interval is the 5th..95th
percentile of the settled position across draws: the spread that the inputs' uncertainty gives,
not a predictive interval for the outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .case.schema import Case

if TYPE_CHECKING:
    from .outside.view import OutsideView

INTERVAL = (0.05, 0.95)
DRIVER_RANGE = (0.05, 0.95)  # each input is moved over its 5th..95th percentile


@dataclass(frozen=True)
class Spread:
    """How a probability varies across draws of the uncertain inputs (the analyst's uncertainty
    about the case), estimated from groups of replicate histories that share one input draw.

    Each group's share of hits is that input draw's probability plus binomial noise; the noise is
    removed in the mean-and-variance sense by shrinking each group's share towards the overall
    probability (see `standoff.pipeline.summary.probability`). `quantiles` are the 5th, 25th, 50th,
    75th and 95th percentiles of the shrunk shares; `below` and `above` the shares of input draws
    whose probability is under 5% and over 50%.
    """

    quantiles: tuple[float, float, float, float, float]
    groups: int  # input draws
    replicates: int  # histories per input draw
    below: float
    above: float
    two_peaked: bool  # a sizeable share of input draws at each end: the mean hides a split

    @property
    def low(self) -> float:
        return self.quantiles[0]

    @property
    def high(self) -> float:
        return self.quantiles[-1]

    def describe(self) -> str | None:
        """The split in words, where there is one."""
        if not self.two_peaked:
            return None
        return f"under 5% in {self.below:.0%} of input draws, over 50% in {self.above:.0%}"


@dataclass(frozen=True)
class Probability:
    """A probability, its ICD 203 estimative word (of p), the 90% Monte Carlo interval of the
    estimate, and its spread across input draws (None where the draws have no groups)."""

    p: float
    words: str
    mc: tuple[float, float]  # 90% interval of the estimate p (Monte Carlo error)
    spread: Spread | None

    @property
    def low(self) -> float:
        """The 5th percentile of the probability across input draws (the Monte Carlo interval's
        lower end where there is no spread)."""
        return self.spread.low if self.spread is not None else self.mc[0]

    @property
    def high(self) -> float:
        """The 95th percentile across input draws (the Monte Carlo interval's upper end where
        there is no spread)."""
        return self.spread.high if self.spread is not None else self.mc[1]


@dataclass(frozen=True)
class PathShare:
    """An order in which the events that define the scenarios first happened, and its share of
    the draws it is counted in."""

    events: tuple[str, ...]  # event ids; ("(nothing)",) when none of them happened
    share: float


@dataclass(frozen=True)
class SideView:
    """How often one side of a dyad saw each kind of interaction (shares over running rounds)."""

    actor: str
    shares: Mapping[str, float]  # interaction class -> share, in VIEW_CLASSES order


@dataclass(frozen=True)
class DyadView:
    actors: tuple[str, str]
    sides: tuple[SideView, SideView]
    views_differ: float  # share of running rounds in which the two sides saw different things


@dataclass(frozen=True)
class ScenarioForecast:
    id: str
    label: str
    description: str
    rule: str
    probability: Probability
    paths: tuple[PathShare, ...]  # the most common event paths within the scenario
    views: tuple[DyadView, ...]  # how each side of each dyad saw it within the scenario
    reads: tuple[str, ...] = ()  # the events its rule reads (ids), which define it
    # decided by the observations of a conditioned forecast (`compile.observed.settled_scenarios`):
    # True where it is the scenario that happens, False where it cannot; None when it is a
    # forecast. Shown as "observed: yes" (or no), as a question the observations decide is.
    observed: bool | None = None


@dataclass(frozen=True)
class QuestionForecast:
    id: str
    text: str
    criteria: str
    rule: str
    resolves: dt.date
    probability: Probability
    # decided by the observations of a conditioned forecast (`compile.observed.settled_questions`):
    # True for yes, False for no; None when it is a forecast. An observed question is shown as
    # "observed: yes" and left out of every score and outside-view gap (docs/observations.md).
    observed: bool | None = None


@dataclass(frozen=True)
class IssueSettlement:
    """Where the bargain settles on one issue, across draws."""

    id: str
    label: str
    scale: tuple[float, float]
    median: float
    interval: tuple[float, float]  # 5th and 95th percentile across draws
    mean: float
    sd: float
    # draws (conditioned: their weight) per bin of equal width over the scale
    counts: NDArray[np.float64] = field(repr=False)


@dataclass(frozen=True)
class EventTimeline:
    id: str
    label: str
    by_round: tuple[float, ...]  # probability that it has happened by the end of each round


@dataclass(frozen=True)
class BeliefTimeline:
    id: str
    mean_by_round: tuple[float, ...]  # mean probability after each round (entry 0: the prior)


@dataclass(frozen=True)
class SideTrace:
    """One side of a dyad, round by round: the share of the draws still running in each round in
    which the side's dominant view of the other (the interaction it sees on most of its stakes)
    is each class."""

    actor: str
    views: Mapping[str, tuple[float | None, ...]]  # class (VIEW_CLASSES order) -> share per round


@dataclass(frozen=True)
class DyadTrace:
    """How the bargaining of one dyad (a, b) moved, round by round: per round, the mean over the
    draws whose crisis is still running in it (conditioned on observations: the weighted mean) of
    the terms the formulas read, as the round's bargaining left them, before the round's events.
    None in a round that no draw (no weight) reaches."""

    actors: tuple[str, str]
    gap: tuple[float | None, ...]  # gap(a, b): the distance on the issues, 0-1 of the scale
    prevails: tuple[float | None, ...]  # prevails(a, b): a's chance of prevailing, as a sees it
    eu: tuple[float | None, ...]  # eu(a, b): a's expected utility of challenging b
    eu_back: tuple[float | None, ...]  # eu(b, a): b's expected utility of challenging a
    sides: tuple[SideTrace, SideTrace]  # a's view of b, b's view of a


@dataclass(frozen=True)
class Timeline:
    dates: tuple[dt.date, ...]  # the end of each round
    events: tuple[EventTimeline, ...]
    beliefs: tuple[BeliefTimeline, ...]
    # the share of draws (conditioned: of the weight) whose crisis is still running in each round
    running: tuple[float, ...] = ()
    dyads: tuple[DyadTrace, ...] = ()  # the bargaining of each dyad of the crisis, per round


@dataclass(frozen=True)
class Indicator:
    """An observable event that tells the scenarios apart (see `standoff.pipeline.indicators`)."""

    event: str
    label: str
    round: int  # 1-based round by whose end the event is observed
    date: str
    p_seen: float  # probability that it has happened by then
    information: float  # mutual information with the scenario, in bits
    if_seen: Mapping[str, float]  # P(scenario | seen by then)
    if_not_seen: Mapping[str, float]  # P(scenario | not seen by then)
    prior: Mapping[str, float]  # P(scenario)


@dataclass(frozen=True)
class Driver:
    """How much one input moves one target's probability (method of Morris)."""

    input: str  # the input's stable key, e.g. "beliefs.president_independent.prior"
    label: str  # a reader's name for it, made from the case's names
    target: str  # scenario or question id
    kind: str  # "scenario" | "question"
    mu_star: float  # mean absolute elementary effect: change in probability over the input's range
    mu: float  # signed mean elementary effect
    sigma: float  # spread of the effects (interactions, non-linearity)
    mu_star_conf: float  # bootstrap 95% half-width of mu_star (SALib)
    low: float  # the input at its 5th percentile
    high: float  # ... and 95th
    note: str = ""  # the case's note on what the input belongs to (`case.schema.case_note`)


@dataclass(frozen=True)
class Sensitivity:
    """A Morris screening of every uncertain input (see `standoff.pipeline.sensitivity`)."""

    drivers: list[Driver]
    inputs: list[str]
    trajectories: int
    replicates: int
    evaluations: int
    seed: int

    def for_target(self, target: str) -> list[Driver]:
        return sorted((d for d in self.drivers if d.target == target), key=lambda d: -d.mu_star)


@dataclass(frozen=True)
class InputShift:
    """How the observations moved one uncertain input: its distribution over the input draws
    before (the prior, as the case states it) and after weighting by the observations."""

    key: str
    label: str
    prior: tuple[float, float, float]  # 5th, 50th and 95th percentile
    posterior: tuple[float, float, float]
    prior_mean: float
    posterior_mean: float
    prior_sd: float

    @property
    def shift(self) -> float:
        """The move of the mean, in prior standard deviations (0 for a fixed input)."""
        if self.prior_sd <= 0:
            return 0.0
        return (self.posterior_mean - self.prior_mean) / self.prior_sd


@dataclass(frozen=True)
class ObservedResult:
    """What a forecast was conditioned on (an observation file, `compile.observed`) and what the
    conditioning did: the effective sample size and the inputs it moved, most moved first."""

    file: str
    text: str
    as_of: dt.date
    events: Mapping[str, tuple[dt.date, ...]]
    hash: str
    rounds: int  # rounds observed (the first `rounds` of the calendar)
    effective_draws: float  # Kish's effective sample size of the weighted histories
    effective_inputs: float  # the same over input draws (groups of replicates)
    inputs: tuple[InputShift, ...]


@dataclass(frozen=True)
class ForecastResult:
    """One forecast run: the case, how it was run, and everything it found.

    A crisis case has scenarios, questions, a timeline, views and indicators; a plain bargaining
    case (a KTAB or BDM table) has only the settlement.
    """

    case: Case
    model: str
    options: Mapping[str, Any]
    rounds: int | None  # rounds asked of the engine (None: the engine's default or the calendar)
    draws: int
    seed: int
    settlement: tuple[IssueSettlement, ...]
    scenarios: tuple[ScenarioForecast, ...] = ()
    questions: tuple[QuestionForecast, ...] = ()
    timeline: Timeline | None = None
    replicates: int | None = None  # crisis: draws per input draw
    indicators: tuple[Indicator, ...] = ()
    drivers: Sensitivity | None = None
    case_bytes: bytes | None = field(default=None, repr=False)  # for the reproducibility hash
    observed: ObservedResult | None = None  # conditioned on observations
    outside_view: OutsideView | None = None  # the class beside it (pipeline/outside.py)

    @property
    def is_crisis(self) -> bool:
        return self.timeline is not None

    def scenario(self, ident: str) -> ScenarioForecast:
        return next(s for s in self.scenarios if s.id == ident)

    def question(self, ident: str) -> QuestionForecast:
        return next(q for q in self.questions if q.id == ident)
