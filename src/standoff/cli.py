"""The `standoff` command."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from . import __version__, outputs
from .console import (
    Table,
    check_output,
    err,
    fail,
    out,
    plain_warnings,
    print_problems,
    printable,
    safe,
    write_output,
)
from .errors import CaseError
from .run.cli_options import BackendOpt, SchedulerOpt, WorkersOpt, cli_executor
from .run.executor import block_size

if TYPE_CHECKING:
    from .compile import CompiledCase
    from .result import ForecastResult, Probability

# The engines, the case loader, numba and pydantic load where a command uses them, not at start-up
# (`standoff --version` and `--help` stay quick): the defaults and names the options show are
# written out here, and tests/test_cli.py checks them against their sources.
MODELS = (
    "compromise",
    "condorcet",
    "eum",
    "exchange",
    "nash",
    "procedural",
    "smp",
)  # standoff.bargaining.ENGINES
DEFAULT_DRAWS = 10_000  # standoff.forecast
DEFAULT_SEED = 20180815
DEFAULT_CHUNK = 8192  # standoff.forecast
DEFAULT_TRAJECTORIES = 10  # standoff.sensitivity
DEFAULT_REPLICATES = 64

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
    from .compile import load

    try:
        return load(ref)
    except CaseError as e:
        print_problems(e.problems)
        raise typer.Exit(2) from None


def _model(name: str) -> str:
    from .bargaining import ENGINES

    if name not in ENGINES:
        raise fail(f"unknown model {name!r}; choose from {', '.join(sorted(ENGINES))}")
    return name


def _options(pairs: list[str] | None, model: str) -> dict[str, Any]:
    """Engine options from repeated --option KEY=VALUE (numbers and true/false are converted)."""
    from .bargaining import make_engine

    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--option {pair!r}: expected KEY=VALUE")
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
        raise fail(f"--option for model {model!r}: {e}") from None
    return options


def _inputs(
    compiled: CompiledCase,
    case: str,
    observed: Path | None = None,
    ledger: str | None = None,
    record: bool = False,
) -> list[str]:
    """Every file a command on `case` reads, the one list its outputs are checked against: the
    case as given and the file it resolved to (a built-in id resolves to the packaged case file),
    the ICB tables of a case with a reference class, the observations, and, when the forecast is
    recorded, the ledger's SQLite file (from --ledger, $STANDOFF_LEDGER or the default, as the
    ledger derives it) with its journals."""
    inputs = [case, compiled.source.file]
    if compiled.case.reference_class is not None:
        inputs += outputs.icb_files()
    if observed is not None:
        inputs.append(str(observed))
    if record:
        inputs += outputs.ledger_files(ledger)
    return inputs


def _write_json(path: Path, data: dict[str, Any], inputs: list[str]) -> None:
    from .serialize import NonFiniteError, dumps

    try:
        text = dumps(data)
    except NonFiniteError as e:
        raise fail(f"{path}: {e}") from None
    write_output(path, text, inputs)


def _fits(compiled: CompiledCase, **run: Any) -> None:
    """Refuse a run that cannot fit in memory, before it starts (see `forecast.estimate`)."""
    from .forecast import TooBig, check_fits

    try:
        check_fits(compiled, **run)
    except TooBig as e:
        raise fail(str(e)) from None


@app.command()
def check(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A case (a built-in id, a YAML case, a KTAB or BDM CSV), an observation file "
            "or a resolution file.",
        ),
    ],
    case: Annotated[
        str | None,
        typer.Option(
            help="The case an observation or resolution file is of (default: its case: key, or "
            "the case beside its observations/ or resolutions/ folder)."
        ),
    ] = None,
) -> None:
    """Validate a case, an observation file or a resolution file (told apart by their keys):
    exit 0, or 2 with one `FILE:LINE: field: problem` line per problem. Observations and
    resolutions are checked against their case where it is found. Warnings
    (`FILE:LINE: field: warning: ...`, exit 0) name model-derived terms of formulas that a pilot
    run finds constant."""
    from .case.kinds import CASE, OBSERVATIONS, file_kind

    kind = file_kind(Path(file)) if Path(file).exists() else CASE
    if kind == CASE:
        if case is not None:
            raise fail(f"--case {case}: only for an observation or resolution file")
        _check_case(file)
    elif kind == OBSERVATIONS:
        _check_observations(Path(file), case)
    else:
        _check_resolutions(Path(file), case)


def _ok(message: str) -> None:
    out.print(printable(message), markup=False, highlight=False, soft_wrap=True)


def _check_case(file: str) -> None:
    compiled = _load(file)
    loaded = compiled.case
    if compiled.is_crisis:
        from .crisis.lint import dead_terms

        print_problems(dead_terms(compiled))
    _ok(f"{file}: ok: case {loaded.id!r}, {len(loaded.actors)} actors, {len(loaded.issues)} issues")


def _owner(path: Path, given: str | None) -> tuple[CompiledCase | None, str]:
    """The compiled case an observation or resolution file is of (`case.kinds.case_of`) and how
    it was found, or None (with a note on stderr) where none is found; a case with problems ends
    the command."""
    from .case.kinds import case_of

    ref, how = case_of(path, given)
    if ref is None:
        err.print(
            printable(
                f"note: {path}: no case found to check it against, so only its shape is checked: "
                "give --case CASE, a case: key, or keep it in an observations/ or resolutions/ "
                "folder beside its case"
            ),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return None, ""
    return _load(ref), how


def _check_observations(path: Path, given: str | None) -> None:
    """An observation file: its shape, then, against its case, its events, dates and rounds
    (`crisis.observed.compile_observations`), and the questions it decides."""
    from .crisis.observed import compile_observations, settled_questions, settled_scenarios

    try:
        seen = _observations(path)
        compiled, how = _owner(path, given)
        if compiled is None:
            _ok(f"{path}: ok: observations to {seen.as_of}, {len(seen.events)} events listed")
            return
        if compiled.crisis is None or compiled.case.as_of is None:
            raise fail(f"{path}: observations need a crisis case; {compiled.case.id!r} is not one")
        plan = compile_observations(seen, compiled.crisis, compiled.case.as_of, compiled.case.id)
    except CaseError as e:
        print_problems(e.problems)
        raise typer.Exit(2) from None
    decided = settled_questions(compiled.crisis, plan)
    scenarios = settled_scenarios(compiled.crisis, plan)
    decided.update({f"scenario {s}": answer for s, answer in scenarios.items()})
    settles = "; they decide " + ", ".join(
        f"{q} ({'yes' if answer else 'no'})" for q, answer in decided.items()
    )
    _ok(
        f"{path}: ok: observations of case {compiled.case.id!r} ({how}) to {seen.as_of}, "
        f"{len(plan.ids)} events over {plan.rounds} round{'s' if plan.rounds != 1 else ''}"
        + (settles if decided else "")
    )


def _check_resolutions(path: Path, given: str | None) -> None:
    """A resolution file: its shape, then, against its case, the rules `standoff score` holds it
    to (`backtest.resolve.case_problems`)."""
    from .backtest.resolve import UNRESOLVED, case_problems, read_resolutions

    try:
        data, lines = read_resolutions(path)
        compiled, how = _owner(path, given)
        problems = [] if compiled is None else case_problems(compiled.case, data, str(path), lines)
    except CaseError as e:
        problems = e.problems
    if problems:
        print_problems(problems)
        raise typer.Exit(2)
    outcomes = [v.get("outcome") if isinstance(v, dict) else v for v in data["questions"].values()]
    resolved = sum(1 for v in outcomes if v != UNRESOLVED)
    of = f" of case {compiled.case.id!r} ({how})" if compiled is not None else ""
    _ok(f"{path}: ok: resolutions{of}, {resolved} of {len(data['questions'])} questions resolved")


@app.command()
def cases() -> None:
    """List the built-in cases, and the example cases (each run by its file)."""
    from .case import builtin_cases
    from .case.loader import example_cases

    table = Table("id", "title", "actors", "issues", title="Built-in cases")
    for ident, path in builtin_cases().items():
        c = _load(str(path)).case
        table.add_row(safe(ident), safe(c.title or ""), str(len(c.actors)), str(len(c.issues)))
    out.print(table)
    rows = []
    for path in example_cases().values():
        c = _load(str(path)).case
        shown = os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
        rows.append((safe(shown), safe(c.title or ""), str(len(c.actors)), str(len(c.issues))))
    if rows:
        table = Table(title="Examples (not built-in: give the file, e.g. standoff forecast FILE)",
                      title_justify="left")  # fmt: skip
        table.add_column("file", no_wrap=True)  # a path to copy whole
        table.add_column("title")
        for column in ("actors", "issues"):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(*row)
        out.print(table)


@app.command(name="settle")
def settle_cmd(
    case: CaseArg,
    model: Annotated[
        str, typer.Option(help=f"Bargaining engine: {', '.join(MODELS)}.")
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
    from .forecast import MAX_SETTLE_ROUNDS, settle
    from .serialize import settle_json

    compiled = _load(case)
    loaded = compiled.case
    name = _model(model)
    options = _options(option, name)
    if rounds is not None and rounds > MAX_SETTLE_ROUNDS:
        raise fail(f"--rounds {rounds:,}: at most {MAX_SETTLE_ROUNDS:,} rounds; lower --rounds")
    inputs = _inputs(compiled, case)
    check_output(json_out, inputs)
    _fits(compiled, model=name, rounds=rounds)
    result = settle(loaded, name, rounds, options)
    data = settle_json(result)
    if json_out:
        _write_json(json_out, data, inputs)
    table = Table(
        "round",
        *[f"{safe(i)} median" for i in data["issues"]],
        *[f"{safe(i)} mean" for i in data["issues"]],
        title=f"{safe(loaded.id)}: {safe(model)}",
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
            f"{', '.join(MODELS)} "
            "(default compromise). A crisis case runs its crisis.engine, eum (docs/cases.md)."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Draws per block at most (does not change results).")
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
    observed: Annotated[
        Path | None,
        typer.Option(
            help="Condition the forecast on what was seen: a YAML file with as_of and the "
            "events that happened (see docs/observations.md)."
        ),
    ] = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    record: Annotated[
        bool, typer.Option("--record", help="Store the forecast in the ledger (docs/ledger.md).")
    ] = False,
    ledger: Annotated[
        str | None,
        typer.Option(
            help="The ledger for --record: a SQLite file or postgresql://... URL "
            "(default: $STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite)."
        ),
    ] = None,
) -> None:
    """Simulate the case many times under its uncertainty: scenarios, questions, settlement."""
    from .forecast import DriverOptions, run
    from .serialize import forecast_json

    compiled = _load(case)
    crisis = compiled.is_crisis
    if crisis and (model is not None or option):
        raise fail(
            f"{case}: a crisis case runs the engine its file names (crisis.engine: eum, the only "
            'engine a crisis runs; docs/cases.md, "The engine"), so drop --model/--option; '
            f"to settle its issues with another engine, run standoff settle {case} --model "
            f"{model if model in MODELS else 'compromise'}"
        )
    if observed is not None and not crisis:
        raise fail(f"--observed {observed}: needs a crisis case (events to observe)")
    seen = _observations(observed)
    if report is not None and (not crisis or report.suffix.lower() not in (".html", ".md")):
        problem = "needs a crisis case" if not crisis else "must end in .html or .md"
        raise fail(f"--report {report}: {problem}")
    name = None if crisis else _model(model or "compromise")
    options = {} if crisis else _options(option, name or "compromise")
    drivers = DriverOptions(trajectories, replicates) if report is not None else None
    inputs = _inputs(compiled, case, observed, ledger, record)
    check_output(json_out, inputs)
    check_output(report, inputs)
    if json_out is not None and report is not None and outputs.same_file(json_out, report):
        raise fail(f"{report}: --json and --report name the same file")
    if report is not None and report.suffix.lower() == ".md":
        try:
            outputs.check_folder(outputs.figures_folder(report), (), inputs)
        except outputs.OutputError as e:
            raise fail(str(e)) from None
    more = {"trajectories": trajectories, "replicates": replicates} if drivers else {}
    _fits(compiled, draws=draws, chunk_size=chunk_size, model=name, **more)
    book = _open_ledger(ledger, record)  # before the run: a bad ledger fails at once
    before = None  # for the report's "What changed": the same forecast without the observations
    with (
        cli_executor(
            backend,
            scheduler,
            workers,
            None if drivers else -(-draws // block_size(draws, chunk_size)),
        ) as executor,
        _progress(enabled=draws > chunk_size or report is not None) as progress,
    ):
        result = run(
            compiled, draws=draws, seed=seed, model=name, options=options or None,
            chunk_size=chunk_size, drivers=drivers, progress=progress, observed=seen,
            executor=executor,
        )  # fmt: skip
        if seen is not None and report is not None:
            before = run(
                compiled, draws=draws, seed=seed, chunk_size=chunk_size, progress=progress,
                executor=executor,
            )  # fmt: skip
        if report is not None:  # its figures take seconds: under the same progress bar
            from .report import build_report, render_html, render_markdown

            built = build_report(
                result,
                reproduce=_reproduce(case, result, trajectories, replicates, observed),
                before=before,
                progress=progress,
            )
    data = forecast_json(result) if json_out or book is not None else None
    if json_out and data is not None:
        _write_json(json_out, data, inputs)
    if report is not None:
        if report.suffix.lower() == ".html":
            write_output(report, render_html(built), inputs)
        else:
            folder = outputs.figures_folder(report)
            text, figures = render_markdown(built, report)
            try:
                made = not folder.exists()
                outputs.write_files(folder, figures, inputs)
            except outputs.OutputError as e:
                raise fail(str(e)) from None
            try:
                write_output(report, text, inputs)
            except typer.Exit:
                if made:
                    shutil.rmtree(folder, ignore_errors=True)
                raise
        err.print(printable(f"report written to {report}"), markup=False, highlight=False)
    _print_forecast(result)
    if book is not None and data is not None:
        _record_forecast(book, data, compiled)


def _open_ledger(url: str | None, record: bool) -> Any:
    """The ledger `forecast --record` stores into (None without --record); a LedgerError is
    `error: FILE-or-URL: problem`, exit 2."""
    if not record:
        if url is not None:
            raise fail(f"--ledger {url}: add --record to store the forecast there")
        return None
    from .ledger import LedgerError, open_ledger

    try:
        return open_ledger(url)
    except LedgerError as e:
        raise fail(str(e)) from None


def _record_forecast(book: Any, data: dict[str, Any], compiled: CompiledCase) -> None:
    """Record the forecast JSON with the sha256 of the case file's bytes."""
    import hashlib

    from .ledger import LedgerError

    raw = compiled.source.raw
    case_hash = hashlib.sha256(raw).hexdigest() if raw is not None else None
    try:
        with book:
            rid = book.record(data, case_hash=case_hash)
    except LedgerError as e:
        raise fail(str(e)) from None
    err.print(f"recorded as ledger record {rid}", markup=False, highlight=False)


def _reproduce(
    case: str,
    result: ForecastResult,
    trajectories: int,
    replicates: int,
    observed: Path | None = None,
) -> str:
    """The command that reproduces a report, naming the case as the user gave it."""
    command = f"standoff forecast {case} --draws {result.draws} --seed {result.seed}"
    if observed is not None:
        command += f" --observed {observed}"
    if trajectories != DEFAULT_TRAJECTORIES:
        command += f" --trajectories {trajectories}"
    if replicates != DEFAULT_REPLICATES:
        command += f" --replicates {replicates}"
    return command


class _progress:
    """A rich progress bar on stderr for each stage of a run (silent when stderr is not a
    terminal), as a `ProgressFn`."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

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


def _observations(path: Path | None) -> Any:
    """The observation file read and its shape checked (None without one)."""
    if path is None:
        return None
    from .crisis.observed import read_observations

    return read_observations(path)


def _print_forecast(result: ForecastResult) -> None:
    loaded = result.case
    header = safe(f"{loaded.title or loaded.id}")
    if loaded.as_of:
        header += f", as of {loaded.as_of:%d %B %Y}"
    out.print(f"[bold]{header}[/bold]  ({result.draws:,} draws, seed {result.seed})")
    if result.is_crisis and "pace" in result.options:
        pace = str(result.options["pace"])
        clock = ("each step takes the engine's round whole" if pace == "engine"
                 else f"positions move half way to the engine's in {pace}")  # fmt: skip
        odds = result.options["odds_factor"]
        out.print(safe(f"Clock: {clock}; every event's odds per round x{odds:g} "
                       "(docs/validation.md)"), highlight=False)  # fmt: skip
    if result.observed is not None:
        _print_observed(result)
    if result.is_crisis:
        _print_probabilities(
            "Scenarios",
            [(s.label or s.id, s.id, s.probability, s.observed) for s in result.scenarios],
        )
        _print_probabilities(
            "Questions",
            [(q.text or q.id, q.id, q.probability, q.observed) for q in result.questions],
        )
        _print_paths(result)
    _print_settlement(result)
    if result.outside_view is not None:  # the case declares a reference class
        from .outside.case import print_outside_view

        print_outside_view(result.outside_view, out)


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
    observed: Annotated[
        Path | None,
        typer.Option(help="Screen the forecast conditioned on these observations (YAML)."),
    ] = None,
    backend: BackendOpt = "local",
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """The drivers of each scenario's probability (method of Morris, SALib), for quick checks."""
    from .sensitivity import morris
    from .serialize import drivers_json

    compiled = _load(case)
    if compiled.crisis is None:
        raise fail(f"{case}: sensitivity needs a crisis case (scenarios with rules)")
    seen = _observations(observed)
    inputs = _inputs(compiled, case, observed)
    check_output(json_out, inputs)
    _fits(compiled, trajectories=trajectories, replicates=replicates)
    with cli_executor(backend, scheduler, workers) as executor, _progress(True) as progress:
        result = morris(
            compiled, trajectories, replicates, seed, executor=executor, progress=progress,
            observed=seen,
        )  # fmt: skip
    if json_out:
        _write_json(json_out, drivers_json(result), inputs)
    table = Table(title=f"Drivers ({result.evaluations} design points x {replicates} histories)",
                  title_justify="left")  # fmt: skip
    for column in ("scenario", "input", "μ* (points)", "μ (points)"):
        table.add_column(column)
    for rule in compiled.crisis.scenarios:
        for n, d in enumerate(result.for_target(rule.id)[:top]):
            table.add_row(safe(rule.id) if n == 0 else "", safe(d.label),
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
    each: Annotated[
        bool, typer.Option("--each", help="Also freeze each term alone (one more run a term).")
    ] = False,
) -> None:
    """How much the models drive a crisis: each scenario with every model-derived term of the
    formulas (sees, eu, threat, prevails, gap, position, game) replaced by its mean."""
    from .crisis.ablation import ablation
    from .serialize import num

    compiled = _load(case)
    if compiled.crisis is None:
        raise fail(f"{case}: an ablation needs a crisis case (events with formulas)")
    inputs = _inputs(compiled, case)
    check_output(json_out, inputs)
    _fits(compiled, draws=draws, runs=2)
    with _progress(enabled=True) as progress:
        result = ablation(compiled, draws, seed, progress=progress, each=each)
    table = Table(title=f"Ablation ({draws:,} draws, seed {seed}): model-derived terms at their "
                  "means", title_justify="left")  # fmt: skip
    for column in ("scenario", "as forecast", "terms at their means", "change (points)",
                   "across input draws: as forecast", "terms at their means"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for base, flat in zip(result.baseline, result.ablated, strict=True):
        b, f = base.probability, flat.probability
        table.add_row(safe(base.id), f"{b.p:.1%}", f"{f.p:.1%}", _change(f.p - b.p),
                      f"{b.low:.0%} – {b.high:.0%}", f"{f.low:.0%} – {f.high:.0%}")  # fmt: skip
    out.print(table)
    terms = Table("term", "mean", "range", title="Model-derived terms", title_justify="left")
    for term in result.terms:
        terms.add_row(safe(term.call), f"{term.mean:.3g}", f"{term.low:.3g} – {term.high:.3g}")
    out.print(terms)
    if each:
        alone = Table("term", title="Each term alone at its mean: change (points)",
                      title_justify="left")  # fmt: skip
        for scenario in result.baseline:
            alone.add_column(safe(scenario.id), justify="right")
        for term in result.terms:
            alone.add_row(safe(term.call), *(_change(a.probability.p - b.probability.p)
                          for a, b in zip(term.alone, result.baseline, strict=True)))  # fmt: skip
        out.print(alone)
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
            "terms": {t.call: {"mean": num(t.mean), "low": num(t.low), "high": num(t.high),
                               **({"alone": {s.id: num(s.probability.p) for s in t.alone}}
                                  if each else {})}
                      for t in result.terms},
        }  # fmt: skip
        _write_json(json_out, data, inputs)


def _change(x: float) -> str:
    """A change in probability in points, signed, a rounded zero without a sign's minus: +0.0."""
    return f"{round(100 * x, 1) + 0.0:+.1f}"


FEW_INPUT_DRAWS = 50  # below this many effective input draws a conditioned forecast is flagged


def _print_observed(result: ForecastResult) -> None:
    seen = result.observed
    assert seen is not None
    out.print(
        printable(
            f"Conditioned on {Path(seen.file).name}: what was seen to {seen.as_of:%d %B %Y} "
            f"({seen.rounds} round{'s' if seen.rounds != 1 else ''}). The {result.draws:,} "
            "histories weigh as "
            f"{seen.effective_draws:,.0f} effective ones ({seen.effective_inputs:,.0f} effective "
            "input draws)."
        ),
        markup=False,
        highlight=False,
    )
    if seen.effective_inputs < FEW_INPUT_DRAWS:
        err.print(
            f"warning: the conditioned forecast rests on {seen.effective_inputs:.0f} effective "
            "draws of the uncertain inputs; its spreads across input draws are rough; more "
            "--draws steady them",
            markup=False,
            highlight=False,
        )
    moved = [s for s in seen.inputs if abs(s.shift) >= 0.1][:5]
    if not moved:
        return
    table = Table(title="Inputs the observations moved most", title_justify="left")
    table.add_column("input")
    table.add_column("before (5–50–95%)", justify="right")
    table.add_column("after", justify="right")
    table.add_column("shift (sd)", justify="right")
    for s in moved:
        table.add_row(
            safe(s.label),
            " – ".join(f"{v:.3g}" for v in s.prior),
            " – ".join(f"{v:.3g}" for v in s.posterior),
            f"{s.shift:+.2f}",
        )
    out.print(table)


def _print_probabilities(
    title: str, items: list[tuple[str, str, Probability, bool | None]]
) -> None:
    """Each item's probability, word and spread; one the observations decided (its fourth field
    True or False) reads "observed: yes" or "observed: no" instead: it is not a forecast."""
    table = Table(title=title, title_justify="left")
    table.add_column(title.rstrip("s").lower(), ratio=1)
    table.add_column("probability", justify="right", no_wrap=True)
    table.add_column("in words", no_wrap=True)
    table.add_column("across input draws (5–95%)", ratio=1)
    for label, ident, p, observed in items:
        name = f"{safe(label)} [dim]({safe(ident)})[/dim]"
        if observed is not None:
            table.add_row(name, "—", f"observed: {'yes' if observed else 'no'}", "—")
            continue
        spread = f"{p.low:.0%} – {p.high:.0%}"
        if p.spread is not None and p.spread.two_peaked:
            spread += f"; split: {p.spread.describe()}"
        table.add_row(name, f"{p.p:.0%}", p.words, spread)
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
        table.add_row(safe(scenario.id), safe(path), safe("; ".join(views) or "—"))
    out.print(table)


def _print_settlement(result: ForecastResult) -> None:
    table = Table("issue", "scale", "median", "inputs 5–95%", "mean",
                  title=f"Where the bargain settles ({result.model})",
                  title_justify="left")  # fmt: skip
    for s in result.settlement:
        table.add_row(
            safe(s.label or s.id),
            f"{s.scale[0]:g}–{s.scale[1]:g}",
            f"{s.median:.1f}",
            f"{s.interval[0]:.1f} – {s.interval[1]:.1f}",
            f"{s.mean:.1f}",
        )
    out.print(table)


# commands made when first named (their modules load the engines, the ICB tables or the web
# stack): name -> (module, the function there)
_LAZY_COMMANDS = {
    "backtest": ("standoff.backtest.commands", "backtest"),
    "score": ("standoff.backtest.commands", "score_cmd"),
    "baserates": ("standoff.outside.commands", "baserates"),
    "serve": ("standoff.web.commands", "serve"),
}
# command groups made when first named (SQLAlchemy loads only then): name -> the module whose
# `<name>_app` Typer holds the group's commands
_LAZY_GROUPS = {
    "ledger": "standoff.ledger.commands",
    "library": "standoff.library.commands",
    "games": "standoff.games.commands",
}


class _Commands(TyperGroup):
    """The command group: a CaseError raised while a command runs (a formula's value out of range
    in a simulation, say) is reported like one found at load, `FILE:LINE: field: problem` on
    stderr with exit status 2; `backtest` and `score` are made into commands when first named."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CaseError as e:
            print_problems(e.problems)
            raise typer.Exit(2) from None

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        lazy = [*_LAZY_COMMANDS, *_LAZY_GROUPS]
        return names + [name for name in lazy if name not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in _LAZY_GROUPS and cmd_name not in self.commands:
            import importlib

            from typer.main import get_group

            module = importlib.import_module(_LAZY_GROUPS[cmd_name])
            self.add_command(get_group(getattr(module, f"{cmd_name}_app")), cmd_name)
        if cmd_name in _LAZY_COMMANDS and cmd_name not in self.commands:
            import importlib

            from typer.main import get_command_from_info

            where, function = _LAZY_COMMANDS[cmd_name]
            lazy = typer.Typer()
            lazy.command(name=cmd_name)(getattr(importlib.import_module(where), function))
            self.add_command(
                get_command_from_info(
                    lazy.registered_commands[0],
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=app.rich_markup_mode,
                )
            )
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands:  # a lazy command, or a typo to suggest for
            for name in [*_LAZY_COMMANDS, *_LAZY_GROUPS]:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app.info.cls = _Commands


def main() -> None:
    plain_warnings()
    app()


if __name__ == "__main__":
    main()
