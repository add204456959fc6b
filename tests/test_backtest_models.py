"""DEU III issues as inputs of the settlement engines: the reference point, the institutions of
the procedural model, whole proposals for the exchange model, batching."""

from __future__ import annotations

import numpy as np
import pytest

from standoff.backtest.capabilities import capability
from standoff.backtest.deu3 import ACTORS, parse_deu3
from standoff.backtest.models import (
    QMV_QUOTA,
    Setup,
    institution_options,
    issue_inputs,
    run_engine,
)
from standoff.bargaining import Exchange
from standoff.bargaining.base import BargainingInputs

from .test_backtest_deu3 import row, tsv


def file(*rows: str):
    return parse_deu3(tsv(*rows), "t.tsv")


def test_the_reference_point_reaches_the_engines() -> None:
    """nash settles at the status quo where actors sit on both sides of it, and between the
    actors where all sit on one side: so the issue's `rp` reached it."""
    data = file(
        row("d00001i1", {"com": "20", "de": "80"}, {"com": "50", "de": "50"}, rp="50"),
        row("d00002i1", {"com": "60", "de": "80"}, {"com": "50", "de": "50"}, rp="0"),
        row("d00003i1", {"com": "60", "de": "80"}, {"com": "50", "de": "50"}),
    )
    setup = Setup(capabilities="equal")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    settled = run_engine("nash", per, setup=setup)[:, 0]
    assert settled[0] == 50  # the status quo stands
    assert 60 < settled[1] < 80  # an agreement between the two
    assert settled[2] == pytest.approx(70)  # no reference point: the weighted mean


def test_institutions_of_the_procedural_model() -> None:
    data = file(
        row("d00001i1", {"com": "20", "ep": "50", "de": "80"}, {}, finact="25-05-99"),
        row("d00002i1", {"com": "20", "de": "80"}, {}, proc="CNS", finact="2013-02-08"),
        row("d00003i1", {"com": "20", "de": "80"}, {}, counvte="Unan", finact="2017-12-18"),
        row("d00004i1", {"com": "20", "de": "80"}, {}, finact="2017-12-18"),
    )
    per = [issue_inputs(i, data.gdp, Setup()) for i in data.issues]
    options = [institution_options("procedural", x) for x in per]
    assert [o["quota"] for o in options] == [62 / 87, 255 / 345, 1.0, 0.65]
    assert [o["veto"] for o in options] == [("ep",), (), ("ep",), ("ep",)]
    assert {o["setter"] for o in options} == {"com"}
    assert all("com" in o["non_voters"] and "ep" in o["non_voters"] for o in options)
    assert institution_options("compromise", per[0]) == {}
    assert QMV_QUOTA["nice"] == pytest.approx(0.739, abs=1e-3)


def test_procedural_commission_proposes_within_the_council_win_set() -> None:
    """The Commission at 100, states at 20, 50, 80 with equal votes, status quo 0. Under
    unanimity the state at 20 accepts up to 40. Under QMV before Nice (62/87 = 0.713 of three
    equal votes needs all three, 2/3 < 0.713) the same, but under co-decision the Parliament at
    10 accepts only up to 20; under consultation it has no veto: 40 again."""
    states = {"de": "20", "fr": "50", "uk": "80"}
    sal = {a: "50" for a in ("com", "ep", *states)}
    data = file(
        row("d00001i1", {"com": "100", **states}, sal, counvte="Unan", rp="0"),
        row("d00002i1", {"com": "100", "ep": "10", **states}, sal, rp="0", finact="25-05-99"),
        row("d00003i1", {"com": "100", "ep": "10", **states}, sal, rp="0", proc="CNS",
            finact="25-05-99"),
    )  # fmt: skip
    setup = Setup(capabilities="equal")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    settled = run_engine("procedural", per, setup=setup)[:, 0]
    assert settled.tolist() == [40.0, 20.0, 40.0]


def test_exchange_trades_across_the_issues_of_a_proposal() -> None:
    """Two issues of one proposal: de cares about the first, com about the second; the engine
    run on the proposal gives what the backtest gives. Issues of different proposals never
    trade, and a proposal of one issue is the compromise model."""
    pair = [
        row("d00001i1", {"com": "100", "de": "0"}, {"com": "20", "de": "90"}),
        row("d00001i2", {"com": "100", "de": "0"}, {"com": "80", "de": "10"}),
    ]
    data = file(*pair, row("d00002i1", {"com": "100", "de": "0"}, {"com": "20", "de": "90"}))
    setup = Setup(capabilities="equal")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    settled = run_engine("exchange", per, setup=setup)[:, 0]
    inputs = BargainingInputs(
        capability=np.ones((1, 2)),
        position=np.array([[[100.0, 100.0], [0.0, 0.0]]]),
        salience=np.array([[[0.2, 0.8], [0.9, 0.1]]]),
        low=np.zeros(2),
        high=np.full(2, 100.0),
    )
    engine = Exchange()
    np.testing.assert_allclose(settled[:2], engine.settlement(inputs, engine.run(inputs))[0])
    compromise = run_engine("compromise", per, setup=setup)[:, 0]
    assert settled[2] == pytest.approx(compromise[2])
    assert not np.allclose(settled[:2], compromise[:2])


def test_exchange_with_absent_actors_and_batched_proposals() -> None:
    """An actor absent from an issue carries no weight there; proposals batched together give
    what each gives alone; draws of noisy inputs keep draw 0 central."""
    rng = np.random.default_rng(4)
    rows = []
    for p in range(6):
        for k in range(1 + p % 3):
            actors = ACTORS[: 4 + (p + k) % 3]
            rows.append(
                row(
                    f"d{p:05d}i{k + 1}",
                    {a: str(int(v)) for a, v in zip(actors, rng.integers(0, 101, len(actors)),
                                                     strict=True)},
                    {a: str(int(v)) for a, v in zip(actors, rng.integers(10, 101, len(actors)),
                                                     strict=True)},
                )
            )  # fmt: skip
    data = file(*rows)
    setup = Setup(capabilities="gdp")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    together = run_engine("exchange", per, setup=setup)[:, 0]
    by_proposal: dict[str, list[int]] = {}
    for k, x in enumerate(per):
        by_proposal.setdefault(x.proposal, []).append(k)
    for members in by_proposal.values():
        alone = run_engine("exchange", [per[k] for k in members], setup=setup)[:, 0]
        np.testing.assert_allclose(together[members], alone)
    sampled = run_engine("exchange", per, draws=5, setup=setup)
    np.testing.assert_allclose(sampled[:, 0], together)
    assert (sampled.std(axis=1) > 0).any()


@pytest.mark.parametrize("model", ["nash", "procedural", "condorcet"])
def test_new_engines_batched_match_one_issue_at_a_time(model: str) -> None:
    rng = np.random.default_rng(8)
    rows = []
    for k, n in enumerate([5, 7, 5, 9, 7]):
        actors = ACTORS[:n]
        rows.append(
            row(
                f"d0000{k}i1",
                {a: str(int(v)) for a, v in zip(actors, rng.integers(0, 101, n), strict=True)},
                {a: str(int(v)) for a, v in zip(actors, rng.integers(10, 101, n), strict=True)},
                rp=str(int(rng.integers(0, 101))), counvte="Unan" if k % 2 else "QMV",
            )
        )  # fmt: skip
    data = file(*rows)
    setup = Setup(capabilities="gdp")
    per = [issue_inputs(i, data.gdp, setup) for i in data.issues]
    together = run_engine(model, per, setup=setup)[:, 0]
    alone = [run_engine(model, [x], setup=setup)[0, 0] for x in per]
    assert together == pytest.approx(alone)


def test_institutions_as_heavy_as_the_largest_state_present() -> None:
    data = file(row("d00001i1", {"com": "0", "ep": "0", "nl": "50", "lu": "100"}, {},
                    finact="25-05-99"))  # fmt: skip
    issue = data.issues[0]
    everyone = capability(issue, "council-votes", data.gdp, "largest")
    present = capability(issue, "council-votes", data.gdp, "largest-present")
    assert everyone[0] == everyone[1] == pytest.approx(10 / 87)  # Germany's weight
    assert present[0] == present[1] == pytest.approx(5 / 87)  # the Netherlands'
    assert present[2:].tolist() == everyone[2:].tolist()
