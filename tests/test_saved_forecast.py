"""The saved forecast reads back typed (`standoff.saved`): a real forecast's JSON gives back the
result's probabilities, intervals and observed answers; a malformed record is one
`SavedForecastError` naming the field (never a KeyError); an older record without `format`
reads; the ledger's records carry the typed forecast and name a damaged one's field."""

from __future__ import annotations

import functools
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from standoff.errors import CaseError
from standoff.ledger import open_ledger
from standoff.ledger.store import LedgerWarning
from standoff.saved import FORMAT, SavedForecast, SavedForecastError, from_json

REPO = Path(__file__).resolve().parents[1]


@functools.cache
def _result(observed: bool = False) -> Any:
    from standoff.compile import load
    from standoff.compile.observed import read_observations
    from standoff.pipeline.forecast import run

    seen = read_observations(REPO / "cases/observations/cuba-1962.yaml") if observed else None
    return run(load("cuba-1962"), draws=300, seed=5, observed=seen)


def _json(observed: bool = False) -> dict[str, Any]:
    from standoff.serialize import forecast_json

    return forecast_json(_result(observed))


def test_a_real_forecast_reads_back_with_the_results_numbers() -> None:
    from standoff import __version__

    result = _result()
    saved = from_json(_json())
    assert (saved.case, saved.seed, saved.draws, saved.model) == ("cuba-1962", 5, 300, result.model)
    assert (saved.standoff, saved.format, saved.observed) == (__version__, FORMAT, None)
    assert saved.as_of == saved.speaks_from == result.case.as_of.isoformat()
    assert list(saved.questions) == [q.id for q in result.questions]
    assert saved.scenario_order == tuple(s.id for s in result.scenarios)
    for q in result.questions:
        item = saved.questions[q.id]
        assert item.p == pytest.approx(q.probability.p, abs=1e-6)
        assert item.mc_interval == pytest.approx(q.probability.mc, abs=1e-6)
        assert (item.observed, item.resolves) == (None, q.resolves.isoformat())
    for s in result.scenarios:
        assert saved.scenarios[s.id].p == pytest.approx(s.probability.p, abs=1e-6)
    assert saved.observed_questions == () and saved.observed_scenario is None


def test_the_text_reads_as_the_object_does() -> None:
    from standoff.serialize import dumps

    assert from_json(dumps(_json())) == from_json(_json())


def test_a_conditioned_forecast_reads_back_what_the_observations_decided() -> None:
    result = _result(observed=True)
    data = _json(observed=True)
    saved = from_json(data)
    assert saved.observed is not None
    assert saved.observed.hash == result.observed.hash
    assert saved.speaks_from == result.observed.as_of.isoformat() != saved.as_of
    for q in result.questions:
        expected = None if q.observed is None else ("yes" if q.observed else "no")
        assert saved.questions[q.id].observed == expected
    assert saved.observed_questions == tuple(q.id for q in result.questions if q.observed)


def test_an_older_record_without_format_reads_and_unknown_keys_are_ignored() -> None:
    data = _json()
    assert "format" not in data  # the writer's bytes are unchanged (tests/test_golden.py)
    saved = from_json({**data, "a_key_of_a_newer_standoff": {"x": [1]}})
    assert saved.format == FORMAT == 1
    assert from_json({**data, "format": 1}) == saved


def test_a_later_format_is_refused() -> None:
    with pytest.raises(SavedForecastError, match="format: 2: written by a newer standoff"):
        from_json({**_json(), "format": FORMAT + 1})


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"case": "c"}, "questions", "not a crisis forecast (no questions): found a JSON object"),
        ([1, 2], "questions", "found a JSON list"),
        ("[1, 2]", "questions", "found a JSON list"),
        (5, "questions", "found a JSON int"),
        ({"questions": {"q": {"p": "high"}}}, "questions.q.p", 'found "high"'),
        ({"questions": {"q": {"p": None}}}, "questions.q.p", "found null"),
        ({"questions": {"q": {"p": True}}}, "questions.q.p", "found true"),
        ({"questions": {"q": {"p": 1.5}}}, "questions.q.p", "expected a number from 0 to 1"),
        ({"questions": {"q": {"p": -0.1}}}, "questions.q.p", "found -0.1"),
        ({"questions": {"q": 0.5}}, "questions.q.p", "not a probability"),
        ({"questions": {}, "scenarios": {"s": {"p": 2}}}, "scenarios.s.p", "found 2"),
        ({"questions": {}, "scenarios": [1]}, "scenarios", "expected an object"),
        ({"questions": {}, "case": 5}, "case", "not a case id"),
        ({"questions": {}, "seed": "5"}, "seed", 'not a whole number: "5"'),
        (
            {"questions": {"q": {"p": 0.5, "observed": "maybe"}}},
            "questions.q.observed",
            "yes or no",
        ),
        ({"questions": {"q": {"p": 0.5, "mc_interval": [0.1]}}}, "questions.q.mc_interval", "two"),
        ({"questions": {}, "observed": {"hash": 7}}, "observed.hash", "expected text, found 7"),
        ({"questions": {}, "observed": "x"}, "observed", "expected an object"),
        ("{not json", "(json)", "Expecting property name"),
    ],
)
def test_a_malformed_record_names_its_field(data: Any, field: str, says: str) -> None:
    with pytest.raises(SavedForecastError) as raised:
        from_json(data)
    assert isinstance(raised.value, CaseError)  # the CLI prints it as FILE:LINE: field: problem
    assert raised.value.fields == [field]
    assert says in raised.value.problems[0].message


def test_every_problem_is_listed_at_its_line() -> None:
    text = json.dumps({"case": 1, "questions": {"a": {"p": 0.5}, "b": {"p": 9}}}, indent=2)
    with pytest.raises(SavedForecastError) as raised:
        from_json(text, file="f.json")
    lines = text.splitlines()
    case_line = next(n for n, x in enumerate(lines, 1) if '"case"' in x)
    b_line = next(n for n, x in enumerate(lines, 1) if '"b"' in x)
    assert [str(p) for p in raised.value.problems] == [
        f"f.json:{case_line}: case: not a case id",
        f"f.json:{b_line}: questions.b.p: not a probability: expected a number from 0 to 1, "
        "found 9",
    ]


def test_a_forecast_without_a_crisis_reads_where_asked() -> None:
    data = {"case": "c", "settlement": {"i": {"median": 50}}, "seed": 1, "draws": 10}
    with pytest.raises(SavedForecastError, match="no questions"):
        from_json(data)
    saved = from_json(data, crisis=False)
    assert (saved.questions, saved.scenarios, saved.seed) == ({}, {}, 1)
    with pytest.raises(SavedForecastError) as raised:
        from_json([1], crisis=False)  # type: ignore[arg-type]
    assert raised.value.fields == ["(top level)"]


def test_a_stand_in_is_built_with_its_ps_alone() -> None:
    from standoff.saved import SavedItem

    saved = SavedForecast({"q": SavedItem(0.3, observed="yes")}, {"s": SavedItem(1.0)})
    assert saved.observed_questions == ("q",) and saved.scenario_order == ("s",)


def test_the_ledger_reads_its_records_typed(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    data = _json(observed=True)
    with open_ledger(str(path)) as ledger:
        ids = [ledger.record(data), ledger.record(data)]
        record = ledger.get(ids[0])
    assert record.saved == from_json(data)
    assert record.as_of == record.saved.speaks_from
    assert record.observed_hash == record.saved.observed.hash  # type: ignore[union-attr]
    assert {i: record.saved.questions[i].p for k, i, _ in record.probabilities if k == "question"} \
        == {i: p for k, i, p in record.probabilities if k == "question"}  # fmt: skip
    damaged = {**data, "questions": {**data["questions"], "quarantine": {"p": "high"}}}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ledger_forecasts SET forecast = ? WHERE id = ?",
                   (json.dumps(damaged), ids[1]))  # fmt: skip
    says = "its forecast's questions.quarantine.p: not a probability"
    with open_ledger(str(path)) as ledger, pytest.warns(LedgerWarning, match=says):
        assert [r.id for r in ledger.records()] == [ids[0]]
