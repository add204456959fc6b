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
        app, ["backtest", "deu3", str(small(tmp_path)), "--model", "compromise", "--no-interval",
              "--predictions", str(out), "--draws", "20", "--bootstrap", "100", "--markdown"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "MAE" in result.output and "CRPS" in result.output
    assert "input band coverage" in result.output and "predictive" not in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["isnr", "prediction", "band_low80", "band_high80"]
    assert [r["isnr"] for r in rows] == ["d00001i1", "d00001i2", "d00002i1"]
    for r in rows:
        assert 0 <= float(r["band_low80"]) <= float(r["prediction"]) <= float(r["band_high80"])
        assert float(r["band_high80"]) <= 100


def test_backtest_predicts_only_without_outcomes(tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    path = small(tmp_path, outcomes=False)
    result = runner.invoke(app, ["backtest", "deu3", str(path), "--model", "median",
                                 "--no-interval", "--predictions", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "predictions only" in result.output and "MAE" not in result.output
    assert next(iter(csv.reader(out.open()))) == ["isnr", "prediction"]


def synthetic_file(tmp_path: Path, name: str, outcomes: bool = True, seed: int = 0) -> Path:
    from .test_conformal import synthetic

    path = tmp_path / name
    path.write_text(synthetic(seed=seed, outcomes=outcomes), encoding="utf-8")
    return path


def test_backtest_predictive_interval_columns_and_scores(tmp_path: Path) -> None:
    data = synthetic_file(tmp_path, "syn.tsv")
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["backtest", "deu3", str(data), "--model", "median",
                                 "--predictions", str(out), "--bootstrap", "100",
                                 "--markdown"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "80% predictive (conformal) coverage" in result.output
    assert "input band" not in result.output  # no draws: no band
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["isnr", "prediction", "low80", "high80"]
    for r in rows:
        assert 0 <= float(r["low80"]) <= float(r["prediction"]) <= float(r["high80"]) <= 100
    # every model, with draws: model first, then the interval, then the band (empty for the
    # models without draws)
    result = runner.invoke(app, ["backtest", "deu3", str(data), "--model", "all", "--draws", "3",
                                 "--predictions", str(out), "--bootstrap", "100",
                                 "--capabilities", "equal", "--markdown"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "input band coverage" in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["model", "isnr", "prediction", "low80", "high80",
                             "band_low80", "band_high80"]  # fmt: skip
    by_model = {r["model"]: r for r in rows}
    assert by_model["blend"]["low80"] and not by_model["blend"]["band_low80"]
    assert by_model["eum"]["low80"] and by_model["eum"]["band_low80"]


def test_backtest_interval_on_a_file_without_outcomes(tmp_path: Path) -> None:
    """Inputs without outcomes are calibrated on deu3-dev.tsv beside them: one half-width per
    voting rule, the training file's."""
    synthetic_file(tmp_path, "deu3-dev.tsv", seed=1)
    inputs = synthetic_file(tmp_path, "inputs.tsv", outcomes=False, seed=2)
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["backtest", "deu3", str(inputs), "--model", "compromise",
                                 "--predictions", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "calibrated on" in result.output and "deu3-dev.tsv" in result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["isnr", "prediction", "low80", "high80"]
    unclipped = [
        float(r["high80"]) - float(r["prediction"])
        for r in rows
        if float(r["high80"]) < 100 and float(r["low80"]) > 0
    ]
    assert len(unclipped) > 5 and len({round(w, 2) for w in unclipped}) <= 2  # QMV and Unan


def test_backtest_interval_errors_exit_2(tmp_path: Path) -> None:
    def fails(*args: str) -> str:
        result = runner.invoke(app, ["backtest", "deu3", *args])
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
        return result.output

    # too few outcomes to calibrate (3 issues, 2 proposals)
    text = fails(str(small(tmp_path)), "--model", "median")
    assert "small.tsv:1: out: median: " in text and "too few to calibrate" in text
    # a training file without outcomes
    unscored = synthetic_file(tmp_path, "unscored.tsv", outcomes=False)
    text = fails(str(unscored), "--train", str(unscored))
    assert f"{unscored}:1: out: no outcomes to fit or calibrate on" in text
    # no outcomes and no training file beside
    assert "give --train FILE" in fails(str(unscored))
    # a voting rule with too few issues to calibrate on its own; pooled, it calibrates
    lines = synthetic_file(tmp_path, "syn.tsv").read_text().splitlines()
    kept = [ln for ln in lines[2:] if "\tUnan\t" not in ln]
    unan = [ln for ln in lines[2:] if "\tUnan\t" in ln][:3]
    few = tmp_path / "few.tsv"
    few.write_text("\n".join([*lines[:2], *kept, *unan]) + "\n")
    text = fails(str(few), "--model", "median")
    assert "Unan" in text and "--calibrate-by all" in text
    result = runner.invoke(app, ["backtest", "deu3", str(few), "--model", "median",
                                 "--calibrate-by", "all", "--bootstrap", "100"])  # fmt: skip
    assert result.exit_code == 0, result.output
    fails(str(few), "--calibrate-by", "x")


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
    assert "predictive interval" in result.output and "calibrated on" in result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 142 and list(rows[0]) == ["isnr", "prediction", "low80", "high80"]
    assert all(float(r["low80"]) <= float(r["prediction"]) <= float(r["high80"]) for r in rows)


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
    resolutions = read_resolutions(ROOT / "cases" / "resolutions" / f"{case}.yaml")
    assert set(resolutions.questions) == {q.id for q in loaded.questions}
    assert resolutions.scenario in {s.id for s in loaded.scenarios}
