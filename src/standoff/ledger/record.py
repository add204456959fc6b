"""A forecast, and a resolution, as the ledger holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..saved import Answer, SavedForecast

Probability = tuple[str, str, float]  # (kind: "scenario" or "question", the item's id, p)


@dataclass(frozen=True)
class Record:
    """One recorded forecast. Records are never changed: a revised forecast is a new record.

    `recorded_at` is when it was stored (UTC, ISO 8601); `as_of` the date the forecast speaks from
    (the observations' as-of date for a conditioned forecast, else the case's); `observed_hash` the
    sha256 of the observation file a conditioned forecast used; `case_hash` the sha256 of the case
    file's bytes. `probabilities` holds every scenario's and question's p in the forecast's order;
    `forecast` is the whole forecast JSON as recorded (for storage and `ledger show`); `saved`
    is the same forecast read back typed (`standoff.saved`), which scores and plots read."""

    id: int
    case_id: str
    case_hash: str | None
    recorded_at: str
    as_of: str | None
    observed_hash: str | None
    seed: int | None
    draws: int | None
    model: str | None
    probabilities: tuple[Probability, ...]
    forecast: dict[str, Any] = field(compare=False, repr=False)
    saved: SavedForecast = field(compare=False, repr=False)

    def observed(self, item: str, kind: str = "question") -> Answer | None:
        """The answer, "yes" or "no", where the observations of the recorded forecast decided the
        question (or, with kind "scenario", the scenario: then it is not scored); None where it
        was forecast."""
        items = self.saved.scenarios if kind == "scenario" else self.saved.questions
        entry = items.get(item)
        return None if entry is None else entry.observed

    def p(self, kind: str, item: str) -> float | None:
        """The probability of one scenario or question, or None when the record lacks it."""
        for k, ident, value in self.probabilities:
            if k == kind and ident == item:
                return value
        return None


@dataclass(frozen=True)
class StoredResolution:
    """One row of the ledger's resolutions, read back typed: what happened to a question
    (`kind` "question", `item` its id, `outcome` "yes" or "no") or to the case's scenarios (`kind`
    "scenario", `item` "", `outcome` the scenario that happened, `scenario_order` their order
    where the file gave one). `resolved_on` is the file's `resolved:` date, `file` the file it
    came from (None for resolutions given as data), `recorded_at` when it was stored (UTC)."""

    id: int
    case_id: str
    kind: str
    item: str
    outcome: str
    scenario_order: tuple[str, ...] | None = None
    resolved_on: str | None = None
    note: str | None = None
    source: str | None = None
    file: str | None = None
    recorded_at: str | None = None

    @property
    def happened(self) -> bool:
        """A question's outcome: whether it happened (yes)."""
        return self.outcome == "yes"
