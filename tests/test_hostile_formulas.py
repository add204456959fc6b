"""Hostile formulas: every one ends in a clear error (exit 2, `FILE:LINE: field: problem`, never a
traceback) or runs cleanly, through `standoff check` and `standoff forecast`.

The formula language is safe by construction (docs/model.md, "Formulas"): formulas are type-checked
and bounded when the case is loaded, and their values are checked as the crisis is simulated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from standoff.cli import app
from standoff.compile.expr import MAX_DEPTH, MAX_LENGTH, MAX_NODES
from standoff.compile.plan import MAX_ROUNDS, add_months, round_count, round_dates

HERE = Path(__file__).parent
CORPUS = HERE / "hostile" / "formulas"

CASE = """\
id: hostile
as_of: 2020-01-01
horizon: {horizon}
issues:
  - {{id: deal}}
actors:
  - id: a
    capability: 50
    stances: {{deal: {{position: 90, salience: 0.9}}}}
  - id: b
    capability: 40
    stances: {{deal: {{position: 10, salience: 0.9}}}}
crisis:
  dyads: [[a, b]]
  step: {step}
  parameters:
    rate: 0.1 to 0.3
    wide: 0.6 to 1.9
    sure: 0.5 to 0.95
  events:
    - id: talks
      probability: {probability}
    - {{id: other_event, probability: 0.1}}
scenarios:
  - {{id: talked, when: {when}}}
  - {{id: quiet, when: otherwise}}
"""
PROBABILITY_LINE = 22  # the line of `probability:` in CASE
WHEN_LINE = 25  # the line of the first scenario's `when`


def case_text(
    probability: str = "rate",
    when: str = "happened('talks')",
    horizon: str = "2020-04-01",
    step: str = "month",
    quote: bool = True,
) -> str:
    def q(text: str) -> str:
        return json.dumps(text) if quote else text

    return CASE.format(
        probability=q(probability), when=json.dumps(when), horizon=horizon, step=step
    )


def invoke(args: list[str]):
    return CliRunner().invoke(app, args)


def assert_clear_error(result, path: Path, line: int | None, fragment: str) -> None:
    """Exit 2, a `FILE:LINE: field: problem` line on stderr with the fragment, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    err = result.stderr
    assert "Traceback" not in err and "Traceback" not in result.output
    where = f"{path}:{line}:" if line is not None else f"{path}:"
    hits = [row for row in err.splitlines() if row.startswith(where)]
    assert hits, err
    assert any(fragment in row for row in hits), err
    assert all(re.match(r"^.+:\d+: [\w\[\].]+: .+", row) for row in hits), err


def write(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- rejected when the case is loaded ------------------------------------------------------------

LOAD_ERRORS = [
    # runaway arithmetic and recursion
    ("9**9**9", "the exponent of ** must be a number written in the formula"),
    ("'a' * 10**10", "the text 'a' is used as a value"),
    ("-" * 999 + "1", f"nested too deeply: more than {MAX_DEPTH} levels"),
    ("+".join(["1"] * 300), f"nested too deeply: more than {MAX_DEPTH} levels"),
    ("-" * 2100 + "1", f"at most {MAX_LENGTH:,} are allowed"),
    ("+".join(["min(1, 1)"] * 60), "nested too deeply"),
    ("max(" + ",".join(["1"] * 600) + ")", "formula is too large: more than"),
    ("2.0 ** 10000", "the exponent 10000 of ** is too large"),
    ("2.0 ** rate", "the exponent of ** must be a number"),
    ("rate * 10000000", "the number 1e+07 is too large"),
    # functions: bare names, arities, id kinds
    ("happened", "'happened' is a function: call it"),
    ("rate * min", "'min' is a function"),
    ("max(1, 2, 3)", "max() takes 2 argument(s), got 3"),
    ("min(1)", "min() takes 2 argument(s), got 1"),
    ("clip(rate, 0)", "clip() takes 3 argument(s), got 2"),
    ("log()", "log() takes 1 argument(s), got 0"),
    ("happened('talks', 'talks')", "happened() takes 1 argument(s), got 2"),
    ("sees('a', 'b')", "sees() takes 3 or 4 argument(s), got 2"),
    ("happened('a')", "unknown event 'a'"),
    ("sees('a', 'b', 'talks')", "unknown interaction 'talks'"),
    ("position('a', 'a')", "unknown issue 'a'"),
    ("happened(talks)", "the event must be a quoted id"),
    ("rate * happened(x=1)", "takes no keyword"),
    # an actor with itself
    ("sees('a', 'a', 'conflict')", "an actor with itself"),
    ("rate * (eu('b', 'b') > 0)", "an actor with itself"),
    ("rate * (threat('a', 'a', 'deal') > 0)", "an actor with itself"),
    ("prevails('a', 'a') * rate", "an actor with itself"),
    ("gap('b', 'b')", "an actor with itself"),
    # text where a number belongs
    ("rate * (round > '3')", "the text '3' is used as a value"),
    ("since('talks') >= 'x'", "the text 'x' is used as a value"),
    ("'talks'", "the text 'talks' is used as a value"),
    ("rate if 'yes' else 0", "the text 'yes' is used as a value"),
    ("not 'talks'", "the text 'talks' is used as a value"),
    # other syntax
    ("rate.real", "Attribute is not allowed"),
    ("[rate][0]", "not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("rate +", "cannot read formula"),
    # parameters whose interval leaves [0, 1] used as probabilities
    ("wide", "parameter wide (0.6 to 1.9) is used as a probability"),
    ("wide * (not happened('talks'))", "parameter wide (0.6 to 1.9) is used as a probability"),
    # dates
    ("after(2018-11-06)", "a date must be quoted"),
    ("rate * after(2020-02-16)", "a date must be quoted"),
    ("rate * after('2021-01-01')", "the date 2021-01-01 is outside the case"),
    ("rate * before('2019-12-31')", "the date 2019-12-31 is outside the case"),
    ("rate * after('soon')", "'soon' is not a date"),
]


@pytest.mark.parametrize(("formula", "fragment"), LOAD_ERRORS)
@pytest.mark.parametrize("command", ["check", "forecast"])
def test_hostile_formula_is_a_clear_error_at_load(tmp_path, formula, fragment, command):
    path = write(tmp_path, case_text(formula))
    result = invoke([command, str(path), *(["--draws", "50"] if command == "forecast" else [])])
    assert_clear_error(result, path, PROBABILITY_LINE, fragment)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1.5", "1.5 is not a probability (0 to 1)"),
        ("-5", "-5 is not a probability"),
        ("7", "7 is not a probability"),
        ("True", "a truth value (true/false) is not a number or a formula"),
        ("false", "a truth value"),
        ("yes", "a truth value"),
    ],
)
def test_constant_probability_outside_0_1_or_a_truth_value(tmp_path, value, fragment):
    path = write(tmp_path, case_text(value, quote=False))
    for command in (["check", str(path)], ["forecast", str(path), "--draws", "50"]):
        assert_clear_error(invoke(command), path, PROBABILITY_LINE, fragment)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("count('talks') > 'x'", "the text 'x' is used as a value"),
        ("happened", "'happened' is a function"),
        ("max(count('talks'))", "max() takes 2 argument(s), got 1"),
        ("gap('a', 'a') > 0.1", "an actor with itself"),
    ],
)
def test_hostile_rule_is_a_clear_error_at_load(tmp_path, rule, fragment):
    path = write(tmp_path, case_text(when=rule))
    assert_clear_error(invoke(["check", str(path)]), path, WHEN_LINE, fragment)


def test_formula_at_the_size_limits_is_accepted(tmp_path):
    # a long but shallow formula within the limits runs
    terms = " + ".join(["0.001 * happened('talks')"] * 10)
    formula = f"min({terms}, 1)"
    assert len(formula) < MAX_LENGTH
    path = write(tmp_path, case_text(formula))
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert result.exit_code == 0, result.output
    assert MAX_NODES >= 100


# -- caught as the crisis is simulated -----------------------------------------------------------

RUN_ERRORS = [
    ("1/0", "event 'talks': 1/0 gives an infinite number (a division by zero)"),
    ("rate / (round - 1)", "rate / (round - 1) gives an infinite number (a division by zero)"),
    # a division by zero in round 2 would have made the event certain
    ("min(rate / (2 - round), 1) if round > 1 else 0", "a division by zero"),
    ("log(-1)", "log(-1) gives an undefined number"),
    ("rate * exp(1000)", "exp(1000) gives an infinite number"),
    ("sqrt(rate - 1)", "gives an undefined number"),
    ("rate % 0", "a division by zero"),
    ("rate * 10", "the probability of event 'talks' is"),
    ("rate - 0.5", "outside 0 to 1"),
    ("happened('talks') * 2 + rate", "outside 0 to 1"),
]


@pytest.mark.parametrize(("formula", "fragment"), RUN_ERRORS)
@pytest.mark.parametrize("command", ["check", "forecast"])
def test_value_out_of_range_at_run_time_is_a_clear_error(tmp_path, formula, fragment, command):
    path = write(tmp_path, case_text(formula))
    result = invoke([command, str(path), *(["--draws", "50"] if command == "forecast" else [])])
    assert_clear_error(result, path, PROBABILITY_LINE, fragment)


def test_run_time_error_names_the_round_the_share_and_a_draw(tmp_path):
    path = write(tmp_path, case_text("rate * 8 if round == 2 else rate"))
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert_clear_error(result, path, PROBABILITY_LINE, "the probability of event 'talks' is")
    message = result.stderr
    assert "in round 2 (ending 2020-03-01)" in message
    assert re.search(r"in \d+\.\d% of draws \(\d+ of 50\)", message), message
    assert re.search(r"e\.g\. draw \d+ with rate=0\.\d+", message), message
    assert "formula: rate * 8 if round == 2 else rate" in message


def test_run_time_error_in_a_worker_process_is_the_same_clear_error(tmp_path):
    # several blocks: they run in the local backend's worker processes, and the error found in
    # one of them comes back as the same `FILE:LINE` message
    path = write(tmp_path, case_text("rate * 8 if round == 2 else rate"))
    result = invoke(["forecast", str(path), "--draws", "900", "--chunk-size", "200",
                     "--workers", "2"])  # fmt: skip
    assert_clear_error(result, path, PROBABILITY_LINE, "the probability of event 'talks' is")
    assert "in round 2 (ending 2020-03-01)" in result.stderr


def test_undefined_rule_at_run_time_is_a_clear_error(tmp_path):
    path = write(tmp_path, case_text(when="log(count('talks') - 1) > 0"))
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert_clear_error(result, path, WHEN_LINE, "scenario 'talked': log(count('talks') - 1)")


def test_guarded_division_is_fine(tmp_path):
    # the branch not taken, and the operand of `and` after one that decides, do not count
    formula = (
        "(rate / (round - 1) if round > 1 else rate) * (round > 1 and 1 / (round - 1) > 0) "
        "+ 0 * (round == 1)"
    )
    path = write(tmp_path, case_text(f"min({formula}, 1)"))
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert result.exit_code == 0, result.output


def test_a_parameter_used_as_a_probability_is_drawn_on_0_1(tmp_path):
    # `sure: 0.5 to 0.95` is a 90% interval; as an event's whole probability it is a probability,
    # so it is drawn on [0, 1] (normal, clipped as a salience is) and never leaves it
    from standoff.compile import load
    from standoff.simulate.sample import Sampler

    path = write(tmp_path, case_text("sure"))
    compiled = load(path)
    assert compiled.crisis is not None
    assert compiled.crisis.parameters["sure"].quantity.high == 1.0
    drawn = Sampler(compiled.case, 1, compiled.crisis).draws(0, 5000).params["sure"]
    assert drawn.max() <= 1.0 and drawn.min() >= 0.0 and (drawn == 1.0).any()
    result = invoke(["forecast", str(path), "--draws", "2000"])
    assert result.exit_code == 0, result.output


def test_run_time_errors_through_every_command(tmp_path):
    path = write(tmp_path, case_text("rate * 10"))
    for args in (
        ["forecast", str(path), "--draws", "50", "--report", str(tmp_path / "report.md")],
        ["sensitivity", str(path), "--trajectories", "2", "--replicates", "1"],
        ["ablate", str(path), "--draws", "50"],
        ["check", str(path)],
    ):
        assert_clear_error(invoke(args), path, PROBABILITY_LINE, "outside 0 to 1")


# -- the corpus ----------------------------------------------------------------------------------


def corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
@pytest.mark.parametrize("command", ["check", "forecast"])
def test_corpus_file_is_a_clear_error_at_its_line(path, command):
    head = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# expect: (\d+): (.+)", head)
    assert match, f"{path}: the first line must be '# expect: LINE: fragment'"
    result = invoke([command, str(path), *(["--draws", "50"] if command == "forecast" else [])])
    assert_clear_error(result, path, int(match[1]), match[2])


# -- dates and horizons --------------------------------------------------------------------------


def test_far_horizon_is_a_clear_error_with_the_figure(tmp_path):
    path = write(tmp_path, case_text(horizon="9999-12-31", step="week"))
    result = invoke(["check", str(path)])
    assert_clear_error(result, path, 3, f"at most {MAX_ROUNDS:,}")
    assert "is 416,377 rounds" in result.stderr  # the number of weekly rounds


def test_rounds_up_to_the_last_date():
    last = dt.date(9999, 12, 31)
    assert round_dates(dt.date(9999, 6, 1), last, "month")[-1] == last
    assert round_dates(dt.date(9999, 12, 1), last, "quarter") == [last]
    assert round_dates(dt.date(9999, 12, 20), last, "week") == [dt.date(9999, 12, 27), last]
    assert round_count(dt.date(9999, 6, 1), last, "month") == len(
        round_dates(dt.date(9999, 6, 1), last, "month")
    )
    with pytest.raises(OverflowError):
        add_months(dt.date(9999, 12, 1), 1)


@pytest.mark.parametrize("step", ["week", "month", "quarter"])
@pytest.mark.parametrize(
    ("as_of", "horizon"),
    [("2018-08-15", "2018-12-31"), ("2018-01-31", "2019-07-31"), ("2020-02-29", "2021-02-28")],
)
def test_round_count_matches_round_dates(step, as_of, horizon):
    a, h = dt.date.fromisoformat(as_of), dt.date.fromisoformat(horizon)
    assert round_count(a, h, step) == len(round_dates(a, h, step))


def test_forecast_in_year_9999_runs(tmp_path):
    text = case_text(horizon="9999-12-31").replace("as_of: 2020-01-01", "as_of: 9999-06-01")
    path = write(tmp_path, text)
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert result.exit_code == 0, result.output


# -- random formulas from the grammar ------------------------------------------------------------

# valid ids mostly, some invalid ones
EVENTS = ["'talks'", "'other_event'"] * 4 + ["'nope'"]
ACTORS = ["'a'", "'b'"] * 4 + ["'zz'"]
KINDS = ["'conflict'", "'compromise'", "'stalemate'"] * 3 + ["'war'"]
ISSUES = ["'deal'"] * 6 + ["'nope'"]
DATES = ["'2020-02-15'"] * 6 + ["'2030-01-01'", "'soon'", "2020-02-15"]
ARITY = {"min": 2, "max": 2, "clip": 3, "exp": 1, "log": 1, "abs": 1, "sqrt": 1, "logistic": 1}


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


leaves = st.one_of(
    st.integers(-3, 12).map(str),
    st.floats(-2e6, 2e6, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["0", "0.5", "1", "rate", "sure", "round", "rounds", "rung"]),
    st.sampled_from(["1e7", "wide", "nope", "happened", "max", "'text'"]),
    st.builds(
        lambda f, e: _call(f, [e]),
        st.sampled_from(["happened", "count", "since", "now", "last"]),
        st.sampled_from(EVENTS),
    ),
    st.builds(
        _call,
        st.sampled_from(["happened", "since"]),
        st.lists(st.sampled_from(EVENTS), max_size=2),
    ),
    st.builds(
        lambda i, j, k, rest: _call("sees", [i, j, k, *rest]),
        st.sampled_from(ACTORS),
        st.sampled_from(ACTORS),
        st.sampled_from(KINDS),
        st.lists(st.sampled_from(ISSUES), max_size=1),
    ),
    st.builds(
        lambda f, i, j, rest: _call(f, [i, j, *rest]),
        st.sampled_from(["eu", "threat", "prevails", "gap"]),
        st.sampled_from(ACTORS),
        st.sampled_from(ACTORS),
        st.lists(st.sampled_from(ISSUES), max_size=1),
    ),
    st.builds(
        lambda f, i, j, rest: _call(f, [i, j, *rest]),
        st.sampled_from(["eu", "gap"]),
        st.sampled_from(ACTORS),
        st.sampled_from(ACTORS),
        st.lists(st.sampled_from(ISSUES), max_size=2),
    ),
    st.builds(
        lambda f, d: _call(f, [d]), st.sampled_from(["after", "before"]), st.sampled_from(DATES)
    ),
    st.builds(lambda a: _call("capability", [a]), st.sampled_from(ACTORS)),
    st.builds(
        lambda f, a, k: _call(f, [a, k]),
        st.sampled_from(["position", "salience"]),
        st.sampled_from(ACTORS),
        st.sampled_from(ISSUES),
    ),
)


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(
            lambda a, op, b: f"({a} {op} {b})",
            inner,
            st.sampled_from(
                ["+", "-", "*", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "and", "or"]
            ),
            inner,
        ),
        st.builds(
            lambda a, e: f"({a}) ** {e}",
            inner,
            st.sampled_from(["2", "0.5", "-1", "3", "11", "rate"]),
        ),
        st.builds(lambda op, a: f"{op}({a})", st.sampled_from(["-", "not "]), inner),
        st.builds(lambda a, b, c: f"({a} if {b} else {c})", inner, inner, inner),
        st.sampled_from(sorted(ARITY)).flatmap(
            lambda f: st.lists(inner, min_size=ARITY[f], max_size=ARITY[f]).map(
                lambda args: _call(f, args)
            )
        ),
        st.builds(
            lambda f, args: _call(f, args),
            st.sampled_from(sorted(ARITY)),
            st.lists(inner, min_size=0, max_size=3),
        ),
    )


formulas = st.recursive(leaves, _extend, max_leaves=8)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(formula=formulas, where=st.sampled_from(["probability", "when"]))
def test_random_formulas_are_rejected_or_run_never_a_traceback(tmp_path, formula, where):
    text = case_text(formula) if where == "probability" else case_text(when=formula)
    path = write(tmp_path, text)
    line = PROBABILITY_LINE if where == "probability" else WHEN_LINE
    checked = invoke(["check", str(path)])
    assert checked.exit_code in (0, 2), (formula, checked.output, checked.exception)
    if checked.exit_code == 2:
        assert_clear_error(checked, path, line, "")
        return
    result = invoke(["forecast", str(path), "--draws", "50"])
    assert result.exit_code in (0, 2), (formula, result.output, result.exception)
    if result.exit_code == 2:
        assert_clear_error(result, path, line, "")


def test_formulas_parse_safely_on_many_threads():
    """The web app compiles cases on several threads at once; CPython 3.11's AST constructor
    fails ("recursion depth mismatch") when a garbage collection inside one thread's parse lets
    another thread parse. Provoked here with tiny thread switches and finalizers in the garbage."""
    import sys
    import threading

    from standoff.compile.expr import compile_formula
    from standoff.compile.plan import SIGNATURES

    class Finalized:
        def __del__(self):
            sum(range(200))

    text = "min(1, max(0, (rate + rate * (rate - 0.1) / (rate + 1)) if rate > 0.2 else 0.5 * rate))"
    errors: list[BaseException] = []

    def work():
        for _ in range(1500):
            junk: list[object] = [Finalized() for _ in range(3)]
            junk.append(junk)  # a cycle: freed by the garbage collector, at any allocation
            try:
                compile_formula(text, {"rate"}, SIGNATURES, {})
            except SystemError as e:
                errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
