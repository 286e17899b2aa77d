"""`gameday lint`: what a runbook says, and what in it will not work as written. No Docker.

Findings have a stable code, a severity and a file:line. Errors and warnings make lint exit 1;
notes (info) are shown but do not fail it. Codes:

    GD001 unbound-placeholder       an example value or placeholder nobody binds (USER_ID, abc123...)
    GD002 unbound-variable          a $VARIABLE the block reads and nothing sets
    GD003 variable-from-other-block set in an earlier block, but each block runs in a fresh shell
    GD004 export-does-not-reach-service  `export X=...` then `systemctl restart`: the service never sees X
    GD010 destructive-command       rm -rf, DELETE without WHERE, log truncation, kill -9, default-deny firewall
    GD020 fix-without-verification  a section that fixes but never verifies
    GD021 diagnosis-without-expectation  a diagnosis whose output nothing checks
    GD022 diagnosis-changes-state   a diagnosis step that starts, stops or kills things
    GD030 unknown-attribute         GD031 bad-attribute-value   GD032 unknown-host
    GD040 unterminated-fence        GD041 expectation-without-command   GD042 bad-front-matter
    GD044 not-read                  the rest of the document could not be read (nesting too deep)
    GD045 inferred-expectation      an expectation read from prose or a comment other than `# Expected:`
    GD043 bad-expectation           an expectation that cannot be matched (e.g. invalid regex)
    GD060 not-executed              a block that will not run (indented, or not a shell language)
    GD061 outside-any-phase         a shell block under no Diagnosis/Fix/Verification label
    GD050 never-ends                `tail -f`, `watch`, `journalctl -f`, `redis-cli monitor`, `top`: never ends
    GD051 needs-terminal            `kubectl exec -it`, `less`, `psql` with no command: they want a person at a terminal
    GD052 interactive-editor        `nano`, `vi`, `systemctl edit`, `crontab -e`, `kubectl edit`
    GD053 waits-for-answer          a y/N prompt nobody answers (`docker system prune` without -f)
    GD054 bare-sql                  SQL written as a shell line: the shell runs it and fails
    GD055 uses-sudo                 drills run steps as root; sudo must exist on the host (a note)
    GD062 nothing-runs              blocks hold commands, but no step would run in a drill (and why)
    (GD050-GD054 are warnings in steps a drill runs, notes elsewhere.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from harness.runbook.dangers import HazardKind, dangers, hazards
from harness.runbook.match import ExpectationError, mode_of
from harness.runbook.model import LintLevel, Location, Phase, Runbook, Section, Step
from harness.runbook.parse import collector_paused
from harness.runbook.shell import BlockKind, BlockReading, read_block
from harness.runbook.variables import Hole, block_assigned_names, block_holes, holes

NAMES = {
    "GD001": "unbound-placeholder", "GD002": "unbound-variable", "GD003": "variable-from-other-block",
    "GD004": "export-does-not-reach-service",
    "GD010": "destructive-command", "GD020": "fix-without-verification", "GD021": "diagnosis-without-expectation",
    "GD022": "diagnosis-changes-state", "GD030": "unknown-attribute", "GD031": "bad-attribute-value",
    "GD032": "unknown-host", "GD040": "unterminated-fence", "GD041": "expectation-without-command",
    "GD042": "bad-front-matter", "GD043": "bad-expectation", "GD044": "not-read", "GD060": "not-executed",
    "GD061": "outside-any-phase", "GD045": "inferred-expectation", "GD062": "nothing-runs",
    "GD050": "never-ends", "GD051": "needs-terminal", "GD052": "interactive-editor", "GD053": "waits-for-answer",
    "GD054": "bare-sql", "GD055": "uses-sudo",
}
HAZARD_CODES = {
    HazardKind.NEVER_ENDS: "GD050", HazardKind.NEEDS_TERMINAL: "GD051", HazardKind.EDITOR: "GD052",
    HazardKind.WAITS_FOR_ANSWER: "GD053", HazardKind.BARE_SQL: "GD054", HazardKind.SUDO: "GD055",
}

EXPORT = re.compile(r"\bexport\s+([A-Za-z_]\w*)=")
SERVICE_START = re.compile(r"\bsystemctl\s+(?:start|restart|reload-or-restart|try-restart)\s+(\S+)|"
                           r"\bservice\s+(\S+)\s+(?:start|restart)\b")
STATE_CHANGING = re.compile(
    r"\bsystemctl\s+(?:start|stop|restart|reload|kill)\b|\bservice\s+\S+\s+(?:start|stop|restart)\b|"
    r"\b(?:kill|pkill|killall)\s|\bpg_terminate_backend\b|\bdocker\s+(?:restart|stop|kill|rm)\b|\brm\s")


@dataclass(frozen=True)
class LintFinding:
    """A problem `gameday lint` reports about a runbook (not a drill's finding: harness.vocabulary.FindingKind).

    `subject` names the cause (a variable, a placeholder, a kind of danger): findings of one code with
    one cause in one section are reported once, with the other lines in `also`."""

    code: str
    severity: LintLevel
    message: str
    location: Location
    section: str = ""
    subject: str = ""
    also: tuple[int, ...] = ()

    @property
    def name(self) -> str:
        return NAMES.get(self.code, "finding")

    @property
    def lines(self) -> tuple[int, ...]:
        """Every line this finding stands for: its own, then those it collapsed."""
        return (self.location.line, *self.also)

    def __str__(self) -> str:
        more = ""
        if self.also:
            shown = ", ".join(str(line) for line in self.also[:_MAX_ALSO_SHOWN])
            more = f" (also line{'s' if len(self.also) > 1 else ''} {shown}"
            more += f" and {len(self.also) - _MAX_ALSO_SHOWN} more)" if len(self.also) > _MAX_ALSO_SHOWN else ")"
        return f"{self.location}: {self.severity.value} {self.code} {self.name}: {self.message}{more}"


_MAX_ALSO_SHOWN = 12


def lint(runbook: Runbook, *, hosts: Iterable[str] = (), bound: Iterable[str] = ()) -> list[LintFinding]:
    """Findings for a parsed runbook. `hosts`/`bound`: known host names and bound variable names,
    added to those the runbook's front matter declares. Every block that holds commands is checked,
    whatever its phase or fence label; repeated findings collapse per section and cause."""
    with collector_paused():
        return _lint(runbook, hosts, bound)


def _lint(runbook: Runbook, hosts: Iterable[str], bound: Iterable[str]) -> list[LintFinding]:
    known_hosts = set(hosts) | set(runbook.front_matter.hosts)
    bound_names = set(bound) | set(runbook.front_matter.variables)
    findings = [LintFinding(p.code, p.severity, p.message, p.location) for p in runbook.problems]
    # Where each variable is first set, in the whole document: a variable set in no block at all is
    # one the environment must give (GD002); set in another block, it is gone in a fresh shell (GD003).
    set_in: dict[str, Location] = {}
    for step in runbook.steps():
        for name in block_assigned_names(reading_of(step)):
            set_in.setdefault(name, step.location)
    verified_later = _verified_later(runbook)
    # Each section's own verification, counted once (not once per descendant: quadratic).
    verifying = {s.anchor for s in runbook.sections if s.steps_in(Phase.VERIFY)}
    for position, section in enumerate(runbook.sections):
        for step in section.steps:
            findings.extend(_step_findings(step, known_hosts, bound_names, set_in))
        if section.steps_in(Phase.FIX):
            verifies = any(a in verifying for a in _lineage(runbook, section.anchor)) or verified_later(
                section, position)
            if not verifies:
                findings.append(LintFinding(
                    "GD020", LintLevel.WARNING,
                    f"section #{section.anchor} has a fix but no verification step: add a **Verification**: "
                    "block whose `# Expected:` shows health is back", section.location, section.anchor))
    findings.extend(_nothing_runs(runbook))
    findings.extend(_inferred(runbook))
    return collapse(sorted(findings, key=lambda f: (f.location.line, f.code)))


def reading_of(step: Step) -> BlockReading:
    """What a person types in the block: as the parser read it, or read now (a step built by hand)."""
    return step.reading if step.reading is not None else read_block(step.language, step.text or step.code)


_DOCUMENT_WIDE = frozenset({"GD055"})  # said once per runbook: sudo is a habit of the whole document


def collapse(findings: Sequence[LintFinding]) -> list[LintFinding]:
    """Findings of one code and one cause in one section (for some codes, in the whole runbook),
    reported once: the first, with the lines of the others in `also`. Findings without a cause
    (`subject`) are kept as they are."""
    first: dict[tuple[str, str, str], int] = {}
    out: list[LintFinding] = []
    extra: dict[int, list[int]] = {}
    for finding in findings:
        if not finding.subject:
            out.append(finding)
            continue
        key = ("" if finding.code in _DOCUMENT_WIDE else finding.section, finding.code, finding.subject)
        if key in first:
            extra[first[key]].append(finding.location.line)
            continue
        first[key] = len(out)
        extra[len(out)] = []
        out.append(finding)
    collapsed = []
    for i, finding in enumerate(out):
        also = tuple(line for line in dict.fromkeys(extra.get(i, ())) if line != finding.location.line)
        collapsed.append(replace(finding, also=also) if also else finding)
    return collapsed


def _nothing_runs(runbook: Runbook) -> list[LintFinding]:
    """A runbook whose blocks hold commands but no step runs in a drill: say why, never a silent 0."""
    with_commands = [s for s in runbook.steps() if s.executable or reading_of(s).typed()]
    if not with_commands or any(s.executable and s.phase for s in with_commands):
        return []
    titles = {section.anchor: section for section in runbook.sections}
    unphased = [s for s in with_commands if s.executable and s.phase is None]
    shown = [s for s in with_commands if not s.executable]
    reasons = []
    if unphased:
        where = dict.fromkeys(s.section for s in unphased)
        named = ", ".join(f"`{titles[a].title}` (line {titles[a].location.line})" for a in list(where)[:3]
                          if a in titles)
        reasons.append(f"{len(unphased)} shell block(s) sit under no Diagnosis, Fix or Verification heading or "
                       f"label{f' (under {named})' if named else ''}")
    if shown:
        languages = ", ".join(sorted({s.language or "unlabelled" for s in shown}))
        reasons.append(f"{len(shown)} block(s) are {languages}, which are shown, never run")
    return [LintFinding(
        "GD062", LintLevel.WARNING,
        f"no step of this runbook runs in a drill: {'; '.join(reasons)}. Name the phase in a heading or a label "
        "(`## Diagnosis`, `**Fix:**`), or give a block {phase=...}", with_commands[0].location)]


def _inferred(runbook: Runbook) -> list[LintFinding]:
    """Expectations read from prose or other comment forms: shown, so a person can check the reading."""
    out = []
    for step in runbook.steps():
        for expectation in step.expectations:
            if expectation.inferred:
                out.append(LintFinding(
                    "GD045", LintLevel.INFO,
                    f"read {expectation.inferred} as the expected output of the block at line "
                    f"{step.location.line}: {_short(expectation.text)!r}", expectation.location, step.section,
                    subject="inferred"))
    return out


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _holes(step: Step, reading: BlockReading) -> list[Hole]:
    """Every line's variables and placeholders; a Windows block's placeholders too (its commands are
    not read as shell, but `<PID>` there still has to be filled in)."""
    if reading.kind is BlockKind.WINDOWS:
        return [h for h in holes(step.text or step.code, every_line=True) if h.kind == "placeholder"]
    return block_holes(reading, every_line=True)


def _verified_later(runbook: Runbook) -> Callable[[Section, int], bool]:
    """Whether a later sibling of a section is a verification step (`### 1. Scale up`, `### 2. Restart`,
    then `### 3. Confirm lag is dropping`): a section that only verifies. A sibling that diagnoses
    or fixes too is another problem with its own checks (`### 1b.` is not verified by `### 1c.`).
    One pass from the end, so linear in sections."""
    in_subtree: set[str] = set()  # sections that only verify, themselves or below
    last_verifying: dict[str | None, int] = {}  # parent -> position of its last child that only verifies
    for position in range(len(runbook.sections) - 1, -1, -1):
        section = runbook.sections[position]
        only_verifies = bool(section.steps_in(Phase.VERIFY)) and not (
            section.steps_in(Phase.FIX) or section.steps_in(Phase.DIAGNOSE))
        if only_verifies or section.anchor in in_subtree:
            in_subtree.add(section.anchor)
            if section.parent is not None:
                in_subtree.add(section.parent)
            last_verifying.setdefault(section.parent, position)

    def verified(section: Section, position: int) -> bool:
        return last_verifying.get(section.parent, -1) > position

    return verified


def _lineage(runbook: Runbook, anchor: str) -> list[str]:
    chain = []
    current: str | None = anchor
    while current is not None:
        chain.append(current)
        current = runbook.section(current).parent
    return chain


def _step_findings(step: Step, hosts: set[str], bound: set[str], set_in: dict[str, Location]) -> list[LintFinding]:
    out: list[LintFinding] = []

    def add(code: str, message: str, line: int | None = None, severity: LintLevel = LintLevel.WARNING,
            subject: str = "") -> None:
        where = Location(step.location.path, line) if line else step.location
        out.append(LintFinding(code, severity, message, where, step.section, subject))

    reading = reading_of(step)
    if not step.executable:
        if step.phase in (Phase.DIAGNOSE, Phase.FIX, Phase.VERIFY):
            add("GD060", f"{step.language or 'plain'} block under {step.phase.value}: shown, never executed",
                severity=LintLevel.INFO, subject="shown")
        if not reading.typed() and reading.kind is not BlockKind.WINDOWS:
            return out
    elif step.phase is None:
        add("GD061", "shell block under no Diagnosis/Fix/Verification label: not executed in drills "
                     "(add a label or {phase=...} to run it)", severity=LintLevel.INFO, subject="no-phase")
    if step.skip:
        add("GD060", f"skipped: {step.skip}", severity=LintLevel.INFO)
    runs = step.executable and step.phase is not None and not step.skip
    if hosts and step.host and step.host not in hosts and runs:
        add("GD032", f"host {step.host!r} is not one of {', '.join(sorted(hosts))}", severity=LintLevel.ERROR)
    first_code_line = step.location.line + 1
    for hole in _holes(step, reading):
        at = first_code_line + hole.line
        if hole.name in bound:
            continue
        if hole.kind == "variable":
            if hole.name in set_in:
                if set_in[hole.name] != step.location:
                    add("GD003", f"${hole.name} is set in another block ({set_in[hole.name]}), but every block "
                                 "runs in a fresh shell: set it here, or write it where the service reads it", at,
                        subject=hole.name)
            else:
                add("GD002", f"${hole.name} is read but set nowhere in this runbook; set it here, or declare it "
                             "in front matter `variables:` and bind it in the scenario", at, subject=hole.name)
        else:
            add("GD001", f"placeholder {hole.name!r} must be replaced before this runs; bind it in the "
                         "scenario and declare it in front matter `variables:`", at, subject=hole.name)
    for danger in dangers(reading):
        if step.destructive_ok:
            add("GD010", f"{danger.label} (accepted: {step.destructive_ok})", first_code_line + danger.line,
                LintLevel.INFO)
        else:
            add("GD010", f"{danger.label}: `{danger.snippet}`; if it is intended, say why with "
                         "{destructive=\"reason\"} on the block", first_code_line + danger.line, subject=danger.label)
    for hazard in hazards(reading):
        code = HAZARD_CODES[hazard.code_name]
        # A step a drill runs cannot do this; in a block nobody runs, it is a note for the reader.
        severity = LintLevel.INFO if hazard.code_name is HazardKind.SUDO or not runs else LintLevel.WARNING
        add(code, hazard.message, first_code_line + hazard.line, severity, subject=hazard.code_name.value)
    # Comment lines blanked (not removed) so that positions still map to lines.
    code_lines = ["" if line.strip().startswith("#") else line for line in step.code.split("\n")]
    if step.phase is Phase.DIAGNOSE and step.executable:
        for offset, line in enumerate(code_lines):
            if line.strip() and STATE_CHANGING.search(line):
                add("GD022", f"a diagnosis that changes state: `{line.strip()[:80]}`; running it would fix or "
                             "break things while looking; move it under **Fix**:", first_code_line + offset)
    exported: dict[str, int] = {}
    for offset, line in enumerate(code_lines if step.executable else ()):
        for found in EXPORT.finditer(line):
            exported.setdefault(found.group(1), first_code_line + offset)
        started = SERVICE_START.search(line)
        if started and exported:
            unit = started.group(1) or started.group(2)
            names = ", ".join(sorted(exported))
            add("GD004", f"`export {names}` only changes this shell; `{started.group(0).strip()}` starts {unit} "
                         "from its own unit environment, which never sees it: write the value where the service "
                         "reads its settings (its environment file), then restart", first_code_line + offset)
    if step.phase is Phase.DIAGNOSE and step.executable and not step.expectations:
        add("GD021", "diagnosis with no `# Expected:` comment: nothing tells a healthy output from a broken one",
            subject="no-expectation")
    for expectation in step.expectations:
        try:
            mode_of(expectation.text)
        except ExpectationError as exc:
            add("GD043", str(exc), expectation.location.line, LintLevel.ERROR)
    return out


def summary_counts(findings: Iterable[LintFinding]) -> dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity.value] += 1
    return counts
