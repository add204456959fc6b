"""The library's scoring: the rules against hand-worked numbers, the recalibration on data with
a known answer, and `standoff library score` end to end on built-in cases."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.library.score import (
    QuestionItem,
    ScenarioItem,
    apply_logistic,
    fit_logistic,
    question_brier,
    question_log,
    scenario_brier,
    scenario_rps,
    score_library,
)

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_rules_by_hand() -> None:
    assert question_brier(0.7, 1) == pytest.approx(0.09)
    assert question_brier(0.7, 0) == pytest.approx(0.49)
    assert question_log(0.8, 0) == pytest.approx(-math.log(0.2))
    assert question_log(1.0, 0) == pytest.approx(-math.log(1e-6))  # floored, not infinite
    # scenarios (0.5, 0.3, 0.2), the second happened: 0.25 + 0.49 + 0.04
    assert scenario_brier([0.5, 0.3, 0.2], 1) == pytest.approx(0.78)
    # cumulative (0.5, 0.8) against (0, 1): (0.25 + 0.04) / 2
    assert scenario_rps([0.5, 0.3, 0.2], 1) == pytest.approx(0.145)


def test_logistic_fit_recovers_a_known_map() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, 20_000)
    a, b = -0.4, 0.6
    y = rng.random(p.size) < apply_logistic(p, a, b)
    fa, fb = fit_logistic(p, y.astype(int))
    assert fa == pytest.approx(a, abs=0.05)
    assert fb == pytest.approx(b, abs=0.05)


def _items(p_model: list[float], outcomes: list[int], cases: list[str]) -> list[QuestionItem]:
    return [
        QuestionItem(c, f"q{i}", o, {"model": p, "frozen": 0.5 * p + 0.25, "half": 0.5})
        for i, (p, o, c) in enumerate(zip(p_model, outcomes, cases, strict=True))
    ]


def test_pooled_scores_and_paired_differences() -> None:
    cases = [f"c{i // 3}" for i in range(12)]
    outcomes = [1, 0, 0] * 4
    good = _items([0.9, 0.1, 0.2] * 4, outcomes, cases)
    scenarios = [
        ScenarioItem(
            f"c{k}",
            ("a", "b"),
            0,
            {"model": (0.8, 0.2), "frozen": (0.6, 0.4), "uniform": (0.5, 0.5)},
        )
        for k in range(4)
    ]
    scores = score_library(good, scenarios)
    expected = np.mean([(p - o) ** 2 for p, o in zip([0.9, 0.1, 0.2] * 4, outcomes, strict=True)])
    assert scores.pooled_question_brier["model"] == pytest.approx(expected)
    assert scores.pooled_question_brier["half"] == pytest.approx(0.25)
    half = next(d for d in scores.differences if d.baseline == "half")
    assert half.mean == pytest.approx(expected - 0.25)
    assert half.better  # every case is better than 50%: the whole interval is below zero
    uniform = next(d for d in scores.differences if d.baseline == "uniform")
    assert uniform.mean == pytest.approx(0.08 - 0.5)
    # a forecast that is worse than 50% on every case is not called better
    bad = score_library(_items([0.1, 0.9, 0.8] * 4, outcomes, cases), scenarios)
    assert not next(d for d in bad.differences if d.baseline == "half").better


def test_outside_view_is_scored_only_where_mapped() -> None:
    items = _items([0.9, 0.1, 0.2], [1, 0, 0], ["c0"] * 3)
    items[0] = QuestionItem("c0", "q0", 1, {**items[0].forecasts, "outside": 0.3})
    scores = score_library(items, [])
    outside = next(d for d in scores.differences if d.baseline == "outside")
    assert outside.n == 1
    assert outside.baseline_mean == pytest.approx(0.49)


def test_library_score_command_on_built_in_cases(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    (folder / "resolutions").mkdir(parents=True)
    for ident in ("cuba-1962", "us-dprk-2018"):
        shutil.copy(ROOT / "cases" / f"{ident}.yaml", folder)
        shutil.copy(ROOT / "cases" / "resolutions" / f"{ident}.yaml", folder / "resolutions")
    (folder / "unresolved-copy.yaml").write_bytes((ROOT / "cases" / "cuba-1962.yaml").read_bytes())
    out = tmp_path / "scores.json"
    result = runner.invoke(app, ["library", "score", str(folder), "--draws", "300",
                                 "--json", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [c["case"] for c in data["cases"]] == ["cuba-1962", "us-dprk-2018"]
    assert data["unscored"] == [str(folder / "unresolved-copy.yaml")]
    # the pooled question Brier is the mean of (p - o)^2 over every question of the cases
    pairs = [(q["model"], q["outcome"]) for c in data["cases"] for q in c["questions"]]
    assert len(pairs) == data["pooled"]["questions"] == 13
    mean = sum((p - o) ** 2 for p, o in pairs) / len(pairs)
    assert data["pooled"]["question_brier"]["model"] == pytest.approx(mean, abs=2e-4)
    # the model's probabilities are the forecast's, the frozen ones `standoff ablate`'s
    forecast = tmp_path / "cuba.json"
    ablated = tmp_path / "cuba-ablate.json"
    for command, path in (("forecast", forecast), ("ablate", ablated)):
        done = runner.invoke(app, [command, str(folder / "cuba-1962.yaml"), "--draws", "300",
                                   "--seed", "20180815", "--json", str(path)])  # fmt: skip
        assert done.exit_code == 0, done.output
    cuba = data["cases"][0]
    questions = json.loads(forecast.read_text())["questions"]
    for q in cuba["questions"]:
        assert q["model"] == pytest.approx(questions[q["id"]]["p"], abs=1e-4)
    scen = cuba["scenarios"][0]
    frozen = json.loads(ablated.read_text())["scenarios"]
    for ident, p in zip(scen["ids"], scen["frozen"], strict=True):
        assert p == pytest.approx(frozen[ident]["ablated"], abs=1e-4)


def test_library_score_refuses_to_write_over_a_case(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    (folder / "resolutions").mkdir(parents=True)
    shutil.copy(ROOT / "cases" / "cuba-1962.yaml", folder)
    shutil.copy(ROOT / "cases" / "resolutions" / "cuba-1962.yaml", folder / "resolutions")
    before = (folder / "cuba-1962.yaml").read_bytes()
    result = runner.invoke(
        app,
        [
            "library",
            "score",
            str(folder),
            "--draws",
            "100",
            "--json",
            str(folder / "resolutions" / "cuba-1962.yaml"),
        ],
    )
    assert result.exit_code == 2
    assert "refusing to overwrite an input" in result.output
    assert (folder / "cuba-1962.yaml").read_bytes() == before


def test_library_score_names_a_mismatched_resolution(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    (folder / "resolutions").mkdir(parents=True)
    shutil.copy(ROOT / "cases" / "cuba-1962.yaml", folder)
    text = (ROOT / "cases" / "resolutions" / "cuba-1962.yaml").read_text()
    typo = text.replace("  shootdown:", "  shotdown:")
    (folder / "resolutions" / "cuba-1962.yaml").write_text(typo)
    result = runner.invoke(app, ["library", "score", str(folder), "--draws", "100"])
    assert result.exit_code == 2
    assert "cuba-1962.yaml" in result.output and "shootdown" in result.output


def _synthetic(bias: float, cases: int = 20, per_case: int = 8, seed: int = 4) -> list:
    """Questions whose truth is drawn from p, forecast as p with its logit moved by `bias`."""
    rng = np.random.default_rng(seed)
    items = []
    for c in range(cases):
        for q in range(per_case):
            p = float(rng.uniform(0.05, 0.95))
            shown = float(apply_logistic([p], bias, 1.0)[0])
            outcome = int(rng.random() < p)
            items.append(QuestionItem(f"c{c}", f"q{q}", outcome,
                                      {"model": shown, "frozen": 0.5, "half": 0.5}))  # fmt: skip
    return items


def test_recalibration_repairs_a_biased_forecaster_and_leaves_a_sound_one() -> None:
    biased = score_library(_synthetic(-2.0), [])
    assert biased.recalibration is not None and biased.recalibration.improves
    assert biased.recalibration.a == pytest.approx(2.0, abs=0.6)  # it learns the bias back
    sound = score_library(_synthetic(0.0), [])
    assert sound.recalibration is not None and not sound.recalibration.improves
    names = [(d.forecaster, d.baseline) for d in biased.recalibrated_differences]
    assert names == [("model, recalibrated", "frozen"),
                     ("model, recalibrated", "frozen, recalibrated"),
                     ("model, recalibrated", "half")]  # fmt: skip
    # each question is mapped by a fit that did not see its case: changing one case's outcomes
    # leaves its own mapped probabilities as they were
    items = _synthetic(-2.0)
    flipped = [QuestionItem(q.case, q.id, 1 - q.outcome, q.forecasts) if q.case == "c0" else q
               for q in items]  # fmt: skip
    a = score_library(items, []).recalibration
    b = score_library(flipped, []).recalibration
    assert a is not None and b is not None
    np.testing.assert_allclose(a.mapped[:8], b.mapped[:8])
    assert not np.allclose(a.mapped[8:], b.mapped[8:])


def test_library_tune_chooses_each_case_without_it(tmp_path: Path) -> None:
    """`library tune` scores every candidate on every case and forecasts each case under the
    setting best on the others; its JSON says so, and a case that states its own setting is left
    out of the choice."""
    folder = tmp_path / "lib"
    (folder / "resolutions").mkdir(parents=True)
    for ident in ("cuba-1962", "us-dprk-2018"):
        shutil.copy(ROOT / "cases" / f"{ident}.yaml", folder)
        shutil.copy(ROOT / "cases" / "resolutions" / f"{ident}.yaml", folder / "resolutions")
    stated = (ROOT / "cases" / "cuba-1962.yaml").read_text()
    stated = stated.replace("id: cuba-1962", "id: cuba-own").replace(
        "\ncrisis:\n", "\ncrisis:\n  odds_factor: 2\n", 1
    )
    (folder / "cuba-own.yaml").write_text(stated)
    resolution = (ROOT / "cases" / "resolutions" / "cuba-1962.yaml").read_text()
    (folder / "resolutions" / "cuba-own.yaml").write_text(
        resolution.replace("case: cuba-1962", "case: cuba-own")
    )
    out = tmp_path / "tune.json"
    command = ["library", "tune", str(folder), "--paces", "engine, 6 months", "--odds", "1, 3"]
    result = runner.invoke(app, [*command, "--draws", "200", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["stated_own_setting"] == ["cuba-own"]
    table = data["per_case_question_brier"]
    assert len(table) == 4 and all(set(v) == {"cuba-1962", "us-dprk-2018"} for v in table.values())

    def mean(setting: str, cases: list[str]) -> float:
        values = [v for c in cases for v in table[setting][c]]
        return sum(values) / len(values)

    for case, chosen in data["leave_one_case_out"]["per_case"].items():
        other = [c for c in ("cuba-1962", "us-dprk-2018") if c != case]
        assert mean(chosen, other) == pytest.approx(min(mean(s, other) for s in table), abs=1e-9)
    # the held-out forecasts against 50% and against the first candidate, item by item
    loco = data["leave_one_case_out"]
    held = [v for c, chosen in loco["per_case"].items() for v in table[chosen][c]]
    written = [v for c in loco["per_case"] for v in table["pace engine, odds x1"][c]]
    half, first = loco["differences"]
    assert (half["baseline"], first["baseline"]) == ("half", "pace engine, odds x1")
    assert half["items"] == len(held) and half["cases"] == 2
    assert half["forecast_mean"] == pytest.approx(loco["question_brier"], abs=1e-4)
    assert half["difference"] == pytest.approx(sum(held) / len(held) - 0.25, abs=1e-4)
    diff = sum(a - b for a, b in zip(held, written, strict=True)) / len(held)
    assert first["difference"] == pytest.approx(diff, abs=1e-4)
    assert half["interval_90"][0] <= half["difference"] <= half["interval_90"][1]
    bad = runner.invoke(app, ["library", "tune", str(folder), "--odds", "0"])
    assert bad.exit_code == 2 and "odds factor" in bad.output
