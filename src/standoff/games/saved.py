"""A fitted game saved as JSON, holding everything needed to predict with it again: the formula,
link and error structure, the outcome labels, the factor levels, the coefficients (named as the R
package names them) and their covariance. Every problem reading one is a `CaseError` whose lines
read `FILE:LINE: field: problem`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CaseError, Problem

MODEL_FORMAT = "standoff-game/1"


def _finite_list(values: Any, file: str, where: str) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise CaseError([Problem(file, 1, where, "expected a list of numbers")]) from None
    if not all(math.isfinite(v) for v in out):
        raise CaseError([Problem(file, 1, where, "holds a number that is not finite")])
    return out


def model_json(fit: Any) -> dict[str, Any]:
    """A fitted game (`fit.GameFit`) as the JSON written by `games fit --json`."""
    se = fit.standard_errors
    return {
        "format": MODEL_FORMAT,
        "game": fit.game,
        "formula": fit.formula.text(),
        "link": fit.link,
        "type": fit.kind,
        "outcomes": list(fit.outcomes),
        "loglik": fit.loglik,
        "n": fit.n,
        "coefficients": dict(zip(fit.names, map(float, fit.estimate), strict=True)),
        "standard_errors": {
            name: (None if not math.isfinite(s) else float(s))
            for name, s in zip(fit.names, se, strict=True)
        },
        "vcov": None
        if fit.vcov is None
        else [[float(x) for x in row] for row in np.asarray(fit.vcov)],
        "equations": {k: list(v) for k, v in fit.equations.items()},
        "levels": {k: list(v) for k, v in fit.levels.items()},
        "numeric": list(fit.numeric),
        "converged": fit.converged,
        "locally_identified": fit.locally_identified,
        "data": fit.data,
        "rows_left_out": fit.rows_left_out,
    }


def write_model(path: Path, fit: Any, inputs: list[str]) -> None:
    """Write the fitted game's JSON (atomically; never over an input of the command)."""
    from .. import outputs

    outputs.write_text(path, json.dumps(model_json(fit), indent=2) + "\n", inputs)


def read_model(path: str | Path) -> Any:
    """Read a fitted game written by `games fit --json` (a `fit.GameFit`). Raises CaseError."""
    from .fit import GameFit
    from .formula import FormulaSyntaxError, parse_formula
    from .model import GAMES, KINDS, LINKS

    name = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise CaseError([Problem(name, 1, "(file)", "no such file")]) from None
    except json.JSONDecodeError as e:
        raise CaseError([Problem(name, e.lineno, "(json)", f"not JSON: {e.msg}")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise CaseError([Problem(name, 1, "(file)", f"cannot read: {e}")]) from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise CaseError(
            [
                Problem(
                    name,
                    1,
                    "format",
                    f'not a fitted game (expected "format": "{MODEL_FORMAT}", as '
                    "`standoff games fit --json` writes)",
                )
            ]
        )

    def need(key: str, kinds: type | tuple[type, ...]) -> Any:
        if key not in data:
            raise CaseError([Problem(name, 1, key, "missing")])
        if not isinstance(data[key], kinds):
            raise CaseError([Problem(name, 1, key, "has the wrong type")])
        return data[key]

    game = need("game", str)
    if game not in GAMES:
        raise CaseError([Problem(name, 1, "game", f"unknown game {game!r}")])
    link, kind = need("link", str), need("type", str)
    if link not in LINKS:
        raise CaseError([Problem(name, 1, "link", f"{link!r}: expected probit or logit")])
    if kind not in KINDS:
        raise CaseError([Problem(name, 1, "type", f"{kind!r}: expected agent or private")])
    try:
        formula = parse_formula(need("formula", str), GAMES[game].equations)
    except FormulaSyntaxError as e:
        raise CaseError([Problem(name, 1, "formula", str(e))]) from None
    coefficients = need("coefficients", dict)
    names = list(coefficients)
    estimate = np.array(_finite_list(coefficients.values(), name, "coefficients"))
    outcomes = need("outcomes", list)
    if len(outcomes) != 3 or not all(isinstance(o, str) for o in outcomes):
        raise CaseError([Problem(name, 1, "outcomes", "expected the three outcome labels")])
    levels_raw = need("levels", dict)
    levels: dict[str, tuple[str, ...]] = {}
    for col, lv in levels_raw.items():
        if not isinstance(lv, list) or not all(isinstance(x, str) for x in lv) or not lv:
            raise CaseError([Problem(name, 1, f"levels.{col}", "expected a list of texts")])
        levels[col] = tuple(lv)
    numeric = need("numeric", list)
    vcov_raw = data.get("vcov")
    vcov = None
    if vcov_raw is not None:
        if not isinstance(vcov_raw, list) or len(vcov_raw) != len(names):
            raise CaseError([Problem(name, 1, "vcov", f"expected {len(names)} rows")])
        rows = [_finite_list(r, name, "vcov") for r in vcov_raw]
        if any(len(r) != len(names) for r in rows):
            raise CaseError([Problem(name, 1, "vcov", f"expected {len(names)} columns")])
        vcov = np.array(rows)
    fit = GameFit(
        game=game,
        formula=formula,
        link=link,
        kind=kind,
        outcomes=(outcomes[0], outcomes[1], outcomes[2]),
        names=names,
        estimate=estimate,
        vcov=vcov,
        loglik=float(need("loglik", (int, float))),
        n=int(need("n", int)),
        equations={k: tuple(v) for k, v in need("equations", dict).items()},
        levels=levels,
        numeric=tuple(str(x) for x in numeric),
        converged=bool(data.get("converged", True)),
        locally_identified=bool(data.get("locally_identified", True)),
        data=data.get("data"),
        rows_left_out=int(data.get("rows_left_out", 0)),
    )
    try:
        fit.check_names()
    except ValueError as e:
        raise CaseError([Problem(name, 1, "coefficients", str(e))]) from None
    return fit
