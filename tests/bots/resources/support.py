"""Helpers for the resources bot tests: send a command, read what a member decrypted."""

from __future__ import annotations

from typing import Any

from tests.support import Member

REQUEST_KEY = "org.samverkan.request"
NOTICE_KEY = "org.samverkan.notice"


async def ask(m: Member, room_id: str, bot: str, body: str, count: int = 1) -> dict[str, Any]:
    """Send a command and return the content of the bot's (first) decrypted answer."""
    event_id = await m.send(room_id, body)
    replies = await m.wait_reply(event_id, sender=bot, count=count)
    return dict(replies[0]["content"])


async def ask_id(m: Member, room_id: str, bot: str, body: str) -> tuple[str, dict[str, Any]]:
    """Like ``ask`` but also return the command's event ID (the request's thread root)."""
    event_id = await m.send(room_id, body)
    (reply,) = await m.wait_reply(event_id, sender=bot)
    return event_id, dict(reply["content"])


def is_error(content: dict[str, Any]) -> bool:
    """Whether the answer is the framework's error notice."""
    return content.get(NOTICE_KEY, {}).get("kind") == "error"


def card_event(m: Member, command_id: str, bot: str) -> str:
    """The event ID of the card the bot posted for a ``!request`` command."""
    for src in m.replies_to(command_id, bot):
        if REQUEST_KEY in src["content"]:
            return str(src["event_id"])
    raise AssertionError("no request card")


def edits_of(m: Member, event_id: str) -> list[dict[str, Any]]:
    """``m.new_content`` of every decrypted edit of ``event_id``, in order."""
    out = []
    for _room, ev in m.events:
        content = getattr(ev, "source", {}).get("content", {})
        rel = content.get("m.relates_to", {})
        if rel.get("rel_type") == "m.replace" and rel.get("event_id") == event_id:
            out.append(content["m.new_content"])
    return out


async def wait_card_status(m: Member, event_id: str, status: str) -> dict[str, Any]:
    """Wait until the member has decrypted an edit of the card showing ``status``."""

    async def shown() -> bool:
        edits = edits_of(m, event_id)
        return bool(edits) and edits[-1][REQUEST_KEY]["status"] == status

    await m.wait_until(shown)
    return edits_of(m, event_id)[-1]
