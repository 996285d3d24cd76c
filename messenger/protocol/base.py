"""Provides the base of every structured payload: ``Structured``, ``Notice`` and the trusted
parser ``parse_structured``."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

PROTOCOL_VERSION = 1
ROOM_MARKER = "org.samverkan.room"
"""State event type of the provisioning marker (slug, kind) every organisation room carries.
Room state is not encrypted: the marker holds nothing private."""


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
