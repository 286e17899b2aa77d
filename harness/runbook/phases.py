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
})
# First meaningful word (a prefix of it) -> what the label means. Order matters only within a row.
_WORDS: tuple[tuple[tuple[str, ...], Meaning], ...] = (
    (("diagnos", "check", "investigat", "detect", "triage", "identify", "symptom", "inspect", "examin", "debug",
      "troubleshoot", "determin", "review", "analy", "gather", "collect", "assess", "look", "find", "observ",
      "view", "query", "measure", "locate", "spot", "is ", "are "), Phase.DIAGNOSE),
    (("fix", "resolution", "resolv", "solution", "action", "remediat", "mitigat", "workaround", "recover", "repair",
      "restart", "rollback", "roll", "revert", "restor", "reset", "reload", "scale", "increas", "clear", "free",
      "apply", "kill", "stop", "start", "disable", "failover", "fail", "rotate", "redeploy", "drain", "purg",
      "reboot", "unseal", "renew", "releas", "remov", "delet", "clean", "flush", "rebuild", "reindex", "terminat",
      "evict", "expand", "resiz", "bump", "raise", "switch", "promot", "unlock", "patch", "upgrad", "reconnect",
      "retry", "requeue", "replay", "rerun", "re-run", "recreat", "rerout", "throttl",
      "rate-limit", "pause", "resume", "kick", "bounce", "cycle", "correct", "regenerat", "reissue",
      "replace", "rollout", "undo"), Phase.FIX),
    (("verif", "confirm", "validat", "post-check", "postcheck", "post-incident check", "test", "ensure", "make sure",
      "smoke", "double-check", "recheck", "re-check", "success"), Phase.VERIFY),
    (("manual", "notify", "communicat", "escalat", "inform", "contact", "page ", "announce", "tell",
      "stakeholder"), Phase.MANUAL),
    (("overview", "background", "context", "cause", "root", "impact", "prerequisit", "requirement", "prevent",
      "reference", "related", "see ", "link", "summary", "description", "about", "introduction", "owner",
      "alert", "dashboard", "metric", "monitoring", "glossary", "appendix", "history", "changelog",
      "postmortem", "post-mortem", "lesson", "follow-up", "follow up", "faq", "architecture", "setup", "set up",
      "install", "configuration", "maintenance", "scope", "purpose", "audience", "severity", "escalation contact",
      "table of contents", "contents", "toc", "why", "explanation", "known issue", "long term"), NO_PHASE),
)


# The names of phases themselves (not the actions in them): a short heading made of one of these
# under a section labels part of that section (`### Diagnosis`) rather than starting a new one.
_PHASE_NAMES = ("diagnos", "investigat", "triage", "symptom", "troubleshoot", "fix", "resolution", "solution",
                "action", "remediat", "mitigat", "workaround", "recover", "rollback", "verif", "validat",
                "confirm", "post-check", "manual", "notif", "communicat", "escalat", "check")


def is_phase_name(label: str) -> bool:
    """Whether the label is the name of a phase ("Diagnosis", "Quick fix", "✅ Verify"), not an action."""
    return words_of(label).startswith(_PHASE_NAMES) and phase_of_label(label) is not None


_DESCRIPTIVE = ("symptom", "sign", "indicator", "what you see", "what users see", "how it looks", "alert")


def describes(label: str) -> bool:
    """Whether the label introduces a description of the fault ("Symptoms"), whose list items are what
    people see, not actions to take: commands under it diagnose, but its bullets are no checklist."""
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


def meaning(label: str) -> Meaning:
    """What a heading or label says about the phase under it (see the module's docstring)."""
    words = words_of(label)
    if not words:
        return NEUTRAL
    probe = words + " "
    for prefixes, meant in _WORDS:
        if probe.startswith(prefixes):
            return meant
    return NEUTRAL


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
