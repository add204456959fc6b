"""The one orchestration of a forecast (`standoff.service`): the command line and the workspace
are shells around it, so what it returns is what both show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load
from standoff.pipeline.forecast import run
from standoff.pipeline.memory import TooBig
from standoff.serialize import forecast_json
from standoff.service import ForecastRequest, case_hash, check, forecast

ROOT = Path(__file__).resolve().parents[1]


def test_a_request_runs_the_forecast_it_names() -> None:
    compiled = load("cuba-1962")
    outcome = forecast(ForecastRequest(compiled, draws=400, seed=9))
    direct = run(compiled, draws=400, seed=9)
    assert outcome.report is None
    assert forecast_json(outcome.result) == forecast_json(direct)


def test_a_report_request_screens_the_drivers_and_builds_the_report() -> None:
    request = ForecastRequest(load("cuba-1962"), draws=300, seed=9, report=True, trajectories=2,
                              replicates=8, reproduce="standoff forecast cuba-1962")  # fmt: skip
    assert request.drivers
    outcome = forecast(request)
    assert outcome.result.drivers is not None and outcome.report is not None
    assert outcome.report.drivers and "standoff forecast cuba-1962" in str(outcome.report.footer)


def test_a_plain_bargaining_case_has_no_drivers_to_screen() -> None:
    table = ROOT / "tests" / "data" / "bdm-emissions.csv"  # a published table, no crisis
    request = ForecastRequest(load(table), draws=50, model="compromise", report=True)
    assert not request.drivers
    assert forecast(request).report is None


def test_a_request_too_big_for_memory_is_refused_before_it_runs() -> None:
    with pytest.raises(TooBig, match="--chunk-size 1,000,000,000,000 needs"):
        check(ForecastRequest(load("us-dprk-2018"), draws=10**12, chunk_size=10**12))
    check(ForecastRequest(load("us-dprk-2018"), draws=1000))


def test_the_command_line_prints_and_writes_what_the_service_returns(tmp_path: Path) -> None:
    out = tmp_path / "cuba.json"
    result = CliRunner().invoke(
        app, ["forecast", "cuba-1962", "--draws", "400", "--seed", "9", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    served = forecast(ForecastRequest(load("cuba-1962"), draws=400, seed=9)).result
    assert json.loads(out.read_text()) == json.loads(json.dumps(forecast_json(served)))


def test_the_case_hash_is_the_sha256_of_its_bytes() -> None:
    assert case_hash(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
