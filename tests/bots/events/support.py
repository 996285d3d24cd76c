"""Test support: reading event cards, edits, reminders and polls as a member's client sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support import Member

T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)  # the bots' injected "now"
T0_MS = int(T0.timestamp() * 1000)


def sources(member: Member, room_id: str, sender: str) -> list[dict[str, Any]]:
    """Decrypted event sources from ``sender`` in a room, in arrival order."""
    out = []
    for room, ev in member.events:
        src = getattr(ev, "source", {})
        if room == room_id and src.get("sender") == sender:
            out.append(src)
    return out


def card_states(member: Member, room_id: str, bot: str) -> dict[str, dict[str, Any]]:
    """Event ID → the newest ``org.samverkan.event`` state of the card (the card or an edit)."""
    best: dict[str, dict[str, Any]] = {}
    for src in sources(member, room_id, bot):
        content = src.get("content", {})
        new = content.get("m.new_content")
        data = (new if isinstance(new, dict) else content).get("org.samverkan.event")
        if src.get("type") != "m.room.message" or not isinstance(data, dict):
            continue
        if content.get("msgtype") != "m.notice":
            continue
        if content.get("m.relates_to", {}).get("rel_type") == "m.thread":
            continue  # answers in threads carry the state too; the card is what we follow
        known = best.get(data["id"])
        if known is None or data["revision"] >= known["revision"]:
            best[data["id"]] = data
    return best


def edits_of(member: Member, room_id: str, bot: str) -> list[dict[str, Any]]:
    """Every ``m.replace`` edit the bot sent in a room."""
    return [
        s
        for s in sources(member, room_id, bot)
        if s.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.replace"
    ]


def reminders(member: Member, room_id: str, bot: str) -> list[dict[str, Any]]:
    """Reminder notices (their sources)."""
    return [
        s
        for s in sources(member, room_id, bot)
        if "org.samverkan.event.reminder" in s.get("content", {})
    ]


def of_type(member: Member, room_id: str, bot: str, event_type: str) -> list[dict[str, Any]]:
    """Bot events of one type."""
    return [s for s in sources(member, room_id, bot) if s.get("type") == event_type]


async def wait_card(member: Member, room_id: str, bot: str, event_id: str, pred: Any) -> dict:
    """Wait until the member's newest view of a card satisfies ``pred``; return it."""

    async def ok() -> bool:
        state = card_states(member, room_id, bot).get(event_id)
        return state is not None and bool(pred(state))

    await member.wait_until(ok)
    return card_states(member, room_id, bot)[event_id]


async def command(member: Member, room_id: str, bot: str, text: str) -> dict[str, Any]:
    """Send a command and return the bot's first answer to it."""
    sent = await member.send(room_id, text)
    (reply, *_) = await member.wait_reply(sent, sender=bot)
    return reply


def set_clock(runtime: Any, ms: int) -> None:
    """Move the events bot's clock."""
    runtime.bots[0].clock = lambda: ms
