"""What the commands share: a case loaded or the command ended with its problems, the engine and
its options checked, the files a command reads (its outputs are checked against them), a JSON
output written, a run refused before it starts when it cannot fit in memory, and the progress
bar on stderr."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..console import fail, out, print_problems, printable, progress, write_output
from ..errors import CaseError

if TYPE_CHECKING:
    from ..compile import CompiledCase


def load_case(ref: str) -> CompiledCase:
    """The compiled case `ref` names; its problems end the command (exit 2)."""
    from ..compile import load

    try:
        return load(ref)
    except CaseError as e:
        print_problems(e.problems)
        raise typer.Exit(2) from None


def model_name(name: str) -> str:
    """A bargaining engine's name, checked."""
    from ..bargaining import ENGINES

    if name not in ENGINES:
        raise fail(f"unknown model {name!r}; choose from {', '.join(sorted(ENGINES))}")
    return name


def engine_options(pairs: list[str] | None, model: str) -> dict[str, Any]:
    """Engine options from repeated --option KEY=VALUE (numbers and true/false are converted)."""
    from ..bargaining import make_engine

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


def input_files(
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
        from ..outside import icb

        inputs += icb.files()
    if observed is not None:
        inputs.append(str(observed))
    if record:
        from ..ledger.location import ledger_files

        inputs += ledger_files(ledger)
    return inputs


def write_json(path: Path, data: dict[str, Any], inputs: list[str]) -> None:
    """`data` as the JSON file `path` (checked against the command's `inputs`)."""
    from ..serialize import NonFiniteError, dumps

    try:
        text = dumps(data)
    except NonFiniteError as e:
        raise fail(f"{path}: {e}") from None
    write_output(path, text, inputs)


def refuse_too_big(compiled: CompiledCase, **run: Any) -> None:
    """Refuse a run that cannot fit in memory, before it starts (see `pipeline.memory.estimate`)."""
    from ..pipeline.memory import TooBig, check_fits

    try:
        check_fits(compiled, **run)
    except TooBig as e:
        raise fail(str(e)) from None


def say_ok(message: str) -> None:
    """A check's verdict on stdout, as written (no markup)."""
    out.print(printable(message), markup=False, highlight=False, soft_wrap=True)


def observations_of(path: Path | None) -> Any:
    """The observation file read and its shape checked (None without one)."""
    if path is None:
        return None
    from ..compile.observed import read_observations

    return read_observations(path)


class ProgressBar:
    """A rich progress bar on stderr for each stage of a run (silent when stderr is not a
    terminal), as a `ProgressFn`."""

    def __init__(self, enabled: bool) -> None:
        self.bar = progress(enabled)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressBar:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done)
