"""The crisis clock (`crisis.pace`): reading it, the share of the way moved per step, and the
leave-one-case-out choice of a global setting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from standoff.compile import CompiledCase, load, load_yaml, with_pace
from standoff.compile.pace import PaceError, half_life_days, inertia, pace_shares, shares
from standoff.compile.plan import add_months
from standoff.errors import CaseError
from standoff.library.loco import leave_one_case_out
from standoff.pipeline.forecast import run

ROOT = Path(__file__).resolve().parents[1]


def test_half_lives_as_written() -> None:
    assert half_life_days("engine") is None
    assert half_life_days("2 weeks") == 14
    assert half_life_days("1 year") == pytest.approx(365.25)
    assert half_life_days("0.5 month") == pytest.approx(365.25 / 24)
    for bad in ("6 monthz", "-3 months", "0 days", "soon", "3"):
        with pytest.raises(PaceError):
            half_life_days(bad)


def test_a_step_of_one_half_life_covers_half_the_way() -> None:
    start = dt.date(2020, 1, 1)
    days = (dt.date(2020, 1, 11), dt.date(2020, 1, 31))  # 10 days, then 20 days
    got = shares(start, days, 10.0)
    assert got == pytest.approx((0.5, 0.75))
    # two half steps cover what one whole step does
    halves = shares(start, (dt.date(2020, 1, 6), dt.date(2020, 1, 11)), 10.0)
    assert 1 - (1 - halves[0]) * (1 - halves[1]) == pytest.approx(got[0])
    assert shares(start, days, None) == (1.0, 1.0)


def test_a_bad_pace_is_reported_at_its_line() -> None:
    text = (ROOT / "cases" / "us-dprk-2018.yaml").read_text()
    bad = text.replace("\ncrisis:\n", "\ncrisis:\n  pace: 6 monthz\n", 1)
    with pytest.raises(CaseError) as caught:
        load_yaml(bad, "dprk.yaml")
    (problem,) = caught.value.problems
    assert problem.field == "crisis.pace"
    assert bad.splitlines()[problem.line - 1].strip() == "pace: 6 monthz"


def test_a_stated_pace_is_the_one_run() -> None:
    text = (ROOT / "cases" / "us-dprk-2018.yaml").read_text()
    stated = load_yaml(text.replace("\ncrisis:\n", "\ncrisis:\n  pace: 3 months\n", 1))
    assert stated.crisis is not None and stated.crisis.pace_stated
    assert stated.crisis.pace == "3 months"
    overridden = with_pace(load("us-dprk-2018"), "3 months")
    a = run(stated, draws=300, seed=5)
    b = run(overridden, draws=300, seed=5)
    assert [s.probability.p for s in a.scenarios] == [s.probability.p for s in b.scenarios]


def _first_round(compiled: CompiledCase) -> tuple[np.ndarray, np.ndarray]:
    """(positions as drawn, positions after the first round) of 20 draws, no event firing."""
    import dataclasses

    from standoff.pipeline.tasks import _crisis_engine
    from standoff.simulate.crisis import simulate
    from standoff.simulate.sample import Sampler

    plan = compiled.crisis
    assert plan is not None
    one = dataclasses.replace(plan, dates=plan.dates[:1], shares=plan.shares[:1], questions=(),
                              calendar=())  # fmt: skip
    sampled = Sampler(compiled.case, 3, one).draws(0, 20)
    uniforms = np.ones((20, 1, len(one.events)))  # a uniform of 1 never fires an event
    done = simulate(one, sampled.inputs, sampled.params, uniforms, _crisis_engine(one.engine))
    return sampled.inputs.position, done.final_position


def test_each_step_moves_the_share_of_the_way_the_pace_gives() -> None:
    compiled = load("us-dprk-2018")
    start, whole = _first_round(with_pace(compiled, "engine"))
    assert not np.allclose(start, whole)  # the engine moves someone in its first round
    partial = with_pace(compiled, "3 months")
    assert partial.crisis is not None
    share = partial.crisis.shares[0]
    assert 0 < share < 1
    again, moved = _first_round(partial)
    np.testing.assert_array_equal(again, start)
    np.testing.assert_allclose(moved, start + share * (whole - start), rtol=0, atol=1e-9)
    _, still = _first_round(with_pace(compiled, "100000 days"))
    np.testing.assert_allclose(still, start, atol=0.01 * 100)


def test_leave_one_case_out_never_uses_the_case_itself() -> None:
    # setting "a" is best on c1 and c2; "b" is best on c3 only, by a lot
    scores = {
        "a": {"c1": [0.0], "c2": [0.0], "c3": [0.9]},
        "b": {"c1": [0.1], "c2": [0.1], "c3": [0.0]},
    }
    choice = leave_one_case_out(scores)
    # without c1, b scores (0.1 + 0.0) / 2 against a's (0.0 + 0.9) / 2; likewise without c2;
    # without c3, a is better, so c3 cannot pick b, the setting best for itself
    assert choice.per_case == {"c1": "b", "c2": "b", "c3": "a"}
    assert choice.loco_brier == pytest.approx((0.1 + 0.1 + 0.9) / 3)
    assert choice.chosen == "b"  # in-sample, b's mean 0.067 beats a's 0.3
    assert choice.in_sample["a"] == pytest.approx(0.3)


def test_a_round_every_period_moves_only_when_its_period_ends() -> None:
    start = dt.date(2018, 8, 15)
    months = tuple(add_months(start, m) for m in range(1, 13))
    assert pace_shares(start, months, "every 3 months") == tuple(
        1.0 if m % 3 == 0 else 0.0 for m in range(1, 13)
    )
    assert pace_shares(start, months, "every 1 year")[-1] == 1.0
    assert sum(pace_shares(start, months, "every 1 year")) == 1.0
    weeks = tuple(start + dt.timedelta(weeks=w) for w in range(1, 9))
    assert pace_shares(start, weeks, "every 2 weeks") == (0.0, 1.0) * 4
    # a period shorter than a step: a round each step, as `engine`
    assert pace_shares(start, months, "every 1 week") == pace_shares(start, months, "engine")
    assert half_life_days("every 3 months") is None
    for bad in ("every 0 months", "every 3 monthz", "every three months", "every 1.5 months"):
        with pytest.raises(PaceError):
            pace_shares(start, months, bad)


def test_between_rounds_positions_stay_where_they_are() -> None:
    text = (ROOT / "cases" / "us-dprk-2018.yaml").read_text()
    every = load_yaml(text.replace("\ncrisis:\n", "\ncrisis:\n  pace: every 3 months\n", 1))
    assert every.crisis is not None and every.crisis.shares[:6] == (0, 0, 1, 0, 0, 1)
    held, whole = run(every, draws=200, seed=5), run(load("us-dprk-2018"), draws=200, seed=5)
    assert held.timeline is not None and whole.timeline is not None
    gap, engine = held.timeline.dyads[0].gap, whole.timeline.dyads[0].gap
    assert None not in gap[:3] and None not in engine[:1]
    # Trump and Kim stay apart as written for two months (only the cases' own effects move
    # them), then the first round, in the third month, brings them close; with a round each
    # step they are close after the first
    assert gap[0] > engine[0] + 0.3
    assert abs(gap[1] - gap[0]) < 0.05
    assert gap[2] < gap[1] / 2


def test_the_forecast_says_which_clock_it_ran(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from standoff.cli import app

    text = (ROOT / "cases" / "cuba-1962.yaml").read_text()
    for pace, said in [
        ("every 3 months", "Clock: a round of the engine, taken whole, every 3 months;"),
        ("6 months", "Clock: positions move half way to the engine's in 6 months;"),
    ]:
        path = tmp_path / "cuba.yaml"
        path.write_text(text.replace("\ncrisis:\n", f"\ncrisis:\n  pace: {pace}\n", 1))
        result = CliRunner().invoke(app, ["forecast", str(path), "--draws", "200"])
        assert result.exit_code == 0, result.output
        assert said in " ".join(result.output.split())


def test_inertia_is_read_and_bounded() -> None:
    assert inertia("inertia 0.1") == pytest.approx(0.1)
    assert inertia("Inertia 1") == 1.0
    assert inertia("engine") is None and inertia("6 months") is None
    assert half_life_days("inertia 0.2") is None
    start = dt.date(2020, 1, 1)
    assert pace_shares(start, (dt.date(2020, 2, 1),), "inertia 0.2") == (1.0,)
    for bad in ("inertia 0", "inertia 1.5", "inertia -0.1", "inertia", "inertia a lot"):
        with pytest.raises(PaceError):
            half_life_days(bad)


def test_under_inertia_a_move_is_taken_whole_or_not_at_all() -> None:
    compiled = load("us-dprk-2018")
    start, whole = _first_round(with_pace(compiled, "engine"))
    cost = 0.2
    held = with_pace(compiled, f"inertia {cost}")
    assert held.crisis is not None and held.crisis.inertia == cost
    again, moved = _first_round(held)
    np.testing.assert_array_equal(again, start)
    from standoff.simulate.sample import Sampler

    assert compiled.crisis is not None
    inputs = Sampler(compiled.case, 3, compiled.crisis).draws(0, 20).inputs
    salience, span = inputs.salience, (inputs.high - inputs.low).astype(float)
    worth = np.abs(whole - start) > cost * salience * span
    assert worth.any() and (~worth & (whole != start)).any()  # both kinds of move occur
    np.testing.assert_array_equal(moved, np.where(worth, whole, start))
