"""`standoff check`: a case, an observation file or a resolution file validated, the last two
against their case where it is found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import err, fail, print_problems, printable
from ..errors import CaseError
from .app import app
from .common import load_case, observations_of, say_ok

if TYPE_CHECKING:
    from ..compile import CompiledCase


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
    from ..case.kinds import CASE, OBSERVATIONS, file_kind

    kind = file_kind(Path(file)) if Path(file).exists() else CASE
    if kind == CASE:
        if case is not None:
            raise fail(f"--case {case}: only for an observation or resolution file")
        _check_case(file)
    elif kind == OBSERVATIONS:
        _check_observations(Path(file), case)
    else:
        _check_resolutions(Path(file), case)


def _check_case(file: str) -> None:
    compiled = load_case(file)
    loaded = compiled.case
    if compiled.is_crisis:
        from ..pipeline.lint import dead_terms

        print_problems(dead_terms(compiled))
    say_ok(
        f"{file}: ok: case {loaded.id!r}, {len(loaded.actors)} actors, {len(loaded.issues)} issues"
    )


def _owner(path: Path, given: str | None) -> tuple[CompiledCase | None, str]:
    """The compiled case an observation or resolution file is of (`case.kinds.case_of`) and how
    it was found, or None (with a note on stderr) where none is found; a case with problems ends
    the command."""
    from ..case.kinds import case_of

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
    return load_case(ref), how


def _check_observations(path: Path, given: str | None) -> None:
    """An observation file: its shape, then, against its case, its events, dates and rounds
    (`compile.observed.compile_observations`), and the questions it decides."""
    from ..compile.observed import compile_observations, settled_questions, settled_scenarios

    try:
        seen = observations_of(path)
        compiled, how = _owner(path, given)
        if compiled is None:
            say_ok(f"{path}: ok: observations to {seen.as_of}, {len(seen.events)} events listed")
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
    say_ok(
        f"{path}: ok: observations of case {compiled.case.id!r} ({how}) to {seen.as_of}, "
        f"{len(plan.ids)} events over {plan.rounds} round{'s' if plan.rounds != 1 else ''}"
        + (settles if decided else "")
    )


def _check_resolutions(path: Path, given: str | None) -> None:
    """A resolution file: its shape, then, against its case, the rules `standoff score` holds it
    to (`backtest.resolve.case_problems`)."""
    from ..backtest.resolve import case_problems, read_resolutions

    try:
        resolutions = read_resolutions(path)
        compiled, how = _owner(path, given)
        problems = [] if compiled is None else case_problems(compiled.case, resolutions)
    except CaseError as e:
        problems = e.problems
    if problems:
        print_problems(problems)
        raise typer.Exit(2)
    resolved = len(resolutions.questions) - len(resolutions.unresolved_questions)
    of = f" of case {compiled.case.id!r} ({how})" if compiled is not None else ""
    say_ok(
        f"{path}: ok: resolutions{of}, {resolved} of {len(resolutions.questions)} questions "
        "resolved"
    )
