"""`standoff backtest` and `standoff score` end to end, and their errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app

from .test_backtest_deu3 import DEV, HOLDOUT, needs_data, row, tsv

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def small(tmp_path: Path, outcomes: bool = True) -> Path:
    out = {"out": "40"} if outcomes else {}
    rows = [
        row("d00001i1", {"com": "100", "de": "0", "fr": "50"}, {"com": "80", "de": "60"},
            counvte="Unan", rp="0", **out),
        row("d00001i2", {"com": "0", "uk": "100", "de": "20"}, {"com": "50", "uk": "50"}, **out),
        row("d00002i1", {"com": "30", "uk": "100", "pl": "20"}, {"com": "50", "pl": "50"}, **out),
    ]  # fmt: skip
    path = tmp_path / "small.tsv"
    path.write_text(tsv(*rows), encoding="utf-8")
    return path


def test_backtest_scores_and_writes_predictions(tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    result = runner.invoke(
        app, ["backtest", "deu3", str(small(tmp_path)), "--model", "compromise",
              "--predictions", str(out), "--draws", "20", "--bootstrap", "100"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "MAE" in result.output and "CRPS" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["isnr"] for r in rows] == ["d00001i1", "d00001i2", "d00002i1"]
    for r in rows:
        assert 0 <= float(r["lower80"]) <= float(r["prediction"]) <= float(r["upper80"]) <= 100


def test_backtest_predicts_only_without_outcomes(tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    path = small(tmp_path, outcomes=False)
    result = runner.invoke(app, ["backtest", "deu3", str(path), "--model", "median",
                                 "--predictions", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "predictions only" in result.output and "MAE" not in result.output
    assert next(iter(csv.reader(out.open()))) == ["isnr", "prediction"]


def test_backtest_bad_input_exits_2_with_file_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "deu3", str(tmp_path / "none.tsv")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'none.tsv'}:1: (file): no such file" in result.output
    bad = tmp_path / "bad.tsv"
    bad.write_text("isnr\tout\nx\t1\n")
    result = runner.invoke(app, ["backtest", "deu3", str(bad)])
    assert result.exit_code == 2 and f"{bad}:1: (header): missing columns" in result.output
    assert "Traceback" not in result.output
    for args in (["backtest", "nope", str(bad)], ["backtest", "deu3", str(bad), "--model", "x"]):
        assert runner.invoke(app, args).exit_code == 2


@needs_data
@pytest.mark.slow
def test_backtest_real_files_every_fast_model(tmp_path: Path) -> None:
    for model in ("compromise", "median", "eum", "blend"):
        result = runner.invoke(app, ["backtest", "deu3", str(DEV), "--model", model,
                                     "--bootstrap", "200"])  # fmt: skip
        assert result.exit_code == 0, result.output
    out = tmp_path / "holdout.csv"
    result = runner.invoke(app, ["backtest", "deu3", str(HOLDOUT), "--model", "blend",
                                 "--predictions", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "fitted on" in result.output and "deu3-dev.tsv" in result.output
    assert len(list(csv.DictReader(out.open()))) == 142


def forecast_json(tmp_path: Path) -> Path:
    data = {
        "scenarios": {"a": {"p": 0.5}, "b": {"p": 0.3}, "c": {"p": 0.2}},
        "questions": {"q1": {"p": 0.8}, "q2": {"p": 0.1}},
    }
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    return path


def test_score_by_hand(tmp_path: Path) -> None:
    res = tmp_path / "r.yaml"
    res.write_text("scenario: b\nscenario_order: [a, b, c]\nquestions:\n  q1: yes\n"
                   "  q2: {outcome: yes, note: surprise}\n")  # fmt: skip
    result = runner.invoke(app, ["score", str(forecast_json(tmp_path)), str(res)])
    assert result.exit_code == 0, result.output
    # q1: Brier 2 * 0.2^2 = 0.08, log -ln 0.8 = 0.223, RPS 0.04
    # q2: Brier 2 * 0.9^2 = 1.62, log -ln 0.1 = 2.303, RPS 0.81
    # scenarios (b): Brier 0.25 + 0.49 + 0.04 = 0.78; RPS ((0.5)^2 + (0.8 - 1)^2) / 2 = 0.145
    for text in ("0.080", "0.223", "0.040", "1.620", "2.303", "0.810", "0.780", "0.145"):
        assert text in result.output
    assert "mean Brier 0.850" in result.output


def test_score_bad_resolutions(tmp_path: Path) -> None:
    f = forecast_json(tmp_path)
    res = tmp_path / "r.yaml"
    res.write_text("questions:\n  q1: maybe\n  q9: yes\n")
    result = runner.invoke(app, ["score", str(f), str(res)])
    assert result.exit_code == 2
    assert f"{res}:2: questions.q1: outcome must be yes or no" in result.output
    res.write_text("questions:\n  q9: yes\n")
    result = runner.invoke(app, ["score", str(f), str(res)])
    assert result.exit_code == 2 and f"{res}:2: questions.q9: not in the forecast" in result.output
    res.write_text("questions: [unclosed\n")
    assert runner.invoke(app, ["score", str(f), str(res)]).exit_code == 2
    assert runner.invoke(app, ["score", str(f)]).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["score", str(bad), str(res)])
    assert result.exit_code == 2 and f"{bad}:1: (json):" in result.output


@pytest.mark.parametrize("case", ["us-dprk-2018", "cuba-1962"])
def test_builtin_resolutions_cover_every_question(case: str) -> None:
    from standoff.backtest.resolve import read_resolutions
    from standoff.case import load_case

    loaded = load_case(case)
    data, _ = read_resolutions(ROOT / "cases" / "resolutions" / f"{case}.yaml")
    assert set(data["questions"]) == {q.id for q in loaded.questions}
    assert data["scenario"] in {s.id for s in loaded.scenarios}
