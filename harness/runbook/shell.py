"""Reading a runbook code block the way a person would: what kind it is and what they would type.

`read_block(language, code)` classifies a fenced block (shell, terminal session, SQL, redis,
config, Windows, output, other) and extracts, each with its 0-based line in `code`:

- shell commands: comments and blank lines dropped, `\\` continuations, open quotes and trailing
  `|`/`&&`/`||` joined (a command's line is its first line), heredoc bodies kept apart;
  in a terminal session only prompt lines (`$ `, `user@host:~$ `, `[root@host ~]# `, `(venv) $ `,
  `% `, `# ` where a root prompt makes sense) and their `> ` continuations are commands, every
  other line is output and dropped;
- client commands typed into redis-cli, psql or mysql, and the statements of a SQL block;
- SQL written bare in a shell block (it would be run by the shell, and fail).

Decisions a reader of a finding needs to know:
- `#` at the start of a line is a comment in a shell block; it is a root prompt only in a block
  read as a session (labelled console/shell-session/terminal, or holding other prompt lines)
  that has no `$ ` prompt (a person at a `$` prompt writes `# ...` as a comment), and only when
  the word after it is a plausible command (`# systemctl restart nginx`, not `# Check the status`).
  `[root@host ~]# ` and `root@host:/# ` are always prompts.
- A session-labelled block (`console`) without a single prompt line is read as a shell block:
  people label plain commands `console` too. A shell-labelled block with `$ ` prompts is a session.
- A `text`/`output` block holding `$ ` prompt lines is a session: a pasted terminal.
- A quote left open at the end of the block (`echo don't`) is not a multi-line string: its lines
  are read one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class BlockKind(StrEnum):
    SHELL = "shell"
    SESSION = "session"  # a pasted terminal: prompt lines and output
    SQL = "sql"
    REDIS = "redis"
    CONFIG = "config"
    WINDOWS = "windows"
    OUTPUT = "output"
    OTHER = "other"


class Client(StrEnum):
    """The interactive program a client command is typed into (`sql`: a statement of a SQL block)."""

    REDIS = "redis-cli"
    PSQL = "psql"
    MYSQL = "mysql"
    SQL = "sql"


@dataclass(frozen=True)
class CommandLine:
    """One command as typed: prompt removed, continuations joined, trailing comment dropped.

    `line` is the 0-based line in the block where it starts; `source` holds its physical lines
    (prompts and `> ` continuation prompts removed), the first at `line`, the next ones after it.
    """

    text: str
    line: int
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientCommand:
    """A command typed into an interactive client (`INFO`, `SELECT ...;`), or a SQL block's statement."""

    client: Client
    text: str
    line: int
    source: tuple[str, ...] = ()


@dataclass(frozen=True)
class Heredoc:
    """The body of a `<<EOF` heredoc: data given to a command, not commands.

    `expands`: the delimiter is unquoted, so `$VAR` in the body is expanded by the shell.
    `client`: the body goes to psql/mysql/redis-cli (then it is also read as client commands).
    """

    command_line: int
    line: int  # first body line
    text: str
    expands: bool
    client: Client | None = None


@dataclass(frozen=True)
class BlockReading:
    kind: BlockKind
    language: str
    commands: tuple[CommandLine, ...] = ()  # shell commands
    client_commands: tuple[ClientCommand, ...] = ()
    bare_sql: tuple[CommandLine, ...] = ()  # SQL statements written as shell lines
    heredocs: tuple[Heredoc, ...] = ()

    @property
    def executable(self) -> bool:
        """True when the block holds shell commands a drill could run. A shell block that holds only
        SQL still runs, as bash would run it when pasted: the drill shows it failing, and lint says
        why (bare-sql), rather than the runbook's step silently leaving the drill."""
        if self.kind is BlockKind.SHELL:
            return bool(self.commands or self.bare_sql)
        return self.kind is BlockKind.SESSION and bool(self.commands)

    def typed(self) -> tuple[CommandLine | ClientCommand, ...]:
        """Everything a person would type, shell and client alike, in line order."""
        lines: list[CommandLine | ClientCommand] = [*self.commands, *self.bare_sql, *self.client_commands]
        return tuple(sorted(lines, key=lambda c: c.line))


# --- languages ----------------------------------------------------------------------------------------------------

SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "zsh", "ksh", "fish", "dash", "ash"})
SESSION_LANGUAGES = frozenset({"console", "shell-session", "shellsession", "terminal", "sh-session",
                               "bash-session", "session"})
SQL_LANGUAGES = frozenset({"sql", "psql", "mysql", "plpgsql", "pgsql", "postgresql", "postgres", "sqlite", "tsql",
                           "cql", "hql", "sparksql", "mssql", "mariadb", "clickhouse", "sqlserver", "oracle",
                           "plsql"})
CRON_LANGUAGES = frozenset({"cron", "crontab"})
REDIS_LANGUAGES = frozenset({"redis", "redis-cli"})
CONFIG_LANGUAGES = frozenset({"yaml", "yml", "json", "jsonc", "json5", "toml", "ini", "conf", "cfg", "nginx",
                              "apacheconf", "hcl", "terraform", "tf", "xml", "properties", "dockerfile",
                              "docker", "env", "dotenv", "systemd", "caddyfile", "haproxy", "promql"})
WINDOWS_LANGUAGES = frozenset({"cmd", "bat", "batch", "dos", "doscon", "powershell", "ps1", "ps", "pwsh", "posh"})
OUTPUT_LANGUAGES = frozenset({"text", "txt", "log", "output", "plaintext", "plain", "out", "stdout"})

# Words that start a command line in operations runbooks; with path-like words, how an unlabelled
# block is told from output.
_KNOWN_COMMANDS_TEXT = """
    ab apt apt-get aws awk az base64 bash cat cd chmod chown cp crontab curl cut date dd df dig
    diff dmesg dnf docker docker-compose dpkg du echo env etcdctl export find free gcloud getent git
    grep gunzip gzip head helm host hostname htop id ifconfig iostat ip iptables ip6tables jq
    journalctl kafka-consumer-groups kafka-consumer-groups.sh kafka-topics kafka-topics.sh kill killall
    kubectl less ln ls lsblk lsof make mkdir mkfs more mount mv mysql mysqladmin mysqldump nc
    netstat nft nginx nohup nslookup openssl pg_ctl pg_dump pg_isready pg_restore pgrep ping pip
    pip3 pkill printf ps psql python python3 redis-cli rm rmdir rsync scp sed service set sleep
    sort source ss ssh stat sudo su systemctl tail tar tcpdump tee telnet terraform test time timeout
    top touch tr traceroute truncate ufw umount uname uniq unset vi vim nano vmstat watch wc wget
    which xargs yum zcat celery rabbitmqctl consul vault nomad mongo mongosh sqlite3 openssl
    update-ca-certificates certbot logrotate sysctl ulimit swapoff swapon mkswap perf strace ltrace
    gdb jcmd jstack jmap java node npm npx yarn go cargo ruby gem bundle rails php composer
    podman crictl ctr minikube kind k9s kubectx kubens eksctl gsutil s3cmd rclone ansible
    ansible-playbook vagrant packer supervisorctl pm2 varnishadm haproxy caddy apachectl httpd
    redis-server redis-benchmark memtier_benchmark pgbench mongostat iftop nethogs iotop sar mpstat
    pidstat uptime w who last lastb chage passwd useradd usermod userdel groupadd visudo crontab
    zgrep zless xz unzip zip openssl host fuser timedatectl hostnamectl localectl loginctl
    resolvectl nmcli firewall-cmd setenforce getenforce semanage restorecon blkid fdisk parted
    resize2fs xfs_growfs growpart lvextend pvs vgs lvs mdadm smartctl nvme ethtool tc arp route
    mtr curlie http httpie grpcurl nats kcat kafkacat zookeeper-shell zkCli.sh cqlsh nodetool
"""
KNOWN_COMMANDS = frozenset(_KNOWN_COMMANDS_TEXT.split())

_SQL_KEYWORDS = ("SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|VACUUM|ANALYZE|EXPLAIN|"
                 "REINDEX|CLUSTER|COPY|BEGIN|COMMIT|ROLLBACK|WITH|SHOW|SET|LOCK|CALL|REFRESH|MERGE|UPSERT")
# Uppercase keywords; lowercase only in shapes no shell command has (`select` is also a bash keyword).
_BARE_SQL = re.compile(
    rf"(?:{_SQL_KEYWORDS})(?=[ \t;(]|$)"
    r"|(?:select[ \t](?:[^#]*[ \t])?from[ \t]|select[ \t]+[\w.*]+\(|insert[ \t]+into[ \t]|update[ \t]+\S+[ \t]+set[ \t]"
    r"|delete[ \t]+from[ \t]|(?:create|drop|alter)[ \t]+(?:table|index|database|schema|user|role|view)[ \t]"
    r"|truncate[ \t]+(?:table[ \t]+)?[a-z_\"]|vacuum(?:[ \t;]|$)|grant[ \t].*[ \t]on[ \t])")

# --- prompts ------------------------------------------------------------------------------------------------------

_SHELL_PROMPT = re.compile(
    r"[ \t]*(?:\([\w.@-]+\)[ \t]*)?"  # (venv)
    r"(?:(?P<userhost>[\w.-]+@[\w.-]+(?::[^\s$#%]*)?)[ \t]*"  # user@host:~
    r"|\[(?P<bracket>[\w.-]+@[\w.-]+(?:[ \t][^\]\s]*)?)\][ \t]*)?"  # [root@host ~]
    r"(?P<sigil>[$#%])(?:[ \t]+(?P<rest>\S.*)|[ \t]*$)")
_REDIS_PROMPT = re.compile(
    r"[ \t]*(?:redis(?:[ \t]+[\w.-]+:\d+)?|[\w.-]+:\d+|not connected)(?:\[\d+\])?>[ \t]?(?P<rest>.*)")
_PSQL_PROMPT = re.compile(r"[ \t]*(?P<db>[A-Za-z_][\w.-]*)(?P<state>[=\-('\"*])(?P<sigil>[#>])(?:[ \t]+(?P<rest>.*)|$)")
_MYSQL_PROMPT = re.compile(r"[ \t]*(?:mysql|MariaDB[ \t]+\[[^\]\n]*\])>(?:[ \t]+(?P<rest>.*)|$)")
_MYSQL_CONTINUATION = re.compile(r"[ \t]*(?:->|'>|\">)(?:[ \t]+(?P<rest>.*)|$)")
_GT_PROMPT = re.compile(r"[ \t]*>(?:[ \t]+(?P<rest>.*)|$)")  # a redis block's `> cmd`, or PS2
_HEREDOC = re.compile(r"<<(-?)[ \t]*(\\?)(['\"]?)([\w.-]+)\3")
_CLIENT_PROGRAM = re.compile(r"(?<![\w.-])(?:(psql)|(mysql|mariadb)|(redis-cli))(?![\w.-])")
# A program by its path: `./run.sh`, `~/bin/x`, `/usr/local/bin/x`, `scripts/rotate.sh` (not a bare file path such
# as `/etc/nginx/nginx.conf`, which people put in a block of its own to name a file).
_PATH_WORD = re.compile(r"(?:\.{1,2}/|~/)[\w./-]+|/(?:[\w.-]+/)*s?bin/[\w.-]+|[\w./~-]+\.(?:sh|py|rb|pl|bash)")
_YAML_LINE = re.compile(r"[ \t]*(?:-[ \t]|-$|---|[\w.\"'-]+:(?:[ \t]|$)|#)")
# A heredoc given to one of these is a script: `ssh db <<EOF`, `kubectl exec -i p -- sh <<EOF`, `bash -s <<EOF`.
_SHELL_FED = re.compile(r"(?<![\w.-])(?:bash|sh|zsh|ssh)(?![\w.-])")
_CLIENT_LAUNCHERS = frozenset({"redis-cli", "psql", "mysql", "mariadb"})
_MAX_QUOTED_LINES = 200  # a quote still open after this many lines was a stray apostrophe
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=\S*")
_Continuation = Callable[[str], "str | None"]  # the rest of a client's continuation line, None when it is not one


def plausible_command(text: str) -> bool:
    """Whether a line starts like a command a person types (`kubectl get pods`, `./run.sh`, `X=1 cmd`)."""
    words = text.split()
    assigns = 0
    while assigns < len(words) and _ASSIGNMENT.fullmatch(words[assigns]):
        assigns += 1
    if assigns == len(words):
        return assigns > 0
    word = words[assigns]
    # `mkfs.xfs`, `fsck.ext4`: a known command with a type suffix
    return word in KNOWN_COMMANDS or word.split(".")[0] in KNOWN_COMMANDS or bool(_PATH_WORD.fullmatch(word))


def _language_word(language: str) -> str:
    word = language.strip().lower()
    word = word.split()[0] if word.split() else ""
    return word.strip("{}.")


# --- quotes, comments, heredocs on one physical line -----------------------------------------------------------------


@dataclass
class _Scan:
    """What one physical line left open: a quote, heredocs to read after the command."""

    quote: str = ""
    heredocs: list[tuple[str, bool, bool]] = field(default_factory=list)  # (delimiter, expands, strip tabs)


def _scan(line: str, state: _Scan) -> str:
    """The line with its comment removed; updates the quote state and the heredocs it opens."""
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if state.quote:
            if ch == "\\" and state.quote == '"':
                i += 2
                continue
            if ch == state.quote:
                state.quote = ""
            i += 1
            continue
        if ch == "\\":
            i += 2
            continue
        if ch in "'\"":
            state.quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t;&|("):
            return line[:i].rstrip()
        elif ch == "<" and line.startswith("<<", i) and not line.startswith("<<<", i):
            found = _HEREDOC.match(line, i)
            if found:
                state.heredocs.append((found.group(4), not (found.group(2) or found.group(3)), found.group(1) == "-"))
                i = found.end()
                continue
            i += 2
            continue
        i += 1
    return line


def _continues(text: str) -> bool:
    """A complete-looking line that still goes on: `\\` at the end, or a trailing pipe or `&&`/`||`."""
    stripped = text.rstrip()
    if stripped.endswith("\\"):
        return not stripped.endswith("\\\\")
    return stripped.endswith(("|", "&&")) and not stripped.endswith(";;")


def _join(pieces: list[str]) -> str:
    """Physical lines as one command: `\\`-newline vanish, a newline inside quotes stays.

    Built from a list of chunks (one per line), not by growing a string: linear in a command
    continued over thousands of lines."""
    chunks: list[str] = []
    for piece in pieces:
        if not chunks:
            chunks.append(piece.strip())
        elif chunks[-1].endswith("\\"):
            chunks[-1] = chunks[-1][:-1].rstrip()
            chunks.append(" " + piece.strip())
        elif chunks[-1].endswith(("|", "&&")):
            chunks.append(" " + piece.strip())
        else:
            chunks.append("\n" + piece)
    return "".join(chunks).strip()


# --- the reader ---------------------------------------------------------------------------------------------------


@dataclass
class _Reader:
    lines: list[str]
    session: bool  # only prompt lines are commands
    root_prompts: bool  # `# cmd` may be a root prompt
    redis_block: bool = False  # `> cmd` is a redis prompt
    commands: list[CommandLine] = field(default_factory=list)
    clients: list[ClientCommand] = field(default_factory=list)
    bare_sql: list[CommandLine] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)

    def read(self) -> None:
        i, n = 0, len(self.lines)
        while i < n:
            i = self._line(i)

    def _prompt(self, line: str) -> str | None:
        """The command after a shell prompt on this line, or None when it is not a prompt line."""
        found = _SHELL_PROMPT.match(line)
        if found is None or found.group("rest") is None:
            return None
        rest = found.group("rest")
        explicit = bool(found.group("userhost") or found.group("bracket"))
        sigil = found.group("sigil")
        if sigil == "$" or explicit:
            return rest
        if sigil == "#" and not self.root_prompts:
            return None
        return rest if plausible_command(rest) else None

    def _line(self, i: int) -> int:
        line = self.lines[i]
        stripped = line.strip()
        if not stripped:
            return i + 1
        if self.session or self.redis_block:
            client = self._client_line(i)
            if client is not None:
                return client
            rest = self._prompt(line)
            if rest is None and stripped.split()[0] in _CLIENT_LAUNCHERS:
                rest = stripped  # `redis-cli -h cache` written without a prompt, above the client's prompts
            if rest is None:
                return i + 1  # output
            return self._command(i, rest)
        if stripped.startswith("#"):
            return i + 1
        if _BARE_SQL.match(stripped):
            return self._bare_sql(i)
        client = self._client_line(i)
        if client is not None:
            return client
        return self._command(i, stripped)

    def _command(self, start: int, first: str) -> int:
        """A shell command from `first` (line `start`, prompt removed) on; the index after it."""
        state = _Scan()
        pieces = [first]
        code = [_scan(first, state)]
        i = start + 1
        while (state.quote or _continues(code[-1])) and i < len(self.lines):
            if state.quote and i - start > _MAX_QUOTED_LINES:
                break
            piece = self._continuation(self.lines[i])
            pieces.append(piece)
            code.append(_scan(piece, state))
            i += 1
        if state.quote:  # a stray quote: read its lines one by one
            self._add(code[0] or first, start, (pieces[0],))
            return start + 1
        text = _join(code)
        if text:
            self._add(text, start, tuple(pieces))
        for delimiter, expands, strip_tabs in state.heredocs:
            i = self._heredoc(i, start, text, delimiter, expands, strip_tabs)
        return i

    def _continuation(self, line: str) -> str:
        if self.session:
            found = _GT_PROMPT.match(line)
            if found:
                return found.group("rest") or ""
        return line

    def _add(self, text: str, line: int, source: tuple[str, ...]) -> None:
        if text.strip():
            self.commands.append(CommandLine(text, line, source))

    def _heredoc(self, i: int, command_line: int, command: str, delimiter: str, expands: bool, tabs: bool) -> int:
        body: list[str] = []
        first = i
        while i < len(self.lines):
            raw = self._continuation(self.lines[i])
            i += 1
            if (raw.lstrip("\t") if tabs else raw).strip() == delimiter:
                break
            body.append(raw)
        client = _client_of(command)
        text = "\n".join(body)
        self.heredocs.append(Heredoc(command_line, first, text, expands, client))
        if client is not None:
            self.clients.extend(_client_statements(client, body, first))
        elif _SHELL_FED.search(command):  # `ssh host bash <<EOF`: the body is commands, run elsewhere
            inner = _Reader(body, session=False, root_prompts=False)
            inner.read()
            self.commands.extend(CommandLine(c.text, c.line + first, c.source) for c in inner.commands)
            self.bare_sql.extend(CommandLine(c.text, c.line + first, c.source) for c in inner.bare_sql)
            self.clients.extend(ClientCommand(c.client, c.text, c.line + first, c.source) for c in inner.clients)
        return i

    def _bare_sql(self, start: int) -> int:
        pieces = [self.lines[start].strip()]
        i = start + 1
        while not _sql_ends(pieces[-1]) and i < len(self.lines):
            nxt = self.lines[i].strip()
            if not nxt or nxt.startswith("#"):
                break
            pieces.append(nxt)
            i += 1
        self.bare_sql.append(CommandLine("\n".join(pieces), start, tuple(pieces)))
        return i

    def _client_line(self, i: int) -> int | None:
        """Client commands starting at line `i` (a redis, psql or mysql prompt): the index after them."""
        line = self.lines[i]
        redis = _REDIS_PROMPT.match(line) or (_GT_PROMPT.match(line) if self.redis_block else None)
        if redis:
            rest = (redis.group("rest") or "").strip()
            if rest:
                self.clients.append(ClientCommand(Client.REDIS, rest, i, (rest,)))
            return i + 1
        psql = _PSQL_PROMPT.match(line)
        if psql and psql.group("state") == "=":
            return self._client_statement(i, Client.PSQL, psql.group("rest") or "", _psql_continuation)
        mysql = _MYSQL_PROMPT.match(line)
        if mysql:
            return self._client_statement(i, Client.MYSQL, mysql.group("rest") or "", _mysql_continuation)
        return None

    def _client_statement(self, start: int, client: Client, first: str, more: _Continuation) -> int:
        pieces = [first.strip()]
        i = start + 1
        while not _sql_ends(pieces[-1]) and i < len(self.lines):
            rest = more(self.lines[i])
            if rest is None:
                break
            pieces.append(rest.strip())
            i += 1
        text = "\n".join(p for p in pieces if p)
        if text:
            self.clients.append(ClientCommand(client, text, start, tuple(pieces)))
        return i


def _psql_continuation(line: str) -> str | None:
    found = _PSQL_PROMPT.match(line)
    return (found.group("rest") or "") if found and found.group("state") != "=" else None


def _mysql_continuation(line: str) -> str | None:
    found = _MYSQL_CONTINUATION.match(line)
    return (found.group("rest") or "") if found else None


def _sql_ends(text: str) -> bool:
    """A statement is complete at a `;` (or `\\g`), or when it is a psql meta-command (`\\dt`)."""
    stripped = re.sub(r"--.*$", "", text).rstrip()
    return not stripped or stripped.endswith((";", "\\g", "\\G")) or stripped.startswith("\\")


def _client_of(command: str) -> Client | None:
    found = _CLIENT_PROGRAM.search(command)
    if found is None:
        return None
    return Client.PSQL if found.group(1) else Client.MYSQL if found.group(2) else Client.REDIS


def _client_statements(client: Client, lines: list[str], first: int) -> Iterator[ClientCommand]:
    if client is Client.REDIS:
        for offset, line in enumerate(lines):
            if line.strip() and not line.strip().startswith("#"):
                yield ClientCommand(client, line.strip(), first + offset, (line.strip(),))
        return
    yield from (ClientCommand(client, text, line, source) for text, line, source in _statements(lines, first))


def _statements(lines: list[str], first: int) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """SQL statements: up to a `;` at the end of a line, `--` comments dropped; (text, line, source)."""
    pending: list[str] = []
    start = first
    for offset, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith("--") or (not line and not pending):
            continue
        prompt = _PSQL_PROMPT.match(raw) or _MYSQL_PROMPT.match(raw)
        if prompt:
            line = (prompt.group("rest") or "").strip()
        if not pending:
            start = first + offset
        pending.append(line)
        if _sql_ends(line):
            text = "\n".join(p for p in pending if p).strip()
            if text:
                yield text, start, tuple(pending)
            pending = []
    text = "\n".join(p for p in pending if p).strip()
    if text:
        yield text, start, tuple(pending)


# --- classification ------------------------------------------------------------------------------------------------


def _user_prompts(lines: list[str]) -> bool:
    """Whether the session has `$` prompts: then a bare `# ...` line in it is a comment, not a root prompt."""
    for line in lines:
        found = _SHELL_PROMPT.match(line)
        if found and found.group("sigil") == "$" and found.group("rest"):
            return True
    return False


def _has_prompts(lines: list[str], reader: _Reader) -> bool:
    return any(reader._prompt(line) is not None for line in lines if line.strip())


def _looks_like_config(lines: list[str]) -> bool:
    content = [line for line in lines if line.strip()]
    if not content:
        return False
    first = content[0].strip()
    if first.startswith(("{", "[")) and content[-1].strip().endswith(("}", "]", "},", "],")):
        return True
    yaml = sum(1 for line in content if _YAML_LINE.match(line))
    return yaml * 2 > len(content) and not first.startswith("#")


def _looks_like_commands(lines: list[str]) -> bool:
    reader = _Reader(lines, session=False, root_prompts=False)
    reader.read()
    if not reader.commands:
        return False
    plausible = sum(1 for c in reader.commands if plausible_command(c.text))
    return plausible * 2 >= len(reader.commands) and plausible_command(reader.commands[0].text)


def read_block(language: str, code: str) -> BlockReading:
    """Classify a fenced block by its label (and its content when unlabelled) and read what is typed in it."""
    word = _language_word(language)
    lines = code.split("\n")
    probe = _Reader(lines, session=True, root_prompts=False)
    if word in SHELL_LANGUAGES or word in SESSION_LANGUAGES:
        session_label = word in SESSION_LANGUAGES
        root_probe = _Reader(lines, session=True, root_prompts=session_label)
        # A shell block is a pasted session when it starts with a prompt (a `$ ` deeper in it may be a
        # heredoc's text); a session label with any prompt at all.
        probed = lines if session_label else _first_content_line(lines)
        prompts = _has_prompts(probed, root_probe) or _has_client_prompts(probed)
        if prompts:
            return _read(BlockKind.SESSION, word, lines, session=True,
                         root_prompts=session_label and not _user_prompts(lines))
        return _read(BlockKind.SHELL, word, lines, session=False, root_prompts=False)
    if word in SQL_LANGUAGES:
        return BlockReading(BlockKind.SQL, word, client_commands=tuple(
            ClientCommand(Client.SQL, text, line, source) for text, line, source in _statements(lines, 0)))
    if word in REDIS_LANGUAGES:
        return _read(BlockKind.REDIS, word, lines, session=True, root_prompts=False, redis_block=True)
    if word in CRON_LANGUAGES:
        return BlockReading(BlockKind.CONFIG, word, commands=tuple(_cron_commands(lines)))
    if word in CONFIG_LANGUAGES:
        return BlockReading(BlockKind.CONFIG, word)
    if word in WINDOWS_LANGUAGES:
        return BlockReading(BlockKind.WINDOWS, word)
    if word in OUTPUT_LANGUAGES or not word:
        if _has_prompts(lines, probe):
            return _read(BlockKind.SESSION, word, lines, session=True, root_prompts=not _user_prompts(lines))
        client = _client_prompts(lines)
        if client is not None:
            kind = BlockKind.REDIS if client is Client.REDIS else BlockKind.SQL
            return _read(kind, word, lines, session=True, root_prompts=False)
        if word:
            return BlockReading(BlockKind.OUTPUT, word)
        if _looks_like_config(lines):
            return BlockReading(BlockKind.CONFIG, word)
        if _looks_like_commands(lines):
            return _read(BlockKind.SHELL, word, lines, session=False, root_prompts=False)
        return BlockReading(BlockKind.OUTPUT, word)
    return BlockReading(BlockKind.OTHER, word)


_CRON_SCHEDULE = re.compile(r"\s*(?:@\w+|(?:\S+\s+){4}\S+)\s+(?P<rest>\S.*)$")
_CRON_USER = re.compile(r"(?P<user>[a-z_][a-z0-9_-]*)\s+(?P<command>[/~.$].*|\w+\s.*)$")


def _cron_commands(lines: list[str]) -> Iterator[CommandLine]:
    """The command of each crontab line (schedule removed, and the user field of /etc/cron.d
    lines): never run by a drill, but what cron runs is checked like any command."""
    for number, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#") or _ASSIGNMENT.match(line.strip()):
            continue
        found = _CRON_SCHEDULE.match(line)
        if found is None:
            continue
        rest = found.group("rest")
        user = _CRON_USER.match(rest)
        if user is not None and user.group("user") not in KNOWN_COMMANDS and plausible_command(user.group("command")):
            rest = user.group("command")
        yield CommandLine(rest.strip(), number, (rest.strip(),))


def _first_content_line(lines: list[str]) -> list[str]:
    return next(([line] for line in lines if line.strip() and not line.strip().startswith("#")), [])


def _client_prompts(lines: list[str]) -> Client | None:
    for line in lines:
        if _REDIS_PROMPT.match(line):
            return Client.REDIS
        psql = _PSQL_PROMPT.match(line)
        if psql and psql.group("state") == "=":
            return Client.PSQL
        if _MYSQL_PROMPT.match(line):
            return Client.MYSQL
    return None


def _has_client_prompts(lines: list[str]) -> bool:
    return _client_prompts(lines) is not None


def _read(kind: BlockKind, word: str, lines: list[str], *, session: bool, root_prompts: bool,
          redis_block: bool = False) -> BlockReading:
    reader = _Reader(lines, session=session, root_prompts=root_prompts, redis_block=redis_block)
    if redis_block and not any(_REDIS_PROMPT.match(x) or _GT_PROMPT.match(x) or reader._prompt(x) for x in lines):
        # A redis block with no prompt at all lists commands, one a line.
        reader.clients.extend(_client_statements(Client.REDIS, lines, 0))
    else:
        reader.read()
    return BlockReading(kind, word, tuple(reader.commands), tuple(reader.clients), tuple(reader.bare_sql),
                        tuple(reader.heredocs))
