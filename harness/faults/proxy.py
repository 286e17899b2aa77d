"""Faults on a stack's proxied links (a Compose file's `x-gameday.links`): a toxic added to the
link's proxy in the stack's Toxiproxy server, or the proxy taken down. They act on the traffic
between two services, as the network between them would, with nothing changed in either:

- `LinkLatency`: every chunk of data delayed (a slow dependency, a far-away replica);
- `LinkTimeout`: data stops, connections stay open (a dependency that accepts and never answers),
  closed after `close_after` if given;
- `LinkReset`: connections reset by the peer after `after` (a load balancer or firewall killing them);
- `LinkBandwidth`: a slow pipe;
- `LinkDown`: the proxy stops listening and drops its connections (a link cut, connections refused);
- `LinkToxic`: any toxic the server knows, with its attributes as Toxiproxy names them.

A toxic may end by itself (`lasting`: a network blip that clears after so many seconds, as a
provider's incident does): a timer removes it, and the rollback then finds it already gone.

Each is verified by reading it back from the server, and by an optional `proof` (what a client
of the link sees, e.g. a query's round trip from the client's host) awaited until it shows the
effect. Rollback removes the toxic (or enables the proxy again) on every exit path, and reads
a toxic or proxy state that is already back as "already restored".
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

# A module import: harness.toxiproxy imports harness.faults.base, so this package may be loading it now.
import harness.toxiproxy as toxiproxy
from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultNotEffective
from harness.stack.stack import Stack

log = logging.getLogger(__name__)

Proof = Callable[[], tuple[bool, str]]
DEFAULT_PROOF_TIMEOUT = 15.0
MAX_LASTING = 3600.0


def _milliseconds(value: float, what: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (positive and value <= 0) \
            or value != value:
        raise BadInput(f"{what} must be a {'positive' if positive else 'non-negative'} number of milliseconds, "
                       f"got {value!r}")
    return round(value)


def _server(stack: Stack) -> str:
    """Which server holds the stack's links, for the fault's evidence (and so for its report)."""
    return stack.proxy_server.describe() if stack.proxy_server is not None else "Toxiproxy"


class LinkToxic(Fault):
    """A toxic of `toxic_type` with `attributes` on the proxy of `link`, on `stream`
    ("downstream": from the service to its client; "upstream": from the client), for a share
    `toxicity` of the connections."""

    name = "link-toxic"

    def __init__(self, stack: Stack, link: str, toxic_type: str, attributes: Mapping[str, Any], *,
                 stream: str = "downstream", toxicity: float = 1.0, lasting: float | None = None,
                 proof: Proof | None = None, proof_timeout: float = DEFAULT_PROOF_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.link = stack.definition.link(link)
        if lasting is not None and (isinstance(lasting, bool) or not isinstance(lasting, int | float)
                                    or not 0 < lasting <= MAX_LASTING):
            raise BadInput(f"{type(self).__name__}: lasting is how many seconds the toxic stays before it "
                           f"clears by itself, above 0 and at most {MAX_LASTING:g}; got {lasting!r}")
        self.lasting = lasting
        self._timer: threading.Timer | None = None
        if toxic_type not in toxiproxy.TOXIC_TYPES:
            raise BadInput(f"{type(self).__name__}: unknown toxic type {toxic_type!r}; "
                           f"one of {', '.join(toxiproxy.TOXIC_TYPES)}")
        if stream not in toxiproxy.STREAMS:
            raise BadInput(f"{type(self).__name__}: stream must be one of {', '.join(toxiproxy.STREAMS)}, "
                           f"got {stream!r}")
        if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0 < toxicity <= 1:
            raise BadInput(f"{type(self).__name__}: toxicity is the share of connections affected, "
                           f"above 0 and at most 1; got {toxicity!r}")
        self.stack, self.toxic_type, self.stream, self.toxicity = stack, toxic_type, stream, float(toxicity)
        self.attributes = dict(attributes)
        self.proof, self.proof_timeout = proof, proof_timeout
        self.toxic_name = f"gameday-{toxic_type}-{stream}-{secrets.token_hex(3)}"

    def what(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.attributes.items())
        return f"{self.toxic_type} ({shown})" if shown else self.toxic_type

    def describe(self) -> str:
        share = "" if self.toxicity >= 1 else f" on {self.toxicity:.0%} of connections"
        lasting = "" if self.lasting is None else f" for {self.lasting:g}s"
        return f"{self.what()} on the link {self.link.name} ({self.stream}, to {self.link.upstream}){share}{lasting}"

    def prepare(self) -> None:
        self.stack.toxiproxy().proxy(self.link.name)  # the server answers and the link is there

    def inject(self) -> None:
        self.stack.toxiproxy().add_toxic(self.link.name, self.toxic_type, self.attributes, name=self.toxic_name,
                                         stream=self.stream, toxicity=self.toxicity)
        if self.lasting is not None:
            self._timer = threading.Timer(self.lasting, self._clear)
            self._timer.daemon = True
            self._timer.start()

    def _clear(self) -> None:
        """The toxic's time is up (`lasting`): it goes, as the blip it stands for would."""
        try:
            self.restore()
        except Exception as exc:  # the rollback will try again, and say so if it cannot
            log.warning("%s: could not clear it after %gs: %s", self.describe(), self.lasting or 0, exc)

    def verify(self) -> str:
        server = self.stack.toxiproxy()
        try:
            toxic = server.toxic(self.link.name, self.toxic_name)
        except toxiproxy.ToxiproxyNotFound:
            raise FaultNotEffective(f"{self.describe()}: the server does not list the toxic it accepted") from None
        wrong = {k: toxic.attributes.get(k) for k, v in self.attributes.items() if toxic.attributes.get(k) != v}
        if wrong or toxic.stream != self.stream:
            raise FaultNotEffective(f"{self.describe()}: the server holds it as {toxic.stream} "
                                    f"{dict(toxic.attributes)}")
        seen = (f"{_server(self.stack)} lists {toxic.name} on {self.link.name}: {toxic.type} "
                f"{dict(toxic.attributes)} {toxic.stream}")
        if self.proof is None:
            return seen
        return f"{seen}; {self.await_proof(self.proof, self.proof_timeout)}"

    def is_active(self) -> bool:
        return any(t.name == self.toxic_name for t in self.stack.toxiproxy().toxics(self.link.name))

    def restore(self) -> None:
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        # gone already: a reset, its time was up, or a partial inject that never added it
        with contextlib.suppress(toxiproxy.ToxiproxyNotFound):
            self.stack.toxiproxy().remove_toxic(self.link.name, self.toxic_name)

    def rolled_back_detail(self) -> str:
        return f"{self.describe()}: toxic removed by the harness"

    def ended_detail(self) -> str:
        how = "it cleared by itself" if self.lasting is not None else "the toxic was already gone"
        return f"{self.describe()}: {how} when the harness came to remove it"


class LinkLatency(LinkToxic):
    """Every chunk of data on the link delayed by `latency_ms` (± `jitter_ms`)."""

    name = "link-latency"

    def __init__(self, stack: Stack, link: str, latency_ms: float, *, jitter_ms: float = 0,
                 stream: str = "downstream", **kwargs: Any) -> None:
        super().__init__(stack, link, "latency", {"latency": _milliseconds(latency_ms, "latency_ms", positive=True),
                                                  "jitter": _milliseconds(jitter_ms, "jitter_ms")},
                         stream=stream, **kwargs)

    def what(self) -> str:
        jitter = self.attributes["jitter"]
        return f"{self.attributes['latency']} ms of latency" + (f" (± {jitter} ms)" if jitter else "")


class LinkTimeout(LinkToxic):
    """Data on the link stops (connections stay open, nothing answers); with `close_after_ms`,
    each connection is closed that long after it opened (or after the toxic arrived)."""

    name = "link-timeout"

    def __init__(self, stack: Stack, link: str, *, close_after_ms: float = 0, stream: str = "downstream",
                 **kwargs: Any) -> None:
        super().__init__(stack, link, "timeout", {"timeout": _milliseconds(close_after_ms, "close_after_ms")},
                         stream=stream, **kwargs)

    def what(self) -> str:
        after = self.attributes["timeout"]
        return "no data passing" + (f", connections closed after {after} ms" if after else " (connections hang)")


class LinkReset(LinkToxic):
    """Connections on the link reset (TCP RST) `after_ms` after they open (or after the toxic arrived)."""

    name = "link-reset"

    def __init__(self, stack: Stack, link: str, *, after_ms: float = 0, stream: str = "downstream",
                 **kwargs: Any) -> None:
        super().__init__(stack, link, "reset_peer", {"timeout": _milliseconds(after_ms, "after_ms")},
                         stream=stream, **kwargs)

    def what(self) -> str:
        return f"connections reset after {self.attributes['timeout']} ms"


class LinkBandwidth(LinkToxic):
    """The link carries at most `kilobytes_per_second` KB/s."""

    name = "link-bandwidth"

    def __init__(self, stack: Stack, link: str, kilobytes_per_second: float, *, stream: str = "downstream",
                 **kwargs: Any) -> None:
        super().__init__(stack, link, "bandwidth",
                         {"rate": _milliseconds(kilobytes_per_second, "kilobytes_per_second", positive=True)},
                         stream=stream, **kwargs)

    def what(self) -> str:
        return f"bandwidth limited to {self.attributes['rate']} KB/s"


class LinkDown(Fault):
    """The link's proxy disabled: it stops listening and closes its connections, so the clients'
    connections are refused (the link is cut; the service itself is untouched)."""

    name = "link-down"
    restore_when_ended = False

    def __init__(self, stack: Stack, link: str, *, proof: Proof | None = None,
                 proof_timeout: float = DEFAULT_PROOF_TIMEOUT, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.stack, self.link = stack, stack.definition.link(link)
        self.proof, self.proof_timeout = proof, proof_timeout

    def describe(self) -> str:
        return f"the link {self.link.name} (to {self.link.upstream}) cut"

    def prepare(self) -> None:
        self.stack.toxiproxy().proxy(self.link.name)

    def inject(self) -> None:
        self.stack.toxiproxy().update_proxy(self.link.name, enabled=False)

    def verify(self) -> str:
        if self.stack.toxiproxy().proxy(self.link.name).enabled:
            raise FaultNotEffective(f"{self.describe()}: the server still reports the proxy enabled")
        seen = f"{_server(self.stack)} reports the proxy {self.link.name} disabled"
        return seen if self.proof is None else f"{seen}; {self.await_proof(self.proof, self.proof_timeout)}"

    def is_active(self) -> bool:
        return not self.stack.toxiproxy().proxy(self.link.name).enabled

    def restore(self) -> None:
        self.stack.toxiproxy().update_proxy(self.link.name, enabled=True)

    def rolled_back_detail(self) -> str:
        return f"{self.describe()}: the proxy enabled again by the harness"

    def ended_detail(self) -> str:
        return f"{self.describe()}: the proxy was already enabled when the harness came to roll back"
