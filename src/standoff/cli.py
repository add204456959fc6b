"""The `standoff` command."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__
from .bargaining import ENGINES, make_engine
from .case import builtin_cases
from .compile import CompiledCase, load
from .errors import CaseError
from .forecast import DEFAULT_CHUNK, DEFAULT_DRAWS, DEFAULT_SEED, DriverOptions, run, settle
from .result import ForecastResult, Probability
from .sensitivity import DEFAULT_REPLICATES, DEFAULT_TRAJECTORIES, morris
from .serialize import drivers_json, dumps, forecast_json, num, settle_json

DEFAULT_CASE = "us-dprk-2018"

app = typer.Typer(
    name="standoff",
    help=(
        "Forecast how negotiations and international crises end.\n\n"
        "Examples:\n\n"
        "  standoff forecast                      # the built-in us-dprk-2018 case\n\n"
        "  standoff forecast my-case.yaml --draws 100000 --seed 7 --json out.json\n\n"
        "  standoff settle table.csv --model compromise --json rounds.json\n\n"
        "  standoff check my-case.yaml\n\n"
        "  standoff cases"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

OptionsArg = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="Engine option KEY=VALUE, repeatable (e.g. -o Q=0.5)."),
]
CaseArg = Annotated[
    str, typer.Argument(help="A built-in case id, a YAML case, a KTAB CSV or a BDM CSV.")
]


def _version(value: bool) -> None:
    if value:
        out.print(f"standoff {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Forecast how negotiations and international crises end."""


def _load(ref: str) -> CompiledCase:
    try:
        return load(ref)
    except CaseError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(2) from None


def _model(name: str) -> str:
    if name not in ENGINES:
        err.print(f"error: unknown model {name!r}; choose from {', '.join(sorted(ENGINES))}")
        raise typer.Exit(2)
    return name


def _options(pairs: list[str] | None, model: str) -> dict[str, Any]:
    """Engine options from repeated --option KEY=VALUE (numbers and true/false are converted)."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            err.print(f"error: --option {pair!r}: expected KEY=VALUE")
            raise typer.Exit(2)
        value: Any = text.strip()
        for convert in (int, float):
            try:
                value = convert(value)
                break
            except ValueError:
                continue
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        options[key.strip()] = value
    try:
        make_engine(model, **options)
    except (TypeError, ValueError) as e:
        err.print(f"error: --option for model {model!r}: {e}")
        raise typer.Exit(2) from None
    return options


def _write_text(path: Path, text: str, protect: str) -> None:
    """Write atomically; never over the case file the user gave."""
    if Path(protect).exists() and path.exists() and path.resolve() == Path(protect).resolve():
        err.print(f"error: {path}: refusing to overwrite the case file")
        raise typer.Exit(2)
    if path.parent and not path.parent.exists():
        err.print(f"error: {path}: folder {path.parent} does not exist")
        raise typer.Exit(2)
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
    os.replace(tmp, path)


def _write_json(path: Path, data: dict[str, Any], protect: str) -> None:
    _write_text(path, dumps(data), protect)


@app.command()
def check(case: CaseArg) -> None:
    """Validate a case: exit 0, or 2 with one `FILE:LINE: field: problem` line per problem.
    Warnings (`FILE:LINE: field: warning: ...`, exit 0) name model-derived terms of formulas that
    a pilot run finds constant."""
    compiled = _load(case)
    loaded = compiled.case
    if compiled.is_crisis:
        from .crisis.lint import dead_terms

        for warning in dead_terms(compiled):
            print(warning, file=sys.stderr)
    out.print(
        f"{case}: ok: case {loaded.id!r}, {len(loaded.actors)} actors, {len(loaded.issues)} issues"
    )


@app.command()
def cases() -> None:
    """List the built-in cases."""
    table = Table("id", "title", "actors", "issues", title="Built-in cases")
    for ident, path in builtin_cases().items():
        c = _load(str(path)).case
        table.add_row(ident, c.title, str(len(c.actors)), str(len(c.issues)))
    out.print(table)


@app.command(name="settle")
def settle_cmd(
    case: CaseArg,
    model: Annotated[
        str, typer.Option(help=f"Bargaining engine: {', '.join(sorted(ENGINES))}.")
    ] = "compromise",
    rounds: Annotated[
        int | None, typer.Option(min=0, help="Rounds to run (default: the engine's).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write every round's positions here.")
    ] = None,
    option: OptionsArg = None,
) -> None:
    """One deterministic run of a bargaining engine on the case's central values."""
    loaded = _load(case).case
    name = _model(model)
    result = settle(loaded, name, rounds, _options(option, name))
    data = settle_json(result)
    if json_out:
        _write_json(json_out, data, case)
    table = Table(
        "round",
        *[f"{i} median" for i in data["issues"]],
        *[f"{i} mean" for i in data["issues"]],
        title=f"{loaded.id}: {model}",
    )
    for r in data["rounds"]:
        table.add_row(
            str(r["round"]), *[f"{v:.2f}" for v in r["median"]], *[f"{v:.2f}" for v in r["mean"]]
        )
    out.print(table)


@app.command()
def forecast(
    case: Annotated[
        str, typer.Argument(help="A built-in case id, a YAML case, a KTAB CSV or a BDM CSV.")
    ] = DEFAULT_CASE,
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = DEFAULT_DRAWS,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed: the same seed gives the same answer.")
    ] = DEFAULT_SEED,
    model: Annotated[
        str | None,
        typer.Option(
            help="Bargaining engine for cases without a crisis section: "
            f"{', '.join(sorted(ENGINES))} "
            "(default compromise). A crisis case uses the engine its file names."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Draws per batch (does not change results).")
    ] = DEFAULT_CHUNK,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the forecast as JSON here.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write the analyst's report here: .html (one self-contained file) or .md "
            "(figures beside it). Runs the sensitivity analysis too."
        ),
    ] = None,
    trajectories: Annotated[
        int, typer.Option(min=2, help="Morris trajectories for the report's drivers.")
    ] = DEFAULT_TRAJECTORIES,
    replicates: Annotated[
        int, typer.Option(min=1, help="Histories per sensitivity design point.")
    ] = DEFAULT_REPLICATES,
    option: OptionsArg = None,
) -> None:
    """Simulate the case many times under its uncertainty: scenarios, questions, settlement."""
    compiled = _load(case)
    crisis = compiled.is_crisis
    if crisis and (model is not None or option):
        err.print(
            f"error: {case}: a crisis case runs the engine its file names; drop --model/--option"
        )
        raise typer.Exit(2)
    if report is not None and (not crisis or report.suffix.lower() not in (".html", ".md")):
        problem = "needs a crisis case" if not crisis else "must end in .html or .md"
        err.print(f"error: --report {report}: {problem}")
        raise typer.Exit(2)
    name = None if crisis else _model(model or "compromise")
    options = {} if crisis else _options(option, name or "compromise")
    drivers = DriverOptions(trajectories, replicates) if report is not None else None
    with _progress(enabled=draws > chunk_size or report is not None) as progress:
        result = run(
            compiled, draws=draws, seed=seed, model=name, options=options or None,
            chunk_size=chunk_size, drivers=drivers, progress=progress,
        )  # fmt: skip
    if json_out:
        _write_json(json_out, forecast_json(result), case)
    if report is not None:
        from .report import build_report, render_html, render_markdown  # matplotlib: only here

        built = build_report(result, reproduce=_reproduce(case, result, trajectories, replicates))
        if report.suffix.lower() == ".html":
            _write_text(report, render_html(built), case)
        else:
            _write_text(report, render_markdown(built, report), case)
        err.print(f"report written to {report}")
    _print_forecast(result)


def _reproduce(case: str, result: ForecastResult, trajectories: int, replicates: int) -> str:
    """The command that reproduces a report, naming the case as the user gave it."""
    command = f"standoff forecast {case} --draws {result.draws} --seed {result.seed}"
    if trajectories != DEFAULT_TRAJECTORIES:
        command += f" --trajectories {trajectories}"
    if replicates != DEFAULT_REPLICATES:
        command += f" --replicates {replicates}"
    return command


class _progress:
    """A rich progress bar on stderr for each stage of a run (silent when stderr is not a
    terminal), as a `ProgressFn`."""

    def __init__(self, enabled: bool) -> None:
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not (enabled and err.is_terminal),
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done)


def _print_forecast(result: ForecastResult) -> None:
    loaded = result.case
    header = f"{loaded.title or loaded.id}"
    if loaded.as_of:
        header += f", as of {loaded.as_of:%d %B %Y}"
    out.print(f"[bold]{header}[/bold]  ({result.draws:,} draws, seed {result.seed})")
    if result.is_crisis:
        _print_probabilities(
            "Scenarios", [(s.label or s.id, s.id, s.probability) for s in result.scenarios]
        )
        _print_probabilities(
            "Questions", [(q.text or q.id, q.id, q.probability) for q in result.questions]
        )
        _print_paths(result)
    _print_settlement(result)


@app.command()
def sensitivity(
    case: CaseArg = DEFAULT_CASE,
    trajectories: Annotated[
        int, typer.Option(min=2, help="Morris trajectories.")
    ] = DEFAULT_TRAJECTORIES,
    replicates: Annotated[
        int, typer.Option(min=1, help="Histories per design point.")
    ] = DEFAULT_REPLICATES,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = DEFAULT_SEED,
    top: Annotated[int, typer.Option(min=1, help="Drivers shown per scenario.")] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write all drivers here.")] = None,
) -> None:
    """The drivers of each scenario's probability (method of Morris, SALib), for quick checks."""
    compiled = _load(case)
    if compiled.crisis is None:
        err.print(f"error: {case}: sensitivity needs a crisis case (scenarios with rules)")
        raise typer.Exit(2)
    with _progress(enabled=True) as progress:
        result = morris(compiled, trajectories, replicates, seed, progress=progress)
    if json_out:
        _write_json(json_out, drivers_json(result), case)
    table = Table(title=f"Drivers ({result.evaluations} design points x {replicates} histories)",
                  title_justify="left")  # fmt: skip
    for column in ("scenario", "input", "μ* (points)", "μ (points)"):
        table.add_column(column)
    for rule in compiled.crisis.scenarios:
        for n, d in enumerate(result.for_target(rule.id)[:top]):
            table.add_row(rule.id if n == 0 else "", d.label,
                          f"{100 * d.mu_star:.1f}", f"{100 * d.mu:+.1f}")  # fmt: skip
    out.print(table)


@app.command()
def ablate(
    case: CaseArg = DEFAULT_CASE,
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws.")] = DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = DEFAULT_SEED,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the ablation here.")
    ] = None,
) -> None:
    """How much the bargaining model drives a crisis: each scenario with every model-derived term
    of the formulas (sees, eu, threat, prevails, gap, position) replaced by its mean."""
    from .crisis.ablation import ablation

    compiled = _load(case)
    if compiled.crisis is None:
        err.print(f"error: {case}: an ablation needs a crisis case (events with formulas)")
        raise typer.Exit(2)
    with _progress(enabled=True) as progress:
        result = ablation(compiled, draws, seed, progress=progress)
    table = Table(title=f"Ablation ({draws:,} draws, seed {seed}): model-derived terms at their "
                  "means", title_justify="left")  # fmt: skip
    for column in ("scenario", "as forecast", "terms at their means", "change (points)",
                   "across input draws: as forecast", "terms at their means"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for base, flat in zip(result.baseline, result.ablated, strict=True):
        b, f = base.probability, flat.probability
        table.add_row(base.id, f"{b.p:.1%}", f"{f.p:.1%}", f"{100 * (f.p - b.p):+.1f}",
                      f"{b.low:.0%} – {b.high:.0%}", f"{f.low:.0%} – {f.high:.0%}")  # fmt: skip
    out.print(table)
    terms = Table("term", "mean", "range", title="Model-derived terms", title_justify="left")
    for term in result.terms:
        terms.add_row(term.call, f"{term.mean:.3g}", f"{term.low:.3g} – {term.high:.3g}")
    out.print(terms)
    if json_out:
        data = {
            "case": compiled.case.id, "draws": draws, "seed": seed,
            "scenarios": {
                base.id: {
                    "p": num(base.probability.p), "ablated": num(flat.probability.p),
                    "interval": [num(base.probability.low), num(base.probability.high)],
                    "ablated_interval": [num(flat.probability.low), num(flat.probability.high)],
                }
                for base, flat in zip(result.baseline, result.ablated, strict=True)
            },
            "terms": {t.call: {"mean": num(t.mean), "low": num(t.low), "high": num(t.high)}
                      for t in result.terms},
        }  # fmt: skip
        _write_json(json_out, data, case)


def _print_probabilities(title: str, items: list[tuple[str, str, Probability]]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(title.rstrip("s").lower(), ratio=1)
    table.add_column("probability", justify="right", no_wrap=True)
    table.add_column("in words", no_wrap=True)
    table.add_column("across input draws (5–95%)", ratio=1)
    for label, ident, p in items:
        spread = f"{p.low:.0%} – {p.high:.0%}"
        if p.spread is not None and p.spread.two_peaked:
            spread += f"; split: {p.spread.describe()}"
        table.add_row(f"{label} [dim]({ident})[/dim]", f"{p.p:.0%}", p.words, spread)
    out.print(table)


def _print_paths(result: ForecastResult) -> None:
    """Each scenario's most common order of first events, and how each side saw the main dyad."""
    table = Table(title="How each scenario comes about", title_justify="left")
    table.add_column("scenario", no_wrap=True)
    table.add_column("most common path (share of the scenario)", ratio=1)
    table.add_column("how each side saw the dyad", ratio=1)
    for scenario in result.scenarios:
        top = scenario.paths[0] if scenario.paths else None
        path = f"{' → '.join(top.events)} ({top.share:.0%})" if top else "—"
        views = []
        for dyad in scenario.views[:1]:
            for side in dyad.sides:
                kind, share = max(side.shares.items(), key=lambda kv: kv[1])
                views.append(f"{side.actor}: {kind} {share:.0%}")
        table.add_row(scenario.id, path, "; ".join(views) or "—")
    out.print(table)


def _print_settlement(result: ForecastResult) -> None:
    table = Table("issue", "scale", "median", "inputs 5–95%", "mean",
                  title=f"Where the bargain settles ({result.model})",
                  title_justify="left")  # fmt: skip
    for s in result.settlement:
        table.add_row(
            s.label or s.id,
            f"{s.scale[0]:g}–{s.scale[1]:g}",
            f"{s.median:.1f}",
            f"{s.interval[0]:.1f} – {s.interval[1]:.1f}",
            f"{s.mean:.1f}",
        )
    out.print(table)


# backtests and scoring (src/standoff/backtest/commands.py)
from .backtest.commands import backtest as _backtest_cmd  # noqa: E402
from .backtest.commands import score_cmd as _score_cmd  # noqa: E402

app.command(name="backtest")(_backtest_cmd)
app.command(name="score")(_score_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
