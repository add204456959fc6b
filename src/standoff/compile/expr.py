"""Formulas in case files, compiled once and evaluated on whole arrays of draws.

A formula is a Python-like expression over named parameters, state variables and a fixed set of
functions, e.g. `summit_rate * (since('summit') >= 3) * sees('kim', 'trump', 'compromise')`. It is
parsed with `ast` and only a whitelist of node types is accepted: numbers, strings (ids), names,
arithmetic, comparisons, `and`/`or`/`not` (elementwise), `a if cond else b`, and calls of the
functions the evaluation context provides. Nothing is ever passed to `eval`.

The language is safe by construction: a formula is type-checked when the case is loaded (every
value is a number or a truth value; a quoted text is only ever an id argument of a function), its
size is bounded (`MAX_LENGTH` characters, `MAX_DEPTH` levels of nesting, `MAX_NODES` nodes), its
constants are bounded (`MAX_CONSTANT`) and `**` takes only a constant exponent of at most
`MAX_EXPONENT` in size. Every value is computed as a float; an operation that gives an infinite or
undefined number in a draw where its value counts (`1/0`, `log(-1)`, `exp(1000)`) is a
`FormulaEvalError` naming the operation, the draws it hit and where.
"""

from __future__ import annotations

import ast
import operator
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_LENGTH = 2_000  # characters
MAX_DEPTH = 50  # levels of nesting of the syntax tree
MAX_NODES = 500  # nodes of the syntax tree
MAX_CONSTANT = 1e6  # largest magnitude of a number written in a formula
MAX_EXPONENT = 10  # largest magnitude of the (constant) exponent of `**`

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


def _logistic(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _normal_cdf(x: Any) -> Any:
    from scipy.special import ndtr  # imported when first used: scipy is slow to import

    return ndtr(np.asarray(x, dtype=float))


# Pure math functions available in every formula.
MATH: dict[str, Callable[..., Any]] = {
    "min": np.minimum,
    "max": np.maximum,
    "clip": np.clip,
    "exp": np.exp,
    "log": np.log,
    "abs": np.abs,
    "sqrt": np.sqrt,
    "logistic": _logistic,
    "normal_cdf": _normal_cdf,
}
# their number of (numeric) arguments
MATH_ARITY: dict[str, int] = {
    "min": 2,
    "max": 2,
    "clip": 3,
    "exp": 1,
    "log": 1,
    "abs": 1,
    "sqrt": 1,
    "logistic": 1,
    "normal_cdf": 1,
}
# functions whose first two arguments are a pair of actors, which must differ
PAIR_FUNCTIONS = ("sees", "eu", "threat", "prevails", "gap")


class FormulaError(ValueError):
    """A formula that cannot be accepted; `node` (when known) is where in the text the fault is."""

    def __init__(self, message: str, node: ast.AST | None = None):
        super().__init__(message)
        self.node = node


class FormulaEvalError(ArithmeticError):
    """An operation of a formula gave an infinite or undefined number in some draws."""

    def __init__(self, message: str, bad: Any, node: ast.AST | None = None):
        super().__init__(message)
        self.bad = bad  # boolean mask over draws (or a scalar) where it happened
        self.node = node


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
    # where it was written, filled in by the compiler: (file, line, field)
    origin: tuple[str, int, str] | None = None
    # where each line of the file holding part of the text starts in it: (offset, line)
    lines: tuple[tuple[int, int], ...] = ()

    def line_of(self, node: ast.AST | None) -> int:
        """The line of the file that holds `node` (the formula's own line when unknown)."""
        line = self.origin[1] if self.origin else 1
        offset = offset_of(self.text, node)
        if offset is None:
            return line
        for start, number in self.lines:
            if start > offset:
                break
            line = number
        return line

    def evaluate(
        self,
        names: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
        where: Any = None,
    ) -> Any:
        """The formula's value. An infinite or undefined intermediate value in a draw selected by
        `where` (all draws when None) raises FormulaEvalError; the branch of `a if c else b` not
        taken, and the operands of `and`/`or` after one that decides, do not count."""
        try:
            with np.errstate(all="ignore"):
                return _eval(self.tree.body, names, functions, where)
        except FormulaEvalError as err:
            if err.node is None:
                raise
            part = ast.get_source_segment(self.text, err.node) or ast.unparse(err.node)
            raise FormulaEvalError(f"{part} {err}", err.bad, err.node) from None


def offset_of(text: str, node: ast.AST | None) -> int | None:
    """The offset in `text` (in characters) at which a parsed node starts, or None."""
    if node is None or not hasattr(node, "col_offset") or not hasattr(node, "lineno"):
        return None
    rows = text.split("\n")
    if not 1 <= node.lineno <= len(rows):
        return None
    head = rows[node.lineno - 1].encode()[: node.col_offset].decode(errors="ignore")
    return sum(len(r) + 1 for r in rows[: node.lineno - 1]) + len(head)


# CPython 3.11's AST constructor keeps its recursion depth in state shared by all threads: when
# a garbage collection in the middle of one thread's `ast.parse` lets another thread parse (the web
# app compiling cases for concurrent what-ifs), either can fail with "SystemError: AST
# constructor recursion depth mismatch". Formulas are parsed one thread at a time (tested).
_PARSING = threading.RLock()


def compile_formula(
    text: str | float | int,
    names: set[str],
    signatures: Mapping[str, Signature],
    ids: Mapping[str, set[str] | None],
) -> Formula:
    """Parse and check a formula. `names` are the bare names it may use, `signatures` the context
    functions, `ids` the valid ids of each kind. Raises FormulaError with a readable message."""
    if isinstance(text, bool):
        raise FormulaError(f"{text} is a truth value, not a number or a formula")
    source = str(text).strip()
    if not source:
        raise FormulaError("empty formula")
    if len(source) > MAX_LENGTH:
        raise FormulaError(
            f"formula is {len(source):,} characters long; at most {MAX_LENGTH:,} are allowed"
        )
    try:
        tree = _parse(source)
    except SyntaxError as err:
        hint = ""
        if "leading zeros" in str(err.msg):
            hint = " (a date must be quoted: after('2018-11-06'))"
        raise FormulaError(
            f"cannot read formula {_one_line(source)!r}: {err.msg}{hint}",
            _syntax_node(source, err),
        ) from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"formula is nested too deeply (at most {MAX_DEPTH} levels)") from None
    _check_size(tree)
    used: set[str] = set()
    shown = _one_line(source)
    for node in ast.walk(tree):
        _check_node(node, shown, names, signatures, ids, used)
    _Types(shown, names, signatures).check(tree.body)
    _floats(tree)
    return Formula(source, tree, used)


def _one_line(source: str) -> str:
    """A formula's text as messages quote it: on one line."""
    return re.sub(r"\s*\n\s*", " ", source)


def _parse(source: str) -> ast.Expression:
    """A formula's syntax tree. A formula is one expression, so its line breaks are spaces: a
    YAML `>` block keeps the line break before a line indented more than the first (and `|`
    keeps them all), which Python would read as the expression's end outside brackets. Such a
    text is read inside parentheses, where Python reads line breaks as spaces (and a `#` comment
    still ends at its line's end); the tree's positions stay those of `source`. Raises
    SyntaxError, at the fault's place in the text read as one line."""
    with _PARSING:
        try:
            return ast.parse(source, mode="eval")
        except SyntaxError:
            if "\n" not in source:
                raise
        try:
            tree = ast.parse(f"({source}\n)", mode="eval")
        except SyntaxError:
            tree = None
    rows = source.split("\n")
    body = tree.body if tree is not None else None
    if (  # the expression is the whole text, not closed by the added parentheses
        body is not None
        and (body.lineno, body.col_offset) == (1, 1)
        and body.end_lineno is not None
        and body.end_col_offset is not None
        and (body.end_lineno, body.end_col_offset) <= (len(rows), len(rows[-1].encode()))
    ):
        assert tree is not None
        for node in ast.walk(tree):  # the added "(" moved the first line's positions by one
            if not isinstance(node, ast.expr):
                continue
            if node.lineno == 1:
                node.col_offset -= 1
            if node.end_lineno == 1 and node.end_col_offset is not None:
                node.end_col_offset -= 1
        return tree
    # the fault, in the text read as one line (a line break and a space are as long)
    with _PARSING:
        ast.parse(source.replace("\n", " "), mode="eval")
        return ast.parse(source, mode="eval")  # raises: the text as written is not a formula


def _syntax_node(source: str, err: SyntaxError) -> ast.AST | None:
    """A node placed where a syntax error is in `source`, for its line."""
    if err.offset is None or err.lineno is None or err.lineno < 1 or err.offset < 1:
        return None
    rows = source.split("\n")
    at = min(sum(len(row) + 1 for row in rows[: err.lineno - 1]) + err.offset - 1, len(source))
    lineno = source.count("\n", 0, at) + 1
    start = source.rfind("\n", 0, at) + 1
    return ast.Constant(value="", lineno=lineno, col_offset=len(source[start:at].encode()))


def _check_size(tree: ast.AST) -> None:
    """Depth and node count, without recursion (a deep tree must not exhaust the stack)."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise FormulaError(f"formula is too large: more than {MAX_NODES} terms and operators")
        if depth > MAX_DEPTH:
            raise FormulaError(f"formula is nested too deeply: more than {MAX_DEPTH} levels", node)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _floats(tree: ast.AST) -> None:
    """Numbers written as integers become floats: no Python integer arithmetic at run time."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            node.value = float(node.value)


def _check_node(
    node: ast.AST,
    source: str,
    names: set[str],
    signatures: Mapping[str, Signature],
    ids: Mapping[str, set[str] | None],
    used: set[str],
) -> None:
    allowed = (
        ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Name,
        ast.Constant, ast.IfExp, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
        *_BINOPS, *_CMPOPS,
    )  # fmt: skip
    if not isinstance(node, allowed):
        raise FormulaError(f"{type(node).__name__} is not allowed in formula {source!r}", node)
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool):
            raise FormulaError(
                f"constant {node.value!r} is not allowed in formula {source!r}", node
            )
        if (
            isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
            and not abs(node.value) <= MAX_CONSTANT
        ):
            raise FormulaError(
                f"the number {node.value:g} is too large: numbers in formulas are at most "
                f"{MAX_CONSTANT:g} in size",
                node,
            )
    if (
        isinstance(node, ast.Name)
        and node.id not in names
        and node.id not in signatures
        and node.id not in MATH
    ):
        from ..suggest import suggest  # the one wording of an unknown id

        hint = suggest("name", node.id, sorted(names), listed="names")
        raise FormulaError(f"unknown name {node.id!r} in formula {source!r}{hint}", node)
    if isinstance(node, ast.Name) and node.id in names:
        used.add(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = _constant(node.right)
        if exponent is None:
            raise FormulaError(
                f"the exponent of ** must be a number written in the formula, in {source!r}", node
            )
        if abs(exponent) > MAX_EXPONENT:
            raise FormulaError(
                f"the exponent {exponent:g} of ** is too large (at most {MAX_EXPONENT} in size), "
                f"in formula {source!r}",
                node,
            )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise FormulaError(f"only plain function calls are allowed in formula {source!r}", node)
        name = node.func.id
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise FormulaError(
                f"{name}() takes no keyword or starred arguments in formula {source!r}", node
            )
        if name in MATH:
            if len(node.args) != MATH_ARITY[name]:
                raise FormulaError(
                    f"{name}() takes {MATH_ARITY[name]} argument(s), got {len(node.args)}, "
                    f"in formula {source!r}",
                    node,
                )
            return
        sig = signatures.get(name)
        if sig is None:
            raise FormulaError(f"unknown function {name!r} in formula {source!r}", node)
        n = len(node.args)
        if not len(sig.kinds) - sig.optional <= n <= len(sig.kinds):
            takes = (
                f"{len(sig.kinds) - sig.optional} or {len(sig.kinds)}"
                if sig.optional
                else str(len(sig.kinds))
            )
            raise FormulaError(
                f"{name}() takes {takes} argument(s), got {n}, in formula {source!r}", node
            )
        for arg, kind in zip(node.args, sig.kinds, strict=False):
            if kind == "number":
                continue
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                hint = (
                    f", e.g. {name}('2018-11-06') (a date must be quoted)" if kind == "date" else ""
                )
                raise FormulaError(
                    f"{name}(): the {kind} must be a quoted id{hint}, in formula {source!r}", arg
                )
            valid = ids.get(kind)
            if valid is not None and arg.value not in valid:
                from ..suggest import unknown  # the one wording of an unknown id

                raise FormulaError(f"{name}(): {unknown(kind, arg.value, sorted(valid))}", arg)
        if name in PAIR_FUNCTIONS and len(node.args) >= 2:
            a, b = node.args[0], node.args[1]
            if isinstance(a, ast.Constant) and isinstance(b, ast.Constant) and a.value == b.value:
                raise FormulaError(
                    f"{name}(): an actor with itself ({a.value!r}, {b.value!r}); "
                    f"name two different actors, in formula {source!r}",
                    node,
                )


def _constant(node: ast.AST) -> float | None:
    """The value of a number written in the formula, possibly signed; None otherwise."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return sign * float(node.value)
    return None


class _Types:
    """Every value is a number or a truth value (both numeric: true is 1, false is 0); a quoted
    text is only ever an id argument, and a function only ever called."""

    def __init__(self, source: str, names: set[str], signatures: Mapping[str, Signature]):
        self.source, self.names, self.signatures = source, names, signatures

    def check(self, root: ast.AST) -> None:
        # iterative: walk every node that is a value, skipping the id arguments of calls
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                raise FormulaError(
                    f"the text {node.value!r} is used as a value; quoted text is only allowed as "
                    f"an id argument of a function (e.g. happened('summit')), in formula "
                    f"{self.source!r}",
                    node,
                )
            if isinstance(node, ast.Name) and node.id not in self.names:
                raise FormulaError(
                    f"{node.id!r} is a function: call it, e.g. {node.id}(...), "
                    f"in formula {self.source!r}",
                    node,
                )
            if isinstance(node, ast.Call):
                assert isinstance(node.func, ast.Name)
                sig = self.signatures.get(node.func.id)
                for n, arg in enumerate(node.args):
                    if sig is None or sig.kinds[n] == "number":
                        stack.append(arg)
                continue
            stack.extend(ast.iter_child_nodes(node))


def _truth(x: Any) -> Any:
    return np.asarray(x) != 0


def _num(x: Any) -> Any:
    """A value as an array: truth values stay truth values, every other number is a float."""
    value = np.asarray(x)
    return value if value.dtype == np.bool_ else value.astype(float, copy=False)


def _binop(node: ast.BinOp, left: Any, right: Any) -> Any:
    # numpy's arithmetic on two truth values: `+` is `or` and `*` is `and` (kept: cases rely on
    # `happened('a') + happened('b')` saturating at 1); any other operator on them works on 0/1
    if not (
        left.dtype == np.bool_
        and right.dtype == np.bool_
        and isinstance(node.op, ast.Add | ast.Mult)
    ):
        left, right = left.astype(float, copy=False), right.astype(float, copy=False)
    return _BINOPS[type(node.op)](left, right)


def _mask(where: Any, cond: Any) -> Any:
    return cond if where is None else np.logical_and(where, cond)


def _finite(value: Any, node: ast.AST, where: Any) -> Any:
    finite = np.isfinite(value)
    if finite.all():
        return value
    bad = ~finite
    if where is not None:
        bad = np.logical_and(bad, where)
    if np.any(bad):
        what = "an infinite" if not np.any(np.isnan(value)) else "an undefined"
        cause = ""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Mod):
            cause = " (a division by zero)"
        raise FormulaEvalError(f"gives {what} number{cause}", bad, node)
    return value


def _eval(
    node: ast.AST,
    names: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]],
    where: Any = None,
) -> Any:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else np.asarray(node.value)
    if isinstance(node, ast.Name):
        return _num(names[node.id])
    if isinstance(node, ast.BinOp):
        left = _num(_eval(node.left, names, functions, where))
        right = _num(_eval(node.right, names, functions, where))
        return _finite(_binop(node, left, right), node, where)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names, functions, where)
        if isinstance(node.op, ast.Not):
            return ~_truth(value)
        return (
            -_num(value).astype(float, copy=False) if isinstance(node.op, ast.USub) else _num(value)
        )
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And)
        out = _truth(_eval(node.values[0], names, functions, where))
        for v in node.values[1:]:
            # a later operand counts only where the earlier ones have not decided
            undecided = _mask(where, out if is_and else ~out)
            value = _truth(_eval(v, names, functions, undecided))
            out = np.logical_and(out, value) if is_and else np.logical_or(out, value)
        return out
    if isinstance(node, ast.Compare):
        left = _num(_eval(node.left, names, functions, where))
        result: Any = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _num(_eval(comparator, names, functions, where))
            result = np.logical_and(result, _CMPOPS[type(op)](left, right))
            left = right
        return result
    if isinstance(node, ast.IfExp):
        test = _truth(_eval(node.test, names, functions, where))
        return np.where(
            test,
            _eval(node.body, names, functions, _mask(where, test)),
            _eval(node.orelse, names, functions, _mask(where, ~test)),
        )
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name in MATH:
            args = [_num(_eval(a, names, functions, where)) for a in node.args]
            return _finite(MATH[name](*args), node, where)
        return _num(functions[name](*[_eval(a, names, functions, where) for a in node.args]))
    raise FormulaError(f"cannot evaluate {type(node).__name__}")
