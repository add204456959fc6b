"""Import KTAB's CSV format (the input of its SMP program `smpc`).

Line 1: `scenario name,description,nActors,nDims`; line 2: a header `Actor,Description,Power,
Pstn1,Sal1,...`; then one row per actor: name, description, capability, and a position and a
salience per dimension, all on 0-100, an actor's saliences summing to at most 100. Saliences are
divided by 100 on import (standoff's saliences are on 0-1); dimensions keep the 0-100 scale.
"""

from __future__ import annotations

from typing import Any

from ..errors import CaseError, Problem
from .csvread import actor_row, read_number, rows_with_lines, slug

__all__ = ["is_ktab", "read_ktab", "rows_with_lines"]


def is_ktab(rows: list[tuple[int, list[str]]]) -> bool:
    return (
        len(rows) >= 2
        and len(rows[0][1]) >= 3
        and len(rows[1][1]) >= 3
        and rows[1][1][0].lower() == "actor"
        and rows[1][1][1].lower() != "capability"
    )


def read_ktab(rows: list[tuple[int, list[str]]], file: str) -> dict[str, Any]:
    problems: list[Problem] = []
    (line1, first), (line2, header) = rows[0], rows[1]
    if len(first) < 4:
        raise CaseError(
            [
                Problem(
                    file,
                    line1,
                    "scenario line",
                    f"expected 'name,description,nActors,nDims', found {len(first)} field(s)",
                )
            ]
        )
    n_actors = _count(first[2], file, line1, "nActors", problems)
    n_dims = _count(first[3], file, line1, "nDims", problems)
    if problems:
        raise CaseError(problems)
    expected_columns = 3 + 2 * n_dims
    if len(header) != expected_columns:
        raise CaseError(
            [
                Problem(
                    file,
                    line2,
                    "header",
                    f"{len(header)} columns, but nDims = {n_dims} needs {expected_columns} "
                    "(Actor, Description, Power, then a position and a salience per dimension)",
                )
            ]
        )
    body = rows[2:]
    if len(body) != n_actors:
        last = body[-1][0] if body else line2
        problems.append(
            Problem(
                file,
                last,
                "nActors",
                f"the first line says {n_actors} actors but {len(body)} rows follow",
            )
        )
    dim_names = [header[3 + 2 * k] for k in range(n_dims)]
    ids = [slug(name) or f"dim{k + 1}" for k, name in enumerate(dim_names)]
    if len(set(ids)) != len(ids):
        ids = [f"dim{k + 1}" for k in range(n_dims)]
    actors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, fields in body:
        name = actor_row(fields, expected_columns, (file, line), seen, problems)
        if name is None:
            continue
        capability = read_number(fields[2], file, line, header[2], problems, low=0)
        stances: dict[str, Any] = {}
        total = 0.0
        for k in range(n_dims):
            pos = read_number(fields[3 + 2 * k], file, line, header[3 + 2 * k], problems, 0, 100)
            sal = read_number(fields[4 + 2 * k], file, line, header[4 + 2 * k], problems, 0, 100)
            total += sal
            stances[ids[k]] = {"position": pos, "salience": sal / 100.0}
        if total > 100 + 1e-9:
            problems.append(
                Problem(file, line, "salience", f"saliences sum to {total:g}, above 100")
            )
        actors.append(
            {"id": name, "name": fields[1] or name, "capability": capability, "stances": stances}
        )
    if problems:
        raise CaseError(problems)
    return {
        "id": slug(first[0]) or "ktab",
        "title": first[0],
        "description": first[1],
        "source": file,
        "issues": [{"id": ids[k], "label": dim_names[k], "range": [0, 100]} for k in range(n_dims)],
        "actors": actors,
    }


def _count(text: str, file: str, line: int, field: str, problems: list[Problem]) -> int:
    try:
        value = int(text)
    except ValueError:
        problems.append(Problem(file, line, field, f"{text!r} is not a whole number"))
        return 0
    if value < 1:
        problems.append(Problem(file, line, field, f"{value} must be at least 1"))
    return value
