"""The crisis layer on small synthetic cases with known answers."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load_yaml
from standoff.errors import CaseError
from standoff.pipeline.forecast import run, simulate_histories
from standoff.pipeline.summary import probability
from standoff.serialize import forecast_json
from standoff.simulate.crisis import VIEW_CLASSES

BASE = """
id: synthetic
as_of: 2020-01-01
horizon: 2020-07-01
issues:
  - {{id: deal}}
actors:
  - id: a
    capability: {cap_a}
    stances: {{deal: {{position: {pos_a}, salience: {sal}}}}}
  - id: b
    capability: {cap_b}
    stances: {{deal: {{position: {pos_b}, salience: {sal}}}}}
  - id: c
    capability: 10
    stances: {{deal: {{position: {pos_c}, salience: 0.5}}}}
{extra}
crisis:
  dyads: [[a, b]]
  replicates: {replicates}
  odds_factor: 1  # these cases test formulas' values as chances, run as written
{crisis}
scenarios:
{scenarios}
"""


def make(
    crisis,
    scenarios="  - {id: any, when: otherwise}",
    extra="",
    cap_a=50,
    cap_b=40,
    pos_a=90,
    pos_b=10,
    pos_c=50,
    sal=0.9,
    replicates=5,
):
    text = BASE.format(
        crisis=crisis,
        scenarios=scenarios,
        extra=extra,
        cap_a=cap_a,
        cap_b=cap_b,
        pos_a=pos_a,
        pos_b=pos_b,
        pos_c=pos_c,
        sal=sal,
        replicates=replicates,
    )
    return load_yaml(text, "synthetic.yaml")


def test_rounds_follow_the_calendar():
    case = make("  events:\n    - {id: e, probability: 0}")
    assert [d.isoformat() for d in case.crisis.dates] == [
        "2020-02-01",
        "2020-03-01",
        "2020-04-01",
        "2020-05-01",
        "2020-06-01",
        "2020-07-01",
    ]


def test_sure_event_happens_every_round_and_never_event_never():
    case = make("  events:\n    - {id: always, probability: 1}\n    - {id: never, probability: 0}")
    result = simulate_histories(case, 200, 1, 64)
    assert result.fired[:, :, 0].all()
    assert not result.fired[:, :, 1].any()


def test_dyad_in_sure_conflict_escalates_up_the_ladder():
    """Two strong actors at opposite ends who both expect to win: the EUM puts them in conflict,
    and events conditioned on conflict climb the declared ladder."""
    crisis = """  ladder: [threat, mobilize, clash]
  events:
    - {id: threat, probability: "sees('a', 'b', 'conflict')"}
    - {id: mobilize, probability: "now('threat') * sees('b', 'a', 'conflict')"}
    - {id: clash, probability: "(rung >= 2) * 0.5"}"""
    # equal rivals at opposite ends who care little enough that a fight looks cheap, c leaning to a:
    # the EUM gives conflict from both sides (a expects to win it, b expects to lose it)
    case = make(crisis, cap_a=50, cap_b=50, pos_a=100, pos_b=0, pos_c=80, sal=0.3)
    result = simulate_histories(case, 100, 3, 100)
    forecast = run(case, draws=100, seed=3, chunk_size=100)
    conflict = VIEW_CLASSES.index("conflict")
    assert (result.views[:, 0, 0, :] == conflict).all()  # both sides see conflict in round one
    assert result.fired[:, 0, 0].all() and result.fired[:, 0, 1].all()  # round one: threat, answer
    assert forecast.timeline is not None
    clash = next(e for e in forecast.timeline.events if e.id == "clash")
    assert clash.by_round[-1] > 0.9


def test_stalemate_dyad_does_not_escalate():
    crisis = """  events:
    - {id: threat, probability: "sees('a', 'b', 'conflict')"}"""
    # a weak actor facing a strong one at the far end: both expect to lose by challenging
    case = make(crisis, cap_a=5, cap_b=5, pos_a=100, pos_b=0)
    result = simulate_histories(case, 50, 3, 50)
    side_a = run(case, draws=50, seed=3, chunk_size=50).scenario("any").views[0].sides[0]
    assert side_a.actor == "a"
    assert side_a.shares["conflict"] < 1.0
    assert result.fired[:, :, 0].mean() == pytest.approx(side_a.shares["conflict"], abs=0.05)


MISPERCEPTION = """  beliefs:
    - id: weak_a
      holder: b
      prior: {prior}
      perception:
        a: {{capability: 1}}
  events:
    - {{id: b_challenges, probability: "sees('b', 'a', 'conflict_win') * (round == 1)"}}"""


def test_removing_the_misperception_changes_the_forecast():
    """b wrongly believes a is weak. While it does, b expects to win a conflict with a and
    challenges in the first round; without the belief, b expects to lose it and does not (later
    rounds move b's position, and with it what b expects)."""
    scenarios = (
        "  - {id: challenged, when: \"happened('b_challenges')\"}\n  - {id: quiet, when: otherwise}"
    )
    kwargs = dict(scenarios=scenarios, cap_a=60, cap_b=30, pos_a=100, pos_b=0, sal=0.5)
    wrong = run(make(MISPERCEPTION.format(prior=1.0), **kwargs), draws=100, seed=1)
    right = run(make(MISPERCEPTION.format(prior=0.0), **kwargs), draws=100, seed=1)
    p_wrong = wrong.scenario("challenged").probability.p
    p_right = right.scenario("challenged").probability.p
    assert p_wrong > 0.9
    assert p_right < 0.1


def test_beliefs_update_by_bayes_rule():
    crisis = """  beliefs:
    - {id: h, holder: b, prior: 0.8, perception: {a: {capability: 1}}}
  events:
    - id: evidence
      probability: "round == 2"
      effects: [{do: belief, belief: h, ratio: 0.25}]"""
    result = simulate_histories(make(crisis), 20, 1, 20)
    # odds 4 x 0.25 = 1 -> 0.5 after round 2, unchanged before and after
    np.testing.assert_allclose(result.beliefs[:, :, 0], [[0.8, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5]] * 20)


def test_scheduled_event_takes_effect_on_its_date():
    extra = """calendar:
  - id: election
    date: 2020-03-15
    effects: [{do: salience, actor: a, issue: deal, set: 0.1}]"""
    crisis = """  events:
    - {id: a_cares, probability: "salience('a', 'deal') > 0.5"}
    - {id: late, probability: "after('2020-05-01')"}"""
    result = simulate_histories(make(crisis, extra=extra), 30, 1, 30)
    # the 2020-03-15 election falls in the round ending 2020-04-01 (the third)
    assert result.fired[:, :2, 0].all() and not result.fired[:, 2:, 0].any()
    assert not result.fired[:, :3, 1].any() and result.fired[:, 3:, 1].all()


def test_tit_for_tat_answers_in_the_same_round():
    crisis = """  events:
    - {id: provocation, probability: 0.3}
    - {id: retaliation, probability: "now('provocation')"}
    - {id: counter, probability: "last('retaliation')"}"""
    result = simulate_histories(make(crisis), 400, 2, 100)
    np.testing.assert_array_equal(result.fired[:, :, 1], result.fired[:, :, 0])
    np.testing.assert_array_equal(result.fired[:, 1:, 2], result.fired[:, :-1, 1])
    assert not result.fired[:, 0, 2].any()


def test_end_stops_the_crisis():
    crisis = """  events:
    - {id: stop, probability: "round == 2", effects: [{do: end}]}
    - {id: tick, probability: 1}"""
    result = simulate_histories(make(crisis), 10, 1, 10)
    assert result.fired[:, 0, 1].all()
    assert not result.fired[:, 1:, 1].any()  # the end in round 2 stops everything after it
    assert (result.ended == 1).all()


WILDCARD_SCENARIOS = """  - {id: shock, when: "happened('shock')"}
  - {id: talks, when: "count('meet') >= 3"}
  - {id: nothing, when: otherwise}"""


def wildcard_case(replicates=5):
    crisis = """  parameters:
    meet_rate: 0.2 to 0.6
  events:
    - {id: meet, probability: meet_rate}
    - {id: shock, probability: 0.05, wildcard: true, once: true}"""
    return make(crisis, scenarios=WILDCARD_SCENARIOS, replicates=replicates)


def test_exhaustive_scenarios_sum_to_one_and_wildcard_hazard():
    case = wildcard_case()
    result = simulate_histories(case, 20000, 5, 5000)
    forecast = run(case, draws=20000, seed=5, chunk_size=5000)
    total = sum(s.probability.p for s in forecast.scenarios)
    assert total == pytest.approx(1.0, abs=1e-9)
    assert (result.scenario >= 0).all()
    # a 5% monthly hazard over six months
    shock = forecast.scenario("shock").probability
    assert shock.p == pytest.approx(1 - 0.95**6, abs=0.015)  # 5 s.e.
    for s in forecast.scenarios:
        assert s.probability.mc[0] <= s.probability.p <= s.probability.mc[1]
        assert s.probability.spread is not None
        assert list(s.probability.spread.quantiles) == sorted(s.probability.spread.quantiles)


def test_the_odds_factor_multiplies_every_rounds_odds():
    """The same 5% monthly hazard with its odds multiplied by 3: 3(0.05)/(0.95 + 3(0.05)) a
    month over six months; the parameter-driven event moves the same way."""
    from standoff.compile import with_odds_factor

    case = with_odds_factor(wildcard_case(), 3.0)
    forecast = run(case, draws=20000, seed=5, chunk_size=5000)
    monthly = 3 * 0.05 / (0.95 + 3 * 0.05)
    shock = forecast.scenario("shock").probability
    assert shock.p == pytest.approx(1 - (1 - monthly) ** 6, abs=0.015)  # 5 s.e.
    assert shock.p > 1 - 0.95**6 + 0.2


def test_same_seed_same_json_whatever_the_chunks():
    case = wildcard_case()
    texts = {
        json.dumps(forecast_json(run(case, draws=1500, seed=9, chunk_size=chunk)))
        for chunk in (1000, 7, 1500)
    }
    assert len(texts) == 1
    assert json.dumps(forecast_json(run(case, draws=1500, seed=10))) not in texts


def test_spread_recovers_the_input_uncertainty():
    """With p(theta) spread uniformly over [0.2, 0.6], the spread's 5th and 95th percentiles
    approach 0.22 and 0.58 once the replicates' binomial noise is removed; the Monte Carlo
    interval of p is much narrower."""
    rng = np.random.default_rng(0)
    groups, replicates = 4000, 20
    theta = rng.uniform(0.2, 0.6, groups)
    hits = rng.random((groups, replicates)) < theta[:, None]
    result = probability(hits.ravel(), replicates)
    assert result.p == pytest.approx(0.4, abs=0.01)
    assert result.spread is not None
    assert result.spread.quantiles[0] == pytest.approx(0.22, abs=0.03)
    assert result.spread.quantiles[2] == pytest.approx(0.40, abs=0.03)
    assert result.spread.quantiles[4] == pytest.approx(0.58, abs=0.03)
    assert result.mc[1] - result.mc[0] < 0.02
    assert not result.spread.two_peaked
    # without the shrinkage, the raw group shares would be far wider (binomial noise of 20)
    raw = np.quantile(hits.mean(axis=1), [0.05, 0.95])
    assert raw[1] - raw[0] > result.spread.high - result.spread.low + 0.1
    # no input uncertainty: what remains is the noise of the estimated spread, which is small
    hits = rng.random((groups, replicates)) < 0.4
    flat = probability(hits.ravel(), replicates)
    assert flat.spread is not None and flat.high - flat.low < 0.1


def test_a_split_across_inputs_is_said_in_words():
    """60% of input draws make the event impossible and 40% make it likely: the mean (28%)
    hides a split, and the spread says so."""
    rng = np.random.default_rng(1)
    groups, replicates = 1000, 50
    theta = np.where(rng.random(groups) < 0.6, 0.0, 0.7)
    hits = rng.random((groups, replicates)) < theta[:, None]
    result = probability(hits.ravel(), replicates)
    assert result.p == pytest.approx(0.28, abs=0.03)
    assert result.words == "unlikely"  # worded on p
    assert result.spread is not None and result.spread.two_peaked
    assert result.spread.below == pytest.approx(0.6, abs=0.05)
    assert result.spread.above == pytest.approx(0.4, abs=0.05)
    text = result.spread.describe()
    assert text is not None and text.startswith("under 5% in 6") and "over 50% in 4" in text


@pytest.mark.parametrize(
    ("crisis", "fragment"),
    [
        ("  events:\n    - {id: e, probability: \"happened('nope')\"}", "unknown event 'nope'"),
        (
            "  events:\n    - {id: e, probability: \"sees('a', 'b', 'war')\"}",
            "unknown interaction 'war'",
        ),
        ('  events:\n    - {id: e, probability: "foo + 1"}', "unknown name 'foo'"),
        (
            "  events:\n    - {id: e, probability: \"__import__('os')\"}",
            "unknown function '__import__'",
        ),
        ('  events:\n    - {id: e, probability: "(1).real"}', "Attribute is not allowed"),
        ("  events:\n    - {id: e, probability: \"after('soon')\"}", "not a date"),
        (
            "  events:\n    - {id: e, probability: 1, effects: [{do: shift, actor: a}]}",
            "needs issue",
        ),
        (
            "  events:\n    - {id: e, probability: 1, "
            "effects: [{do: belief, belief: x, ratio: 2}]}",
            "unknown belief 'x'",
        ),
        (
            "  events:\n    - {id: e, probability: 1}\n    - {id: e, probability: 0}",
            "duplicate id 'e'",
        ),
    ],
)
def test_bad_formulas_and_effects_are_clear_errors(crisis, fragment):
    with pytest.raises(CaseError) as err:
        make(crisis)
    assert any(fragment in p.message for p in err.value.problems), err.value
    assert all(p.line > 1 for p in err.value.problems)


def test_scenarios_must_end_with_otherwise():
    with pytest.raises(CaseError) as err:
        make(
            "  events:\n    - {id: e, probability: 1}",
            scenarios="  - {id: s, when: \"happened('e')\"}",
        )
    assert "otherwise" in str(err.value)


def test_flagship_case_json_contract(tmp_path):
    out = tmp_path / "f.json"
    result = CliRunner().invoke(
        app, ["forecast", "--draws", "400", "--seed", "4", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["case"] == "us-dprk-2018" and data["as_of"] == "2018-08-15"
    assert data["draws"] == 400 and data["seed"] == 4
    assert set(data["scenarios"]) >= {"walk_away", "summit_declaration", "collapse_to_pressure"}
    assert sum(s["p"] for s in data["scenarios"].values()) == pytest.approx(1.0)
    assert set(data["questions"]) == {
        "second_summit",
        "end_of_war_declaration",
        "us_walks_away",
        "nk_missile_test",
        "armed_clash",
        "sanctions_relief",
        "nuclear_declaration",
    }
    for item in [*data["scenarios"].values(), *data["questions"].values()]:
        assert 0 <= item["mc_interval"][0] <= item["p"] <= item["mc_interval"][1] <= 1
        assert 0 <= item["interval"][0] <= item["interval"][1] <= 1
        assert item["interval"] == [
            item["spread"]["quantiles"]["5"],
            item["spread"]["quantiles"]["95"],
        ]
        assert item["words"]
    assert set(data["settlement"]) == {"sequencing", "pressure", "security"}
    for label in ("Scenarios", "Questions", "walk_away"):
        assert label in result.output
    # the estimative words are printed (a long one may fold across lines; one at least is whole)
    words = {item["words"] for item in [*data["scenarios"].values(), *data["questions"].values()]}
    assert any(word in result.output for word in words)


def test_model_quantities_in_formulas():
    """prevails, eu, threat and gap read the bargaining model's round: the stronger side is more
    likely to prevail, as each sees it, and a per-issue call equals the average on one issue."""
    crisis = """  events:
    - {id: a_wins, probability: "prevails('a', 'b')"}
    - {id: b_wins, probability: "prevails('b', 'a', 'deal')"}
    - {id: a_presses, probability: "eu('a', 'b') > 0"}
    - {id: b_feared, probability: "threat('a', 'b') > 0"}
    - {id: same, probability: "abs(gap('a', 'b') - gap('a', 'b', 'deal')) < 1e-12"}"""
    case = make(crisis, cap_a=80, cap_b=20, pos_a=90, pos_b=10, replicates=1)
    result = simulate_histories(case, 4000, 1, 4000)
    first = result.fired[:, 0, :].mean(axis=0)
    assert first[0] > 0.6 > 0.4 > first[1]  # a is far stronger: it prevails, b does not
    assert first[4] == 1.0  # one issue: the salience-weighted average is that issue's value


def test_check_warns_of_a_dead_model_term(tmp_path):
    """A model-derived term that is constant across a pilot run is named, with its line; the case
    is still valid (exit 0)."""
    text = BASE.format(
        crisis="  events:\n    - {id: e, probability: \"0.1 + gap('a', 'b')\"}",
        scenarios="  - {id: any, when: otherwise}", extra="", cap_a=50, cap_b=40, pos_a=50,
        pos_b=50, pos_c=50, sal=0.9, replicates=5,
    )  # fmt: skip
    path = tmp_path / "dead.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    # (a gap of an actor with itself is an error; two actors who agree and stay put are dead)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "gap('a', 'b')" in row)
    assert f"dead.yaml:{line}: crisis.events[0].probability: warning: " in result.output
    assert "gap('a', 'b') is 0 in every round" in result.output


def test_ablation_freezes_model_terms_at_their_means():
    from standoff.pipeline.ablation import ablation

    # capability uncertain: whether a sees conflict with b varies across input draws
    moved = make(
        "  events:\n    - {id: e, probability: \"0.5 * sees('a', 'b', 'conflict', 'deal')\"}",
        scenarios="  - {id: hit, when: \"count('e') >= 3\"}\n  - {id: miss, when: otherwise}",
        cap_a="10 to 90",
        sal=0.3,
    )
    result = ablation(moved, 2000, 3)
    (term,) = result.terms
    assert term.call == "sees('a', 'b', 'conflict', 'deal')" and term.low == 0 and term.high == 1
    assert result.baseline[0].probability.p != result.ablated[0].probability.p
    # without model-derived terms, nothing changes
    hit_or_miss = "  - {id: hit, when: \"count('e') >= 3\"}\n  - {id: miss, when: otherwise}"
    fixed = make("  events:\n    - {id: e, probability: 0.3}", scenarios=hit_or_miss)
    still = ablation(fixed, 500, 3)
    assert still.terms == ()
    assert [s.probability for s in still.baseline] == [s.probability for s in still.ablated]


def test_a_question_shows_its_resolution_date_as_written():
    """A question resolving mid-round is evaluated at the end of the round that holds the date,
    and shown with the date the author wrote."""
    import datetime as dt

    extra = """questions:
  - {id: q, text: "Tick by mid-March?", resolves: 2020-03-15, when: "happened('tick')"}"""
    case = make('  events:\n    - {id: tick, probability: "round == 3"}', extra=extra)
    (question,) = run(case, draws=20, seed=1).questions
    assert question.resolves == dt.date(2020, 3, 15)
    assert question.probability.p == 1.0  # round 3 ends 2020-04-01 and holds 15 March


def test_a_parameter_written_as_beta_is_a_share_on_zero_to_one():
    crisis = """  parameters:
    k: beta(2, 5)
  events:
    - {id: e, probability: "min(1, k * 2)"}"""
    case = make(crisis)
    values = case.crisis.parameters["k"]
    assert (values.quantity.low, values.quantity.high) == (0.0, 1.0)
    result = run(case, draws=400, seed=1)
    assert 0.0 <= result.scenarios[0].probability.p <= 1.0


@pytest.mark.parametrize(("n_events", "width"), [(13, 13), (3, 3), (40, 40), (1, 1)])
def test_paths_are_grouped_as_numpy_groups_rows(n_events: int, width: int) -> None:
    # the tally's row grouping (one number per row where it fits, else numpy's) is numpy's
    from standoff.simulate.histories import _unique_rows

    rng = np.random.default_rng(n_events)
    sequence = rng.integers(-1, n_events, size=(500, width))
    sequence[::7] = sequence[3]  # repeated rows
    rows, inverse = _unique_rows(sequence, n_events)
    expected_rows, expected_inverse = np.unique(sequence, axis=0, return_inverse=True)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(inverse, expected_inverse.reshape(-1))


@pytest.mark.parametrize("n_issues", [1, 2, 3, 7, 8, 11])
def test_view_shares_together_are_each_share(n_issues: int) -> None:
    # the six view classes' shares, computed at once, are the numbers share() gives each
    from types import SimpleNamespace

    from standoff.simulate.crisis import _State

    rng = np.random.default_rng(n_issues)
    d, n = 2000, 4
    state = _State.__new__(_State)
    weight = rng.random((d, n, n_issues)) ** 3
    weight /= weight.sum(axis=2, keepdims=True)
    state._weight = weight
    state._cache, state._pair_codes = {}, {}
    codes = rng.integers(0, 8, size=(d, n_issues)).astype(np.int8)
    state._bargaining = SimpleNamespace(pair=lambda name, i, j: codes)
    together = state.view_shares(1, 2)
    state._cache = {}
    one_by_one = np.stack([state.share(kind, 1, 2) for kind in VIEW_CLASSES], axis=1)
    assert np.array_equal(together, one_by_one)
