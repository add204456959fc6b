"""The JSON API of the workspace (documented at `/docs`).

Every route that runs a forecast, a what-if or the knobs runs it in the pool of heavy work
(`runs.Work`: a few threads and a short queue; 503 with `Retry-After` when full), and stops it
when its client has gone; every problem with a case comes back as 422 with its problems (`file`,
`line`, `field`, `message`), never a traceback. Every request body is checked first: text with a
lone surrogate, or a number that is not finite (`NaN`, `Infinity`), is refused with 422 and a
message naming the field. A case's text carries its version (`ETag`); a save that names the
version it was made from (`If-Match`, or `base`) is refused with 409 when the case has changed
since.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..compile import CompiledCase
from ..defaults import DEFAULT_DRAWS, DEFAULT_SEED
from ..errors import CaseError
from ..result import ForecastResult
from ..serialize import NonFiniteError, dumps, forecast_json
from . import runs, whatif
from .ledger import record_json
from .runs import problem_json
from .state import State, state_of
from .workspace import ID, SURROGATE, WorkspaceError

router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        403: {
            "description": "a built-in case (read-only), a file outside the workspace, or a "
            "read-only folder"
        },
        404: {"description": "no such case or run"},
        409: {"description": "the case has changed since the version a save names"},
        413: {"description": "the request body or the case file is too large"},
        422: {
            "description": "the case has problems (with their lines), a bound was passed, or "
            "the request body is not valid"
        },
        503: {
            "description": "the run took too long, the server is busy (see Retry-After), or "
            "the ledger is missing or not answering"
        },
        507: {"description": "the disk is full"},
    },
)

WHATIF_DRAWS = 500  # a what-if while a slider is dragged
WHATIF_FULL = 5_000  # a what-if when it is released
TEXT_FILE = "<text>"
POLL_SECONDS = 0.2  # how often a request waiting for heavy work checks that its client is there
T = TypeVar("T")


def _odd(body: Any) -> str | None:
    """Where in a request body a string (or a key) holds a lone surrogate, or a number is not
    finite, and what is wrong; None when nothing is."""
    stack: list[tuple[Any, str]] = [(body, "")]
    while stack:
        value, path = stack.pop()
        where = path or "(body)"
        if isinstance(value, str) and SURROGATE.search(value):
            return f"{where}: holds a lone surrogate, which is not a character; send text as UTF-8"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{where}: not a finite number (JSON has no NaN or Infinity)"
        items: Any = ()
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        for key, item in items:
            if isinstance(key, str) and SURROGATE.search(key):
                return f"{where}: a key holds a lone surrogate, which is not a character"
            stack.append((item, f"{path}.{key}" if path else str(key)))
    return None


class Body(BaseModel):
    """A request body: no text with a lone surrogate (which is not a character, and could not
    be written as UTF-8), no number that is not finite (JSON has no `NaN` or `Infinity`)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _characters(cls, data: Any) -> Any:
        found = _odd(data)
        if found:
            raise ValueError(found)
        return data


class ForecastRequest(Body):
    """`case`: a case id of the workspace (or a built-in id), or the case's YAML text."""

    case: str = Field(description="A case id of the workspace, or a case's YAML text.")
    draws: int = Field(DEFAULT_DRAWS, description="Monte Carlo draws (bounded; see /docs).")
    seed: int = Field(DEFAULT_SEED, ge=0, description="The same seed gives the same answer.")


class WhatIfRequest(ForecastRequest):
    """A forecast of the case with some of its numbers moved (`set`: knob key -> value)."""

    draws: int = Field(WHATIF_DRAWS, description="Monte Carlo draws (small: it runs as you drag).")
    set: dict[str, float] = Field(default_factory=dict, description="Knob key -> its new centre.")


class CheckRequest(Body):
    """YAML text to check, and the file name its problems should carry."""

    text: str
    file: str = Field(TEXT_FILE, max_length=200)


class SaveRequest(Body):
    """A case's new text, and the version it was made from (`base`, as `GET /api/cases/{id}`
    gave it; or send it as `If-Match`): when the case has changed since, the save is refused
    (409). Without either, the text replaces whatever the case holds (the previous text is still
    kept)."""

    text: str
    base: str | None = Field(None, max_length=200, description="The version the text was made "
                             "from (the ETag of GET /api/cases/{id}).")  # fmt: skip


class NewCaseRequest(Body):
    """A new case: its id, and the case to copy (`copy_of`: a case id of the workspace or a
    built-in one; `template` or none: the minimal template)."""

    id: str = Field(
        max_length=200,
        description="The new case's id: letters, digits, '.', '_' and '-', starting with a "
        "letter or digit; no case or file may have it.",
    )
    copy_of: str | None = Field(
        None,
        max_length=200,
        description="A case id to copy, or 'template' (the default): the minimal template.",
    )


@dataclass(frozen=True)
class Resolved:
    """A case a request names: its compiled form, its text, and its workspace id (None for a
    case sent as text)."""

    compiled: CompiledCase
    text: str
    case_id: str | None


def is_id(ref: str) -> bool:
    return bool(ID.match(ref))


def resolve(state: State, ref: str) -> Resolved:
    """The case named by an id, or given as YAML text. Raises WorkspaceError or CaseError."""
    if is_id(ref):
        read, compiled = state.open(ref)
        return Resolved(compiled, read.text, ref)
    if "\n" not in ref and ":" not in ref:
        raise WorkspaceError(404, f"no case {ref[:100]!r} in this workspace")
    return Resolved(state.compile(ref, TEXT_FILE), ref, None)


def ledger_id(state: State, ident: str) -> str:
    """The id the ledger files a workspace case under: the `id` its YAML gives (the file's
    stem when the case cannot be read)."""
    try:
        return resolve(state, ident).compiled.case.id
    except CaseError:
        return ident


def _draws(draws: int, most: int, what: str) -> None:
    if draws < 1:
        raise runs.RunRefused(f"draws {draws}: at least 1 draw")
    if draws > most:
        raise runs.RunRefused(f"draws {draws:,}: at most {most:,} draws for {what}; ask for fewer")


def _json(data: dict[str, Any]) -> Response:
    try:
        text = dumps(data)
    except NonFiniteError as e:
        return JSONResponse({"detail": str(e)}, 422)
    return Response(text, media_type="application/json")


async def heavy(request: Request, work: Callable[..., T], *args: Any) -> T:
    """`work(*args, cancel=FLAG)` in the pool of heavy work, awaited; the flag is set, and the
    work stopped, as soon as the client has gone (checked every POLL_SECONDS) or this request
    ends otherwise. Raises RunBusy at once when the pool and its queue are full."""
    future, cancel = state_of(request).jobs.work.submit(work, *args)
    waiting = asyncio.wrap_future(future)
    try:
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=POLL_SECONDS)
            if done:
                return waiting.result()
            if await request.is_disconnected():
                raise runs.RunCancelled("the client has gone; the work was stopped")
    finally:
        cancel.set()
        if not waiting.done():
            waiting.cancel()  # dropped from the queue if it has not started


def _etag(version: str) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _if_match(value: str | None) -> list[str] | None:
    """The versions an `If-Match` header names (None: no header, or `*`)."""
    if value is None or value.strip() == "*":
        return None
    tags = [t.strip().removeprefix("W/").strip('"') for t in value.split(",")]
    return [t for t in tags if t]


@router.get("/cases")
def list_cases(request: Request) -> list[dict[str, Any]]:
    """The workspace's cases (and the built-in ones): id, file, whether they can be saved."""
    state = state_of(request)
    return [
        {"id": c.id, "file": c.path.name, "builtin": c.builtin, "writable": c.writable}
        for c in state.workspace.cases().values()
    ]


@router.get("/cases/{ident}")
def get_case(ident: str, request: Request) -> Response:
    """A case's YAML text and its version (also the `ETag`: send it back as `If-Match`, or as
    `base`, when saving)."""
    state = state_of(request)
    found = state.workspace.get(ident)
    read = state.workspace.read_text(ident)
    data = {"id": ident, "file": found.path.name, "builtin": found.builtin, "text": read.text,
            "version": read.version}  # fmt: skip
    return JSONResponse(data, headers=_etag(read.version))


def check_text(state: State, text: str, file: str) -> dict[str, Any]:
    """The checks of `standoff check`: problems (errors, at their lines) and warnings."""
    try:
        compiled = state.compile(text, file)
    except CaseError as e:
        return {"ok": False, "problems": [problem_json(p) for p in e.problems], "warnings": []}
    warnings: list[dict[str, Any]] = []
    if compiled.is_crisis:
        from ..pipeline.lint import dead_terms

        try:
            warnings = [problem_json(p) for p in dead_terms(compiled)]
        except CaseError as e:
            return {"ok": False, "problems": [problem_json(p) for p in e.problems],
                    "warnings": []}  # fmt: skip
    case = compiled.case
    return {
        "ok": True, "problems": [], "warnings": warnings,
        "summary": f"case {case.id!r}, {len(case.actors)} actors, {len(case.issues)} issues",
    }  # fmt: skip


@router.post("/check")
async def check(body: CheckRequest, request: Request) -> dict[str, Any]:
    """Check a case's YAML text as `standoff check` does: `ok`, and the `problems` and
    `warnings` with their lines."""
    state = state_of(request)
    return await run_in_threadpool(check_text, state, body.text, body.file)


@router.put("/cases/{ident}")
async def save_case(ident: str, body: SaveRequest, request: Request) -> Response:
    """Save a case's text, only when it passes the checks (422 with the problems otherwise); the
    previous version is kept in `.standoff-history/`. Built-in cases are read-only (403). With
    `If-Match` (or `base`) naming the version the text was made from, a case changed since is
    not saved (409). Returns the new version (also as `ETag`)."""
    state = state_of(request)
    found = state.workspace.get(ident)
    if found.builtin:
        raise WorkspaceError(403, f"{ident} is a built-in case and read-only")
    header = request.headers.get("if-match")
    bases = _if_match(header) if header is not None else None
    if header is None and body.base is not None:
        bases = [body.base]
    checked = await run_in_threadpool(check_text, state, body.text, found.path.name)
    if not checked["ok"]:
        return JSONResponse(
            {"detail": "not saved: the case has problems", "problems": checked["problems"]}, 422
        )
    saved = await run_in_threadpool(state.workspace.save, ident, body.text, bases)
    return JSONResponse({"saved": saved.file, "kept": saved.kept, "version": saved.version},
                        headers=_etag(saved.version))  # fmt: skip


def _new_text(state: State, body: NewCaseRequest) -> str:
    """The text of the new case: the template, or a copy of a case with its id set."""
    from .newcase import TEMPLATE, renamed, template_text

    if body.copy_of is None or body.copy_of == TEMPLATE:
        return template_text(body.id)
    state.workspace.get(body.copy_of)  # 404 for no such case
    return renamed(state.workspace.read(body.copy_of), body.id)


@router.post("/cases", status_code=201)
async def new_case(body: NewCaseRequest, request: Request) -> Response:
    """Start a new case in the workspace folder, `ID.yaml`: a copy of a case (`copy_of`, with its
    `id:` set to the new id) or the minimal template. Refused with 409 when a case or a file of
    the folder has the id (in any letter case), 404 when the case to copy is not found, 422 when
    the id is not one or the text does not pass the checks; nothing is ever written over a file.
    Returns the new case's id, file and version (also as `ETag`)."""
    state = state_of(request)
    if not ID.match(body.id):
        raise WorkspaceError(
            422,
            f"{body.id[:60]!r} cannot be a case id: use letters, digits, '.', '_' and '-' (at "
            "most 128, starting with a letter or digit)",
        )
    if (why := await run_in_threadpool(state.workspace.taken, body.id)) is not None:
        raise WorkspaceError(409, f"{why}; choose another id")
    text = await run_in_threadpool(_new_text, state, body)
    checked = await run_in_threadpool(check_text, state, text, f"{body.id}.yaml")
    if not checked["ok"]:
        return JSONResponse(
            {"detail": "not created: the case to copy has problems", "problems":
             checked["problems"]}, 422,
        )  # fmt: skip
    saved = await run_in_threadpool(state.workspace.create, body.id, text)
    return JSONResponse({"id": body.id, "file": saved.file, "version": saved.version,
                         "copy_of": body.copy_of or "template"}, 201,
                        headers=_etag(saved.version))  # fmt: skip


def _forecast(state: State, body: ForecastRequest, *, cancel: threading.Event) -> Response:
    resolved = resolve(state, body.case)
    workers = state.jobs.processes.executor(body.draws)
    result = runs.forecast(resolved.compiled, body.draws, body.seed, state.limits.seconds,
                           cancel=cancel, executor=workers)  # fmt: skip
    return _json(forecast_json(result))


@router.post("/forecast")
async def post_forecast(body: ForecastRequest, request: Request) -> Response:
    """The JSON `standoff forecast CASE --draws N --seed S --json OUT` writes, byte for byte."""
    state = state_of(request)
    _draws(body.draws, state.limits.draws, "a forecast")
    return await heavy(request, _forecast, state, body)


def _items(result: ForecastResult) -> dict[str, tuple[str, float]]:
    """The numbers a what-if compares, by `kind:id`, each with its label: every scenario's and
    question's p and every issue's median settlement."""
    out: dict[str, tuple[str, float]] = {}
    for s in result.scenarios:
        out[f"scenario:{s.id}"] = (s.label or s.id, s.probability.p)
    for q in result.questions:
        out[f"question:{q.id}"] = (q.text or q.id, q.probability.p)
    for issue in result.settlement:
        out[f"settlement:{issue.id}"] = (issue.label or issue.id, issue.median)
    return out


def _whatif(
    state: State, body: WhatIfRequest, *, cancel: threading.Event | None = None
) -> tuple[dict[str, Any], ForecastResult, str]:
    """The what-if's answer, its forecast, and the YAML text of the changed case (stopped once
    `cancel` is set)."""
    began = time.perf_counter()
    resolved = resolve(state, body.case)
    file = resolved.compiled.source.file
    key = (hashlib.sha256(resolved.text.encode("utf-8", "surrogatepass")).hexdigest(),
           body.draws, body.seed)  # fmt: skip
    with state.lock:
        base = state.baselines.get(key)
    if base is None:
        baseline = runs.forecast(resolved.compiled, body.draws, body.seed,
                                 state.limits.whatif_seconds, cancel=cancel,
                                 executor=state.jobs.processes.executor(body.draws))  # fmt: skip
        base = {k: value for k, (_, value) in _items(baseline).items()}
        with state.lock:
            state.baselines[key] = base
            while len(state.baselines) > 64:
                state.baselines.popitem(last=False)
    changed, text = whatif.apply(resolved.text, resolved.compiled, body.set, file)
    workers = state.jobs.processes.executor(body.draws)
    result = runs.forecast(changed, body.draws, body.seed, state.limits.whatif_seconds,
                           cancel=cancel, executor=workers)  # fmt: skip
    items = []
    for k, (label, value) in _items(result).items():
        kind, ident = k.split(":", 1)
        before = base.get(k)
        items.append({
            "key": k, "kind": kind, "id": ident, "label": label, "value": round(value, 6),
            "baseline": None if before is None else round(before, 6),
            "change": None if before is None else round(value - before, 6),
        })  # fmt: skip
    data = {
        "case": result.case.id, "draws": body.draws, "seed": body.seed, "set": body.set,
        "items": items, "seconds": round(time.perf_counter() - began, 3),
    }  # fmt: skip
    return data, result, text


@router.post("/whatif")
async def post_whatif(body: WhatIfRequest, request: Request) -> dict[str, Any]:
    """A forecast with some numbers moved: every scenario's and question's probability (and
    every issue's median settlement) beside the unchanged case's, with the same draws and seed.
    `GET /api/cases/{id}/knobs` lists the keys `set` accepts."""
    state = state_of(request)
    _draws(body.draws, state.limits.whatif_draws, "a what-if")
    data, _, _ = await heavy(request, _whatif, state, body)
    return data


@router.post("/whatif/record")
async def record_whatif(body: WhatIfRequest, request: Request) -> dict[str, Any]:
    """Run a what-if and store its forecast in the ledger; the record's id."""
    state = state_of(request)
    _draws(body.draws, state.limits.draws, "a recorded what-if")
    data, result, text = await heavy(request, _whatif, state, body)
    ident = await state.ledger.record(forecast_json(result), text.encode("utf-8", "surrogatepass"))
    return {"record": ident, **data}


@router.get("/cases/{ident}/knobs")
async def get_knobs(ident: str, request: Request) -> list[dict[str, Any]]:
    """The numbers of a case a what-if can move, with their centres and slider ranges."""
    return await heavy(request, _knobs, state_of(request), ident)


def _knobs(state: State, ident: str, *, cancel: threading.Event) -> list[dict[str, Any]]:
    return [vars(k) for k in whatif.knobs(resolve(state, ident).compiled)]


@router.post("/runs", status_code=202)
async def start_run(body: ForecastRequest, request: Request) -> dict[str, Any]:
    """Start a full forecast with its report (drivers included); poll `GET /api/runs/{id}`."""
    state = state_of(request)
    _draws(body.draws, state.limits.draws, "a run")
    resolved = await run_in_threadpool(resolve, state, body.case)
    job = state.jobs.start(resolved.compiled, resolved.case_id or resolved.compiled.case.id,
                           body.draws, body.seed, resolved.text)  # fmt: skip
    return job.status()


def _job(request: Request, ident: str) -> runs.Job:
    job = state_of(request).jobs.get(ident)
    if job is None:
        raise WorkspaceError(404, f"no run {ident[:40]!r} (runs are kept while the server runs)")
    return job


@router.get("/runs/{ident}")
def run_status(ident: str, request: Request) -> dict[str, Any]:
    """A run's state and progress."""
    return _job(request, ident).status()


def _finished(request: Request, ident: str) -> runs.Job:
    job = _job(request, ident)
    if job.state != "done" or job.result is None:
        raise WorkspaceError(409, f"run {ident} has not finished ({job.state})")
    return job


@router.post("/runs/{ident}/record")
async def record_run(ident: str, request: Request) -> Response:
    """Store a finished run's forecast in the ledger (once); the record's id."""
    state = state_of(request)
    job = _finished(request, ident)
    assert job.result is not None
    if job.record is None:
        data = forecast_json(job.result)
        job.record = await state.ledger.record(data, job.text.encode("utf-8", "surrogatepass"))
    return JSONResponse({"record": job.record})


@router.get("/runs/{ident}/forecast.json")
def run_json(ident: str, request: Request) -> Response:
    """A finished run's forecast JSON."""
    job = _finished(request, ident)
    assert job.result is not None
    return _json(forecast_json(job.result))


@router.get("/runs/{ident}/report.html")
def run_html(ident: str, request: Request, download: bool = False) -> Response:
    """A finished run's report (one self-contained HTML file)."""
    job = _finished(request, ident)
    if not job.report_html:
        raise WorkspaceError(409, "a report needs a crisis case")
    headers = _attachment(f"{job.case_id}-report.html") if download else {}
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return Response(job.report_html, media_type="text/html",
                    headers={**headers, "Content-Security-Policy": csp})  # fmt: skip


@router.get("/runs/{ident}/report.md")
def run_markdown(ident: str, request: Request) -> Response:
    """A finished run's report in Markdown with its figures, as a zip: `report.md` and
    `report_figures/*.svg`."""
    job = _finished(request, ident)
    if not job.report_md:
        raise WorkspaceError(409, "a report needs a crisis case")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("report.md", job.report_md)
        for name, svg in job.figures.items():
            z.writestr(f"report_figures/{name}", svg)
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers=_attachment(f"{job.case_id}-report-md.zip"))  # fmt: skip


def _attachment(name: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


@router.get("/cases/{ident}/history")
async def history(ident: str, request: Request) -> Response:
    """The ledger's records of a case and their scores."""
    state = state_of(request)
    state.workspace.get(ident)
    case_id = await run_in_threadpool(ledger_id, state, ident)
    records = await state.ledger.records(case_id)
    scores = await state.ledger.score(case_id)
    data = {"case": case_id, "records": [record_json(r) for r in records], "scores": scores}
    return JSONResponse(jsonable_encoder(data))
