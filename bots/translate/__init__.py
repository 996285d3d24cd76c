"""Provides the translation bot: detection, volunteer prompts, glossary, memory, self-hosted MT."""

from bots.translate.bot import TranslateBot

__all__ = ["TranslateBot"]
