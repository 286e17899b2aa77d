"""Disk faults: a file system filled up by one runaway file, as a log left at debug level does.

The file is written on the host (a container of the stack) until the file system refuses more
(`No space left on device`), with text lines so that it compresses as a real log would. The
fault is in effect while the file system has less than `min_free` bytes available; a runbook
ends it by freeing space in any way (deleting, compressing elsewhere, truncating). Rollback
removes the file if it is still there. Meant for small file systems (a sized tmpfs): filling a
large disk would take long and hurt the machine, so the folder's size is checked first.
"""

from __future__ import annotations

import shlex

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, outcome, owned_host
from harness.stack.host import Host
from harness.stack.stack import Stack

COMMAND_TIMEOUT = 60.0
DEFAULT_MIN_FREE = 64 * 1024  # bytes: below this, the disk counts as full
MAX_FILL_BYTES = 256 * 1024**2  # refuse to fill a file system larger than this
DEFAULT_LINE = '{"level":"debug","event":"cache_probe","component":"debug","context":{"hit":false}}'


class DiskFilled(Fault):
    """The file system holding `path` (on `host`) filled by writing `path` until it is full."""

    name = "disk-filled"

    def __init__(self, stack: Stack, host: Host, path: str, *, line: str = DEFAULT_LINE,
                 min_free: int = DEFAULT_MIN_FREE, max_size: int = MAX_FILL_BYTES,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        if not path.startswith("/") or path.endswith("/") or "/../" in f"{path}/":
            raise BadInput(f"{path!r}: the file that fills the disk needs a plain absolute path")
        if "\n" in line or not line:
            raise BadInput("the filler line must be one non-empty line")
        self.stack, self.host, self.path = stack, host, path
        self.folder = path.rsplit("/", 1)[0] or "/"
        self.line, self.min_free, self.max_size = line, min_free, max_size
        self._filled = ""

    def describe(self) -> str:
        return f"{self.folder} on {self.host.name} filled by {self.path}"

    def _df(self, column: str) -> int:
        owned_host(self.stack, self.host)
        result = self.host.exec(f"df -B1 --output={column} {shlex.quote(self.folder)} | tail -n 1",
                                timeout=COMMAND_TIMEOUT)
        try:
            return int(result.stdout.strip())
        except ValueError:
            raise FaultError(f"{self.host.name}: cannot read the free space of {self.folder} "
                             f"({outcome(result)})") from None

    def prepare(self) -> None:
        owned_host(self.stack, self.host)
        size = self._df("size")
        if size > self.max_size:
            raise BadInput(f"{self.folder} on {self.host.name} is {size // 1024**2} MiB: filling it would take "
                           f"long and hurt the machine (at most {self.max_size // 1024**2} MiB); give the folder a "
                           "small file system of its own (a sized tmpfs)")

    def inject(self) -> None:
        owned_host(self.stack, self.host)
        path = shlex.quote(self.path)
        # `yes` stops at the first refused write; its failure is the point, so only df decides.
        command = f"yes {shlex.quote(self.line)} >> {path} 2>/dev/null; sync; ls -l {path}"
        result = self.host.exec(command, timeout=COMMAND_TIMEOUT)
        self._filled = outcome(result)

    def injected_detail(self) -> str:
        return f"{self.describe()} ({self._filled})"

    def verify(self) -> str:
        free = self._df("avail")
        if free >= self.min_free:
            raise FaultNotEffective(f"{self.describe()}: {free} bytes are still free (wanted under {self.min_free})")
        return f"df: {free} bytes available on {self.folder} on {self.host.name}"

    def is_active(self) -> bool:
        return self._df("avail") < self.min_free

    def restore(self) -> None:
        owned_host(self.stack, self.host)
        result = self.host.exec(f"rm -f -- {shlex.quote(self.path)}", timeout=COMMAND_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: cannot remove {self.path} ({outcome(result)})")

    def ended_detail(self) -> str:
        return f"{self.describe()}: space had been freed when the harness came to roll back"
