"""Provides ``make_app``: the TUI wired to a data directory, used by the CLI, the demo and tests."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from crypto.vault import Vault
from messenger.client.chat import ChatClient
from messenger.config import Settings
from messenger.i18n import SOURCE, translator
from messenger.ids import localpart
from messenger.session.core import Session
from tui.app import LoginDefaults, SamverkanApp


def tui_dir(home: Path, user_id: str) -> Path:
    """Where the TUI keeps one account's device (separate from bot and service devices)."""
    return home / "tui" / localpart(user_id)


def make_opener(settings: Settings, vault: Vault, lang: str = SOURCE):  # type: ignore[no-untyped-def]
    """A function restoring (password None) or logging in an account and wrapping it; what
    the client says about its identity is in ``lang``."""
    trusted = set(settings.org.bot_user_ids().values())

    async def open_client(url: str, user_id: str, password: str | None) -> ChatClient:
        session = await Session.open(
            url,
            user_id,
            tui_dir(settings.home, user_id),
            vault,
            password=password,
            device_name="Samverkan TUI",
        )
        client = ChatClient(session, session.user_id, trusted)
        client.t = translator(lang)
        await client.prepare_identity(password)
        return client

    return open_client


def make_app(
    settings: Settings,
    vault: Vault,
    url: str,
    user_id: str = "",
    password: str | None = None,
    *,
    tz: tzinfo | None = None,
    commands: list[str] | None = None,
    lang: str = SOURCE,
) -> SamverkanApp:
    """The app: restores the stored device of ``user_id``, logs in with ``password``, or asks.
    ``commands`` are the bots' command names for completion; ``lang`` the coordinator's
    language (``samverkan.tui_entry.resolve_lang``)."""
    defaults = LoginDefaults(url=url, user_id=user_id, password=password, restore=bool(user_id))
    return SamverkanApp(
        make_opener(settings, vault, lang),
        defaults=defaults,
        tz=tz,
        commands=commands,
        lang=lang,
    )
