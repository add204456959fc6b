"""The workspace's disk: reads of a case file checked for size first, and writes that never
leave a file half-written (a temporary file renamed over the case, a new case linked to its
name), each previous text kept in the history folder under a file lock, and every failure of the
file system named with the status it means (`WorkspaceError`)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the lock in this process only
    fcntl = None  # type: ignore[assignment]

HISTORY = ".standoff-history"
MAX_CASE_BYTES = 1_000_000  # a case text the workspace reads or writes
LOCK_SECONDS = 10.0  # the longest a save waits for another save of the same case


class WorkspaceError(Exception):
    """A request for a file the workspace does not serve or cannot write. `status`: the HTTP
    status it means (404 unknown case, 403 read-only or outside the folder, 409 changed since it
    was read, 413 too large, 507 the disk is full, 500 the folder is not as it must be)."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def os_problem(e: OSError, doing: str) -> WorkspaceError:
    """A failure of the file system as a WorkspaceError that names its cause and its errno:
    507 for a full disk, 403 for a read-only folder, 404 for a missing file, 500 otherwise."""
    code = e.errno or 0
    name = errno.errorcode.get(code, "")
    cause = e.strerror or str(e) or type(e).__name__
    if code in (errno.ENOSPC, errno.EDQUOT):
        status, cause = 507, "the disk is full"
    elif code == errno.EROFS:
        status, cause = 403, "the folder is read-only (a read-only file system)"
    elif code in (errno.EACCES, errno.EPERM):
        status, cause = 403, "the folder is read-only to this server (permission denied)"
    elif code == errno.ENOENT:
        status, cause = 404, "no such file"
    else:
        status = 500
    return WorkspaceError(status, f"{doing}: {cause}" + (f" ({name})" if name else ""))


def refuse_large(ident: str, size: int) -> None:
    if size > MAX_CASE_BYTES:
        raise WorkspaceError(
            413, f"{ident}: the file is larger than {MAX_CASE_BYTES:,} bytes ({size:,}); not read"
        )


def read_bytes(path: Path, ident: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most MAX_CASE_BYTES, and its state as they were read;
    its size is checked before anything is read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise os_problem(e, f"{ident}: cannot read") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise WorkspaceError(403, f"{ident}: not a regular file")
        refuse_large(ident, info.st_size)
        try:
            raw = f.read(MAX_CASE_BYTES + 1)
        except OSError as e:
            raise os_problem(e, f"{ident}: cannot read") from None
    refuse_large(ident, len(raw))
    return raw, info


def busy(ident: str) -> WorkspaceError:
    return WorkspaceError(
        503, f"another save of {ident} has not finished in {LOCK_SECONDS:g} s; try again"
    )


@contextmanager
def file_lock(folder: int, ident: str) -> Iterator[None]:
    """An exclusive lock on the open history folder `folder` (its own descriptor, so that
    another save, of this process or another, waits its turn; at most LOCK_SECONDS), held for
    the block. Nothing is written for it."""
    if fcntl is not None:
        until = time.monotonic() + LOCK_SECONDS
        while True:
            try:
                fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > until:
                    raise busy(ident) from None
                time.sleep(0.01)
            except OSError as e:
                raise os_problem(e, f"{ident}: cannot lock {HISTORY} for saving") from None
    try:
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(folder, fcntl.LOCK_UN)


def keep(folder: int, case: Path, data: bytes) -> str:
    """Write `data` into the open history folder as `STEM.TIMESTAMP.SUFFIX` (`-2`, `-3`, ...
    added when that name exists, so no kept text is ever replaced); the name."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    temp = f".{case.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    doing = f"cannot keep the previous version in {HISTORY}"
    try:
        fd = os.open(temp, flags, 0o644, dir_fd=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            for n in range(1, 10_000):
                name = f"{case.stem}.{stamp}{'' if n == 1 else f'-{n}'}{case.suffix}"
                try:
                    os.stat(name, dir_fd=folder, follow_symlinks=False)
                except FileNotFoundError:
                    os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
                    sync_folder(folder)
                    return name
            raise WorkspaceError(500, f"{doing}: too many versions kept at {stamp}")
        finally:
            try:
                os.unlink(temp, dir_fd=folder)
            except FileNotFoundError:
                pass
    except OSError as e:
        raise os_problem(e, doing) from None


def sync_folder(folder: int) -> None:
    """Flush a folder's entries to disk (where the file system allows it)."""
    try:
        os.fsync(folder)
    except OSError:
        pass


def write_new(path: Path, data: bytes) -> None:
    """Write `data` as the new file `path`, never over one (FileExistsError where it exists): a
    temporary file in the same folder, flushed to disk, then linked to its name (a hard link
    fails where the name exists). Where the file system has no hard links, the name is created
    exclusively (O_EXCL) and written."""
    temp = _temp_beside(path, data)
    try:
        os.chmod(temp, 0o644)
        try:
            os.link(temp, path)
        except FileExistsError:
            raise
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(path, flags, 0o644), "wb") as f:
                _durable(f, data)
    finally:
        Path(temp).unlink(missing_ok=True)
    sync_path_folder(path.parent)


def _durable(f: BinaryIO, data: bytes) -> None:
    """Write `data` to an open file and flush it to disk."""
    f.write(data)
    f.flush()
    os.fsync(f.fileno())


def _temp_beside(path: Path, data: bytes) -> str:
    """The name of a new temporary file in `path`'s folder holding `data`, flushed to disk."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            _durable(f, data)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def sync_path_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (where the file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        sync_folder(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file in the same folder, flush it to disk, then rename it over
    `path`: a reader sees the old file or the new one, never a part."""
    temp = _temp_beside(path, data)
    try:
        if path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
