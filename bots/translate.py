"""Provides ``TranslateBot``."""

from __future__ import annotations

from messenger.bot import Bot


class TranslateBot(Bot):
    """The translate bot (commands arrive with its issue)."""

    name = "translate"
