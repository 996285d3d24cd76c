"""Provides the structured content bots attach to their messages (``org.samverkan.*``).

Each model is defined once here (one module per bot's vocabulary), carries a ``version``,
and travels inside the encrypted event content under its ``KEY``. Only content sent by
the organisation's bot accounts is trusted; ``parse_structured`` checks the sender.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

PROTOCOL_VERSION = 1


class Structured(BaseModel):
    """Base of every structured payload."""

    model_config = ConfigDict(extra="ignore")
    KEY: ClassVar[str] = "org.samverkan.notice"
    version: int = PROTOCOL_VERSION

    def attach(self, content: dict[str, Any]) -> dict[str, Any]:
        """Return ``content`` with this payload under its key."""
        return {**content, self.KEY: self.model_dump(mode="json")}


class Notice(Structured):
    """A plain bot answer: pong, help, or an error saying what was wrong."""

    KEY: ClassVar[str] = "org.samverkan.notice"
    kind: str  # "pong" | "help" | "error" | "info"
    bot: str
    command: str | None = None
    usage: str | None = None


M = TypeVar("M", bound=Structured)


def parse_structured(
    model: type[M], content: dict[str, Any], sender: str, trusted_senders: set[str]
) -> M | None:
    """The payload of ``model`` in ``content`` if a trusted bot sent it and it is well-formed.

    Edits carry the new payload in ``m.new_content``; that one wins.
    """
    if sender not in trusted_senders:
        return None
    new = content.get("m.new_content")
    source = new if isinstance(new, dict) and model.KEY in new else content
    raw = source.get(model.KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


# The bots' vocabularies, defined in their own modules, re-exported here (after the base).
from messenger.protocol.events import EventCard, EventReminder, PollCard, PollSlot  # noqa: E402
from messenger.protocol.translation import (  # noqa: E402
    GlossaryHit,
    Translation,
    TranslationSettings,
)

__all__ = [
    "PROTOCOL_VERSION",
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
