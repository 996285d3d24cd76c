"""Provides the events bot's load/save functions over the sealed state store, one per record.

The namespaces and keys are those existing deployments hold; they must stay readable.
"""

from __future__ import annotations

from typing import Any, Literal

from bots.events.model import EventRecord, PollRecord
from messenger.protocol.events import Rsvp
from messenger.store import StateStore, Tx

EVENTS = "events"  # key: event ID → EventRecord
POLLS = "polls"  # key: poll ID → PollRecord
REMINDERS = "event-reminders"  # key: "E7:60:<start ms>" → reminder
REFS = "event-refs"  # key: Matrix event ID of a card or poll → {"kind", "id"}
REACTIONS = "event-reactions"  # key: reaction event ID → {"event", "user", "answer"}
DIRTY = "event-dirty"  # key: event ID → {"room"} (its card needs an edit)
ZONES = "event-tz"  # key: user ID → {"zone"}
META = "event-meta"  # key: "counters" → {"E": n, "P": n}

Kind = Literal["event", "poll"]
Reader = Tx | StateStore


# -- events and polls ---------------------------------------------------------------------


async def load_event(tx: Reader, event_id: str) -> EventRecord | None:
    """The stored event, or None."""
    raw = await tx.get(EVENTS, event_id)
    return EventRecord.model_validate(raw) if raw else None


async def save_event(tx: Tx, rec: EventRecord, *, changed: bool = True) -> None:
    """Store an event; ``changed`` bumps its revision and marks its card for an edit."""
    if changed:
        rec.revision += 1
        await tx.put(DIRTY, rec.id, {"room": rec.room})
    await tx.put(EVENTS, rec.id, rec.model_dump(mode="json"))


async def all_events(tx: Reader) -> list[EventRecord]:
    """Every stored event."""
    return [EventRecord.model_validate(raw) for _k, raw in await tx.items(EVENTS)]


async def load_poll(tx: Reader, poll_id: str) -> PollRecord | None:
    """The stored poll, or None."""
    raw = await tx.get(POLLS, poll_id)
    return PollRecord.model_validate(raw) if raw else None


async def save_poll(tx: Tx, rec: PollRecord) -> None:
    """Store a poll."""
    await tx.put(POLLS, rec.id, rec.model_dump(mode="json"))


async def all_polls(tx: Reader) -> list[PollRecord]:
    """Every stored poll."""
    return [PollRecord.model_validate(raw) for _k, raw in await tx.items(POLLS)]


async def next_id(tx: Tx, kind: Literal["E", "P"]) -> str:
    """The next short ID of a kind: E1, E2 … (sequential per organisation's bot)."""
    counters: dict[str, Any] = await tx.get(META, "counters") or {}
    n = int(counters.get(kind, 0)) + 1
    counters[kind] = n
    await tx.put(META, "counters", counters)
    return f"{kind}{n}"


# -- members' zones -----------------------------------------------------------------------


async def user_zone(tx: Reader, user: str) -> str | None:
    """The zone a member set with ``!tz``, if any."""
    raw = await tx.get(ZONES, user)
    return str(raw["zone"]) if raw else None


async def save_zone(tx: Tx, user: str, zone: str) -> None:
    """Remember the zone a member chose with ``!tz``."""
    await tx.put(ZONES, user, {"zone": zone})


# -- which Matrix event is which card or poll ------------------------------------------------


async def load_ref(tx: Reader, event_id: str) -> tuple[Kind, str] | None:
    """(kind, ID) of the card or poll that Matrix event is, if it is one."""
    raw = await tx.get(REFS, event_id)
    if raw is None or raw.get("kind") not in ("event", "poll"):
        return None
    return raw["kind"], str(raw["id"])


async def save_ref(tx: Tx, event_id: str, kind: Kind, ident: str) -> None:
    """Record that a Matrix event is the card of an event or the start of a poll."""
    await tx.put(REFS, event_id, {"kind": kind, "id": ident})


# -- RSVP reactions -------------------------------------------------------------------------


async def save_reaction(tx: Tx, reaction: str, event_id: str, user: str, answer: Rsvp) -> None:
    """Remember an RSVP reaction, so its redaction can undo it."""
    await tx.put(REACTIONS, reaction, {"event": event_id, "user": user, "answer": answer})


async def pop_reaction(tx: Tx, reaction: str) -> tuple[str, str] | None:
    """Forget an RSVP reaction; (event ID, user) it was, or None if it was none."""
    raw = await tx.get(REACTIONS, reaction)
    if raw is None:
        return None
    await tx.delete(REACTIONS, reaction)
    return str(raw["event"]), str(raw["user"])


async def reactions_of(tx: Reader, event_id: str, user: str) -> list[tuple[str, Rsvp]]:
    """(reaction event ID, answer) of a user's remaining RSVP reactions on an event's card."""
    return [
        (k, v["answer"])
        for k, v in await tx.items(REACTIONS)
        if v["event"] == event_id and v["user"] == user
    ]


# -- reminders ------------------------------------------------------------------------------


async def load_reminder(tx: Reader, key: str) -> dict[str, Any] | None:
    """A reminder document: {"event", "room", "at", "minutes", "fired"}."""
    raw: dict[str, Any] | None = await tx.get(REMINDERS, key)
    return raw


async def save_reminder(tx: Tx, key: str, doc: dict[str, Any]) -> None:
    """Store a reminder document."""
    await tx.put(REMINDERS, key, doc)


async def delete_reminder(tx: Tx, key: str) -> None:
    """Drop a reminder that has not fired."""
    await tx.delete(REMINDERS, key)


async def pending_reminders(tx: Reader) -> list[tuple[str, dict[str, Any]]]:
    """(key, document) of every reminder not fired yet."""
    return [(k, v) for k, v in await tx.items(REMINDERS) if not v["fired"]]


# -- cards waiting for an edit --------------------------------------------------------------


async def dirty_events(tx: Reader) -> list[tuple[str, str]]:
    """(ID, room) of the events whose card changed since it was last drawn."""
    return [(ident, str(doc.get("room", ""))) for ident, doc in await tx.items(DIRTY)]


async def take_dirty(tx: Tx, event_id: str) -> bool:
    """Clear an event's dirty mark; whether it was set (another flush may have taken it)."""
    if await tx.get(DIRTY, event_id) is None:
        return False
    await tx.delete(DIRTY, event_id)
    return True
