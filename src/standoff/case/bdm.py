"""Import the BDM CSV format: `Actor,Capability,Position,Salience`, one issue.

This is the table format of Bueno de Mesquita's expected utility model (e.g. the EC car emissions
example in Scholz, Calbert & Smith 2011). Capability >= 0; salience on 0-1; positions on any scale,
whose ends are taken to be the lowest and highest position in the table.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import CaseError, Problem
from .csvread import actor_row, read_number

HEADER = ("actor", "capability", "position", "salience")


def is_bdm(rows: list[tuple[int, list[str]]]) -> bool:
    return (
        bool(rows)
        and [f.lower() for f in rows[0][1]][:1] == ["actor"]
        and len(rows[0][1]) >= 2
        and (rows[0][1][1].lower() == "capability")
    )


def read_bdm(rows: list[tuple[int, list[str]]], file: str) -> dict[str, Any]:
    problems: list[Problem] = []
    header_line, header = rows[0]
    names = [h.lower() for h in header]
    missing = [h for h in HEADER if h not in names]
    extra = [header[i] for i, h in enumerate(names) if h not in HEADER]
    if missing:
        problems.append(
            Problem(file, header_line, "header", f"missing column(s): {', '.join(missing)}")
        )
    if extra:
        problems.append(
            Problem(file, header_line, "header", f"unexpected column(s): {', '.join(extra)}")
        )
    if problems:
        raise CaseError(problems)
    if names != list(HEADER):
        problems.append(
            Problem(
                file,
                header_line,
                "header",
                f"columns must be in the order {','.join(h.title() for h in HEADER)}",
            )
        )
        raise CaseError(problems)
    if len(rows) < 2:
        raise CaseError([Problem(file, header_line, "(file)", "no actor rows after the header")])

    actors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, fields in rows[1:]:
        name = actor_row(fields, len(HEADER), (file, line), seen, problems)
        if name is None:
            continue
        capability = read_number(fields[1], file, line, "Capability", problems, low=0)
        position = read_number(fields[2], file, line, "Position", problems)
        salience = read_number(fields[3], file, line, "Salience", problems, low=0, high=1)
        actors.append(
            {
                "id": name,
                "name": name,
                "capability": capability,
                "stances": {"issue": {"position": position, "salience": salience}},
            }
        )
    if problems:
        raise CaseError(problems)
    positions = [a["stances"]["issue"]["position"] for a in actors]
    low, high = min(positions), max(positions)
    if math.isclose(low, high):
        low, high = low - 0.5, high + 0.5  # a degenerate scale is widened to stay a scale
    stem = Path(file).stem
    return {
        "id": stem,
        "title": f"{stem} (BDM table)",
        "source": file,
        "issues": [{"id": "issue", "label": "Position", "range": [low, high]}],
        "actors": actors,
    }
