"""Provides the root of the bots' exception tree, under the messenger's ``MessengerError``.

MessengerError                      (messenger.errors)
└── BotError                        root of every error raised by bots/
    └── ProviderError               machine translation failed (bots.translate.providers)
        ├── ProviderUnavailable     not configured, not installed or unreachable
        └── TranslationFailed       the service answered, but not with a translation

A command's own refusals are ``messenger.botkit.commands.CommandError`` (a MessengerError):
they are answered to the sender, not raised out of a bot.
"""

from __future__ import annotations

from messenger.errors import MessengerError


class BotError(MessengerError):
    """Root of every error raised by bots/."""
