"""The house's shape holds: no import cycle anywhere (outside ``TYPE_CHECKING``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT.parent / "shared" / "tools" / "import_cycles.py"


def test_no_import_cycles() -> None:
    assert TOOL.exists(), f"the shared import-cycle tool is missing at {TOOL}"
    result = subprocess.run(
        [sys.executable, str(TOOL), str(ROOT), "messenger", "bots", "tui", "crypto", "samverkan"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "0 import cycles" in result.stdout, result.stdout + result.stderr
