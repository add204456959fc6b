"""Fitted crisis games inside a case: `game('deterrence', 'kennedy', 'khrushchev', 'war')`.

A case's crisis section names fitted games (`casespec.GameUse`: the JSON `standoff games fit`
writes) and, for each dyad that plays one, the values of its covariates: numbers, formulas over
the case's parameters and model terms, or levels of text covariates. A formula's call

    game(GAME, PLAYER1, PLAYER2, WHAT)

is the game's probability, in each draw and round, of WHAT: one of the three outcomes by the
case's names for them (unconditional: the challenge and the answer together), `challenge` (player
1 challenges), or `OUTCOME_given_challenge` for the last two (player 2's answer once challenged).

The call is compiled into the formula itself: the utilities are sums of coefficients times the
covariates' formulas, and the equilibrium probabilities are written with `normal_cdf` (probit) or
`logistic` (logit), as `model.choices` computes them. That formula becomes the call's fifth
argument, `game(GAME, PLAYER1, PLAYER2, WHAT, <probability>)`, whose value it is: the call stays a
model-derived term of the formula (`simulate.crisis.MODEL_TERMS`), which the probe records by its
four ids, `standoff ablate` freezes at its mean and `standoff check` watches.

The coefficients carry the estimation uncertainty: each is the estimate plus the Cholesky root of
the estimated covariance times standard normal inputs of the case, one per coefficient
(`GAME.z[1]`, ...), drawn with the case's other inputs from its seed, so every draw plays the game
with its own coefficients drawn from their sampling distribution. With `uncertainty: false` the
estimates are used as they are.

A model file is read from the case's folder or below (a relative path), never from elsewhere.
"""

from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..case.game_spec import GameUse
from ..case.inputs import InputRef
from ..case.numbers import Dist, Quantity
from ..errors import CaseError
from ..games.design import columns_of
from ..games.fit import GameFit
from ..games.model import EPS, NEG_EPS, SQRT2
from .expr import Formula, FormulaError

MAX_MODEL_BYTES = 1_000_000
Z = Quantity("a standard normal coefficient draw", -1e12, None, signed=True)
STANDARD_NORMAL = Dist("normal", (0.0, 1.0), "normal(0, 1)")


@dataclass
class CaseGame:
    """A fitted game as a case uses it."""

    id: str
    fit: GameFit
    outcomes: tuple[str, str, str]
    # per dyad (player 1, player 2): each covariate's formula tree, or its level (text covariate)
    dyads: dict[tuple[str, str], dict[str, ast.expr | str]]
    z: tuple[str, ...]  # the standard normal inputs behind the coefficients (empty: fixed)
    root: np.ndarray  # the Cholesky root of the covariance
    names: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def whats(self) -> tuple[str, ...]:
        o = self.outcomes
        return (*o, "challenge", f"{o[1]}_given_challenge", f"{o[2]}_given_challenge")


def _model_path(case_file: str, model: str) -> tuple[Path | None, str]:
    """The model file beside the case (its folder or below), or None and why not."""
    if os.path.isabs(model) or model.startswith("~"):
        return None, "give the fitted game's path relative to the case's folder"
    folder = Path(case_file).resolve().parent
    path = (folder / model).resolve()
    if folder != path and folder not in path.parents:
        return None, "the fitted game must be in the case's folder or below it"
    if not path.is_file():
        return None, f"no fitted game at {model} (looked in {folder})"
    if path.stat().st_size > MAX_MODEL_BYTES:
        return None, f"{model} is larger than {MAX_MODEL_BYTES:,} bytes: not a fitted game"
    return path, ""


def _has_game_call(tree: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "game"
        for n in ast.walk(tree)
    )


def load_games(compiler: Any, names: set[str]) -> dict[str, CaseGame]:
    """Read and check the case's `games:` (problems go to the compiler, each at its line) and add
    the coefficients' standard normal inputs to the case's parameters."""
    from ..games.saved import read_model

    crisis = compiler.crisis
    compiler.ids["game"] = set(crisis.games)  # a covariate naming a game is refused below
    out: dict[str, CaseGame] = {}
    spec: GameUse
    for gid, spec in crisis.games.items():
        path = ("crisis", "games", gid)
        if not gid.isidentifier():
            compiler.problem(path, f"{gid!r} cannot name a game (letters, digits and _)")
            continue
        where, why = _model_path(compiler.source.file, spec.model)
        if where is None:
            compiler.problem((*path, "model"), why)
            continue
        try:
            fit = read_model(where)
        except CaseError as e:
            first = e.problems[0]
            message = f"{spec.model}: {first.field}: {first.message} (line {first.line})"
            compiler.problem((*path, "model"), message)
            continue
        if len(set(spec.outcomes)) != 3 or not all(o.isidentifier() for o in spec.outcomes):
            compiler.problem(
                (*path, "outcomes"), "three different names (letters, digits and _), in the order "
                "status quo, player 2 gives in, player 2 resists",
            )  # fmt: skip
            continue
        dyads: dict[tuple[str, str], dict[str, ast.expr | str]] = {}
        used: dict[tuple[str, str], set[str]] = {}
        for n, dyad in enumerate(spec.dyads):
            dpath = (*path, "dyads", n)
            a, b = dyad.players
            if a not in compiler.actors or b not in compiler.actors or a == b:
                bad = a if a not in compiler.actors else b
                compiler.problem(
                    (*dpath, "players"),
                    "two different actors of the case"
                    + (f" (unknown actor {bad!r})" if bad not in compiler.actors else ""),
                )
                continue
            if (a, b) in dyads:
                compiler.problem((*dpath, "players"), f"({a}, {b}) plays this game twice")
                continue
            missing = [c for c in fit.formula.columns if c not in dyad.covariates]
            extra = [c for c in dyad.covariates if c not in fit.formula.columns]
            if missing or extra:
                say = []
                if missing:
                    say.append(f"missing {', '.join(missing)}")
                if extra:
                    say.append(f"the game does not read {', '.join(extra)}")
                compiler.problem(
                    (*dpath, "covariates"),
                    f"{'; '.join(say)} (the game reads {', '.join(fit.formula.columns)})",
                )
                continue
            values: dict[str, ast.expr | str] = {}
            names_used: set[str] = set()
            for cov, value in dyad.covariates.items():
                cpath = (*dpath, "covariates", cov)
                if cov in fit.levels:
                    if not isinstance(value, str) or value not in fit.levels[cov]:
                        compiler.problem(
                            cpath,
                            f"{value!r}: a level of the text covariate {cov} "
                            f"({', '.join(fit.levels[cov])})",
                        )
                        continue
                    values[cov] = value
                    continue
                formula = compiler.formula(value, cpath, names)
                if formula is None:
                    continue
                if _has_game_call(formula.tree):
                    compiler.problem(cpath, "a covariate cannot itself call game()")
                    continue
                values[cov] = formula.tree.body
                names_used |= formula.names
            if len(values) == len(dyad.covariates):
                dyads[(a, b)] = values
                used[(a, b)] = names_used
        if fit.vcov is None and spec.uncertainty:
            compiler.problem(
                (*path, "model"),
                "the fitted game has no covariance of its estimates to draw from "
                "(set uncertainty: false to use the estimates alone)",
            )
            continue
        root = np.zeros((len(fit.estimate), len(fit.estimate)))
        z: tuple[str, ...] = ()
        if spec.uncertainty:
            assert fit.vcov is not None
            try:
                root = np.linalg.cholesky((fit.vcov + fit.vcov.T) / 2)
            except np.linalg.LinAlgError:
                compiler.problem(
                    (*path, "model"),
                    "the covariance of the fitted game's estimates is not positive definite "
                    "(the coefficients are not locally identified)",
                )
                continue
            z = tuple(f"games.{gid}.z[{j + 1}]" for j in range(len(fit.estimate)))
            label = spec.label or gid
            for j, key in enumerate(z):
                ref = InputRef(
                    key=key,
                    label=f"estimation draw {j + 1} of {len(z)} of the game '{label}'",
                    attribute="coefficient",
                )
                compiler.add_parameter(ref, STANDARD_NORMAL, Z)
        out[gid] = CaseGame(gid, fit, spec.outcomes, dyads, z, root, used)
    return out


# -- the formula of a game's probability ----------------------------------------------------------


def _c(x: float) -> ast.expr:
    return ast.Constant(float(x))


def _bin(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    return ast.BinOp(left, op, right)


def _sum(terms: list[ast.expr]) -> ast.expr:
    """A balanced sum (shallow trees: the evaluator recurses)."""
    if not terms:
        return _c(0.0)
    while len(terms) > 1:
        paired = [_bin(terms[k], ast.Add(), terms[k + 1]) for k in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def _product(factors: list[ast.expr]) -> ast.expr:
    out = factors[0]
    for f in factors[1:]:
        out = _bin(out, ast.Mult(), f)
    return out


def _call(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _coefficient(game: CaseGame, j: int) -> ast.expr:
    """Coefficient j: the estimate, plus its row of the covariance's root times the draws."""
    terms: list[ast.expr] = [_c(game.fit.estimate[j])]
    if game.z:
        for k in range(j + 1):
            weight = float(game.root[j, k])
            if weight != 0.0:
                terms.append(_bin(_c(weight), ast.Mult(), ast.Name(game.z[k], ast.Load())))
    return _sum(terms)


def _utilities(game: CaseGame, dyad: tuple[str, str]) -> list[ast.expr]:
    values = game.dyads[dyad]
    fit = game.fit
    out: list[ast.expr] = []
    j = 0
    for k, eq in enumerate(fit.formula.equations):
        terms: list[ast.expr] = []
        for col in columns_of(eq, fit.levels, f"equation {k + 1}"):
            b = _coefficient(game, j)
            j += 1
            if col.level is not None:
                if values[col.term[0]] == col.level:
                    terms.append(b)
                continue
            factors = [copy.deepcopy(values[name]) for name in col.term]
            assert all(isinstance(f, ast.expr) for f in factors)
            terms.append(b if not factors else _bin(b, ast.Mult(), _product(factors)))  # type: ignore[arg-type]
        out.append(_sum(terms))
    return out


def probability(game: CaseGame, dyad: tuple[str, str], what: str) -> ast.expr:
    """The formula tree of `what`'s probability in the game played by `dyad`."""
    u11, u13, u14, u24 = _utilities(game, dyad)
    cdf = "normal_cdf" if game.fit.link == "probit" else "logistic"

    def bounded(x: ast.expr) -> ast.expr:
        return _call("clip", _call(cdf, x), _c(EPS), _c(1 - NEG_EPS))

    def p4() -> ast.expr:
        return bounded(_bin(copy.deepcopy(u24), ast.Div(), _c(SQRT2)))

    def p3() -> ast.expr:
        return _bin(_c(1.0), ast.Sub(), p4())

    def p2() -> ast.expr:
        challenged = _sum(
            [_bin(p3(), ast.Mult(), copy.deepcopy(u13)), _bin(p4(), ast.Mult(), copy.deepcopy(u14))]
        )
        num = _bin(challenged, ast.Sub(), copy.deepcopy(u11))
        if game.fit.kind == "private":
            d = _call(
                "sqrt", _sum([_c(1.0), _bin(p3(), ast.Mult(), p3()), _bin(p4(), ast.Mult(), p4())])
            )
        else:
            d = _c(SQRT2)
        return bounded(_bin(num, ast.Div(), d))

    o = game.outcomes
    table = {
        o[0]: lambda: _bin(_c(1.0), ast.Sub(), p2()),
        o[1]: lambda: _bin(p2(), ast.Mult(), p3()),
        o[2]: lambda: _bin(p2(), ast.Mult(), p4()),
        "challenge": p2,
        f"{o[1]}_given_challenge": p3,
        f"{o[2]}_given_challenge": p4,
    }
    return table[what]()


class _Expand(ast.NodeTransformer):
    def __init__(self, games: dict[str, CaseGame], formula: Formula):
        self.games, self.formula = games, formula
        self.names: set[str] = set()

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id == "game") or len(node.args) != 4:
            return node  # not a game, or one already expanded
        gid, a, b, what = (arg.value for arg in node.args)  # type: ignore[attr-defined]
        game = self.games[gid]
        if (a, b) not in game.dyads:
            known = ", ".join(f"({x}, {y})" for x, y in game.dyads) or "none"
            raise FormulaError(
                f"game(): ({a}, {b}) does not play the game {gid!r} (its dyads: {known}; player 1 "
                "first)",
                node,
            )
        if what not in game.whats():
            raise FormulaError(
                f"game(): {what!r} is not an outcome of the game {gid!r} (choose from "
                f"{', '.join(game.whats())})",
                node,
            )
        tree = probability(game, (a, b), what)
        for part in ast.walk(tree):
            for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                setattr(part, attr, getattr(node, attr, None))
        self.names |= set(game.z) | game.names.get((a, b), set())
        node.args.append(tree)  # the call's value (see the module's docstring)
        return node


def expand(formula: Formula, games: dict[str, CaseGame]) -> None:
    """Give each `game(...)` call of the formula the formula of its probability, as its last
    argument. Raises FormulaError at the call for a dyad that does not play the game or an unknown
    outcome."""
    if not _has_game_call(formula.tree):
        return
    expander = _Expand(games, formula)
    formula.tree = expander.visit(formula.tree)
    formula.names |= expander.names
