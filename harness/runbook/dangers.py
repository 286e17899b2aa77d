"""What a block's commands would do that a drill must not do blindly.

Two catalogues over a `BlockReading` (harness.runbook.shell), each finding on the exact line of
the command (never a comment above it):

- `dangers(reading)`: destructive commands (data or access lost): `Danger(label, line, snippet)`;
- `hazards(reading)`: steps that cannot work unattended (never end, need a terminal, open an
  editor, wait for y/N, bare SQL in a shell block, sudo): `Hazard(code_name, line, message)`.

A command is checked part by part: split at `;`, `&&`, `||` (harness.runbook.commands.split_command,
which also drops a leading `sudo`), then at pipes. Decisions:

- `rm -rf` only (any flag order, `-r -f`, `--recursive --force`); `rm -r dir` and `rm -f x.lock`
  are ordinary cleanup and not reported.
- `DROP TABLE|DATABASE|SCHEMA|USER|ROLE` (and `dropdb`) are reported; `DROP INDEX` is not: no data
  is lost, and dropping an invalid index is a routine fix.
- `docker rm -f` is not reported (a container's data lives in volumes); `docker volume rm` and
  `docker compose down -v` are.
- redis `DEL key` of one key is a targeted fix and is not reported; deleting keys in bulk
  (`... | xargs redis-cli del`) is.
- `kubectl delete pod` is not reported (its controller recreates it); namespaces, PVs, PVCs,
  deployments, statefulsets, daemonsets are.
- Text that is only printed is not run: quoted strings of an `echo`/`printf` whose output goes
  nowhere but the terminal or a file are ignored (`echo "never rm -rf /"`); piped into a
  program they count (`echo FLUSHALL | redis-cli`). Comments never reach this module.
- A `>` redirection is a log truncation when it empties a file on purpose (`> f`, `: > f`,
  `cat /dev/null > f`, `echo -n > f`, `cp /dev/null f`, `truncate -s 0 f`) or when it overwrites
  a file in a log directory (`/var/log/app.log`, `/opt/app/logs/x`); `cmd > /tmp/report.txt`,
  `kubectl logs p > pod.log` (saving logs), `>> app.log`, `2>&1` and `>/dev/null` are not.
- `kafka-consumer-groups --reset-offsets` only with `--execute` (`--dry-run` and the default
  preview change nothing).
- Client commands (redis-cli, psql, mysql, SQL statements) are checked for SQL and FLUSHALL/FLUSHDB
  only: `> slowlog get 10` typed at a redis prompt is never a redirection.

Every rule reads each character of a command a bounded number of times (no nested quantifiers over
the same characters; a program named many times on one line is read once), and a cheap keyword test
skips the rules a command cannot match: 20,000 lines are checked in a fraction of a second.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from harness.runbook.commands import normalise, split_command
from harness.runbook.shell import BlockReading, ClientCommand, CommandLine

SNIPPET_LENGTH = 80


class Context(StrEnum):
    """Where a command is typed: into a shell, or into a client (redis-cli, psql, mysql, a SQL block)."""

    SHELL = "shell"
    CLIENT = "client"


@dataclass(frozen=True)
class Danger:
    """A destructive command: which one (the catalogue's label), its line in the block, and the command."""

    label: str
    line: int
    snippet: str


@dataclass(frozen=True)
class DangerRule:
    """One entry of the catalogue: a label, why it is dangerous, where it applies and how it is found."""

    label: str
    why: str
    contexts: frozenset[Context]
    found: Callable[[str], bool]
    keywords: tuple[str, ...] = ()  # one of them is in any command it finds (lowercase): a cheap first test

    def finds(self, lowered: str) -> bool:
        """Whether the rule may find something in a command (`lowered`: its text in lowercase)."""
        return not self.keywords or any(keyword in lowered for keyword in self.keywords)


def _search(pattern: str | re.Pattern[str], flags: int = 0) -> Callable[[str], bool]:
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, flags)
    return lambda text: compiled.search(text) is not None


# --- helpers over one part of a command ----------------------------------------------------------------------------

_ARGS_END = re.compile(r"[;&|)`]")


@functools.cache
def _program_pattern(program: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.$/-])(?:\S*/)?{program}(?![\w.-])")


def _calls(text: str, program: str) -> Iterator[list[str]]:
    """The argument words of each call of `program` (a regex of names) in a command part, up to the end of
    that command (`;`, `&`, `|`, `)`). A name inside the arguments of the call before it is not a new call,
    so every character is read once (linear however often the name repeats)."""
    pattern = _program_pattern(program)
    at = 0
    while (found := pattern.search(text, at)) is not None:
        end = _ARGS_END.search(text, found.end())
        stop = end.start() if end else len(text)
        yield text[found.end():stop].split()
        at = max(stop, found.end())


_CLUSTER = re.compile(r"-([A-Za-z]+)")


def _flag(words: list[str], letters: str, valued: str = "") -> bool:
    """Whether a short option in `letters` is given, in any cluster (`-rf`, `-fn50`), as getopt reads it:
    a letter in `valued` takes the rest of its cluster as its value (`-owide` is `-o wide`, not `-w`)."""
    for word in words:
        if word == "--":
            return False
        found = _CLUSTER.match(word)
        if found is None:
            continue
        for letter in found.group(1):
            if letter in letters:
                return True
            if letter in valued:
                break
    return False


def _before_dashes(words: list[str]) -> list[str]:
    """The words before `--` (after it come the command's own arguments: `kubectl exec p -- top -b`)."""
    return words[:words.index("--")] if "--" in words else words


def _has(words: list[str], *names: str) -> bool:
    return any(w in names or w.split("=", 1)[0] in names for w in words)


def _subcommand(words: list[str], valued: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """The first word that is not an option (skipping options that take a value), and what follows it."""
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("-"):
            return word, words[i + 1:]
        i += 2 if word in valued else 1
    return "", []


_KUBECTL_LETTERS = "nlocs"  # kubectl's short options that take a value
_KUBECTL_VALUED = frozenset({"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s",
                             "--server", "--token", "-l", "--selector", "-o", "--output", "-c", "--container"})
_DOCKER_VALUED = frozenset({"--context", "-H", "--host", "-c", "--config", "-f", "--file", "-p", "--project-name"})


def _rm_rf(text: str) -> bool:
    for words in _calls(text, "rm"):
        recursive = _flag(words, "rR") or _has(words, "--recursive")
        if recursive and (_flag(words, "f") or _has(words, "--force")):
            return True
    return False


def _kill_9(text: str) -> bool:
    signals = {"-9", "-KILL", "-SIGKILL", "-s9", "-sKILL", "-sSIGKILL", "--signal=9", "--signal=KILL",
               "--signal=SIGKILL"}
    for words in _calls(text, "(?:kill|pkill|killall)"):
        if any(w in signals for w in words):
            return True
        for flag, value in itertools.pairwise(words):
            if flag in ("-s", "--signal", "-n") and value.upper().removeprefix("SIG") in ("9", "KILL"):
                return True
    return False


# The rest of a statement: up to `;`, or the end of the shell argument that holds it (a `"`, or an unmatched
# `'`); SQL strings ('active') and escaped quotes inside it are skipped (alternatives differ at their first
# character: linear).
_STATEMENT_REST = r"(?:[^;\"'\\]|\\.|'[^']*')*"
_SQL_DELETE = re.compile(rf"\bDELETE\s+FROM\s+{_STATEMENT_REST}", re.I)
_SQL_UPDATE = re.compile(rf"\bUPDATE\s+[\w.\"`]+\s+SET\b{_STATEMENT_REST}", re.I)
_WHERE = re.compile(r"\bWHERE\b", re.I)
_SQL_STRING = re.compile(r"'[^']*'")  # a WHERE inside a string value is no WHERE clause


def _without_where(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """The statement (up to `;` or the end of a quoted argument) has no WHERE."""
    return lambda text: any(not _WHERE.search(_SQL_STRING.sub("''", m.group(0))) for m in pattern.finditer(text))


_LOG_TARGET = r"[\"']?/(?:[^\s;&|\"'>]*/)?logs?/[^\s;&|\"'>]"
# An emptying idiom (`> f` alone, `: > f`, `true > f`, `cat /dev/null > f`, `echo -n > f`, `echo "" > f`,
# `printf '' > f`) whatever the file, or any overwrite (`>`, `>|`, `&>`, not `>>`, `2>`, `>&`) of a file in a
# log directory (`/var/log/app.log`, `/opt/app/logs/x`; `kubectl logs p > pod.log` saves logs, it is not reported).
_TRUNCATION = re.compile(
    r"^(?::|true|cat[ \t]+/dev/null|echo[ \t]+-n|echo[ \t]+(?:\"\"|'')|printf[ \t]+(?:\"\"|''))?[ \t]*>\|?[ \t]*"
    r"(?!/dev/(?:null|stdout|stderr)\b)[^\s&>]"
    rf"|(?<![>&\d])&?>(?![>&])\|?[ \t]*{_LOG_TARGET}"
    r"|\bcp[ \t]+/dev/null[ \t]+\S")

def _truncate_to_zero(text: str) -> bool:
    for words in _calls(text, "truncate"):
        for i, word in enumerate(words):
            if word in ("-s0", "--size=0") or (word in ("-s", "--size") and words[i + 1:i + 2] == ["0"]):
                return True
    return False


def _log_truncation(text: str) -> bool:
    return _TRUNCATION.search(text) is not None or _truncate_to_zero(text)


# Where a command starts in a part: its beginning, after `--` (`kubectl exec p -- mkfs`), or in a quoted script.
_MKFS = re.compile(r"(?:^|--\s+|[\"'(`]\s*)(?:\S*/)?(?:mkfs(?:\.\w+)?|mke2fs|wipefs)(?![\w-])")


def _kubectl_delete(text: str) -> bool:
    kinds = {"namespace", "namespaces", "ns", "pvc", "pvcs", "persistentvolumeclaim", "persistentvolumeclaims",
             "pv", "pvs", "persistentvolume", "persistentvolumes", "deployment", "deployments", "deploy",
             "statefulset", "statefulsets", "sts", "daemonset", "daemonsets", "ds", "crd", "crds",
             "customresourcedefinition", "customresourcedefinitions"}
    for words in _calls(text, "kubectl"):
        verb, rest = _subcommand(words, _KUBECTL_VALUED)
        if verb != "delete":
            continue
        target, _ = _subcommand(rest, _KUBECTL_VALUED)
        if any(kind.split("/")[0].split(".")[0] in kinds for kind in target.split(",")):
            return True
    return False


def _docker_data_loss(text: str) -> bool:
    for words in _calls(text, "docker"):
        group, rest = _subcommand(words, _DOCKER_VALUED)
        action, after = _subcommand(rest, _DOCKER_VALUED)
        # Build cache and unused networks come back by themselves: not data loss.
        if group in ("system", "volume", "image", "container") and action == "prune":
            return True
        if group == "volume" and action in ("rm", "remove"):
            return True
        if group == "compose" and action == "down" and (_has(after, "--volumes") or _flag(after, "v")):
            return True
    for words in _calls(text, "docker-compose"):
        action, after = _subcommand(words, _DOCKER_VALUED)
        if action == "down" and (_has(after, "--volumes") or _flag(after, "v")):
            return True
    return False


def _kafka_reset(text: str) -> bool:
    for words in _calls(text, r"kafka-consumer-groups(?:\.sh)?"):
        if _has(words, "--reset-offsets") and _has(words, "--execute"):
            return True
    return False


def _kafka_topic_delete(text: str) -> bool:
    return any(_has(words, "--delete") for words in _calls(text, r"kafka-topics(?:\.sh)?"))


def _celery_purge(text: str) -> bool:
    return any("purge" in words for words in _calls(text, "celery"))


def _xargs_deletes(text: str) -> bool:
    deleting = {"rm", "del", "unlink", "delete"}
    return any(word.lower() in deleting for words in _calls(text, "xargs") for word in words)


def _find_deletes(text: str) -> bool:
    for words in _calls(text, "find"):
        if "-delete" in words:
            return True
        if any(action in ("-exec", "-execdir", "-ok") and command.rsplit("/", 1)[-1] == "rm"
               for action, command in itertools.pairwise(words)):
            return True
    return False


def _firewall_blocks(text: str) -> bool:
    for words in _calls(text, "ip6?tables"):
        if _has(words, "-D", "--delete", "-L", "--list", "-C", "--check", "-S", "--list-rules"):
            continue
        if _has(words, "-F", "--flush"):
            return True
        for flag, value in itertools.pairwise(words):
            if flag in ("-j", "--jump") and value in ("DROP", "REJECT"):
                return True
        for flag, _chain, target in zip(words, words[1:], words[2:], strict=False):
            if flag in ("-P", "--policy") and target in ("DROP", "REJECT"):
                return True
    for words in _calls(text, "ufw"):
        if words[:2] == ["default", "deny"]:
            return True
    for words in _calls(text, "nft"):
        lowered = [w.lower().strip(";{}") for w in words]
        if ("policy" in lowered and "drop" in lowered) or lowered[:2] == ["flush", "ruleset"]:
            return True
    return False


def _helm_uninstall(text: str) -> bool:
    return any(_subcommand(words, frozenset({"-n", "--namespace", "--kube-context"}))[0] in ("uninstall", "delete",
                                                                                            "del")
               for words in _calls(text, "helm"))


_SAFE_DEVICES = frozenset({"/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/random", "/dev/urandom"})


def _dd_to_device(text: str) -> bool:
    return any(w.startswith("of=/dev/") and w[3:] not in _SAFE_DEVICES for words in _calls(text, "dd") for w in words)


CATALOGUE: tuple[DangerRule, ...] = (
    DangerRule("rm -rf", "removes a directory tree without asking", frozenset({Context.SHELL}), _rm_rf, ("rm",)),
    DangerRule("DELETE without WHERE", "deletes every row of the table", frozenset(Context),
               _without_where(_SQL_DELETE), ("delete",)),
    DangerRule("UPDATE without WHERE", "overwrites every row of the table", frozenset(Context),
               _without_where(_SQL_UPDATE), ("update",)),
    DangerRule("TRUNCATE", "empties the table", frozenset(Context),
               _search(r"\bTRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?[A-Za-z_\"`]", re.I), ("truncate",)),
    DangerRule("DROP", "drops a table, database, schema, user or role", frozenset(Context),
               _search(r"\bDROP\s+(?:TABLE|DATABASE|SCHEMA|USER|ROLE)\b|(?<![\w.-])dropdb(?![\w.-])", re.I), ("drop",)),
    DangerRule("kill -9", "kills without letting the process clean up", frozenset({Context.SHELL}), _kill_9, ("kill",)),
    DangerRule("log truncation", "empties a file the investigation may need", frozenset({Context.SHELL}),
               _log_truncation, (">", "truncate", "/dev/null")),
    DangerRule("FLUSHALL/FLUSHDB", "deletes every redis key", frozenset(Context),
               _search(r"(?<![\w-])flush(?:all|db)(?![\w-])", re.I), ("flush",)),
    DangerRule("mass deletion through xargs", "deletes everything a listing printed", frozenset({Context.SHELL}),
               _xargs_deletes, ("xargs",)),
    DangerRule("find -delete", "deletes every file the search matches", frozenset({Context.SHELL}),
               _find_deletes, ("find",)),
    DangerRule("firewall block", "drops traffic, possibly your own session", frozenset({Context.SHELL}),
               _firewall_blocks, ("iptables", "ip6tables", "ufw", "nft")),
    DangerRule("docker prune", "deletes containers, images or volumes and their data", frozenset({Context.SHELL}),
               _docker_data_loss, ("docker",)),
    DangerRule("kubectl delete", "deletes a namespace, volume or workload, not just a pod",
               frozenset({Context.SHELL}), _kubectl_delete, ("kubectl",)),
    DangerRule("helm uninstall", "removes a whole release", frozenset({Context.SHELL}),
               _helm_uninstall, ("helm",)),
    DangerRule("kafka offset reset", "moves consumers: messages are skipped or re-read", frozenset({Context.SHELL}),
               _kafka_reset, ("kafka-consumer-groups",)),
    DangerRule("kafka topic deletion", "deletes a topic and its messages", frozenset({Context.SHELL}),
               _kafka_topic_delete, ("kafka-topics",)),
    DangerRule("celery purge", "discards every queued task", frozenset({Context.SHELL}), _celery_purge, ("celery",)),
    DangerRule("dd to a device", "overwrites a disk", frozenset({Context.SHELL}),
               _dd_to_device, ("of=/dev/",)),
    DangerRule("mkfs", "formats a filesystem", frozenset({Context.SHELL}),
               _search(_MKFS), ("mkfs", "mke2fs", "wipefs")),
)

_PRINTS = re.compile(r"(?:echo|printf)(?:\s|$)")
_QUOTED = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")
_PIPE = re.compile(r"(?<![|>])\|(?!\|)")


def _blank_printed(part: str) -> str:
    """An echo/printf part whose output is not piped: its quoted text removed (it is printed, never run)."""
    if not _PRINTS.match(part):
        return part
    unquoted = _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) == 2 else '"_"', part)
    return part if _PIPE.search(unquoted) else unquoted


_SEPARATOR = re.compile(r"[;&|\n]")


def _split(text: str) -> list[str]:
    """split_command, without its character-by-character scan when there is nothing to split at."""
    if _SEPARATOR.search(text):
        return split_command(text)
    plain = normalise(text)
    plain = plain[5:] if plain.startswith("sudo ") else plain
    return [plain] if plain else []


# A command run by another: `ssh host '...'`, `bash -c "..."`, `su - app -c '...'`, `sudo sh -c '...'`.
_INNER = re.compile(r"""(?:\bssh\s[^'"|;&]*?|\b(?:ba|z|k|da)?sh\s+-\w*c\s+|\bsu\s[^'"|;&]*?-c\s+)(['"])(.+?)\1""")


def _parts(text: str) -> list[str]:
    """The parts of a command line, and the parts of the commands it hands to ssh or `sh -c`."""
    parts = [_blank_printed(part) for part in _split(text)]
    for inner in _INNER.finditer(text):
        parts.extend(_blank_printed(part) for part in _split(inner.group(2)))
    return parts


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_LENGTH else flat[:SNIPPET_LENGTH - 1] + "…"


def dangers_of(text: str, context: Context = Context.SHELL) -> tuple[str, ...]:
    """The catalogue labels that one command (a shell line, or a client command) matches."""
    return tuple(rule.label for rule, _part in _matches(text, context))


def _matches(text: str, context: Context) -> Iterator[tuple[DangerRule, str]]:
    """Each rule that finds something in the command, with the part of the command where it does."""
    lowered = text.lower()
    rules = [rule for rule in CATALOGUE if context in rule.contexts and rule.finds(lowered)]
    if not rules:
        return
    # In a client command `"` only quotes identifiers (`DELETE FROM "Orders" WHERE ...`): dropped.
    parts = _parts(text) if context is Context.SHELL else [text.replace('"', "")]
    for rule in rules:
        part = next((p for p in parts if rule.found(p)), None)
        if part is not None:
            yield rule, part


def dangers(reading: BlockReading) -> tuple[Danger, ...]:
    """Every destructive command of a block (shell lines, client commands, SQL statements), in line order."""
    out: list[Danger] = []
    typed: list[tuple[Context, CommandLine | ClientCommand]] = [
        *((Context.SHELL, c) for c in reading.commands), *((Context.CLIENT, c) for c in reading.bare_sql),
        *((Context.CLIENT, c) for c in reading.client_commands)]
    for context, command in sorted(typed, key=lambda pair: pair[1].line):
        out.extend(Danger(rule.label, command.line, _snippet(part)) for rule, part in _matches(command.text, context))
    return tuple(out)


# --- hazards -------------------------------------------------------------------------------------------------------


class HazardKind(StrEnum):
    """Why a step cannot run unattended; `text` is the human phrase beside it."""

    NEVER_ENDS = "never-ends"
    NEEDS_TERMINAL = "needs-terminal"
    EDITOR = "interactive-editor"
    WAITS_FOR_ANSWER = "waits-for-answer"
    BARE_SQL = "bare-sql"
    SUDO = "sudo"

    @property
    def text(self) -> str:
        return _HAZARD_TEXT[self]


_HAZARD_TEXT = {
    HazardKind.NEVER_ENDS: "never ends: a drill would wait for it until its timeout",
    HazardKind.NEEDS_TERMINAL: "needs a terminal: run unattended it fails or waits for input",
    HazardKind.EDITOR: "opens an interactive editor",
    HazardKind.WAITS_FOR_ANSWER: "waits for a y/N answer",
    HazardKind.BARE_SQL: "SQL written as a shell command: the shell would run it and fail",
    HazardKind.SUDO: "uses sudo: the host must allow it without a password",
}


@dataclass(frozen=True)
class Hazard:
    """A step that cannot work unattended: why (`code_name`), its line in the block, and a sentence."""

    code_name: HazardKind
    line: int
    message: str


_REDIS_VALUED = frozenset({"-h", "-p", "-a", "-n", "-u", "-s", "--user", "--pass", "--askpass", "-d", "--cacert",
                           "--cacertdir", "--cert", "--key", "--sni", "-t", "--tls-ciphers", "-3"})
_REDIS_WORK = frozenset({"--scan", "--bigkeys", "--memkeys", "--hotkeys", "--pipe", "--rdb", "--functions-rdb",
                         "--cluster", "--eval", "--memkeys-samples", "-x", "--version", "-v", "--help"})
_REDIS_FOREVER = frozenset({"--stat", "--latency", "--latency-history", "--latency-dist", "-r", "--csv-stat"})
_SQL_CLIENT_WORK = frozenset({"-c", "--command", "-f", "--file", "-l", "--list", "-e", "--execute", "-V",
                              "--version", "--help", "-?", "-B", "--batch"})
_EDITORS = frozenset({"nano", "vi", "vim", "nvim", "emacs", "pico", "joe", "mcedit", "visudo", "vipw", "vigr",
                      "sudoedit", "ed"})
_ASKING_ACTIONS = frozenset({"install", "remove", "purge", "upgrade", "dist-upgrade", "full-upgrade", "autoremove",
                            "reinstall", "erase"})
_WRAPPERS = frozenset({"sudo", "nohup", "time", "exec", "command", "env", "nice", "ionice", "stdbuf"})


def _stages(part: str) -> list[list[str]]:
    """The pipeline stages of a command part, each as words (its wrappers such as `sudo -u x` dropped)."""
    out = []
    for index, stage in enumerate(_PIPE.split(part)):
        words = stage.split()
        if index == 0 and words and words[0].startswith("-"):
            words.insert(0, "sudo")  # split_command dropped `sudo` and left its options (`-u postgres psql`)
        while words and (words[0] in _WRAPPERS or re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0])):
            wrapper = words.pop(0)
            while words and words[0].startswith("-"):
                flag = words.pop(0)
                if wrapper == "sudo" and flag in ("-i", "-s", "--login", "--shell") and len(words) == 0:
                    words = [f"sudo {flag}"]  # a root shell, waiting for a person to type
                    break
                valued = (wrapper == "sudo" and flag in ("-u", "-g", "-U", "-C", "-h", "-p")) or (
                    wrapper == "nice" and flag == "-n")
                if valued and words:
                    words.pop(0)
        if words and words[0] == "timeout":
            words = words[1:]
            while words and words[0].startswith("-"):
                words.pop(0)
            words = words[1:]  # the duration
        out.append(words)
    return out


def _options(words: list[str]) -> list[str]:
    """The leading options of a docker subcommand (`exec -it box top -d`: `-it`; the rest is the command)."""
    out: list[str] = []
    for word in words:
        if not word.startswith("-"):
            if out and out[-1] in ("-e", "-u", "-w", "--env", "--user", "--workdir", "--name", "-p", "-v"):
                out.append(word)
                continue
            break
        out.append(word)
    return out


def _redirected(words: list[str]) -> bool:
    return any(w.startswith("<") for w in words)


def _stage_hazards(words: list[str], piped_in: bool) -> Iterator[tuple[HazardKind, str]]:
    """(kind, what) for one pipeline stage; `piped_in`: the stage reads a previous stage's output."""
    if not words:
        return
    program, args = words[0].rsplit("/", 1)[-1], words[1:]
    if program == "tail" and (_flag(args, "fF", valued="nc") or _has(args, "--follow")):
        yield HazardKind.NEVER_ENDS, "tail -f"
    elif program == "watch":
        yield HazardKind.NEVER_ENDS, "watch"
    elif program == "journalctl" and (_flag(args, "f", valued="unpSUtoDMcr") or _has(args, "--follow")):
        yield HazardKind.NEVER_ENDS, "journalctl -f"
    elif program == "ping" and not _flag(args, "cw", valued="iIstWQlpPM"):
        yield HazardKind.NEVER_ENDS, "ping without -c"
    elif program in ("top", "htop", "atop", "iftop", "iotop", "nethogs") and not (
            program == "top" and _flag(args, "b", valued="dnpuUow")):
        yield HazardKind.NEEDS_TERMINAL, program
    elif program in ("less", "more", "most"):
        yield HazardKind.NEEDS_TERMINAL, f"the pager {program}"
    elif program in _EDITORS and not (program == "emacs" and _has(args, "--batch", "-batch")):
        yield HazardKind.EDITOR, program
    elif program == "crontab" and _flag(args, "e", valued="u"):
        yield HazardKind.EDITOR, "crontab -e"
    elif program == "systemctl" and _subcommand(args)[0] == "edit":
        yield HazardKind.EDITOR, "systemctl edit"
    elif program == "kubectl":
        yield from _kubectl_hazards(args)
    elif program in ("docker", "podman"):
        yield from _docker_hazards(args)
    elif program == "redis-cli":
        yield from _redis_hazards(args, piped_in or _redirected(args))
    elif program in ("psql", "mysql", "mariadb"):
        if not (piped_in or _redirected(args) or _has(args, *_SQL_CLIENT_WORK)
                or _flag(args, "cf" if program == "psql" else "e", valued="hpUdDuPSW")):
            yield HazardKind.NEEDS_TERMINAL, f"{program} without -c/-e/-f or input opens a prompt"
    elif program in ("apt", "apt-get", "yum", "dnf", "zypper"):
        action = _subcommand(args, frozenset({"-o", "-c", "-t"}))[0]
        asks = _ASKING_ACTIONS | ({"update"} if program in ("yum", "dnf") else set())
        if action in asks and not (
                _flag(args, "y", valued="otc") or _has(args, "--yes", "--assume-yes", "--assumeyes",
                                                          "--non-interactive")):
            yield HazardKind.WAITS_FOR_ANSWER, f"{program} {action} without -y"
    elif program == "rm" and (_flag(args, "i") or _has(args, "--interactive")):
        yield HazardKind.WAITS_FOR_ANSWER, "rm -i"
    elif program in ("bash", "sh", "zsh", "sudo -i", "sudo -s", "sudo --login", "sudo --shell") and not args \
            and not piped_in:
        yield HazardKind.NEEDS_TERMINAL, f"{program} opens an interactive shell"
    elif program == "su" and not (_flag(args, "c") or _has(args, "--command")) and not piped_in:
        yield HazardKind.NEEDS_TERMINAL, "su without -c opens an interactive shell"
    elif program == "ssh" and _ssh_opens_shell(args) and not piped_in:
        yield HazardKind.NEEDS_TERMINAL, "ssh without a command opens a shell"


def _ssh_opens_shell(args: list[str]) -> bool:
    valued = frozenset({"-i", "-p", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-S",
                        "-W", "-w", "-O", "-Q", "-B", "-I"})
    host, rest = _subcommand(args, valued)
    return bool(host) and not rest


def _kubectl_hazards(args: list[str]) -> Iterator[tuple[HazardKind, str]]:
    verb, rest = _subcommand(args, _KUBECTL_VALUED)
    rest = _before_dashes(rest)
    following = _flag(rest, "f", _KUBECTL_LETTERS) or _has(rest, "--follow")
    if verb == "logs" and following and "--follow=false" not in rest:
        yield HazardKind.NEVER_ENDS, "kubectl logs -f"
    elif verb == "get" and (_flag(rest, "w", _KUBECTL_LETTERS) or _has(rest, "--watch", "--watch-only")):
        yield HazardKind.NEVER_ENDS, "kubectl get --watch"
    elif verb in ("exec", "run", "attach", "debug") and (_flag(rest, "t", _KUBECTL_LETTERS) or _has(rest, "--tty")):
        yield HazardKind.NEEDS_TERMINAL, f"kubectl {verb} -t"
    elif verb == "port-forward":
        yield HazardKind.NEVER_ENDS, "kubectl port-forward"
    elif verb == "edit":
        yield HazardKind.EDITOR, "kubectl edit"


def _docker_hazards(args: list[str]) -> Iterator[tuple[HazardKind, str]]:
    group, rest = _subcommand(args, _DOCKER_VALUED)
    if group == "compose":
        group, rest = _subcommand(rest, _DOCKER_VALUED)
    options = _options(rest)
    if group == "logs" and (_flag(options, "f", valued="n") or _has(options, "--follow")):
        yield HazardKind.NEVER_ENDS, "docker logs -f"
    elif group in ("exec", "run", "attach") and (_flag(options, "t", valued="euwp") or _has(options, "--tty")):
        yield HazardKind.NEEDS_TERMINAL, f"docker {group} -t"
    elif group == "stats" and not _has(rest, "--no-stream"):
        yield HazardKind.NEVER_ENDS, "docker stats without --no-stream"
    elif group in ("system", "volume", "image", "container", "network", "builder"):
        action, after = _subcommand(rest, _DOCKER_VALUED)
        if action == "prune" and not (_flag(after, "f") or _has(after, "--force")):
            yield HazardKind.WAITS_FOR_ANSWER, f"docker {group} prune without -f"


def _redis_hazards(args: list[str], fed: bool) -> Iterator[tuple[HazardKind, str]]:
    i = 0
    while i < len(args):
        word = args[i]
        forever = word in _REDIS_FOREVER or word.split("=", 1)[0] in _REDIS_FOREVER
        if forever and (word != "-r" or (i + 1 < len(args) and args[i + 1] == "-1")):
            yield HazardKind.NEVER_ENDS, f"redis-cli {word}"
            return
        if word in _REDIS_WORK:
            return
        if word.startswith("-"):
            i += 2 if word in _REDIS_VALUED or word == "-r" or word == "-i" else 1
            continue
        if word.lower() in ("monitor", "subscribe", "psubscribe", "ssubscribe"):
            yield HazardKind.NEVER_ENDS, f"redis-cli {word}"
        return
    if not fed:
        yield HazardKind.NEEDS_TERMINAL, "redis-cli without a command opens a prompt"


# sudo where a command starts: the line's start, after `;` `&&` `|` `(`, `xargs`, `--`, or an opening quote
# (`ssh host 'sudo ...'`); `echo sudo` is not a use.
_SUDO = re.compile(r"(?:^|[|;&(`]|\bxargs(?:[ \t]+-\S+)*|[ \t]--|[ \t][\"'])[ \t]*sudo(?![\w.-])")


def hazards_of(text: str) -> tuple[tuple[HazardKind, str], ...]:
    """(kind, what) for one shell command: why it cannot run unattended."""
    found: list[tuple[HazardKind, str]] = []
    if _SUDO.search(text):
        found.append((HazardKind.SUDO, "sudo"))
    for part in _split(text):
        for index, words in enumerate(_stages(part)):
            found.extend(_stage_hazards(words, piped_in=index > 0))
    return tuple(dict.fromkeys(found))


def hazards(reading: BlockReading) -> tuple[Hazard, ...]:
    """Every step of a block that cannot work unattended, in line order."""
    out: list[Hazard] = []
    typed: list[CommandLine] = sorted([*reading.commands, *reading.bare_sql], key=lambda c: c.line)
    bare = set(reading.bare_sql)
    for command in typed:
        if command in bare:
            out.append(Hazard(HazardKind.BARE_SQL, command.line,
                              f"`{_snippet(command.text)}`: {HazardKind.BARE_SQL.text}; run it with psql -c or "
                              "put it in a sql block"))
            continue
        for kind, what in hazards_of(command.text):
            out.append(Hazard(kind, command.line, f"`{_snippet(command.text)}`: {what}: {kind.text}"))
    return tuple(out)

