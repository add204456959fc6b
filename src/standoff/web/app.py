"""The web workspace: a FastAPI app over a folder of cases.

    create_app(workspace, ledger_url=None, token=None, allowed_hosts=None) -> FastAPI

Pages (`pages.py`) are rendered on the server from jinja2 templates with autoescaping on, so every
text from a case is shown as text; the few scripts and the stylesheet are files of `static/`,
served by the app (nothing is fetched from elsewhere). The JSON API (`api.py`) is documented at
`/docs`. Forecasts run in worker threads, so a long run never blocks other requests. Requests
from other web sites are refused by `guard.Guard` (Host, token, Origin, and a header or JSON body
on every request that changes something).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..errors import CaseError
from .guard import Guard, token_problem
from .ledger import Ledger
from .runs import Jobs, Limits, RunBusy, RunRefused, RunTimeout, problem_json
from .state import State, state_of
from .workspace import Workspace, WorkspaceError

HERE = Path(__file__).resolve().parent


class BodyLimit:
    """Refuse a request body larger than `limit` bytes with 413, by its Content-Length or, when
    that is absent, as soon as more has arrived."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than {self.limit:,} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
                    return
        seen = 0
        refused = False

        async def limited() -> Message:
            # past the limit: answer 413 here and tell the app the client has gone
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            got = await receive()
            if got["type"] == "http.request":
                seen += len(got.get("body", b""))
                if seen > self.limit:
                    refused = True
                    await JSONResponse({"detail": message}, status_code=413)(scope, receive, send)
                    return {"type": "http.disconnect"}
            return got

        async def guarded(reply: Message) -> None:
            if not refused:
                await send(reply)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not refused:
                raise


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)


class Headers:
    """Every response gets a Content-Security-Policy (scripts only from the app's own files,
    unless the route set its own) and `X-Content-Type-Options: nosniff`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, add)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _error_page(request: Request, status: int, message: str, problems: list[Any]) -> Response:
    state = state_of(request)
    return state.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "problems": problems},
        status_code=status,
    )  # fmt: skip


def _handlers(app: FastAPI) -> None:
    """Every failure as a status and a one-line message (JSON, or a page for a browser): the
    case's problems (422), a file the workspace refuses (its status), a bound passed (422), a
    run too long or too much work (503, with Retry-After when waiting helps), a ledger that is
    missing or silent (503), a request body that is not valid (422, the field and what is
    wrong), a failure of the disk (its cause: 507 full, 403 read-only), anything else (500)."""
    from fastapi.exceptions import RequestValidationError

    from .ledger import LedgerUnavailable
    from .runs import RunCancelled
    from .workspace import os_problem, visible

    Handler = Callable[[Request, Any], Awaitable[Response]]

    def reply(request: Request, status: int, message: str, **more: Any) -> Response:
        message = visible(message)
        if _wants_html(request):
            return _error_page(request, status, message, more.get("problems", []))
        headers = more.pop("headers", None)
        return JSONResponse({"detail": message, **more}, status, headers=headers)

    async def case_error(request: Request, exc: Any) -> Response:
        problems = [problem_json(p) for p in exc.problems]
        if _wants_html(request):
            return _error_page(request, 422, "The case has problems", problems)
        return JSONResponse({"detail": "the case has problems", "problems": problems}, 422)

    async def workspace_error(request: Request, exc: Any) -> Response:
        return reply(request, exc.status, str(exc))

    async def refused(request: Request, exc: Any) -> Response:
        return JSONResponse({"detail": str(exc)}, 422)

    async def timeout(request: Request, exc: Any) -> Response:
        return JSONResponse({"detail": str(exc)}, 503)

    async def busy(request: Request, exc: Any) -> Response:
        headers = {"Retry-After": str(exc.retry_after)}
        return reply(request, 503, str(exc), headers=headers)

    async def gone(request: Request, exc: Any) -> Response:
        return JSONResponse({"detail": str(exc)}, 499)  # no one is left to read it

    async def no_ledger(request: Request, exc: Any) -> Response:
        return reply(request, 503, str(exc))

    async def invalid(request: Request, exc: Any) -> Response:
        errors = []
        for error in exc.errors():
            where = [str(part) for part in error.get("loc", ()) if part != "body"]
            message = str(error.get("msg", "not valid")).removeprefix("Value error, ")
            errors.append({"field": visible(".".join(where) or "(body)"),
                           "message": visible(message)})  # fmt: skip
        listed = "; ".join(
            e["message"] if e["field"] == "(body)" else f"{e['field']}: {e['message']}"
            for e in errors[:5]
        )
        return JSONResponse({"detail": f"the request is not valid: {listed}", "errors": errors},
                            422)  # fmt: skip

    async def disk(request: Request, exc: Any) -> Response:
        if isinstance(exc, ConnectionError | TimeoutError) or not exc.errno:
            return reply(request, 500, f"internal error: {type(exc).__name__}")
        problem = os_problem(exc, "the server could not use a file")
        return reply(request, problem.status, str(problem))

    async def internal(request: Request, exc: Any) -> Response:
        return reply(request, 500, f"internal error: {type(exc).__name__}")

    handlers: dict[type[Exception], Handler] = {
        CaseError: case_error, WorkspaceError: workspace_error, RunRefused: refused,
        RunTimeout: timeout, RunBusy: busy, RunCancelled: gone, LedgerUnavailable: no_ledger,
        RequestValidationError: invalid, OSError: disk, Exception: internal,
    }  # fmt: skip
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def create_app(
    workspace: Path,
    ledger_url: str | None = None,
    *,
    limits: Limits | None = None,
    builtins: bool = True,
    token: str | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> FastAPI:
    """The workspace over the cases in `workspace` (and the built-in cases when `builtins`),
    recording into the ledger at `ledger_url` (None: the ledger's default).

    `token`: the token every request but the static files must show (None: none is asked for).
    `allowed_hosts`: the names the Host header may give (None: any name). These defaults suit a
    test client or an app behind a server that checks both itself; `standoff serve` always passes
    a token (unless `--no-token` on loopback) and the names `guard.allowed_hosts` gives for the
    address it listens on. Requests from another origin that change something, and such
    requests without the `X-Standoff` header or a JSON body, are refused whatever these are."""
    from . import api, pages

    if token is not None and (problem := token_problem(token)):
        raise ValueError(problem)
    hosts = None if allowed_hosts is None else tuple(allowed_hosts)
    limits = limits or Limits()
    jobs = Jobs(limits)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()

    app = FastAPI(
        title="standoff workspace",
        lifespan=lifespan,
        docs_url=None,  # /docs is rendered on the server (pages.docs_page): no CDN scripts
        redoc_url=None,
        version=__version__,
        description="Cases, checks, forecasts and what-ifs over a folder of standoff cases. "
        "POST /api/forecast returns the JSON that standoff forecast CASE --json writes.",
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    app.state.standoff = State(
        workspace=Workspace(workspace, builtins=builtins), limits=limits,
        ledger=Ledger(ledger_url), jobs=jobs, templates=templates,
    )  # fmt: skip
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    _handlers(app)
    app.add_middleware(BodyLimit, limit=limits.body)
    app.add_middleware(Guard, token=token, allowed_hosts=hosts, pages=templates.env)
    app.add_middleware(Headers)  # outermost: refusals get the headers too
    return app
