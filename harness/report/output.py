"""Where reports may be written, and how: atomically, only inside the output folder, never through a link.

Every report file is rendered in memory first; then each is written to a temporary file in the
same folder and renamed over its destination, so a crash never leaves a half-written report and a
reader sees the old file or the new one. A destination that is a symbolic link, a FIFO, a folder or
anything else but a regular file is refused (ReportOutputError, exit 2) before any file is written:
the harness never writes through a link someone planted, and never opens a FIFO that would block.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from harness.errors import BadInput

MAX_NAME_BYTES = 255  # a file name, on every file system the harness meets
REPORTS_MARKER = ".gameday-reports"  # in a reports root the harness made: the history index may be written there
MARKER_TEXT = ("This folder is a gameday-harness reports root: `gameday run` and `pytest drills/` write a folder "
               "per gameday here, and `gameday report` may refresh index.html in it.\n")


class ReportOutputError(BadInput):
    """A report cannot be written where it was asked to go (not a folder, read-only, a link in the way)."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {message}")


def prepare_folder(folder: Path, *, create: bool = True) -> None:
    """Make sure `folder` is a folder reports can go into: created (with its parents) when missing and
    `create`; ReportOutputError when it is a file, a FIFO or anything else, or cannot be made."""
    try:
        mode = folder.stat().st_mode
    except FileNotFoundError:
        if not create:
            raise ReportOutputError(folder, "no such folder") from None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportOutputError(folder, f"cannot create the reports folder ({exc.strerror or exc}); "
                                    "give --out a folder you can write") from None
        return
    except OSError as exc:
        raise ReportOutputError(folder, f"cannot be used as the reports folder ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode):
        raise ReportOutputError(folder, "not a folder; give a folder for the reports")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportOutputError(folder, "the folder is not writable; give a folder you can write")


def check_destination(path: Path) -> None:
    """Refuse a destination that exists and is not a regular file (a symlink above all)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ReportOutputError(path, f"cannot be checked ({exc.strerror or exc})") from None
    if stat.S_ISLNK(mode):
        raise ReportOutputError(path, "is a symbolic link; the harness never writes through one (remove it, "
                                "or give another --out folder)")
    if not stat.S_ISREG(mode):
        raise ReportOutputError(path, "exists and is not a regular file (a folder, FIFO, socket or device); "
                                "remove it or give another --out folder")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename it into place."""
    check_destination(path)
    data = text.encode("utf-8", "replace")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ReportOutputError(path.parent, f"cannot write a report here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        check_destination(path)  # once more, right before the rename (which replaces a link, never follows it)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ReportOutputError(path, f"cannot be written ({exc.strerror or exc})") from None
        raise


def write_all(files: Mapping[Path, str]) -> list[Path]:
    """Write every file (already rendered) atomically, after checking every destination first."""
    for path in files:
        check_destination(path)
    written = []
    for path, text in files.items():
        write_atomic(path, text)
        written.append(path)
    return written


def is_reports_root(folder: Path) -> bool:
    """A folder the harness made as a reports root: it holds the marker, as a regular file."""
    try:
        return stat.S_ISREG(os.lstat(folder / REPORTS_MARKER).st_mode) and folder.is_dir()
    except OSError:
        return False


def mark_reports_root(folder: Path) -> None:
    """Mark `folder` as a reports root of the harness (idempotent)."""
    if not is_reports_root(folder):
        write_atomic(folder / REPORTS_MARKER, MARKER_TEXT)
