"""What a heading or a label says about the phase of the commands under it.

Teams name phases in many words and decorate them: `## Mitigation`, `### 1. Check consumer lag`,
`**🚀 Quick Fix:**`, `### ✅ Verify`, "How to fix", "Confirm it worked". A label is read by its
first meaningful word once numbering (`1.`, `2a)`, `Step 3:`), emoji, punctuation and filler words
("how to", "quick", "immediate", "steps") are dropped. It means one of three things:

- a phase (`Phase`): diagnose, fix, verify or manual;
- `NO_PHASE`: a topic that is not a phase (Overview, Cause, Impact, Prevention, References): the
  commands under it are examples, not steps of a drill;
- `NEUTRAL` (anything else: "Commands", "Example", "Redis connection issues", "On the db host"):
  the label changes nothing; the phase around it holds.

Inside a phase, a label refines it: under "Immediate Actions" (a fix), "Check web server status" is
a diagnosis. Checking under a verification is still verification, and confirming under a diagnosis
still diagnosis: `refine` keeps those.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from harness.runbook.model import Phase


class Scope(Enum):
    """A label's meaning when it names no phase."""

    NO_PHASE = "no-phase"
    NEUTRAL = "neutral"


NO_PHASE = Scope.NO_PHASE
NEUTRAL = Scope.NEUTRAL
Meaning = Phase | Scope

# `1.`, `2a)`, `a.`, `Step 3:`, `Phase 2 -`, `#4`: numbering before the words.
_NUMBERING = re.compile(r"^(?:(?:step|phase|stage|option|part)\s+)?#?(?:\d+[a-z]?|[a-z])"
                        r"(?:[.):]|\s+[-\u2013\u2014:])\s*", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z'-]*")
_FILLER = frozenset({
    "how", "to", "what", "when", "steps", "step", "quick", "quickly", "immediate", "immediately", "initial",
    "first", "next", "then", "final", "finally", "the", "a", "an", "and", "or", "emergency", "urgent",
    "short-term", "long-term", "short", "long", "term", "possible", "common", "basic", "further", "additional",
    "optional", "recommended", "standard", "safe", "safely", "do", "please", "now", "let's", "lets", "we",
    "temporarily", "permanently", "carefully", "gracefully", "forcefully", "quick-", "needed",
})
# First meaningful word -> what the label means. A stem ending in `*` matches any word it starts
# (diagnos* = diagnose, diagnosis, diagnosing); any other is a verb or noun matched as a whole word,
# or with -s / -ing ("restart", "restarts", "restarting", but not "restarted": "Deleted files" names
# a thing, not an action). Several words ("make sure") match the label's first words.
_WORDS: tuple[tuple[tuple[str, ...], Meaning], ...] = (
    (("diagnos*", "check*", "investigat*", "detect*", "triage*", "identify", "symptom*", "inspect*", "examin*",
      "debug*", "troubleshoot*", "determine", "review", "analy*", "gather", "collect", "assess*", "look",
      "find", "observ*", "measure", "locate", "spot", "is", "are", "where", "which", "cause*",
      "root cause*", "possible cause*", "likely cause*", "common cause*", "why", "health check*"), Phase.DIAGNOSE),
    (("fix*", "resolution*", "resolv*", "solution*", "action*", "remediat*", "mitigat*", "workaround*",
      "recover*", "repair*", "restart", "rollback*", "roll", "revert", "restore", "reset", "reload", "scale",
      "increase", "clear", "free", "apply", "kill", "stop", "start", "disable", "failover", "rotate",
      "redeploy", "drain", "purge", "reboot", "unseal", "renew", "release", "remove", "delete", "clean",
      "cleanup", "clean-up", "flush", "rebuild", "reindex", "terminate", "evict", "expand", "resize", "bump",
      "raise", "switch", "promote", "unlock", "patch", "upgrade", "reconnect", "retry", "requeue", "replay",
      "rerun", "re-run", "recreate", "reroute", "throttle", "rate-limit", "pause", "resume", "kick", "bounce",
      "cycle", "correct", "regenerate", "reissue", "replace", "rollout", "undo", "install", "reinstall",
      "force", "trigger", "add", "grow", "extend", "truncate", "vacuum", "unblock", "re-enable", "enable",
      "roll-back", "stabil*", "contain*", "buy time", "stop the bleeding", "shed", "failback", "move", "migrate",
      "relocate", "evacuate"), Phase.FIX),
    (("verif*", "confirm*", "validat*", "post-check*", "postcheck*", "test", "tests", "testing", "ensure",
      "make sure", "smoke*", "double-check*", "recheck*", "re-check*", "success*"), Phase.VERIFY),
    (("manual*", "notif*", "communicat*", "escalat*", "inform", "contact*", "page", "announce*", "tell",
      "stakeholder*"), Phase.MANUAL),
    (("overview*", "background*", "context*", "impact*", "prerequisit*", "requirement*",
      "prevent*", "reference*", "related*", "see", "link*", "summary*", "description*", "about*",
      "introduction*", "owner*", "alert*", "dashboard*", "metric*", "monitoring*", "glossary*", "appendix*",
      "history*", "changelog*", "postmortem*", "post-mortem*", "lesson*", "follow-up*", "follow up", "faq*",
      "architecture*", "setup*", "set up", "installation*", "configuration*", "maintenance*", "scope*",
      "purpose*", "audience*", "severity*", "table of contents", "contents*", "toc", "explanation*",
      "known issue*", "long term", "notes", "note", "tips", "tip"), NO_PHASE),
)


# The names of phases as nouns, read as a label's second word ("Detailed diagnosis"); a verb there
# is not ("Helm's release secrets", "System check failed").
_PHASE_NOUNS = ("diagnos", "investigat", "triage", "troubleshoot", "fix", "resolution", "solution", "remediat",
                "mitigat", "workaround", "recover", "rollback", "verif", "validat", "notif", "escalat", "check",
                "review", "inspection", "analysis")


def _index() -> tuple[tuple[frozenset[str], tuple[str, ...], tuple[str, ...], Meaning], ...]:
    """Each row of _WORDS as its whole words (with their -s/-ing forms), prefixes and phrases: a label
    is read with a few set and `startswith` lookups, not one comparison per stem."""
    rows = []
    for stems, meant in _WORDS:
        exact: set[str] = set()
        for stem in stems:
            if " " not in stem and not stem.endswith("*"):
                exact.update((stem, f"{stem}s", f"{stem}ing", f"{stem[:-1]}ing", f"{stem}es"))
        prefixes = tuple(stem[:-1] for stem in stems if " " not in stem and stem.endswith("*"))
        phrases = tuple(stem.rstrip("*") for stem in stems if " " in stem)
        rows.append((frozenset(exact), prefixes, phrases, meant))
    return tuple(rows)


_INDEX = _index()


def _meaning_of(words: list[str]) -> Meaning:
    word, start = words[0], " ".join(words[:4])
    head = word.split("-")[0]  # `force-unmount` is a force
    for exact, prefixes, phrases, meant in _INDEX:
        if word in exact or word.startswith(prefixes) or (phrases and start.startswith(phrases)) or head in exact:
            return meant
    return NEUTRAL


_CONDITION = re.compile(r"(?:if|when|once|unless|in case)\b[^,]*,\s*(.+)$", re.IGNORECASE)
_JOIN = re.compile(r"\s+(?:&|and|\+|/)\s+", re.IGNORECASE)
# "Check it worked", "Is it fixed?", "Make sure the queue is back": checking the outcome verifies.
_OUTCOME = re.compile(r"\b(?:worked|works again|fixed|recovered|resolved|is back|are back|back to normal|"
                      r"healthy again|after the fix)\b")
# "Confirm the symptom", "Verify the alert is real": confirming the fault diagnoses.
_FAULT = re.compile(r"\b(?:symptoms?|problem|issue|alert|alarm|incident|fault|outage|impact|it is real|is real)\b")


# The names of phases themselves (not the actions in them): a short heading made of one of these
# under a section labels part of that section (`### Diagnosis`) rather than starting a new one.
_PHASE_NAMES = ("diagnos", "investigat", "triage", "symptom", "troubleshoot", "fix", "resolution", "solution",
                "action", "remediat", "mitigat", "workaround", "recover", "rollback", "verif", "validat",
                "confirm", "post-check", "manual", "notif", "communicat", "escalat", "check")  # prefixes


def is_phase_name(label: str) -> bool:
    """Whether the label is the name of a phase ("Diagnosis", "Quick fix", "✅ Verify"), not an action."""
    return words_of(label).startswith(_PHASE_NAMES) and phase_of_label(label) is not None


_DESCRIPTIVE = ("symptom", "sign", "indicator", "what you see", "what users see", "how it looks", "alert", "cause",
                "root cause", "possible cause", "likely cause", "common cause", "why")


def describes(label: str) -> bool:
    """Whether the label introduces a description of the fault ("Symptoms", "Cause"), whose text and list
    items say what people see or why, not actions to take: commands under it diagnose, but its
    words are no checklist."""
    return words_of(label).startswith(_DESCRIPTIVE)


def words_of(label: str) -> str:
    """The label's meaningful words, lowercase: numbering, emoji, markup and filler dropped."""
    text = label.strip().lstrip("#").strip()
    text = re.sub(r"^[^\w]+", "", text)  # emoji, bullets, punctuation
    text = _NUMBERING.sub("", text).strip()
    text = re.sub(r"\([^)]*\)", " ", text)  # `Fix (PostgreSQL)`: the remark names a place, not a phase
    words = _WORD.findall(text.lower())
    while words and words[0] in _FILLER:
        words.pop(0)
    return " ".join(words)


@lru_cache(maxsize=4096)
def meaning(label: str) -> Meaning:
    """What a heading or label says about the phase under it (see the module's docstring).

    Its first meaningful word decides; when that says nothing, a phase's name as its second word
    does ("Detailed diagnosis", "Cluster recovery"). In "System check failed: move the instance",
    the words after the colon are the action, so they are read first."""
    head, colon, tail = label.partition(": ")
    if colon and tail.strip() and not _NUMBERING.fullmatch(head + ":"):
        meant = meaning(tail)
        if meant is not NEUTRAL:
            return meant
        label = head
    # "If still down, check disk space": the action is after the condition.
    plain = _NUMBERING.sub("", re.sub(r"^[^\w]+", "", label.replace("*", "").strip())).strip()
    if (condition := _CONDITION.match(plain)) and (meant := meaning(condition.group(1))) is not NEUTRAL:
        return meant
    # "Common Causes & Solutions", "Symptoms and Diagnosis": the part that names what to do.
    parts = _JOIN.split(label)
    if len(parts) > 1:
        named = [meaning(part) for part in parts if not describes(part)]
        acting = [meant for meant in named if isinstance(meant, Phase)]
        if acting:
            return acting[0]
    words = words_of(label).split()
    if not words:
        return NEUTRAL
    meant = _meaning_of(words)
    if meant is NEUTRAL and len(words) >= 2 and words[1].startswith(_PHASE_NOUNS):
        meant = _meaning_of(words[1:])
    text = " ".join(words)
    if meant in (Phase.DIAGNOSE, Phase.VERIFY, NEUTRAL) and _OUTCOME.search(text):
        return Phase.VERIFY
    if meant is Phase.VERIFY and _FAULT.search(text):
        return Phase.DIAGNOSE
    return meant


def phase_of_label(label: str) -> Phase | None:
    """The phase a heading or label starts, or None (a topic such as Cause, or a neutral label)."""
    meant = meaning(label)
    return meant if isinstance(meant, Phase) else None


def refine(around: Phase | None, meant: Meaning) -> Phase | None:
    """The phase under a label that means `meant`, inside a phase `around` (None: no phase)."""
    if meant is NEUTRAL:
        return around
    if meant is NO_PHASE:
        return None
    assert isinstance(meant, Phase)
    if around is Phase.VERIFY and meant is Phase.DIAGNOSE:
        return Phase.VERIFY  # "Check the health endpoint" under Verification verifies
    if around is Phase.DIAGNOSE and meant is Phase.VERIFY:
        return Phase.DIAGNOSE  # "Confirm the disk is full" under Diagnosis diagnoses
    return meant
