"""The formula language on its own (compile/expr.py): what it reads, what it refuses and why, and
how it computes on arrays of draws, with the context functions of a crisis replaced by small
stand-ins. The crisis layer's use of it is tested in test_crisis.py, test_hostile_formulas.py and
test_traps_formulas.py."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from standoff.compile.expr import (
    MAX_CONSTANT,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NODES,
    Formula,
    FormulaError,
    FormulaEvalError,
    Signature,
    compile_formula,
    offset_of,
)

NAMES = {"rate", "x", "y", "round"}
SIGNATURES = {
    "happened": Signature(("event",)),
    "sees": Signature(("actor", "actor", "interaction")),
    "after": Signature(("date",)),
    "scaled": Signature(("number", "number"), optional=1),
}
IDS: dict[str, set[str] | None] = {
    "event": {"summit", "strike"},
    "actor": {"us", "dprk"},
    "interaction": {"compromise", "conflict"},
    "date": None,
}


def parse(text: str | float) -> Formula:
    return compile_formula(text, NAMES, SIGNATURES, IDS)


def refused(text: str | float) -> str:
    with pytest.raises(FormulaError) as caught:
        parse(text)
    return str(caught.value)


DRAWS = 4
VALUES: dict[str, Any] = {
    "rate": np.array([0.1, 0.2, 0.3, 0.4]),
    "x": np.array([0.0, 1.0, 2.0, 3.0]),
    "y": np.array([2.0, 2.0, 0.0, -1.0]),
    "round": np.array(3),
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "happened": lambda e: (
        np.array([True, False, True, False]) if e == "summit" else np.zeros(4, bool)
    ),
    "sees": lambda a, b, how: np.full(DRAWS, 0.5),
    "after": lambda day: np.array(day <= "2020-01-01"),
    "scaled": lambda v, k=2.0: np.asarray(v) * k,
}


def value(text: str | float, where: Any = None, names: Mapping[str, Any] = VALUES) -> Any:
    return parse(text).evaluate(names, FUNCTIONS, where)


# -- what it computes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ** 3", 8.0),
        ("-2 ** 2", -4.0),  # ** binds tighter than the sign, as in Python
        ("7 % 3", 1.0),
        ("7 / 2", 3.5),
        ("1 < 2 < 3", 1.0),  # chained, as in Python
        ("1 < 3 < 2", 0.0),
        ("0.3 if 1 > 2 else 0.6", 0.6),
        ("min(0.2, 0.7) + max(0.2, 0.7)", 0.9),
        ("clip(1.5, 0, 1)", 1.0),
        ("abs(-0.25)", 0.25),
        ("sqrt(0.25)", 0.5),
        ("logistic(0)", 0.5),
        ("normal_cdf(0)", 0.5),
        ("exp(0) + log(1)", 1.0),
    ],
)
def test_arithmetic_comparisons_and_math_as_in_python(text: str, expected: float) -> None:
    assert float(value(text)) == pytest.approx(expected)


def test_names_and_functions_work_on_every_draw_at_once() -> None:
    got = value("rate * (x >= 1) + scaled(0.1) * happened('summit')")
    np.testing.assert_allclose(got, [0.2, 0.2, 0.5, 0.4])
    np.testing.assert_allclose(value("scaled(x, 3)"), [0.0, 3.0, 6.0, 9.0])
    np.testing.assert_allclose(value("sees('us', 'dprk', 'compromise')"), [0.5] * 4)
    assert bool(value("after('2019-06-01')"))


def test_truth_values_add_as_or_and_multiply_as_and() -> None:
    summit = "happened('summit')"
    np.testing.assert_array_equal(value(f"{summit} + {summit}"), [True, False, True, False])
    np.testing.assert_array_equal(value(f"{summit} * (x > 0)"), [False, False, True, False])
    # any other operation works on 1 and 0
    np.testing.assert_allclose(value(f"{summit} - (x > 0)"), [1.0, -1.0, 0.0, -1.0])
    np.testing.assert_allclose(value(f"0.5 * {summit}"), [0.5, 0.0, 0.5, 0.0])


def test_and_or_not_are_elementwise() -> None:
    np.testing.assert_array_equal(value("x > 0 and y > 0"), [False, True, False, False])
    np.testing.assert_array_equal(value("x > 0 or y > 0"), [True, True, True, True])
    np.testing.assert_array_equal(value("not x > 1"), [True, True, False, False])


# -- faults in a draw, and the draws where they count ------------------------------------------


def test_an_infinite_or_undefined_value_names_the_operation_and_the_draws() -> None:
    with pytest.raises(FormulaEvalError) as caught:
        value("rate / x")
    assert str(caught.value) == "rate / x gives an infinite number (a division by zero)"
    np.testing.assert_array_equal(caught.value.bad, [True, False, False, False])
    with pytest.raises(FormulaEvalError) as caught:
        value("0.1 + log(y)")
    assert str(caught.value).startswith("log(y) gives an undefined number")  # log(-1)
    np.testing.assert_array_equal(caught.value.bad, [False, False, True, True])  # and log(0)


def test_only_the_draws_where_a_value_counts_can_fault() -> None:
    # the branch not taken, and an operand after one that decides, do not count
    np.testing.assert_allclose(value("rate / x if x > 0 else 0"), [0.0, 0.2, 0.15, 0.4 / 3])
    np.testing.assert_array_equal(value("x > 0 and 1 / x > 0.4"), [False, True, True, False])
    np.testing.assert_array_equal(value("x == 0 or 1 / x > 0.4"), [True, True, True, False])
    # and draws left out by the caller do not either
    where = np.array([False, True, True, True])
    np.testing.assert_allclose(value("rate / x", where)[1:], [0.2, 0.15, 0.4 / 3])


# -- what it refuses, at load ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("rate.real", "Attribute is not allowed"),
        ("x[0]", "Subscript is not allowed"),
        ("[x, y]", "List is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("(z := 1)", "NamedExpr is not allowed"),
        ("rat", "unknown name 'rat'"),
        ("nope(1)", "unknown function 'nope'"),
        ("happened(x)", "happened(): the event must be a quoted id"),
        ("happened('sumit')", "happened(): unknown event 'sumit'"),
        ("after(2019-06-01)", "a date must be quoted"),
        ("sees('us', 'us', 'compromise')", "an actor with itself"),
        ("min(x)", "min() takes 2 argument(s), got 1"),
        ("scaled()", "scaled() takes 1 or 2 argument(s), got 0"),
        ("min(x=1, y=2)", "takes no keyword or starred arguments"),
        ("'summit'", "quoted text is only allowed as an id argument"),
        ("rate + 'a'", "the text 'a' is used as a value"),
        ("happened", "'happened' is a function: call it"),
        ("x ** y", "the exponent of ** must be a number written in the formula"),
        ("2 ** 3 ** 2", "the exponent of ** must be a number written in the formula"),
        (f"x ** {MAX_EXPONENT + 1}", "is too large"),
        (f"x * {MAX_CONSTANT * 10:g}", "is too large"),
        ("1 +", "cannot read formula"),
        ("", "empty formula"),
    ],
)
def test_what_is_not_the_language_is_refused_with_a_reason(text: str, fragment: str) -> None:
    assert fragment in refused(text)


def test_a_truth_value_as_a_whole_formula_is_refused_but_numbers_are_formulas() -> None:
    assert "is a truth value, not a number" in refused(True)
    assert float(value(0.25)) == 0.25
    assert parse("rate * x").names == {"rate", "x"}


def test_the_size_of_a_formula_is_bounded() -> None:
    assert "characters long" in refused("x + " * (MAX_LENGTH // 4) + "x")
    assert "nested too deeply" in refused("abs(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)
    parse("abs(" * (MAX_DEPTH // 3) + "x" + ")" * (MAX_DEPTH // 3))
    flat = " < ".join(["x"] * (MAX_NODES // 2 + 1))  # one comparison: wide, not deep
    assert len(flat) <= MAX_LENGTH
    assert f"too large: more than {MAX_NODES} terms and operators" in refused(flat)


def test_a_fault_is_placed_at_its_node_in_the_text() -> None:
    text = "rate *\n  nope(1)"
    with pytest.raises(FormulaError) as caught:
        parse(text)
    node = caught.value.node
    assert node is not None and offset_of(text, node) == text.index("nope")
    formula = parse("rate * x")
    formula.origin, formula.lines = ("case.yaml", 40, "crisis.events[0].probability"), ((0, 40),)
    assert formula.line_of(None) == 40
    call = next(
        n for n in ast.walk(parse("rate\n* x").tree) if isinstance(n, ast.Name) and n.id == "x"
    )
    folded = parse("rate\n* x")
    folded.origin, folded.lines = ("case.yaml", 40, "f"), ((0, 40), (5, 41))
    assert folded.line_of(call) == 41
