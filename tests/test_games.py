"""Crisis games estimated from data (standoff.games): the formula notation, the coding of the
regressors, the likelihood's gradient, the estimator on data simulated from known utilities, the
refusals of unidentified models, draws of the coefficients, and the `standoff games` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.errors import CaseError
from standoff.games.design import build
from standoff.games.fit import FitError, fit_design, fit_table
from standoff.games.formula import FormulaSyntaxError, parse_formula
from standoff.games.io import read_table
from standoff.games.likelihood import loglik, loglik_gradient
from standoff.games.model import EGAME12, choices
from standoff.games.predict import draw_coefficients, outcome_probabilities
from standoff.games.saved import read_model

from .conftest import clear_refusal, shared

runner = CliRunner()

WAR = "esc + war ~ s_wt_re1 + revis1 | 0 | regime1 | balanc + regime2"


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text(
        ",".join(header) + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows)
    )
    return path


def _simulate(n: int, theta: np.ndarray, seed: int, kind: str = "agent") -> list[list[object]]:
    """Rows (x, z, g, a, b) played by the game with utilities U11 = b0 + b1 x, U13 = 0,
    U14 = c0 + c1 g (g a text column: off/on), U24 = d0 + d1 z."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    g = rng.integers(0, 2, n)
    X = [
        np.column_stack([np.ones(n), x]),
        np.zeros((n, 0)),
        np.column_stack([np.ones(n), g]),
        np.column_stack([np.ones(n), z]),
    ]
    P = choices(theta, X, "probit", kind).outcomes()
    u = rng.random(n)
    y = (u > P[:, 0]).astype(int) + (u > P[:, 0] + P[:, 1]).astype(int)
    return [
        [f"{x[i]:.17g}", f"{z[i]:.17g}", "on" if g[i] else "off", int(y[i] > 0), int(y[i] == 2)]
        for i in range(n)
    ]


SIM = "a + b ~ x | 0 | g | z"
TRUE = np.array([0.3, -0.8, -0.5, 1.2, 0.4, 0.9])


# -- the formula --------------------------------------------------------------------------------


def test_formula_reads_the_packages_example():
    f = parse_formula(WAR)
    assert f.outcome == ("esc", "war")
    assert [eq.terms for eq in f.equations] == [
        (("s_wt_re1",), ("revis1",)),
        (),
        (("regime1",),),
        (("balanc",), ("regime2",)),
    ]
    assert [eq.intercept for eq in f.equations] == [True, False, True, True]
    assert f.text() == WAR


def test_formula_intercepts_products_and_removals_follow_r():
    f = parse_formula("y ~ a:b + c - 1 | 1 | a*b - b | `odd name` + 0")
    u11, u13, u14, u24 = f.equations
    assert u11.terms == (("c",), ("a", "b")) and not u11.intercept  # main effects first
    assert u13.terms == () and u13.intercept
    assert u14.terms == (("a",), ("a", "b")) and u14.intercept
    assert u24.terms == (("odd name",),) and not u24.intercept


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("esc + war ~ x | 0 | z", "3 utility equation"),
        ("esc ~ x | 0 | log(z) | w", "not supported"),
        ("a + b + c ~ x | 0 | z | w", "names 3 columns"),
        ("esc ~ x + 2 | 0 | z | w", "the number 2"),
        ("esc x | 0 | z | w", "one '~'"),
        ("esc ~ x | | z | w", "equation 2 is empty"),
        ("esc ~ x $ y | 0 | z | w", "'$'"),
        ("esc ~ esc | 0 | z | w", "also a regressor"),
        (
            "esc ~ " + "*".join(f"x{k}" for k in range(30)) + " | 0 | z | w",
            "at most 6 may be crossed",
        ),
        ("esc ~ " + "+".join(f"x{k}" for k in range(300)) + " | 0 | z | w", "more than 200 terms"),
    ],
)
def test_formula_refusals_say_what_is_wrong(text: str, message: str):
    with pytest.raises(FormulaSyntaxError, match=message.replace("(", r"\(").replace("$", r"\$")):
        parse_formula(text)


# -- the design ---------------------------------------------------------------------------------


def test_design_codes_factors_as_r_and_leaves_out_incomplete_rows():
    table = read_table(shared("games", "war1800.csv", what="war1800 data"))
    design = build(table, parse_formula(WAR), EGAME12.prefixes)
    assert len(table) == 313 and len(design.y) == 282 and design.left_out == 31
    assert design.outcomes == ("~esc", "esc,~war", "esc,war")
    assert design.columns == [
        ["(Intercept)", "s_wt_re1", "revis1"],
        [],
        ["(Intercept)", "regime1dem", "regime1mixed"],
        ["(Intercept)", "balanc", "regime2dem", "regime2mixed"],
    ]
    assert design.levels == {
        "regime1": ("autoc", "dem", "mixed"),
        "regime2": ("autoc", "dem", "mixed"),
    }
    # without an intercept, the first factor of an equation gets every level
    no_intercept = parse_formula("esc + war ~ s_wt_re1 | 0 | regime1 - 1 | balanc")
    d2 = build(table, no_intercept, EGAME12.prefixes)
    assert d2.columns[2] == ["regime1autoc", "regime1dem", "regime1mixed"]
    assert np.all(d2.X[2].sum(axis=1) == 1)


def test_text_outcome_needs_its_order(tmp_path: Path):
    path = _csv(tmp_path / "d.csv", ["y", "x"], [["sq", 1], ["war", 2], ["cap", 3]])
    table = read_table(path)
    with pytest.raises(CaseError, match="--outcomes"):
        build(table, parse_formula("y ~ x | 0 | 1 | 1"), EGAME12.prefixes)
    design = build(
        table, parse_formula("y ~ x | 0 | 1 | 1"), EGAME12.prefixes, ["sq", "cap", "war"]
    )
    assert design.y.tolist() == [0, 2, 1]
    with pytest.raises(CaseError, match="'war' is not one of the outcomes"):
        build(table, parse_formula("y ~ x | 0 | 1 | 1"), EGAME12.prefixes, ["sq", "cap", "peace"])


def test_two_column_outcome_takes_only_0_and_1(tmp_path: Path):
    path = _csv(tmp_path / "d.csv", ["a", "b", "x"], [[0, 0, 1], [1, 2, 2], [1, 1, 3]])
    with pytest.raises(CaseError) as e:
        build(read_table(path), parse_formula("a + b ~ x | 0 | 1 | 1"), EGAME12.prefixes)
    assert str(e.value).startswith(f"{path}:3: b: '2'")


# -- the likelihood -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "kind"), [("probit", "agent"), ("logit", "agent"), ("probit", "private")]
)
def test_gradient_is_the_derivative_of_the_log_likelihood(link: str, kind: str, tmp_path: Path):
    rows = _simulate(400, TRUE, seed=3)
    table = read_table(_csv(tmp_path / "s.csv", ["x", "z", "g", "a", "b"], rows))
    design = build(table, parse_formula(SIM), EGAME12.prefixes)
    rng = np.random.default_rng(0)
    for _ in range(3):
        theta = rng.normal(size=len(TRUE))
        g = loglik_gradient(theta, design.X, design.y, link, kind)
        h = 1e-6
        numeric = np.array(
            [
                (
                    loglik(theta + h * e, design.X, design.y, link, kind)
                    - loglik(theta - h * e, design.X, design.y, link, kind)
                )
                / (2 * h)
                for e in np.eye(len(theta))
            ]
        )
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("kind", ["agent", "private"])
def test_estimator_recovers_the_utilities_it_was_simulated_with(tmp_path: Path, kind: str):
    rows = _simulate(20_000, TRUE, seed=11, kind=kind)
    table = read_table(_csv(tmp_path / "s.csv", ["x", "z", "g", "a", "b"], rows))
    fit = fit_table(table, parse_formula(SIM), "probit", kind)
    assert fit.converged and fit.locally_identified
    assert fit.names == [
        "u1(~a):(Intercept)",
        "u1(~a):x",
        "u1(a,b):(Intercept)",
        "u1(a,b):gon",
        "u2(a,b):(Intercept)",
        "u2(a,b):z",
    ]
    z = (fit.estimate - TRUE) / fit.standard_errors
    assert np.all(np.abs(z) < 4), z


# -- refusals of models that cannot be fitted -----------------------------------------------------


def _war_design(formula: str):
    table = read_table(shared("games", "war1800.csv", what="war1800 data"))
    f = parse_formula(formula)
    return build(table, f, EGAME12.prefixes), f


def test_a_regressor_in_all_three_of_player_1s_utilities_is_refused():
    design, f = _war_design("esc + war ~ s_wt_re1 | s_wt_re1 | s_wt_re1 + regime1 | balanc")
    with pytest.raises(FitError, match=r"not identified.*s_wt_re1"):
        fit_design(design, f)


def test_linearly_dependent_regressors_are_refused():
    table = read_table(shared("games", "war1800.csv", what="war1800 data"))
    table.cells["balanc2"] = list(table.cells["balanc"])  # a copy under another name
    table.header.append("balanc2")
    f = parse_formula("esc + war ~ s_wt_re1 | 0 | regime1 | balanc + balanc2")
    with pytest.raises(FitError, match=r"u2\(esc,war\).*linearly dependent"):
        fit_design(build(table, f, EGAME12.prefixes), f)


def test_private_information_is_probit_only():
    design, f = _war_design(WAR)
    with pytest.raises(FitError, match="probit"):
        fit_design(design, f, "logit", "private")


# -- prediction and draws -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def war_fit():
    table = read_table(shared("games", "war1800.csv", what="war1800 data"))
    return fit_table(table, parse_formula(WAR))


def test_prediction_by_name_equals_prediction_of_the_data(war_fit):
    values = {"s_wt_re1": 0.2, "revis1": 1.0, "regime1": "dem", "balanc": 0.6, "regime2": "autoc"}
    P = outcome_probabilities(war_fit, values, 1)
    b = dict(zip(war_fit.names, war_fit.estimate, strict=True))
    X = [
        np.array([[1, 0.2, 1.0]]),
        np.zeros((1, 0)),
        np.array([[1, 1, 0]]),
        np.array([[1, 0.6, 0, 0]]),
    ]
    assert P == pytest.approx(choices(war_fit.estimate, X, "probit", "agent").outcomes())
    assert P.sum() == pytest.approx(1.0)
    # by hand: p4 = Phi(U24 / sqrt 2), p2 = Phi((p3 U13 + p4 U14 - U11) / sqrt 2)
    from scipy.stats import norm

    u24 = b["u2(esc,war):(Intercept)"] + 0.6 * b["u2(esc,war):balanc"]
    u14 = b["u1(esc,war):(Intercept)"] + b["u1(esc,war):regime1dem"]
    u11 = b["u1(~esc):(Intercept)"] + 0.2 * b["u1(~esc):s_wt_re1"] + b["u1(~esc):revis1"]
    p4 = norm.cdf(u24 / np.sqrt(2))
    p2 = norm.cdf((p4 * u14 - u11) / np.sqrt(2))
    assert P[0] == pytest.approx([1 - p2, p2 * (1 - p4), p2 * p4], abs=1e-12)
    with pytest.raises(ValueError, match="'oligarchy' is not one of the levels"):
        outcome_probabilities(war_fit, {**values, "regime2": "oligarchy"}, 1)
    with pytest.raises(ValueError, match="no value for 'balanc'"):
        outcome_probabilities(war_fit, {k: v for k, v in values.items() if k != "balanc"}, 1)


def test_drawn_coefficients_have_the_estimated_covariance(war_fit):
    draws = draw_coefficients(war_fit, 200_000, np.random.default_rng(5))
    assert draws.mean(axis=0) == pytest.approx(
        war_fit.estimate, abs=4 * war_fit.standard_errors.max() / 400
    )
    np.testing.assert_allclose(
        np.cov(draws.T), war_fit.vcov, atol=0.02 * np.abs(war_fit.vcov).max()
    )


# -- the commands -------------------------------------------------------------------------------


def test_fit_command_prints_and_writes_the_fitted_game(tmp_path: Path):
    data = shared("games", "war1800.csv", what="war1800 data")
    out = tmp_path / "war.json"
    result = runner.invoke(app, ["games", "fit", str(data), "--formula", WAR, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "u2(esc,war):regime2dem" in result.stdout
    assert "log-likelihood: -286.1238" in result.stdout
    assert "n: 282 (31 rows left out" in result.stdout
    written = json.loads(out.read_text())
    assert written["n"] == 282
    assert written["loglik"] == pytest.approx(-286.12375, abs=1e-5)
    assert next(iter(written["coefficients"])) == "u1(~esc):(Intercept)"
    again = read_model(out)
    assert again.names == list(written["coefficients"])
    assert np.array_equal(again.vcov, np.array(written["vcov"]))
    predicted = runner.invoke(
        app, ["games", "predict", str(out), str(data), "--json", str(tmp_path / "p.json")]
    )
    assert predicted.exit_code == 0, predicted.output
    rows = json.loads((tmp_path / "p.json").read_text())["rows"]
    assert len(rows) == 282 and rows[0]["line"] == 2
    assert sum(rows[0][o] for o in written["outcomes"]) == pytest.approx(1.0)


def test_fit_command_refuses_bad_input_in_one_line(tmp_path: Path):
    data = shared("games", "war1800.csv", what="war1800 data")
    missing = runner.invoke(
        app, ["games", "fit", str(data), "--formula", WAR.replace("balanc", "balance")]
    )
    clear_refusal(missing, str(data))
    assert "balance: no such column" in missing.stderr
    bad = runner.invoke(app, ["games", "fit", str(data), "--formula", "esc + war ~ x | 0"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error: --formula")
    link = runner.invoke(app, ["games", "fit", str(data), "--formula", WAR, "--link", "cauchit"])
    assert link.exit_code == 2 and "--link 'cauchit'" in link.stderr
    private = runner.invoke(
        app, ["games", "fit", str(data), "-f", WAR, "--link", "logit", "--type", "private"]
    )
    assert private.exit_code == 2 and "probit" in private.stderr
    copy = tmp_path / "war.csv"
    copy.write_bytes(data.read_bytes())
    before = copy.read_bytes()
    clobber = runner.invoke(app, ["games", "fit", str(copy), "-f", WAR, "--json", str(copy)])
    assert clobber.exit_code == 2 and "refusing to overwrite an input" in clobber.stderr
    assert copy.read_bytes() == before
    ragged = _csv(tmp_path / "r.csv", ["esc", "war", "x"], [[0, 0, 1], [1, 0]])
    clear_refusal(
        runner.invoke(app, ["games", "fit", str(ragged), "-f", "esc + war ~ x | 0 | 1 | 1"]),
        str(ragged),
    )


def test_read_model_refuses_a_file_that_is_not_a_fitted_game(tmp_path: Path, war_fit):
    from standoff.games.saved import model_json

    good = model_json(war_fit)
    cases = {
        "notjson.json": "{",
        "other.json": json.dumps({"format": "something else"}),
        "renamed.json": json.dumps(
            {
                **good,
                "coefficients": {f"x{k}": v for k, v in enumerate(good["coefficients"].values())},
            }
        ),
        "short_vcov.json": json.dumps({**good, "vcov": good["vcov"][:3]}),
        "nan.json": json.dumps(
            {**good, "coefficients": {**good["coefficients"], "u1(~esc):revis1": "nan"}}
        ),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(CaseError) as e:
            read_model(path)
        assert str(e.value).startswith(f"{path}:"), name
    with pytest.raises(CaseError, match="no such file"):
        read_model(tmp_path / "absent.json")


def test_cv_command_scores_the_game_against_the_simpler_forecasts(tmp_path: Path):
    data = shared("games", "war1800.csv", what="war1800 data")
    out = tmp_path / "cv.json"
    result = runner.invoke(
        app, ["games", "cv", str(data), "-f", WAR, "--folds", "5", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())["scores"]
    assert list(scores) == ["game", "multinomial logit", "base rates"]
    assert scores["game"]["log_score_minus_game"] is None
    assert scores["base rates"]["brier"] - scores["game"]["brier"] == pytest.approx(
        scores["base rates"]["brier_minus_game"]
    )


def test_the_out_of_sample_table_in_the_docs_is_what_cv_gives():
    """docs/games.md's war1800 rows (probit, agent error; 10 folds, seed 1), recomputed."""
    from standoff.games.crossval import cross_validate

    design, f = _war_design(WAR)
    cv = cross_validate(design, f, EGAME12, "probit", "agent", folds=10, seed=1)
    docs = (Path(__file__).resolve().parents[1] / "docs" / "games.md").read_text()
    lines = docs.splitlines()
    start = next(
        k for k, x in enumerate(lines) if x.startswith("| war1800 (n = 282), probit, agent")
    )
    game = cv.scores[0]
    for line, score in zip(lines[start : start + 3], cv.scores, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == score.name
        expected = [
            "{:.4f} ± {:.4f}".format(*score.mean("log")),
            "" if score is game else "{:+.4f} ± {:.4f}".format(*score.versus(game, "log")),
            "{:.4f} ± {:.4f}".format(*score.mean("brier")),
            "" if score is game else "{:+.4f} ± {:.4f}".format(*score.versus(game, "brier")),
        ]
        assert cells[2:] == expected


def test_a_covariate_that_separates_the_outcomes_is_reported(tmp_path: Path):
    path = _csv(
        tmp_path / "sep.csv",
        ["y", "x", "g"],
        [[1, 0.1, "a"], [2, 0.5, "a"], [3, 0.2, "b"], [1, 0.3, "b"], [2, 0.9, "a"], [3, 0.4, "b"]],
    )
    result = runner.invoke(app, ["games", "fit", str(path), "-f", "y ~ x | 0 | 1 | g"])
    assert result.exit_code == 0, result.output
    assert "warning: the Hessian is nearly singular" in result.stderr
    war = runner.invoke(app, ["games", "fit", str(shared("games", "war1800.csv")), "-f", WAR])
    assert war.exit_code == 0 and "warning" not in war.stderr
