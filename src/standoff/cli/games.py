"""`standoff games ...`: fit a crisis game to a data set, predict with a fitted game, and
cross-validate it against simpler forecasts (registered in cli/lazy.py, loaded when named). A
problem in the data is `FILE:LINE: column: problem` on stderr; one in the options `error: ...`;
both exit with status 2."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..console import Table, check_output, err, fail, out, safe, write_output

if TYPE_CHECKING:
    from ..games.fit import GameFit

games_app = typer.Typer(
    name="games",
    help=(
        "Crisis games estimated from history: the strategic probit/logit of the two-player "
        "deterrence game (Signorino 1999, 2003; Lewis & Schultz 2003), as the R package `games` "
        "fits it.\n\n"
        "Examples:\n\n"
        '  standoff games fit war1800.csv --formula "esc + war ~ s_wt_re1 + revis1 | 0 | '
        'regime1 | balanc + regime2" --json war.json\n\n'
        "  standoff games predict war.json war1800.csv --json probabilities.json\n\n"
        '  standoff games cv war1800.csv --formula "..." --folds 10'
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataArg = Annotated[Path, typer.Argument(help="A CSV file with a header row.")]
FormulaOpt = Annotated[
    str,
    typer.Option(
        "--formula",
        "-f",
        help="OUTCOME ~ U11 | U13 | U14 | U24 in the R package's notation, e.g. "
        '"esc + war ~ s_wt_re1 + revis1 | 0 | regime1 | balanc + regime2".',
    ),
]
LinkOpt = Annotated[
    str, typer.Option("--link", help="probit or logit (the distribution of the shocks).")
]
TypeOpt = Annotated[
    str,
    typer.Option(
        "--type",
        help="agent (agent error, the default) or private (private information, probit only).",
    ),
]
OutcomesOpt = Annotated[
    str | None,
    typer.Option(
        "--outcomes",
        help="For a text outcome column: its three values in the order of the game tree "
        "(status quo, give in, resist), comma-separated.",
    ),
]


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise fail(f"{option} {value!r}: choose {' or '.join(allowed)}")
    return value


def _formula(text: str) -> Any:
    from ..games.formula import FormulaSyntaxError, parse_formula

    try:
        return parse_formula(text)
    except FormulaSyntaxError as e:
        raise fail(f"--formula {text!r}: {e}") from None


def _outcomes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    values = [v.strip() for v in text.split(",")]
    if len(values) != 3 or not all(values) or len(set(values)) != 3:
        raise fail(f"--outcomes {text!r}: give three different values, comma-separated")
    return values


def _num(x: float, digits: int = 6) -> str:
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def print_fit(fit: GameFit) -> None:
    """The coefficients with standard errors, z and p values, the log-likelihood and n."""
    from scipy import stats

    title = (
        f"{fit.game} ({fit.kind} error, {fit.link})"
        if fit.kind == "agent"
        else f"{fit.game} (private information, {fit.link})"
    )
    table = Table(title=safe(title))
    for col in ("coefficient", "estimate", "std. error", "z", "Pr(>|z|)"):
        table.add_column(col, justify="left" if col == "coefficient" else "right")
    for name, b, s in zip(fit.names, fit.estimate, fit.standard_errors, strict=True):
        z = b / s if math.isfinite(s) and s > 0 else math.nan
        p = 2 * stats.norm.sf(abs(z)) if math.isfinite(z) else math.nan
        table.add_row(safe(name), _num(b), _num(s), _num(z, 3), _num(p, 4))
    out.print(table)
    out.print(f"log-likelihood: {fit.loglik:.4f}")
    out.print(
        f"n: {fit.n}"
        + (f" ({fit.rows_left_out} rows left out: a value missing)" if fit.rows_left_out else "")
    )
    out.print(f"outcomes: {safe(', '.join(fit.outcomes))}")
    for message in fit.messages:
        err.print(f"warning: {safe(message)}", highlight=False)


@games_app.command("fit")
def fit_cmd(
    data: DataArg,
    formula: FormulaOpt,
    link: LinkOpt = "probit",
    kind: TypeOpt = "agent",
    outcomes: OutcomesOpt = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the fitted game here (JSON).")
    ] = None,
) -> None:
    """Fit the two-player deterrence game (egame12) by maximum likelihood and print the
    coefficients with standard errors, the log-likelihood and n. The JSON it writes is what a
    case's `games:` entry names and what `games predict` reads."""
    from ..games.fit import FitError, fit_table
    from ..games.io import read_table
    from ..games.model import KINDS, LINKS
    from ..games.saved import write_model

    link = _choice(link, LINKS, "--link")
    kind = _choice(kind, KINDS, "--type")
    parsed = _formula(formula)
    order = _outcomes(outcomes)
    inputs = [str(data)]
    check_output(json_out, inputs)
    table = read_table(data)
    try:
        fit = fit_table(table, parsed, link, kind, order)
    except FitError as e:
        raise fail(f"{data}: {e}") from None
    print_fit(fit)
    if json_out is not None:
        from .. import outputs

        try:
            write_model(json_out, fit, inputs)
        except outputs.OutputError as e:
            raise fail(str(e)) from None


@games_app.command("predict")
def predict_cmd(
    model: Annotated[Path, typer.Argument(help="A fitted game (JSON from `games fit --json`).")],
    data: DataArg,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the probabilities here (JSON).")
    ] = None,
) -> None:
    """The outcome probabilities of each row of DATA under a fitted game (as the R package's
    predict()); rows missing a covariate are left out."""
    from ..games.io import read_table
    from ..games.predict import predict_table
    from ..games.saved import read_model

    inputs = [str(model), str(data)]
    check_output(json_out, inputs)
    fit = read_model(model)
    table = read_table(data)
    idx, P = predict_table(fit, table)
    labels = [f"Pr({o})" for o in fit.outcomes]
    shown = Table(title=safe(f"{fit.game}: {len(idx)} rows of {data}"))
    shown.add_column("line", justify="right")
    for label in labels:
        shown.add_column(safe(label), justify="right")
    for k, row in list(zip(idx, P, strict=True))[:20]:
        shown.add_row(str(table.lines[k]), *(f"{p:.4f}" for p in row))
    out.print(shown)
    if len(idx) > 20:
        out.print(f"... {len(idx) - 20} more rows (all in --json)")
    if json_out is not None:
        rows = [
            {
                "line": table.lines[k],
                **{o: float(p) for o, p in zip(fit.outcomes, row, strict=True)},
            }
            for k, row in zip(idx, P, strict=True)
        ]
        text = json.dumps({"outcomes": list(fit.outcomes), "rows": rows}, indent=2) + "\n"
        write_output(json_out, text, inputs)


@games_app.command("cv")
def cv_cmd(
    data: DataArg,
    formula: FormulaOpt,
    link: LinkOpt = "probit",
    kind: TypeOpt = "agent",
    outcomes: OutcomesOpt = None,
    folds: Annotated[int, typer.Option(min=2, max=1000, help="Number of folds.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random folds.")] = 1,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the scores here (JSON).")
    ] = None,
) -> None:
    """Cross-validate the game: held-out log score and Brier of the game, of a multinomial
    logit on the same covariates and of the base rates, with standard errors and each rival's
    paired difference from the game."""
    from ..games.crossval import cross_validate
    from ..games.design import build
    from ..games.fit import FitError
    from ..games.io import read_table
    from ..games.model import EGAME12, KINDS, LINKS

    link = _choice(link, LINKS, "--link")
    kind = _choice(kind, KINDS, "--type")
    parsed = _formula(formula)
    order = _outcomes(outcomes)
    inputs = [str(data)]
    check_output(json_out, inputs)
    table = read_table(data)
    design = build(table, parsed, EGAME12.prefixes, order)
    if folds > len(design.y):
        raise fail(f"--folds {folds}: more folds than observations ({len(design.y)})")
    try:
        from ..games.fit import fit_design

        fit_design(design, parsed, link, kind, EGAME12, standard_errors=False)
        cv = cross_validate(design, parsed, EGAME12, link, kind, folds, seed)
    except FitError as e:
        raise fail(f"{data}: {e}") from None
    game = cv.scores[0]
    title = f"{cv.folds}-fold cross-validation, seed {cv.seed}, n = {cv.n}"
    result: dict[str, Any] = {"folds": cv.folds, "seed": cv.seed, "n": cv.n, "scores": {}}
    tables = {}
    for what, label in (
        ("log", "log score (higher is better)"),
        ("brier", "Brier (lower is better)"),
    ):
        shown = Table(title=safe(f"{title}: {label}"))
        for col in ("forecast", "mean ± s.e.", "minus the game's ± s.e."):
            shown.add_column(col, justify="left" if col == "forecast" else "right")
        tables[what] = shown
    for s in cv.scores:
        first = s is game
        entry: dict[str, float | None] = {}
        for what, key in (("log", "log_score"), ("brier", "brier")):
            m, se = s.mean(what)
            d, dse = s.versus(game, what)
            tables[what].add_row(
                safe(s.name), f"{m:.4f} ± {se:.4f}", "" if first else f"{d:+.4f} ± {dse:.4f}"
            )
            entry[key], entry[f"{key}_se"] = m, se
            entry[f"{key}_minus_game"] = None if first else d
            entry[f"{key}_minus_game_se"] = None if first else dse
        result["scores"][s.name] = entry
    for shown in tables.values():
        out.print(shown)
    if cv.failed_folds:
        err.print(f"warning: {cv.failed_folds} fold(s) could not be fitted and are not scored")
    if json_out is not None:
        write_output(json_out, json.dumps(result, indent=2) + "\n", inputs)
