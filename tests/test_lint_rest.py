"""`standoff check` names an event formula's model-derived term that stops changing after the
first rounds in most draws of its pilot run (at rest), at the formula's line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile import load_yaml
from standoff.pipeline.lint import FIRST_ROUNDS, REST, at_rest, dead_terms

# Monthly rounds from February to July: six rounds.
CASE = """
id: rest
as_of: 2020-01-01
horizon: 2020-07-01
issues:
  - {{id: deal}}
actors:
  - {{id: a, capability: {cap_a}, stances: {{deal: {{position: 90, salience: 0.9}}}}}}
  - {{id: b, capability: {cap_b}, stances: {{deal: {{position: 10, salience: 0.9}}}}}}
  - {{id: c, capability: 10, stances: {{deal: {{position: 50, salience: 0.5}}}}}}
crisis:
  dyads: [[a, b]]
  replicates: 4
  events:
    - {{id: e, probability: "0.05 + 0.1 * {term}"}}
scenarios:
  - {{id: hit, when: "happened('e') and {term} > 0.2"}}
  - {{id: miss, when: otherwise}}
"""


def write(tmp_path: Path, term: str, cap_a: object = 50, cap_b: object = 40) -> Path:
    path = tmp_path / "rest.yaml"
    path.write_text(CASE.format(term=term, cap_a=cap_a, cap_b=cap_b))
    return path


def check(path: Path) -> str:
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output  # a warning, not an error
    return result.output


def test_a_term_that_settles_in_the_first_rounds_is_named_at_its_line(tmp_path: Path):
    """a and b meet by the third round in every draw: from then on their gap is 0."""
    path = write(tmp_path, "gap('a', 'b')", cap_a="40 to 60")
    output = " ".join(check(path).split())  # as one line, whatever the terminal's width
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1) if "id: e," in row)
    assert f"rest.yaml:{line}: crisis.events[0].probability: warning: " in output
    assert "gap('a', 'b') is at rest from round 3 in 100% of the 256 pilot draws" in output
    assert "the formulas that read it act only in the first rounds" in output
    # the scenario rule reads it once, at the horizon: nothing to say of its rounds
    assert "scenarios[0].when" not in output
    # `standoff check` and the web workspace's check read the same warnings
    found = dead_terms(load_yaml(path.read_text(), str(path)))
    assert len(found) == 1 and "gap('a', 'b') is at rest from round 3" in found[0].message


def test_a_term_that_keeps_moving_is_not_named(tmp_path: Path):
    """A strong a and a weak b keep moving for the whole calendar."""
    path = write(tmp_path, "gap('a', 'b')", cap_a=90, cap_b=5)
    assert "at rest" not in check(path)
    assert dead_terms(load_yaml(path.read_text(), str(path))) == []


def test_a_term_that_settles_only_later_is_not_named(tmp_path: Path):
    """prevails('a', 'b') moves until the fourth round: later than the first rounds."""
    path = write(tmp_path, "prevails('a', 'b')", cap_a="40 to 60")
    assert "at rest" not in check(path)


def series(changes: list[list[float]]) -> dict[int, np.ndarray]:
    """Per round index, the value in each draw: the running sums of `changes` (rounds x draws)."""
    values = np.cumsum(np.asarray(changes, dtype=float), axis=0)
    return {t: values[t] for t in range(len(values))}


def test_at_rest_is_judged_over_the_draws_still_running_after_the_first_rounds():
    rounds, draws = 6, 100
    changes = np.zeros((rounds, draws))
    changes[1] = 1.0  # every draw moves into round 2
    changes[4, :5] = 1.0  # five draws move again into round 5
    ended = np.full(draws, rounds)
    assert at_rest(series(changes.tolist()), ended, rounds, 2.0) == (2, 0.95, draws)
    # ten draws move late: 85% at rest is not most
    changes[4, :15] = 1.0
    assert at_rest(series(changes.tolist()), ended, rounds, 2.0) is None
    # ... unless those ten ended before round 4 (not judged) or before their move (at rest)
    ended[:10] = 2
    assert at_rest(series(changes.tolist()), ended, rounds, 2.0) == (2, 85 / 90, 90)
    ended[:10] = 3  # running in round 4, ended before the move into round 5
    assert at_rest(series(changes.tolist()), ended, rounds, 2.0) == (2, 0.95, draws)


def test_changes_below_the_rest_threshold_do_not_count():
    rounds, draws, spread = 6, 20, 3.0
    changes = np.zeros((rounds, draws))
    changes[2] = 1.0  # everyone moves into round 3
    changes[3:] = 0.5 * REST * spread  # then only jitter
    ended = np.full(draws, rounds)
    assert at_rest(series(changes.tolist()), ended, rounds, spread) == (3, 1.0, draws)
    changes[5] = 2 * REST * spread  # a change that counts, in the last round
    assert at_rest(series(changes.tolist()), ended, rounds, spread) is None


def test_too_short_a_calendar_or_too_few_draws_cannot_be_judged():
    ones = np.ones((FIRST_ROUNDS, 10))
    assert at_rest(series(ones.tolist()), np.full(10, FIRST_ROUNDS), FIRST_ROUNDS, 1.0) is None
    longer = np.zeros((FIRST_ROUNDS + 2, 10))
    ended = np.full(10, FIRST_ROUNDS - 1)  # every crisis over before round FIRST_ROUNDS + 1
    assert at_rest(series(longer.tolist()), ended, FIRST_ROUNDS + 2, 1.0) is None
    # a term not read in every round
    partial = series(longer.tolist())
    del partial[1]
    assert at_rest(partial, np.full(10, 9), FIRST_ROUNDS + 2, 1.0) is None
