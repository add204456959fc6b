"""`standoff serve`: the web workspace on this machine (made a command when first named, so
`standoff --version` does not load the web stack)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

LOOPBACK = "127.0.0.1"


def serve(
    folder: Annotated[
        Path, typer.Argument(help="The folder of cases (YAML files) to serve and save into.")
    ] = Path("."),
    port: Annotated[int, typer.Option(min=1, max=65535, help="The port to listen on.")] = 8000,
    host: Annotated[
        str,
        typer.Option(
            help="The address to listen on. The default is this machine only; any other address "
            "lets other machines open and change the cases."
        ),
    ] = LOOPBACK,
    ledger: Annotated[
        str | None,
        typer.Option(help="The ledger's URL (default: STANDOFF_LEDGER or the ledger's file)."),
    ] = None,
    builtins: Annotated[
        bool, typer.Option(help="Also list the built-in cases (read-only).")
    ] = True,
) -> None:
    """Start the web workspace over a folder of cases: list, edit, what-if, run, history.
    Open http://HOST:PORT/ in a browser; the JSON API is documented at /docs."""
    import uvicorn

    from .app import create_app

    if not folder.is_dir():
        typer.echo(f"error: {folder}: not a folder", err=True)
        raise typer.Exit(2)
    app = create_app(folder, ledger, builtins=builtins)
    if host not in (LOOPBACK, "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: other machines can read and change the cases",
                   err=True)  # fmt: skip
    typer.echo(f"standoff workspace on http://{host}:{port}/ (folder {folder.resolve()})", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
