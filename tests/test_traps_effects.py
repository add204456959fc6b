"""An amount written on one side of zero keeps its sign: an effect's `add: 0.0 to 0.05` (an
increase) is never drawn below 0, `by: -5 to 0` (a shift down) never above it, and a crisis
parameter `0 to 0.05` is never negative; an interval that straddles zero, or a `normal(m, sd)`,
may take either sign, as its author asked (docs/cases.md, "Numbers and uncertainty").

The case is the kind an analyst writes from the docs: a Brexit negotiation, monthly rounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from standoff.compile import load_yaml
from standoff.simulate.sample import Sampler

CASE = """\
id: brexit
title: Brexit withdrawal talks (2018)
as_of: 2018-06-01
horizon: 2018-12-31
issues:
  - id: backstop
    label: The Irish backstop
    range: [-50, 50]
    low_means: the UK's terms
    high_means: the EU's terms
actors:
  - id: uk
    name: United Kingdom
    capability: 40 to 60
    stances: {{backstop: {{position: -40 to -20, salience: 0.5}}}}
  - id: eu
    name: European Union
    capability: 60 to 80
    stances: {{backstop: {{position: 30 to 45, salience: 0.8}}}}
crisis:
  step: month
  replicates: 4
  dyads: [[uk, eu]]
  parameters:
    talks_rate: 0.3 to 0.6
    drift: {drift}
  events:
    - id: talks
      probability: "talks_rate"
      effects:
        - {{do: salience, actor: uk, issue: backstop, add: {add}}}
        - {{do: shift, actor: uk, issue: backstop, by: {by}}}
        - {{do: capability, actor: eu, add: {capability}}}
    - id: walkout
      probability: "min(1, max(0, 0.02 + drift))"
scenarios:
  - {{id: walked, when: "happened('walkout')"}}
  - {{id: talking, when: otherwise}}
"""
KEYS = {
    "add": "crisis.events[0].effects[0].add",
    "by": "crisis.events[0].effects[1].by",
    "capability": "crisis.events[0].effects[2].add",
    "drift": "drift",
}


def draws(n: int = 20_000, **amounts: str) -> dict[str, np.ndarray]:
    fields = {"add": "0.0 to 0.05", "by": "-5 to 0", "capability": "0 to 10", "drift": "0 to 0.05"}
    compiled = load_yaml(CASE.format(**{**fields, **amounts}), "brexit.yaml")
    params = Sampler(compiled.case, 11, compiled.crisis).draws(0, n).params
    return {name: params[key] for name, key in KEYS.items()}


def test_an_increase_touching_zero_is_never_drawn_below_it():
    drawn = draws()
    assert drawn["add"].min() == 0.0  # was below 0 in about 5% of draws (normal, clipped at -1)
    assert drawn["capability"].min() == 0.0
    assert drawn["drift"].min() == 0.0  # a crisis parameter too
    # the 90% interval is kept: 0 and 0.05 stay the 5th and 95th percentiles
    assert np.mean(drawn["add"] == 0.0) == pytest.approx(0.05, abs=0.01)
    assert np.quantile(drawn["add"], 0.95) == pytest.approx(0.05, abs=0.002)


def test_a_decrease_touching_zero_is_never_drawn_above_it():
    drawn = draws()
    assert drawn["by"].max() == 0.0  # was above 0 in about 5% of draws
    assert np.mean(drawn["by"] == 0.0) == pytest.approx(0.05, abs=0.01)
    assert drawn["by"].min() < -5.0  # the other tail is the interval's, as before


def test_an_interval_off_zero_keeps_its_sign_in_the_tails():
    # normal, mean -20, sd 6.1: above 0 in 0.05% of draws
    drawn = draws(200_000, by="-30 to -10")
    assert drawn["by"].max() <= 0.0 and drawn["by"].min() < -30.0


@pytest.mark.parametrize(
    ("amount", "value"),
    [("add", "-0.02 to 0.05"), ("by", "-5 to 5"), ("add", "'normal(0.02, 0.02)'")],
)
def test_an_interval_across_zero_or_a_normal_may_take_either_sign(amount: str, value: str):
    drawn = draws(**{amount: value})[amount]
    assert drawn.min() < 0.0 < drawn.max()
