"""The folder of cases the web workspace serves, and the only code that touches its files.

A case is named by an id: the stem of a `.yaml`/`.yml` file directly in the workspace folder, or
a built-in case id (read-only; a workspace file of the same stem hides it). Ids are checked
against a strict pattern and looked up in the listing, so no path is ever built from a request:
a name like `../etc/passwd` is simply not a case. Each path is resolved and must lie inside the
folder (a symbolic link that leads out is refused).

Saving writes a temporary file beside the case and renames it over the case (`os.replace`), so
the file is never half-written; the previous text is kept in `.standoff-history/` first.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SUFFIXES = (".yaml", ".yml")
HISTORY = ".standoff-history"
MAX_CASE_BYTES = 1_000_000  # a case text the workspace reads or writes


class WorkspaceError(Exception):
    """A request for a file the workspace does not serve. `status`: the HTTP status it means
    (404 unknown case, 403 read-only or outside the folder, 413 too large)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class CaseFile:
    """A case the workspace can open: its id, its file, and whether it may be written."""

    id: str
    path: Path
    builtin: bool

    @property
    def writable(self) -> bool:
        return not self.builtin


class Workspace:
    """The cases in `folder` plus the built-in ones (when `builtins` is true)."""

    def __init__(self, folder: Path, builtins: bool = True):
        self.folder = folder.resolve()
        self.builtins = builtins

    def cases(self) -> dict[str, CaseFile]:
        """Every case by id, workspace files first, then the built-in cases they do not hide."""
        found: dict[str, CaseFile] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.suffix.lower() in SUFFIXES and ID.match(path.stem) and self._inside(path):
                    found.setdefault(path.stem, CaseFile(path.stem, path, builtin=False))
        if self.builtins:
            from ..case import builtin_cases

            for ident, path in builtin_cases().items():
                found.setdefault(ident, CaseFile(ident, path, builtin=True))
        return found

    def _inside(self, path: Path) -> bool:
        try:
            resolved = path.resolve()
        except OSError:
            return False
        return resolved.parent == self.folder and resolved.is_file()

    def get(self, ident: str) -> CaseFile:
        """The case named `ident`, or WorkspaceError(404)."""
        if not ID.match(ident):
            raise WorkspaceError(404, f"no case {ident!r} in this workspace")
        found = self.cases().get(ident)
        if found is None:
            raise WorkspaceError(404, f"no case {ident!r} in this workspace")
        return found

    def read(self, ident: str) -> str:
        """The text of a case (UTF-8)."""
        case = self.get(ident)
        if not case.builtin and not self._inside(case.path):
            raise WorkspaceError(403, f"{ident}: the file lies outside the workspace folder")
        try:
            raw = case.path.read_bytes()
        except OSError as e:
            raise WorkspaceError(404, f"{ident}: cannot read: {e.strerror or e}") from None
        if len(raw) > MAX_CASE_BYTES:
            raise WorkspaceError(413, f"{ident}: larger than {MAX_CASE_BYTES:,} bytes")
        return raw.decode("utf-8-sig", errors="replace")

    def save(self, ident: str, text: str) -> Path:
        """Replace a workspace case's text atomically, keeping the previous text in
        `.standoff-history/ID.TIMESTAMP.yaml`. The caller has checked the text. Returns the
        path of the kept previous version."""
        case = self.get(ident)
        if case.builtin:
            raise WorkspaceError(
                403, f"{ident} is a built-in case and read-only; copy it into the workspace folder"
            )
        if not self._inside(case.path):
            raise WorkspaceError(403, f"{ident}: the file lies outside the workspace folder")
        data = text.encode("utf-8")
        if len(data) > MAX_CASE_BYTES:
            raise WorkspaceError(413, f"the case is larger than {MAX_CASE_BYTES:,} bytes")
        history = self.folder / HISTORY
        history.mkdir(exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        kept = history / f"{case.path.stem}.{stamp}{case.path.suffix}"
        _write_atomic(kept, case.path.read_bytes())
        _write_atomic(case.path, data)
        return kept

    def history(self, ident: str) -> list[Path]:
        """The kept previous versions of a workspace case, oldest first."""
        case = self.get(ident)
        folder = self.folder / HISTORY
        if case.builtin or not folder.is_dir():
            return []
        return sorted(folder.glob(f"{case.path.stem}.*{case.path.suffix}"))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file in the same folder, flush it to disk, then rename it over
    `path`: a reader sees the old file or the new one, never a part."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
