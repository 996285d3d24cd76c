"""Provides the bridge from the CLI to the Textual client (imported only when it is used)."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from messenger.config import Settings
from messenger.errors import ConfigError
from messenger.i18n import SOURCE, available, normalise

TZ_ENV = "SAMVERKAN_TZ"
LANG_ENV = "SAMVERKAN_LANG"
SYSTEM_LOCALE = ("LC_ALL", "LC_MESSAGES", "LANG")
"""The system's locale variables, in the order POSIX consults them for messages."""


def _log_to_file(home: Path) -> None:
    """Send log records to ``home/tui.log``: writing to the terminal would garble the screen."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.FileHandler(home / "tui.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)


def resolve_tz(name: str | None = None, environ: Mapping[str, str] | None = None) -> tzinfo | None:
    """The zone times are shown in: ``--tz``, else ``$SAMVERKAN_TZ``, else the system's (None).

    An unknown name is an error that names a valid example, never a silent fallback to UTC.
    """
    env = os.environ if environ is None else environ
    chosen = (name or env.get(TZ_ENV) or "").strip()
    if not chosen:
        return None
    source = "--tz" if name else f"${TZ_ENV}"
    try:
        return ZoneInfo(chosen)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ConfigError(
            f"unknown timezone {chosen!r} (from {source}): use an IANA name such as "
            "Europe/Stockholm, Africa/Nairobi or UTC"
        ) from None


def resolve_lang(name: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The TUI's language: ``--lang``, else ``$SAMVERKAN_LANG``, else the system locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``sv_SE.UTF-8`` → ``sv``), else English.

    A language chosen for Samverkan that has no catalogue is an error listing the available
    ones; a system locale without one (``de_DE``, ``C``) simply means English.
    """
    env = os.environ if environ is None else environ
    for chosen, source in ((name, "--lang"), (env.get(LANG_ENV), f"${LANG_ENV}")):
        if chosen and chosen.strip():
            found = normalise(chosen)
            if found is None:
                raise ConfigError(
                    f"unknown language {chosen.strip()!r} (from {source}): "
                    f"choose one of {', '.join(available())}, e.g. --lang sv"
                )
            return found
    for var in SYSTEM_LOCALE:
        value = (env.get(var) or "").strip()
        if value:  # the first one set decides, as for every other program
            code = value.split(".")[0].split("@")[0]
            if code in {"C", "POSIX"}:
                return SOURCE
            return normalise(code) or SOURCE
    return SOURCE


def user_id_of(user: str | None, server_name: str) -> str:
    """``anna`` → ``@anna:server``; full IDs stay as they are."""
    if not user:
        return ""
    return user if user.startswith("@") else f"@{user}:{server_name}"


async def run_tui(args: argparse.Namespace) -> int:
    """``samverkan tui``: restore the device, or log in (SAMVERKAN_PASSWORD or the screen);
    times in ``--tz`` / ``$SAMVERKAN_TZ`` / the system's zone; words in ``--lang`` /
    ``$SAMVERKAN_LANG`` / the system locale's language."""
    from bots.runtime import command_names
    from messenger.deploy.deployment import unlock_vault
    from samverkan.context import settings_for
    from tui.factory import make_app

    tz = resolve_tz(getattr(args, "tz", None))  # before the passphrase: fail fast
    lang = resolve_lang(getattr(args, "lang", None))
    settings = settings_for(args)
    vault = await unlock_vault(settings)
    hs = settings.org.homeserver
    user_id = user_id_of(args.user, hs.server_name)
    _log_to_file(settings.home)
    password = os.environ.get("SAMVERKAN_PASSWORD")
    app = make_app(
        settings,
        vault,
        hs.client_url,
        user_id,
        password,
        tz=tz,
        commands=command_names(),
        lang=lang,
    )
    await run_app(app)
    return 0


async def run_app(app: Any) -> None:
    """Run the Textual app; if it crashed, raise its exception (the CLI prints one line and
    writes the traceback to a file) instead of Textual's traceback and exit code 0."""
    original = getattr(app, "_print_error_renderables", None)
    if callable(original):

        def only_if_clean() -> None:
            if not app.return_code:
                original()

        object.__setattr__(app, "_print_error_renderables", only_if_clean)
    try:
        await app.run_async()
    finally:
        if app.client is not None and app.client.session is not None:
            await app.client.session.close()
    if app.return_code:
        error = getattr(app, "_exception", None)
        if isinstance(error, BaseException):
            raise error
        raise RuntimeError(f"the terminal client exited with code {app.return_code}")


async def open_tui_in_process(settings: Settings, url: str, user_id: str, password: str) -> None:
    """Open the TUI inside the running demo, signed in as the demo coordinator."""
    from messenger.deploy.deployment import unlock_vault
    from tui.factory import make_app

    tz = resolve_tz()
    lang = resolve_lang()
    vault = await unlock_vault(settings)
    _log_to_file(settings.home)
    app = make_app(settings, vault, url, user_id, password, tz=tz, lang=lang)
    await run_app(app)
