"""Shared by the bench scripts: print a figures table and keep it as JSON in bench/results/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write the figures to bench/results/NAME.json (kept out of git); the path written."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return path


def publish(name: str, figures: dict[str, Any]) -> None:
    """save(), and print the figures one per line."""
    save(name, figures)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
