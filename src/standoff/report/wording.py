"""The report's words for its numbers: a probability as a percentage, a change in points, a
split across the inputs, an issue's scale, the headline, and the ICD 203 bands."""

from __future__ import annotations

from ..result import Spread
from .rows import ScenarioRow

#: Where the uncertain inputs vary: the words every range and split of the report uses.
INPUTS_VARY = "as the uncertain inputs vary"


def pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def points(x: float) -> str:
    """A change in probability in percentage points, in words: "1 point", "14 points"."""
    n = f"{100 * abs(x):.0f}"
    return f"{n} point" if n == "1" else f"{n} points"


def split_words(spread: Spread | None) -> str | None:
    """Where the probability divides into two groups as the inputs vary, in words (None when
    it does not)."""
    if spread is None or not spread.two_peaked:
        return None
    return (
        f"under 5% for {pct(spread.below)} of the settings of the uncertain inputs, "
        f"over 50% for {pct(spread.above)}"
    )


def scale_words(scale: tuple[float, float], low_means: str, high_means: str) -> str:
    """An issue's scale with what its ends stand for: "0 = keep sanctions … 100 = lift them"."""
    low, high = (f"{v:g}" for v in scale)
    low_end = f"{low} = {low_means}" if low_means else low
    high_end = f"{high} = {high_means}" if high_means else high
    return f"{low_end} … {high_end}"


def headline(top: ScenarioRow) -> str:
    """The report's headline on the most likely scenario. Its ICD 203 word can be "unlikely"
    when no scenario is more likely than not; the headline then says both. A scenario the
    observations decided is not a forecast, and the headline says so."""
    if top.observed:
        return f"Decided by the observations: {top.label} (observed: yes)"
    if top.p > 0.5:
        return f"Most likely: {top.label}, {top.words} ({pct(top.p)})"
    return (
        f"Most likely: {top.label} ({pct(top.p)}, {top.words} in ICD 203 terms: "
        "no scenario is more likely than not)"
    )


def icd203_table() -> list[tuple[str, str]]:
    """The ICD 203 bands, for the method section."""
    return [
        ("almost no chance", "1–5%"),
        ("very unlikely", "5–20%"),
        ("unlikely", "20–45%"),
        ("roughly even chance", "45–55%"),
        ("likely", "55–80%"),
        ("very likely", "80–95%"),
        ("almost certain", "95–99%"),
    ]
