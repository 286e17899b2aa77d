"""The trainee's shell history: what bash writes with HISTTIMEFORMAT, read back (no Docker)."""

from __future__ import annotations

from harness.train.shell_history import (
    HISTORY_FILE,
    RC_TEXT,
    HistoryEntry,
    HistoryTracker,
    install_script,
    parse_history,
)

WRITTEN = """\
#1795336866
systemctl is-active chatkit-backend
#1795336869
tail -n 100 /var/log/chatkit-backend.log | grep FATAL
#1795336872
cat > /tmp/note <<'EOF'
two lines
EOF
"""


def test_each_entry_carries_the_time_bash_stamped_before_it() -> None:
    entries = parse_history(WRITTEN)
    assert [e.at for e in entries] == [1795336866.0, 1795336869.0, 1795336872.0]
    assert entries[0].command == "systemctl is-active chatkit-backend"


def test_an_entry_spanning_lines_is_one_command() -> None:
    assert parse_history(WRITTEN)[2].command == "cat > /tmp/note <<'EOF'\ntwo lines\nEOF"


def test_lines_before_any_timestamp_are_an_entry_without_a_time() -> None:
    assert parse_history("ls\n#1795336866\npwd\n") == [HistoryEntry(None, "ls"), HistoryEntry(1795336866.0, "pwd")]


def test_blank_entries_and_an_empty_file_give_nothing() -> None:
    assert parse_history("") == []
    assert parse_history("#1795336866\n\n#1795336867\n   \n") == []


def test_a_comment_the_trainee_typed_is_not_taken_for_a_timestamp() -> None:
    assert parse_history("#1795336866\n# look at the log\n")[0].command == "# look at the log"


def test_the_tracker_returns_only_what_is_new_on_each_host() -> None:
    tracker = HistoryTracker()
    first = "#1795336866\nls\n"
    assert [e.command for e in tracker.update("app", first)] == ["ls"]
    assert tracker.update("app", first) == []
    assert [e.command for e in tracker.update("app", first + "#1795336867\npwd\n")] == ["pwd"]
    assert [e.command for e in tracker.update("db", first)] == ["ls"]


def test_the_same_command_typed_twice_in_a_second_counts_twice() -> None:
    tracker = HistoryTracker()
    tracker.update("app", "#1795336866\nls\n")
    assert len(tracker.update("app", "#1795336866\nls\n#1795336866\nls\n")) == 1


def test_a_rewritten_file_yields_only_entries_not_seen_before() -> None:
    tracker = HistoryTracker()
    tracker.update("app", "#1795336866\nls\n#1795336867\npwd\n")
    assert [e.command for e in tracker.update("app", "#1795336867\npwd\n#1795336870\nid\n")] == ["id"]


def test_the_rc_file_timestamps_and_appends_every_command_as_it_is_entered() -> None:
    assert f"HISTFILE={HISTORY_FILE}" in RC_TEXT
    assert "HISTTIMEFORMAT=" in RC_TEXT
    assert "trap 'history -a' DEBUG" in RC_TEXT
    assert RC_TEXT in install_script()
