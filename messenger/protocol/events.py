"""Provides the structured content of the events bot: event cards, reminders and polls."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from messenger.protocol.base import Structured

Rsvp = Literal["yes", "no", "maybe"]


class EventCard(Structured):
    """An event as its card shows it (``org.samverkan.event``); edits carry the new state."""

    KEY: ClassVar[str] = "org.samverkan.event"
    id: str = Field(description="Short ID people type, e.g. 'E7'.")
    room: str = Field(description="The room the event belongs to.")
    title: str
    start: str = Field(description="Start, ISO 8601 with the UTC offset in force then.")
    end: str = Field(description="End, ISO 8601 with offset.")
    timezone: str = Field(description="IANA zone the event was planned in.")
    duration_minutes: int
    where: str = ""
    description: str = ""
    status: Literal["scheduled", "cancelled"] = "scheduled"
    rsvps: dict[str, Rsvp] = Field(default_factory=dict, description="User ID → answer.")
    agenda: list[str] = Field(default_factory=list)
    reminders: list[str] = Field(default_factory=list, description="Offsets before the start.")
    creator: str
    revision: int = Field(default=1, description="Grows with every change of the card.")


class EventReminder(Structured):
    """A reminder the bot posted for an event (``org.samverkan.event.reminder``)."""

    KEY: ClassVar[str] = "org.samverkan.event.reminder"
    id: str
    room: str
    title: str
    start: str
    offset: str = Field(description="The reminder's offset before the start, e.g. '1h'.")
    mentioned: list[str] = Field(default_factory=list)


class PollSlot(Structured):
    """One candidate time of a scheduling poll."""

    KEY: ClassVar[str] = "org.samverkan.poll.slot"
    answer: str = Field(description="The answer ID in the Matrix poll.")
    start: str = Field(description="ISO 8601 with offset.")
    label: str


class PollCard(Structured):
    """A scheduling poll and its tally (``org.samverkan.poll``)."""

    KEY: ClassVar[str] = "org.samverkan.poll"
    id: str = Field(description="Short ID, e.g. 'P3'.")
    room: str
    title: str
    timezone: str
    duration_minutes: int
    slots: list[PollSlot]
    votes: dict[str, list[str]] = Field(
        default_factory=dict, description="Answer ID → users who chose it."
    )
    status: Literal["open", "closed"] = "open"
    winner: str | None = Field(default=None, description="Winning answer ID once closed.")
    close_at: str | None = Field(default=None, description="When it closes by itself (ISO).")
    creator: str
