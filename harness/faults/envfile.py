"""Configuration faults: a service's environment file edited, then the service restarted.

The file's exact bytes are read first (through the host, as base64, so nothing is lost in
transit) and written back on restore, with its mode and owner kept. Editing touches only the
KEY=VALUE lines of the keys named; every other line stays byte for byte. A restart that fails
is not an injection error: a service that cannot start is often the very fault wanted, so its
exit code and output go into the "injected" record instead.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Callable, Iterable, Mapping

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, outcome, owned_host
from harness.stack.host import Host
from harness.stack.stack import Stack

VERIFY_TIMEOUT = 20.0
RESTART_TIMEOUT = 90.0
FILE_TIMEOUT = 30.0

Proof = Callable[[], tuple[bool, str]]

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def parse_env(text: str) -> dict[str, str]:
    """The KEY=VALUE settings of an environment file, as a service reading it would see them:
    comments and blank lines skipped, `export ` allowed, one pair of quotes stripped, last wins."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line.rstrip("\r"))
        if not match:
            continue
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match.group(1)] = value
    return values


def edit_env(text: str, *, remove: Iterable[str] = (), set_values: Mapping[str, str] | None = None) -> str:
    """`text` with the lines of `remove` dropped and `set_values` written as KEY=VALUE.

    A set key replaces its first line in place (later duplicates are dropped) or is appended at
    the end. Every other line is kept exactly, line endings included.
    """
    removed, wanted = set(remove), dict(set_values or {})
    written: set[str] = set()
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = None if body.lstrip().startswith("#") else _ASSIGNMENT.match(body)
        key = match.group(1) if match else None
        if key in removed:
            continue
        if key is not None and key in wanted:
            if key not in written:
                out.append(f"{key}={wanted[key]}{line[len(body):]}")
                written.add(key)
            continue
        out.append(line)
    missing = [key for key in wanted if key not in written]
    if missing:
        if out and not out[-1].endswith(("\n", "\r")):
            out.append("\n")
        out.extend(f"{key}={wanted[key]}\n" for key in missing)
    return "".join(out)


class EnvFileChange(Fault):
    """Keys removed from or set in an environment file on `host`, then `restart_command` run.

    `proof`, when given, is polled for up to `verify_timeout` seconds (e.g. "health no longer
    answers"); without it, verification checks that the file now carries the change. The fault
    is in effect while any of its changes is still in the file: a removed key still absent, or
    a set key still holding the injected value. Restoring writes the original bytes back (if
    the file differs from them) and runs the restart command, so the service ends as it began,
    even when the runbook fixed it another way (e.g. with a new key).
    """

    name = "env-file-change"

    def __init__(self, stack: Stack, host: Host, path: str, *, remove: Iterable[str] = (),
                 set: Mapping[str, str] | None = None, restart_command: str,
                 wait_for_restart: bool = True, proof: Proof | None = None,
                 verify_timeout: float = VERIFY_TIMEOUT, restart_timeout: float = RESTART_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.remove = tuple(remove)
        self.set_values = dict(set or {})
        for key in (*self.remove, *self.set_values):
            if not _KEY.match(key):
                raise BadInput(f"{path}: {key!r} is not a variable name")
        for key, value in self.set_values.items():
            if "\n" in value or "\r" in value:
                raise BadInput(f"{path}: the value for {key} spans lines, which an environment file cannot hold")
        if not (self.remove or self.set_values):
            raise BadInput(f"{path}: an environment file change needs keys to remove or set")
        both = sorted({*self.remove} & {*self.set_values})
        if both:
            raise BadInput(f"{path}: {', '.join(both)} cannot be both removed and set")
        if not path.startswith("/"):
            raise BadInput(f"{path!r}: the environment file needs an absolute path")
        self.stack, self.host, self.path = stack, host, path
        self.restart_command, self.wait_for_restart = restart_command, wait_for_restart
        self.proof, self.verify_timeout, self.restart_timeout = proof, verify_timeout, restart_timeout
        self._original: bytes | None = None
        self._written = False
        self._changed_remove: tuple[str, ...] = ()
        self._changed_set: dict[str, str] = {}
        self._restart_outcome = "not run"

    def describe(self) -> str:
        removed, set_ = ", ".join(self.remove), ", ".join(self.set_values)
        if removed and set_:
            change = f"{removed} removed and {set_} set in"
        else:
            change = f"{removed} removed from" if removed else f"{set_} set in"
        return f"{change} {self.path} on {self.host.name}"

    # -- the file, through the host --------------------------------------------------------------

    def _read(self) -> bytes:
        owned_host(self.stack, self.host)
        result = self.host.exec(f"base64 -w0 -- {shlex.quote(self.path)}", timeout=FILE_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: cannot read {self.path} ({outcome(result)})")
        try:
            return base64.b64decode(result.stdout.strip(), validate=True)
        except binascii.Error as exc:
            raise FaultError(f"{self.host.name}: {self.path} came back garbled ({exc})") from exc

    def _write(self, data: bytes) -> None:
        """Replace the file atomically with `data`, keeping its mode and owner."""
        owned_host(self.stack, self.host)
        path = shlex.quote(self.path)
        encoded = base64.b64encode(data).decode("ascii")
        command = (f"set -e; tmp=$(mktemp {path}.gameday.XXXXXX); trap 'rm -f \"$tmp\"' EXIT; "
                   f"printf '%s' '{encoded}' | base64 -d > \"$tmp\"; "
                   f"chmod --reference={path} \"$tmp\"; chown --reference={path} \"$tmp\"; "
                   f"mv -f \"$tmp\" {path}; trap - EXIT")
        result = self.host.exec(command, timeout=FILE_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: cannot write {self.path} ({outcome(result)})")

    def _restart(self, *, wait: bool) -> str:
        owned_host(self.stack, self.host)
        if not wait:
            background = f"setsid nohup bash -c {shlex.quote(self.restart_command)} >/dev/null 2>&1 &"
            result = self.host.exec(background, timeout=FILE_TIMEOUT)
            return f"`{self.restart_command}` started in the background ({outcome(result)})"
        result = self.host.exec(self.restart_command, timeout=self.restart_timeout)
        return f"`{self.restart_command}` {outcome(result)}"

    # -- the contract ----------------------------------------------------------------------------

    def prepare(self) -> None:
        owned_host(self.stack, self.host)

    def inject(self) -> None:
        self._original = original = self._read()
        before = parse_env(_decode(original))
        self._changed_remove = tuple(key for key in self.remove if key in before)
        self._changed_set = {key: value for key, value in self.set_values.items() if before.get(key) != value}
        edited = _encode(edit_env(_decode(original), remove=self.remove, set_values=self.set_values))
        self._written = True  # from here on, restore must put the original back
        if edited != original:
            self._write(edited)
        self._restart_outcome = self._restart(wait=self.wait_for_restart)

    def injected_detail(self) -> str:
        return f"{self.describe()}; restart: {self._restart_outcome}"

    def _in_effect(self, data: bytes) -> list[str]:
        """The changes still in effect in `data`, named (never with their values)."""
        now = parse_env(_decode(data))
        still = [f"{key} absent" for key in self._changed_remove if key not in now]
        still += [f"{key} set" for key, value in self._changed_set.items() if now.get(key) == value]
        return still

    def verify(self) -> str:
        if self.proof is None:
            still = self._in_effect(self._read())
            if not still:
                raise FaultNotEffective(f"{self.describe()}: the file does not carry the change "
                                        "(it already had these settings, or something put them back)")
            return f"{self.path} on {self.host.name} now has {', '.join(still)}"
        return self.await_proof(self.proof, self.verify_timeout, also=f"; restart: {self._restart_outcome}")

    def is_active(self) -> bool:
        return bool(self._in_effect(self._read()))

    def restore(self) -> None:
        if not self._written or self._original is None:
            return  # inject never got as far as changing anything
        if self._read() != self._original:
            self._write(self._original)
        owned_host(self.stack, self.host)
        restarted = self.host.exec(self.restart_command, timeout=self.restart_timeout)
        if not restarted.ok:
            raise FaultError(f"{self.host.name}: the original {self.path} is back, but `{self.restart_command}` "
                             f"failed ({outcome(restarted)})")

    def ended_detail(self) -> str:
        return (f"{self.describe()}: the change was no longer in the file when the harness came to roll back; "
                f"the original content is back and the service was restarted")


class ConfigSwitch(EnvFileChange):
    """One configuration switch flipped in an environment file (e.g. a test mode that turns
    log redaction off), then the service restarted. The value is shown in reports: a switch,
    not a secret."""

    name = "config-switch"

    def __init__(self, stack: Stack, host: Host, path: str, key: str, value: str, restart_command: str,
                 proof: Proof | None = None, *, wait_for_restart: bool = True,
                 verify_timeout: float = VERIFY_TIMEOUT, restart_timeout: float = RESTART_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(stack, host, path, set={key: value}, restart_command=restart_command,
                         wait_for_restart=wait_for_restart, proof=proof, verify_timeout=verify_timeout,
                         restart_timeout=restart_timeout, clock=clock)
        self.key, self.value = key, value

    def describe(self) -> str:
        return f"{self.key}={self.value} in {self.path} on {self.host.name}"
