"""The folder of cases the web workspace serves, and the only code that touches its files.

A case is named by an id: the stem of a `.yaml`/`.yml` case file directly in the workspace folder,
or a built-in case id (read-only; a workspace file of the same stem hides it). The folder's
observation and resolution files (`standoff.case.kinds` tells the three kinds apart) are not
cases: `files` lists them, directly in the folder or in its `observations/` and `resolutions/`
folders, each with the case it is of, so that they are shown beside it. Ids are checked
against a strict pattern and looked up in the listing, so no path is ever built from a request:
a name like `../etc/passwd` is simply not a case. Each path is resolved and must lie inside the
folder (a symbolic link that leads out is refused).

A case text has a version: the SHA-256 of its bytes. Reading gives the text with its version;
saving may name the version it was made from (`base`), and is refused (409) when the file has
changed since. Saves of one case are serialized by a lock in this process, and saves of the
folder by a file lock on `.standoff-history/`, so two servers over one folder also take turns.
Each save keeps the text it replaces in `.standoff-history/` (a name that exists is never
reused) before it writes the new text to a temporary file beside the case and renames it over
the case (`os.replace`), so the file is never half-written and every text a save was told was
saved is either the case's file or a file of the history. `.standoff-history` must be a folder
inside the workspace: a symbolic link or a file of that name is refused, and nothing is written.

A new case (`create`) is written under an id no file of the folder has (in any letter case) and
no built-in case has, with the same care as a save, and never over a file: its name is taken by
a hard link, which fails where the name exists (409), so two creations of one id cannot both win.

A file is checked for its size before it is read: one over MAX_CASE_BYTES is refused (413)
without reading it. A failure of the disk is named (the disk is full, the folder is read-only)
with a status that says it, never as a bare exception.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from .disk import (
    HISTORY,
    LOCK_SECONDS,
    MAX_CASE_BYTES,
    WorkspaceError,
    busy,
    file_lock,
    keep,
    os_problem,
    read_bytes,
    refuse_large,
    write_atomic,
    write_new,
)
from .texts import (
    SURROGATE,
    SURROGATE_ESCAPE,
    case_and_date,
    surrogate_problems,
    version_of,
    visible,
)

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CaseFile:
    """A case the workspace can open: its id, its file, and whether it may be written."""

    id: str
    path: Path
    builtin: bool

    @property
    def writable(self) -> bool:
        return not self.builtin


@dataclass(frozen=True)
class OtherFile:
    """An observation or resolution file of the workspace: its name relative to the folder, its
    kind (`kinds.OBSERVATIONS` or `kinds.RESOLUTIONS`), the case it names (its `case:` key, else
    the stem of `observations/ID.yaml` or `resolutions/ID.yaml`; None when it names none), and
    its date (`as_of` of observations, `resolved` of resolutions; "" when it gives none)."""

    name: str
    path: Path
    kind: str
    case: str | None
    date: str


@dataclass(frozen=True)
class CaseText:
    """A case's text as read: the text, its version, and the file's identity when it was read
    (device, inode, size, modification and change times), which a cache may key on."""

    text: str
    version: str
    stamp: tuple[int, ...]


@dataclass(frozen=True)
class Saved:
    """A save: the file written, the kept previous text (relative to the folder) and the
    version of the new text."""

    file: str
    kept: str
    version: str


def stamp_of(info: os.stat_result) -> tuple[int, ...]:
    """What tells one state of a file from another without reading it."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class Workspace:
    """The cases in `folder` plus the built-in ones (when `builtins` is true)."""

    def __init__(self, folder: Path, builtins: bool = True):
        self.folder = folder.resolve()
        self.builtins = builtins
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._kinds: dict[Path, tuple[tuple[int, ...], str, str | None, str]] = {}

    def _yaml_files(self, folder: Path) -> list[Path]:
        """The `.yaml`/`.yml` files directly in `folder` whose stem is an id, sorted."""
        if not folder.is_dir():
            return []
        try:
            paths = sorted(folder.iterdir())
        except OSError as e:
            raise os_problem(e, f"cannot list the folder {folder}") from None
        return [p for p in paths if p.suffix.lower() in SUFFIXES and ID.match(p.stem)]

    def _kind(self, path: Path) -> tuple[str, str | None, str]:
        """What a file is (`standoff.case.kinds.file_kind`), the case its `case:` key names and
        its date; kept while the file's size, times and inode stay the same, since every request
        lists the folder."""
        from ..case.kinds import CASE, file_kind

        try:
            stamp = stamp_of(path.stat())
        except OSError:
            return CASE, None, ""
        kept = self._kinds.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1:]
        kind = file_kind(path) if stamp[2] <= MAX_CASE_BYTES else CASE
        named, date = None, ""
        if kind != CASE:
            named, date = case_and_date(path, kind)
        self._kinds[path] = (stamp, kind, named, date)
        return kind, named, date

    def cases(self) -> dict[str, CaseFile]:
        """Every case by id, workspace files first, then the built-in cases they do not hide.
        Observation and resolution files are not cases (see `files`)."""
        from ..case.kinds import CASE

        found: dict[str, CaseFile] = {}
        for path in self._yaml_files(self.folder):
            if self._inside(path) and self._kind(path)[0] == CASE:
                found.setdefault(path.stem, CaseFile(path.stem, path, builtin=False))
        if self.builtins:
            from ..case import builtin_cases

            for ident, path in builtin_cases().items():
                found.setdefault(ident, CaseFile(ident, path, builtin=True))
        return found

    def files(self) -> list[OtherFile]:
        """The observation and resolution files of the folder: those directly in it, and those
        in its `observations/` and `resolutions/` folders (the library's layout, where a file's
        stem is its case's id when it has no `case:` key)."""
        from ..case.kinds import CASE, OBSERVATIONS, RESOLUTIONS

        out: list[OtherFile] = []
        for path in self._yaml_files(self.folder):
            if not self._inside(path):
                continue
            kind, named, date = self._kind(path)
            if kind != CASE:
                out.append(OtherFile(path.name, path, kind, named, date))
        for sub in (OBSERVATIONS, RESOLUTIONS):
            folder = self.folder / sub
            if folder.is_symlink():
                continue
            for path in self._yaml_files(folder):
                if path.is_symlink() or not path.is_file():
                    continue
                kind, named, date = self._kind(path)
                if kind == CASE:  # a case file kept there is not one of these
                    continue
                out.append(OtherFile(f"{sub}/{path.name}", path, kind, named or path.stem, date))
        return out

    def taken(self, ident: str) -> str | None:
        """What already holds the id `ident` (a file of the folder whose stem is the id in any
        letter case, or a built-in case), in words; None when it is free."""
        if self.builtins:
            from ..case import builtin_cases

            if ident.lower() in {i.lower() for i in builtin_cases()}:
                return f"{ident} is the id of a built-in case"
        if self.folder.is_dir():
            try:
                names = list(self.folder.iterdir())
            except OSError as e:
                raise os_problem(e, f"cannot list the folder {self.folder}") from None
            for path in names:
                if path.stem.lower() == ident.lower() and path.suffix.lower() in SUFFIXES:
                    return f"{ident} is taken by the file {path.name} of the workspace"
        return None

    def create(self, ident: str, text: str) -> Saved:
        """Write a new case `ident`.yaml into the folder: refused (409) when the id is taken (see
        `taken`) or the name appears meanwhile; nothing is ever written over a file. The caller
        has checked the text."""
        if not ID.match(ident):
            raise WorkspaceError(
                422,
                f"{ident[:60]!r} cannot be a case id: use letters, digits, '.', '_' and '-' "
                "(at most 128, starting with a letter or digit)",
            )
        data = _case_bytes(ident, text)
        if (why := self.taken(ident)) is not None:
            raise WorkspaceError(409, f"{why}; choose another id")
        if not self.folder.is_dir():
            raise WorkspaceError(404, f"the workspace folder {self.folder} does not exist")
        target = self.folder / f"{ident}.yaml"
        try:
            write_new(target, data)
        except FileExistsError:
            raise WorkspaceError(
                409, f"{target.name} was made meanwhile; choose another id"
            ) from None
        except OSError as e:
            raise os_problem(e, f"{ident}: cannot write the file") from None
        return Saved(target.name, "", version_of(data))

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

    def _checked(self, ident: str) -> CaseFile:
        case = self.get(ident)
        if not case.builtin and not self._inside(case.path):
            raise WorkspaceError(403, f"{ident}: the file lies outside the workspace folder")
        return case

    def stamp(self, ident: str) -> tuple[CaseFile, tuple[int, ...]]:
        """The case and its file's identity now (see CaseText), without reading it; a file
        larger than MAX_CASE_BYTES is refused here (413)."""
        case = self._checked(ident)
        try:
            info = case.path.stat()
        except OSError as e:
            raise os_problem(e, f"{ident}: cannot read") from None
        refuse_large(ident, info.st_size)
        return case, stamp_of(info)

    def read(self, ident: str) -> str:
        """The text of a case (UTF-8)."""
        return self.read_text(ident).text

    def read_text(self, ident: str) -> CaseText:
        """The text of a case (UTF-8; a byte that is not is shown as U+FFFD) with its version.
        A file over MAX_CASE_BYTES is refused (413) without being read."""
        case = self._checked(ident)
        raw, info = read_bytes(case.path, ident)
        text = raw.decode("utf-8-sig", errors="replace")
        return CaseText(text, version_of(raw), stamp_of(info))

    def _lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(name, threading.Lock())

    def save(self, ident: str, text: str, base: str | Collection[str] | None = None) -> Saved:
        """Replace a workspace case's text atomically, keeping the previous text in
        `.standoff-history/ID.TIMESTAMP.yaml`. The caller has checked the text. `base`: the
        version the new text was made from (or the versions it may be); when the file's version
        is another, nothing is written and WorkspaceError(409) says so. None: no such check."""
        case = self._checked(ident)
        if case.builtin:
            raise WorkspaceError(
                403, f"{ident} is a built-in case and read-only; copy it into the workspace folder"
            )
        data = _case_bytes(ident, text)
        lock = self._lock(case.path.name)
        if not lock.acquire(timeout=LOCK_SECONDS):
            raise busy(ident)
        try:
            history = self._history()
            try:
                with file_lock(history, ident):
                    current, _ = read_bytes(case.path, ident)
                    bases = {base} if isinstance(base, str) else base
                    if bases is not None and version_of(current) not in bases:
                        raise WorkspaceError(
                            409,
                            f"{case.path.name} has changed since this text was opened (another "
                            "save came first); reload it, apply your changes again and save",
                        )
                    kept = keep(history, case.path, current)
                    try:
                        write_atomic(case.path, data)
                    except OSError as e:
                        raise os_problem(e, f"{ident}: cannot write the file") from None
            finally:
                os.close(history)
        finally:
            lock.release()
        return Saved(case.path.name, f"{HISTORY}/{kept}", version_of(data))

    def _history(self) -> int:
        """An open descriptor of `.standoff-history/` (made when missing), which must be a
        folder of the workspace: a symbolic link or a file of that name is refused."""
        path = self.folder / HISTORY
        doing = f"cannot keep the previous version in {HISTORY}"
        try:
            try:
                os.mkdir(path, 0o755)
            except FileExistsError:
                pass
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise WorkspaceError(
                    500,
                    f"{doing}: {HISTORY} is a symbolic link, and previous versions are kept only "
                    "inside the workspace folder; replace the link by a folder",
                )
            if not stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(
                    500, f"{doing}: {HISTORY} is a file, not a folder; move it away"
                )
            flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
            return os.open(path, flags)
        except OSError as e:
            raise os_problem(e, doing) from None

    def history(self, ident: str) -> list[Path]:
        """The kept previous versions of a workspace case, oldest first."""
        case = self.get(ident)
        folder = self.folder / HISTORY
        if case.builtin or folder.is_symlink() or not folder.is_dir():
            return []
        return sorted(folder.glob(f"{case.path.stem}.*{case.path.suffix}"))


__all__ = [
    "HISTORY",
    "ID",
    "LOCK_SECONDS",
    "MAX_CASE_BYTES",
    "SUFFIXES",
    "SURROGATE",
    "SURROGATE_ESCAPE",
    "CaseFile",
    "CaseText",
    "OtherFile",
    "Saved",
    "Workspace",
    "WorkspaceError",
    "os_problem",
    "stamp_of",
    "surrogate_problems",
    "version_of",
    "visible",
]


def _case_bytes(ident: str, text: str) -> bytes:
    """A case's text as the bytes to write: refused (422) where it holds a lone surrogate, which
    UTF-8 cannot carry, and (413) where it is over MAX_CASE_BYTES."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise WorkspaceError(422, f"{ident}: the text holds a lone surrogate") from None
    if len(data) > MAX_CASE_BYTES:
        raise WorkspaceError(413, f"the case is larger than {MAX_CASE_BYTES:,} bytes")
    return data
