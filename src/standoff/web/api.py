"""The JSON API of the workspace (documented at `/docs`).

Every route that runs a forecast runs it in a worker thread; every problem with a case comes back
as 422 with its problems (`file`, `line`, `field`, `message`), never a traceback.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from ..compile import CompiledCase
from ..errors import CaseError
from ..result import ForecastResult
from ..serialize import NonFiniteError, dumps, forecast_json
from . import runs, whatif
from .app import State, state_of
from .ledger import LedgerUnavailable, record_json
from .runs import problem_json
from .workspace import ID, WorkspaceError

router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses={
        403: {"description": "a built-in case (read-only), or a file outside the workspace"},
        404: {"description": "no such case or run"},
        413: {"description": "the request body is too large"},
        422: {"description": "the case has problems (with their lines), or a bound was passed"},
        503: {"description": "the run took too long, too many runs, or no ledger"},
    },
)

DEFAULT_DRAWS = 10_000  # standoff.cli.DEFAULT_DRAWS
DEFAULT_SEED = 20180815  # standoff.cli.DEFAULT_SEED
WHATIF_DRAWS = 500  # a what-if while a slider is dragged
WHATIF_FULL = 5_000  # a what-if when it is released
TEXT_FILE = "<text>"


class ForecastRequest(BaseModel):
    """`case`: a case id of the workspace (or a built-in id), or the case's YAML text."""

    case: str = Field(description="A case id of the workspace, or a case's YAML text.")
    draws: int = Field(DEFAULT_DRAWS, description="Monte Carlo draws (bounded; see /docs).")
    seed: int = Field(DEFAULT_SEED, ge=0, description="The same seed gives the same answer.")


class WhatIfRequest(ForecastRequest):
    """A forecast of the case with some of its numbers moved (`set`: knob key -> value)."""

    draws: int = Field(WHATIF_DRAWS, description="Monte Carlo draws (small: it runs as you drag).")
    set: dict[str, float] = Field(default_factory=dict, description="Knob key -> its new centre.")


class CheckRequest(BaseModel):
    """YAML text to check, and the file name its problems should carry."""

    text: str
    file: str = Field(TEXT_FILE, max_length=200)


class SaveRequest(BaseModel):
    text: str


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
        found = state.workspace.get(ref)
        text = state.workspace.read(ref)
        return Resolved(state.compile(text, found.path.name), text, ref)
    if "\n" not in ref and ":" not in ref:
        raise WorkspaceError(404, f"no case {ref[:100]!r} in this workspace")
    return Resolved(state.compile(ref, TEXT_FILE), ref, None)


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


@router.get("/cases")
def list_cases(request: Request) -> list[dict[str, Any]]:
    """The workspace's cases (and the built-in ones): id, file, whether they can be saved."""
    state = state_of(request)
    return [
        {"id": c.id, "file": c.path.name, "builtin": c.builtin, "writable": c.writable}
        for c in state.workspace.cases().values()
    ]


@router.get("/cases/{ident}")
def get_case(ident: str, request: Request) -> dict[str, Any]:
    """A case's YAML text."""
    state = state_of(request)
    found = state.workspace.get(ident)
    return {"id": ident, "file": found.path.name, "builtin": found.builtin,
            "text": state.workspace.read(ident)}  # fmt: skip


def check_text(state: State, text: str, file: str) -> dict[str, Any]:
    """The checks of `standoff check`: problems (errors, at their lines) and warnings."""
    try:
        compiled = state.compile(text, file)
    except CaseError as e:
        return {"ok": False, "problems": [problem_json(p) for p in e.problems], "warnings": []}
    warnings: list[dict[str, Any]] = []
    if compiled.is_crisis:
        from ..crisis.lint import dead_terms

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
    previous version is kept in `.standoff-history/`. Built-in cases are read-only (403)."""
    state = state_of(request)
    found = state.workspace.get(ident)
    if found.builtin:
        raise WorkspaceError(403, f"{ident} is a built-in case and read-only")
    checked = await run_in_threadpool(check_text, state, body.text, found.path.name)
    if not checked["ok"]:
        return JSONResponse(
            {"detail": "not saved: the case has problems", "problems": checked["problems"]}, 422
        )
    kept = await run_in_threadpool(state.workspace.save, ident, body.text)
    return JSONResponse({"saved": found.path.name, "kept": f"{kept.parent.name}/{kept.name}"})


@router.post("/forecast")
async def post_forecast(body: ForecastRequest, request: Request) -> Response:
    """The JSON `standoff forecast CASE --draws N --seed S --json OUT` writes, byte for byte."""
    state = state_of(request)
    _draws(body.draws, state.limits.draws, "a forecast")
    resolved = await run_in_threadpool(resolve, state, body.case)
    result = await run_in_threadpool(
        runs.forecast, resolved.compiled, body.draws, body.seed, state.limits.seconds
    )
    return _json(forecast_json(result))


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


def _whatif(state: State, body: WhatIfRequest) -> tuple[dict[str, Any], ForecastResult, str]:
    """The what-if's answer, its forecast, and the YAML text of the changed case."""
    began = time.perf_counter()
    resolved = resolve(state, body.case)
    file = resolved.compiled.source.file
    key = (hashlib.sha256(resolved.text.encode("utf-8", "surrogatepass")).hexdigest(),
           body.draws, body.seed)  # fmt: skip
    with state.lock:
        base = state.baselines.get(key)
    if base is None:
        baseline = runs.forecast(resolved.compiled, body.draws, body.seed,
                                 state.limits.whatif_seconds)  # fmt: skip
        base = {k: value for k, (_, value) in _items(baseline).items()}
        with state.lock:
            state.baselines[key] = base
            while len(state.baselines) > 64:
                state.baselines.popitem(last=False)
    changed, text = whatif.apply(resolved.text, resolved.compiled, body.set, file)
    result = runs.forecast(changed, body.draws, body.seed, state.limits.whatif_seconds)
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
    data, _, _ = await run_in_threadpool(_whatif, state, body)
    return data


@router.post("/whatif/record")
async def record_whatif(body: WhatIfRequest, request: Request) -> dict[str, Any]:
    """Run a what-if and store its forecast in the ledger; the record's id."""
    state = state_of(request)
    _draws(body.draws, state.limits.draws, "a recorded what-if")
    data, result, text = await run_in_threadpool(_whatif, state, body)
    try:
        ident = await run_in_threadpool(
            state.ledger.record, forecast_json(result), text.encode("utf-8", "surrogatepass")
        )
    except LedgerUnavailable as e:
        return JSONResponse({"detail": str(e)}, 503)  # type: ignore[return-value]
    return {"record": ident, **data}


@router.get("/cases/{ident}/knobs")
async def get_knobs(ident: str, request: Request) -> list[dict[str, Any]]:
    """The numbers of a case a what-if can move, with their centres and slider ranges."""
    state = state_of(request)
    resolved = await run_in_threadpool(resolve, state, ident)
    return [vars(k) for k in whatif.knobs(resolved.compiled)]


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
        raw = job.text.encode("utf-8", "surrogatepass")
        try:
            job.record = await run_in_threadpool(state.ledger.record, data, raw)
        except LedgerUnavailable as e:
            return JSONResponse({"detail": str(e)}, 503)
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
    from .pages import ledger_id

    state = state_of(request)
    state.workspace.get(ident)
    case_id = await run_in_threadpool(ledger_id, state, ident)
    try:
        records = await run_in_threadpool(state.ledger.records, case_id)
        scores = await run_in_threadpool(state.ledger.score, case_id)
    except LedgerUnavailable as e:
        return JSONResponse({"detail": str(e)}, 503)
    data = {"case": case_id, "records": [record_json(r) for r in records], "scores": scores}
    return JSONResponse(jsonable_encoder(data))
