"""The rows of the ledger's tables and what they hold: a forecast JSON checked into a row of
`ledger_forecasts` and its probabilities, a resolution file into rows of `ledger_resolutions`,
and a row read back into a `Record`, checked field by field (a damaged row says which field and
how)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..saved import SavedForecast, SavedForecastError, from_json
from .errors import LedgerError
from .record import Probability, Record, StoredResolution

if TYPE_CHECKING:
    from ..backtest.resolve import Resolutions

MAX_BIGINT = 2**63 - 1


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def whole_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def forecast_row(
    name: str, forecast: Mapping[str, Any], case_hash: str | None
) -> tuple[dict[str, Any], list[Probability]]:
    """The row of `ledger_forecasts` and the probabilities of a forecast JSON, checked: read back
    typed (`standoff.saved.from_json`; a forecast without a crisis section too), with a case id."""
    if not isinstance(forecast, Mapping):
        raise LedgerError(f"{name}: a forecast is the JSON object of `standoff forecast --json`")
    try:
        saved = from_json(forecast, crisis=False)
    except SavedForecastError as e:
        first = e.problems[0]
        raise LedgerError(f"{name}: {first.field}: {first.message}; not recorded") from None
    if not saved.case:
        raise LedgerError(f"{name}: the forecast has no case id (`case`); not recorded")
    items: list[Probability] = [
        (kind, ident, item.p)
        for kind, part in (("scenario", saved.scenarios), ("question", saved.questions))
        for ident, item in part.items()
    ]
    for field, value in (("seed", saved.seed), ("draws", saved.draws)):
        if value is not None and not 0 <= value <= MAX_BIGINT:
            raise LedgerError(f"{name}: {field} {value}: outside 0..2^63-1; not recorded")
    try:
        text = json.dumps(forecast, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise LedgerError(f"{name}: the forecast is not plain JSON ({e}); not recorded") from None
    row = {
        "case_id": saved.case,
        "case_hash": case_hash or saved.case_hash,
        "recorded_at": now(),
        "as_of": saved.speaks_from,
        "observed_hash": None if saved.observed is None else saved.observed.hash,
        "seed": saved.seed,
        "draws": saved.draws,
        "model": saved.model,
        "standoff_version": saved.standoff,
        "forecast": text,
    }
    return row, items


class DamagedRow(ValueError):
    """A row of the ledger's tables that does not hold what the ledger writes (changed by hand,
    or by another program); the message says which field and how."""


def record_of(row: Mapping[Any, Any], items: list[tuple[Any, Any, Any]]) -> Record:
    """The Record of a row of `ledger_forecasts` and its probabilities, checked field by field:
    DamagedRow when one is not what the ledger writes."""

    def text(field: str, optional: bool = True) -> str | None:
        value = row[field]
        if (value is None and optional) or (isinstance(value, str) and (value or optional)):
            return value
        raise DamagedRow(f"{field} {shown_value(value)}: not text")

    def whole(field: str) -> int | None:
        value = row[field]
        if value is None or whole_number(value) is not None:
            return value
        raise DamagedRow(f"{field} {shown_value(value)}: not a whole number")

    try:
        forecast = json.loads(row["forecast"])
    except (TypeError, ValueError):
        raise DamagedRow(f"its forecast is not JSON: {shown_value(row['forecast'])}") from None
    if not isinstance(forecast, dict):
        raise DamagedRow("its forecast is not a JSON object")
    saved = _saved(forecast)
    probs: list[Probability] = []
    for kind, item, p in items:
        if kind not in ("scenario", "question") or not isinstance(item, str):
            raise DamagedRow(f"a probability of kind {shown_value(kind)}, item {shown_value(item)}")
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise DamagedRow(f"the p of {kind} {item}, {shown_value(p)}, is not a probability")
        probs.append((kind, item, float(p)))
    case_id, recorded_at = text("case_id", optional=False), text("recorded_at", optional=False)
    assert case_id is not None and recorded_at is not None
    return Record(
        id=int(row["id"]),
        case_id=case_id,
        case_hash=text("case_hash"),
        recorded_at=recorded_at,
        as_of=text("as_of"),
        observed_hash=text("observed_hash"),
        seed=whole("seed"),
        draws=whole("draws"),
        model=text("model"),
        probabilities=tuple(probs),
        forecast=forecast,
        saved=saved,
    )


def _saved(forecast: dict[str, Any]) -> SavedForecast:
    """A row's forecast JSON read back typed; DamagedRow naming the field it lacks."""
    try:
        return from_json(forecast, crisis=False)
    except SavedForecastError as e:
        first = e.problems[0]
        raise DamagedRow(f"its forecast's {first.field}: {first.message}") from None


def resolution_problem(row: Mapping[Any, Any]) -> str | None:
    """What is wrong with a row of `ledger_resolutions` (None when nothing)."""
    for field in ("case_id", "kind", "item", "outcome"):
        if not isinstance(row[field], str):
            return f"{field} {shown_value(row[field])}: not text"
    if row["kind"] not in ("question", "scenario"):
        return f"kind {shown_value(row['kind'])}: not question or scenario"
    if row["kind"] == "question" and row["outcome"] not in ("yes", "no"):
        return f"outcome {shown_value(row['outcome'])}: not yes or no"
    order = row["scenario_order"]
    if order is not None:
        try:
            parsed = json.loads(order)
        except (TypeError, ValueError):
            return f"scenario_order is not JSON: {shown_value(order)}"
        if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
            return "scenario_order is not a list of scenario ids"
    return None


def stored_resolution(row: Mapping[Any, Any]) -> StoredResolution:
    """The StoredResolution of a row of `ledger_resolutions`; DamagedRow when
    `resolution_problem` finds it damaged."""
    problem = resolution_problem(row)
    if problem is not None:
        raise DamagedRow(problem)
    order = row["scenario_order"]
    return StoredResolution(
        id=int(row["id"]),
        case_id=row["case_id"],
        kind=row["kind"],
        item=row["item"],
        outcome=row["outcome"],
        scenario_order=None if order is None else tuple(json.loads(order)),
        resolved_on=text_or_none(row["resolved_on"]),
        note=text_or_none(row["note"]),
        source=text_or_none(row["source"]),
        file=text_or_none(row["file"]),
        recorded_at=text_or_none(row["recorded_at"]),
    )


def shown_value(value: Any, limit: int = 40) -> str:
    """A value of a damaged row as a message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resolutions_given(data: Any, where: str) -> Resolutions:
    """Resolutions given as data (the mapping a resolution file parses to; `where`: its name in
    messages) read back typed. LedgerError for a missing case id, questions that are not a
    mapping, or an outcome that is not yes or no; then the rules of a resolution file
    (`standoff.backtest.resolve.resolutions_from`), whose CaseError lists every problem."""
    from ..backtest.resolve import UNRESOLVED, resolutions_from

    if not isinstance(data, Mapping):
        raise LedgerError(f"{where}: expected a resolution file, or the mapping it parses to")
    case_id = data.get("case")
    if not isinstance(case_id, str) or not case_id:
        raise LedgerError(f"{where}: case: missing; the ledger files resolutions by case id")
    questions = data.get("questions")
    if not isinstance(questions, Mapping):
        raise LedgerError(f"{where}: questions: expected a mapping of id: yes, no, unresolved")
    for ident, value in questions.items():
        outcome = value.get("outcome") if isinstance(value, Mapping) else value
        if outcome != UNRESOLVED and not isinstance(outcome, bool):
            raise LedgerError(f"{where}: questions.{ident}: outcome must be yes or no")
    return resolutions_from(data, where)


def resolution_rows(resolutions: Resolutions) -> tuple[list[dict[str, Any]], int]:
    """The rows of `ledger_resolutions` that resolutions make (their `file` is stored where they
    were read from one), and how many of them are questions (`unresolved` ones make none).
    LedgerError for resolutions without a case id."""
    from ..backtest.resolve import IN_MEMORY

    where = resolutions.file
    if not resolutions.case:
        raise LedgerError(f"{where}: case: missing; the ledger files resolutions by case id")
    common = {
        "case_id": resolutions.case,
        "resolved_on": resolutions.resolved_on,
        "file": None if where == IN_MEMORY else where,
        "recorded_at": now(),
    }
    rows: list[dict[str, Any]] = [
        {**common, "kind": "question", "item": ident, "outcome": resolution.outcome,
         "scenario_order": None, "note": resolution.note, "source": resolution.source}
        for ident, resolution in resolutions.questions.items()
        if resolution.resolved
    ]  # fmt: skip
    n_questions = len(rows)
    if resolutions.scenario_resolved:
        order = resolutions.scenario_order
        rows.append(
            {**common, "kind": "scenario", "item": "", "outcome": resolutions.scenario,
             "scenario_order": json.dumps(list(order)) if order else None,
             "note": resolutions.note, "source": resolutions.source}
        )  # fmt: skip
    return rows, n_questions
