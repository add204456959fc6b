"""A resolution file reads back typed (`standoff.backtest.resolve.Resolutions`), never by key:
each library file into the outcomes, notes, sources, dates and lines its YAML gives; a malformed
file refused with the CaseError messages it always had (file or mapping alike); and the ledger's
resolution rows read back typed too (`StoredResolution`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from standoff.backtest.resolve import (
    IN_MEMORY,
    UNRESOLVED,
    QuestionResolution,
    Resolutions,
    parse_resolutions,
    read_resolutions,
    resolutions_from,
    score,
    unresolved,
)
from standoff.errors import CaseError
from standoff.ledger import open_ledger
from standoff.ledger.record import StoredResolution
from standoff.saved import SavedForecast, SavedItem

from .conftest import REPO

LIBRARY = sorted((REPO / "cases" / "library" / "resolutions").glob("*.yaml"))
BUILT_IN = sorted((REPO / "cases" / "resolutions").glob("*.yaml"))


def _answer(value: Any) -> str:
    outcome = value.get("outcome") if isinstance(value, dict) else value
    return UNRESOLVED if outcome == UNRESOLVED else "yes" if outcome is True else "no"


@pytest.mark.parametrize("path", LIBRARY + BUILT_IN, ids=lambda p: p.stem)
def test_a_resolution_file_reads_into_the_outcomes_its_yaml_gives(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    got = read_resolutions(path)
    assert isinstance(got, Resolutions)
    assert (got.case, got.scenario, got.file) == (raw["case"], raw.get("scenario"), str(path))
    assert got.scenario_order == (tuple(raw["scenario_order"]) if "scenario_order" in raw else None)
    resolved = raw.get("resolved")
    assert got.resolved_on == (None if resolved is None else str(resolved))
    if isinstance(resolved, dt.date):
        assert dt.date.fromisoformat(got.resolved_on or "") == resolved
    assert list(got.questions) == list(raw["questions"])  # the file's order
    text = path.read_text(encoding="utf-8").split("\n")
    for ident, value in raw["questions"].items():
        question = got.questions[ident]
        assert isinstance(question, QuestionResolution)
        assert question.outcome == _answer(value)
        assert question.resolved == (question.outcome != UNRESOLVED)
        assert question.happened == (question.outcome == "yes")
        detail = value if isinstance(value, dict) else {}
        assert (question.note, question.source) == (detail.get("note"), detail.get("source"))
        # its line: the value's (a block mapping's first key is on the line below the id)
        above = [text[k].lstrip() for k in (question.line - 1, question.line - 2)]
        assert any(x.startswith(f"{ident}:") for x in above), (ident, question.line)
    assert got.unresolved_questions == tuple(
        q for q, v in raw["questions"].items() if _answer(v) == UNRESOLVED
    )


def test_the_us_dprk_file_in_detail() -> None:
    got = read_resolutions(REPO / "cases" / "resolutions" / "us-dprk-2018.yaml")
    assert got.case == "us-dprk-2018" and got.resolved_on == "2019-08-15"
    assert got.scenario == "talks_continue" and got.scenario_resolved
    summit = got.questions["second_summit"]
    assert summit.outcome == "yes" and summit.happened
    assert summit.note == "Hanoi summit, 27-28 February 2019 (and Panmunjom, 30 June 2019)."
    assert got.questions["armed_clash"] == QuestionResolution("no", line=got.line("questions",
                                                              "armed_clash"))  # fmt: skip
    assert got.line("questions") < summit.line < got.questions["armed_clash"].line


GOOD = "case: mini\nscenario: b\nquestions:\n  q1: yes\n  q2: {outcome: no, note: x}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- 1\n- 2\n", ["F:1: (top level): expected a mapping with case, scenario and questions "
                        "(see docs/backtests.md)"]),
        ("case: mini\n", ["F:1: questions: missing: give `questions:` with each question's id "
                          "and yes, no or unresolved"]),
        ("case: mini\nquestions: [a, b]\n",
         ["F:2: questions: expected a mapping of question id: yes, no or unresolved"]),
        (GOOD.replace("q1: yes", "q1: maybe"),
         ["F:4: questions.q1: outcome must be yes or no (or unresolved: not scored yet)"]),
        (GOOD.replace("q1: yes", "q1: [[yes]]"),
         ["F:4: questions.q1: outcome must be yes or no (or unresolved: not scored yet)"]),
        (GOOD.replace("scenario:", "scenaro:"),
         ["F:2: scenaro: unknown key 'scenaro' (did you mean 'scenario'?)"]),
        (GOOD.replace("note:", "nte:"),
         ["F:5: questions.q2.nte: unknown key 'nte' (did you mean 'note'?)"]),
        (GOOD.replace("case: mini", "case: [mini]"), ["F:1: case: not an id"]),
        (GOOD.replace("scenario: b", "scenario: 5"), ["F:2: scenario: not an id"]),
        (GOOD + "scenario_order: 5\n", ["F:6: scenario_order: expected a list of scenario ids, "
                                        "e.g. [talks_collapse, talks_continue]"]),
        (GOOD + "scenario_order: [a, [b]]\n", ["F:6: scenario_order: expected a list of scenario "
                                               "ids, e.g. [talks_collapse, talks_continue]"]),
        (GOOD + "scenario_order: [a, a, b]\n", ["F:6: scenario_order: repeats an id"]),
        # every problem at once, sorted by line
        ("case: [x]\nscenario: [b]\nquestions:\n  q1: maybe\n  q2: {outcome: no, nte: x}\n"
         "scenario_order: [a, a]\n",
         ["F:1: case: not an id", "F:2: scenario: not an id",
          "F:4: questions.q1: outcome must be yes or no (or unresolved: not scored yet)",
          "F:5: questions.q2.nte: unknown key 'nte' (did you mean 'note'?)",
          "F:6: scenario_order: repeats an id"]),
    ],
)  # fmt: skip
def test_a_malformed_file_gives_the_messages_it_always_gave(text: str, expected: list[str]) -> None:
    with pytest.raises(CaseError) as raised:
        parse_resolutions(text, "F")
    assert [str(p) for p in raised.value.problems] == expected
    # the same data given as a mapping: the same messages, at line 1, of "(resolutions)"
    data = yaml.safe_load(text)
    with pytest.raises(CaseError) as given:
        resolutions_from(data)
    assert sorted((p.field, p.message) for p in given.value.problems) == sorted(
        (p.field, p.message) for p in raised.value.problems
    )
    assert {(p.file, p.line) for p in given.value.problems} == {(IN_MEMORY, 1)}


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="no such file"):
        read_resolutions(tmp_path / "nope.yaml")


FORECAST = SavedForecast(
    {"q1": SavedItem(0.8), "q2": SavedItem(0.1)},
    {"a": SavedItem(0.5), "b": SavedItem(0.3), "c": SavedItem(0.2)},
    case="mini",
)


def test_the_typed_resolutions_score_by_their_attributes() -> None:
    given = parse_resolutions(GOOD + "scenario_order: [a, b, c]\n", "F")
    scored = {s.id: s for s in score(FORECAST, given)}
    assert scored["q1"].outcome == 1 and scored["q2"].outcome == 0
    assert scored["b"].outcome == 1 and scored["b"].rps is not None  # ordered: the RPS
    unordered = dataclasses.replace(given, scenario_order=None)
    assert next(s for s in score(FORECAST, unordered) if s.id == "b").rps is None
    pending = dataclasses.replace(
        given,
        scenario=UNRESOLVED,
        questions={**given.questions, "q1": QuestionResolution(UNRESOLVED, line=4)},
    )
    assert [s.id for s in score(FORECAST, pending)] == ["q2"]
    assert unresolved(FORECAST, pending) == ["q1", "scenario"]
    with pytest.raises(CaseError) as raised:
        score(FORECAST, dataclasses.replace(given, scenario="z"))
    assert [str(p) for p in raised.value.problems] == [
        "F:2: scenario: 'z' is not a scenario of the forecast (a, b, c)"
    ]


def test_the_ledger_reads_its_resolutions_back_typed(tmp_path: Path) -> None:
    forecast = {
        "case": "mini",
        "questions": {"q1": {"p": 0.8}, "q2": {"p": 0.1}},
        "scenarios": {"a": {"p": 0.5}, "b": {"p": 0.3}, "c": {"p": 0.2}},
    }
    file = tmp_path / "mini.yaml"
    file.write_text(
        "case: mini\nresolved: 2020-01-31\nscenario: b\nscenario_order: [a, b, c]\n"
        "source: the record\nquestions:\n  q1: {outcome: yes, source: a paper}\n"
        "  q2: unresolved\n",
        encoding="utf-8",
    )
    with open_ledger(str(tmp_path / "ledger.sqlite")) as ledger:
        ledger.record(forecast)
        assert ledger.resolve(read_resolutions(file)) == 1
        stored = ledger.resolutions()
        scores = ledger.score()
    assert set(stored) == {("mini", "question", "q1"), ("mini", "scenario", "")}
    q1, scenario = stored[("mini", "question", "q1")], stored[("mini", "scenario", "")]
    assert isinstance(q1, StoredResolution) and q1.happened
    assert (q1.outcome, q1.resolved_on, q1.source, q1.file) == ("yes", "2020-01-31", "a paper",
                                                                str(file))  # fmt: skip
    assert scenario.outcome == "b" and scenario.scenario_order == ("a", "b", "c")
    assert scenario.source == "the record" and scenario.recorded_at
    (record,) = scores["records"]
    assert record["n"] == 1 and record["scenario"]["rps"] is not None
    assert scores["unresolved"] == {"mini": ["q2"]}
