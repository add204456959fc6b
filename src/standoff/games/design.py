"""From a data table and a game formula to the regressor matrices of each utility equation and the
observed outcomes, with R's conventions so that the coefficients are the R package's:

- an equation with an intercept gets a column of ones named `(Intercept)`;
- a numeric column is one regressor; a text column is a factor with its levels sorted, coded as
  0/1 indicators `NAMElevel` for every level but the first (the baseline), or for every level
  when the equation has no intercept and it is the equation's first factor;
- a product `a:b` of numeric columns is one regressor named `a:b`;
- a row missing any value the formula reads (outcome included) is left out.

The outcome is one column with three values (numbers in increasing order, or text in the order
given by `outcomes`), or two 0/1 columns, one per player's move: the first 0 is the status quo,
then the second says whether player 2 resisted. Their labels follow the R package: the values
themselves, or `~a`, `a,~b` and `a,b` for two columns `a + b`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CaseError, Problem
from .formula import Equation, GameFormula
from .io import Table


@dataclass(frozen=True)
class Design:
    """The regressors of each equation, their column names, the outcomes (0, 1, 2) and labels."""

    X: list[np.ndarray]
    columns: list[list[str]]
    y: np.ndarray
    outcomes: tuple[str, str, str]
    levels: dict[str, tuple[str, ...]]
    numeric: tuple[str, ...]
    rows: np.ndarray  # indices of the table's rows used
    left_out: int


def _number_label(x: float) -> str:
    """A number as R's as.character writes it (15 significant digits, no trailing zeros)."""
    text = f"{x:.15g}"
    return text


def _outcome(
    table: Table, formula: GameFormula, keep: np.ndarray, outcomes: Sequence[str] | None
) -> tuple[np.ndarray, tuple[str, str, str]]:
    path = table.path
    names = formula.outcome
    idx = np.flatnonzero(keep)
    if len(names) == 2:
        a, b = names
        cols = []
        for name in names:
            values = table.numeric(name)
            bad: int | None = None
            if values is None:
                cells = table.text(name)
                bad = int(next(k for k in idx if cells[k] not in ("0", "1")))
            else:
                wrong = idx[~np.isin(values[idx], (0.0, 1.0))]
                bad = int(wrong[0]) if len(wrong) else None
            if bad is not None:
                raise CaseError(
                    [
                        Problem(
                            path,
                            table.lines[bad],
                            name,
                            f"{table.cells[name][bad]!r}: an outcome given as two columns takes "
                            "0 or 1 in each",
                        )
                    ]
                )
            assert values is not None
            cols.append(values[idx])
        first, second = cols
        y = np.where(first == 0, 0, np.where(second == 0, 1, 2)).astype(int)
        return y, (f"~{a}", f"{a},~{b}", f"{a},{b}")
    (name,) = names
    values = table.numeric(name)
    if values is not None and outcomes is None:
        found = sorted(set(values[idx].tolist()))
        if len(found) != 3:
            raise CaseError(
                [
                    Problem(
                        path,
                        1,
                        name,
                        f"the outcome takes {len(found)} different values; this game has three",
                    )
                ]
            )
        y = np.searchsorted(np.array(found), values[idx]).astype(int)
        labels = tuple(_number_label(v) for v in found)
        return y, (labels[0], labels[1], labels[2])
    cells = table.text(name)
    text = [cells[k] for k in idx]
    if outcomes is None:
        found_text = sorted(set(text))
        raise CaseError(
            [
                Problem(
                    path,
                    1,
                    name,
                    "the outcome column holds text (values: "
                    f"{', '.join(map(repr, found_text[:5]))}); give its three values in the "
                    "order of the game tree (status quo, give in, resist) with --outcomes A,B,C",
                )
            ]
        )
    order = [o.strip() for o in outcomes]
    if len(order) != 3 or len(set(order)) != 3:
        raise CaseError(
            [Problem(path, 1, name, f"--outcomes names {len(set(order))} values; the game has 3")]
        )
    code = {o: k for k, o in enumerate(order)}
    for k, t in zip(idx, text, strict=True):
        if t not in code:
            raise CaseError(
                [
                    Problem(
                        path,
                        table.lines[k],
                        name,
                        f"{t!r} is not one of the outcomes {', '.join(map(repr, order))}",
                    )
                ]
            )
    y = np.array([code[t] for t in text], dtype=int)
    return y, (order[0], order[1], order[2])


@dataclass(frozen=True)
class Column:
    """One regressor: its name, the columns it multiplies (none: the intercept) and, for a
    factor's indicator, the level it marks."""

    name: str
    term: tuple[str, ...]
    level: str | None = None


def columns_of(eq: Equation, levels: Mapping[str, tuple[str, ...]], where: str) -> list[Column]:
    """An equation's regressors, in R's order and coding. Raises ValueError for a product
    involving a factor."""
    out: list[Column] = []
    if eq.intercept:
        out.append(Column("(Intercept)", ()))
    full = not eq.intercept
    for term in eq.terms:
        factors = [t for t in term if t in levels]
        if len(term) == 1 and factors:
            (name,) = term
            lv = levels[name]
            coded = lv if full else lv[1:]
            full = False
            out.extend(Column(f"{name}{level}", term, level) for level in coded)
            continue
        if factors:
            raise ValueError(
                f"{where}: the product {':'.join(term)} involves the text column "
                f"{factors[0]!r}; products are supported for numeric columns only"
            )
        out.append(Column(":".join(term), term))
    return out


def _matrix(
    eq: Equation,
    value: Mapping[str, Any],
    levels: Mapping[str, tuple[str, ...]],
    n: int,
    where: str,
) -> tuple[np.ndarray, list[str]]:
    """One equation's regressors. `value[name]` is a float array, or a list of texts for a
    factor (whose levels are `levels[name]`)."""
    cols: list[np.ndarray] = []
    specs = columns_of(eq, levels, where)
    for col in specs:
        if col.level is not None:
            text = value[col.term[0]]
            cols.append(np.array([t == col.level for t in text], dtype=float))
            continue
        product = np.ones(n)
        for t in col.term:
            product = product * value[t]
        cols.append(product)
    matrix = np.column_stack(cols) if cols else np.zeros((n, 0))
    return matrix, [c.name for c in specs]


def build(
    table: Table,
    formula: GameFormula,
    prefixes_of: Any,
    outcomes: Sequence[str] | None = None,
) -> Design:
    """The design of a fit: the rows with every value the formula reads, the factor levels found
    in them, the regressors and the outcome. `prefixes_of(labels)` names the equations."""
    path = table.path
    needed = [*formula.outcome, *formula.columns]
    for name in needed:
        if name not in table.cells:
            raise CaseError(
                [
                    Problem(
                        path,
                        1,
                        name,
                        "no such column (the formula reads it; columns: "
                        f"{', '.join(table.header[:20])}"
                        f"{', ...' if len(table.header) > 20 else ''})",
                    )
                ]
            )
    keep = np.ones(len(table), dtype=bool)
    for name in needed:
        keep &= ~table.missing(name)
    if not keep.any():
        raise CaseError([Problem(path, 1, "(rows)", "no row has every value the formula reads")])
    idx = np.flatnonzero(keep)
    y, labels = _outcome(table, formula, keep, outcomes)
    levels: dict[str, tuple[str, ...]] = {}
    value: dict[str, Any] = {}
    numeric: list[str] = []
    for name in formula.columns:
        numbers = table.numeric(name)
        if numbers is None:
            cells = table.text(name)
            text = [cells[k] for k in idx]
            levels[name] = tuple(sorted(set(text)))
            value[name] = text
        else:
            value[name] = numbers[idx]
            numeric.append(name)
    for name, lv in levels.items():
        if len(lv) < 2:
            raise CaseError(
                [
                    Problem(
                        path,
                        1,
                        name,
                        f"a text column with one value ({lv[0]!r}) in the rows used; a factor "
                        "needs two or more",
                    )
                ]
            )
    X: list[np.ndarray] = []
    columns: list[list[str]] = []
    prefixes = prefixes_of(labels)
    for eq, prefix in zip(formula.equations, prefixes, strict=True):
        try:
            M, names = _matrix(eq, value, levels, len(idx), prefix)
        except ValueError as e:
            raise CaseError([Problem(path, 1, "formula", str(e))]) from None
        X.append(M)
        columns.append(names)
    return Design(X, columns, y, labels, levels, tuple(numeric), idx, int(len(table) - len(idx)))


def regressors(
    formula: GameFormula,
    values: Mapping[str, Any],
    levels: Mapping[str, tuple[str, ...]],
    n: int,
) -> list[np.ndarray]:
    """The regressors of each equation for `n` new observations: `values[name]` is a number or an
    array of n numbers for a numeric column, a level (text) or a list of n levels for a factor.
    Raises ValueError naming a missing column or an unknown level."""
    value: dict[str, Any] = {}
    for name in formula.columns:
        if name not in values:
            raise ValueError(f"no value for {name!r}")
        v = values[name]
        if name in levels:
            texts = [v] * n if isinstance(v, str) else [str(t) for t in v]
            if len(texts) != n:
                raise ValueError(f"{name}: {len(texts)} values for {n} observations")
            for t in texts:
                if t not in levels[name]:
                    raise ValueError(
                        f"{name}: {t!r} is not one of the levels it was fitted on "
                        f"({', '.join(levels[name])})"
                    )
            value[name] = texts
        else:
            if isinstance(v, str):
                raise ValueError(f"{name}: {v!r} is text; the column was numeric when fitted")
            arr = np.broadcast_to(np.asarray(v, dtype=float), (n,)).astype(float)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: a value that is missing or not finite")
            value[name] = arr
    return [
        _matrix(eq, value, levels, n, f"equation {k + 1}")[0]
        for k, eq in enumerate(formula.equations)
    ]


def column_names(formula: GameFormula, levels: Mapping[str, tuple[str, ...]]) -> list[list[str]]:
    """Each equation's regressor names, from the formula and the factor levels alone."""
    value: dict[str, Any] = {
        name: [levels[name][0]] if name in levels else np.zeros(1) for name in formula.columns
    }
    return [
        _matrix(eq, value, levels, 1, f"equation {k + 1}")[1]
        for k, eq in enumerate(formula.equations)
    ]
