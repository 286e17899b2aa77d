"""Datastore faults: a Redis filled to its memory limit by one runaway family of keys.

A cache written without expiry, a queue nobody drains, a debug dump: Redis grows until it reaches
`maxmemory`, and with the `noeviction` policy it then refuses every write (`OOM command not
allowed when used memory > 'maxmemory'`) while reads still work: new sessions fail, queues stop.
The fault writes keys under one prefix, in batches from a Lua script (one `docker exec` for the
whole fill), until Redis refuses; it is in effect while a probe write is refused. A runbook ends
it by freeing memory in any way (deleting the runaway keys, raising the limit); rollback deletes
whatever is left of the prefix and puts back a limit the fault set. The password, when there is
one, travels as REDISCLI_AUTH in the exec's environment, never on a command line.
"""

from __future__ import annotations

import re
import shlex

from harness.clock import SYSTEM_CLOCK, Clock
from harness.errors import BadInput
from harness.faults.base import Fault, FaultError, FaultNotEffective, outcome, owned_host
from harness.stack.host import ExecResult, Host
from harness.stack.stack import Stack

COMMAND_TIMEOUT = 60.0
DEFAULT_VALUE_BYTES = 64 * 1024
BATCH_KEYS = 16
MAX_FILL_BYTES = 512 * 1024**2  # refuse to fill a Redis allowed more than this
PROBE_KEY = "gameday:write-probe"
REFUSED = "OOM"
_PREFIX = re.compile(r"^[A-Za-z0-9:_.-]{1,64}$")
# SET keys PREFIX..N for N in [first, first+count): a batch in one round trip. Written for Redis's
# legacy script mode, where the OOM check comes at the first write of a script run.
_FILL_SCRIPT = ("local v = string.rep('x', tonumber(ARGV[4])) "
                "for i = tonumber(ARGV[2]), tonumber(ARGV[2]) + tonumber(ARGV[3]) - 1 do "
                "redis.call('SET', ARGV[1] .. i, v) end return tonumber(ARGV[3])")


class RedisFilled(Fault):
    """Redis on `host` filled with keys under `prefix` until it refuses writes (maxmemory reached,
    policy noeviction). `limit` (bytes) sets maxmemory for the fault and puts the old one back;
    without it the server's own limit is used, and a Redis without one is refused."""

    name = "redis-filled"

    def __init__(self, stack: Stack, host: Host, *, prefix: str = "cache:", value_bytes: int = DEFAULT_VALUE_BYTES,
                 port: int = 6379, password: str | None = None, limit: int | None = None,
                 max_bytes: int = MAX_FILL_BYTES, clock: Clock = SYSTEM_CLOCK) -> None:
        super().__init__(clock=clock)
        if not _PREFIX.match(prefix):
            raise BadInput(f"{prefix!r}: the key prefix must be 1-64 letters, digits or : _ . -")
        if not 1024 <= value_bytes <= 1024**2:
            raise BadInput(f"value_bytes {value_bytes}: write values of 1 KiB to 1 MiB")
        if limit is not None and not 1024**2 <= limit <= max_bytes:
            raise BadInput(f"limit {limit}: a memory limit from 1 MiB to {max_bytes // 1024**2} MiB")
        self.stack, self.host, self.prefix = stack, host, prefix
        self.value_bytes, self.port, self.limit, self.max_bytes = value_bytes, port, limit, max_bytes
        self.env = {"REDISCLI_AUTH": password} if password else {}
        self._old_limit: str | None = None
        self._filled = ""

    def describe(self) -> str:
        return f"Redis on {self.host.name} filled to maxmemory by {self.prefix}* keys"

    def _cli(self, args: str) -> ExecResult:
        owned_host(self.stack, self.host)
        return self.host.exec(f"redis-cli -p {self.port} {args}", timeout=COMMAND_TIMEOUT, env=self.env)

    def _config(self, name: str) -> str:
        result = self._cli(f"--raw CONFIG GET {name}")
        lines = result.stdout.split()
        if not result.ok or len(lines) != 2:
            raise FaultError(f"{self.host.name}: cannot read Redis's {name} ({outcome(result)})")
        return lines[1]

    def prepare(self) -> None:
        owned_host(self.stack, self.host)
        policy = self._config("maxmemory-policy")
        if policy != "noeviction":
            raise BadInput(f"Redis on {self.host.name} has maxmemory-policy {policy}: when full it evicts keys "
                           "instead of refusing writes; this fault fills a Redis configured with noeviction")
        if self.limit is None:
            limit = int(self._config("maxmemory"))
            if not 0 < limit <= self.max_bytes:
                raise BadInput(f"Redis on {self.host.name} has maxmemory {limit or 'unset'}: filling it would take "
                               f"the machine's memory; give it a limit of at most {self.max_bytes // 1024**2} MiB "
                               "(maxmemory in redis.conf) or give the fault a `limit`")

    def inject(self) -> None:
        if self.limit is not None:
            self._old_limit = self._config("maxmemory")
            result = self._cli(f"CONFIG SET maxmemory {self.limit}")
            if "OK" not in result.stdout:
                raise FaultError(f"{self.host.name}: CONFIG SET maxmemory failed ({outcome(result)})")
        limit = self.limit or int(self._config("maxmemory"))
        batch = BATCH_KEYS * self.value_bytes
        rounds = limit // batch + 16
        command = (f"for i in $(seq 0 {rounds}); do "
                   f"out=$(redis-cli -p {self.port} EVAL {shlex.quote(_FILL_SCRIPT)} 0 {shlex.quote(self.prefix)} "
                   f"$((i * {BATCH_KEYS})) {BATCH_KEYS} {self.value_bytes} 2>&1); "
                   f'case "$out" in *{REFUSED}*) echo "refused after $((i * {BATCH_KEYS})) keys"; exit 0;; '
                   f'[0-9]*) ;; *) echo "$out"; exit 1;; esac; done; echo "never refused"; exit 1')
        owned_host(self.stack, self.host)
        result = self.host.exec(command, timeout=COMMAND_TIMEOUT, env=self.env)
        if not result.ok:
            raise FaultError(f"{self.host.name}: filling Redis failed ({outcome(result)})")
        self._filled = result.stdout.strip()

    def injected_detail(self) -> str:
        return f"{self.describe()} ({self._filled} of {self.value_bytes // 1024} KiB)"

    def _probe(self) -> tuple[bool, str]:
        """(refused, what the probe write answered); a write that went through is taken back."""
        result = self._cli(f"SET {PROBE_KEY} 1")
        answer = (result.stdout + result.stderr).strip()
        if REFUSED in answer:
            return True, answer
        if not result.ok:
            raise FaultError(f"{self.host.name}: the probe write failed otherwise ({outcome(result)})")
        self._cli(f"DEL {PROBE_KEY}")
        return False, answer

    def verify(self) -> str:
        refused, answer = self._probe()
        if not refused:
            raise FaultNotEffective(f"{self.describe()}: a write still succeeds ({answer!r})")
        used = self._cli("INFO memory | grep -E '^used_memory_human:'").stdout.strip()
        return f"SET on {self.host.name} answered {answer!r}; {used}"

    def is_active(self) -> bool:
        return self._probe()[0]

    def restore(self) -> None:
        pattern = shlex.quote(f"{self.prefix}*")
        cli = f"redis-cli -p {self.port}"
        owned_host(self.stack, self.host)
        result = self.host.exec(f"{cli} --scan --pattern {pattern} | xargs -r -n 256 {cli} DEL > /dev/null && "
                                f"{cli} --scan --pattern {pattern} | wc -l", timeout=COMMAND_TIMEOUT, env=self.env)
        if not result.ok or result.stdout.strip() != "0":
            raise FaultError(f"{self.host.name}: cannot delete the {self.prefix}* keys ({outcome(result)})")
        if self._old_limit is not None:
            reset = self._cli(f"CONFIG SET maxmemory {shlex.quote(self._old_limit)}")
            if "OK" not in reset.stdout:
                raise FaultError(f"{self.host.name}: cannot put maxmemory back to {self._old_limit} "
                                 f"({outcome(reset)})")
            self._old_limit = None

    def rolled_back_detail(self) -> str:
        return f"{self.describe()}: the {self.prefix}* keys deleted by the harness"

    def ended_detail(self) -> str:
        return f"{self.describe()}: memory had been freed when the harness came to roll back"
