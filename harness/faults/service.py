"""Service faults: a unit stopped on a host, as an operator would stop it (`systemctl stop`)."""

from __future__ import annotations

import shlex

from harness.clock import SYSTEM_CLOCK, Clock
from harness.faults.base import Fault, FaultError, FaultNotEffective, outcome, owned_host
from harness.stack.host import Host
from harness.stack.stack import Stack
from harness.stack.waits import WaitTimeout, wait_for

VERIFY_TIMEOUT = 10.0
RESTORE_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0
POLL_INTERVAL = 0.2
ACTIVE_WORD = "active"


class ServiceStopped(Fault):
    """`unit` stopped on `host` (a container of `stack`); restored by starting it again.

    The commands default to systemctl's; give others for hosts managed differently. The
    active command must print `active` while the unit runs (as `systemctl is-active` does).
    """

    name = "service-stopped"
    restore_when_ended = False  # the unit is active again: nothing is left to undo

    def __init__(self, stack: Stack, host: Host, unit: str, *, stop_command: str | None = None,
                 start_command: str | None = None, active_command: str | None = None,
                 verify_timeout: float = VERIFY_TIMEOUT, restore_timeout: float = RESTORE_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.stack, self.host, self.unit = stack, host, unit
        quoted = shlex.quote(unit)
        self.stop_command = stop_command or f"systemctl stop {quoted}"
        self.start_command = start_command or f"systemctl start {quoted}"
        self.active_command = active_command or f"systemctl is-active {quoted}"
        self.verify_timeout, self.restore_timeout = verify_timeout, restore_timeout

    def describe(self) -> str:
        return f"{self.unit} stopped on {self.host.name}"

    def prepare(self) -> None:
        owned_host(self.stack, self.host)

    def inject(self) -> None:
        owned_host(self.stack, self.host)
        result = self.host.exec(self.stop_command, timeout=COMMAND_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: `{self.stop_command}` failed ({outcome(result)})")

    def _state_word(self) -> str:
        owned_host(self.stack, self.host)
        result = self.host.exec(self.active_command, timeout=COMMAND_TIMEOUT)
        return result.stdout.strip() or f"(nothing; {outcome(result)})"

    def verify(self) -> str:
        try:
            word = wait_for(self._not_active, what=f"{self.unit} inactive on {self.host.name}",
                            timeout=self.verify_timeout, interval=POLL_INTERVAL, clock=self.clock)
        except WaitTimeout as exc:
            raise FaultNotEffective(f"{self.describe()}: `{self.active_command}` still says {exc.last!r} "
                                    f"after {exc.timeout:g}s") from None
        return f"`{self.active_command}` on {self.host.name} says {word!r}"

    def _not_active(self) -> tuple[bool, str]:
        word = self._state_word()
        return word != ACTIVE_WORD, word

    def _active(self) -> tuple[bool, str]:
        word = self._state_word()
        return word == ACTIVE_WORD, word

    def is_active(self) -> bool:
        return self._state_word() != ACTIVE_WORD

    def restore(self) -> None:
        owned_host(self.stack, self.host)
        result = self.host.exec(self.start_command, timeout=COMMAND_TIMEOUT)
        if not result.ok:
            raise FaultError(f"{self.host.name}: `{self.start_command}` failed ({outcome(result)})")
        try:
            wait_for(self._active, what=f"{self.unit} active on {self.host.name}", timeout=self.restore_timeout,
                     interval=POLL_INTERVAL, clock=self.clock)
        except WaitTimeout as exc:
            raise FaultError(f"{self.host.name}: {self.unit} started but `{self.active_command}` says "
                             f"{exc.last!r} after {exc.timeout:g}s") from None

    def ended_detail(self) -> str:
        return f"{self.describe()}: {self.unit} was already active again when the harness came to roll back"
