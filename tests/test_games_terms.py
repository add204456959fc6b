"""A fitted game's probability is a model-derived term of a case's formulas, as the bargaining
model's are: recorded by its ids (`game('deterrence', 'a', 'b', 'war')`), frozen at its mean by
`standoff ablate` (alone with `--each`), watched by `standoff check` for being constant or at rest,
and bounded in [0, 1] before any draw. The example case that uses a game is listed by `standoff
cases` as an example, not a built-in case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load
from standoff.pipeline.lint import dead_terms, formula_warnings
from standoff.pipeline.tasks import RecordTerms, SimulateCrisis
from standoff.run.executor import Block
from standoff.simulate.sample import Sampler

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "cases" / "examples" / "cuba-1962-game.yaml"
MODEL = REPO / "cases" / "examples" / "games" / "war1800-probit.json"
WAR = ("game", "deterrence", "a", "b", "war")
WAR_CALL = "game('deterrence', 'a', 'b', 'war')"

# Monthly rounds from February to July: six rounds.
CASE = """\
id: game-terms
as_of: 2020-01-01
horizon: 2020-07-01
issues:
  - {{id: deal}}
actors:
  - {{id: a, capability: {cap_a}, stances: {{deal: {{position: 90, salience: 0.9}}}}}}
  - {{id: b, capability: 40, stances: {{deal: {{position: 10, salience: 0.9}}}}}}
  - {{id: c, capability: 10, stances: {{deal: {{position: 50, salience: 0.5}}}}}}
crisis:
  dyads: [[a, b]]
  replicates: 4
  parameters:
    similarity: {similarity}
  games:
    deterrence:
      model: games/war.json
      outcomes: [status_quo, capitulation, war]
      uncertainty: {uncertainty}
      dyads:
        - players: [a, b]
          covariates:
            s_wt_re1: similarity
            revis1: 1
            regime1: dem
            balanc: "{balanc}"
            regime2: autoc
  events:
    - {{id: clash, probability: "{probability}"}}
scenarios:
  - {{id: clashed, when: "happened('clash')"}}
  - {{id: calm, when: otherwise}}
"""


def write(tmp_path: Path, **kw: object) -> Path:
    (tmp_path / "games").mkdir(exist_ok=True)
    shutil.copy(MODEL, tmp_path / "games" / "war.json")
    values = {
        "cap_a": 50,
        "similarity": "-0.5 to 0.5",
        "uncertainty": "true",
        "balanc": "0.6",
        "probability": WAR_CALL,
        **kw,
    }
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(**values))
    return path


def check(path: Path) -> str:
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output  # warnings, not errors
    return " ".join(result.output.split())  # as one line, whatever the terminal's width


def test_the_probe_records_a_game_by_its_ids_with_its_mean_and_range(tmp_path: Path):
    compiled = load(write(tmp_path))
    plan = compiled.crisis
    assert plan is not None
    draws = 400
    total, count, low, high = RecordTerms(compiled, 3)(Block(0, draws))[WAR]
    # the game's value in each draw, as its formula gives it from the draw's inputs: its
    # covariates are fixed for the crisis, so it is the same in each of the six rounds
    groups = Sampler(compiled.case, 3, plan).draws(0, draws // plan.replicates).params
    params = {k: v[np.arange(draws) // plan.replicates] for k, v in groups.items()}
    value = plan.events[0].probability.evaluate(params, {"game": lambda *args: args[-1]})
    assert count == draws * plan.rounds
    assert total / count == pytest.approx(float(np.mean(value)), rel=1e-12)
    assert (low, high) == (pytest.approx(value.min()), pytest.approx(value.max()))
    assert high - low > 0.1  # the coefficients and the similarity are drawn


@pytest.mark.parametrize("frozen", [0.0, 1.0])
def test_a_frozen_game_gives_its_frozen_value(tmp_path: Path, frozen: float):
    compiled = load(write(tmp_path))
    free = SimulateCrisis(compiled, 3)(Block(0, 400)).fired[:, :, 0]
    assert 0.05 < free.mean() < 0.95  # the game's own chances
    fired = SimulateCrisis(compiled, 3, {WAR: frozen})(Block(0, 400)).fired[:, :, 0]
    assert (fired == bool(frozen)).all()


def test_ablate_freezes_the_game_and_shows_what_it_changes_alone(tmp_path: Path):
    """The clash needs the game's chance of war, once challenged, above 0.6: frozen at its mean
    (about 0.63) it is always above, so the clash happens far more often."""
    threshold = "0.2 * (game('deterrence', 'a', 'b', 'war_given_challenge') > 0.6)"
    path = write(tmp_path, probability=threshold)
    out = tmp_path / "ablation.json"
    result = CliRunner().invoke(
        app, ["ablate", str(path), "--draws", "2000", "--each", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Each term alone at its mean" in " ".join(result.output.split())
    data = json.loads(out.read_text())
    term = data["terms"]["game('deterrence', 'a', 'b', 'war_given_challenge')"]
    assert term["low"] < 0.6 < term["mean"] < term["high"]
    clashed = data["scenarios"]["clashed"]
    assert clashed["ablated"] > clashed["p"] + 0.2
    # the game is the case's only model-derived term: frozen alone, it is the whole ablation
    assert term["alone"] == {s: v["ablated"] for s, v in data["scenarios"].items()}
    result = CliRunner().invoke(app, ["ablate", str(path), "--draws", "2000", "--json", str(out)])
    assert result.exit_code == 0, result.output
    without = json.loads(out.read_text())
    assert "alone" not in without["terms"]["game('deterrence', 'a', 'b', 'war_given_challenge')"]
    assert without["scenarios"] == data["scenarios"]


def test_a_game_that_cannot_vary_is_named_as_dead(tmp_path: Path):
    path = write(tmp_path, similarity="0.1", uncertainty="false")
    output = check(path)
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1) if "id: clash," in row)
    assert f"case.yaml:{line}: crisis.events[0].probability: warning: {WAR_CALL} is " in output
    assert "in every round of a pilot run of 256 draws: neither its covariates nor its " in output
    assert "bargaining model" not in output


def test_a_game_whose_covariates_follow_the_bargaining_is_watched_for_rest(tmp_path: Path):
    """Its covariate is the gap between a and b, who meet by the third round in every draw
    (as in test_lint_rest): the game is at rest from then on. It stands for the gap it reads."""
    path = write(tmp_path, balanc="gap('a', 'b')", cap_a="40 to 60")
    output = check(path)
    assert f"warning: {WAR_CALL} is at rest from round 3 in 100% of the 256 pilot draws" in output
    assert "gap('a', 'b') is at rest" not in output
    found = dead_terms(load(path))
    assert [p.message.split(" is ")[0] for p in found] == [f"warning: {WAR_CALL}"]


def test_a_game_fixed_in_each_draw_by_design_is_not_named(tmp_path: Path):
    """Covariates from parameters and numbers: the same in every round of a draw, as meant."""
    assert "warning" not in check(write(tmp_path))
    assert "warning" not in check(EXAMPLE)


def test_a_game_ranges_over_zero_to_one_before_any_draw(tmp_path: Path):
    assert formula_warnings(load(write(tmp_path, probability=f"0.9 * {WAR_CALL}"))) == []
    path = write(tmp_path, probability=f"1.5 * {WAR_CALL}")
    (warning,) = formula_warnings(load(path))
    assert "the probability of event 'clash' can be 1.5, outside 0 to 1" in warning.message
    assert f"{WAR_CALL} (from 0 to 1)" in warning.message


def test_cases_lists_the_examples_apart_from_the_builtin_cases():
    from standoff.case import builtin_cases
    from standoff.case.loader import example_cases

    assert "cuba-1962-game" not in builtin_cases()
    assert example_cases()["cuba-1962-game"] == EXAMPLE
    result = CliRunner().invoke(app, ["cases"])
    assert result.exit_code == 0, result.output
    builtin, examples = result.output.split("Examples (not built-in")
    assert "cuba-1962 " in builtin and "cuba-1962-game" not in builtin
    assert "cuba-1962-game.yaml" in examples  # the file to give, in one piece


def test_a_change_that_rounds_to_zero_is_written_without_a_minus():
    from standoff.cli.analysis import change

    assert [change(x) for x in (-0.0004, 0.0, 0.0004, -0.05, 0.1014)] == [
        "+0.0",
        "+0.0",
        "+0.0",
        "-5.0",
        "+10.1",
    ]
