"""Dependency faults: a stand-in service's behaviour switched through its HTTP control endpoint.

Stacks replace the third-party APIs they call (an LLM provider, a payment API) with a fake that
can misbehave on request: answer 429 with Retry-After, 5xx, slowly, or not at all. The fake's
control endpoint is published on the machine's loopback; this fault POSTs the misbehaviour there,
reads the fake's state back to know whether it is still in effect (a switch may carry its own
end, like a provider's rate-limit window), and POSTs the normal behaviour on rollback. What the
JSON says is the fake's business: the caller gives both bodies and how to read the state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.clock import SYSTEM_CLOCK, Clock
from harness.faults.base import Fault, FaultError, FaultNotEffective, require_loopback

REQUEST_TIMEOUT = 5.0
VERIFY_TIMEOUT = 15.0

Proof = Callable[[], tuple[bool, str]]
State = Mapping[str, Any]


class HttpSwitch(Fault):
    """`on` POSTed as JSON to the control URL at inject, `off` at rollback; `in_effect(state)` reads
    the JSON a GET of the same URL answers. `url` is called each time (ports change when a
    container restarts) and must be on loopback. `proof`, when given, is polled after the switch
    until the system under test shows the effect (e.g. an upstream error in its log)."""

    name = "http-switch"

    def __init__(self, url: Callable[[], str], *, on: Mapping[str, Any], off: Mapping[str, Any],
                 in_effect: Callable[[State], bool], what: str = "", proof: Proof | None = None,
                 verify_timeout: float = VERIFY_TIMEOUT, request_timeout: float = REQUEST_TIMEOUT,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        self.url, self.on, self.off, self.in_effect = url, dict(on), dict(off), in_effect
        self.what = what or json.dumps(self.on, sort_keys=True)
        self.proof, self.verify_timeout, self.request_timeout = proof, verify_timeout, request_timeout

    def describe(self) -> str:
        return f"{self.what} (switched at its control endpoint)"

    def _url(self) -> str:
        return require_loopback(self.url(), "an HTTP switch's control URL")

    def _post(self, body: Mapping[str, Any]) -> State:
        try:
            response = httpx.post(self._url(), json=dict(body), timeout=self.request_timeout)
        except httpx.HTTPError as exc:
            raise FaultError(f"{self.describe()}: the control endpoint did not answer: {type(exc).__name__}: "
                             f"{exc}") from exc
        if not response.is_success:
            raise FaultError(f"{self.describe()}: the control endpoint answered {response.status_code}: "
                             f"{response.text[:200]}")
        return self._json(response)

    def _switch_state(self) -> State:
        try:
            response = httpx.get(self._url(), timeout=self.request_timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise FaultError(f"{self.describe()}: cannot read the switch's state: {type(exc).__name__}: "
                             f"{exc}") from exc
        return self._json(response)

    def _json(self, response: httpx.Response) -> State:
        try:
            state = response.json()
        except ValueError:
            raise FaultError(f"{self.describe()}: the control endpoint answered no JSON: "
                             f"{response.text[:200]}") from None
        if not isinstance(state, dict):
            raise FaultError(f"{self.describe()}: the control endpoint answered {type(state).__name__}, not an "
                             "object")
        return state

    def inject(self) -> None:
        self._post(self.on)

    def verify(self) -> str:
        state = self._switch_state()
        if not self.in_effect(state):
            raise FaultNotEffective(f"{self.describe()}: the switch reads {json.dumps(state)[:200]}")
        if self.proof is None:
            return f"the control endpoint reads {json.dumps(state, sort_keys=True)[:200]}"
        return self.await_proof(self.proof, self.verify_timeout)

    def is_active(self) -> bool:
        return self.in_effect(self._switch_state())

    def restore(self) -> None:
        self._post(self.off)

    def ended_detail(self) -> str:
        return f"{self.describe()}: the switch was already off when the harness came to roll back"
