"""Onboarding exercises end to end: `gameday train` on a real stack, a trainee at real terminals.

The trainee is scripted, but goes through exactly what a person uses: `gameday shell app` on a
pseudo-terminal (`docker exec -it`, an interactive bash, keystrokes in and the screen out),
`gameday hint` and `gameday giveup` in other "terminals", the controller in its own process.
Every wait is for a condition, with a timeout.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path

import docker
from conftest import Stoppable

from harness.stack.labels import PID
from harness.stack.waits import wait_for

ROOT = Path(__file__).resolve().parents[2]
GAMEDAY = [sys.executable, "-m", "harness.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONWARNINGS": ""}
PAGE_TIMEOUT = 120.0  # stack up (images are built already), warm-up, inject, the page
PROMPT_TIMEOUT = 30.0
END_TIMEOUT = 90.0  # recovery or give-up, rollback, stack removal, the debrief
POLL = 0.05
SECRET_MISSING_FIX = ["sed -i '/^SECRET_KEY=/d' /etc/chatkit-backend.env",
                      'echo "SECRET_KEY={key}" >> /etc/chatkit-backend.env',
                      "systemctl restart chatkit-backend"]


class Terminal:
    """A program on a pseudo-terminal of 200 columns, as a person uses it: keys in, the screen out."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.process = subprocess.Popen(argv, cwd=ROOT, env={**ENV, "TERM": "xterm"}, stdin=slave, stdout=slave,
                                        stderr=slave, start_new_session=True, close_fds=True)
        os.close(slave)
        self._screen = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                if self.process.poll() is not None:
                    return
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the other side closed
                return
            if not data:
                return
            with self._lock:
                self._screen += data

    def screen(self) -> str:
        with self._lock:
            return self._screen.decode("utf-8", "replace")

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = PROMPT_TIMEOUT) -> str:
        return wait_for(lambda: (condition(self.screen()), self.screen()[-400:]), what=what, timeout=timeout,
                        interval=POLL)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def stop(self) -> None:
        """Idempotent: the program killed if it still runs, reaped, the terminal closed."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


class Shell:
    """`gameday shell HOST` during the exercise: run a command and wait for the prompt to come back."""

    def __init__(self, report: Path, host: str, cleanup: list[Stoppable]) -> None:
        self.prompt = f"root@{host}:"
        self.terminal = Terminal([*GAMEDAY, "shell", host, "--report", str(report)])
        cleanup.append(self.terminal)
        self.terminal.wait_for(lambda s: self.prompt in s, f"a prompt on {host}")

    def run(self, command: str, timeout: float = PROMPT_TIMEOUT, *, may_end: bool = False) -> str:
        """Type `command` and wait for the prompt. With `may_end` (the fix), the shell closing counts
        too: the exercise ends as soon as steady state is back and takes its stack, this shell's host
        included, down; a quick recovery can come before the prompt does."""
        before = self.terminal.screen().count(self.prompt)
        self.terminal.type(command)

        def done(screen: str) -> bool:
            return screen.count(self.prompt) > before or (may_end and self.terminal.process.poll() is not None)

        return self.terminal.wait_for(done, f"{command!r} to finish", timeout=timeout)

    def exit(self) -> int:
        if self.terminal.process.poll() is not None:  # the exercise ended and closed it
            self.terminal.stop()
            return self.terminal.process.returncode
        self.terminal.type("exit")
        wait_for(lambda: (self.terminal.process.poll() is not None, "shell still open"), what="the shell to close",
                 timeout=PROMPT_TIMEOUT, interval=POLL)
        self.terminal.stop()
        return self.terminal.process.returncode


class Controller:
    """`gameday train ...` in its own process, its output in a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.report = tmp_path / "reports"
        self.output = tmp_path / "train.out"
        with self.output.open("w") as out:
            self.process = subprocess.Popen([*GAMEDAY, "train", *args, "--report", str(self.report)], cwd=ROOT,
                                            env=ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for_page(self) -> str:
        def paged() -> tuple[bool, str]:
            return "(watching:" in self.text() or self.process.poll() is not None, self.text()[-400:]

        wait_for(paged, what="the page", timeout=PAGE_TIMEOUT, interval=0.1)
        assert self.process.poll() is None, self.text()
        text = self.text()
        return text[text.index("=" * 78):text.index("(watching:")]

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=END_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=END_TIMEOUT)
            raise AssertionError(f"the exercise did not end in time:\n{self.text()}") from None

    def session(self) -> Path:
        (folder,) = (p for p in (self.report / "train").iterdir() if p.is_dir())
        return folder

    def leftovers(self) -> list[str]:
        found = docker.from_env().containers.list(ignore_removed=True, all=True,
                                                  filters={"label": f"{PID}={self.process.pid}"})
        return [c.name for c in found]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=END_TIMEOUT)


def gameday(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GAMEDAY, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=END_TIMEOUT,
                          check=False)


def events(session: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (session / "exercise.jsonl").read_text().splitlines()]


def test_a_scripted_trainee_fixes_secret_missing_through_gameday_shell(
    tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, "secret-missing", "--time-limit", "3m")
    cleanup.append(controller)
    page = controller.wait_for_page()
    for told in ("secret-missing", "SECRET_KEY disappears", "1a-missing-secret_key", "Missing SECRET_KEY",
                 "systemctl restart chatkit-backend", "sed -i", "/etc/chatkit-backend.env"):
        assert told not in page, f"the page gives away {told!r}:\n{page}"
    assert "P0 (critical)" in page
    assert "Since:" in page
    report = controller.report

    shell = Shell(report, "app", cleanup)
    shell.run("systemctl is-active chatkit-backend")  # a crash loop: "active" between two crashes, at times
    assert "FATAL: SECRET_KEY" in shell.run("tail -n 100 /var/log/chatkit-backend.log | grep FATAL")
    hint = gameday("hint", "--report", str(report))
    assert hint.returncode == 0, hint
    assert hint.stdout.startswith("Hint 1 of ")
    screen = shell.run("grep DATABASE_URL /etc/chatkit-backend.env")
    password = re.findall(r"postgresql://chatkit:([^@\s]+)@db", screen)[-1]
    shell.run(f"PGPASSWORD={password} psql -h db -U chatkit -d chatkit -tAc 'SELECT 1'")
    new_key = secrets.token_urlsafe(32)
    for command in SECRET_MISSING_FIX:
        shell.run(command.format(key=new_key), may_end=command.startswith("systemctl restart"))
    assert shell.exit() == 0

    assert controller.wait() == 0, controller.text()
    assert "steady state is back" in controller.text()
    session = controller.session()
    md, html = (session / "debrief.md").read_text(), (session / "debrief.html").read_text()
    log, page_file = (session / "exercise.jsonl").read_text(), (session / "page.txt").read_text()
    assert "**Outcome**: RECOVERED" in md
    assert "- **Hints used**: 1 of " in md
    assert "Hints used: <b>1</b> of " in html
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| ", line)]
    typed = [
        "systemctl is-active chatkit-backend", "tail -n 100 /var/log/chatkit-backend.log \\| grep FATAL",
        "grep DATABASE_URL /etc/chatkit-backend.env", "PGPASSWORD=[REDACTED] psql -h db -U chatkit",
        SECRET_MISSING_FIX[0], 'echo "SECRET_KEY=[REDACTED]" >> /etc/chatkit-backend.env', SECRET_MISSING_FIX[2]]
    for number, command in enumerate(typed):
        assert command in rows[number], (command, rows)
    assert "| app | `systemctl restart chatkit-backend` | `1a-missing-secret_key[2]` |" in md
    assert "| fix | `1a-missing-secret_key[2]` | app | matched |" in md
    assert "<code>systemctl restart chatkit-backend</code>" in html
    for text in (md, html, log, page_file):
        assert new_key not in text
        assert password not in text
    faults = [e["action"] for e in events(session) if e["type"] == "FaultRecorded"]
    assert faults[0] == "injected"
    assert faults[-1] == "already-restored", faults
    assert controller.leftovers() == []


def test_a_trainee_who_gives_up_gets_the_runbooks_path_and_the_fault_rolled_back(
    tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, "db-down", "--time-limit", "3m")
    cleanup.append(controller)
    page = controller.wait_for_page()
    assert "db-down" not in page
    assert "systemctl start postgresql" not in page
    assert "disconnected" in page, "the page quotes what the health check answers"

    gave_up = gameday("giveup", "--report", str(controller.report))
    assert gave_up.returncode == 0, gave_up
    assert "debrief: " in gave_up.stdout
    assert controller.wait() == 1, controller.text()
    assert "NOT RECOVERED (gave-up)" in controller.text()
    session = controller.session()
    md = (session / "debrief.md").read_text()
    assert "**Outcome**: NOT RECOVERED (not recovered: the trainee gave up)" in md
    assert "- **Hints used**: 0 of " in md
    assert "## What the runbook would have done" in md
    assert "systemctl start postgresql" in md
    assert "| fix | `6a-database-server-down[2]` | db | skipped |" in md
    assert "rolled back by the harness (it was still in effect)" in md
    recorded = [e for e in events(session) if e["type"] == "FaultRecorded"]
    assert [e["action"] for e in recorded][-1] == "rolled-back"
    assert controller.leftovers() == []
    assert not (controller.report / "train" / "active.json").exists()
    after = gameday("hint", "--report", str(controller.report))
    assert after.returncode == 2
    assert "no onboarding exercise is running" in after.stderr


def test_ctrl_c_ends_an_exercise_rolled_back_with_nothing_left(tmp_path: Path, cleanup: list[Stoppable]) -> None:
    controller = Controller(tmp_path, "db-down", "--time-limit", "3m")
    cleanup.append(controller)
    controller.wait_for_page()
    controller.process.send_signal(signal.SIGINT)
    assert controller.wait() == 130, controller.text()
    assert "interrupted; the active fault was rolled back" in controller.text()
    session = controller.session()
    assert "not recovered: the exercise was interrupted" in (session / "debrief.md").read_text()
    assert [e["action"] for e in events(session) if e["type"] == "FaultRecorded"][-1] == "rolled-back"
    assert controller.leftovers() == []


def test_an_exercise_nobody_fixes_ends_at_its_time_limit_rolled_back(
    tmp_path: Path, cleanup: list[Stoppable]
) -> None:
    controller = Controller(tmp_path, "db-down", "--time-limit", "10s")
    cleanup.append(controller)
    controller.wait_for_page()
    hint = gameday("hint", "--report", str(controller.report))
    assert hint.returncode == 0, hint
    assert controller.wait() == 1, controller.text()
    assert "the time limit (10 s) is up" in controller.text()
    md = (controller.session() / "debrief.md").read_text()
    assert "**Outcome**: NOT RECOVERED (not recovered: the time limit ran out)" in md
    assert "- **Hints used**: 1 of " in md
    assert [e["action"] for e in events(controller.session()) if e["type"] == "FaultRecorded"][-1] == "rolled-back"
    assert controller.leftovers() == []
