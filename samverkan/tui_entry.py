"""Provides the bridge from the CLI to the Textual client (imported only when it is used)."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from messenger.config import Settings


def _log_to_file(home: Path) -> None:
    """Send log records to ``home/tui.log``: writing to the terminal would garble the screen."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.FileHandler(home / "tui.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)


def user_id_of(user: str | None, server_name: str) -> str:
    """``anna`` → ``@anna:server``; full IDs stay as they are."""
    if not user:
        return ""
    return user if user.startswith("@") else f"@{user}:{server_name}"


async def run_tui(args: argparse.Namespace) -> int:
    """``samverkan tui``: restore the device, or log in (SAMVERKAN_PASSWORD or the screen)."""
    from messenger.deployment import unlock_vault
    from samverkan.cli import settings_for
    from tui.factory import make_app

    settings = settings_for(args)
    vault = await unlock_vault(settings)
    hs = settings.org.homeserver
    user_id = user_id_of(args.user, hs.server_name)
    _log_to_file(settings.home)
    app = make_app(settings, vault, hs.client_url, user_id, os.environ.get("SAMVERKAN_PASSWORD"))
    await app.run_async()
    if app.client is not None and app.client.session is not None:
        await app.client.session.close()
    return 0


async def open_tui_in_process(settings: Settings, url: str, user_id: str, password: str) -> None:
    """Open the TUI inside the running demo, signed in as the demo coordinator."""
    from messenger.deployment import unlock_vault
    from tui.factory import make_app

    vault = await unlock_vault(settings)
    _log_to_file(settings.home)
    app = make_app(settings, vault, url, user_id, password)
    await app.run_async()
    if app.client is not None and app.client.session is not None:
        await app.client.session.close()
