"""The `standoff` command."""

from __future__ import annotations

import json
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
from .case import builtin_cases, load_case
from .case.schema import Case
from .crisis import run_crisis
from .errors import CaseError
from .forecast import (
    DEFAULT_CHUNK,
    DEFAULT_DRAWS,
    DEFAULT_SEED,
    crisis_json,
    run_forecast,
    settle,
)
from .report import build_report, describe_input, render_html, render_markdown
from .sensitivity import DEFAULT_REPLICATES, DEFAULT_TRAJECTORIES, morris

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


def _load(ref: str) -> Case:
    try:
        return load_case(ref)
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
    _write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", protect)


@app.command()
def check(case: CaseArg) -> None:
    """Validate a case: exit 0, or 2 with one `FILE:LINE: field: problem` line per problem."""
    loaded = _load(case)
    out.print(
        f"{case}: ok: case {loaded.id!r}, {len(loaded.actors)} actors, {len(loaded.issues)} issues"
    )


@app.command()
def cases() -> None:
    """List the built-in cases."""
    table = Table("id", "title", "actors", "issues", title="Built-in cases")
    for ident, path in builtin_cases().items():
        c = _load(str(path))
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
    loaded = _load(case)
    name = _model(model)
    result = settle(loaded, name, rounds, _options(option, name))
    data = result.to_json()
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
    loaded = _load(case)
    crisis = loaded.plan is not None
    if crisis and (model is not None or option):
        err.print(
            f"error: {case}: a crisis case runs the engine its file names; drop --model/--option"
        )
        raise typer.Exit(2)
    if report is not None and (not crisis or report.suffix.lower() not in (".html", ".md")):
        problem = "needs a crisis case" if not crisis else "must end in .html or .md"
        err.print(f"error: --report {report}: {problem}")
        raise typer.Exit(2)
    name = _model(model or "compromise")
    options = {} if crisis else _options(option, name)
    show = err.is_terminal and draws > chunk_size
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show,
    ) as bar:
        task = bar.add_task("draws", total=draws)
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        if crisis:
            result = run_crisis(loaded, draws, seed, chunk_size, progress=advance)
            sensitivity = None
            if report is not None:
                bar.update(task, description="sensitivity")
                sensitivity = morris(loaded, trajectories, replicates, seed)
            data = crisis_json(result, sensitivity)
        else:
            data = run_forecast(loaded, name, draws=draws, seed=seed, chunk_size=chunk_size,
                                options=options, progress=advance).to_json()  # fmt: skip
    if json_out:
        _write_json(json_out, data, case)
    if report is not None:
        built = build_report(loaded, _case_bytes(loaded), result, data, sensitivity)
        if report.suffix.lower() == ".html":
            _write_text(report, render_html(built), case)
        else:
            _write_text(report, render_markdown(built, report), case)
        err.print(f"report written to {report}")
    header = f"{loaded.title or loaded.id}"
    if loaded.as_of:
        header += f", as of {loaded.as_of:%d %B %Y}"
    out.print(f"[bold]{header}[/bold]  ({draws:,} draws, seed {seed})")
    if crisis:
        _print_probabilities(
            "Scenarios", data["scenarios"], {s.id: s.label or s.id for s in loaded.scenarios}
        )
        _print_probabilities(
            "Questions", data["questions"], {q.id: q.text for q in loaded.questions}
        )
        _print_paths(data["scenarios"])
    _print_settlement(loaded, data)


def _case_bytes(case: Case) -> bytes:
    """The case file's bytes, for the report's reproducibility hash."""
    path = Path(case.file) if case.file else None
    if path is None or not path.is_file():
        return case.model_dump_json().encode()
    return path.read_bytes()


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
    loaded = _load(case)
    if loaded.plan is None:
        err.print(f"error: {case}: sensitivity needs a crisis case (scenarios with rules)")
        raise typer.Exit(2)
    result = morris(loaded, trajectories, replicates, seed)
    if json_out:
        _write_json(json_out, result.to_json(), case)
    table = Table(title=f"Drivers ({result.evaluations} design points x {replicates} histories)",
                  title_justify="left")  # fmt: skip
    for column in ("scenario", "input", "μ* (points)", "μ (points)"):
        table.add_column(column)
    for rule in loaded.plan.scenarios:
        for n, d in enumerate(result.for_target(rule.id)[:top]):
            table.add_row(rule.id if n == 0 else "", describe_input(loaded, d.input),
                          f"{100 * d.mu_star:.1f}", f"{100 * d.mu:+.1f}")  # fmt: skip
    out.print(table)


def _print_probabilities(title: str, items: dict[str, Any], labels: dict[str, str]) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column(title.rstrip("s").lower(), ratio=1)
    table.add_column("probability", justify="right", no_wrap=True)
    table.add_column("90% interval", no_wrap=True)
    table.add_column("in words", no_wrap=True)
    for ident, item in items.items():
        lo, hi = item["interval"]
        label = labels.get(ident) or ident
        table.add_row(
            f"{label} [dim]({ident})[/dim]",
            f"{item['p']:.0%}",
            f"{lo:.0%} – {hi:.0%}",
            item["words"],
        )
    out.print(table)


def _print_paths(scenarios: dict[str, Any]) -> None:
    """Each scenario's most common order of first events, and how each side saw the main dyad."""
    table = Table(title="How each scenario comes about", title_justify="left")
    table.add_column("scenario", no_wrap=True)
    table.add_column("most common path (share of the scenario)", ratio=1)
    table.add_column("how each side saw the dyad", ratio=1)
    for ident, item in scenarios.items():
        paths = item.get("paths") or []
        path = f"{' → '.join(paths[0]['path'])} ({paths[0]['share']:.0%})" if paths else "—"
        views = []
        for dyad in item.get("interactions", [])[:1]:
            for actor in dyad["dyad"]:
                kind, share = max(dyad[actor].items(), key=lambda kv: kv[1])
                views.append(f"{actor}: {kind} {share:.0%}")
        table.add_row(ident, path, "; ".join(views) or "—")
    out.print(table)


def _print_settlement(loaded: Case, data: dict[str, Any]) -> None:
    model = data.get("model", "")
    table = Table("issue", "scale", "median", "90% interval", "mean",
                  title=f"Where the bargain settles ({model})", title_justify="left")  # fmt: skip
    for issue in loaded.issues:
        s = data["settlement"][issue.id]
        scale = f"{issue.range[0]:g}–{issue.range[1]:g}"
        table.add_row(
            issue.label or issue.id,
            scale,
            f"{s['median']:.1f}",
            f"{s['interval'][0]:.1f} – {s['interval'][1]:.1f}",
            f"{s['mean']:.1f}",
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
