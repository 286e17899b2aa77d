"""site-down: PHP-FPM stops on the web server; nginx answers 502 for every page."""

from __future__ import annotations

from collections.abc import Iterator

from harness import DrillContext, ServiceStopped
from scenarios.php_chatbot import php_chatbot_scenario


@php_chatbot_scenario("site-down", section="site-completely-down", severity="P0", detect_within="10s",
                      recover_within="30s")
def site_down(drill: DrillContext) -> Iterator[None]:
    """PHP-FPM stops: nginx is up but every PHP page answers 502"""
    with ServiceStopped(drill.stack, drill.stack.host("web"), "php8.2-fpm"):
        yield
