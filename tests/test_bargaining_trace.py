"""The bargaining round by round: per round and dyad, the means of the terms the formulas read
(gap, prevails, each side's eu) and the shares of each side's dominant view, over the draws whose
crisis is still running (conditioned: weighted), in the typed result, the JSON and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from standoff.compile import load_yaml
from standoff.compile.observed import compile_observations, parse_observations
from standoff.pipeline.forecast import run, simulate_histories
from standoff.pipeline.tasks import SimulateCrisis
from standoff.report.content import build_report
from standoff.report.render import render_html, render_markdown
from standoff.result import DyadTrace, ForecastResult
from standoff.run.executor import Block
from standoff.serialize import dumps, forecast_json
from standoff.simulate.crisis import TRACE_TERMS, VIEW_CLASSES, Probe

# Two issues (gap and the other terms are salience-weighted over them), uncertain inputs (the
# terms vary across draws), an event that ends the crisis (later rounds have fewer draws) and one
# that moves a position mid-round (what a later formula reads differs from the round's start).
CASE = """
id: trace
as_of: 2020-01-01
horizon: 2020-08-01
issues:
  - {id: deal}
  - {id: aid}
actors:
  - id: a
    capability: 30 to 70
    stances: {deal: {position: 80 to 95, salience: 0.8}, aid: {position: 30, salience: 0.3 to 0.6}}
  - id: b
    capability: 40
    stances: {deal: {position: 5 to 20, salience: 0.7}, aid: {position: 70 to 90, salience: 0.5}}
  - id: c
    capability: 10 to 30
    stances: {deal: {position: 50, salience: 0.5}, aid: {position: 40 to 60, salience: 0.9}}
crisis:
  dyads: [[a, b], [b, c]]
  replicates: 4
  events:
    - id: clash
      probability: >-
        0.05 + 0.3 * gap('a', 'b') + 0.1 * prevails('a', 'b') + 0.05 * logistic(eu('a', 'b'))
        + 0.05 * logistic(eu('b', 'a')) + 0.1 * gap('b', 'c') + 0.1 * prevails('b', 'c')
        + 0.01 * logistic(eu('b', 'c')) + 0.01 * logistic(eu('c', 'b'))
    - {id: quit, probability: "0.1 + 0.2 * happened('clash')", effects: [{do: end}]}
    - id: shove
      probability: 0.3
      effects: [{do: shift, actor: a, issue: deal, by: -10}]
    - {id: late, probability: "0.1 * gap('a', 'b')"}
scenarios:
  - {id: ended, when: "happened('quit')"}
  - {id: going, when: otherwise}
"""

# the terms of dyad (x, y), as the formulas write them, in TRACE_TERMS order
CALLS = {
    ("a", "b"): (("gap", "a", "b"), ("prevails", "a", "b"), ("eu", "a", "b"), ("eu", "b", "a")),
    ("b", "c"): (("gap", "b", "c"), ("prevails", "b", "c"), ("eu", "b", "c"), ("eu", "c", "b")),
}


def compiled():
    return load_yaml(CASE, "trace.yaml")


class FirstReads(Probe):
    """Each term's values in every draw at the first time a formula reads it in each round."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[tuple[str, ...], dict[int, np.ndarray]] = {}

    def wrap(self, name: str, fn: Any) -> Any:
        recorded, upto = super().wrap(name, fn), self.round

        def kept(*args: Any) -> Any:
            value = recorded(*args)
            self.first.setdefault((name, *args), {}).setdefault(upto, np.array(value, float))
            return value

        return kept


def trace_of(result: ForecastResult, dyad: tuple[str, str]) -> DyadTrace:
    assert result.timeline is not None
    return next(t for t in result.timeline.dyads if t.actors == dyad)


def test_the_round_means_are_the_means_of_what_the_formulas_read():
    """Round by round, the mean of each dyad's gap, prevails and eu over the draws still
    running equals the mean of the values the case's first event formula read in that round
    (before any event of the round moved a position)."""
    case, draws, seed = compiled(), 600, 5
    probe = FirstReads()
    histories = SimulateCrisis(case, seed).simulate(Block(0, draws), probe)
    result = run(case, draws=draws, seed=seed)
    rounds = case.crisis.rounds
    running = np.arange(rounds)[:, None] <= histories.ended[None, :]  # (T, D)
    assert running[0].all() and not running[-1].all()  # some crises end before the horizon
    for dyad, calls in CALLS.items():
        trace = trace_of(result, dyad)
        got = {"gap": trace.gap, "prevails": trace.prevails, "eu": trace.eu,
               "eu_back": trace.eu_back}  # fmt: skip
        for name, call in zip(TRACE_TERMS, calls, strict=True):
            for t in range(rounds):
                read = probe.first[call][t][running[t]]
                assert got[name][t] == pytest.approx(read.mean(), abs=1e-9), (dyad, name, t)
    # round 1's mean gap of (a, b), spelled out
    assert trace_of(result, ("a", "b")).gap[0] == pytest.approx(
        probe.first[("gap", "a", "b")][0].mean(), abs=1e-9
    )


def test_the_views_per_round_are_the_shares_of_the_running_draws():
    case, draws, seed = compiled(), 400, 9
    histories = simulate_histories(case, draws, seed)
    result = run(case, draws=draws, seed=seed)
    assert result.timeline is not None
    running = np.arange(case.crisis.rounds)[None, :] <= histories.ended[:, None]  # (D, T)
    for p, dyad in enumerate(CALLS):
        trace = trace_of(result, dyad)
        for side in range(2):
            shares = trace.sides[side].views
            assert list(shares) == list(VIEW_CLASSES)
            for t in range(case.crisis.rounds):
                seen = histories.views[running[:, t], t, p, side]
                for c, kind in enumerate(VIEW_CLASSES):
                    assert shares[kind][t] == pytest.approx(np.mean(seen == c), abs=1e-12)
                assert sum(shares[kind][t] for kind in VIEW_CLASSES) == pytest.approx(1.0)
    assert result.timeline.running == pytest.approx(tuple(running.mean(axis=0)))


def test_the_numbers_do_not_depend_on_the_block_size():
    case = compiled()
    whole = run(case, draws=333, seed=2, chunk_size=4096)
    assert whole.timeline is not None
    for size in (7, 50):
        cut = run(case, draws=333, seed=2, chunk_size=size)
        assert cut.timeline is not None
        assert cut.timeline.dyads == whole.timeline.dyads  # exact: integer sums
        assert cut.timeline.running == whole.timeline.running


def conditioned(chunk_size: int) -> ForecastResult:
    seen = parse_observations("as_of: 2020-03-01\nevents:\n  clash: [2020-01-20]\n", "seen.yaml")
    return run(compiled(), draws=600, seed=4, observed=seen, chunk_size=chunk_size)


def test_a_conditioned_forecast_weighs_the_draws_and_does_not_depend_on_the_block_size():
    case, draws, seed = compiled(), 600, 4
    seen = parse_observations("as_of: 2020-03-01\nevents:\n  clash: [2020-01-20]\n", "seen.yaml")
    plan = compile_observations(seen, case.crisis, case.case.as_of)
    histories = SimulateCrisis(case, seed, observed=plan)(Block(0, draws))
    assert histories.weight is not None and np.ptp(histories.weight) > 0
    whole = conditioned(4096)
    running = np.arange(case.crisis.rounds)[None, :] <= histories.ended[:, None]  # (D, T)
    for p, dyad in enumerate(CALLS):
        trace = trace_of(whole, dyad)
        for t in range(case.crisis.rounds):
            w = histories.weight * running[:, t]
            expected = np.average(histories.bargaining[:, t, p, 0], weights=w)
            assert trace.gap[t] == pytest.approx(expected, abs=1e-12)
    unweighted = run(case, draws=draws, seed=seed)
    assert trace_of(whole, ("a", "b")).gap[0] != trace_of(unweighted, ("a", "b")).gap[0]
    for size in (7, 64):
        cut = conditioned(size)
        for a, b in zip(cut.timeline.dyads, whole.timeline.dyads, strict=True):
            for name in ("gap", "prevails", "eu", "eu_back"):
                assert getattr(a, name) == pytest.approx(getattr(b, name), abs=1e-12, rel=0)
            for side_a, side_b in zip(a.sides, b.sides, strict=True):
                for kind in VIEW_CLASSES:
                    assert side_a.views[kind] == pytest.approx(side_b.views[kind], abs=1e-12)


def test_the_json_has_the_bargaining_section_by_round_date():
    result = run(compiled(), draws=300, seed=3)
    data = forecast_json(result)
    section = data["bargaining"]
    dates = data["rounds"]
    assert list(section["running"]) == dates
    assert [d["dyad"] for d in section["dyads"]] == [["a", "b"], ["b", "c"]]
    first = section["dyads"][0]
    assert list(first["rounds"]) == dates
    trace = trace_of(result, ("a", "b"))
    day = first["rounds"][dates[2]]
    assert day["gap"] == round(trace.gap[2], 6)
    assert day["prevails"] == round(trace.prevails[2], 6)
    assert day["eu"] == {"a": round(trace.eu[2], 6), "b": round(trace.eu_back[2], 6)}
    assert list(day["views"]) == ["a", "b"]
    assert list(day["views"]["b"]) == list(VIEW_CLASSES)
    assert day["views"]["b"]["conflict"] == round(trace.sides[1].views["conflict"][2], 6)
    dumps(data)  # strict JSON


def test_a_round_no_draw_reaches_is_null():
    """Every crisis ends in round 1: the later rounds have no numbers (null), never NaN."""
    text = CASE.replace("\"0.1 + 0.2 * happened('clash')\"", "1")
    result = run(load_yaml(text, "trace.yaml"), draws=40, seed=1)
    trace = trace_of(result, ("a", "b"))
    assert trace.gap[0] is not None and trace.gap[1:] == (None,) * (len(trace.gap) - 1)
    assert trace.sides[0].views["conflict"][1] is None
    data = forecast_json(result)
    later = data["bargaining"]["dyads"][0]["rounds"][data["rounds"][1]]
    assert later["gap"] is None and later["eu"] == {"a": None, "b": None}
    assert data["bargaining"]["running"][data["rounds"][1]] == 0.0
    dumps(data)  # no NaN: the JSON stays strict


def test_the_report_shows_how_the_bargaining_moved(tmp_path: Path):
    result = run(compiled(), draws=300, seed=3)
    report = build_report(result)
    svg = report.figures["bargaining"]
    assert "<title>How the bargaining moved</title>" in svg
    assert "2020-02-01" in svg and "2020-08-01" in svg  # the calendar's dates on the x axis
    page = render_html(report)
    section = page[page.index('<section id="bargaining">') :]
    section = section[: section.index("</section>")]
    assert "<h2>How the bargaining moved</h2>" in section
    assert "<figcaption" in section and "still running" in section
    assert "a – b" in section and "b – c" in section
    trace = trace_of(result, ("a", "b"))
    assert f'<td class="num small">{trace.gap[0]:.2f}</td>' in section
    text, files = render_markdown(report, tmp_path / "out.md")
    assert "## How the bargaining moved" in text
    assert "![How the bargaining moved](out_figures/bargaining.svg)" in text
    assert files["bargaining.svg"] == svg
