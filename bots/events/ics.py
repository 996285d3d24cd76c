"""Provides the RFC 5545 calendar file of an event (icalendar), with its VTIMEZONE and alarms."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from bots.events.model import EventRecord
from messenger.i18n import SOURCE, Translator, translator

PRODID = "-//Samverkan//events bot//EN"
PARTSTAT = {"yes": "ACCEPTED", "no": "DECLINED", "maybe": "TENTATIVE"}


def uid(rec: EventRecord) -> str:
    """A UID stable across edits, so a re-import updates the same calendar entry."""
    room = hashlib.sha256(rec.room.encode()).hexdigest()[:12]
    return f"{rec.id.lower()}-{room}@samverkan"


def filename(rec: EventRecord) -> str:
    """``E7-board-meeting.ics``."""
    slug = re.sub(r"[^a-z0-9]+", "-", rec.title.lower()).strip("-")[:40] or "event"
    return f"{rec.id}-{slug}.ics"


def build_ics(rec: EventRecord, now: datetime | None = None, t: Translator | None = None) -> bytes:
    """The event as an iCalendar file a calendar app can import (its words in ``t``'s
    language; the calendar fields themselves are the standard's)."""
    t = t or translator(SOURCE)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    ev = Event()
    ev.add("uid", uid(rec))
    ev.add("dtstamp", (now or datetime.now(UTC)).replace(microsecond=0))
    ev.add("dtstart", rec.start)
    ev.add("dtend", rec.end)
    ev.add("summary", rec.title)
    if rec.where:
        ev.add("location", rec.where)
    description = rec.description
    if rec.agenda:
        items = "\n".join(f"{i}. {a}" for i, a in enumerate(rec.agenda, 1))
        description = (
            (description + "\n\n" if description else "") + t.gettext("Agenda:") + "\n" + items
        )
    if description:
        ev.add("description", description)
    ev.add("status", "CANCELLED" if rec.status == "cancelled" else "CONFIRMED")
    ev.add("sequence", rec.revision)
    organizer = vCalAddress(f"matrix:u/{rec.creator.lstrip('@')}")
    organizer.params["cn"] = vText(rec.creator)
    ev.add("organizer", organizer)
    for user, a in sorted(rec.rsvps.items()):
        att = vCalAddress(f"matrix:u/{user.lstrip('@')}")
        att.params["cn"] = vText(user)
        att.params["partstat"] = vText(PARTSTAT[a.answer])
        ev.add("attendee", att)
    for minutes in sorted(rec.reminders, reverse=True):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", rec.title)
        alarm.add("trigger", timedelta(minutes=-minutes))
        ev.add_component(alarm)
    cal.add_component(ev)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
