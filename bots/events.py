"""Provides ``EventsBot``."""

from __future__ import annotations

from messenger.bot import Bot


class EventsBot(Bot):
    """The events bot (commands arrive with its issue)."""

    name = "events"
