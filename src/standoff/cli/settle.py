"""`standoff settle`: one deterministic run of a bargaining engine on a case's central values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..console import Table, check_output, fail, out, safe
from .app import app
from .common import engine_options, input_files, load_case, model_name, refuse_too_big, write_json
from .options import MODELS, CaseArg, OptionsArg


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
    from ..pipeline.settle import MAX_SETTLE_ROUNDS, settle
    from ..serialize import settle_json

    compiled = load_case(case)
    loaded = compiled.case
    name = model_name(model)
    options = engine_options(option, name)
    if rounds is not None and rounds > MAX_SETTLE_ROUNDS:
        raise fail(f"--rounds {rounds:,}: at most {MAX_SETTLE_ROUNDS:,} rounds; lower --rounds")
    inputs = input_files(compiled, case)
    check_output(json_out, inputs)
    refuse_too_big(compiled, model=name, rounds=rounds)
    result = settle(loaded, name, rounds, options)
    data = settle_json(result)
    if json_out:
        write_json(json_out, data, inputs)
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
