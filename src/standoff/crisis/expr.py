"""Formulas in case files, compiled once and evaluated on whole arrays of draws.

A formula is a Python-like expression over named parameters, state variables and a fixed set of
functions, e.g. `summit_rate * (since('summit') >= 3) * sees('kim', 'trump', 'compromise')`. It is
parsed with `ast` and only a whitelist of node types is accepted: numbers, strings (ids), names,
arithmetic, comparisons, `and`/`or`/`not` (elementwise), `a if cond else b`, and calls of the
functions the evaluation context provides. Nothing is ever passed to `eval`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}

# Pure math functions available in every formula.
MATH: dict[str, Callable[..., Any]] = {
    "min": np.minimum,
    "max": np.maximum,
    "clip": np.clip,
    "exp": np.exp,
    "log": np.log,
    "abs": np.abs,
    "sqrt": np.sqrt,
    "logistic": lambda x: 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float))),
}


class FormulaError(ValueError):
    pass


@dataclass(frozen=True)
class Signature:
    """What a context function accepts: its number of arguments and which kind of id each is."""

    kinds: tuple[
        str, ...
    ]  # per argument: "actor", "issue", "event", "belief", "interaction", "date", "number"
    optional: int = 0  # how many trailing arguments may be left out


@dataclass
class Formula:
    text: str
    tree: ast.Expression
    names: set[str] = field(default_factory=set)

    def evaluate(
        self, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
    ) -> Any:
        return _eval(self.tree.body, names, functions)


def compile_formula(
    text: str | float | int,
    names: set[str],
    signatures: Mapping[str, Signature],
    ids: Mapping[str, set[str]],
) -> Formula:
    """Parse and check a formula. `names` are the bare names it may use, `signatures` the context
    functions, `ids` the valid ids of each kind. Raises FormulaError with a readable message."""
    source = str(text).strip()
    if not source:
        raise FormulaError("empty formula")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as err:
        raise FormulaError(f"cannot read formula {source!r}: {err.msg}") from None
    used: set[str] = set()
    for node in ast.walk(tree):
        _check_node(node, source, names, signatures, ids, used)
    return Formula(source, tree, used)


def _check_node(
    node: ast.AST,
    source: str,
    names: set[str],
    signatures: Mapping[str, Signature],
    ids: Mapping[str, set[str]],
    used: set[str],
) -> None:
    allowed = (
        ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Name,
        ast.Constant, ast.IfExp, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
        *_BINOPS, *_CMPOPS,
    )  # fmt: skip
    if not isinstance(node, allowed):
        raise FormulaError(f"{type(node).__name__} is not allowed in formula {source!r}")
    if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str | bool):
        raise FormulaError(f"constant {node.value!r} is not allowed in formula {source!r}")
    if (
        isinstance(node, ast.Name)
        and node.id not in names
        and node.id not in signatures
        and node.id not in MATH
    ):
        known = ", ".join(sorted(names)) or "none"
        raise FormulaError(f"unknown name {node.id!r} in formula {source!r} (names: {known})")
    if isinstance(node, ast.Name) and node.id in names:
        used.add(node.id)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise FormulaError(f"only plain function calls are allowed in formula {source!r}")
        name = node.func.id
        if node.keywords:
            raise FormulaError(f"{name}() takes no keyword arguments in formula {source!r}")
        if name in MATH:
            return
        sig = signatures.get(name)
        if sig is None:
            raise FormulaError(f"unknown function {name!r} in formula {source!r}")
        n = len(node.args)
        if not len(sig.kinds) - sig.optional <= n <= len(sig.kinds):
            raise FormulaError(
                f"{name}() takes {len(sig.kinds)} argument(s), got {n}, in formula {source!r}"
            )
        for arg, kind in zip(node.args, sig.kinds, strict=False):
            if kind == "number":
                continue
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise FormulaError(
                    f"{name}(): the {kind} must be a quoted id, in formula {source!r}"
                )
            valid = ids.get(kind)
            if valid is not None and arg.value not in valid:
                listing = ", ".join(sorted(valid))
                raise FormulaError(f"{name}(): unknown {kind} {arg.value!r} (known: {listing})")


def _truth(x: Any) -> Any:
    return np.asarray(x) != 0


def _eval(
    node: ast.AST, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](
            _eval(node.left, names, functions), _eval(node.right, names, functions)
        )
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names, functions)
        if isinstance(node.op, ast.Not):
            return ~_truth(value)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BoolOp):
        values = [_truth(_eval(v, names, functions)) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names, functions)
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, names, functions)
            result = np.logical_and(result, _CMPOPS[type(op)](left, right))
            left = right
        return result
    if isinstance(node, ast.IfExp):
        return np.where(
            _truth(_eval(node.test, names, functions)),
            _eval(node.body, names, functions),
            _eval(node.orelse, names, functions),
        )
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        func = MATH.get(node.func.id) or functions[node.func.id]
        return func(*[_eval(a, names, functions) for a in node.args])
    raise FormulaError(f"cannot evaluate {type(node).__name__}")
