"""Benchmark the stack foundation: image check, warm stack up, tear down, image sizes.

Usage: .venv/bin/python bench/bench_stack.py [--runs 3] [--stack stack/chatkit/stack.toml]
Prints a table and writes bench/results/stack.json. Medians over --runs runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx
from results_io import publish

from harness.stack.docker_env import docker_client
from harness.stack.images import ensure_stack_images
from harness.stack.launch import prepare
from harness.stack.stack import Stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stack", type=Path, default=Path("stack/chatkit/stack.toml"))
    args = parser.parse_args()

    started = time.monotonic()
    definition, client, images = prepare(args.stack)
    first_prepare = time.monotonic() - started

    checks, ups, downs, first_requests = [], [], [], []
    for _ in range(args.runs):
        t0 = time.monotonic()
        ensure_stack_images(docker_client(), definition)
        checks.append(time.monotonic() - t0)
        stack = Stack(definition, images, client=client)
        t0 = time.monotonic()
        stack.up()
        ups.append(time.monotonic() - t0)
        t0 = time.monotonic()
        httpx.get(f"{stack.endpoint('app', 8000)}/health", timeout=5).raise_for_status()
        first_requests.append(time.monotonic() - t0)
        t0 = time.monotonic()
        stack.down()
        downs.append(time.monotonic() - t0)

    sizes = {name: client.images.get(tag).attrs["Size"] for name, tag in images.items()}
    figures = {
        "runs": args.runs,
        "prepare_first_seconds": round(first_prepare, 2),
        "images_up_to_date_check_seconds_median": round(statistics.median(checks), 3),
        "warm_stack_up_seconds_median": round(statistics.median(ups), 2),
        "warm_stack_up_seconds_all": [round(x, 2) for x in ups],
        "first_health_request_seconds_median": round(statistics.median(first_requests), 3),
        "stack_down_seconds_median": round(statistics.median(downs), 2),
        "image_size_mb": {name: round(size / 1e6) for name, size in sizes.items()},
    }
    publish("stack", figures)


if __name__ == "__main__":
    main()
