"""Provides the structured content bots attach to their messages (``org.samverkan.*``).

Each model is defined once here (one module per bot's vocabulary), carries a ``version``,
and travels inside the encrypted event content under its ``KEY``. Only content sent by
the organisation's bot accounts is trusted; ``parse_structured`` checks the sender.
"""

from __future__ import annotations

from messenger.protocol.base import (
    PROTOCOL_VERSION,
    ROOM_MARKER,
    Notice,
    Structured,
    parse_structured,
)
from messenger.protocol.events import EventCard, EventReminder, PollCard, PollSlot
from messenger.protocol.translation import GlossaryHit, Translation, TranslationSettings

__all__ = [
    "PROTOCOL_VERSION",
    "ROOM_MARKER",
    "EventCard",
    "EventReminder",
    "PollCard",
    "PollSlot",
    "GlossaryHit",
    "Notice",
    "Structured",
    "Translation",
    "TranslationSettings",
    "parse_structured",
]
