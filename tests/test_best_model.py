"""The best model (`--model best`): chosen by cross-validation on training issues alone."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.backtest import best
from standoff.backtest.deu3 import parse_deu3, read_deu3
from standoff.backtest.models import Setup, group_folds
from standoff.backtest.run import predict
from standoff.cli import app

from .test_backtest_deu3 import DEV, needs_data
from .test_conformal import synthetic

runner = CliRunner()


def problem(n: int = 120, seed: int = 0):
    """Three candidate columns; outcomes follow column 0 under QMV and column 2 under Unan, with
    noise; proposals of two issues."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, (n, 3))
    voting = np.array(["Unan" if i % 4 == 0 else "QMV" for i in range(n)])
    truth = np.where(voting == "QMV", x[:, 0], x[:, 2])
    y = np.clip(truth + rng.laplace(0, 3, n), 0, 100)
    groups = [f"p{i // 2}" for i in range(n)]
    return x, y, voting, groups


def test_lad_simplex_recovers_a_convex_combination() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, (80, 4))
    y = x @ np.array([0.5, 0.0, 0.3, 0.2])
    w = best.lad_simplex(x, y)
    np.testing.assert_allclose(w, [0.5, 0.0, 0.3, 0.2], atol=1e-6)
    # least absolute deviations: a few wild outcomes do not move it
    y[:5] = 100 - y[:5]
    np.testing.assert_allclose(best.lad_simplex(x, y), [0.5, 0.0, 0.3, 0.2], atol=0.05)


def test_switch_and_stack_fit_per_voting_rule() -> None:
    x, y, voting, _ = problem()
    switch = best.Method("switch").fit(x, y, voting)
    assert switch["QMV"].tolist() == [1, 0, 0] and switch["Unan"].tolist() == [0, 0, 1]
    stack = best.Method("stack").fit(x, y, voting)
    assert stack["QMV"][0] > 0.9 and stack["Unan"][2] > 0.9
    assert best.Method("single", 1).fit(x, y, voting) == {"*": pytest.approx([0, 1, 0])}
    # a rule with too few training issues takes the pooled fit
    few = np.array(["QMV"] * (len(y) - 3) + ["Unan"] * 3)
    assert best.Method("switch").fit(x, y, few)["Unan"].tolist() == switch["*"].tolist()


def test_choice_by_cross_validation() -> None:
    x, y, voting, groups = problem()
    method, scores = best.choose(x, y, voting, groups, 5, 0)
    assert method.kind in ("switch", "stack")
    assert scores[method.label([str(c) for c in range(3)])] == min(scores.values())
    # where one column is the truth everywhere, the simplest method that has it wins
    one = x[:, 1] + 0.0
    method, _ = best.choose(x, one, voting, groups, 5, 0)
    assert (method.kind, method.column) == ("single", 1)


def test_nested_predictions_never_see_their_own_fold() -> None:
    """Out of fold, the choice included: poisoning a fold's outcomes leaves its predictions, and
    changes the others' (the stack fitted with them), so a leak would show."""
    x, _, voting, groups = problem()
    rng = np.random.default_rng(2)
    y = np.clip(0.5 * x[:, 0] + 0.5 * x[:, 2] + rng.laplace(0, 3, len(x)), 0, 100)
    labels = ["a", "b", "c"]
    clean = best.nested(x, y, voting, groups, 5, 0, labels)
    assert set(clean.chosen) == {"stack"}
    fold = group_folds(groups, 5, 0)
    poisoned = y.copy()
    poisoned[fold == 2] = x[fold == 2, 1]
    again = best.nested(x, poisoned, voting, groups, 5, 0, labels)
    np.testing.assert_allclose(again.point[fold == 2], clean.point[fold == 2])
    assert not np.allclose(again.point[fold != 2], clean.point[fold != 2])
    x3, y3, voting3, groups3 = problem()
    fit = best.nested(x3, y3, voting3, groups3, 5, 0, labels)
    err = np.abs(fit.point - y3).mean()
    assert err < np.abs(x3[:, 0] - y3).mean() and err < np.abs(x3[:, 2] - y3).mean()


def test_fitted_on_training_issues_predicts_new_ones() -> None:
    x, y, voting, groups = problem()
    new_x, _, new_voting, _ = problem(seed=5)
    fit = best.fitted(x, y, voting, groups, new_x, new_voting, 5, 0, ["a", "b", "c"])
    expect = np.where(new_voting == "QMV", new_x[:, 0], new_x[:, 2])
    assert np.abs(fit.point - expect).mean() < 2
    assert fit.chosen[0] in ("switch", "stack")
    assert "QMV:" in best.describe(fit, ["a", "b", "c"])
    with pytest.raises(ValueError, match="no training issues with outcomes"):
        best.Method("switch").fit(x, np.full(len(y), np.nan), voting)


def test_best_on_a_file_with_outcomes_and_its_interval() -> None:
    data = parse_deu3(synthetic(seed=3), "syn.tsv")
    made = predict("best", data, Setup(capabilities="equal"), calibrate=True)
    assert made.point.shape == (len(data.issues),) and np.isfinite(made.point).all()
    assert any("nested" in n for n in made.notes)
    assert any(re.search(r"best − compromise: [-+]\d+\.\d\d MAE, 90% paired", n)
               for n in made.notes)  # fmt: skip
    lo, hi = made.predictive() or (None, None)
    assert lo is not None and hi is not None and (lo <= made.point + 1e-9).all()


def test_best_on_a_file_without_outcomes_is_fitted_on_the_training_file(tmp_path: Path) -> None:
    (tmp_path / "deu3-dev.tsv").write_text(synthetic(seed=1))
    inputs = tmp_path / "inputs.tsv"
    inputs.write_text(synthetic(seed=2, outcomes=False))
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["backtest", "deu3", str(inputs), "--model", "best",
                                 "--capabilities", "equal", "--predictions", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "chosen by 5-fold cross-validation on" in result.output
    assert "best cross-validated there" in result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 60 and list(rows[0]) == ["isnr", "prediction", "low80", "high80"]
    # the same without the training file's outcomes is refused, not guessed
    unscored = parse_deu3(synthetic(seed=2, outcomes=False), "u.tsv")
    from standoff.errors import CaseError

    with pytest.raises(CaseError, match=r"u\.tsv:1: out: best: no outcomes here"):
        predict("best", unscored, Setup(capabilities="equal"))


@needs_data
@pytest.mark.slow
def test_best_on_the_dev_split() -> None:
    """The one DEU III run of every new engine: each candidate's dev MAE, and the best model's
    nested cross-validated MAE and its gain over the compromise model (docs/backtests.md)."""
    data = read_deu3(DEV)
    x = best.candidate_predictions(data, Setup())
    y = np.array([i.outcome for i in data.issues])
    known = ~np.isnan(y)
    mae = {c.label: float(np.abs(x[:, j] - y)[known].mean()) for j, c in enumerate(best.CANDIDATES)}
    expect = {
        "compromise": 23.35, "eum": 26.96, "smp": 23.51, "exchange": 23.22, "condorcet": 26.99,
        "condorcet(pce=markov_uniform)": 24.55, "nash": 37.87, "nash(disagreement=worst)": 23.82,
        "nash(disagreement=worst,utility=linear)": 22.70, "procedural": 36.82, "median": 28.16,
    }  # fmt: skip
    for label, value in expect.items():
        assert mae[label] == pytest.approx(value, abs=0.005), label
    labels = [c.label for c in best.CANDIDATES]
    voting = np.array([i.voting for i in data.issues])
    groups = [i.proposal for i in data.issues]
    fit = best.nested(x, y, voting, groups, 5, 0, labels)
    gain = np.abs(fit.point - y)[known].mean() - np.abs(x[:, 0] - y)[known].mean()
    assert np.abs(fit.point - y)[known].mean() == pytest.approx(22.59, abs=0.005)
    assert gain == pytest.approx(-0.76, abs=0.005)
