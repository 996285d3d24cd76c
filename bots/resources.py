"""Provides ``ResourcesBot``."""

from __future__ import annotations

from messenger.bot import Bot


class ResourcesBot(Bot):
    """The resources bot (commands arrive with its issue)."""

    name = "resources"
