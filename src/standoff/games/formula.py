"""The model formula of a crisis game, in the notation of the R package `games` (Kenkel &
Signorino 2014), itself the `Formula` notation of R: one left-hand side naming the outcome and
one right-hand side per utility equation, separated by `|`:

    esc + war ~ s_wt_re1 + revis1 | 0 | regime1 | balanc + regime2

The outcome is either one column holding the three outcomes, or two 0/1 columns, one per
player's move (`esc + war`: player 1 escalated; player 2 went to war). Each utility equation is a
sum of terms with R's rules for the intercept: present unless the equation says `- 1` or `0`;
`0` alone fixes the utility at zero and `1` alone estimates a constant only. A term is a column
or a product of columns (`a:b`; `a*b` is `a + b + a:b`); `- x` removes a term; a column name with
other characters is written between backquotes. Terms are ordered as R orders them: single
columns first, then products, each in the order first written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

_TOKEN = re.compile(r"\s*(?:(`[^`]*`)|([A-Za-z._][A-Za-z0-9._]*)|(\d+(?:\.\d*)?)|(\S))")


MAX_CROSSED = 6  # terms crossed in one `a * b * ...` (2^6 - 1 = 63 terms)
MAX_TERMS = 200  # terms of one equation


class FormulaSyntaxError(ValueError):
    """A formula that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Equation:
    """One utility equation: its terms (each a tuple of column names, a product) and whether it
    has an intercept. No terms and no intercept: the utility is fixed at zero."""

    terms: tuple[tuple[str, ...], ...]
    intercept: bool

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns the equation reads, each once, in order."""
        seen: dict[str, None] = {}
        for term in self.terms:
            for name in term:
                seen.setdefault(name, None)
        return tuple(seen)

    def text(self) -> str:
        parts = [":".join(_quote(n) for n in term) for term in self.terms]
        if not parts:
            return "1" if self.intercept else "0"
        return " + ".join(parts) + ("" if self.intercept else " - 1")


@dataclass(frozen=True)
class GameFormula:
    """The outcome columns (one or two) and the utility equations, in the game's order."""

    outcome: tuple[str, ...]
    equations: tuple[Equation, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the right-hand sides read, each once, in order."""
        seen: dict[str, None] = {}
        for eq in self.equations:
            for name in eq.columns:
                seen.setdefault(name, None)
        return tuple(seen)

    def text(self) -> str:
        lhs = " + ".join(_quote(n) for n in self.outcome)
        return f"{lhs} ~ " + " | ".join(eq.text() for eq in self.equations)


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z._][A-Za-z0-9._]*", name) else f"`{name}`"


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing blanks remain
            break
        quoted, name, number, symbol = m.groups()
        if quoted is not None:
            if quoted == "``":
                raise FormulaSyntaxError("an empty column name between backquotes")
            out.append("n:" + quoted[1:-1])
        elif name is not None:
            out.append("n:" + name)
        elif number is not None:
            out.append("#:" + number)
        else:
            if symbol == "`":
                raise FormulaSyntaxError("a backquote that is never closed")
            if symbol not in "+-:*|~()":
                raise FormulaSyntaxError(
                    f"{symbol!r} is not part of the formula notation (columns, +, -, :, *, "
                    "0, 1, | between equations, ~ after the outcome)"
                )
            out.append(symbol)
        pos = m.end()
    return out


def _outcome(tokens: list[str]) -> tuple[str, ...]:
    if not tokens:
        raise FormulaSyntaxError("no outcome before '~'")
    names = []
    for i, tok in enumerate(tokens):
        if i % 2 == 1:
            if tok != "+":
                raise FormulaSyntaxError(
                    "the outcome is one column or two 0/1 columns joined by '+' (e.g. esc + war)"
                )
        elif not tok.startswith("n:"):
            raise FormulaSyntaxError(f"the outcome must name columns, not {tok[2:] or tok!r}")
        else:
            names.append(tok[2:])
    if len(tokens) % 2 == 0:
        raise FormulaSyntaxError("the outcome ends with '+'")
    if len(names) > 2:
        raise FormulaSyntaxError(
            f"the outcome names {len(names)} columns; give one column of outcomes or two 0/1 "
            "columns, one per player's move"
        )
    if len(set(names)) != len(names):
        raise FormulaSyntaxError(f"the outcome names {names[0]!r} twice")
    return tuple(names)


def _equation(tokens: list[str], where: str) -> Equation:
    """One right-hand side: a sum of signed terms; a term is a product of columns joined by ':'
    or '*', or the constant 0 or 1."""
    if not tokens:
        raise FormulaSyntaxError(f"{where} is empty (write 0 to fix the utility at zero)")
    terms: list[tuple[str, ...]] = []
    intercept = True
    i = 0
    sign = "+"
    expect_term = True
    while i < len(tokens):
        tok = tokens[i]
        if expect_term:
            if tok in "+-" and len(tok) == 1:
                sign = "-" if (tok == "-") != (sign == "-") else "+"
                i += 1
                continue
            if tok.startswith("#:"):
                value = tok[2:]
                if value not in ("0", "1"):
                    raise FormulaSyntaxError(
                        f"{where}: the number {value} is not a term (only 0 and 1, for the "
                        "intercept)"
                    )
                on = (value == "1") == (sign == "+")
                intercept = on
                i += 1
            elif tok.startswith("n:"):
                factors = [tok[2:]]
                ops = []
                i += 1
                while i < len(tokens) and tokens[i] in (":", "*"):
                    if i + 1 >= len(tokens) or not tokens[i + 1].startswith("n:"):
                        raise FormulaSyntaxError(f"{where}: {tokens[i]!r} must join two columns")
                    ops.append(tokens[i])
                    factors.append(tokens[i + 1][2:])
                    i += 2
                for term in _expand(factors, ops):
                    _apply(terms, term, sign, where)
                if len(terms) > MAX_TERMS:
                    raise FormulaSyntaxError(f"{where} has more than {MAX_TERMS} terms")
            else:
                raise FormulaSyntaxError(
                    f"{where}: unexpected {tok!r}"
                    + (" (parentheses and functions are not supported)" if tok in "()" else "")
                )
            expect_term = False
            sign = "+"
        else:
            if tok in ("(", ")"):
                raise FormulaSyntaxError(
                    f"{where}: unexpected {tok!r} (parentheses and functions are not supported)"
                )
            if tok not in ("+", "-"):
                raise FormulaSyntaxError(f"{where}: expected '+' or '-' between terms, not {tok!r}")
            sign = tok
            expect_term = True
            i += 1
    if expect_term:
        raise FormulaSyntaxError(f"{where} ends with {tokens[-1]!r}")
    order = sorted(range(len(terms)), key=lambda k: (len(terms[k]), k))
    return Equation(tuple(terms[k] for k in order), intercept)


def _expand(factors: list[str], ops: list[str]) -> list[tuple[str, ...]]:
    """`a*b` is `a + b + a:b`; `a:b*c` is `a:b + c + a:b:c` (R's rules for crossing)."""
    groups = [[factors[0]]]
    for op, name in zip(ops, factors[1:], strict=True):
        if op == ":":
            groups[-1].append(name)
        else:
            groups.append([name])
    if len(groups) > MAX_CROSSED:
        raise FormulaSyntaxError(
            f"{' * '.join(':'.join(g) for g in groups)} crosses {len(groups)} terms; at most "
            f"{MAX_CROSSED} may be crossed with '*'"
        )
    terms: list[tuple[str, ...]] = []
    for size in range(1, len(groups) + 1):
        for combo in combinations(groups, size):
            names: dict[str, None] = {}
            for g in combo:
                for n in g:
                    names.setdefault(n, None)
            terms.append(tuple(names))
    return terms


def _apply(terms: list[tuple[str, ...]], term: tuple[str, ...], sign: str, where: str) -> None:
    key = frozenset(term)
    found = [k for k, t in enumerate(terms) if frozenset(t) == key]
    if sign == "+":
        if not found:
            terms.append(term)
    else:
        for k in reversed(found):
            del terms[k]


def parse_formula(text: str, equations: int = 4) -> GameFormula:
    """Read a game formula with `equations` right-hand sides (4 for the two-player deterrence
    game). Raises FormulaSyntaxError."""
    if not text or not text.strip():
        raise FormulaSyntaxError("empty formula")
    tokens = _tokens(text)
    if tokens.count("~") != 1:
        raise FormulaSyntaxError(
            "a formula has one '~' between the outcome and the utility equations"
        )
    split = tokens.index("~")
    outcome = _outcome(tokens[:split])
    parts: list[list[str]] = [[]]
    for tok in tokens[split + 1 :]:
        if tok == "|":
            parts.append([])
        else:
            parts[-1].append(tok)
    if len(parts) != equations:
        raise FormulaSyntaxError(
            f"the formula has {len(parts)} utility equation(s) after '~'; this game has "
            f"{equations}, separated by '|'"
        )
    eqs = tuple(_equation(p, f"equation {k + 1}") for k, p in enumerate(parts))
    for eq in eqs:
        for name in eq.columns:
            if name in outcome:
                raise FormulaSyntaxError(f"the outcome column {name!r} is also a regressor")
    return GameFormula(outcome, eqs)
