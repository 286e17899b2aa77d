"""Reading a code block as a person would: its kind, and the commands typed in it with their lines."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runbook.shell import BlockKind, BlockReading, Client, read_block


def commands(language: str, code: str) -> list[tuple[int, str]]:
    return [(c.line, c.text) for c in read_block(language, code).commands]


def clients(language: str, code: str) -> list[tuple[Client, int, str]]:
    return [(c.client, c.line, c.text) for c in read_block(language, code).client_commands]


# --- kinds --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "kind"), [
    ("bash", BlockKind.SHELL), ("sh", BlockKind.SHELL), ("shell", BlockKind.SHELL), ("zsh", BlockKind.SHELL),
    ("ksh", BlockKind.SHELL), ("fish", BlockKind.SHELL), ("BASH", BlockKind.SHELL),
    ("sql", BlockKind.SQL), ("psql", BlockKind.SQL), ("mysql", BlockKind.SQL), ("plpgsql", BlockKind.SQL),
    ("redis", BlockKind.REDIS), ("yaml", BlockKind.CONFIG), ("yml", BlockKind.CONFIG), ("json", BlockKind.CONFIG),
    ("toml", BlockKind.CONFIG), ("ini", BlockKind.CONFIG), ("conf", BlockKind.CONFIG), ("nginx", BlockKind.CONFIG),
    ("hcl", BlockKind.CONFIG), ("xml", BlockKind.CONFIG), ("properties", BlockKind.CONFIG),
    ("dockerfile", BlockKind.CONFIG), ("cmd", BlockKind.WINDOWS), ("bat", BlockKind.WINDOWS),
    ("batch", BlockKind.WINDOWS), ("powershell", BlockKind.WINDOWS), ("ps1", BlockKind.WINDOWS),
    ("pwsh", BlockKind.WINDOWS), ("text", BlockKind.OUTPUT), ("txt", BlockKind.OUTPUT), ("log", BlockKind.OUTPUT),
    ("output", BlockKind.OUTPUT), ("plaintext", BlockKind.OUTPUT), ("python", BlockKind.OTHER),
])
def test_the_label_decides_the_kind(language: str, kind: BlockKind) -> None:
    assert read_block(language, "systemctl status nginx").kind is kind


@pytest.mark.parametrize("language", ["console", "shell-session", "shellsession", "terminal"])
def test_session_labels_with_prompts_are_sessions(language: str) -> None:
    reading = read_block(language, "$ systemctl status nginx\n● nginx.service - A high performance web server")
    assert reading.kind is BlockKind.SESSION
    assert reading.executable


def test_session_label_without_any_prompt_is_read_as_plain_commands() -> None:
    reading = read_block("console", "kubectl get pods -n prod")
    assert reading.kind is BlockKind.SHELL
    assert [c.text for c in reading.commands] == ["kubectl get pods -n prod"]


def test_shell_label_with_dollar_prompts_is_a_session() -> None:
    reading = read_block("bash", "$ df -h\nFilesystem Size Used\n/dev/sda1 20G 18G")
    assert reading.kind is BlockKind.SESSION
    assert [c.text for c in reading.commands] == ["df -h"]


def test_dollar_line_deep_in_a_shell_block_does_not_make_it_a_session() -> None:
    code = "cat <<EOF > /etc/motd\n$ is the prompt sign\nEOF\nsystemctl restart motd"
    assert commands("bash", code) == [(0, "cat <<EOF > /etc/motd"), (3, "systemctl restart motd")]


def test_an_unlabelled_file_path_alone_is_not_a_command() -> None:
    assert read_block("", "/etc/nginx/nginx.conf").kind is BlockKind.OUTPUT


def test_text_block_holding_a_pasted_terminal_is_a_session() -> None:
    assert commands("text", "$ curl -s localhost/health\nok") == [(0, "curl -s localhost/health")]


@pytest.mark.parametrize(("code", "kind"), [
    ("$ kubectl get pods\nNAME READY", BlockKind.SESSION),
    ("user@web-1:~$ uptime\n 10:00 up 3 days", BlockKind.SESSION),
    ("kubectl get pods -n prod\nsudo systemctl restart nginx", BlockKind.SHELL),
    ("./scripts/rotate.sh\n/usr/local/bin/healthcheck --all", BlockKind.SHELL),
    ('{\n  "replicas": 3\n}', BlockKind.CONFIG),
    ("replicas: 3\nimage: web:1.2\nports:\n  - 80", BlockKind.CONFIG),
    ("NAME     READY   STATUS\nweb-1    1/1     Running", BlockKind.OUTPUT),
    ("Connection refused", BlockKind.OUTPUT),
    ("127.0.0.1:6379> INFO memory\n# Memory\nused_memory:1024", BlockKind.REDIS),
    ("postgres=# SELECT count(*) FROM orders;\n count\n-------\n 12", BlockKind.SQL),
])
def test_an_unlabelled_block_is_decided_by_its_content(code: str, kind: BlockKind) -> None:
    assert read_block("", code).kind is kind


@pytest.mark.parametrize("language", ["sql", "yaml", "json", "cmd", "powershell", "text", "redis"])
def test_blocks_that_are_not_shell_are_never_executable(language: str) -> None:
    assert not read_block(language, "SELECT 1;\nINFO\nkey: value").executable


def test_shell_block_of_comments_only_is_not_executable() -> None:
    assert not read_block("bash", "# nothing to run here\n\n").executable


def test_language_word_with_attributes_or_braces_is_understood() -> None:
    assert read_block("bash {phase=fix}", "ls").kind is BlockKind.SHELL
    assert read_block("{.bash}", "ls").kind is BlockKind.SHELL


# --- shell blocks ---------------------------------------------------------------------------------------------------


def test_shell_commands_skip_comments_and_blank_lines_with_their_lines() -> None:
    code = "# look first\n\nkubectl get pods\n  # indented comment\nkubectl describe pod web-1"
    assert commands("bash", code) == [(2, "kubectl get pods"), (4, "kubectl describe pod web-1")]


def test_backslash_continuations_are_joined_on_the_first_line() -> None:
    code = "curl -s \\\n  -H 'Accept: application/json' \\\n  localhost/health\necho done"
    assert commands("bash", code) == [(0, "curl -s -H 'Accept: application/json' localhost/health"), (3, "echo done")]


def test_a_trailing_pipe_continues_the_command() -> None:
    assert commands("bash", "ps aux |\n  grep nginx") == [(0, "ps aux | grep nginx")]


def test_an_open_quote_continues_the_command_over_lines() -> None:
    code = 'psql -c "\nSELECT 1;\n"\necho after'
    assert commands("bash", code) == [(0, 'psql -c "\nSELECT 1;\n"'), (3, "echo after")]


def test_a_stray_apostrophe_does_not_swallow_the_rest_of_the_block() -> None:
    assert commands("bash", "echo don't panic\nsystemctl restart web") == [
        (0, "echo don't panic"), (1, "systemctl restart web")]


def test_a_trailing_comment_is_not_part_of_the_command() -> None:
    assert commands("bash", "systemctl restart web  # rm -rf / would be wrong") == [(0, "systemctl restart web")]


def test_a_hash_inside_quotes_or_a_word_is_not_a_comment() -> None:
    assert commands("bash", "echo 'a # b' x#y") == [(0, "echo 'a # b' x#y")]


@pytest.mark.parametrize("opening", ["<<EOF", "<<'EOF'", '<<"EOF"', "<<-EOF", "<< EOF", "<<\\EOF"])
def test_heredoc_bodies_are_not_commands(opening: str) -> None:
    reading = read_block("bash", f"cat {opening} > /etc/app.conf\nrm -rf /\nEOF\necho after")
    assert [(c.line, c.text) for c in reading.commands] == [(0, f"cat {opening} > /etc/app.conf"), (3, "echo after")]
    assert (reading.heredocs[0].line, reading.heredocs[0].text) == (1, "rm -rf /")
    assert reading.heredocs[0].expands is (opening in ("<<EOF", "<<-EOF", "<< EOF"))


def test_an_indented_heredoc_end_closes_it() -> None:
    """Runbooks indent whole blocks inside list items; the terminator is indented with them."""
    assert commands("bash", "cat <<EOF\n  body\n  EOF\nls") == [(0, "cat <<EOF"), (3, "ls")]


def test_heredoc_into_psql_is_read_as_client_statements() -> None:
    reading = read_block("bash", "psql -U app <<SQL\nDELETE FROM sessions\n  WHERE expired;\nSQL")
    assert [(c.client, c.line, c.text) for c in reading.client_commands] == [
        (Client.PSQL, 1, "DELETE FROM sessions\nWHERE expired;")]
    assert [c.text for c in reading.commands] == ["psql -U app <<SQL"]


def test_heredoc_into_redis_cli_is_read_as_redis_commands() -> None:
    assert clients("bash", "redis-cli <<EOF\nINFO memory\nDBSIZE\nEOF") == [
        (Client.REDIS, 1, "INFO memory"), (Client.REDIS, 2, "DBSIZE")]


@pytest.mark.parametrize("command", ["ssh db-1 <<EOF", "ssh db-1 'bash -s' <<'EOF'", "kubectl exec -i web -- sh <<EOF",
                                     "bash <<EOF"])
def test_heredoc_given_to_a_shell_is_read_as_commands(command: str) -> None:
    reading = read_block("bash", f"{command}\nsystemctl restart web\nrm -rf /tmp/x\nEOF")
    assert [(c.line, c.text) for c in reading.commands] == [(0, command), (1, "systemctl restart web"),
                                                             (2, "rm -rf /tmp/x")]


def test_here_string_is_not_a_heredoc() -> None:
    assert commands("bash", "grep x <<< 'a b'\necho next") == [(0, "grep x <<< 'a b'"), (1, "echo next")]


# --- bare SQL -------------------------------------------------------------------------------------------------------


def test_bare_sql_in_a_shell_block_is_set_apart_with_its_whole_statement() -> None:
    reading = read_block("bash", "# then\nSELECT pid, state\nFROM pg_stat_activity\nWHERE state = 'idle';\nls")
    assert [(c.line, c.text) for c in reading.bare_sql] == [
        (1, "SELECT pid, state\nFROM pg_stat_activity\nWHERE state = 'idle';")]
    assert [c.text for c in reading.commands] == ["ls"]


@pytest.mark.parametrize("line", ["UPDATE users SET active = false;", "DELETE FROM carts;", "TRUNCATE events;",
                                  "VACUUM ANALYZE;", "delete from carts;", "select count(*) from orders;",
                                  "CREATE INDEX CONCURRENTLY i ON t (c);", "GRANT SELECT ON t TO app;"])
def test_every_statement_keyword_is_bare_sql(line: str) -> None:
    assert [c.text for c in read_block("bash", line).bare_sql] == [line]


@pytest.mark.parametrize("code", [
    'psql -c "SELECT 1"', "psql <<EOF\nSELECT 1;\nEOF", 'psql -c "\nSELECT 1\n"', "select-editor",
    "SELECTED=1", "echo SELECT", "update-ca-certificates", "# SELECT 1",
])
def test_sql_inside_a_command_a_heredoc_or_a_comment_is_not_bare(code: str) -> None:
    assert read_block("bash", code).bare_sql == ()


# --- sessions -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "typed"), [
    ("$ kubectl get pods", "kubectl get pods"),
    ("user@host:~$ df -h", "df -h"),
    ("deploy@web-1:/var/log$ tail -n 5 app.log", "tail -n 5 app.log"),
    ("root@db:/# pg_lsclusters", "pg_lsclusters"),
    ("[root@host ~]# systemctl status nginx", "systemctl status nginx"),
    ("(venv) $ pip list", "pip list"),
    ("% kubectl get ns", "kubectl get ns"),
    ("# systemctl restart nginx", "systemctl restart nginx"),
    ("  $ indented", "indented"),
])
def test_every_prompt_style_is_a_command_line(line: str, typed: str) -> None:
    assert commands("console", f"{line}\nsome output") == [(0, typed)]


def test_output_lines_of_a_session_are_never_commands() -> None:
    code = ("$ kubectl get pods\nNAME        READY   STATUS\nweb-1       1/1     Running\n"
            "rm -rf /tmp/cache is what the job does\n$ echo done\ndone")
    assert commands("console", code) == [(0, "kubectl get pods"), (4, "echo done")]


def test_hash_comment_in_a_session_is_not_a_root_prompt() -> None:
    assert commands("console", "# Check the status first\n$ systemctl status nginx") == [(1, "systemctl status nginx")]


def test_hash_line_among_dollar_prompts_is_a_comment_even_when_it_starts_with_a_command() -> None:
    code = "$ pgrep -f worker\n4242\n# kill the stuck one, gently\n$ kill -TERM 4242"
    assert commands("console", code) == [(0, "pgrep -f worker"), (3, "kill -TERM 4242")]


def test_root_prompts_with_host_are_prompts_among_dollar_prompts() -> None:
    assert commands("console", "$ sudo -i\n[root@db ~]# systemctl restart postgresql") == [
        (0, "sudo -i"), (1, "systemctl restart postgresql")]


def test_hash_line_in_a_bash_block_is_a_comment_even_with_prompts_around() -> None:
    assert commands("bash", "$ ls\n# systemctl restart nginx\nfile.txt") == [(0, "ls")]


def test_curl_progress_meter_is_not_a_zsh_prompt() -> None:
    code = "$ curl -O https://x/file\n  % Total    % Received % Xferd  Average Speed"
    assert commands("console", code) == [(0, "curl -O https://x/file")]


def test_ps2_continuation_lines_join_the_prompt_line() -> None:
    code = "$ kubectl get pods \\\n>   -n prod\nNAME READY"
    assert commands("console", code) == [(0, "kubectl get pods -n prod")]


def test_ps2_lines_inside_an_open_quote_join_the_prompt_line() -> None:
    code = "$ psql -c \"\n> SELECT 1;\n> \"\n ?column?"
    assert commands("console", code) == [(0, 'psql -c "\nSELECT 1;\n"')]


def test_heredoc_typed_at_a_prompt_is_data_not_output_or_commands() -> None:
    reading = read_block("console", "$ cat <<EOF > /tmp/x\n> rm -rf /\n> EOF\n$ ls")
    assert [(c.line, c.text) for c in reading.commands] == [(0, "cat <<EOF > /tmp/x"), (3, "ls")]
    assert reading.heredocs[0].text == "rm -rf /"


# --- clients --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["127.0.0.1:6379> INFO", "redis> INFO", "redis 127.0.0.1:6379> INFO",
                                  "localhost:6379[2]> INFO"])
def test_redis_prompts_are_client_commands(line: str) -> None:
    assert clients("", f"{line}\n# Server\nredis_version:7.2.4") == [(Client.REDIS, 0, "INFO")]


def test_greater_than_in_a_redis_block_is_a_prompt_not_a_redirection() -> None:
    reading = read_block("redis", "> slowlog get 10\n1) 1) (integer) 14\n> CONFIG GET maxmemory")
    assert [(c.line, c.text) for c in reading.client_commands] == [(0, "slowlog get 10"), (2, "CONFIG GET maxmemory")]
    assert reading.commands == ()
    assert not reading.executable


def test_a_redis_block_without_prompts_lists_commands() -> None:
    assert clients("redis", "INFO memory\n\nMEMORY DOCTOR") == [
        (Client.REDIS, 0, "INFO memory"), (Client.REDIS, 2, "MEMORY DOCTOR")]


def test_redis_cli_session_after_a_shell_prompt() -> None:
    reading = read_block("console", "$ redis-cli\n127.0.0.1:6379> PING\nPONG")
    assert [c.text for c in reading.commands] == ["redis-cli"]
    assert [(c.client, c.line, c.text) for c in reading.client_commands] == [(Client.REDIS, 1, "PING")]


def test_psql_prompts_and_continuations_make_one_statement() -> None:
    code = "mydb=> SELECT pid\nmydb-> FROM pg_stat_activity\nmydb-> WHERE state = 'idle';\n pid\n-----\n 42"
    assert clients("", code) == [(Client.PSQL, 0, "SELECT pid\nFROM pg_stat_activity\nWHERE state = 'idle';")]


def test_psql_superuser_prompt_and_meta_commands() -> None:
    assert clients("console", "postgres=# \\dt\n List of relations\npostgres=# VACUUM;") == [
        (Client.PSQL, 0, "\\dt"), (Client.PSQL, 2, "VACUUM;")]


def test_mysql_prompt_and_continuation() -> None:
    code = "mysql> SHOW PROCESSLIST\n    -> ;\n+----+------+\n| Id | User |"
    assert clients("", code) == [(Client.MYSQL, 0, "SHOW PROCESSLIST\n;")]


def test_sql_block_statements_span_lines_up_to_the_semicolon() -> None:
    code = "-- find idle\nSELECT pid\nFROM pg_stat_activity;\n\nUPDATE jobs SET state = 'queued'\nWHERE id = 7;\n\\dt"
    assert clients("sql", code) == [
        (Client.SQL, 1, "SELECT pid\nFROM pg_stat_activity;"),
        (Client.SQL, 4, "UPDATE jobs SET state = 'queued'\nWHERE id = 7;"),
        (Client.SQL, 6, "\\dt")]


def test_sql_block_pasted_from_psql_loses_its_prompts() -> None:
    assert clients("sql", "app=# SELECT 1;") == [(Client.SQL, 0, "SELECT 1;")]


def test_typed_lists_shell_and_client_commands_in_line_order() -> None:
    reading = read_block("console", "$ redis-cli\n127.0.0.1:6379> DBSIZE\n(integer) 3\n$ echo ok")
    assert [c.line for c in reading.typed()] == [0, 1, 3]


def test_reading_is_frozen() -> None:
    reading = read_block("bash", "ls")
    assert isinstance(reading, BlockReading)
    with pytest.raises(AttributeError):
        reading.kind = BlockKind.SQL  # type: ignore[misc]


def test_a_long_block_is_read_in_linear_time() -> None:
    """Bench-style: printed, not asserted below a generous bound that cannot flake."""
    lines = ["kubectl get pods -n prod \\", "  -o wide", "# a comment", "$ not a prompt in bash", "SELECT 1;"] * 4000
    started = time.perf_counter()
    reading = read_block("bash", "\n".join(lines))
    elapsed = time.perf_counter() - started
    print(f"read_block: {len(lines)} lines in {elapsed:.3f}s")
    assert reading.commands
    assert elapsed < 10.0


_PIECES = st.sampled_from([
    "$ ", "# ", "> ", "% ", "user@host:~$ ", "[root@db ~]# ", "127.0.0.1:6379> ", "mydb=> ", "mydb-> ", "mysql> ",
    "    -> ", "kubectl get pods", "rm -rf /x", "SELECT 1", ";", "'", '"', "\\", "<<EOF", "<<'X'", "EOF", "X", "|",
    "&&", "#", "(", ")", "$(", "`", "{", "}", "[", "]", " ", "\t", "\n", "psql", "redis-cli", "DELETE FROM t",
])
_CODE = st.lists(_PIECES, max_size=40).map("".join)
_LANGUAGE = st.sampled_from(["", "bash", "console", "sql", "redis", "text", "yaml", "cmd", "python"])


@settings(max_examples=300, deadline=None)
@given(_LANGUAGE, _CODE)
def test_reading_never_raises_and_every_line_is_in_the_block(language: str, code: str) -> None:
    reading = read_block(language, code)
    count = len(code.split("\n"))
    for typed in reading.typed():
        assert 0 <= typed.line < count
        assert typed.text.strip()
    # A shell block runs if it holds anything typed as shell, bare SQL too (bash runs it and fails).
    assert reading.executable == ((reading.kind is BlockKind.SHELL and bool(reading.commands or reading.bare_sql))
                                  or (reading.kind is BlockKind.SESSION and bool(reading.commands)))


def test_client_launched_without_a_prompt_above_its_prompts_is_a_command() -> None:
    reading = read_block("", "redis-cli -h cache\n127.0.0.1:6379> INFO\n# Server\nredis_version:7")
    assert reading.kind is BlockKind.REDIS
    assert [(c.line, c.text) for c in reading.commands] == [(0, "redis-cli -h cache")]
    assert [(c.line, c.text) for c in reading.client_commands] == [(1, "INFO")]


def test_client_error_output_is_not_a_launch() -> None:
    assert commands("console", "$ psql -c 'select 1'\npsql: error: connection refused") == [(0, "psql -c 'select 1'")]


def test_a_command_continued_over_thousands_of_lines_is_read_in_linear_time() -> None:
    """Bench-style: printed; the bound is generous (it took seconds when the command was grown as one string)."""
    code = "\n".join(["kubectl get pods -n prod \\"] * 20000)
    started = time.perf_counter()
    reading = read_block("bash", code)
    elapsed = time.perf_counter() - started
    print(f"read_block: one command over 20000 lines in {elapsed:.3f}s")
    assert [c.line for c in reading.commands] == [0]
    assert elapsed < 10.0
