"""Holes a runbook block leaves (unset variables, placeholders) and binding values into them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runbook.shell import read_block
from harness.runbook.variables import Hole, assigned_names, bind, block_assigned_names, block_holes, holes


def variables(code: str) -> list[str]:
    return [h.name for h in holes(code) if h.kind == "variable"]


def placeholders(code: str) -> list[str]:
    return [h.name for h in holes(code) if h.kind == "placeholder"]


# --- variables ----------------------------------------------------------------------------------------------------


def test_variable_read_and_never_set_is_a_hole_on_its_line() -> None:
    assert holes('echo start\npsql "$DATABASE_URL" -c "select 1"') == [Hole("DATABASE_URL", "variable", 1)]


def test_braced_reference_with_a_default_is_still_a_hole() -> None:
    assert variables('curl "http://${API_HOST:-localhost}/health"') == ["API_HOST"]


def test_variable_set_earlier_in_the_block_is_not_a_hole() -> None:
    assert variables("DATABASE_URL=postgres://db/app\npsql $DATABASE_URL -c 'select 1'") == []


def test_variable_set_only_after_it_is_read_is_a_hole() -> None:
    assert variables("echo $LATER\nLATER=1") == ["LATER"]


@pytest.mark.parametrize("code", [
    "export TOKEN=abc\ncurl -H \"Authorization: $TOKEN\" localhost",
    "read -r ANSWER\necho $ANSWER",
    "for pid in 1 2 3\ndo kill -0 $pid\ndone",
    "local -r COUNT=3\necho $COUNT",
    "declare -a ITEMS=(a b)\necho ${ITEMS[0]}",
])
def test_every_way_of_setting_a_variable_on_an_earlier_line_counts(code: str) -> None:
    assert variables(code) == []


@pytest.mark.parametrize("code", [
    "export TOKEN=abc; curl -H \"Authorization: $TOKEN\" localhost",
    "read -r ANSWER; echo $ANSWER",
    "for pid in $(pgrep worker); do kill -0 $pid; done",
])
def test_variable_set_earlier_on_the_same_line_is_not_a_hole(code: str) -> None:
    assert variables(code) == []


@pytest.mark.parametrize("code", ["echo $HOME", "PATH=$PATH:/opt/bin", "cd ${HOME}/app", "echo $USER $PWD $RANDOM"])
def test_standard_variables_are_never_holes(code: str) -> None:
    assert variables(code) == []


def test_positional_and_special_parameters_are_never_holes() -> None:
    assert variables('echo "$1" $? $$ $# $@') == []


def test_single_quoted_dollar_is_never_expanded() -> None:
    assert variables("echo '$NOT_EXPANDED'") == []


def test_double_quoted_dollar_is_expanded() -> None:
    assert variables('echo "value: $EXPANDED"') == ["EXPANDED"]


def test_apostrophe_inside_double_quotes_does_not_start_single_quoting() -> None:
    assert variables("echo \"it's $EXPANDED\"") == ["EXPANDED"]


def test_escaped_double_quote_does_not_end_double_quoting() -> None:
    assert variables("echo \"say \\\"hi\" '$LITERAL'") == []


@pytest.mark.parametrize("code", ["# psql $IN_COMMENT", "echo hi  # uses $IN_COMMENT", "echo hi; # $IN_COMMENT"])
def test_variables_in_comments_are_never_holes(code: str) -> None:
    assert variables(code) == []


def test_hash_inside_a_word_is_not_a_comment() -> None:
    assert variables("echo x#$AFTER_HASH ${#}") == ["AFTER_HASH"]


def test_each_variable_is_reported_once_at_its_first_use() -> None:
    assert holes("echo $A\necho $A $B") == [Hole("A", "variable", 0), Hole("B", "variable", 1)]


# --- assigned names -----------------------------------------------------------------------------------------------


def test_assigned_names_in_every_form() -> None:
    code = "\n".join([
        "A=1", "export B=2", "readonly C=3", "local -r D=4", "declare -a E=(x)", "F+=more", "G[0]=x",
        "read -r H", "for I in 1 2; do :; done", "echo ok && J=5", "(K=6)",
    ])
    assert assigned_names(code) == set("ABCDEFGHIJK")


def test_assignments_in_comments_and_single_quotes_do_not_count() -> None:
    assert assigned_names("# A=1\necho 'B=2'\ncurl -d C=3 localhost") == set()


# --- placeholders ------------------------------------------------------------------------------------------------


def test_assignment_of_an_example_value_is_a_placeholder_with_its_example() -> None:
    code = 'REQUEST_ID="abc123..."\ngrep "$REQUEST_ID" /var/log/app.log'
    assert holes(code) == [Hole("REQUEST_ID", "placeholder", 0, "abc123...")]


@pytest.mark.parametrize("value", ["'sk-live-...'", '"tok..."', "user_abc123"])
def test_other_example_values_in_assignments_are_placeholders(value: str) -> None:
    assert placeholders(f"API_KEY={value}\ncurl -H \"X-Key: $API_KEY\" localhost") == ["API_KEY"]


def test_real_assignment_is_not_a_placeholder() -> None:
    assert holes("LIMIT=100\necho $LIMIT") == []


def test_caps_id_inside_quoted_sql_is_a_placeholder() -> None:
    code = "psql -c \"SELECT * FROM sessions WHERE user_id = 'USER_ID';\""
    assert holes(code) == [Hole("USER_ID", "placeholder", 0, "USER_ID")]


def test_pid_argument_is_a_placeholder() -> None:
    assert placeholders('psql -c "SELECT pg_terminate_backend(PID);"') == ["PID"]


def test_angle_bracket_word_is_a_placeholder() -> None:
    assert holes("curl -s localhost/users/<user-id>/sessions") == [Hole("<user-id>", "placeholder", 0, "<user-id>")]


def test_your_prefix_and_example_domain_are_placeholders() -> None:
    assert placeholders("curl -H 'Key: YOUR_API_KEY' https://your-domain.com/health") == [
        "YOUR_API_KEY", "your-domain.com"]


@pytest.mark.parametrize("code", [
    'grep "SECRET_KEY" /etc/environment',
    "echo $REQUEST_ID",
    'echo "${REQUEST_ID}"',
    "cat /proc/$PPID/status",
    "grep PID_FILE /etc/app.conf",
    "echo $((1 + 2)) > /tmp/x.txt",
])
def test_names_that_are_not_placeholders(code: str) -> None:
    assert placeholders(code) == []


def test_placeholder_in_a_comment_is_not_a_hole() -> None:
    assert holes("# replace USER_ID below\nwhoami") == []


def test_holes_come_in_line_order() -> None:
    code = "echo $FIRST\npsql -c \"DELETE FROM carts WHERE owner = 'OWNER_ID'\"\necho $THIRD"
    assert [(h.name, h.line) for h in holes(code)] == [("FIRST", 0), ("OWNER_ID", 1), ("THIRD", 2)]


# --- binding ------------------------------------------------------------------------------------------------------


def test_bind_replaces_an_assignment_value_shell_quoted() -> None:
    assert bind('REQUEST_ID="abc123..."\ngrep "$REQUEST_ID" app.log', {"REQUEST_ID": "req 42"}) == (
        "REQUEST_ID='req 42'\ngrep \"$REQUEST_ID\" app.log")


def test_bind_quotes_values_holding_quotes() -> None:
    assert bind("NAME=abc123...", {"NAME": "it's"}) == "NAME='it'\"'\"'s'"


def test_bind_replaces_a_bare_word() -> None:
    code = "psql -c \"DELETE FROM sessions WHERE user_id = 'USER_ID';\""
    assert bind(code, {"USER_ID": "u-7"}) == "psql -c \"DELETE FROM sessions WHERE user_id = 'u-7';\""


def test_bind_replaces_pid_but_not_longer_names_containing_it() -> None:
    assert bind("kill -TERM PID; cat PID_FILE MYPID", {"PID": "4242"}) == "kill -TERM 4242; cat PID_FILE MYPID"


@pytest.mark.parametrize("code", ["echo $REQUEST_ID", 'echo "${REQUEST_ID}"', "echo ${REQUEST_ID:-none}"])
def test_bind_never_touches_variable_references(code: str) -> None:
    assert bind(code, {"REQUEST_ID": "r1"}) == code


def test_bind_replaces_literal_example_values() -> None:
    code = "curl localhost/users/<user-id> -H 'X-Request: abc123...'"
    assert bind(code, {"<user-id>": "u1", "abc123...": "req-9"}) == "curl localhost/users/u1 -H 'X-Request: req-9'"


def test_bind_without_values_changes_nothing() -> None:
    code = 'REQUEST_ID="abc123..."\ngrep "$REQUEST_ID" app.log'
    assert bind(code, {}) == code


def test_bound_block_has_no_placeholder_left() -> None:
    code = "REQUEST_ID=\"abc123...\"\npsql -c \"SELECT 1 FROM t WHERE u = 'USER_ID' AND r = '$REQUEST_ID'\""
    bound = bind(code, {"REQUEST_ID": "r-1", "USER_ID": "u-1"})
    assert placeholders(bound) == []
    assert "$REQUEST_ID" in bound


# --- placeholders as people write them ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "name"), [
    ("kubectl logs <pod-name>", "<pod-name>"),
    ("kubectl logs <pod name>", "<pod name>"),
    ("journalctl -n <N>", "<N>"),
    ("curl -H 'Authorization: Bearer <API_TOKEN>' localhost", "<API_TOKEN>"),
    ("kubectl -n <your-namespace> get pods", "<your-namespace>"),
    ("curl 'localhost/search?limit=<value>'", "<value>"),
    ("helm upgrade web chart --set image.tag=<tag>", "<tag>"),
    ("curl http://YOUR_IP:8080/health", "YOUR_IP"),
    ("kubectl -n your-namespace get pods", "your-namespace"),
    ("aws s3 ls s3://your_bucket/", "your_bucket"),
    ("echo [Name]", "[Name]"),
    ("aws s3 ls s3://[your-bucket]/", "[your-bucket]"),
    ("ssh [HOST]", "[HOST]"),
    ("aws ec2 describe-instances --instance-ids [INSTANCE_ID]", "INSTANCE_ID"),
    ("aws ec2 stop-instances --instance-ids i-0abc123def4567890", "i-0abc123def4567890"),
    ("aws ec2 describe-instances --instance-ids i-1234abcd", "i-1234abcd"),
    ("aws ec2 authorize-security-group-ingress --group-id sg-12345678", "sg-12345678"),
    ("grep abc123 /var/log/app.log", "abc123"),
    ("curl -H 'X-Api-Key: xxxxx' localhost", "xxxxx"),
    ("curl -H 'Authorization: Bearer sk-XXXXXXXX' localhost", "sk-XXXXXXXX"),
    ("curl localhost/jobs/12345678-1234-1234-1234-123456789012", "12345678-1234-1234-1234-123456789012"),
    ("curl https://api.example.com/health", "api.example.com"),
    ("dig db.internal.example", "db.internal.example"),
    ("psql postgres://user:password@db:5432/app", "user:password"),
    ("redis-cli -u redis://default:PASS@cache:6379", "default:PASS"),
    ("mysql --url mysql://USER:PASSWORD@db/app", "USER:PASSWORD"),
])
def test_placeholders_as_people_write_them(code: str, name: str) -> None:
    assert placeholders(code) == [name]


@pytest.mark.parametrize("code", [
    "cat <<EOF > /tmp/x\nhello\nEOF", "cat <<-EOF>out\nEOF", "sort < input.txt", "sort <in.txt >out.txt",
    "cmd > /tmp/out 2>&1", "diff <(ls a) <(ls b)", "echo $((1 < 2))",
    "kubectl get pods -o jsonpath='{.items[0].metadata.name}'", "kubectl get pods -o jsonpath='{.items[*].spec}'",
    "[ -f /etc/app.conf ] && echo yes", "[[ -n x ]] && echo yes", "ls /dev/sd[a-z] /var/log/app.[0-9]",
    "grep '[[:space:]]' f", "grep -E '^[abc]+' f", "grep '\\[ERROR\\]' app.log", "grep '[ERROR]' app.log",
    "echo see [the docs](https://docs.internal/x)",
    "cat <<EOF > /etc/systemd/system/web.service\n[Unit]\n[Service]\nEOF",
    "curl https://status.internal/health", "xxd -l 16 file.bin", "echo 9f1c2e7a-4b3d-4e8f-a1b2-c3d4e5f60718",
    "echo 'Enter your password'", "psql postgres://app@db/app", "openssl rand -hex 16",
    "kubectl get pods -l 'app in (web, api)'", "awk '$1 < 5 && $2 > 3' data.txt",
])
def test_near_misses_are_not_placeholders(code: str) -> None:
    assert placeholders(code) == []


@pytest.mark.parametrize("code", ["psql postgres://app:$PASSWORD@db/app", "curl -u admin:${ADMIN_PASSWORD} x"])
def test_credentials_from_variables_are_variables_not_placeholders(code: str) -> None:
    assert placeholders(code) == []
    assert variables(code) != []


@pytest.mark.parametrize(("code", "name", "example"), [
    ("NAMESPACE=your-namespace\nkubectl -n $NAMESPACE get pods", "NAMESPACE", "your-namespace"),
    ("POD=<pod-name>\nkubectl logs $POD", "POD", "<pod-name>"),
    ("export HOST=api.example.com", "HOST", "api.example.com"),
])
def test_assignment_of_a_placeholder_is_reported_under_its_name(code: str, name: str, example: str) -> None:
    assert holes(code) == [Hole(name, "placeholder", 0, example)]


def test_sql_comparison_with_a_caps_id_and_no_spaces_is_a_placeholder() -> None:
    assert placeholders("psql -c \"SELECT * FROM t WHERE user_id='USER_ID'\"") == ["USER_ID"]


def test_one_placeholder_is_one_hole_even_when_patterns_overlap() -> None:
    assert placeholders("curl https://your-domain.com/<INSTANCE_ID>\ncurl x/<INSTANCE_ID>") == [
        "INSTANCE_ID", "your-domain.com"]


def test_placeholders_in_a_line_come_in_order_of_their_patterns_on_earlier_lines_first() -> None:
    assert [(h.name, h.line) for h in holes("echo <a-b>\necho [Name] YOUR_KEY")] == [
        ("<a-b>", 0), ("YOUR_KEY", 1), ("[Name]", 1)]


def test_a_long_line_of_assignments_stays_linear() -> None:
    code = " ".join(f"K{i}=v{i}" for i in range(5000)) + " <pod-name>"
    assert placeholders(code) == ["<pod-name>"]


# --- holes of a block as read: prompts stripped, output ignored ----------------------------------------------------


def test_block_holes_find_placeholders_in_prompt_lines_not_in_output() -> None:
    reading = read_block("console", "$ kubectl logs <pod-name> -n prod\nerror: pod <other-pod> not found\n"
                                    "$ echo $TOKEN")
    assert block_holes(reading) == [Hole("<pod-name>", "placeholder", 0, "<pod-name>"), Hole("TOKEN", "variable", 2)]


def test_block_holes_of_a_shell_block_are_those_of_holes() -> None:
    code = "# replace USER_ID\nREQUEST_ID=\"abc123...\"\ncurl localhost/<user-id> \\\n  -H \"X: $TOKEN\""
    assert block_holes(read_block("bash", code)) == holes(code)


def test_block_holes_of_sql_and_client_commands_are_placeholders_only() -> None:
    reading = read_block("sql", "SELECT * FROM sessions\nWHERE user_id = 'USER_ID' AND note = '$NOT_A_VARIABLE';")
    assert block_holes(reading) == [Hole("USER_ID", "placeholder", 1, "USER_ID")]
    redis = read_block("redis", "127.0.0.1:6379> GET session:<session-id>\n\"<not-this>\"")
    assert block_holes(redis) == [Hole("<session-id>", "placeholder", 0, "<session-id>")]


def test_block_holes_in_heredocs_follow_quoting() -> None:
    expanding = read_block("bash", "psql <<EOF\nDELETE FROM t WHERE id = '$ID';\nEOF")
    assert block_holes(expanding) == [Hole("ID", "variable", 1)]
    quoted = read_block("bash", "psql <<'EOF'\nDELETE FROM t WHERE id = 'ORDER_ID' AND x = '$LITERAL';\nEOF")
    assert block_holes(quoted) == [Hole("ORDER_ID", "placeholder", 1, "ORDER_ID")]


def test_block_holes_of_output_blocks_are_none() -> None:
    assert block_holes(read_block("text", "connect to <host> with YOUR_API_KEY")) == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["", "bash", "console", "sql", "redis", "text"]),
       st.lists(st.sampled_from(["$ ", "> ", "# ", "127.0.0.1:6379> ", "echo ", "$X", "<pod-name>", "[Name]",
                                 "USER_ID", "'", '"', "<<EOF", "EOF", "\\", "\n", " ", "a=", "i-12345678"]),
                max_size=30).map("".join))
def test_block_holes_never_raise_and_stay_in_the_block(language: str, code: str) -> None:
    count = len(code.split("\n"))
    assert all(0 <= hole.line < count for hole in block_holes(read_block(language, code)))


def test_block_assigned_names_read_commands_not_output() -> None:
    reading = read_block("console", "$ export NAMESPACE=prod\nTOKEN=printed-not-set\n$ read -r ANSWER")
    assert block_assigned_names(reading) == {"NAMESPACE", "ANSWER"}
