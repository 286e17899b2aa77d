"""Container faults: a service's whole container stopped, killed or paused.

Restoring starts (or unpauses) the container and waits until the service passes its health
check again. A restarted container gets a new host port: callers look endpoints up again
(`stack.endpoint()` re-reads them); nothing here caches a port.
"""

from __future__ import annotations

from typing import Any

from harness.clock import SYSTEM_CLOCK, Clock
from harness.faults.base import Fault, FaultNotEffective, owned_container, wait_healthy_again
from harness.stack.stack import Stack
from harness.stack.waits import WaitTimeout, wait_for

STOP_TIMEOUT_SECONDS = 10
VERIFY_TIMEOUT = 15.0
POLL_INTERVAL = 0.1
ENDED = ("exited", "dead")


class _ContainerFault(Fault):
    """What the container faults share: the owned container, its state, restore by start."""

    def __init__(self, stack: Stack, service: str, *, verify_timeout: float = VERIFY_TIMEOUT,
                 health_timeout: float | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        stack.definition.service(service)  # a clear error now for an unknown service
        self.stack, self.service = stack, service
        self.verify_timeout, self.health_timeout = verify_timeout, health_timeout

    def prepare(self) -> None:
        self._container()

    def _container(self) -> Any:
        return owned_container(self.stack, self.service)

    def _status(self) -> str:
        return str(self._container().status)

    def _wait_status(self, wanted: tuple[str, ...], what: str) -> str:
        def probe() -> tuple[bool, str]:
            status = self._status()
            return status in wanted, status
        try:
            status = wait_for(probe, what=what, timeout=self.verify_timeout, interval=POLL_INTERVAL,
                              clock=self.clock)
        except WaitTimeout as exc:
            raise FaultNotEffective(f"{self.describe()}: the container is still {exc.last} "
                                    f"after {exc.timeout:g}s") from None
        container = self._container()
        state = container.attrs.get("State") or {}
        return f"container {container.name} is {status} (exit code {state.get('ExitCode')})" \
            if status in ENDED else f"container {container.name} is {status}"

    def is_active(self) -> bool:
        return self._status() != "running"

    def restore(self) -> None:
        container = self._container()
        if container.status == "paused":
            container.unpause()
        elif container.status != "running":
            container.start()
        wait_healthy_again(self.stack, self.service, self.health_timeout, "started again")

    def ended_detail(self) -> str:
        return f"{self.describe()}: the container was already running again when the harness came to roll back"


class ContainerStopped(_ContainerFault):
    """`docker stop` of the service's container (graceful: SIGTERM, then SIGKILL)."""

    name = "container-stopped"

    def describe(self) -> str:
        return f"{self.service} container stopped"

    def inject(self) -> None:
        self._container().stop(timeout=STOP_TIMEOUT_SECONDS)

    def verify(self) -> str:
        return self._wait_status(ENDED, f"{self.service} container stopped")


class ContainerKilled(_ContainerFault):
    """A signal sent to the container's main process (`docker kill`), SIGKILL by default."""

    name = "container-killed"

    def __init__(self, stack: Stack, service: str, signal: str = "SIGKILL", *,
                 verify_timeout: float = VERIFY_TIMEOUT, health_timeout: float | None = None,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(stack, service, verify_timeout=verify_timeout, health_timeout=health_timeout, clock=clock)
        self.signal = signal

    def describe(self) -> str:
        return f"{self.service} container killed with {self.signal}"

    def inject(self) -> None:
        self._container().kill(signal=self.signal)

    def verify(self) -> str:
        return self._wait_status(ENDED, f"{self.service} container ended by {self.signal}")


class ContainerPaused(_ContainerFault):
    """Every process of the container frozen (`docker pause`): a hung server, connections stay open."""

    name = "container-paused"

    def describe(self) -> str:
        return f"{self.service} container paused"

    def inject(self) -> None:
        self._container().pause()

    def verify(self) -> str:
        return self._wait_status(("paused",), f"{self.service} container paused")

    def is_active(self) -> bool:
        return self._status() == "paused"
