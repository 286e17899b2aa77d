"""Onboarding mode: `gameday train`, a "Wheel of Misfortune" exercise for new on-call engineers.

The harness breaks a fresh stack with a scenario's fault, pages the trainee with symptoms only,
lets them work on the stack's hosts (`gameday shell HOST`, every command recorded), reveals the
runbook one hint at a time (`gameday hint`), watches for steady state, always rolls back, and
writes a debrief next to the runbook's own drill times.

Pure logic (exercise files, shell history parsing, page text, hints) imports no Docker code; only
`session` (the controller) and `cli` touch a stack, and `cli` only inside its command functions.
What is not particular to training lives below: command matching in harness.runbook.commands, the
exercise log in harness.exercise_log, the debrief in harness.report.debrief.
"""
