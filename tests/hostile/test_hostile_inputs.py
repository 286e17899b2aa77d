"""The hostile-input corpus: every bad input a person (or a bad day) can hand `gameday`.

Each case runs the real entry point (`python -m harness.cli ...`) as its own process and holds
it to the contract of DESIGN.md "Reliability and safety" and "Modes and CLI":

- the exit code: 0 ok, 1 findings (lint), 2 bad input (nothing started), 3 infrastructure;
- one line of the output names the file (and `:LINE` where a line is knowable) and what is wrong;
- no `Traceback`, and no hang (every case has a time limit);
- `run`, `check` and `shell` start no container: none is created by that process (Docker's event
  stream, filtered by the `gameday.pid=<pid>` label every harness container carries) and none is
  left behind (the same label on the container list after the process exits).

Inputs live in `corpus/` (small, readable, one problem each); huge, deep and random ones are made
in tmp_path. Scenario modules are `corpus/scenarios/*.py.txt` (not importable, not linted), copied
as `.py` into a tmp folder that goes on the subprocess's PYTHONPATH. In every corpus text `@R` is
the repository root, `@C` the corpus folder and `@T` the test's tmp_path.

Cases marked `xfail(strict=True, reason="BUG: ...")` state the correct behaviour of an input the
harness mishandles today; when the bug is fixed the case passes, turns XPASS and fails the run
until its mark is removed.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
CASE_TIMEOUT = 90.0  # seconds; a case that needs it is a hang
STARTS_THINGS = frozenset({"run", "check", "shell"})
PID_LABEL = "gameday.pid"

Maker = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    code: int | tuple[int, ...]
    fragments: tuple[str, ...] = ()  # all on ONE line of `stream`
    stream: str = "stderr"
    make: Maker | None = None  # writes generated inputs into tmp_path
    modules: tuple[str, ...] = ()  # corpus/scenarios/NAME.py.txt copied as NAME.py onto PYTHONPATH
    env: tuple[tuple[str, str], ...] = ()
    max_seconds: float | None = None  # a tighter bound than CASE_TIMEOUT
    memory_limit: int | None = None  # bytes of address space (RLIMIT_AS) for inputs that could eat memory


@dataclass(frozen=True)
class Outcome:
    pid: int
    code: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool
    started: float


def expand(text: str, tmp: Path) -> str:
    return text.replace("@R", str(ROOT)).replace("@C", str(CORPUS)).replace("@T", str(tmp))


# -- generated inputs -----------------------------------------------------------------------------


def huge_line(tmp: Path) -> None:
    """A 1 MB prose line and a 1 MB command line (the block at line 9 has no expectation: GD021)."""
    words = "lorem *ipsum* `dolor` [sit](amet) $HOME <b>x</b> {phase=fix} "
    prose = (words * (1_000_000 // len(words) + 1))[:1_000_000]
    command = "echo " + ("abc123 'q' \"Q\" ; " * (1_000_000 // 16))[:1_000_000]
    (tmp / "huge.md").write_text(f"# Huge\n\n{prose}\n\n## 1. Big\n\n**Check**:\n\n```bash\n{command}\n```\n")


def deep_lists(tmp: Path) -> None:
    """1000 nested list levels, then a diagnosis block (line 1008) with no expectation: GD021."""
    nested = "".join("  " * level + "- level\n" for level in range(1000))
    (tmp / "deep_lists.md").write_text(f"# Deep\n\n## 1. Lists\n\n{nested}\n**Check**:\n\n```bash\nuptime\n```\n")


def ten_level_list(tmp: Path) -> None:
    """An outline 10 levels deep, then section 2 whose fix (line 21) is `rm -rf`: GD010."""
    nested = "".join("  " * level + "- level\n" for level in range(10))
    (tmp / "ten_levels.md").write_text(f"# Deep\n\n## 1. Outline\n\n{nested}\n## 2. Fix it\n\n**Fix**:\n\n"
                                       "```bash\nrm -rf /var/lib/postgresql\n```\n")


def deep_quotes(tmp: Path) -> None:
    """1000 nested blockquotes, the innermost holding a fence; then a block (line 13) with no expectation."""
    quote = ">" * 1000
    (tmp / "deep_quotes.md").write_text(
        f"# Deep\n\n{quote} **Check**:\n{quote}\n{quote} ```bash\n{quote} uptime\n{quote} ```\n"
        "\n## 1. After\n\n**Check**:\n\n```bash\nuptime\n```\n")


def random_utf8(tmp: Path) -> None:
    """64 KB of seeded random characters, weighted toward markdown's own punctuation."""
    rng = random.Random(20261122)
    pool = "#*`>-_[](){}=!<>|~\\/\"' \n\t\r" + "abcXYZ019" + "éß€中文🙂\u200b\u202e\ufeff"
    text = "".join(rng.choice(pool) for _ in range(64_000))
    (tmp / "random.md").write_text(text, encoding="utf-8")


def too_large(tmp: Path) -> None:
    line = "Nothing to see here, just a long runbook.\n"
    (tmp / "too_large.md").write_text(line * (5_000_000 // len(line) + 2))


def report_file(tmp: Path) -> None:
    (tmp / "reports.txt").write_text("a file where the reports folder should be\n")


def empty_folder(tmp: Path) -> None:
    (tmp / "gameday-empty").mkdir()


# -- the corpus -----------------------------------------------------------------------------------


def lint(name: str, code: int, *fragments: str, args: tuple[str, ...] = ()) -> Case:
    """`gameday lint` of a corpus runbook: findings are on stdout, unreadable input on stderr."""
    stream = "stdout" if code in (0, 1) else "stderr"
    return Case(("lint", *args, f"@C/runbooks/{name}"), code, fragments, stream=stream)


def check(name: str, line: int | None, *fragments: str, command: str = "check") -> Case:
    where = f"@C/stacks/{name}" + (f":{line}:" if line else ":")
    return Case((command, "--stack", f"@C/stacks/{name}"), 2, (where, *fragments))


def scenario(module: str, *fragments: str, command: str = "run", more: tuple[str, ...] = ()) -> Case:
    argv = (command, "--scenarios", ",".join((module, *more)))
    if command == "run":
        argv += ("--report", "@T/reports")
    return Case(argv, 2, fragments, modules=(module, *more))


def bug(reason: str) -> pytest.MarkDecorator:
    """A case that exposed a bug when it was written (since fixed): it now pins the fix."""
    return pytest.mark.regression(reason=f"was: {reason}")


DEEP_NESTING_BUG = bug(
    "harness/runbook/parse.py _Parser.run parses with MarkdownIt('commonmark'), whose maxNesting is 20; when a "
    "document nests deeper, markdown-it skips the REST OF THE FILE (parser_block.tokenize: state.line = endLine). "
    "A list 10 levels deep (2 nesting levels per level) silently drops every later heading, section and step: "
    "`gameday lint` says 0 steps and exits 0 although an `rm -rf` fix follows, and a drill of a later section fails "
    "with 'no section'. Blockquotes 20 deep drop their content the same way. Expected: the later blocks are read "
    "(higher maxNesting) or at least a finding at the line where reading stopped")
DOCKER = pytest.mark.docker  # the case talks to Docker (it checks no container was started)

CASES = [
    # -- runbooks for `gameday lint`: findings exit 1 with file:line; unreadable input exits 2 -----
    pytest.param(lint("binary.md", 2, "@C/runbooks/binary.md: ", "binary"), id="runbook-binary"),
    pytest.param(lint("not_utf8.md", 2, "@C/runbooks/not_utf8.md:3: ", "not UTF-8"), id="runbook-not-utf8"),
    pytest.param(lint("not_utf8.md", 2, "@C/runbooks/not_utf8.md:3:", "not UTF-8"),
                 id="runbook-not-utf8-file-colon-line",
                 marks=bug("harness/runbook/parse.py read_runbook: a runbook that is not UTF-8 is reported as "
                           "'PATH: line 3: not UTF-8 text' instead of 'PATH:3: ...', the file:line form every other "
                           "message uses (and editors jump to)")),
    pytest.param(Case(("lint", "@C/runbooks"), 2, ("@C/runbooks: ", "is a folder")), id="runbook-folder"),
    pytest.param(Case(("lint", "@T/missing.md"), 2, ("@T/missing.md: ", "No such file")), id="runbook-missing"),
    # An empty file is a runbook with nothing in it: no sections, no findings, exit 0.
    pytest.param(lint("empty.md", 0, "@C/runbooks/empty.md: 0 sections, 0 executable steps"), id="runbook-empty"),
    pytest.param(lint("unterminated_fence.md", 1, "@C/runbooks/unterminated_fence.md:7: error GD040"),
                 id="runbook-unterminated-fence"),
    pytest.param(lint("unknown_attribute.md", 1, "@C/runbooks/unknown_attribute.md:7: ", "GD030", "'colour'"),
                 id="runbook-unknown-attribute"),
    pytest.param(lint("bad_timeout.md", 1, "@C/runbooks/bad_timeout.md:7: ", "GD031", "timeout", "'soon'"),
                 id="runbook-bad-timeout"),
    pytest.param(lint("unbalanced_quote.md", 1, "@C/runbooks/unbalanced_quote.md:7: ", "GD031", "No closing quotation"),
                 id="runbook-unbalanced-quote"),
    pytest.param(lint("unknown_host.md", 1, "@C/runbooks/unknown_host.md:7: error GD032", "'web'",
                      args=("--hosts", "app,db")), id="runbook-unknown-host"),
    pytest.param(lint("invalid_regex.md", 1, "@C/runbooks/invalid_regex.md:9: error GD043", "/[unclosed/"),
                 id="runbook-invalid-regex"),
    pytest.param(lint("expectation_first.md", 1, "@C/runbooks/expectation_first.md:8: ", "GD041"),
                 id="runbook-expectation-before-command"),
    pytest.param(lint("unclosed_front_matter.md", 1, "@C/runbooks/unclosed_front_matter.md:1: ", "GD042"),
                 id="runbook-unclosed-front-matter"),
    # Shown, never executed: an HTML-only file has no sections and no steps (exit 0), even with `rm -rf` in it.
    pytest.param(lint("only_html.md", 0, "@C/runbooks/only_html.md: 0 sections, 0 executable steps"),
                 id="runbook-only-html"),
    pytest.param(Case(("lint", "@T/huge.md"), 1, ("@T/huge.md:9: ", "GD021"), stream="stdout", make=huge_line,
                      max_seconds=30), id="runbook-huge-line"),
    pytest.param(Case(("lint", "@T/deep_lists.md"), 1, ("@T/deep_lists.md:", "error GD044", "was read"),
                      stream="stdout",
                      make=deep_lists, max_seconds=30), id="runbook-deep-lists", marks=DEEP_NESTING_BUG),
    pytest.param(Case(("lint", "@T/ten_levels.md"), 1, ("@T/ten_levels.md:21: ", "GD010", "rm -rf"), stream="stdout",
                      make=ten_level_list), id="runbook-list-10-levels-hides-the-rest", marks=DEEP_NESTING_BUG),
    pytest.param(Case(("lint", "@T/deep_quotes.md"), 1, ("@T/deep_quotes.md:13: ", "GD021"), stream="stdout",
                      make=deep_quotes, max_seconds=30), id="runbook-deep-blockquotes"),
    # Readable text: findings or none depend on the draw; never 2, 3 or a traceback.
    pytest.param(Case(("lint", "@T/random.md"), (0, 1), ("@T/random.md: ", "sections"), stream="stdout",
                      make=random_utf8, max_seconds=30), id="runbook-random-utf8"),
    pytest.param(Case(("lint", "@T/too_large.md"), 2, ("@T/too_large.md: ", "larger than 5 MB"), make=too_large,
                      max_seconds=30), id="runbook-too-large"),
    pytest.param(Case(("lint", "/dev/zero"), 2, ("/dev/zero: ",), max_seconds=30, memory_limit=1 << 30),
                 id="runbook-device-dev-zero",
                 marks=bug("harness/runbook/parse.py read_runbook: `gameday lint /dev/zero` reads the whole (endless) "
                           "file before checking MAX_RUNBOOK_BYTES, so it eats memory until the machine (here: a 1 GB "
                           "RLIMIT_AS) gives out and dies with a MemoryError traceback; expected exit 2 'not a regular "
                           "file' or 'larger than 5 MB' after reading at most MAX_RUNBOOK_BYTES + 1")),
    pytest.param(Case(("lint", "--stack", "@C/stacks/bad_port.toml", "@C/runbooks/unknown_host.md"), 2,
                      ("@C/stacks/bad_port.toml:7: ", "ports")), id="lint-with-bad-stack"),
    # -- stack definitions: exit 2 with file:line, nothing started (no Docker work at all) ---------
    pytest.param(check("invalid_toml.toml", 8, "not valid TOML"), id="stack-invalid-toml", marks=DOCKER),
    pytest.param(check("unknown_top_key.toml", 2, "unknown key 'colour'"), id="stack-unknown-top-key", marks=DOCKER),
    pytest.param(check("unknown_service_key.toml", 7, "unknown key 'imagee'"), id="stack-unknown-service-key",
                 marks=DOCKER),
    pytest.param(check("missing_dockerfile.toml", 3, "dockerfile is required"), id="stack-missing-dockerfile",
                 marks=DOCKER),
    pytest.param(check("dockerfile_not_found.toml", 5, "images/app/Dockerfile does not exist", command="build"),
                 id="stack-dockerfile-not-found"),
    pytest.param(check("unknown_placeholder.toml", 9, "${DB_PASWORD}"), id="stack-unknown-placeholder",
                 marks=DOCKER),
    pytest.param(check("bad_port.toml", 7, "ports must be a list of port numbers"), id="stack-bad-port", marks=DOCKER),
    pytest.param(check("dependency_cycle.toml", 3, "cycle"), id="stack-dependency-cycle", marks=DOCKER),
    pytest.param(check("unknown_dependency.toml", 7, "unknown service 'database'"), id="stack-unknown-dependency",
                 marks=DOCKER),
    pytest.param(check("bad_health_duration.toml", 10, "health.timeout", "'soon'"), id="stack-bad-health-duration",
                 marks=DOCKER),
    pytest.param(check("service_named_local.toml", 3, "'local' is not allowed"), id="stack-service-named-local",
                 marks=DOCKER),
    pytest.param(check("bad_file_mode.toml", 10, "'0999' is not octal", command="build"), id="stack-bad-file-mode"),
    pytest.param(check("secret_bytes.toml", 3, "API_KEY.bytes must be an integer from 16 to 256"),
                 id="stack-secret-bytes-out-of-range", marks=DOCKER),
    pytest.param(check("bad_redaction.toml", 4, "'tok_[A-Z' is not a valid regular expression"),
                 id="stack-invalid-redaction-regex", marks=DOCKER),
    pytest.param(check("not_utf8.toml", None, "not UTF-8", command="build"), id="stack-not-utf8"),
    pytest.param(Case(("check", "--stack", "@T/nowhere.toml"), 2, ("@T/nowhere.toml: ", "No such file")),
                 id="stack-missing-file", marks=DOCKER),
    pytest.param(Case(("build", "--stack", "@C/stacks"), 2, ("@C/stacks: ", "cannot read")), id="stack-is-a-folder"),
    # -- scenarios: exit 2, nothing started -----------------------------------------------------------
    pytest.param(scenario("hostile_bad_budget", "scenario 'hostile-bad-budget/hostile-bad-budget'", "'soon'",
                          command="list"),
                 id="scenario-bad-budget"),
    pytest.param(scenario("hostile_bad_severity", "scenario 'hostile-bad-severity/hostile-bad-severity'", "'SEV1'"),
                 id="scenario-unknown-severity", marks=DOCKER),
    pytest.param(scenario("hostile_bad_id", "scenario 'DB Down!'", "lowercase"), id="scenario-bad-id", marks=DOCKER),
    pytest.param(scenario("hostile_bad_budget", "hostile_bad_budget.py:7", "'soon'", command="list"),
                 id="scenario-bad-budget-names-its-file",
                 marks=bug("harness/scenarios.py scenario(): registration errors (bad budget, severity, id, "
                           "min_success_ratio, steady_consecutive, defined twice) say `scenario 'ID': ...` but not "
                           "where: no module file and line of the @scenario call, which Python knows "
                           "(the caller's frame); DESIGN.md wants file and line for every bad input")),
    pytest.param(scenario("hostile_missing_runbook", "hostile-no-runbook", "@T/nowhere/RUNBOOK.md does not exist"),
                 id="scenario-missing-runbook", marks=DOCKER),
    pytest.param(scenario("hostile_unknown_section", "@R/stack/chatkit/RUNBOOK.md: no section #9z-no-such-section"),
                 id="scenario-unknown-section", marks=DOCKER),
    pytest.param(scenario("hostile_unknown_host", "@C/runbooks/scenario_host_web.md:14: host 'web'", "chatkit"),
                 id="scenario-step-host-not-in-stack", marks=DOCKER),
    pytest.param(scenario("hostile_missing_stack", "@T/nowhere/stack.toml: ", "No such file"),
                 id="scenario-missing-stack", marks=DOCKER),
    pytest.param(scenario("hostile_twice_a", "scenario 'hostile/hostile-twice' is defined twice",
                          more=("hostile_twice_b",)),
                 id="scenario-defined-twice", marks=DOCKER),
    pytest.param(Case(("run", "--scenarios", "hostile_no_such_module", "--report", "@T/reports"), 2,
                      ("scenario module 'hostile_no_such_module' cannot be imported",)),
                 id="scenario-module-missing", marks=DOCKER),
    pytest.param(Case(("run", "-k", "zzz-no-such-drill", "--report", "@T/reports"), 2,
                      ("-k 'zzz-no-such-drill' selects no scenario",)), id="scenario-k-selects-nothing", marks=DOCKER),
    pytest.param(scenario("hostile_syntax_error", "hostile_syntax_error.py:3", "SyntaxError"),
                 id="scenario-module-syntax-error", marks=[DOCKER, bug(
                     "harness/scenarios.py load_scenarios: a scenario module with a SyntaxError escapes "
                     "importlib.import_module uncaught: `gameday run --scenarios M` prints a Traceback and exits 1; "
                     "expected exit 2 with 'M.py:3: SyntaxError ...' (SyntaxError carries filename and lineno)")]),
    pytest.param(scenario("hostile_missing_dependency", "hostile_missing_dependency.py:1", "no_such_dependency_xyz"),
                 id="scenario-module-missing-dependency", marks=[DOCKER, bug(
                     "harness/scenarios.py load_scenarios: a ModuleNotFoundError for anything but the named module "
                     "itself (a scenario module importing a package that is not installed) is re-raised: Traceback, "
                     "exit 1; expected exit 2 naming the module file:line and the missing package")]),
    pytest.param(Case(("list", "--scenarios", ""), 2, ("scenario module",)), id="scenario-module-empty-name",
                 marks=bug("harness/scenarios.py load_scenarios: `--scenarios ''` (or 'a,,b') passes '' to "
                           "importlib.import_module: ValueError('Empty module name') Traceback, exit 1; expected "
                           "exit 2 'scenario module '' ...'")),
    pytest.param(Case(("list", "--scenarios", ".relative"), 2, ("scenario module '.relative'",)),
                 id="scenario-module-relative-name",
                 marks=bug("harness/scenarios.py load_scenarios: `--scenarios .relative` raises TypeError ('the "
                           "package argument is required to perform a relative import') from importlib: Traceback, "
                           "exit 1; expected exit 2")),
    pytest.param(Case(("run", "--scenarios", "json", "--report", "@T/reports"), 2, ("json", "no scenario")),
                 id="scenario-module-registers-nothing", marks=[DOCKER, bug(
                     "harness/cli.py _selected/cmd_run: modules that register no scenario (`--scenarios json`) give "
                     "a gameday of 0 drills that 'passes' with exit 0 and writes a journal and reports; `-k` "
                     "selecting nothing is exit 2, so should this be")]),
    pytest.param(scenario("hostile_unbound_variable", "@C/runbooks/needs_token.md:12", "TOKEN"),
                 id="scenario-unbound-variable", marks=[DOCKER, bug(
                     "harness/gameday.py check_inputs does not check that a scenario binds the variables its "
                     "runbook declares (front matter `variables:`) and reads; harness/drill.py Drill.bind_variables "
                     "finds it only after the image build and Stack.up(), the BadInput becomes a harness-error "
                     "verdict and `gameday run` exits 3 after creating containers; expected exit 2 "
                     "'RUNBOOK.md:12: the runbook needs TOKEN, which scenario ... does not bind' before any "
                     "container starts")]),
    # -- command line ----------------------------------------------------------------------------------
    pytest.param(Case(("frobnicate",), 2, ("invalid choice: 'frobnicate'",)), id="cli-unknown-command"),
    pytest.param(Case(("run", "--frobnicate"), 2, ("unrecognized arguments: --frobnicate",)),
                 id="cli-unknown-option", marks=DOCKER),
    pytest.param(Case(("lint",), 2, ("required: RUNBOOK",)), id="cli-lint-without-file"),
    pytest.param(Case(("run", "--jobs", "0"), 2, ("--jobs 0: give 1 to 8 stacks at once",)), id="cli-run-jobs-zero",
                 marks=DOCKER),
    pytest.param(Case(("run", "--jobs", "two"), 2, ("invalid int value: 'two'",)), id="cli-run-jobs-not-a-number"),
    pytest.param(Case(("run", "-k", "db-down", "--report", "@T/reports.txt"), 2, ("@T/reports.txt",),
                      make=report_file), id="cli-run-report-is-a-file", marks=[DOCKER, bug(
                          "harness/cli.py cmd_run / harness/journal.py Journal.__init__: `gameday run --report FILE` "
                          "passes check_inputs, then mkdir of FILE/gameday-*/ raises NotADirectoryError: Traceback, "
                          "exit 1 (after printing 'journal in FILE/gameday-.../journal.jsonl'); expected exit 2 "
                          "'FILE: not a folder' before anything else")]),
    pytest.param(Case(("shell", "nosuchhost", "--system", "chatkit"), 2, ("unknown host 'nosuchhost'", "app")),
                 id="cli-shell-unknown-host",
                 marks=DOCKER),
    pytest.param(Case(("shell", "nosuchhost", "--system", "chatkit"), 2, ("unknown host 'nosuchhost'",),
                      env=(("DOCKER_HOST", "unix:///nonexistent/hostile/docker.sock"),)),
                 id="cli-shell-unknown-host-without-docker", marks=bug(
                     "harness/cli.py cmd_shell: the host is checked only after prepare() has connected to Docker, "
                     "reaped and built (or checked) every image; with no engine `gameday shell nosuchhost` exits 3 "
                     "'no Docker engine answers' instead of 2 'unknown host', and with one it does image work for "
                     "a command that can never run; check args.host against load_definition(args.stack) first")),
    pytest.param(Case(("report", "@T/gameday-x/journal.jsonl"), 2, ("@T/gameday-x/journal.jsonl: ", "no such journal")),
                 id="cli-report-missing-journal"),
    pytest.param(Case(("report", "@C/journals/corrupt.jsonl", "--out", "@T/out"), 2,
                      ("@C/journals/corrupt.jsonl:3: ", "not a journal event")), id="cli-report-corrupt-journal"),
    pytest.param(Case(("report", "@C/journals/unknown_event.jsonl", "--out", "@T/out"), 2,
                      ("@C/journals/unknown_event.jsonl:2: ", "unknown event type 'DrillExploded'")),
                 id="cli-report-unknown-event"),
    pytest.param(Case(("report", "@C/journals/wrong_types.jsonl", "--out", "@T/out"), 2,
                      ("@C/journals/wrong_types.jsonl:3: ", "expected float, got str")), id="cli-report-wrong-types"),
    pytest.param(Case(("report", "@C/journals/future_schema.jsonl", "--out", "@T/out"), 2,
                      ("@C/journals/future_schema.jsonl:1: ", "schema_version 2")), id="cli-report-future-schema"),
    pytest.param(Case(("report", "@C/journals/binary.jsonl", "--out", "@T/out"), 2,
                      ("@C/journals/binary.jsonl: ", "cannot be read")), id="cli-report-binary-journal"),
    pytest.param(Case(("report", "@T/gameday-empty"), 2, ("@T/gameday-empty: ", "no journal*.jsonl"),
                      make=empty_folder), id="cli-report-empty-folder"),
    pytest.param(Case(("report", "@C/journals/valid.jsonl", "--out", "@T/reports.txt"), 2, ("@T/reports.txt",),
                      make=report_file), id="cli-report-out-is-a-file",
                 marks=bug("harness/report/__init__.py write_reports: `gameday report J --out FILE` calls "
                           "FILE.mkdir(exist_ok=True), which raises FileExistsError for a file: Traceback, exit 1; "
                           "expected exit 2 'FILE: not a folder'")),
]


# -- running a case -------------------------------------------------------------------------------


def run_cli(argv: list[str], *, env: dict[str, str], timeout: float, memory_limit: int | None) -> Outcome:
    """The real entry point in its own process; on a hang it gets SIGTERM (so it tears down), then SIGKILL."""

    def limit_memory() -> None:
        if memory_limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", *argv], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                            preexec_fn=limit_memory if memory_limit else None)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.send_signal(signal.SIGTERM)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
    return Outcome(proc.pid, proc.returncode, stdout, stderr, time.time() - started, timed_out, started)


def containers_of(outcome: Outcome) -> tuple[list[str], list[str]]:
    """Containers the process created (Docker's events) and those it left (the container list)."""
    client = docker.from_env(timeout=30)
    try:
        label = f"{PID_LABEL}={outcome.pid}"
        events = client.events(since=outcome.started - 1, until=time.time(), decode=True,
                               filters={"type": "container", "event": "create", "label": label})
        created = [str(e.get("Actor", {}).get("Attributes", {}).get("name", e.get("id"))) for e in events]
        left = [c.name for c in client.containers.list(ignore_removed=True, all=True, filters={"label": label})]
        for container in client.containers.list(ignore_removed=True, all=True, filters={"label": label}):
            container.remove(force=True, v=True)  # never leave what a failed case started
    finally:
        client.close()
    return created, left


def one_line_with(text: str, fragments: list[str]) -> str | None:
    return next((line for line in text.splitlines() if all(f in line for f in fragments)), None)


@pytest.mark.parametrize("case", CASES)
def test_hostile_input(case: Case, tmp_path: Path) -> None:
    if case.make is not None:
        case.make(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **dict(case.env)}
    if case.modules:
        mods = tmp_path / "mods"
        mods.mkdir()
        for name in case.modules:
            text = (CORPUS / "scenarios" / f"{name}.py.txt").read_text()
            (mods / f"{name}.py").write_text(expand(text, tmp_path))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(mods), env.get("PYTHONPATH", "")) if p)
    argv = [expand(a, tmp_path) for a in case.argv]

    outcome = run_cli(argv, env=env, timeout=CASE_TIMEOUT, memory_limit=case.memory_limit)
    shown = f"gameday {' '.join(argv)}\n--- exit {outcome.code} in {outcome.seconds:.1f}s\n" \
            f"--- stdout\n{outcome.stdout[-3000:]}\n--- stderr\n{outcome.stderr[-3000:]}"

    assert not outcome.timed_out, f"hung (no exit within {CASE_TIMEOUT:g}s)\n{shown}"
    if case.max_seconds is not None:
        assert outcome.seconds < case.max_seconds, f"took {outcome.seconds:.1f}s (bound {case.max_seconds:g}s)\n{shown}"
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    assert outcome.code in codes, f"exit {outcome.code}, expected {case.code}\n{shown}"
    assert "Traceback" not in outcome.stdout + outcome.stderr, f"a traceback\n{shown}"
    fragments = [expand(f, tmp_path) for f in case.fragments]
    stream = outcome.stdout if case.stream == "stdout" else outcome.stderr
    assert one_line_with(stream, fragments), f"no single {case.stream} line holds all of {fragments}\n{shown}"
    if argv[0] in STARTS_THINGS:
        created, left = containers_of(outcome)
        assert not created, f"bad input, yet the process created containers {created}\n{shown}"
        assert not left, f"the process left containers {left}\n{shown}"


def test_corpus_is_big_enough() -> None:
    """The brief: at least 30 hostile inputs, each with its own id."""
    ids = [p.id for p in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


def test_corpus_files_are_small() -> None:
    """Huge, deep and random inputs are generated in tmp_path; the checked-in corpus stays small."""
    sizes = {p.relative_to(CORPUS): p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()}
    assert sizes
    assert max(sizes.values()) < 4096, sizes
