"""Conditioning on observations: known answers, errors, and the JSON.

The known-answer cases have a hazard whose monthly rate r is drawn uniformly on [A, B]; the
events of each month are independent given r. Observing the event's history in the first months
gives r a posterior proportional to r^s (1 - r)^f on [A, B] (s months with the event, f without),
so every conditioned probability is a ratio of integrals of polynomials in r, computed here in
closed form (numpy's polynomial integration) and compared with the forecast to its Monte Carlo
error.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.polynomial import Polynomial as P
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load_yaml
from standoff.compile.observed import parse_observations
from standoff.errors import CaseError
from standoff.pipeline.forecast import run
from standoff.serialize import dumps, forecast_json

A, B = 0.05, 0.5
MONTHS = 12  # rounds: monthly from 2020-01-01 to 2021-01-01

CASE = f"""
id: hazard
as_of: 2020-01-01
horizon: 2021-01-01
issues:
  - {{id: deal}}
actors:
  - {{id: a, capability: 50, stances: {{deal: {{position: 80, salience: 0.5}}}}}}
  - {{id: b, capability: 40, stances: {{deal: {{position: 20, salience: 0.5}}}}}}
crisis:
  dyads: [[a, b]]
  replicates: 4
  odds_factor: 1  # the rate as written: the posteriors below are worked out for it
  parameters:
    rate: uniform({A}, {B})
  events:
    - {{id: strike, probability: rate}}
    - {{id: never, probability: 0}}
    - {{id: quiet, probability: 0.5, once: true}}
scenarios:
  - {{id: struck_later, when: "count('strike') > STRIKES"}}
  - {{id: none_later, when: otherwise}}
questions:
  - id: strike_july
    text: Is there a strike in July 2020?
    resolves: 2020-07-31
    when: "now('strike')"
  - id: strike_march
    text: Is there a strike in March 2020?
    resolves: 2020-03-31
    when: "now('strike')"
"""


def case(strikes_before: int):
    return load_yaml(CASE.replace("STRIKES", str(strikes_before)), "hazard.yaml")


def observations(text: str):
    return parse_observations(text, "seen.yaml")


def moment(s: int, f: int) -> float:
    """E[r^s (1 - r)^f] for r uniform on [A, B] (up to the constant 1 / (B - A))."""
    poly = P([0, 1]) ** s * P([1, -1]) ** f
    antiderivative = poly.integ()
    return float(antiderivative(B) - antiderivative(A))


def within_error(p, expected: float, sigmas: float = 4.0) -> None:
    """|p - expected| within `sigmas` Monte Carlo standard errors (the 90% interval is 1.645)."""
    se = (p.mc[1] - p.mc[0]) / (2 * 1.6448536269514722)
    assert abs(p.p - expected) <= sigmas * max(se, 1e-4), (p.p, expected, se)


def test_no_strike_for_six_months_lowers_the_rate_to_the_analytic_posterior():
    # observed: no strike in January..June (6 rounds); question: a strike in July
    seen = observations("as_of: 2020-07-01\nevents:\n  strike: []\n")
    result = run(case(0), draws=40_000, seed=3, observed=seen)
    expected = moment(1, 6) / moment(0, 6)  # E[r | no strike in 6 months]
    within_error(result.question("strike_july").probability, expected)
    prior = (A + B) / 2
    assert expected < prior - 0.05  # the observations do lower the rate
    rate = next(s for s in result.observed.inputs if s.key.endswith("rate"))
    assert rate.prior_mean == pytest.approx(prior, abs=0.01)
    assert rate.posterior_mean == pytest.approx(expected, abs=0.01)
    assert rate.shift < -0.5
    # at least one strike in the remaining six months
    later = 1 - moment(0, 12) / moment(0, 6)
    within_error(result.scenario("struck_later").probability, later)


def test_strikes_seen_in_two_months_of_five():
    seen = observations(
        "as_of: 2020-06-01\nevents:\n  strike: [2020-02-10, 2020-05-03]\n"
    )  # rounds end on the 1st: February and May are months 2 and 5 of 5
    result = run(case(2), draws=40_000, seed=4, observed=seen)
    expected = moment(3, 3) / moment(2, 3)
    within_error(result.question("strike_july").probability, expected)


def test_a_question_settled_by_the_observations_is_certain():
    seen = observations("as_of: 2020-06-01\nevents:\n  strike: [2020-03-15]\n")
    result = run(case(1), draws=2_000, seed=5, observed=seen)
    assert result.question("strike_march").probability.p == 1.0
    seen = observations("as_of: 2020-06-01\nevents:\n  strike: []\n")
    result = run(case(0), draws=2_000, seed=5, observed=seen)
    assert result.question("strike_march").probability.p == 0.0


def test_unobserved_events_are_simulated_and_observed_ones_follow_the_file():
    seen = observations("as_of: 2020-04-01\nevents:\n  quiet: [2020-02-20]\n")
    result = run(case(0), draws=4_000, seed=6, observed=seen)
    quiet = next(e for e in result.timeline.events if e.id == "quiet").by_round
    assert quiet[0] == 0.0 and quiet[1] == 1.0 and quiet[2] == 1.0
    # the hazard of an event left out of the file is the prior's: E[r] = 0.275 a month
    strike = next(e for e in result.timeline.events if e.id == "strike").by_round
    assert strike[0] == pytest.approx(0.275, abs=0.02)
    # the quiet event's observation carries weight 0.5 in every history: nothing to learn
    assert result.observed.effective_draws == pytest.approx(4_000)


def test_impossible_observations_name_the_event_and_the_round():
    seen = observations("as_of: 2020-04-01\nevents:\n  never: [2020-03-02]\n")
    with pytest.raises(CaseError) as err:
        run(case(0), draws=500, seed=1, observed=seen)
    text = str(err.value)
    assert "seen.yaml:3: events.never: impossible under the case" in text
    assert "'never' happening in round 3" in text


def test_too_few_effective_histories_is_an_error_that_says_how_many_draws_to_run():
    # twelve months of strikes: r^12 weighs the histories towards the top of [A, B]
    dates = ", ".join(f"2020-{m:02d}-15" for m in range(1, 13))
    seen = observations(f"as_of: 2021-01-01\nevents:\n  strike: [{dates}]\n")
    with pytest.raises(CaseError) as err:
        run(case(0), draws=400, seed=2, observed=seen, min_effective=300)
    assert "too few histories carry the weight" in str(err.value)
    assert "--draws" in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("as_of: 2020-04-01\nevents:\n  strik: []\n", "did you mean 'strike'"),
        ("as_of: 2019-04-01\nevents:\n  strike: []\n", "before the case's as-of date"),
        ("as_of: 2020-04-01\nevents:\n  strike: [2020-05-02]\n", "after as_of"),
        ("as_of: 2020-04-15\nevents:\n  strike: [2020-04-10]\n", "observations cover whole"),
        ("as_of: 2020-04-01\nevents:\n  quiet: [2020-02-02, 2020-03-03]\n", "at most once"),
        ("as_of: 2020-04-01\nevents:\n  strike: [soon]\n", "not a date"),
        ("as_of: April\nevents: {}\n", "not a date"),
        ("events: {}\n", "missing"),
        ("as_of: 2020-04-01\nevent: {}\n", "did you mean 'events'"),
    ],
)
def test_bad_observations_are_clear_errors(text, message):
    with pytest.raises(CaseError) as err:
        run(case(0), draws=100, seed=1, observed=observations(text))
    assert message in str(err.value)
    assert str(err.value).startswith("seen.yaml:")


def test_the_json_adds_the_observations_and_the_effective_draws(tmp_path: Path):
    seen = observations("as_of: 2020-04-01\nevents:\n  strike: []\n")
    data = forecast_json(run(case(0), draws=1_000, seed=1, observed=seen))
    assert data["observed"]["as_of"] == "2020-04-01"
    assert data["observed"]["events"] == {"strike": []}
    assert len(data["observed"]["hash"]) == 64
    assert 0 < data["effective_draws"] <= 1_000
    plain = forecast_json(run(case(0), draws=1_000, seed=1))
    assert "observed" not in plain and "effective_draws" not in plain
    assert set(plain) <= set(data)


def test_conditioned_forecasts_are_reproducible_and_do_not_depend_on_the_chunking():
    seen = observations("as_of: 2020-05-01\nevents:\n  strike: [2020-02-03]\n")
    one = forecast_json(run(case(1), draws=3_000, seed=9, observed=seen))
    again = forecast_json(run(case(1), draws=3_000, seed=9, observed=seen))
    assert dumps(one) == dumps(again)
    chunked = forecast_json(run(case(1), draws=3_000, seed=9, observed=seen, chunk_size=700))
    assert chunked["questions"]["strike_july"]["p"] == pytest.approx(
        one["questions"]["strike_july"]["p"], rel=1e-12
    )


def test_the_cli_conditions_and_writes_the_observations(tmp_path: Path):
    case_file = tmp_path / "hazard.yaml"
    case_file.write_text(CASE.replace("STRIKES", "0"))
    seen = tmp_path / "seen.yaml"
    seen.write_text("as_of: 2020-07-01\nevents:\n  strike: []\n")
    out = tmp_path / "f.json"
    got = CliRunner().invoke(
        app,
        [
            "forecast",
            str(case_file),
            "--draws",
            "2000",
            "--observed",
            str(seen),
            "--json",
            str(out),
        ],
    )
    assert got.exit_code == 0, got.output
    data = json.loads(out.read_text())
    assert data["observed"]["as_of"] == "2020-07-01"
    assert "effective" in got.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("as_of: 2020-07-01\nevents:\n  nothing: []\n")
    got = CliRunner().invoke(app, ["forecast", str(case_file), "--observed", str(bad)])
    assert got.exit_code == 2
    assert "bad.yaml:3: events.nothing: the case has no event 'nothing'" in got.output
    assert "Traceback" not in got.output


def test_every_built_in_case_has_observations_that_condition_it():
    from standoff.case.loader import builtin_cases
    from standoff.compile import load
    from standoff.compile.observed import read_observations

    folder = Path(__file__).resolve().parents[1] / "cases" / "observations"
    for ident in builtin_cases():
        compiled = load(ident)
        if compiled.crisis is None:
            continue
        seen = read_observations(folder / f"{ident}.yaml")
        result = run(compiled, draws=4_000, seed=1, observed=seen)
        assert result.observed is not None and result.observed.effective_draws >= 100
        assert np.isclose(sum(s.probability.p for s in result.scenarios), 1.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00binary", "cannot read"),
        (b"- a\n- b\n", "expected a mapping"),
        (b"as_of: 2020-04-01\nevents: strike\n", "expected a mapping of event id"),
        (b"as_of: 2020-04-01\nevents:\n  strike: {dates: [2020-02-02], when: x}\n", "unknown key"),
        (b"as_of: [2020-04-01\n", "(yaml)"),
        (b"a: &a [*a, *a]\n", "(yaml)"),
    ],
)
def test_hostile_observation_files_are_refused_at_their_line(tmp_path: Path, content, message):
    case_file = tmp_path / "hazard.yaml"
    case_file.write_text(CASE.replace("STRIKES", "0"))
    seen = tmp_path / "seen.yaml"
    seen.write_bytes(content)
    got = CliRunner().invoke(app, ["forecast", str(case_file), "--observed", str(seen)])
    assert got.exit_code == 2, got.output
    assert message in got.output
    assert got.output.startswith(f"{seen}:")
    assert "Traceback" not in got.output
    assert seen.read_bytes() == content  # never touched


def test_a_missing_or_folder_observation_file_is_a_clear_error(tmp_path: Path):
    case_file = tmp_path / "hazard.yaml"
    case_file.write_text(CASE.replace("STRIKES", "0"))
    for path, message in ((tmp_path / "nope.yaml", "no such file"), (tmp_path, "directory")):
        got = CliRunner().invoke(app, ["forecast", str(case_file), "--observed", str(path)])
        assert got.exit_code == 2 and message in got.output, got.output


def test_observations_of_a_plain_table_are_refused(tmp_path: Path):
    table = tmp_path / "t.csv"
    table.write_text("Actor,Capability,Position,Salience\nA,1,0,1\nB,1,100,1\n")
    seen = tmp_path / "seen.yaml"
    seen.write_text("as_of: 2020-04-01\n")
    got = CliRunner().invoke(app, ["forecast", str(table), "--observed", str(seen)])
    assert got.exit_code == 2 and "needs a crisis case" in got.output
