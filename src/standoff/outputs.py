"""Writing output files: one rule for every command that writes (forecast --json/--report,
settle/sensitivity/ablate/baserates --json, backtest --predictions, ledger plot --out).

- An output never replaces an input of the command: a path that resolves (symlinks, `..`, `./`,
  relative or absolute spellings, hard links) to an input file is refused. Each command names
  every file it reads in one list (the case and the file it resolved to, observations, training
  data, the ICB tables (`outside.icb.files`), the ledger's SQLite file and its journals
  (`ledger.location.ledger_files`))
  and checks every output against that list before any work is done.
- The folder an output goes into must exist: it is never created (except the Markdown report's
  own `<stem>_figures/` folder, beside the report).
- Writes are atomic: the text goes to a temporary file in the same folder, which replaces the
  target with `os.replace`; on any failure the temporary file is removed and the target is left
  as it was.
- Every problem is an `OutputError` whose text is `PATH: reason`; the CLI prints it as
  `error: PATH: reason` and exits with status 2.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path


class OutputError(Exception):
    """An output that cannot be written, as `PATH: reason`."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether two paths name one file, however spelled (links, `..`, hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check(path: Path, inputs: Iterable[Path | str] = (), what: str = "") -> None:
    """Refuse an output path that is an input, a folder, or in a folder that does not exist."""
    path = Path(path)
    for given in inputs:
        if given is None:
            continue
        if same_file(path, Path(given)):
            raise OutputError(path, f"refusing to overwrite an input of this command ({given})")
    if path.name in ("", ".", ".."):
        raise OutputError(path, "is a directory, not a file")
    if os.path.isdir(path):
        raise OutputError(path, "is a directory, not a file")
    folder = path.parent
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise OutputError(path, f"{folder} is not a folder")
        raise OutputError(path, f"folder {folder} does not exist (create it first)")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise OutputError(path, "exists and is not a regular file")


def _reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def write_text(path: Path, text: str, inputs: Iterable[Path | str] = ()) -> None:
    """Write `text` (UTF-8) to `path` atomically, after `check`."""
    write_bytes(path, text.encode("utf-8", errors="backslashreplace"), inputs)


def write_bytes(path: Path, data: bytes, inputs: Iterable[Path | str] = ()) -> None:
    """Write `data` to `path` atomically, after `check`."""
    path = Path(path)
    inputs = list(inputs)
    check(path, inputs)
    target = Path(os.path.realpath(path)) if os.path.islink(path) else path
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual mode
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise OutputError(path, _reason(e)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def figures_folder(report: Path) -> Path:
    """The folder of a Markdown report's figures: `<stem>_figures/` beside it."""
    return report.parent / f"{report.stem}_figures"


def check_folder(folder: Path, names: Iterable[str], inputs: Iterable[Path | str] = ()) -> None:
    """Refuse a figures folder whose name is taken by something that is not a folder, or whose
    files would replace an input."""
    inputs = list(inputs)
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise OutputError(folder, "the figures folder's name is taken by a file; move it away")
    for given in inputs:
        if given is not None and same_file(folder, Path(given)):
            raise OutputError(folder, f"refusing to overwrite an input of this command ({given})")
    if os.path.isdir(folder):
        for name in names:
            check(folder / name, inputs)


def write_files(
    folder: Path, files: Mapping[str, str], inputs: Iterable[Path | str] = ()
) -> list[Path]:
    """Write each file into `folder` (created if missing; its parent must exist). On failure,
    the files written here and a folder made here are removed again."""
    inputs = list(inputs)
    check_folder(folder, files, inputs)
    if not os.path.isdir(folder.parent):
        raise OutputError(folder, f"folder {folder.parent} does not exist (create it first)")
    made = False
    written: list[Path] = []
    try:
        if not os.path.isdir(folder):
            try:
                os.mkdir(folder)
            except OSError as e:
                raise OutputError(folder, _reason(e)) from None
            made = True
        for name, text in files.items():
            target = folder / name
            existed = os.path.lexists(target)
            write_text(target, text, inputs)
            if not existed:
                written.append(target)
    except OutputError:
        for target in written:
            with contextlib.suppress(OSError):
                os.unlink(target)
        if made:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    return [folder / name for name in files]
