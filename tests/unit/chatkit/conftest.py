"""The ChatKit service's own unit tests import its code (`chatkit_backend`) from the stack folder:
the path is set here, beside them, so that no list in pyproject.toml names a system."""

from __future__ import annotations

import sys
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[3] / "stack" / "chatkit" / "service"

if str(SERVICE) not in sys.path:
    sys.path.insert(0, str(SERVICE))
