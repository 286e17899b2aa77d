"""The page: what a trainee is told, like a real alert. Symptoms only.

Built from what the observers saw after the fault (failed health checks and their answers,
failing synthetic requests by action and status), its severity and since when, plus the
exercise's own wording when it has some. Never the scenario's id, title, runbook section or fix:
those are passed in as `forbidden` and masked should an observed detail ever contain them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from harness.observe.samples import ProbeSample, RequestSample
from harness.observe.traffic import ERROR_ACTION
from harness.runbook.commands import command_lines, normalise

SEVERITY_NAMES = {"P0": "critical", "P1": "high", "P2": "medium", "P3": "low", "P4": "informational"}
RULE = "=" * 78
MASK = "[...]"
MIN_FORBIDDEN = 4  # shorter strings would mask ordinary words
MAX_DETAIL = 160
_NO_ANSWER = re.compile(r"^GET \S+: (\w+)")


@dataclass(frozen=True)
class ActionSymptom:
    action: str
    failed: int
    total: int
    answers: tuple[str, ...]  # how the failed ones were answered, most frequent first


@dataclass(frozen=True)
class Symptoms:
    first: float | None  # clock reading of the first failure seen, None: nothing failed
    probe_failed: int
    probe_total: int
    probe_answers: tuple[tuple[str, int], ...]
    last_failure: str
    requests_failed: int
    requests_total: int
    actions: tuple[ActionSymptom, ...]
    users_affected: int
    window: float = 0.0  # seconds the samples span

    @property
    def seen(self) -> bool:
        return self.first is not None


def answer_of(status: int | None, detail: str) -> str:
    """A failed check or request, as a page says it: `HTTP 503`, or `no answer (ConnectError)`."""
    if status is not None:
        return f"HTTP {status}"
    match = _NO_ANSWER.match(detail)
    return f"no answer ({match.group(1)})" if match else "no answer"


def rewrite_endpoints(text: str, endpoints: Mapping[str, str]) -> str:
    """Loopback URLs of published ports shown as the service and port they belong to (`app:8000`)."""
    for url, name in sorted(endpoints.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(url, name)
    return text


def observe(probes: Sequence[ProbeSample], requests: Sequence[RequestSample], t0: float,
            endpoints: Mapping[str, str] | None = None) -> Symptoms:
    """What the observers saw from t0 on."""
    endpoints = endpoints or {}
    probes = sorted((p for p in probes if p.t >= t0), key=lambda p: p.t)
    requests = sorted((r for r in requests if r.t >= t0), key=lambda r: r.t)
    failed_probes = [p for p in probes if not p.ok]
    failed_requests = [r for r in requests if not r.ok]
    firsts = [p.t for p in failed_probes[:1]] + [r.t for r in failed_requests[:1]]
    first = min(firsts) if firsts else None
    answers = Counter(answer_of(p.status, p.detail) for p in failed_probes)
    last = rewrite_endpoints(failed_probes[-1].detail, endpoints) if failed_probes else ""
    actions = []
    for action in sorted({r.action for r in requests}):
        mine = [r for r in requests if r.action == action]
        bad = [r for r in mine if not r.ok]
        how = Counter(answer_of(r.status, "") for r in bad)
        actions.append(ActionSymptom(action, len(bad), len(mine), tuple(a for a, _ in how.most_common())))
    return Symptoms(first, len(failed_probes), len(probes), tuple(answers.most_common()),
                    last[:MAX_DETAIL] + ("..." if len(last) > MAX_DETAIL else ""),
                    len(failed_requests), len(requests), tuple(actions), len({r.user for r in failed_requests}),
                    window=(probes[-1].t - t0) if probes else 0.0)


def forbidden_words(scenario_id: str, title: str, section: str, section_titles: Iterable[str],
                    fix_code: Iterable[str]) -> list[str]:
    """What a page must never say: the scenario, its runbook section and its fix's command lines."""
    words = [scenario_id, title, section, *section_titles]
    for code in fix_code:
        words += command_lines(code)
    return sorted({normalise(w) for w in words if len(normalise(w)) >= MIN_FORBIDDEN}, key=len, reverse=True)


def leaks(text: str, forbidden: Iterable[str]) -> list[str]:
    """The forbidden strings found in `text` (case and spacing ignored)."""
    flat = normalise(text).lower()
    return [word for word in forbidden if word.lower() in flat]


def scrub(text: str, forbidden: Iterable[str]) -> str:
    for word in forbidden:
        pattern = r"\s+".join(re.escape(part) for part in word.split())
        text = re.sub(pattern, MASK, text, flags=re.IGNORECASE)
    return text


def _ago(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds} s ago" if seconds < 120 else f"{seconds // 60} min ago"


def _window(symptoms: Symptoms, now: datetime, since: datetime | None) -> str:
    seconds = symptoms.window if symptoms.window > 0 else (now - since).total_seconds() if since else 0.0
    return f"{max(1, round(seconds))} s"


def _limit(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def headline(symptoms: Symptoms, stack: str) -> str:
    parts = []
    if symptoms.probe_failed:
        parts.append(f"the health check of {stack} is failing")
    if symptoms.requests_failed:
        parts.append("user requests fail")
    if not parts:
        return f"no automated check of {stack} is failing, but something is wrong (see the report below)"
    return " and ".join(parts)


def page_text(*, stack: str, stack_name: str, hosts: Sequence[str], severity: str, symptoms: Symptoms,
              since: datetime | None, now: datetime, probe_interval: float, users: int, note: str,
              time_limit: float, forbidden: Sequence[str], command_suffix: str = "") -> str:
    """The page, ready to print. `since` and `now` are wall-clock times (UTC)."""
    lines = [RULE, f"PAGE  {severity} ({SEVERITY_NAMES.get(severity, 'unknown')})  FIRING  {stack}", RULE,
             f"What:   {headline(symptoms, stack)}"]
    if since is not None:
        lines.append(f"Since:  {since:%Y-%m-%d %H:%M:%S} UTC ({_ago((now - since).total_seconds())}; "
                     "first failure seen by monitoring)")
    else:
        lines.append(f"Since:  reported {now:%Y-%m-%d %H:%M:%S} UTC")
    lines += [f"Where:  stack {stack_name}; hosts {', '.join(hosts)}", ""]
    if symptoms.probe_total:
        window = f"in the last {_window(symptoms, now, since)}"
        lines.append(f"Health check (every {probe_interval:g} s): {symptoms.probe_failed} of {symptoms.probe_total} "
                     f"checks failed {window}" if symptoms.probe_failed else
                     f"Health check (every {probe_interval:g} s): passing ({symptoms.probe_total} checks {window})")
        if symptoms.probe_answers:
            lines.append("  answers: " + ", ".join(f"{answer} x{n}" for answer, n in symptoms.probe_answers))
        if symptoms.last_failure:
            lines.append(f"  last:    {symptoms.last_failure}")
    if users:
        if symptoms.requests_failed:
            lines.append(f"Synthetic users ({users}): {symptoms.requests_failed} of {symptoms.requests_total} "
                         f"requests failed; {symptoms.users_affected} of {users} users affected")
            for a in symptoms.actions:
                if a.failed:
                    what = "requests that got no answer at all" if a.action == ERROR_ACTION else a.action
                    lines.append(f"  {what}: {a.failed} of {a.total} failed ({', '.join(a.answers)})")
        elif symptoms.requests_total:
            lines.append(f"Synthetic users ({users}): all {symptoms.requests_total} requests succeeded")
        else:
            lines.append(f"Synthetic users ({users}): no request has finished yet")
    if note:
        lines += ["", f"Reported: {note}"]
    shells = " / ".join(f"`gameday shell {h}{command_suffix}`" for h in hosts)
    lines += ["", f"You are on call. Work on the hosts with {shells}.",
              f"`gameday hint{command_suffix}` shows the next runbook hint (each one is counted); "
              f"`gameday giveup{command_suffix}` ends the exercise.",
              f"The exercise ends by itself when the service is healthy again, or after {_limit(time_limit)}.",
              RULE]
    return scrub("\n".join(lines), forbidden) + "\n"
