"""Locates the shipped example organisation files, in a checkout or an installed wheel."""

from __future__ import annotations

import sys
from pathlib import Path


def example_file(name: str) -> Path:
    """``examples/NAME`` of the checkout, else the wheel's copy in
    ``<prefix>/share/samverkan/examples`` (the first candidate if neither exists)."""
    candidates = [
        Path(__file__).resolve().parent.parent / "examples" / name,
        Path(sys.prefix) / "share" / "samverkan" / "examples" / name,
    ]
    return next((c for c in candidates if c.is_file()), candidates[0])
