"""What an analyst writes in a formula is what they meant, or `standoff check` says otherwise at the
line: a rate written as a percentage inside `min(1, ...)`, `since(e)` of an event that has not
happened, a probability that its parameters' draws can take out of [0, 1], and a formula folded
over lines with its continuation indented more.

The cases are the kind an analyst writes from the docs: a US–China trade war in 2018, monthly
rounds from June to December.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load, load_yaml
from standoff.compile.plan import NEVER
from standoff.errors import CaseError
from standoff.pipeline.bounds import Ranges, Span, bound, probability_excess
from standoff.pipeline.lint import formula_warnings
from standoff.simulate.sample import Sampler

CASE = """\
id: us-china-trade
title: US–China trade war (2018)
as_of: 2018-06-01
horizon: 2018-12-31
issues:
  - id: tariffs
    label: Tariffs on Chinese imports
    low_means: none
    high_means: on every import
actors:
  - id: us
    name: United States
    capability: 60 to 80
    stances: {{tariffs: {{position: 70 to 90, salience: 0.8}}}}
  - id: china
    name: China
    capability: 50 to 70
    stances: {{tariffs: {{position: 10 to 20, salience: 0.7}}}}
crisis:
  step: month
  replicates: 8
  odds_factor: 1  # the chances as written, so that the trap's size is the author's own
  dyads: [[us, china]]
  parameters:
    hike_rate: 0.10 to 0.25
    deal_rate: {deal_rate}
    boost: 2 to 5
    retaliation: 0.40 to 0.80
  events:
    - id: hike
      label: The US raises its tariffs
      probability: "hike_rate"
    - id: tariffs
      label: China answers with tariffs of its own
      probability: {tariffs}
    - id: deal
      label: A trade deal
      probability: {deal}
scenarios:
  - {{id: war, when: {war}}}
  - {{id: truce, when: otherwise}}
"""
DEFAULTS = {
    "deal_rate": "0.05 to 0.15",
    "tariffs": "0.4 * happened('hike')",
    "deal": "min(1, deal_rate * (1 + (boost - 1) * after('2018-11-30')))",
    "war": "happened('tariffs')",
}


def case(**formulas: str) -> str:
    fields = {**DEFAULTS, **formulas}
    quoted = {
        k: v if k == "deal_rate" or v.startswith(">") else json.dumps(v) for k, v in fields.items()
    }
    return CASE.format(**quoted)


def line_of(text: str, fragment: str) -> int:
    return next(n for n, row in enumerate(text.splitlines(), 1) if fragment in row)


def warnings(text: str) -> list[str]:
    """`formula_warnings` as `FILE:LINE: field: message` lines."""
    return [str(p) for p in formula_warnings(load_yaml(text, "trade.yaml"))]


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    """`standoff check` on the case: its exit status and its stderr, one problem a line."""
    path = tmp_path / "trade.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def test_the_defaults_raise_nothing():
    assert warnings(case()) == []


# -- a rate written as a percentage inside min(1, ...) -------------------------------------------


def test_a_percentage_inside_min_1_is_named_at_its_line(tmp_path: Path):
    # copying the built-in cases' style: every formula wrapped in min(1, ...)
    text = case(deal_rate="70 to 95")
    status, err = check(tmp_path, text)
    assert status == 0  # a warning: the case runs
    line = line_of(text, "min(1, deal_rate")
    rows = [row for row in err.splitlines() if row.startswith(f"{tmp_path / 'trade.yaml'}:{line}:")]
    assert rows, err
    assert (
        "crisis.events[2].probability: warning: min(1, ...) is 1 over most of its range" in rows[0]
    )
    assert (
        "parameter deal_rate (70 to 95) is above 1: written as a percentage? did you mean "
        "0.7 to 0.95? (a rate is written from 0 to 1)"
    ) in rows[0]


def test_a_percentage_times_a_model_term_inside_min_1_is_named():
    text = case(deal_rate="70 to 95", deal="min(1, deal_rate * prevails('china', 'us'))")
    (found,) = warnings(text)
    assert "min(1, ...) is 1 over most of its range" in found
    assert "reaches 81.5" in found  # the median of 70 to 95, sqrt(70 x 95), times 1 at most


@pytest.mark.parametrize(
    "deal",
    [
        "min(1, deal_rate * (1 + (boost - 1) * after('2018-11-30')))",  # a multiplier of a rate
        "min(deal_rate * boost, 1)",  # docs/model.md: saturates only in the tails
        "clip(deal_rate * 4 * gap('us', 'china'), 0, 1)",
    ],
)
def test_a_clamp_for_the_tails_is_not_named(deal: str):
    assert warnings(case(deal=deal)) == []


def test_a_clamp_of_a_percentage_in_clip_is_named():
    text = case(deal_rate="70 to 95", deal="clip(deal_rate * gap('us', 'china'), 0, 1)")
    (found,) = warnings(text)
    assert "clip(..., 0, 1) is 1 over most of its range" in found


# -- since(e) of an event that has not happened --------------------------------------------------


def test_since_of_an_event_that_never_happened_is_named_at_its_line(tmp_path: Path):
    # "China retaliates two months after a hike": with no hike, since('hike') is 10,000
    text = case(tariffs="0.6 * (since('hike') >= 2)")
    status, err = check(tmp_path, text)
    assert status == 0
    line = line_of(text, "since('hike') >= 2")
    expected = (
        f"trade.yaml:{line}: crisis.events[1].probability: warning: since('hike') is 10,000 while "
        "'hike' has not happened, so since('hike') >= 2 holds before any 'hike'"
    )
    assert expected in err
    assert "happened('hike') * (since('hike') >= 2) if 'hike' must come first" in err
    assert "((not happened('hike')) or since('hike') >= 2) if none at all counts" in err


def test_the_trap_is_real_retaliation_without_a_hike():
    """Unguarded, China retaliates from the first month, hike or not; guarded, only after one."""
    from standoff.pipeline.forecast import run

    unguarded = load_yaml(case(tariffs="0.6 * (since('hike') >= 2)"))
    guarded = load_yaml(case(tariffs="0.6 * happened('hike') * (since('hike') >= 2)"))
    war = [run(c, draws=400, seed=3).scenario("war").probability.p for c in (unguarded, guarded)]
    assert war[0] > 0.95 and war[1] < 0.7


@pytest.mark.parametrize(
    "tariffs",
    [
        "0.6 * happened('hike') * (since('hike') >= 2)",  # the hike must come first
        "0.6 * ((not happened('hike')) or since('hike') >= 2)",  # no hike at all counts too
        "0.6 * (since('hike') < 2)",  # false while there has been no hike
        "0.6 * (since('hike') == 0)",
        "0.6 * (1 <= since('hike') <= 3)",  # a chain false at 10,000
        "0.6 * (count('hike') > 0) * (since('hike') >= 2)",
    ],
)
def test_since_that_says_what_never_means_is_not_named(tariffs: str):
    assert warnings(case(tariffs=tariffs)) == []


@pytest.mark.parametrize(
    "tariffs",
    [
        "0.6 * (since('hike') > 1)",
        "0.6 * (2 <= since('hike'))",
        "0.6 * (since('hike') != 1)",
        "min(1, 0.1 * since('hike'))",  # arithmetic on it reads 10,000 too
    ],
)
def test_since_read_at_10000_is_named(tariffs: str):
    found = warnings(case(tariffs=tariffs))
    assert any(f"since('hike') is {NEVER:,} while 'hike' has not happened" in w for w in found)


def test_since_in_a_scenario_rule_is_named_at_its_line():
    text = case(war="since('tariffs') <= 6 or since('hike') > 3")
    (found,) = warnings(text)
    assert found.startswith(f"trade.yaml:{line_of(text, 'id: war')}: scenarios[0].when: warning:")
    assert "since('hike') > 3 holds before any 'hike'" in found


# -- a probability its parameters' draws can take out of [0, 1] ----------------------------------


def test_a_rate_written_inside_0_1_is_a_share_wherever_it_is_used(tmp_path: Path):
    # `retaliation` (0.40 to 0.80) is not a direct factor, yet no draw of it leaves [0, 1]
    text = case(tariffs="retaliation if happened('hike') else 0.5 * retaliation")
    status, err = check(tmp_path, text)
    assert (status, err) == (0, "")
    compiled = load_yaml(text)
    drawn = Sampler(compiled.case, 1, compiled.crisis).draws(0, 100_000).params["retaliation"]
    assert drawn.min() >= 0 and drawn.max() <= 1
    assert 0.59 < np.median(drawn) < 0.61  # normal: the median is the midpoint, as a salience's
    assert 0.04 < (drawn < 0.4).mean() < 0.06 and 0.04 < (drawn > 0.8).mean() < 0.06


MULTIPLIER = "retaliation: 0.40 to 1.20"  # an end above 1: a number, lognormal, unbounded above


def test_a_parameter_that_can_pass_1_is_bounded_and_named(tmp_path: Path):
    # not a direct factor (a term of a sum): only the tails of its lognormal reach past 1
    text = case(tariffs="0.3 * retaliation + 0.1 * happened('hike')")
    text = text.replace("retaliation: 0.40 to 0.80", MULTIPLIER)
    status, err = check(tmp_path, text)
    assert status == 0
    line = line_of(text, "0.3 * retaliation")
    rows = [row for row in err.splitlines() if f"trade.yaml:{line}:" in row]
    assert rows, err
    assert (
        "crisis.events[1].probability: warning: the probability of event 'tariffs' can be 1.12, "
        "outside 0 to 1, in the tails of its parameters' draws (as far as one in a million at "
        "each end), and a long forecast stops with an error there: parameter retaliation "
        "(0.40 to 1.20, drawn from 0.142 to 3.39)"
    ) in rows[0]


def test_the_tail_is_real_draws_of_that_rate_pass_1():
    text = case(tariffs="retaliation if happened('hike') else 0.5 * retaliation")
    compiled = load_yaml(text.replace("retaliation: 0.40 to 0.80", MULTIPLIER))
    drawn = Sampler(compiled.case, 1, compiled.crisis).draws(0, 100_000).params["retaliation"]
    assert 0.08 < (drawn > 1).mean() < 0.2  # lognormal, median 0.69: above 1 in about 14%


def test_out_of_range_within_the_intervals_as_written_names_the_inputs():
    text = case(tariffs="0.5 + 0.2 * eu('china', 'us')")
    (found,) = warnings(text)
    assert "the probability of event 'tariffs' can be 1.3, outside 0 to 1" in found
    assert "with its parameters within their intervals as written" in found
    assert "eu('china', 'us') (from -4 to 4)" in found


def test_the_never_value_of_since_takes_a_probability_out_of_range():
    found = warnings(case(tariffs="0.01 * since('hike')"))
    excess = next(w for w in found if "the probability of event 'tariffs'" in w)
    assert (
        "can be 100" in excess and "since('hike') (10,000 while 'hike' has not happened)" in excess
    )


def test_a_round_by_round_bound_removes_exclusive_terms():
    # round 1 and the later rounds exclude each other: at most 0.9, not 1.7
    assert warnings(case(tariffs="0.9 * (round == 1) + 0.8 * (round > 1)")) == []
    assert warnings(case(tariffs="0.9 * (round == 1) + 0.8 * (round >= 1)")) != []


def test_a_truth_used_twice_is_taken_as_0_and_as_1():
    assert warnings(case(tariffs="0.7 * happened('hike') + 0.6 * (not happened('hike'))")) == []
    assert warnings(case(tariffs="0.7 * happened('hike') + 0.6 * (not happened('deal'))")) != []


def test_a_range_that_cannot_be_bounded_is_not_judged():
    # a guarded division: interval arithmetic cannot see the guard
    guarded = "min(1, hike_rate / gap('us', 'china')) if gap('us', 'china') > 0 else 0"
    assert warnings(case(tariffs=guarded)) == []


def test_a_warning_names_the_round_where_the_range_is_left():
    text = case(tariffs="0.9 + 0.3 * after('2018-10-15')")
    (found,) = warnings(text)
    assert "can be 1.2 in round 5 (ending 2018-11-01), outside 0 to 1" in found


def test_the_library_idioms_are_bounded_within_0_1():
    compiled = load_yaml(case())
    ranges = Ranges(compiled)
    assert compiled.crisis is not None
    for event in compiled.crisis.events:
        assert probability_excess(event.probability, ranges) is None
    # bound() itself, on a formula with a clamp
    deal = compiled.crisis.events[2].probability
    span = bound(deal, ranges.names(None), ranges.calls(deal, None), 0)
    assert span.within(0.0, 1.0) and span.high == pytest.approx(1.0)
    assert Span(0.2, 0.5).hull(Span(0.4, 0.9)) == Span(0.2, 0.9)


# -- a formula folded over lines -----------------------------------------------------------------

FOLDED = """\
      probability: >
        0.6 * happened('hike')
          * (not happened('deal'))
          * (gap('us', 'china') > 0.2)"""


def folded(text: str) -> str:
    marker = "      probability: \"0.4 * happened('hike')\""
    assert marker in case()
    return case().replace(marker, text)


def test_a_folded_formula_with_more_indented_lines_reads_as_one_line(tmp_path: Path):
    text = folded(FOLDED)
    status, err = check(tmp_path, text)
    assert status == 0, err
    compiled = load_yaml(text)
    one_line = load_yaml(
        folded(
            "      probability: \"0.6 * happened('hike') * (not happened('deal')) "
            "* (gap('us', 'china') > 0.2)\""
        )
    )
    assert compiled.crisis is not None and one_line.crisis is not None
    from standoff.pipeline.forecast import run

    a, b = run(compiled, draws=200, seed=5), run(one_line, draws=200, seed=5)
    assert [s.probability for s in a.scenarios] == [s.probability for s in b.scenarios]


def test_a_fault_in_a_folded_formula_is_reported_at_its_line(tmp_path: Path):
    text = folded(FOLDED.replace("* (gap('us', 'china') > 0.2)", "* (gap('us', 'china') > 0.2"))
    status, err = check(tmp_path, text)
    assert status == 2
    line = line_of(text, "* (gap('us', 'china') > 0.2")
    (row,) = [row for row in err.splitlines() if "trade.yaml:" in row]
    assert f"trade.yaml:{line}: crisis.events[1].probability: cannot read formula" in row
    assert "'(' was never closed" in row
    assert "\\n" not in row  # the formula is quoted on one line


def test_an_unknown_id_on_a_continuation_line_is_reported_at_its_line(tmp_path: Path):
    text = folded(FOLDED.replace("happened('deal')", "happened('deals')"))
    path = tmp_path / "trade.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError) as caught:
        load(path)
    (problem,) = caught.value.problems
    assert problem.line == line_of(text, "happened('deals')")
    assert "unknown event 'deals'" in problem.message


def test_parentheses_added_to_read_the_lines_never_close_the_formula():
    # `rate) * (2` is not a formula, over one line or two
    text = folded("      probability: >\n        hike_rate)\n          * (2")
    with pytest.raises(CaseError) as caught:
        load_yaml(text, "trade.yaml")
    assert "unmatched ')'" in caught.value.problems[0].message


def test_values_of_a_folded_formula_match_the_one_line_formula():
    text = folded(FOLDED)
    compiled = load_yaml(text)
    assert compiled.crisis is not None
    formula = compiled.crisis.events[1].probability
    names = {"hike_rate": np.array([0.1])}
    functions = {
        "happened": lambda e: np.array([e == "hike"]),
        "gap": lambda i, j: np.array([0.5]),
    }
    assert np.allclose(formula.evaluate(names, functions), 0.6)
