"""Which runbook steps a person's typed commands ran (an onboarding trainee's, matched to the plan).

Deliberately simple, so a trainee can predict it:

- A runbook step's *command lines* are its code's lines without comments and blank lines
  (lines ending in `\\` joined), whitespace collapsed.
- In a command line, variable references (`$X`, `${X}`) and placeholders (`"abc123..."`,
  `<user-id>`, `USER_ID`, `PID`) are wildcards; everything else must be typed as written.
- A trainee command is split at top-level `;`, `&&`, `||` and newlines (not inside quotes or
  `$(...)`), whitespace collapsed and a leading `sudo` dropped. A command line is *run* when the
  whole command or one of its parts matches it exactly.
- A step is *matched* when the trainee ran one of its command lines on the step's host (a
  `local` step: on any host); the first such command is the one that matched it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.runbook.model import Phase

LOCAL = "local"
PHASES = (Phase.DIAGNOSE, Phase.FIX, Phase.VERIFY)  # the phases of a plan, in the order they run
_SPACE = re.compile(r"\s+")
_WILDCARD = re.compile(
    r"\$\{[^}]*\}"  # ${VAR}, ${VAR:-x}
    r"|\$[A-Za-z_]\w*"  # $VAR
    r"|\"[^\"\s]*\.\.\.\"|'[^'\s]*\.\.\.'"  # "abc123...": an example value
    r"|\babc123\w*(?:\.\.\.)?"
    r"|<[a-z][a-z0-9_-]*>"  # <user-id>
    r"|(?<![$\w{])(?:(?:[A-Z][A-Z0-9]*_)+ID|PID|YOUR_[A-Z0-9_]+)(?![\w=])"  # USER_ID, PID
)


@dataclass(frozen=True)
class PlanStep:
    """A runbook step of the exercise's section, as the debrief needs it."""

    phase: Phase  # diagnose | fix | verify
    ref: str
    host: str
    section: str
    location: str
    code: str

    @property
    def lines(self) -> tuple[str, ...]:
        return command_lines(self.code)


@dataclass(frozen=True)
class Typed:
    """A command the trainee ran: on which host, and seconds since the fault was injected."""

    host: str
    command: str
    t: float


@dataclass(frozen=True)
class StepMatch:
    step: PlanStep
    command: int | None  # index of the first trainee command that ran one of its lines
    t: float | None

    @property
    def matched(self) -> bool:
        return self.command is not None


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def command_lines(code: str) -> tuple[str, ...]:
    """The commands of a runbook block: no comments, no blank lines, continuations joined."""
    out: list[str] = []
    pending = ""
    for raw in code.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(normalise(pending + line))
        pending = ""
    if pending.strip():
        out.append(normalise(pending))
    return tuple(out)


def line_pattern(line: str) -> re.Pattern[str]:
    """A runbook command line as a regex: literal text, wildcards for variables and placeholders."""
    parts, at = [], 0
    for wildcard in _WILDCARD.finditer(line):
        parts.append(re.escape(line[at:wildcard.start()]))
        parts.append(".+?")
        at = wildcard.end()
    parts.append(re.escape(line[at:]))
    return re.compile("".join(parts), re.DOTALL)


def split_command(command: str) -> list[str]:
    """The parts of a shell command at top-level `;`, `&&`, `||` and newlines."""
    parts, current = [], []
    single = double = False
    depth = 0
    i = 0
    while i < len(command):
        ch = command[i]
        two = command[i:i + 2]
        if ch == "\\" and not single and i + 1 < len(command):
            current.append(command[i:i + 2])
            i += 2
            continue
        if ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif not single and two == "$(":
            depth += 1
        elif not single and ch == ")" and depth:
            depth -= 1
        elif not (single or double or depth) and (two in ("&&", "||") or ch in ";\n"):
            parts.append("".join(current))
            current = []
            i += 2 if two in ("&&", "||") else 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p for p in (_plain(part) for part in parts) if p]


def _plain(part: str) -> str:
    text = normalise(part)
    return text[5:] if text.startswith("sudo ") else text


def runs_line(command: str, line: str) -> bool:
    """Whether the trainee's command (or one of its parts) is the runbook's command line."""
    pattern = line_pattern(line)
    candidates = [_plain(command), *split_command(command)]
    return any(pattern.fullmatch(candidate) for candidate in candidates)


def runs_step(typed: Typed, step: PlanStep) -> bool:
    if step.host not in (typed.host, LOCAL):
        return False
    return any(runs_line(typed.command, line) for line in step.lines)


def match_plan(plan: Sequence[PlanStep], commands: Sequence[Typed]) -> list[StepMatch]:
    """For each runbook step, the first trainee command that ran one of its lines (or none)."""
    out = []
    for step in plan:
        first = next((i for i, typed in enumerate(commands) if runs_step(typed, step)), None)
        out.append(StepMatch(step, first, None if first is None else commands[first].t))
    return out


def steps_of(typed: Typed, plan: Sequence[PlanStep]) -> list[str]:
    """The refs of the runbook steps this command ran a line of."""
    return [step.ref for step in plan if runs_step(typed, step)]
