"""`standoff forecast`: the case simulated many times under its uncertainty, printed, and written
where asked (its JSON, the analyst's report, a record in the ledger)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import outputs
from ..console import check_output, err, fail, printable, write_output
from ..run.executor import block_size
from .app import app
from .backend_options import BackendOpt, SchedulerOpt, WorkersOpt, cli_executor
from .common import (
    ProgressBar,
    engine_options,
    input_files,
    load_case,
    model_name,
    observations_of,
    write_json,
)
from .options import (
    DEFAULT_CASE,
    DEFAULT_CHUNK,
    DEFAULT_DRAWS,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    DEFAULT_TRAJECTORIES,
    MODELS,
    OptionsArg,
)
from .tables import print_forecast

if TYPE_CHECKING:
    from ..compile import CompiledCase
    from ..report import Report


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
    from ..pipeline.memory import TooBig
    from ..serialize import forecast_json
    from ..service import ForecastRequest, check
    from ..service import forecast as run_forecast

    compiled = load_case(case)
    seen, name, options = _checked_request(compiled, case, model, option, observed, report)
    inputs = input_files(compiled, case, observed, ledger, record)
    _check_outputs(json_out, report, inputs)
    request = ForecastRequest(
        compiled, draws=draws, seed=seed, model=name, options=options,
        chunk_size=chunk_size, observed=seen, report=report is not None,
        trajectories=trajectories, replicates=replicates,
        reproduce=_reproduce(case, draws, seed, trajectories, replicates, observed),
    )  # fmt: skip
    try:
        check(request)
    except TooBig as e:
        raise fail(str(e)) from None
    book = _open_ledger(ledger, record)  # before the run: a bad ledger fails at once
    with (
        cli_executor(
            backend,
            scheduler,
            workers,
            None if request.drivers else -(-draws // block_size(draws, chunk_size)),
        ) as executor,
        ProgressBar(enabled=draws > chunk_size or report is not None) as progress,
    ):  # the report's figures take seconds: under the same progress bar
        outcome = run_forecast(request, executor=executor, progress=progress)
    result = outcome.result
    data = forecast_json(result) if json_out or book is not None else None
    if json_out and data is not None:
        write_json(json_out, data, inputs)
    if report is not None and outcome.report is not None:
        _write_report(report, outcome.report, inputs)
    print_forecast(result)
    if book is not None and data is not None:
        _record_forecast(book, data, compiled)


def _checked_request(
    compiled: CompiledCase,
    case: str,
    model: str | None,
    option: list[str] | None,
    observed: Path | None,
    report: Path | None,
) -> tuple[Any, str | None, dict[str, Any]]:
    """What the options ask of the case, checked before anything runs: the observations read
    (None without them), the engine (None for a crisis case, which runs its own) and its
    options."""
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
    seen = observations_of(observed)
    if report is not None and (not crisis or report.suffix.lower() not in (".html", ".md")):
        problem = "needs a crisis case" if not crisis else "must end in .html or .md"
        raise fail(f"--report {report}: {problem}")
    name = None if crisis else model_name(model or "compromise")
    options = {} if crisis else engine_options(option, name or "compromise")
    return seen, name, options


def _check_outputs(json_out: Path | None, report: Path | None, inputs: list[str]) -> None:
    """The JSON and the report may be written: neither is an input, they are not one file, and
    a Markdown report's figures folder may be filled."""
    check_output(json_out, inputs)
    check_output(report, inputs)
    if json_out is not None and report is not None and outputs.same_file(json_out, report):
        raise fail(f"{report}: --json and --report name the same file")
    if report is not None and report.suffix.lower() == ".md":
        try:
            outputs.check_folder(outputs.figures_folder(report), (), inputs)
        except outputs.OutputError as e:
            raise fail(str(e)) from None


def _write_report(report: Path, built: Report, inputs: list[str]) -> None:
    """The report as one HTML file, or as Markdown with its figures in the folder beside it
    (the folder removed again where it was made here and the text cannot be written)."""
    from ..report import render_html, render_markdown

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


def _open_ledger(url: str | None, record: bool) -> Any:
    """The ledger `forecast --record` stores into (None without --record); a LedgerError is
    `error: FILE-or-URL: problem`, exit 2."""
    if not record:
        if url is not None:
            raise fail(f"--ledger {url}: add --record to store the forecast there")
        return None
    from ..ledger import LedgerError, open_ledger

    try:
        return open_ledger(url)
    except LedgerError as e:
        raise fail(str(e)) from None


def _record_forecast(book: Any, data: dict[str, Any], compiled: CompiledCase) -> None:
    """Record the forecast JSON with the sha256 of the case file's bytes."""
    from ..ledger import LedgerError
    from ..service import case_hash as digest

    raw = compiled.source.raw
    case_hash = digest(raw) if raw is not None else None
    try:
        with book:
            rid = book.record(data, case_hash=case_hash)
    except LedgerError as e:
        raise fail(str(e)) from None
    err.print(f"recorded as ledger record {rid}", markup=False, highlight=False)


def _reproduce(
    case: str,
    draws: int,
    seed: int,
    trajectories: int,
    replicates: int,
    observed: Path | None = None,
) -> str:
    """The command that reproduces a report, naming the case as the user gave it."""
    command = f"standoff forecast {case} --draws {draws} --seed {seed}"
    if observed is not None:
        command += f" --observed {observed}"
    if trajectories != DEFAULT_TRAJECTORIES:
        command += f" --trajectories {trajectories}"
    if replicates != DEFAULT_REPLICATES:
        command += f" --replicates {replicates}"
    return command
