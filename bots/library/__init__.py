"""Provides the library bot: an encrypted, multilingual knowledge base any client searches."""

from bots.library.bot import LibraryBot

__all__ = ["LibraryBot"]
