"""Hostile inputs to `standoff score` and `standoff backtest`: each ends in
`FILE:LINE: field: problem` with exit status 2 (never a traceback), or runs cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from standoff.backtest.run import model_names
from standoff.cli import app

from .conftest import clear_refusal
from .test_backtest_deu3 import row, tsv

runner = CliRunner()

FORECAST: dict[str, Any] = {
    "case": "mini",
    "scenarios": {"a": {"p": 0.5}, "b": {"p": 0.3}, "c": {"p": 0.2}},
    "questions": {"q1": {"p": 0.8}, "q2": {"p": 0.1}},
}
RESOLUTIONS = "case: mini\nscenario: b\nquestions:\n  q1: yes\n  q2: {outcome: no, note: x}\n"


def files(
    tmp_path: Path, forecast: Any = None, resolutions: str = RESOLUTIONS, raw: str | None = None
) -> tuple[Path, Path]:
    f, r = tmp_path / "forecast.json", tmp_path / "resolutions.yaml"
    f.write_text(raw if raw is not None else json.dumps(FORECAST if forecast is None else forecast,
                                                        indent=2))  # fmt: skip
    r.write_text(resolutions)
    return f, r


def fails(*args: Path | str) -> str:
    return clear_refusal(runner.invoke(app, [str(a) for a in args]))


def test_a_matching_pair_scores(tmp_path: Path) -> None:
    f, r = files(tmp_path)
    result = runner.invoke(app, ["score", str(f), str(r)])
    assert result.exit_code == 0, result.output
    assert "Questions: 2" in result.output


# 4. the forecast JSON


@pytest.mark.parametrize(
    ("forecast", "fragment"),
    [
        ([1, 2], "questions: not a crisis forecast (no questions): found a JSON list"),
        ({"scenarios": {}}, "questions: not a crisis forecast"),
        ({"questions": 5}, "questions: not a crisis forecast"),
        ({"questions": {"q1": {"p": [[0.5]]}}}, "questions.q1.p: not a probability"),
        ({"questions": {"q1": {"p": True}}}, "questions.q1.p: not a probability"),
        ({"questions": {"q1": 0.5}}, "questions.q1.p: not a probability"),
        ({"questions": {"q1": {"p": 1.5}}}, "questions.q1.p: not a probability"),
        ({"questions": {}, "scenarios": [1]}, "scenarios: expected an object"),
        ({"questions": {}, "case": [1]}, "case: not a case id"),
    ],
)
def test_forecast_of_the_wrong_shape(tmp_path: Path, forecast: Any, fragment: str) -> None:
    f, r = files(tmp_path, forecast)
    assert fragment in fails("score", f, r)


def test_forecast_problem_names_its_line(tmp_path: Path) -> None:
    bad = {**FORECAST, "questions": {"q1": {"p": 0.8}, "q2": {"p": [[1]]}}}
    f, r = files(tmp_path, bad)
    line = next(i for i, x in enumerate(f.read_text().splitlines(), 1) if '"q2"' in x)
    assert f"{f}:{line}: questions.q2.p: not a probability" in fails("score", f, r)


def test_very_deep_json_is_refused(tmp_path: Path) -> None:
    f, r = files(tmp_path, raw="[" * 100_000 + "]" * 100_000)
    assert f"{f}:1: (json): nested too deeply" in fails("score", f, r)


def test_5000_digit_number_is_refused(tmp_path: Path) -> None:
    raw = json.dumps(FORECAST, indent=2).replace('"p": 0.8', '"p": ' + "9" * 5000)
    f, r = files(tmp_path, raw=raw)
    assert "questions.q1.p: not a probability: expected a number from 0 to 1, found a number " \
        "too large to read" in fails("score", f, r)  # fmt: skip


@pytest.mark.parametrize("raw", ["{not json", "NaN", '{"questions": {"q1": {"p": NaN}}}', ""])
def test_not_json(tmp_path: Path, raw: str) -> None:
    f, r = files(tmp_path, raw=raw)
    fails("score", f, r)


# 4. the resolution file


@pytest.mark.parametrize(
    ("resolutions", "expected"),
    [
        (RESOLUTIONS + "scenario_order: 5\n", "yaml:6: scenario_order: expected a list"),
        (RESOLUTIONS + "scenario_order: [a, [b], c]\n", "scenario_order: expected a list"),
        (RESOLUTIONS + "scenario_order: [a, b]\n", "scenario_order: the order does not list "
         "exactly the forecast's scenarios (a, b, c)"),
        (RESOLUTIONS + "scenario_order: [a, a, b]\n", "scenario_order: repeats an id"),
        (RESOLUTIONS.replace("scenario:", "scenaro:"),
         "resolutions.yaml:2: scenaro: unknown key 'scenaro' (did you mean 'scenario'?)"),
        (RESOLUTIONS.replace("note:", "nte:"),
         "resolutions.yaml:5: questions.q2.nte: unknown key 'nte' (did you mean 'note'?)"),
        (RESOLUTIONS.replace("case: mini", "case: cuba-1962"),
         "resolutions.yaml:1: case: these resolutions are for 'cuba-1962', the forecast is of "
         "'mini'"),
        (RESOLUTIONS.replace("  q2: {outcome: no, note: x}\n", ""),
         "resolutions.yaml:3: questions: not resolved: q2 (in the forecast)"),
        (RESOLUTIONS + "  q3: yes\n", "resolutions.yaml:6: questions.q3: not in the forecast "
         "(its questions: q1, q2)"),
        (RESOLUTIONS.replace("scenario: b\n", ""), "scenario: missing: the forecast has scenarios"),
        (RESOLUTIONS.replace("scenario: b", "scenario: z"),
         "resolutions.yaml:2: scenario: 'z' is not a scenario of the forecast (a, b, c)"),
        (RESOLUTIONS.replace("scenario: b", "scenario: [b]"), "scenario: not an id"),
        (RESOLUTIONS.replace("q1: yes", "q1: [[yes]]"), "questions.q1: outcome must be yes or no"),
        (RESOLUTIONS.replace("q1: yes", "q1: 1:30"), "questions.q1: 1:30 is read as the number 90"),
        ("- 1\n- 2\n", "(top level): expected a mapping"),
        ("case: mini\n", "questions: missing"),
        ("a: " + "[" * 1200 + "]" * 1200 + "\n", "nested too deeply"),
    ],
)  # fmt: skip
def test_bad_resolutions(tmp_path: Path, resolutions: str, expected: str) -> None:
    f, r = files(tmp_path, resolutions=resolutions)
    assert expected in fails("score", f, r)


def test_unresolved_items_are_listed_not_scored(tmp_path: Path) -> None:
    text = RESOLUTIONS.replace("q1: yes", "q1: unresolved").replace("scenario: b", "scenario: "
                                                                   "unresolved")  # fmt: skip
    f, r = files(tmp_path, resolutions=text)
    result = runner.invoke(app, ["score", str(f), str(r)])
    assert result.exit_code == 0, result.output
    assert "Unresolved, not scored: q1, scenario" in result.output
    assert "Questions: 1;" in result.output


def test_swapped_arguments_say_so(tmp_path: Path) -> None:
    f, r = files(tmp_path)
    out = fails("score", r, f)
    assert f"{r}:1: (arguments): the files look swapped" in out
    assert f"standoff score {f} {r}" in out


def test_missing_and_odd_files(tmp_path: Path) -> None:
    f, r = files(tmp_path)
    assert "no such file" in fails("score", tmp_path / "nope.json", r)
    assert "is a directory" in fails("score", tmp_path, r)
    assert "no such file" in fails("score", f, tmp_path / "nope.yaml")


# 5. DEU III rows without positions


def deu3_file(tmp_path: Path) -> Path:
    rows = [
        row(f"d0001{k}i1", {"com": str(10 * k), "de": "50", "fr": "70"},
            {"com": "50", "de": "60"}, out=str(5 * k + 20))
        for k in range(8)
    ]  # fmt: skip
    rows.append(row("d00009i1", {}, {}, out="30"))  # no actor took a position
    path = tmp_path / "nopositions.tsv"
    path.write_text(tsv(*rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("model", model_names())
def test_backtest_issue_without_positions_every_model(tmp_path: Path, model: str) -> None:
    path = deu3_file(tmp_path)
    result = runner.invoke(app, ["backtest", "deu3", str(path), "--model", model, "--train",
                                 str(path), "--calibrate-by", "all"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    # the issue no actor took a position on gets no prediction and is not scored: 8 of 9
    assert re.search(r"│ +8 │", result.output), result.output


def test_run_engine_leaves_empty_issues_unpredicted() -> None:
    import numpy as np

    from standoff.backtest.models import IssueInputs, run_engine

    empty = IssueInputs(np.zeros(0), np.zeros(0), np.zeros(0))
    full = IssueInputs(np.ones(2), np.array([0.0, 100.0]), np.full(2, 0.5))
    for name in model_names():
        if name in ("status-quo", "blend", "best"):
            continue
        out = run_engine(name, [empty, full])
        assert np.isnan(out[0, 0]) and np.isfinite(out[1, 0])
