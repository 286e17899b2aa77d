"""Benchmark the stack foundation: image check, warm stack up, tear down, image sizes.

Usage: .venv/bin/python bench/bench_stack.py [--runs 3] [--stack stack/chatkit/compose.yaml] [--probe app:8000/health]
Prints a table and writes bench/results/stack.json. Medians over --runs runs.
`warm_stack()` is also the "stack" section of bench_all.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from results_io import publish

from harness.stack.docker_env import docker_client
from harness.stack.images import ensure_stack_images
from harness.stack.launch import prepare
from harness.stack.stack import Stack

DEFAULT_STACK = Path("stack/chatkit/compose.yaml")
DEFAULT_PROBE = "app:8000/health"  # SERVICE:PORT/PATH of the first request after the stack is up
HEALTH_TIMEOUT = 5.0


@dataclass
class StackTimes:
    """Seconds per run of each stage of a warm stack's life (images already built)."""

    prepare_first: float = 0.0
    image_checks: list[float] = field(default_factory=list)
    ups: list[float] = field(default_factory=list)
    first_requests: list[float] = field(default_factory=list)
    downs: list[float] = field(default_factory=list)
    image_size_mb: dict[str, int] = field(default_factory=dict)


def warm_stack(runs: int, stack_file: Path = DEFAULT_STACK, probe: str = DEFAULT_PROBE) -> StackTimes:
    """Up (until every service is healthy), one request to `probe`, down; `runs` times."""
    service, _, rest = probe.partition(":")
    port, _, path = rest.partition("/")
    times = StackTimes()
    started = time.monotonic()
    definition, client, images = prepare(stack_file)
    times.prepare_first = time.monotonic() - started
    for _ in range(runs):
        t0 = time.monotonic()
        ensure_stack_images(docker_client(), definition)
        times.image_checks.append(time.monotonic() - t0)
        stack = Stack(definition, images, client=client)
        try:
            t0 = time.monotonic()
            stack.up()
            times.ups.append(time.monotonic() - t0)
            t0 = time.monotonic()
            httpx.get(f"{stack.endpoint(service, int(port))}/{path}", timeout=HEALTH_TIMEOUT).raise_for_status()
            times.first_requests.append(time.monotonic() - t0)
        finally:
            t0 = time.monotonic()
            stack.down()
            times.downs.append(time.monotonic() - t0)
    times.image_size_mb = {name: round(client.images.get(tag).attrs["Size"] / 1e6) for name, tag in images.items()}
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stack", type=Path, default=DEFAULT_STACK)
    parser.add_argument("--probe", default=DEFAULT_PROBE, help="SERVICE:PORT/PATH requested once the stack is up")
    args = parser.parse_args()
    times = warm_stack(args.runs, args.stack, args.probe)
    figures = {
        "runs": args.runs,
        "prepare_first_seconds": round(times.prepare_first, 2),
        "images_up_to_date_check_seconds_median": round(statistics.median(times.image_checks), 3),
        "warm_stack_up_seconds_median": round(statistics.median(times.ups), 2),
        "warm_stack_up_seconds_all": [round(x, 2) for x in times.ups],
        "first_health_request_seconds_median": round(statistics.median(times.first_requests), 3),
        "stack_down_seconds_median": round(statistics.median(times.downs), 2),
        "image_size_mb": times.image_size_mb,
    }
    publish("stack", figures)


if __name__ == "__main__":
    main()
