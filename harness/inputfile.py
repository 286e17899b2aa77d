"""Reading an input file a person names (a runbook, a stack definition, an exercise) without hanging
or filling the memory: only a regular file is read, opened without blocking, and at most `limit`
bytes (plus one, to tell "too large").

A FIFO in place of the file would block `open()` until a writer came, and `/dev/zero` or
`/dev/urandom` would never end; both are refused before anything is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotARegularFile(OSError):
    """The path names a FIFO, a device, a socket or a folder: what it is is in `kind` and `strerror`."""

    def __init__(self, path: Path | str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"is {kind}, not a regular file", str(path))
        self.kind = kind


def kind_of(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def _open(path: Path | str) -> int:
    """Open for reading without blocking (a FIFO opens at once, with no writer); a socket, which
    cannot be opened at all (ENXIO), is told as what it is."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise NotARegularFile(path, kind_of(os.stat(path).st_mode)) from None
        raise


def read_regular(path: Path | str, limit: int) -> bytes:
    """At most `limit + 1` bytes of the regular file at `path` (the caller compares with `limit`).

    OSError as `open()` raises it (FileNotFoundError, PermissionError, ...), IsADirectoryError for a
    folder, NotARegularFile for anything else that is not a regular file."""
    fd = _open(path)
    try:
        mode = os.fstat(fd).st_mode  # of what was opened: no window between a check and the open
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        if not stat.S_ISREG(mode):
            raise NotARegularFile(path, kind_of(mode))
        os.set_blocking(fd, True)
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def require_regular(path: Path | str) -> None:
    """Nothing when `path` is a regular file or does not exist (its reader says so); NotARegularFile
    or IsADirectoryError otherwise. Opens without blocking, so a FIFO is told at once."""
    try:
        fd = _open(path)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
    finally:
        os.close(fd)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, kind_of(mode))
