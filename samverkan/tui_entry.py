"""Provides the bridge from the CLI to the Textual client (imported only when it is used)."""

from __future__ import annotations

import argparse

from messenger.config import Settings


async def run_tui(args: argparse.Namespace) -> int:
    """``samverkan tui``."""
    from samverkan.cli import UsageProblem

    raise UsageProblem("the terminal client is not built yet (see issue 7); use Element meanwhile")


async def open_tui_in_process(settings: Settings, url: str, user_id: str, password: str) -> None:
    """Open the TUI inside the running demo."""
    print("the terminal client is not built yet; the demo keeps running for Element")
