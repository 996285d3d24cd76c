"""Provides the events bot's records (events, polls) and the pure logic on them (votes, tally)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bots.events.parse import format_span
from messenger.protocol.events import EventCard, PollCard, PollSlot, Rsvp

Rule = Literal["consensus", "majority", "coordinator"]
"""How a poll is settled (the room's ``decisions`` in the organisation file)."""


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
    rule: Rule = "majority"
    max_selections: int = 1  # a consensus poll: tick every slot you can make

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

    def record_vote(self, user: str, answers: list[str], ts: int) -> bool:
        """Apply one response (the latest per user wins; unknown answers are dropped).

        Returns whether the tally changed. An empty or all-invalid selection withdraws the vote.
        """
        if self.status != "open" or ts < self.vote_ts.get(user, -1):
            return False
        valid = {s.answer for s in self.slots}
        chosen = list(dict.fromkeys(a for a in answers if a in valid))[: self.max_selections]
        self.vote_ts[user] = ts
        before = self.votes.get(user)
        if chosen:
            self.votes[user] = chosen
        else:
            self.votes.pop(user, None)
        return before != self.votes.get(user)

    def without(self, answer: str) -> list[str]:
        """The voters whose choice leaves out ``answer`` (for consensus: who is missing)."""
        return sorted(u for u, chosen in self.votes.items() if answer not in chosen)

    def common(self) -> str | None:
        """The earliest slot every voter chose; None without votes or when there is none."""
        if not self.votes:
            return None
        return next((s.answer for s in self.slots if not self.without(s.answer)), None)

    def outcome(self) -> str | None:
        """The winner by the poll's rule: the slot every voter chose (consensus), the most
        votes (majority), or none (a coordinator picks one)."""
        if self.rule == "consensus":
            return self.common()
        if self.rule == "coordinator":
            return None
        return self.leader()

    def close(self) -> None:
        """Close the poll and fix its winner by its rule."""
        self.status = "closed"
        self.winner = self.outcome()

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
