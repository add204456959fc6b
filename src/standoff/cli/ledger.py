"""`standoff ledger ...`: list, show, resolve, score and plot recorded forecasts (registered in
cli/lazy.py, loaded when a ledger command runs). Every command takes `--ledger URL` (default
$STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite) and, except plot, `--json`: the same content as
JSON on stdout, for machines. A problem is `error: FILE-or-URL: problem` on stderr, exit 2.
Whatever a ledger holds (ids written by someone else) prints as data: control characters as
escapes, rich markup as written (`standoff.console.safe`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box

from .. import outputs
from ..console import Table, err, fail, out, print_problems, printable, safe
from ..controlchars import inert_json
from ..errors import CaseError, Problem
from ..ledger.errors import LedgerError
from ..ledger.record import Record
from .backend_options import BinsOpt

if TYPE_CHECKING:
    from ..backtest.resolve import Resolutions
    from ..ledger.store import Ledger


ledger_app = typer.Typer(
    name="ledger",
    help=(
        "The forecast ledger: forecasts recorded with `standoff forecast --record`, resolved "
        "and scored.\n\n"
        "Examples:\n\n"
        "  standoff ledger list\n\n"
        "  standoff ledger resolve cases/resolutions/us-dprk-2018.yaml\n\n"
        "  standoff ledger score --json\n\n"
        "  standoff ledger plot us-dprk-2018:second_summit --out summit.png"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LedgerOpt = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="A SQLite file, sqlite:///PATH or postgresql://USER@HOST/DB "
        "(default: $STANDOFF_LEDGER, else ~/.standoff/ledger.sqlite).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
CaseOpt = Annotated[str | None, typer.Option("--case", help="Only this case's records.")]


@contextmanager
def _opened(url: str | None) -> Iterator[Ledger]:
    """The ledger, closed afterwards; a LedgerError or a CaseError (a resolution file's
    `FILE:LINE: field: problem`) ends the command with exit status 2."""
    from ..ledger.store import open_ledger

    try:
        with open_ledger(url) as ledger:
            yield ledger
    except LedgerError as e:
        raise fail(str(e)) from None
    except CaseError as e:
        print_problems(e.problems)
        raise typer.Exit(2) from None


def _print_json(data: Any) -> None:
    """JSON on stdout, non-ASCII text as written but what would act on a terminal, escaped
    (`standoff.controlchars.inert_json`)."""
    text = inert_json(json.dumps(data, indent=2, ensure_ascii=False))
    sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")


def record_json(record: Record, forecast: bool = False) -> dict[str, Any]:
    """A record as JSON: its fields, its probabilities by kind, and the forecast if asked."""
    data: dict[str, Any] = {
        "id": record.id,
        "case": record.case_id,
        "case_hash": record.case_hash,
        "recorded_at": record.recorded_at,
        "as_of": record.as_of,
        "observed_hash": record.observed_hash,
        "seed": record.seed,
        "draws": record.draws,
        "model": record.model,
        "scenarios": {i: p for k, i, p in record.probabilities if k == "scenario"},
        "questions": {i: p for k, i, p in record.probabilities if k == "question"},
    }
    if forecast:
        data["forecast"] = record.forecast
    return data


@ledger_app.command(name="list")
def list_cmd(case: CaseOpt = None, ledger: LedgerOpt = None, json_out: JsonOpt = False) -> None:
    """The recorded forecasts, oldest first."""
    with _opened(ledger) as opened:
        records = opened.records(case)
        name = opened.name
    if json_out:
        _print_json({"ledger": name, "records": [record_json(r) for r in records]})
        return
    # readable at 80 columns: two lines a record (the time of recording under its date, the seed
    # under the draws), a case id too long for its column folded within it, never cut
    table = Table(title=f"Ledger {safe(name)} (times in UTC)", title_justify="left",
                  box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True,
                  pad_edge=False)  # fmt: skip
    table.add_column("id", justify="right", min_width=2)
    table.add_column("case", min_width=8)
    table.add_column("as of", min_width=10)
    table.add_column("recorded", min_width=10, max_width=10)
    table.add_column("draws, seed", justify="right", min_width=8, max_width=8)
    table.add_column("observed")
    table.add_column("questions", justify="right", min_width=3)
    for r in records:
        n = sum(1 for k, _, _ in r.probabilities if k == "question")
        draws = f"{r.draws:,}" if r.draws is not None else "—"
        seed = str(r.seed) if r.seed is not None else "—"
        table.add_row(str(r.id), safe(r.case_id), safe(r.as_of or "—"),
                      safe(r.recorded_at[:16].replace("T", " ")), f"{draws}\n{seed}",
                      safe(r.observed_hash[:8]) if r.observed_hash else "—", str(n))  # fmt: skip
    out.print(table)
    if not records:
        out.print("No records yet: `standoff forecast CASE --record` adds one.")


@ledger_app.command()
def show(
    record_id: Annotated[int, typer.Argument(metavar="ID", help="The record's id.")],
    ledger: LedgerOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One record: what was forecast, from what, and every probability (`--json`: the whole
    forecast JSON as recorded)."""
    with _opened(ledger) as opened:
        record = opened.get(record_id)
    if json_out:
        _print_json(record_json(record, forecast=True))
        return
    out.print(f"[bold]Record {record.id}[/bold]: {safe(record.case_id)}")
    for label, value in (
        ("recorded", record.recorded_at),
        ("as of", record.as_of),
        ("case sha256", record.case_hash),
        ("observations sha256", record.observed_hash),
        ("model", record.model),
        ("draws", record.draws),
        ("seed", record.seed),
    ):
        out.print(f"  {label}: {safe(value if value is not None else '—')}")
    for kind, title in (("scenario", "Scenarios"), ("question", "Questions")):
        rows = [(i, p) for k, i, p in record.probabilities if k == kind]
        if rows:
            table = Table(kind, "probability", title=title, title_justify="left")
            for ident, p in rows:
                seen = record.observed(ident, kind)
                table.add_row(safe(ident), f"{p:.1%}" if seen is None else f"observed: {seen}")
            out.print(table)


@ledger_app.command()
def resolve(
    file: Annotated[
        Path, typer.Argument(metavar="RESOLUTIONS.yaml", help="What happened (cases/resolutions/).")
    ],
    ledger: LedgerOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store what happened. A newer resolution of a question is a new row; the newest counts.
    The case must have a recorded forecast, and the file is held to its records by the rule of
    `standoff score`: every question they forecast resolved (yes, no or unresolved), the scenario
    given, no id they lack. Otherwise every problem is listed and nothing is stored."""
    from ..backtest.resolve import read_resolutions

    with _opened(ledger) as opened:
        given = read_resolutions(file)
        _check_resolution(opened, given)
        stored = opened.resolve(given)
        name = opened.name
    if json_out:
        _print_json({"ledger": name, "file": str(file), "questions_stored": stored})
        return
    out.print(f"{safe(file)}: {stored} question resolutions stored in {safe(name)}")


def _check_resolution(ledger: Ledger, given: Resolutions) -> None:
    """Refuse (a CaseError at the line) resolutions for a case with no record in the ledger, with
    the closest recorded case id. The rest (every question of the records resolved, none and no
    scenario they lack) is `Ledger.resolve`'s rule, the rule of `standoff score`."""
    from ..suggest import closest

    case_id = given.case
    if not case_id:
        return  # Ledger.resolve says what is missing
    if ledger.records(case_id):
        return
    known = sorted({r.case_id for r in ledger.records()})
    message = f"no forecast of case {case_id!r} is recorded in {ledger.name}"
    close = closest(case_id, known)
    if close is not None:
        message += f"; did you mean {close!r}?"
    listed = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
    message += f" (its cases: {listed})" if known else " (it holds no records yet)"
    message += "; record a forecast first (`standoff forecast CASE --record`); nothing stored"
    raise CaseError([Problem(given.file, given.line("case"), "case", message)])


@ledger_app.command()
def score(
    case: CaseOpt = None,
    bins: BinsOpt = 5,
    ledger: LedgerOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Brier and log scores of every recorded forecast against the newest resolutions: per case
    and overall, with a calibration table. Brier: the two-category form, 2 (p - outcome)^2, in
    [0, 2], as `standoff score`; lower is better."""
    with _opened(ledger) as opened:
        data = opened.score(case, bins=bins)
    if json_out:
        _print_json(data)
        return
    table = Table("case", title="Scores", title_justify="left")
    for header in ("records", "questions scored", "mean Brier", "mean log score",
                   "scenario Brier"):  # fmt: skip
        table.add_column(header, justify="right")

    def row(label: str, s: dict[str, Any]) -> None:
        def f(v: float | None) -> str:
            return "—" if v is None else f"{v:.3f}"

        table.add_row(safe(label), str(s["records"]), str(s["n"]), f(s["brier"]), f(s["log"]),
                      f(s["scenarios"]["brier"]))  # fmt: skip

    for case_id, summary in data["cases"].items():
        row(case_id, summary)
    if len(data["cases"]) != 1:
        row("overall", data["overall"])
    out.print(table)
    cal = Table("forecast bin", "n", "mean forecast", "observed",
                title="Calibration (questions)", title_justify="left")  # fmt: skip
    for r in data["overall"]["calibration"]:
        if r["n"]:
            cal.add_row(f"{r['low']:.0%}–{r['high']:.0%}", str(r["n"]), f"{r['forecast']:.0%}",
                        f"{r['observed']:.0%}")  # fmt: skip
    if data["overall"]["n"]:
        out.print(cal)
    for case_id, items in data["unresolved"].items():
        out.print(f"{safe(case_id)}: not resolved yet: {safe(', '.join(items))}")
    observed: dict[str, list[str]] = {}
    for r in data["records"]:
        for item in r.get("observed", []):
            observed.setdefault(r["case"], []).append(item)
    for case_id, items in observed.items():
        shown = ", ".join(dict.fromkeys(items))
        out.print(f"{safe(case_id)}: decided by the observations, not scored: {safe(shown)}")


@ledger_app.command()
def plot(
    question: Annotated[
        str, typer.Argument(help="A question id, or CASE:QUESTION for one case's.")
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="The PNG to write (default QUESTION.png).")
    ] = None,
    by: Annotated[
        str, typer.Option(help="Time axis: as-of (the forecast's as-of date) or recorded.")
    ] = "as-of",
    ledger: LedgerOpt = None,
) -> None:
    """Draw a question's probability over time, each case's line with its resolution."""
    from ..ledger.location import ledger_files
    from ..ledger.plot import BY, plot_question, split_question

    if by not in BY:
        raise fail(f"--by {by!r}: choose from {', '.join(BY)}")
    target = out_file or Path(f"{split_question(question)[1]}.png")
    inputs = ledger_files(ledger)  # what the command reads: the ledger
    try:
        outputs.check(target, inputs)
    except outputs.OutputError as e:
        raise fail(str(e)) from None
    with _opened(ledger) as opened:
        records = opened.records(split_question(question)[0])
        n = plot_question(opened.name, records, opened.resolutions(), question, target, by, inputs)
    err.print(printable(f"{n} forecasts drawn to {target}"), markup=False, highlight=False)
