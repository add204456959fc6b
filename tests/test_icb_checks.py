"""The ICB files are checked as they are read: a number that is not finite, not whole or out of
its column's range is refused at its line and column; a truncated or other file (too few rows, a
row cut short, a column missing) is refused with what it holds and what ICB version 14 holds.
Each works on a copy of ../shared/data/icb changed in one place; the command line says it in one
`error:` line with exit status 2."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.outside.icb import ACTOR_FILE, SYSTEM_FILE, DataError, read_crises

from .conftest import shared

runner = CliRunner()


@pytest.fixture
def icb(tmp_path: Path) -> Path:
    """A copy of the ICB folder, to change."""
    folder = tmp_path / "icb"
    folder.mkdir()
    for name in (SYSTEM_FILE, ACTOR_FILE):
        shutil.copyfile(shared("icb", name, what="ICB data"), folder / name)
    return folder


def _set_cell(path: Path, crisno: str, column: str, value: str) -> int:
    """Write `value` into `column` of the first row of crisis `crisno`; gives that row's line."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    at = rows[0].index(column)
    index = next(i for i, row in enumerate(rows) if i and row[1] == crisno)
    rows[index][at] = value
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return index + 1


def _refused(folder: Path, message: str) -> None:
    """Reading the folder raises DataError(message); `baserates` prints it as its one error line,
    exit status 2, where it would otherwise have counted the crises."""
    with pytest.raises(DataError) as raised:
        read_crises(folder)
    assert str(raised.value) == message
    result = runner.invoke(app, ["baserates", "--nuclear", "--data", str(folder)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert [x for x in result.stderr.splitlines() if x.strip()] == [f"error: {message}"]


@pytest.mark.parametrize(
    ("file", "column", "value", "problem"),
    [
        (SYSTEM_FILE, "brexit", "1e309", "'1e309' is not a whole number"),
        (SYSTEM_FILE, "brexit", "-inf", "'-inf' is not a whole number"),
        (SYSTEM_FILE, "viol", "nan", "'nan' is not a whole number"),
        (SYSTEM_FILE, "gravcr", "2.5", "'2.5' is not a whole number"),
        (SYSTEM_FILE, "geog", "east asia", "'east asia' is not a number"),
        (SYSTEM_FILE, "brexit", "1e300", "1e300 is outside 0..36525"),
        (SYSTEM_FILE, "yrtrig", "99999", "99999 is outside 1800..2100"),
        (SYSTEM_FILE, "motrig", "13", "13 is outside 1..12"),
        (SYSTEM_FILE, "mediate", "-4", "-4 is outside 0..99"),
        (ACTOR_FILE, "nuclear", "1e309", "'1e309' is not a whole number"),
        (ACTOR_FILE, "trgterra", "1e18", "1e18 is outside 0..36525"),
    ],
)  # fmt: skip
def test_a_number_that_is_not_a_code_is_refused_at_its_line(
    icb: Path, file: str, column: str, value: str, problem: str
) -> None:
    line = _set_cell(icb / file, "196", column, value)  # 196: CUBAN MISSILES
    _refused(icb, f"{icb / file}:{line}: {column}: {problem}")


def test_the_copy_unchanged_reads_as_the_release(icb: Path) -> None:
    """The checks take the release as it is (the copy is byte for byte the shared files)."""
    _set_cell(icb / SYSTEM_FILE, "196", "brexit", "13")  # rewritten through csv, same value
    crises = read_crises(icb)
    assert len(crises) == 486
    assert next(c for c in crises if c.number == 196).days == 13


@pytest.mark.parametrize(
    ("file", "keep", "rows"), [(SYSTEM_FILE, 45, 487), (ACTOR_FILE, 300, 1078)]
)
def test_a_file_cut_short_is_refused_with_its_counts(
    icb: Path, file: str, keep: int, rows: int
) -> None:
    path = icb / file
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:keep]))
    _refused(
        icb,
        f"{path}: {keep - 1} rows of 95 columns where ICB version 14 has {rows} of 95: a "
        "truncated or different file; use the release's file unchanged",
    )


def test_a_row_cut_in_the_middle_is_refused_at_its_line(icb: Path) -> None:
    path = icb / ACTOR_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 120])  # the last row loses its last cells
    lines = data.count(b"\n") + 1
    with path.open(encoding="utf-8-sig", newline="") as f:
        cells = len(list(csv.reader(f))[-1])
    _refused(
        icb,
        f"{path}:{lines}: (row): {cells} cells where the header has 95; a truncated or damaged "
        "file",
    )


def test_a_file_without_a_column_read_is_refused(icb: Path) -> None:
    path = icb / ACTOR_FILE
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text.replace(",nuclear,", ",nukes,", 1), encoding="utf-8-sig")
    _refused(icb, f"{path}:1: (header): no column nuclear; not an ICB file")
