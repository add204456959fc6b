"""The rows of the ledger's tables and what they hold: a forecast JSON checked into a row of
`ledger_forecasts` and its probabilities, a resolution file into rows of `ledger_resolutions`,
and a row read back into a `Record`, checked field by field (a damaged row says which field and
how)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..saved import SavedForecast, SavedForecastError, from_json
from .errors import LedgerError
from .record import Probability, Record

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


def shown_value(value: Any, limit: int = 40) -> str:
    """A value of a damaged row as a message shows it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def resolution_rows(
    data: Mapping[str, Any], where: str, file: str | None
) -> tuple[list[dict[str, Any]], int]:
    """The rows of `ledger_resolutions` a resolution file's data make (`file`: where it was read,
    None for data given as such; `where`: its name in messages), and how many of them are
    questions (`unresolved` ones make none). LedgerError for a missing case id, questions that
    are not a mapping, or an outcome that is not yes or no."""
    from ..backtest.resolve import UNRESOLVED

    case_id = data.get("case")
    if not isinstance(case_id, str) or not case_id:
        raise LedgerError(f"{where}: case: missing; the ledger files resolutions by case id")
    questions = data.get("questions")
    if not isinstance(questions, Mapping):
        raise LedgerError(f"{where}: questions: expected a mapping of id: yes, no, unresolved")
    resolved_on = data.get("resolved")
    common = {
        "case_id": case_id,
        "resolved_on": None if resolved_on is None else str(resolved_on),
        "file": file,
        "recorded_at": now(),
    }
    rows: list[dict[str, Any]] = []
    for ident, value in questions.items():
        detail = value if isinstance(value, Mapping) else {"outcome": value}
        outcome = detail.get("outcome")
        if outcome == UNRESOLVED:
            continue
        if not isinstance(outcome, bool):
            raise LedgerError(f"{where}: questions.{ident}: outcome must be yes or no")
        rows.append(
            {**common, "kind": "question", "item": str(ident),
             "outcome": "yes" if outcome else "no", "scenario_order": None,
             "note": text_or_none(detail.get("note")),
             "source": text_or_none(detail.get("source"))}
        )  # fmt: skip
    n_questions = len(rows)
    scenario = data.get("scenario")
    if isinstance(scenario, str) and scenario != UNRESOLVED:
        order = data.get("scenario_order")
        rows.append(
            {**common, "kind": "scenario", "item": "", "outcome": scenario,
             "scenario_order": json.dumps(list(order)) if order else None,
             "note": text_or_none(data.get("note")), "source": text_or_none(data.get("source"))}
        )  # fmt: skip
    return rows, n_questions
