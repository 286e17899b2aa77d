"""Reading what a person names: only regular files, never blocking, never more than the bound; the
announcement of a running exercise (`active.json`) checked field by field."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.inputfile import NotARegularFile, read_regular, require_regular
from harness.runbook.parse import RunbookReadError, read_runbook
from harness.runbook.report import terminal_safe
from harness.train import state
from harness.train.exercise import load_exercise, load_exercises


def test_a_regular_file_is_read_up_to_one_byte_past_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_regular(path, 1000) == b"x" * 100
    assert len(read_regular(path, 10)) == 11


@pytest.mark.parametrize("kind", ["fifo", "device", "socket", "folder", "symlink-to-fifo"])
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "x"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
    elif kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to(tmp_path / "fifo")
    started = time.monotonic()
    expected = IsADirectoryError if kind == "folder" else NotARegularFile
    with pytest.raises(expected, match="not a"):
        read_regular(path, 1000)
    with pytest.raises(expected, match="not a"):
        require_regular(path)
    assert time.monotonic() - started < 1.0


def test_require_regular_leaves_a_missing_file_to_its_reader(tmp_path: Path) -> None:
    require_regular(tmp_path / "missing")


def test_a_runbook_fifo_is_a_read_error_naming_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "r.md")
    with pytest.raises(RunbookReadError, match=r"r\.md: is a FIFO \(named pipe\), not a regular file"):
        read_runbook(tmp_path / "r.md")


def test_an_exercise_that_is_a_device_or_too_large_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    with pytest.raises(BadInput, match="character device"):
        load_exercise(tmp_path / "zero.toml")
    (tmp_path / "big.toml").write_text("x" * 300_000)
    with pytest.raises(BadInput, match="larger than"):
        load_exercise(tmp_path / "big.toml")


def test_exercises_folder_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "f.toml").write_text('scenario = "x"\n')
    with pytest.raises(BadInput, match="is a file, not a folder"):
        load_exercises(tmp_path / "f.toml")
    with pytest.raises(BadInput, match="no such folder"):
        load_exercises(tmp_path / "missing")


def test_terminal_controls_are_escaped() -> None:
    assert terminal_safe("a\x1b[31mb\x07c\x08\rd\u202ee\tf") == "a\\x1b[31mb\\x07c\\x08\\x0dd\\u202ee\tf"


# -- active.json -----------------------------------------------------------------------------------


def _announce(tmp_path: Path, **changes: object) -> Path:
    folder = state.new_session(tmp_path)
    state.announce(tmp_path, folder, "s", {"app": "abc123"}, 600)
    path = state.train_root(tmp_path) / state.ACTIVE_NAME
    body = json.loads(path.read_text())
    body.update(changes)
    path.write_text(json.dumps(body))
    return folder


def test_a_controllers_announcement_is_read_back(tmp_path: Path) -> None:
    folder = _announce(tmp_path)
    active = state.read_active(tmp_path)
    assert active is not None
    assert active.folder == folder.resolve()
    assert active.is_alive()


@pytest.mark.parametrize(("changes", "message"), [
    ({"pid": 0}, "'pid'"), ({"pid": -5}, "'pid'"), ({"pid": True}, "'pid'"), ({"pid": "12"}, "'pid'"),
    ({"stack": 3}, "'stack'"), ({"hosts": {"app": "-it"}}, "'hosts'"), ({"hosts": "app"}, "'hosts'"),
    ({"time_limit": -1}, "'time_limit'"), ({"extra": []}, "'extra'"), ({"more": 1}, "unknown field"),
    ({"session": "/"}, "session folder"), ({"session": "relative"}, "session folder"),
])
def test_every_field_of_active_json_is_checked(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    _announce(tmp_path, **changes)
    with pytest.raises(state.BadActiveFile, match=message):
        state.read_active(tmp_path)
    assert state.running(tmp_path) is None  # a file no controller wrote is no running exercise


def test_a_session_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    link = state.train_root(tmp_path) / "linked"
    _announce(tmp_path)
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    _announce(tmp_path, session=str(link))
    with pytest.raises(state.BadActiveFile, match="not a real folder"):
        state.read_active(tmp_path)
