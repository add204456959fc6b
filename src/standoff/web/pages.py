"""The HTML pages of the workspace: cases, a case, edit, what if, run, history.

Every page is rendered from a template of `templates/` with autoescaping on; the numbers the
figures need (positions on each issue's scale, a question's probability over time) are worked out
here, so the templates only place them. The ledger is asked off the event loop and waited for a
bounded time (`ledger.Ledger`): a ledger that is missing or not answering is said on the page,
which still renders.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..case.schema import Case
from ..compile import CompiledCase
from ..errors import CaseError
from .api import DEFAULT_DRAWS, DEFAULT_SEED, WHATIF_DRAWS, WHATIF_FULL, ledger_id, resolve
from .ledger import PATIENCE, LedgerUnavailable
from .newcase import TEMPLATE
from .runs import problem_json
from .state import State, state_of
from .whatif import centre, knobs

router = APIRouter(include_in_schema=False)

MAP_WIDTH = 640
ROW = 22
AXIS = 8  # the y of an issue map's axis, under the scale's ends (text above the map)


def _page(request: Request, name: str, **context: Any) -> Response:
    state = state_of(request)
    return state.templates.TemplateResponse(request, name, context)


def _oldest_first(records: list[Any]) -> list[Any]:
    return sorted(records, key=lambda r: (str(r.recorded_at), r.id))


async def _records(state: State, ident: str) -> tuple[list[Any], str]:
    """The ledger's records of a case, oldest first, or none and why."""
    try:
        records = await state.ledger.records(ident)
    except LedgerUnavailable as e:
        return [], str(e)
    except Exception as e:  # a ledger problem is shown, the page still renders
        return [], f"the ledger could not be read: {type(e).__name__}: {e}"
    return _oldest_first(records), ""


def _case_rows(state: State) -> list[dict[str, Any]]:
    """Each case of the workspace with its title and counts (or its number of problems; a file
    too large or unreadable is one problem, and is not read); `case_id`: the id the ledger files
    it under."""
    rows = []
    for found in state.workspace.cases().values():
        row: dict[str, Any] = {"id": found.id, "file": found.path.name, "builtin": found.builtin}
        case_id = found.id
        try:
            case = resolve(state, found.id).compiled.case
            case_id = case.id
            row.update(title=case.title, actors=len(case.actors), issues=len(case.issues),
                       problems=0)  # fmt: skip
        except CaseError as e:
            row.update(title="", actors=None, issues=None, problems=len(e.problems))
        except Exception:  # an unreadable or oversize file is listed, not fatal
            row.update(title="", actors=None, issues=None, problems=1)
        row["case_id"] = case_id
        row["files"] = []
        rows.append(row)
    return rows


def _beside(rows: list[dict[str, Any]], files: list[Any]) -> list[dict[str, Any]]:
    """Each observation and resolution file put into the row of the case it names (by the
    case's id or the id its YAML gives), oldest date first; those whose case is not among the
    rows are returned, to be listed apart."""
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_id.setdefault(row["id"], row)
    for row in rows:
        by_id.setdefault(row["case_id"], row)
    apart: list[dict[str, Any]] = []
    for found in files:
        item = {"name": found.name, "kind": found.kind, "case": found.case, "date": found.date}
        owner = by_id.get(found.case) if found.case else None
        if owner is None:
            apart.append(item)
        else:
            owner["files"].append(item)
    for row in rows:
        row["files"].sort(key=lambda f: (f["kind"], f["date"], f["name"]))
    return apart


def _latest(row: dict[str, Any], records: list[Any]) -> None:
    """Put a case's latest record (when and its most likely scenario, or the scenario its
    observations decided) into its row."""
    if records:
        latest = _oldest_first(records)[-1]
        scenarios = [(item, p) for kind, item, p in latest.probabilities if kind == "scenario"]
        top = max(scenarios, key=lambda s: s[1]) if scenarios else None
        seen = latest.observed(top[0], "scenario") if top else None
        row["latest"] = {"recorded_at": str(latest.recorded_at)[:16], "top": top,
                         "observed": seen}  # fmt: skip


@router.get("/")
async def cases_page(request: Request) -> Response:
    state = state_of(request)
    rows = await run_in_threadpool(_case_rows, state)
    files = await run_in_threadpool(state.workspace.files)
    apart = _beside(rows, files)
    ledger_problem = ""
    try:
        by_case = await state.ledger.records_of((row["case_id"] for row in rows), PATIENCE)
    except LedgerUnavailable as e:
        by_case, ledger_problem = {}, str(e)
    except Exception as e:  # a ledger problem is shown, the page still renders
        by_case = {}
        ledger_problem = f"the ledger could not be read: {type(e).__name__}: {e}"
    for row in rows:
        _latest(row, by_case.get(row["case_id"], []))
    return _page(request, "cases.html", cases=rows, folder=str(state.workspace.folder),
                 apart=apart, template=TEMPLATE, ledger_problem=ledger_problem)  # fmt: skip


def _end(value: float, means: str) -> str:
    shown = f"{value:g}"
    return f"{shown}: {means}" if means else shown


def position_maps(case: Case) -> list[dict[str, Any]]:
    """Each issue's actors on its scale: for each actor the written interval of its position
    and its centre, in pixels of a map MAP_WIDTH wide, and its salience. The scale's two ends
    (`low_label`, `high_label`: the number and what it means) are text above the map, side by
    side, each wrapping within its share of the width, so that long words never print over each
    other; the axis is at `axis`."""
    maps = []
    for issue in case.issues:
        low, high = issue.range
        span = (high - low) or 1.0

        def x(v: float, low: float = low, span: float = span) -> float:
            return round(20 + (MAP_WIDTH - 40) * (min(max(v, low), low + span) - low) / span, 1)

        rows: list[dict[str, Any]] = []
        for actor in case.actors:
            stance = actor.stances.get(issue.id)
            if stance is None:
                continue
            a, b = stance.position.support()
            right = x(b) + 8 < MAP_WIDTH - 120  # the name after the interval, else before it
            rows.append({
                "label_x": x(b) + 8 if right else x(a) - 8, "anchor": "start" if right else "end",
                "actor": actor.id, "name": actor.name or actor.id,
                "x0": x(a), "x1": x(b), "x": x(centre(stance.position)),
                "position": str(stance.position), "salience": str(stance.salience),
                "y": AXIS + 12 + ROW * len(rows),
            })  # fmt: skip
        maps.append({"issue": issue, "rows": rows, "height": AXIS + 22 + ROW * max(len(rows), 1),
                     "width": MAP_WIDTH, "low": low, "high": high, "axis": AXIS,
                     "low_label": _end(low, issue.low_means),
                     "high_label": _end(high, issue.high_means)})  # fmt: skip
    return maps


def _open(state: State, ident: str) -> tuple[CompiledCase | None, list[dict[str, Any]]]:
    try:
        return resolve(state, ident).compiled, []
    except CaseError as e:
        return None, [problem_json(p) for p in e.problems]


async def _opened(request: Request, ident: str) -> tuple[State, Any, CompiledCase] | Response:
    """The workspace, the case's entry in it and the compiled case; or, where the case does not
    compile, the page that shows its problems."""
    state = state_of(request)
    found = state.workspace.get(ident)
    compiled, problems = await run_in_threadpool(_open, state, ident)
    if compiled is None:
        return _page(request, "broken.html", ident=ident, found=found, problems=problems)
    return state, found, compiled


@router.get("/cases/{ident}")
async def case_page(ident: str, request: Request) -> Response:
    opened = await _opened(request, ident)
    if isinstance(opened, Response):
        return opened
    _, found, compiled = opened
    case = compiled.case
    return _page(request, "case.html", ident=ident, found=found, case=case,
                 maps=position_maps(case), crisis=case.crisis)  # fmt: skip


@router.get("/cases/{ident}/edit")
async def edit_page(ident: str, request: Request) -> Response:
    state = state_of(request)
    found = state.workspace.get(ident)
    read = await run_in_threadpool(state.workspace.read_text, ident)
    return _page(request, "edit.html", ident=ident, found=found, text=read.text,
                 version=read.version)  # fmt: skip


@router.get("/cases/{ident}/whatif")
async def whatif_page(ident: str, request: Request) -> Response:
    opened = await _opened(request, ident)
    if isinstance(opened, Response):
        return opened
    state, found, compiled = opened
    groups: dict[str, list[Any]] = {}
    for knob in knobs(compiled):
        groups.setdefault(knob.group, []).append(knob)
    ledger_problem = await state.ledger.check()
    return _page(request, "whatif.html", ident=ident, found=found, case=compiled.case,
                 groups=groups, draws=WHATIF_DRAWS, full=WHATIF_FULL, seed=DEFAULT_SEED,
                 ledger=not ledger_problem, ledger_problem=ledger_problem)  # fmt: skip


@router.get("/cases/{ident}/run")
async def run_page(ident: str, request: Request) -> Response:
    opened = await _opened(request, ident)
    if isinstance(opened, Response):
        return opened
    state, found, compiled = opened
    return _page(request, "run.html", ident=ident, found=found, case=compiled.case,
                 draws=DEFAULT_DRAWS, seed=DEFAULT_SEED, most=state.limits.draws,
                 crisis=compiled.is_crisis)  # fmt: skip


def probability_lines(records: list[Any]) -> list[dict[str, Any]]:
    """Each question's probability over the records, as the points of a small chart (x: the
    record's order, y: the probability) of 400 x 120 pixels; `observed`: "yes" or "no" where the
    latest record's observations decided the question."""
    series: dict[str, list[tuple[int, float]]] = {}
    for n, record in enumerate(records):
        for kind, item, p in record.probabilities:
            if kind == "question":
                series.setdefault(item, []).append((n, float(p)))
    count = max(len(records) - 1, 1)
    out = []
    for item, points in series.items():
        xy = [(round(20 + 360 * n / count, 1), round(110 - 100 * p, 1)) for n, p in points]
        out.append({"id": item, "points": " ".join(f"{a},{b}" for a, b in xy), "dots": xy,
                    "latest": points[-1][1],
                    "observed": records[points[-1][0]].observed(item)})  # fmt: skip
    return out


def score_rows(scores: dict[str, Any], case_id: str) -> dict[str, Any]:
    """The parts of the ledger's scores the History page shows: the case's summary, each
    record's scores, and the questions not yet resolved."""
    return {
        "summary": (scores.get("cases") or {}).get(case_id),
        "records": [r for r in scores.get("records") or [] if r.get("case") == case_id],
        "unresolved": (scores.get("unresolved") or {}).get(case_id) or [],
        "brier": scores.get("brier", ""),
        "log": scores.get("log", ""),
    }


@router.get("/cases/{ident}/history")
async def history_page(ident: str, request: Request) -> Response:
    state = state_of(request)
    found = state.workspace.get(ident)
    case_id = await run_in_threadpool(ledger_id, state, ident)
    records, problem = await _records(state, case_id)
    scores: dict[str, Any] = {}
    if not problem and records:
        try:
            scores = score_rows(await state.ledger.score(case_id), case_id)
        except LedgerUnavailable as e:
            problem = str(e)
        except Exception as e:  # shown on the page
            problem = f"the ledger could not score: {type(e).__name__}: {e}"
    return _page(request, "history.html", ident=ident, found=found, records=records,
                 case_id=case_id, lines=probability_lines(records), scores=scores,
                 problem=problem)  # fmt: skip


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    ref = schema.get("$ref", "")
    return str(ref).rsplit("/", 1)[-1] if ref else str(schema.get("type", ""))


def api_reference(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document as the /docs page lists it: each route with its summary, parameters,
    request body and responses, and each schema with its fields."""
    routes = []
    for path, methods in openapi.get("paths", {}).items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            routes.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [(p["name"], p.get("in", ""), _schema_name(p.get("schema")))
                               for p in op.get("parameters", [])],
                "body": _schema_name(body.get("schema")),
                "responses": sorted(op.get("responses", {})),
            })  # fmt: skip
    schemas = []
    for name, schema in openapi.get("components", {}).get("schemas", {}).items():
        fields = []
        for field_name, spec in schema.get("properties", {}).items():
            kind = _schema_name(spec) or " | ".join(
                _schema_name(s) for s in spec.get("anyOf", []) if s
            )
            fields.append({"name": field_name, "type": kind, "default": spec.get("default"),
                           "description": spec.get("description", ""),
                           "required": field_name in schema.get("required", [])})  # fmt: skip
        schemas.append({"name": name, "description": schema.get("description", ""),
                        "fields": fields})  # fmt: skip
    return {"title": openapi.get("info", {}).get("title", ""),
            "version": openapi.get("info", {}).get("version", ""),
            "description": openapi.get("info", {}).get("description", ""),
            "routes": routes, "schemas": schemas}  # fmt: skip


@router.get("/docs")
async def docs_page(request: Request) -> Response:
    """The API reference, made from the app's OpenAPI document (`/openapi.json`) on the server,
    so the page needs nothing from the internet."""
    return _page(request, "api.html", api=api_reference(request.app.openapi()))
