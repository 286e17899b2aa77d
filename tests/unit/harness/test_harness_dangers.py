"""Destructive commands and steps that cannot run unattended, found on the exact line of the command."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runbook.dangers import (
    CATALOGUE,
    Context,
    Danger,
    Hazard,
    HazardKind,
    dangers,
    dangers_of,
    hazards,
    hazards_of,
)
from harness.runbook.shell import read_block

# --- the catalogue: each label with commands it must find and near-misses it must not ---------------------------------

POSITIVE = {
    "rm -rf": ["rm -rf /var/lib/app/cache", "rm -fr build", "rm -Rf x", "rm -r -f x", "rm -f -r x", "rm -rfv x",
               "rm --recursive --force x", "rm -r --force x", "sudo rm -rf /tmp/x",
               "kubectl exec web -- rm -rf /data/tmp", "ssh db 'rm -rf /var/lib/old'"],
    "DELETE without WHERE": ['psql -c "DELETE FROM sessions"', "psql -c 'delete from sessions;'",
                             'mysql -e "DELETE FROM cache"'],
    "UPDATE without WHERE": ["psql -c \"UPDATE users SET active = false\"", "psql -c 'update jobs set state=1;'",
                             "psql -c \"UPDATE users SET note = 'where is it'\"",
                             "psql -c \"UPDATE t SET a = 1; SELECT 1 WHERE true\""],
    "TRUNCATE": ["psql -c 'TRUNCATE events'", 'psql -c "TRUNCATE TABLE audit_log"', "psql -c 'truncate only t'"],
    "DROP": ["psql -c 'DROP TABLE orders'", 'psql -c "DROP DATABASE app"', "psql -c 'drop schema s cascade'",
             "psql -c 'DROP USER bob'", "psql -c 'DROP ROLE app'", "dropdb app_production",
             "psql -c 'DROP TABLE IF EXISTS tmp'"],
    "kill -9": ["kill -9 1234", "kill -KILL 1234", "kill -SIGKILL 1234", "kill -s KILL 1234", "kill -s 9 1",
                "pkill -9 -f worker", "killall -9 nginx", "kill -9 $(pgrep gunicorn)", "sudo kill -9 42",
                "pgrep worker | xargs kill -9"],
    "log truncation": ["> /var/log/nginx/access.log", ": > /var/log/app.log", "true > app.log",
                       "truncate -s 0 /var/log/syslog", "truncate --size=0 app.log", "truncate -s0 app.log",
                       "cat /dev/null > /var/log/app.log", "echo -n > /var/log/app.log", 'echo "" > app.log',
                       "cp /dev/null /var/log/app.log", "journalctl -u web > /var/log/web.log",
                       "sudo sh -c ': > /var/log/app.log'"],
    "FLUSHALL/FLUSHDB": ["redis-cli flushall", "redis-cli -h cache FLUSHALL", "redis-cli -n 2 flushdb",
                         "redis-cli FlushAll async", "echo FLUSHALL | redis-cli"],
    "mass deletion through xargs": ["redis-cli --scan --pattern 'session:*' | xargs redis-cli del",
                                    "redis-cli KEYS 'tmp:*' | xargs -n 100 redis-cli DEL",
                                    "ls *.tmp | xargs rm", "find . -name '*.bak' -print0 | xargs -0 rm -f",
                                    "cat keys.txt | xargs redis-cli unlink"],
    "find -delete": ["find /tmp -name '*.tmp' -delete", "find /var/log -mtime +7 -exec rm {} \\;",
                     "find . -type f -exec rm -f {} +", "find /data -execdir rm {} +"],
    "firewall block": ["iptables -A INPUT -s 10.0.0.5 -j DROP", "iptables -I INPUT -p tcp --dport 5432 -j REJECT",
                       "iptables -P INPUT DROP", "ip6tables -P FORWARD DROP", "iptables -F", "iptables --flush",
                       "ufw default deny incoming", "nft add chain inet filter input { policy drop; }",
                       "nft flush ruleset"],
    "docker prune": ["docker system prune -af", "docker volume prune", "docker image prune -a -f",
                     "docker container prune --force", "docker volume rm pgdata", "docker compose down -v",
                     "docker-compose down --volumes"],
    "kubectl delete": ["kubectl delete namespace staging", "kubectl delete ns staging",
                       "kubectl -n db delete pvc data-0",
                       "kubectl delete persistentvolumeclaim data", "kubectl delete pv pv-1",
                       "kubectl delete deployment web", "kubectl delete deploy/web", "kubectl delete sts redis",
                       "kubectl delete statefulset redis -n cache", "kubectl delete deploy,svc web"],
    "helm uninstall": ["helm uninstall web", "helm -n prod uninstall web", "helm delete web --purge"],
    "kafka offset reset": ["kafka-consumer-groups --bootstrap-server k:9092 --group g --reset-offsets "
                           "--to-earliest --topic t --execute",
                           "kafka-consumer-groups.sh --group g --reset-offsets --to-latest --all-topics --execute"],
    "kafka topic deletion": ["kafka-topics --bootstrap-server k:9092 --delete --topic orders"],
    "celery purge": ["celery -A app purge -f", "celery purge"],
    "dd to a device": ["dd if=/dev/zero of=/dev/sdb bs=1M", "dd if=image.iso of=/dev/nvme0n1"],
    "mkfs": ["mkfs.ext4 /dev/sdb1", "mkfs -t xfs /dev/xvdf", "sudo mkfs.xfs -f /dev/nvme1n1", "wipefs -a /dev/sdb"],
}

NEGATIVE = [
    "rm -f app.lock", "rm -r build", "rm file.txt", "docker rm -f web", "docker run --rm alpine ls",
    "psql -c 'DELETE FROM sessions WHERE id = 1'", "psql -c \"UPDATE users SET a = 1 WHERE id = 2\"",
    "psql -c \"UPDATE users SET status = 'active' WHERE id = 5\"", "psql -c \"UPDATE t SET a = 'x;y' WHERE id = 1\"",
    "psql -c \"DELETE FROM \\\"Orders\\\" WHERE id = 1\"",
    "psql -c 'SELECT * FROM orders'", "psql -c 'DROP INDEX CONCURRENTLY orders_idx'", "apt-get update",
    "kill -HUP 1234", "kill 1234", "kill -TERM 1", "kill -0 1", "pkill -f worker", "kill -15 99",
    "kubectl delete pod web-1", "kubectl delete pods -l app=web", "kubectl get deploy", "kubectl delete -f job.yaml",
    "cmd 2>&1", "cmd >/dev/null 2>&1", "cmd &>/dev/null", "ps aux > /tmp/report.txt", "kubectl logs web > pod.log",
    "echo restarted >> /var/log/app.log", "date >>/var/log/app.log", "truncate -s 100M disk.img",
    "docker image ls", "docker system df", "docker ps -a",
    "kafka-consumer-groups --group g --reset-offsets --to-earliest --topic t --dry-run",
    "kafka-consumer-groups --describe --group g", "kafka-topics --list",
    "celery -A app inspect active", "helm list", "helm upgrade web chart/",
    "dd if=/dev/sda of=/dev/null bs=1M count=100", "dd if=/dev/zero of=/tmp/test bs=1M count=10",
    "iptables -L -n", "iptables -D INPUT -s 10.0.0.5 -j DROP", "iptables -A INPUT -p tcp --dport 80 -j ACCEPT",
    "ufw allow 22", "ufw status", "redis-cli del session:42", "redis-cli get key", "redis-cli info",
    "find /var/log -name '*.gz' -mtime +7", "find . -exec ls {} \\;",
    "echo 'rm -rf / is never what you want'", 'printf "FLUSHALL would wipe it\\n"',
    "echo 'DELETE FROM t' > /tmp/query.sql", "grep -r mkfs docs/", "cat /var/log/app.log | tail -n 20",
    "systemctl status nginx", "xargs -n1 echo", "git rm --cached secret.txt",
]


@pytest.mark.parametrize(("label", "command"), [(label, c) for label, cs in POSITIVE.items() for c in cs])
def test_every_catalogue_entry_finds_its_commands(label: str, command: str) -> None:
    assert label in dangers_of(command)


@pytest.mark.parametrize("command", NEGATIVE)
def test_near_misses_are_not_dangers(command: str) -> None:
    assert dangers_of(command) == ()


def test_every_catalogue_entry_has_a_test_a_label_and_a_reason() -> None:
    assert {rule.label for rule in CATALOGUE} == set(POSITIVE)
    assert all(rule.why and rule.contexts for rule in CATALOGUE)


@pytest.mark.parametrize(("statement", "label"), [
    ("DELETE FROM sessions;", "DELETE without WHERE"),
    ("DELETE\nFROM sessions\n;", "DELETE without WHERE"),
    ("UPDATE users\nSET active = false;", "UPDATE without WHERE"),
    ("TRUNCATE events;", "TRUNCATE"),
    ("DROP TABLE orders;", "DROP"),
    ("FLUSHALL", "FLUSHALL/FLUSHDB"),
    ("flushdb", "FLUSHALL/FLUSHDB"),
])
def test_client_statements_are_checked_as_a_whole(statement: str, label: str) -> None:
    assert dangers_of(statement, Context.CLIENT) == (label,)


@pytest.mark.parametrize("statement", [
    "DELETE FROM sessions\nWHERE expires_at < now();", "UPDATE users\nSET active = false\nWHERE id = 7;",
    "UPDATE jobs SET state = 'queued' WHERE id = 7;", 'DELETE FROM "Orders" WHERE "Id" = 3;',
    "SELECT * FROM orders;", "slowlog get 10", "DEL session:1", "CONFIG GET maxmemory", "rm -rf /",
])
def test_client_statements_that_are_not_dangers(statement: str) -> None:
    assert dangers_of(statement, Context.CLIENT) == ()


# --- on a block: the exact line, a snippet, every kind of typed line --------------------------------------------------


def test_danger_is_on_the_command_line_not_the_comment_above_with_a_snippet() -> None:
    reading = read_block("bash", "# clear the cache\n# (it is rebuilt on start)\nrm -rf /var/cache/app\n")
    assert dangers(reading) == (Danger("rm -rf", 2, "rm -rf /var/cache/app"),)


def test_danger_in_a_continued_command_is_on_its_first_line() -> None:
    reading = read_block("bash", "echo start\nfind /var/log/app \\\n  -name '*.log' \\\n  -delete")
    assert [(d.label, d.line) for d in dangers(reading)] == [("find -delete", 1)]


def test_redis_session_prompt_is_not_a_truncation_but_flushall_is_found() -> None:
    reading = read_block("redis", "> slowlog get 10\n1) (integer) 3\n> FLUSHALL\nOK")
    assert [(d.label, d.line) for d in dangers(reading)] == [("FLUSHALL/FLUSHDB", 2)]


def test_redis_cli_session_in_a_console_block() -> None:
    reading = read_block("console", "$ redis-cli -h cache\ncache:6379> flushdb\nOK")
    assert [(d.label, d.line, d.snippet) for d in dangers(reading)] == [("FLUSHALL/FLUSHDB", 1, "flushdb")]


def test_output_lines_of_a_session_are_never_dangers() -> None:
    reading = read_block("console", "$ cat cleanup.sh\nrm -rf /var/lib/app\nkill -9 1\n$ echo ok")
    assert dangers(reading) == ()


def test_sql_block_statement_without_where_is_found_on_its_first_line() -> None:
    reading = read_block("sql", "SELECT 1;\n\nDELETE FROM carts\n  -- every one of them\n;\n"
                                "DELETE FROM carts WHERE id = 3;")
    assert [(d.label, d.line) for d in dangers(reading)] == [("DELETE without WHERE", 2)]


def test_bare_sql_in_a_shell_block_is_checked_as_sql() -> None:
    reading = read_block("bash", "UPDATE accounts\nSET balance = 0;")
    assert [(d.label, d.line) for d in dangers(reading)] == [("UPDATE without WHERE", 0)]


def test_statement_in_a_heredoc_to_psql_is_checked() -> None:
    reading = read_block("bash", "psql <<EOF\nSELECT 1;\nTRUNCATE audit_log;\nEOF")
    assert [(d.label, d.line) for d in dangers(reading)] == [("TRUNCATE", 2)]


def test_script_sent_to_a_remote_shell_is_checked() -> None:
    reading = read_block("bash", "ssh db-1 <<'EOF'\nsudo systemctl stop postgresql\nrm -rf /var/lib/pg/old\nEOF")
    assert [(d.label, d.line) for d in dangers(reading)] == [("rm -rf", 2)]


def test_heredoc_written_to_a_file_is_data_not_a_danger() -> None:
    reading = read_block("bash", "cat > cleanup.sh <<'EOF'\nrm -rf /var/tmp/app\nEOF")
    assert dangers(reading) == ()


def test_a_pattern_in_a_comment_is_not_a_danger() -> None:
    assert dangers(read_block("bash", "systemctl restart web  # never rm -rf here\n# kill -9 1")) == ()


def test_a_long_command_gives_a_short_snippet() -> None:
    reading = read_block("bash", "rm -rf " + " ".join(f"/srv/app/dir{i}" for i in range(50)))
    snippet = dangers(reading)[0].snippet
    assert snippet.startswith("rm -rf /srv/app/dir0")
    assert len(snippet) <= 80


def test_dangers_come_in_line_order_across_kinds() -> None:
    reading = read_block("console", "$ redis-cli\n127.0.0.1:6379> FLUSHALL\n$ rm -rf /tmp/x")
    assert [d.line for d in dangers(reading)] == [1, 2]


def test_a_big_block_is_checked_in_linear_time() -> None:
    """Bench-style: the time is printed; the bound is generous enough never to flake."""
    line = "kubectl get pods -n prod | grep -v Running > /tmp/report.txt && echo done; kill -HUP 12"
    code = "\n".join([line, "rm -rf /tmp/cache-dir", "psql -c 'DELETE FROM t WHERE id = 1'"] * 7000)
    started = time.perf_counter()
    found = dangers(read_block("bash", code))
    elapsed = time.perf_counter() - started
    print(f"dangers: 21000 lines in {elapsed:.3f}s")
    assert len(found) == 7000
    assert elapsed < 20.0


def test_one_long_line_of_repeated_words_stays_linear() -> None:
    text = "kill " * 5000 + "rm " * 5000 + "xargs " * 5000 + "find " * 5000
    started = time.perf_counter()
    dangers_of(text)
    hazards_of(text)
    elapsed = time.perf_counter() - started
    print(f"dangers_of + hazards_of on a {len(text)}-character line: {elapsed:.3f}s")
    assert elapsed < 20.0


# --- hazards --------------------------------------------------------------------------------------------------------

HAZARDS = {
    HazardKind.NEVER_ENDS: [
        "tail -f /var/log/app.log", "tail -F app.log", "tail -n 50 -f app.log", "tail -fn 100 app.log",
        "tail --follow=name app.log", "watch -n 1 kubectl get pods", "journalctl -fu nginx", "journalctl -xef",
        "journalctl -u nginx --follow", "kubectl logs -f web-1", "kubectl -n prod logs --follow web-1",
        "kubectl get pods -w", "kubectl get pods --watch", "kubectl get events --watch-only",
        "docker logs -f web", "docker compose logs -f", "redis-cli monitor", "redis-cli -h cache MONITOR",
        "redis-cli --stat", "redis-cli --latency", "redis-cli subscribe events", "ping db",
        "kubectl port-forward svc/web 8080:80", "docker stats"],
    HazardKind.NEEDS_TERMINAL: [
        "kubectl exec -it web-1 -- sh", "kubectl exec -ti web-1 -- sh", "kubectl exec -i -t web-1 -- bash",
        "kubectl exec --stdin --tty web -- sh", "docker exec -it web bash", "docker run -it alpine sh",
        "redis-cli", "redis-cli -h cache -p 6379", "redis-cli -a secret -n 2", "psql", "psql -h db -U app mydb",
        "sudo -u postgres psql", "mysql -u root -p", "top", "htop", "less /var/log/syslog",
        "journalctl -u web | less", "more /etc/hosts", "ssh web-1", "sudo -i", "sudo -s", "su -", "su - postgres",
        "bash"],
    HazardKind.EDITOR: ["nano /etc/nginx/nginx.conf", "vi /etc/hosts", "vim app.conf", "sudo vim /etc/x",
                        "emacs config.el", "systemctl edit nginx", "crontab -e", "kubectl edit deploy web",
                        "kubectl -n prod edit configmap app", "visudo"],
    HazardKind.WAITS_FOR_ANSWER: ["docker system prune", "docker volume prune", "docker image prune -a",
                                  "apt-get install nginx", "apt install redis-tools", "apt-get remove apache2",
                                  "yum install htop", "rm -i core.*"],
    HazardKind.SUDO: ["sudo systemctl restart nginx", "systemctl daemon-reload && sudo systemctl restart web",
                      "ssh web 'sudo reboot'", "pgrep x | xargs -r sudo kill"],
}

NOT_HAZARDS = [
    "top -b -n 1", "top -bn1", "tail -n 50 app.log", "tail -n100 app.log", "tail app.log",
    "psql -c 'SELECT 1'", "psql -Atc 'SELECT 1'", "psql -f fix.sql", "psql -h db < dump.sql",
    "echo 'SELECT 1' | psql -h db", "cat fix.sql | psql", "mysql -e 'SHOW PROCESSLIST'", "mysql app < dump.sql",
    "docker system prune -f", "docker volume prune --force", "docker image prune -af", "apt-get install -y nginx",
    "apt-get -y install nginx", "apt-get update", "yum -y install htop", "rm -f core.1",
    "kubectl logs web-1", "kubectl logs --tail=50 web-1", "kubectl get pods -o wide", "kubectl get pods -owide",
    "kubectl exec web-1 -- ls /data", "kubectl exec -i web-1 -- psql < fix.sql", "kubectl exec web -- top -b -n 1",
    "docker logs --tail 50 web", "docker exec web top -b -n1", "docker run --rm alpine ls",
    "redis-cli ping", "redis-cli -h cache INFO memory", "redis-cli --scan --pattern 'session:*'",
    "echo PING | redis-cli", "redis-cli < commands.txt", "journalctl -u nginx -n 50", "journalctl -xe",
    "ping -c 3 db", "ping -c3 db", "docker stats --no-stream", "echo sudo is not used here",
    "ssh web-1 uptime", "crontab -l", "su -c 'pg_ctl reload' postgres", "systemctl status nginx",
    "emacs --batch -l x.el",
]


@pytest.mark.parametrize(("kind", "command"), [(k, c) for k, cs in HAZARDS.items() for c in cs])
def test_every_hazard_is_found(kind: HazardKind, command: str) -> None:
    assert kind in [found for found, _ in hazards_of(command)]


@pytest.mark.parametrize("command", NOT_HAZARDS)
def test_commands_that_run_unattended_are_not_hazards(command: str) -> None:
    assert hazards_of(command) == ()


def test_psql_fed_by_a_heredoc_in_a_block_is_not_a_prompt() -> None:
    assert hazards(read_block("bash", "psql <<EOF\nSELECT 1;\nEOF")) == ()


def test_bare_sql_in_a_shell_block_is_a_hazard_on_its_line() -> None:
    found = hazards(read_block("bash", "# count them\nSELECT count(*)\nFROM orders;"))
    assert [(h.code_name, h.line) for h in found] == [(HazardKind.BARE_SQL, 1)]
    assert "psql -c" in found[0].message


def test_hazards_carry_the_line_and_say_why() -> None:
    found = hazards(read_block("console", "$ kubectl get pods\nNAME\n$ kubectl logs -f web-1\nline"))
    assert found == (Hazard(HazardKind.NEVER_ENDS, 2,
                            f"`kubectl logs -f web-1`: kubectl logs -f: {HazardKind.NEVER_ENDS.text}"),)


def test_redis_cli_opened_at_a_prompt_then_typed_into_is_a_terminal_hazard() -> None:
    found = hazards(read_block("console", "$ redis-cli\n127.0.0.1:6379> INFO\n# Server"))
    assert [(h.code_name, h.line) for h in found] == [(HazardKind.NEEDS_TERMINAL, 0)]


def test_sudo_and_another_hazard_on_one_line_are_both_reported() -> None:
    assert [k for k, _ in hazards_of("sudo tail -f /var/log/syslog")] == [HazardKind.SUDO, HazardKind.NEVER_ENDS]


def test_every_hazard_kind_has_its_text() -> None:
    assert all(kind.text for kind in HazardKind)


_PIECES = st.sampled_from([
    "$ ", "> ", "127.0.0.1:6379> ", "mydb=> ", "rm", " -rf", " -r", " -f", " /x", "kill", " -9", "find", " -delete",
    "xargs", " del", "echo", " '", ' "', ">", ">>", " 2>&1", " /var/log/a.log", "psql", " -c", "DELETE FROM t",
    " WHERE", ";", "|", "&&", "\\", "\n", "<<EOF", "EOF", "kubectl", " delete", " ns", " exec", " -it", "docker",
    " system", " prune", "redis-cli", " monitor", "FLUSHALL", "sudo", " -u", "tail", " -f", "top", " -b", "#",
])
_CODE = st.lists(_PIECES, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", "bash", "console", "sql", "redis"]), _CODE)
def test_findings_never_raise_and_point_at_a_typed_line(language: str, code: str) -> None:
    reading = read_block(language, code)
    typed_lines = {typed.line for typed in reading.typed()}
    for danger in dangers(reading):
        assert danger.line in typed_lines
        assert danger.snippet
    for hazard in hazards(reading):
        assert hazard.line in typed_lines
        assert hazard.message
