"""More hostile inputs, through the real entry point (`python -m harness.cli ...`), on the same contract
as test_hostile_inputs.py: exit code, one line naming the file or argument, no traceback, a time
bound (each case here: under CASE_SECONDS), and nothing written outside where it should be (a
watched folder, `@T/outside`, stays as it was). Commands that could start containers (train, shell,
check) are marked `docker` and also prove that none was created.

Classes: files that are not regular files (FIFOs, devices, sockets, folders) where a runbook, a stack
definition or an exercise is expected; runbooks that used to lint in quadratic time; terminal control
characters in a runbook; a crafted `REPORTS/train/active.json` (bad types, pid 0 and negative, a
session folder outside REPORTS/train, through a symlink, a file, `..`); `train --exercises` naming a
file or nothing; a catastrophic redaction pattern recorded in a journal; what an interrupt says.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.test_hostile_inputs import CORPUS, ROOT, containers_of, expand, one_line_with, run_cli

CASE_SECONDS = 5.0  # every case here ends within this (a hang or a quadratic input would not)
CONTROL_CHARACTERS = ("\x1b", "\x07", "\x08", "\u202e")

Maker = Callable[[Path], None]


@dataclass(frozen=True)
class MoreCase:
    argv: tuple[str, ...]
    code: int | tuple[int, ...]
    fragments: tuple[str, ...] = ()  # all on ONE line of `stream`
    stream: str = "stderr"
    make: Maker | None = None
    forbidden: tuple[str, ...] = ()  # never in stdout or stderr (terminal controls, secrets)
    starts_things: bool = False  # the command could create containers: prove it did not (Docker)
    modules: tuple[str, ...] = ()  # corpus/scenarios/NAME.py.txt copied as NAME.py onto PYTHONPATH


# -- generated inputs ------------------------------------------------------------------------------


def outside(tmp: Path) -> Path:
    """The folder no case may write into."""
    folder = tmp / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "keep.txt").write_text("untouched\n")
    return folder


def fifo(name: str) -> Maker:
    def make(tmp: Path) -> None:
        os.mkfifo(tmp / name)
    return make


def symlink_to(name: str, target: str) -> Maker:
    def make(tmp: Path) -> None:
        (tmp / name).symlink_to(expand(target, tmp))
    return make


def unix_socket(tmp: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp / "socket.md"))


def big_runbook(builder: Callable[[], str]) -> Maker:
    def make(tmp: Path) -> None:
        (tmp / "big.md").write_text(builder())
    return make


def _unclosed_images() -> str:
    """220 kB: headings, list items and a paragraph of unclosed `![` (markdown-it's link rule is quadratic)."""
    parts = ["# Big\n"]
    for i in range(2_000):
        parts.append(f"## s{i} ![a ![b\n**Fix**:\n- ![item {i} ![x [y\n```bash\nsystemctl restart app\n```\n")
    parts.append("\n" + "![a" * 30_000 + "\n")
    return "".join(parts)


def _sections() -> str:
    return "".join(f"## s{i}\n**Fix**:\n```sh\nx\n```\n" for i in range(20_000))


def _long_line_placeholders() -> str:
    line = " ; ".join(f"X{i}=val{i} A{i}_ID" for i in range(8_000))
    return f"## 1. One\n\n**Diagnosis**:\n\n```bash\n{line}\n# Expected: ok\n```\n"


def _blank_lines_in_a_block() -> str:
    return "## 1. One\n\n**Diagnosis**:\n\n```bash\nx\n" + "\n" * 60_000 + "# Expected: ok\n```\n"


def exercises(*extra: tuple[str, Maker | None]) -> Maker:
    """A folder `@T/ex` with a good exercise and the bad entries given (name, maker of it)."""
    def make(tmp: Path) -> None:
        folder = tmp / "ex"
        folder.mkdir()
        shutil.copy(CORPUS / "exercises" / "ok.toml", folder / "ok.toml")
        for name, maker in extra:
            if maker is not None:
                maker(folder / name)
    return make


def _fifo_at(path: Path) -> None:
    os.mkfifo(path)


def _zero_at(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge_at(path: Path) -> None:
    path.write_text('scenario = "db-down"\npage = "' + "x" * 200_000 + '"\n')


def _folder_at(path: Path) -> None:
    path.mkdir()


def active(body: object | None = None, *, raw: str | None = None, session: str | None = None) -> Maker:
    """`@T/reports/train/active.json` as given, with a real session folder unless `session` says otherwise
    (`@T` expanded; a controller pid that runs: this test's own process, so only the checks stop it)."""
    def make(tmp: Path) -> None:
        outside(tmp)
        root = tmp / "reports" / "train"
        real = root / "20261126-000000-abcdef"
        real.mkdir(parents=True)
        (real / "hints.json").write_text("[]\n")
        if raw is not None:
            (root / "active.json").write_text(raw)
            return
        fields = {"session": str(real), "pid": os.getpid(), "pid_start": "", "stack": "s",
                  "hosts": {"app": "abc123"}, "time_limit": 600.0, "started_at": "2026-11-26T00:00:00+00:00",
                  "report": str(tmp / "reports")}
        if isinstance(body, dict):
            fields.update(body)
        elif body is not None:
            fields = body  # type: ignore[assignment]
        if session is not None:
            fields["session"] = expand(session, tmp)  # type: ignore[index]
        (root / "active.json").write_text(json.dumps(fields))
    return make


def then(*makers: Maker) -> Maker:
    def make(tmp: Path) -> None:
        for maker in makers:
            maker(tmp)
    return make


def symlinked_session(tmp: Path) -> None:
    (tmp / "reports" / "train" / "linked").symlink_to(tmp / "outside", target_is_directory=True)


def file_session(tmp: Path) -> None:
    (tmp / "reports" / "train" / "a-file").write_text("not a folder\n")


def fifo_active(tmp: Path) -> None:
    root = tmp / "reports" / "train"
    root.mkdir(parents=True)
    os.mkfifo(root / "active.json")


# -- the cases -------------------------------------------------------------------------------------

ACTIVE = "@T/reports/train/active.json"
HINT = ("hint", "--report", "@T/reports")
GIVEUP = ("giveup", "--report", "@T/reports")
TRAIN = ("train", "secret-missing", "--report", "@T/reports")


def lint_big(builder: Callable[[], str], name: str) -> object:
    return pytest.param(MoreCase(("lint", "@T/big.md"), (0, 1), ("@T/big.md:", "sections"), stream="stdout",
                                 make=big_runbook(builder)), id=f"lint-linear-{name}")


CASES = [
    # -- not a regular file where a runbook, a stack definition or an exercise is expected ----------
    pytest.param(MoreCase(("lint", "@T/fifo.md"), 2, ("@T/fifo.md: ", "FIFO"), make=fifo("fifo.md")),
                 id="lint-runbook-fifo"),
    pytest.param(MoreCase(("lint", "@T/link.md"), 2, ("@T/link.md: ", "FIFO"),
                          make=then(fifo("fifo.md"), symlink_to("link.md", "@T/fifo.md"))),
                 id="lint-runbook-symlink-to-fifo"),
    pytest.param(MoreCase(("lint", "/dev/zero"), 2, ("/dev/zero: ", "character device")), id="lint-runbook-dev-zero"),
    pytest.param(MoreCase(("lint", "@T/socket.md"), 2, ("@T/socket.md: ", "is a socket, not a regular file"),
                          make=unix_socket),
                 id="lint-runbook-socket"),
    pytest.param(MoreCase(("lint", "--stack", "@T/fifo.toml", "@C/runbooks/empty.md"), 2,
                          ("--stack @T/fifo.toml: ", "FIFO"), make=fifo("fifo.toml")), id="lint-stack-fifo"),
    pytest.param(MoreCase(("lint", "--stack", "/dev/zero", "@C/runbooks/empty.md"), 2,
                          ("--stack /dev/zero: ", "character device")), id="lint-stack-dev-zero"),
    pytest.param(MoreCase(("check", "--stack", "@T/fifo.toml"), 2, ("--stack @T/fifo.toml: ", "FIFO"),
                          make=fifo("fifo.toml"), starts_things=True), id="check-stack-fifo", marks=pytest.mark.docker),
    pytest.param(MoreCase(("shell", "app", "--stack", "@T/fifo.toml", "--report", "@T/reports"), 2,
                          ("--stack @T/fifo.toml: ", "FIFO"), make=fifo("fifo.toml"), starts_things=True),
                 id="shell-stack-fifo", marks=pytest.mark.docker),
    pytest.param(MoreCase(("train", "--random", "--exercises", "@T/ex", "--report", "@T/reports"), 2,
                          ("@T/ex/z.toml: ", "FIFO"), make=exercises(("z.toml", _fifo_at)), starts_things=True),
                 id="train-exercise-fifo", marks=pytest.mark.docker),
    pytest.param(MoreCase(("train", "--random", "--exercises", "@T/ex", "--report", "@T/reports"), 2,
                          ("@T/ex/z.toml: ", "character device"), make=exercises(("z.toml", _zero_at)),
                          starts_things=True), id="train-exercise-dev-zero", marks=pytest.mark.docker),
    pytest.param(MoreCase(("train", "--random", "--exercises", "@T/ex", "--report", "@T/reports"), 2,
                          ("@T/ex/z.toml: ", "larger than"), make=exercises(("z.toml", _huge_at)),
                          starts_things=True), id="train-exercise-too-large", marks=pytest.mark.docker),
    pytest.param(MoreCase(("train", "--random", "--exercises", "@T/ex", "--report", "@T/reports"), 2,
                          ("@T/ex/z.toml: ", "folder"), make=exercises(("z.toml", _folder_at)),
                          starts_things=True), id="train-exercise-folder", marks=pytest.mark.docker),
    # -- train --exercises that names no folder ----------------------------------------------------
    pytest.param(MoreCase((*TRAIN, "--exercises", "@C/exercises/ok.toml"), 2,
                          ("--exercises @C/exercises/ok.toml: ", "not a folder"), starts_things=True),
                 id="train-exercises-is-a-file", marks=pytest.mark.docker),
    pytest.param(MoreCase((*TRAIN, "--exercises", "@T/missing"), 2, ("--exercises @T/missing: ", "no such folder"),
                          starts_things=True), id="train-exercises-missing", marks=pytest.mark.docker),
    # -- runbooks that linted in quadratic time ----------------------------------------------------
    lint_big(_unclosed_images, "unclosed-images-220kB"),
    lint_big(_sections, "20k-sections"),
    lint_big(_long_line_placeholders, "long-line-of-placeholders"),
    lint_big(_blank_lines_in_a_block, "blank-lines-in-a-block"),
    # -- terminal control characters are shown, never obeyed --------------------------------------
    pytest.param(MoreCase(("lint", "@C/runbooks/terminal_controls.md"), 1,
                          ("@C/runbooks/terminal_controls.md:", "\\x1b"), stream="stdout",
                          forbidden=CONTROL_CHARACTERS), id="lint-terminal-controls-escaped"),
    pytest.param(MoreCase(("lint", "@C/runbooks/terminal_controls.md"), 1,
                          ("@C/runbooks/terminal_controls.md:", "GD022", "\\x07"), stream="stdout",
                          forbidden=CONTROL_CHARACTERS), id="lint-terminal-controls-in-a-finding"),
    # -- a crafted REPORTS/train/active.json ---------------------------------------------------------
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "not JSON"), make=active(raw="{not json")),
                 id="hint-active-not-json"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "not a JSON object"), make=active([1, 2])),
                 id="hint-active-a-list"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'pid'", "got 0"), make=active({"pid": 0})),
                 id="hint-active-pid-zero"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'pid'", "got -1"), make=active({"pid": -1})),
                 id="hint-active-pid-negative"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'pid'"), make=active({"pid": "1"})),
                 id="hint-active-pid-text"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'hosts'"), make=active({"hosts": ["app"]})),
                 id="hint-active-hosts-not-a-table"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'hosts'"), make=active({"hosts": {"app": "--privileged"}})),
                 id="hint-active-container-id-an-option"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "'time_limit'"), make=active(raw=(
        '{"session": "x", "pid": 1, "pid_start": "", "stack": "s", "hosts": {}, "time_limit": NaN, '
        '"started_at": "", "report": ""}'))), id="hint-active-time-limit-nan"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "unknown field"), make=active({"evil": 1})),
                 id="hint-active-unknown-field"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "FIFO"), make=fifo_active), id="hint-active-fifo"),
    pytest.param(MoreCase(HINT, 2, (f"{ACTIVE}: ", "session folder"), make=active(session="@T/outside")),
                 id="hint-session-outside"),
    pytest.param(MoreCase(GIVEUP, 2, (f"{ACTIVE}: ", "session folder"), make=active(session="@T/outside")),
                 id="giveup-session-outside"),
    pytest.param(MoreCase(GIVEUP, 2, (f"{ACTIVE}: ", "not a real folder"),
                          make=then(active(session="@T/reports/train/linked"), symlinked_session)),
                 id="giveup-session-symlink-to-outside"),
    pytest.param(MoreCase(GIVEUP, 2, (f"{ACTIVE}: ", "session folder"),
                          make=active(session="@T/reports/train/../../outside")), id="giveup-session-dot-dot"),
    pytest.param(MoreCase(GIVEUP, 2, (f"{ACTIVE}: ", "session folder"), make=active(session="outside")),
                 id="giveup-session-relative"),
    pytest.param(MoreCase(GIVEUP, 2, (f"{ACTIVE}: ", "not a real folder"),
                          make=then(active(session="@T/reports/train/a-file"), file_session)),
                 id="giveup-session-a-file"),
    pytest.param(MoreCase(("shell", "app", "--report", "@T/reports"), 2, (f"{ACTIVE}: ", "session folder"),
                          make=active(session="@T/outside"), starts_things=True),
                 id="shell-session-outside", marks=pytest.mark.docker),
    # -- a catastrophic redaction pattern recorded in a journal ---------------------------------------
    pytest.param(MoreCase(("run", "--scenarios", "hostile_catastrophic_pattern", "--report", "@T/reports"), 2,
                          ("redaction pattern '(a+)+$'", "super-linear"), modules=("hostile_catastrophic_pattern",),
                          starts_things=True), id="run-stack-catastrophic-pattern", marks=pytest.mark.docker),
    pytest.param(MoreCase(("report", "@C/journals/catastrophic_pattern.jsonl", "--out", "@T/out"), 1,
                          ("catastrophic_pattern.jsonl: dropped a redaction pattern", "(a+)+$", "super-linear"),
                          forbidden=("CanaryInJournal1",)), id="report-journal-catastrophic-pattern"),
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_more(case: MoreCase, tmp_path: Path) -> None:
    watched = outside(tmp_path)
    if case.make is not None:
        case.make(tmp_path)
    before = sorted(p.name for p in watched.iterdir())
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if case.modules:
        mods = tmp_path / "mods"
        mods.mkdir()
        for name in case.modules:
            (mods / f"{name}.py").write_text(expand((CORPUS / "scenarios" / f"{name}.py.txt").read_text(), tmp_path))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(mods), env.get("PYTHONPATH", "")) if p)
    argv = [expand(a, tmp_path) for a in case.argv]

    outcome = run_cli(argv, env=env, timeout=CASE_SECONDS * 6, memory_limit=None)
    shown = f"gameday {' '.join(argv)}\n--- exit {outcome.code} in {outcome.seconds:.1f}s\n" \
            f"--- stdout\n{outcome.stdout[-3000:]!r}\n--- stderr\n{outcome.stderr[-3000:]!r}"

    assert not outcome.timed_out, f"hung\n{shown}"
    assert outcome.seconds < CASE_SECONDS, f"took {outcome.seconds:.1f}s (bound {CASE_SECONDS:g}s)\n{shown}"
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    assert outcome.code in codes, f"exit {outcome.code}, expected {case.code}\n{shown}"
    assert "Traceback" not in outcome.stdout + outcome.stderr, f"a traceback\n{shown}"
    fragments = [expand(f, tmp_path) for f in case.fragments]
    stream = outcome.stdout if case.stream == "stdout" else outcome.stderr
    assert one_line_with(stream, fragments), f"no single {case.stream} line holds all of {fragments}\n{shown}"
    for text in case.forbidden:
        assert text not in outcome.stdout + outcome.stderr, f"{text!r} was printed\n{shown}"
    if case.forbidden and (tmp_path / "out").is_dir():
        for path in (tmp_path / "out").iterdir():
            for text in case.forbidden:
                assert text not in path.read_text(errors="replace"), f"{text!r} reached {path.name}"
    assert sorted(p.name for p in watched.iterdir()) == before, f"something was written into {watched}\n{shown}"
    assert (watched / "keep.txt").read_text() == "untouched\n"
    if case.starts_things:
        created, left = containers_of(outcome)
        assert not created, f"bad input, yet the process created containers {created}\n{shown}"
        assert not left, f"the process left containers {left}\n{shown}"


def test_more_corpus_is_big_enough() -> None:
    ids = [p.id for p in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


# -- what an interrupt says ------------------------------------------------------------------------

SLOW_COMMAND = """
import sys, time
import harness.cli as cli

def slow(args):
    print("ready", flush=True)
    time.sleep(60)
    return 0

slow.__name__ = sys.argv[1]
setattr(cli, sys.argv[1], slow)
sys.exit(cli.main(sys.argv[2:]))
"""


@pytest.mark.parametrize(("function", "argv", "says", "never"), [
    ("cmd_lint", ["lint", "README.md"], "gameday: interrupted", "rolled back"),
    ("cmd_report", ["report", "tests/hostile/corpus/journals/valid.jsonl"], "gameday: interrupted", "rolled back"),
    ("cmd_list", ["list"], "gameday: interrupted", "stack removed"),
    ("cmd_run", ["run"], "the active fault was rolled back and the stack removed", "\x00"),
])
def test_sigterm_says_only_what_the_command_can_have_done(function: str, argv: list[str], says: str,
                                                          never: str) -> None:
    """`gameday report`/`lint` killed by SIGTERM used to say "the active fault was rolled back"."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_COMMAND, function, *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=CASE_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert says in stderr
    assert never not in stderr
    assert "Traceback" not in stderr


def test_pid_zero_and_negative_pids_are_never_alive() -> None:
    from harness.stack.labels import process_alive

    started = time.monotonic()
    assert not process_alive(0, "")
    assert not process_alive(-1, "")
    assert not process_alive(-os.getpgid(0), "")
    assert not process_alive(2**40, "")
    assert process_alive(os.getpid(), "")
    assert time.monotonic() - started < 1.0


def test_hint_with_a_fifo_for_the_sessions_hints_does_not_hang(tmp_path: Path) -> None:
    """The session folder is checked; a FIFO put in it in place of hints.json must not block `gameday hint`."""
    active()(tmp_path)
    session = next((tmp_path / "reports" / "train").glob("2026*"))
    (session / "hints.json").unlink()
    os.mkfifo(session / "hints.json")
    outcome = run_cli([expand(a, tmp_path) for a in HINT], env={**os.environ}, timeout=CASE_SECONDS * 6,
                      memory_limit=None)
    assert not outcome.timed_out
    assert outcome.seconds < CASE_SECONDS
    assert outcome.code == 2, outcome.stderr
    assert one_line_with(outcome.stderr, [str(session / "hints.json"), "FIFO"]), outcome.stderr
    assert "Traceback" not in outcome.stderr
