"""The web workspace: a FastAPI app over a folder of cases.

    create_app(workspace, ledger_url=None) -> FastAPI

Pages (`pages.py`) are rendered on the server from jinja2 templates with autoescaping on, so every
text from a case is shown as text; the few scripts and the stylesheet are files of `static/`,
served by the app (nothing is fetched from elsewhere). The JSON API (`api.py`) is documented at
`/docs`. Forecasts run in worker threads, so a long run never blocks other requests.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..compile import CompiledCase, load_yaml
from ..errors import CaseError
from .ledger import Ledger
from .runs import Jobs, Limits, RunBusy, RunRefused, RunTimeout, problem_json
from .workspace import Workspace, WorkspaceError

HERE = Path(__file__).resolve().parent


@dataclass
class State:
    """What every request of one app shares."""

    workspace: Workspace
    limits: Limits
    ledger: Ledger
    jobs: Jobs
    templates: Jinja2Templates
    compiled: OrderedDict[str, CompiledCase] = field(default_factory=OrderedDict)
    baselines: OrderedDict[tuple[str, int, int], dict[str, float]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def compile(self, text: str, file: str) -> CompiledCase:
        """The compiled case of a YAML text (kept for the latest 32 texts). Raises CaseError."""
        key = hashlib.sha256(f"{file}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()
        with self.lock:
            if key in self.compiled:
                self.compiled.move_to_end(key)
                return self.compiled[key]
        compiled = load_yaml(text, file)
        with self.lock:
            self.compiled[key] = compiled
            while len(self.compiled) > 32:
                self.compiled.popitem(last=False)
        return compiled


def state_of(request: Request) -> State:
    """The app's shared state."""
    state: State = request.app.state.standoff
    return state


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
    Handler = Callable[[Request, Any], Awaitable[Response]]

    async def case_error(request: Request, exc: Any) -> Response:
        problems = [problem_json(p) for p in exc.problems]
        if _wants_html(request):
            return _error_page(request, 422, "The case has problems", problems)
        return JSONResponse({"detail": "the case has problems", "problems": problems}, 422)

    async def workspace_error(request: Request, exc: Any) -> Response:
        if _wants_html(request):
            return _error_page(request, exc.status, str(exc), [])
        return JSONResponse({"detail": str(exc)}, exc.status)

    async def refused(request: Request, exc: Any) -> Response:
        return JSONResponse({"detail": str(exc)}, 422)

    async def timeout(request: Request, exc: Any) -> Response:
        return JSONResponse({"detail": str(exc)}, 503)

    async def internal(request: Request, exc: Any) -> Response:
        message = f"internal error: {type(exc).__name__}"
        if _wants_html(request):
            return _error_page(request, 500, message, [])
        return JSONResponse({"detail": message}, 500)

    handlers: dict[type[Exception], Handler] = {
        CaseError: case_error, WorkspaceError: workspace_error, RunRefused: refused,
        RunTimeout: timeout, RunBusy: timeout, Exception: internal,
    }  # fmt: skip
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def create_app(
    workspace: Path,
    ledger_url: str | None = None,
    *,
    limits: Limits | None = None,
    builtins: bool = True,
) -> FastAPI:
    """The workspace over the cases in `workspace` (and the built-in cases when `builtins`),
    recording into the ledger at `ledger_url` (None: the ledger's default)."""
    from . import api, pages

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
    app.add_middleware(Headers)
    return app
