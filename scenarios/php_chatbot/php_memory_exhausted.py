"""php-memory-exhausted: a configuration change sets PHP-FPM's memory_limit far too low."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from harness import ConfigSwitch, DrillContext
from scenarios.php_chatbot import WEB_PORT, php_chatbot_scenario

PHP_INI = "/etc/php/8.2/fpm/php.ini"
TOO_LOW = "8M"  # "128M" with a digit lost: a chat request needs more (it searches the help-centre export)


@php_chatbot_scenario("php-memory-exhausted", section="php-memory-exhausted", severity="P1", detect_within="10s",
                      recover_within="30s")
def php_memory_exhausted(drill: DrillContext) -> Iterator[None]:
    """memory_limit set to 8M in php.ini and FPM restarted: chat requests die with 500"""
    stack = drill.stack

    def requests_fail() -> tuple[bool, str]:
        try:
            status = httpx.post(f"{stack.endpoint('web', WEB_PORT)}/chat.php", timeout=3,
                                json={"session": "memory-proof", "message": "billing help"}).status_code
        except httpx.HTTPError as exc:
            return False, f"POST /chat.php: {type(exc).__name__}"
        return status == 500, f"POST /chat.php answers {status}"

    with ConfigSwitch(stack, stack.host("web"), PHP_INI, "memory_limit", TOO_LOW, "systemctl restart php8.2-fpm",
                      proof=requests_fail):
        yield
