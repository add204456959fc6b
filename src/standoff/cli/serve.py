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
    token: Annotated[
        str | None,
        typer.Option(
            help="The token a browser or client must show (letters, digits and . _ ~ -). "
            "Default: a new random one at each start, printed in the URL."
        ),
    ] = None,
    no_token: Annotated[
        bool,
        typer.Option(
            "--no-token",
            help="Ask for no token: every user and program of this machine can then read and "
            "change the cases. Only with a --host of this machine (as the default is).",
        ),
    ] = False,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another name the browser may reach the workspace by (repeatable), e.g. a name "
            "for 127.0.0.1 in /etc/hosts. Requests naming any other Host are refused.",
        ),
    ] = None,
) -> None:
    """Start the web workspace over a folder of cases: list, edit, what-if, run, history.
    Open the URL it prints (http://HOST:PORT/?token=...) in a browser; the JSON API is documented
    at /docs."""
    import uvicorn

    from ..web.app import create_app
    from ..web.guard import allowed_hosts, host_problem, is_loopback, new_token, token_problem
    from ..web.server import config

    def fail(message: str) -> typer.Exit:
        typer.echo(f"error: {message}", err=True)
        return typer.Exit(2)

    if not folder.is_dir():
        raise fail(f"{folder}: not a folder")
    if token is not None and no_token:
        raise fail("--token and --no-token: give one or the other")
    if token is not None and (problem := token_problem(token)):
        raise fail(f"--token: {problem}")
    if no_token and not is_loopback(host):
        raise fail(f"--host {host} lets other machines in, so it needs a token: drop --no-token")
    for name in allow_host or []:
        if problem := host_problem(name):
            raise fail(f"--allow-host {name!r}: {problem}")
    secret = None if no_token else token or new_token()
    app = create_app(
        folder, ledger, builtins=builtins, token=secret,
        allowed_hosts=allowed_hosts(host, allow_host or []),
    )  # fmt: skip
    if not is_loopback(host):
        typer.echo(f"warning: listening on {host}: other machines can reach the workspace; only "
                   "the token keeps them out", err=True)  # fmt: skip
    if secret is None:
        typer.echo("warning: --no-token: every user and program of this machine can read and "
                   "change the cases", err=True)  # fmt: skip
    typer.echo(f"standoff workspace on {workspace_url(host, port, secret)} "
               f"(folder {folder.resolve()})", err=True)  # fmt: skip
    uvicorn.Server(config(app, host, port)).run()


def workspace_url(host: str, port: int, token: str | None) -> str:
    """The URL to open: the address listened on (127.0.0.1 or [::1] for all interfaces), with the
    token when there is one."""
    from ..web.guard import ALL_INTERFACES, host_name

    name = host_name(host)
    if name in ALL_INTERFACES:
        name = "127.0.0.1" if name == "0.0.0.0" else "::1"
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}/" + (f"?token={token}" if token else "")
