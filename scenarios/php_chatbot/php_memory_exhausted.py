"""php-memory-exhausted: a configuration change sets PHP-FPM's memory_limit far too low."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness import ConfigSwitch, DrillContext, Stack
from scenarios.php_chatbot import WEB_PORT, php_chatbot_scenario

PHP_INI = "/etc/php/8.2/fpm/php.ini"
TOO_LOW = "8M"  # "128M" with a digit lost: a chat request needs more (it searches the help-centre export)
HELP_QUESTION = {"session": "memory-proof", "message": "billing help"}  # answered from the help centre


def help_question_status(stack: Stack) -> tuple[int | None, str]:
    """What POST /chat.php answers to a question the help-centre search handles (the request that
    needs the memory): its status, or None and why when it did not answer."""
    try:
        status = httpx.post(f"{stack.endpoint('web', WEB_PORT)}/chat.php", json=HELP_QUESTION, timeout=3).status_code
    except httpx.HTTPError as exc:
        return None, f"POST /chat.php: {type(exc).__name__}"
    return status, f"POST /chat.php ({HELP_QUESTION['message']!r}) answers {status}"


def help_questions_answered(drill: DrillContext) -> tuple[bool, str]:
    """Steady state includes the request the fault breaks. The synthetic users' chat ("hello N") is
    queued without the help-centre search and /health needs little memory: both stay green at 8M, so
    without this a fix that changes nothing would look like one that worked."""
    status, why = help_question_status(drill.stack)
    return status is not None and status < 500, why


@php_chatbot_scenario("php-memory-exhausted", section="php-memory-exhausted", severity="P1", detect_within="10s",
                      recover_within="30s", steady=help_questions_answered, checks=(help_questions_answered,))
def php_memory_exhausted(drill: DrillContext) -> Iterator[None]:
    """memory_limit set to 8M in php.ini and FPM restarted: chat requests die with 500"""
    stack = drill.stack

    def requests_fail() -> tuple[bool, str]:
        status, why = help_question_status(stack)
        return status == 500, why

    with ConfigSwitch(stack, stack.host("web"), PHP_INI, "memory_limit", TOO_LOW, "systemctl restart php8.2-fpm",
                      proof=requests_fail):
        yield
