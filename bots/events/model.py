"""Provides the events bot's stored records (events, polls) and their store namespaces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from messenger.protocol.events import EventCard, PollCard, PollSlot, Rsvp
from messenger.store import Tx

EVENTS = "events"  # key: event ID → EventRecord
POLLS = "polls"  # key: poll ID → PollRecord
REMINDERS = "event-reminders"  # key: "E7:60:<start ms>" → reminder
REFS = "event-refs"  # key: Matrix event ID of a card or poll → {"kind", "id"}
REACTIONS = "event-reactions"  # key: reaction event ID → {"event", "user", "answer"}
DIRTY = "event-dirty"  # key: event or poll ID → {} (its card needs an edit)
ZONES = "event-tz"  # key: user ID → {"zone"}
META = "event-meta"  # key: "counters" → {"E": n, "P": n}


class Answer(BaseModel):
    """One member's RSVP and how it was given ("command" or the reaction's event ID)."""

    answer: Rsvp
    via: str = "command"
    ts: int = 0


class EventRecord(BaseModel):
    """An event as the bot keeps it (sealed in the state store)."""

    id: str
    room: str
    title: str
    start_utc: str
    timezone: str
    duration: int
    where: str = ""
    description: str = ""
    status: Literal["scheduled", "cancelled"] = "scheduled"
    rsvps: dict[str, Answer] = Field(default_factory=dict)
    agenda: list[str] = Field(default_factory=list)
    reminders: list[int] = Field(default_factory=list)
    creator: str
    revision: int = 1
    card_event: str | None = None
    scheduled: list[str] = Field(default_factory=list)  # keys of its reminder documents

    @property
    def start(self) -> datetime:
        """The start in the event's own zone."""
        return datetime.fromisoformat(self.start_utc).astimezone(ZoneInfo(self.timezone))

    @property
    def end(self) -> datetime:
        """The end in the event's own zone (wall clock may differ across a DST change)."""
        return (self.start.astimezone(UTC) + timedelta(minutes=self.duration)).astimezone(
            ZoneInfo(self.timezone)
        )

    @property
    def start_ms(self) -> int:
        """The start as a Unix timestamp in ms."""
        return int(self.start.timestamp() * 1000)

    def answers(self) -> dict[str, Rsvp]:
        """User → yes/no/maybe."""
        return {u: a.answer for u, a in self.rsvps.items()}

    def card(self) -> EventCard:
        """The structured content of this event's card."""
        from bots.events.parsing import format_span

        return EventCard(
            id=self.id,
            room=self.room,
            title=self.title,
            start=self.start.isoformat(),
            end=self.end.isoformat(),
            timezone=self.timezone,
            duration_minutes=self.duration,
            where=self.where,
            description=self.description,
            status=self.status,
            rsvps=self.answers(),
            agenda=list(self.agenda),
            reminders=[format_span(m) for m in sorted(self.reminders, reverse=True)],
            creator=self.creator,
            revision=self.revision,
        )


class PollRecord(BaseModel):
    """A scheduling poll as the bot keeps it."""

    id: str
    room: str
    title: str
    timezone: str
    duration: int
    slots: list[PollSlot]
    votes: dict[str, list[str]] = Field(default_factory=dict)  # user → answer IDs
    vote_ts: dict[str, int] = Field(default_factory=dict)
    status: Literal["open", "closed"] = "open"
    winner: str | None = None
    close_at_ms: int | None = None
    creator: str
    poll_event: str | None = None
    event_created: str | None = None

    def tally(self) -> dict[str, list[str]]:
        """Answer ID → voters, in slot order."""
        out: dict[str, list[str]] = {s.answer: [] for s in self.slots}
        for user, answers in sorted(self.votes.items()):
            for a in answers:
                if a in out:
                    out[a].append(user)
        return out

    def leader(self) -> str | None:
        """The answer with most votes (earliest slot on a tie); None without votes."""
        counts = self.tally()
        best = max(counts.values(), key=len, default=[])
        if not best:
            return None
        return next(a for a, v in counts.items() if len(v) == len(best))

    def card(self) -> PollCard:
        """The structured content of this poll's messages."""
        close = (
            datetime.fromtimestamp(self.close_at_ms / 1000, UTC).isoformat()
            if self.close_at_ms
            else None
        )
        return PollCard(
            id=self.id,
            room=self.room,
            title=self.title,
            timezone=self.timezone,
            duration_minutes=self.duration,
            slots=self.slots,
            votes=self.tally(),
            status=self.status,
            winner=self.winner,
            close_at=close,
            creator=self.creator,
        )


async def load_event(tx: Tx, event_id: str) -> EventRecord | None:
    """The stored event, or None."""
    raw = await tx.get(EVENTS, event_id)
    return EventRecord.model_validate(raw) if raw else None


async def save_event(tx: Tx, rec: EventRecord, *, changed: bool = True) -> None:
    """Store an event; ``changed`` bumps its revision and marks its card for an edit."""
    if changed:
        rec.revision += 1
        await tx.put(DIRTY, rec.id, {"room": rec.room})
    await tx.put(EVENTS, rec.id, rec.model_dump(mode="json"))


async def load_poll(tx: Tx, poll_id: str) -> PollRecord | None:
    """The stored poll, or None."""
    raw = await tx.get(POLLS, poll_id)
    return PollRecord.model_validate(raw) if raw else None


async def save_poll(tx: Tx, rec: PollRecord) -> None:
    """Store a poll."""
    await tx.put(POLLS, rec.id, rec.model_dump(mode="json"))


async def next_id(tx: Tx, kind: Literal["E", "P"]) -> str:
    """The next short ID of a kind: E1, E2 … (sequential per organisation's bot)."""
    counters: dict[str, Any] = await tx.get(META, "counters") or {}
    n = int(counters.get(kind, 0)) + 1
    counters[kind] = n
    await tx.put(META, "counters", counters)
    return f"{kind}{n}"


async def user_zone(tx: Tx, user: str) -> str | None:
    """The zone a member set with ``!tz``, if any."""
    raw = await tx.get(ZONES, user)
    return str(raw["zone"]) if raw else None
