"""Provides the text and HTML of event cards, lists, reminders and poll tallies (escaped)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from bots.events.model import EventRecord, PollRecord
from bots.events.parse import format_span
from messenger.protocol.events import Rsvp

MARK: dict[Rsvp, str] = {"yes": "✅", "maybe": "❔", "no": "❌"}
LABEL: dict[Rsvp, str] = {"yes": "Going", "maybe": "Maybe", "no": "Not going"}


def fmt_day_time(dt: datetime) -> str:
    """``Thu 3 Dec 2026, 14:00``."""
    return f"{dt:%a} {dt.day} {dt:%b %Y}, {dt:%H:%M}"


def fmt_span(start: datetime, end: datetime) -> str:
    """``Thu 3 Dec 2026, 14:00–16:00 CET`` (the end's date or zone shown when they differ)."""
    if end.date() != start.date():
        return f"{fmt_day_time(start)} {start.tzname()} – {fmt_day_time(end)} {end.tzname()}"
    if end.tzname() != start.tzname():
        return f"{fmt_day_time(start)} {start.tzname()}–{end:%H:%M} {end.tzname()}"
    return f"{fmt_day_time(start)}–{end:%H:%M} {start.tzname()}"


def when_event(rec: EventRecord) -> str:
    """The card's time line: the event's own zone, then UTC."""
    start, end = rec.start, rec.end
    utc_s, utc_e = start.astimezone(UTC), end.astimezone(UTC)
    return f"{fmt_span(start, end)} ({rec.timezone}) · {fmt_span(utc_s, utc_e)}"


def when_for(rec: EventRecord, zone: str | None) -> str:
    """The event's time in a viewer's zone (the event's zone and UTC when they set none)."""
    if zone is None:
        return when_event(rec)
    tz = ZoneInfo(zone)
    start, end = rec.start.astimezone(tz), rec.end.astimezone(tz)
    line = f"{fmt_span(start, end)} ({zone})"
    if zone != rec.timezone:
        line += f" · {fmt_day_time(rec.start)} {rec.start.tzname()} in {rec.timezone}"
    return line


def _grouped(rec: EventRecord) -> dict[Rsvp, list[str]]:
    out: dict[Rsvp, list[str]] = {"yes": [], "maybe": [], "no": []}
    for user, a in sorted(rec.rsvps.items()):
        out[a.answer].append(user)
    return out


def reminders_text(rec: EventRecord) -> str:
    """``24h and 1h before`` or ``none``."""
    spans = [format_span(m) for m in sorted(rec.reminders, reverse=True)]
    if not spans:
        return "none"
    return (", ".join(spans[:-1]) + " and " + spans[-1] if len(spans) > 1 else spans[0]) + " before"


def card_text(rec: EventRecord) -> str:
    """The plain-text card."""
    head = f"📅 {rec.title} ({rec.id})"
    if rec.status == "cancelled":
        head = f"🚫 CANCELLED: {rec.title} ({rec.id})"
    lines = [head, f"🕑 {when_event(rec)}"]
    if rec.where:
        lines.append(f"📍 {rec.where}")
    if rec.description:
        lines.append(rec.description)
    if rec.agenda:
        lines.append("Agenda:")
        lines += [f"  {i}. {item}" for i, item in enumerate(rec.agenda, 1)]
    groups = _grouped(rec)
    lines.append("RSVP: " + " · ".join(f"{MARK[k]} {len(v)}" for k, v in groups.items()))
    lines += [f"  {LABEL[k]}: {', '.join(v)}" for k, v in groups.items() if v]
    if rec.status == "scheduled":
        lines.append(
            f"React ✅ ❌ ❔ to answer (or !event rsvp {rec.id} yes). "
            f"Calendar file: !event ics {rec.id}. Reminders: {reminders_text(rec)}."
        )
    return "\n".join(lines)


def card_html(rec: EventRecord) -> str:
    """The HTML card; every user-written string is escaped."""
    title = escape(rec.title)
    if rec.status == "cancelled":
        head = f"<p>🚫 <b>CANCELLED:</b> <del>{title}</del> ({rec.id})</p>"
    else:
        head = f"<p>📅 <b>{title}</b> ({rec.id})</p>"
    parts = [head, f"<p>🕑 {escape(when_event(rec))}"]
    if rec.where:
        parts.append(f"<br/>📍 {escape(rec.where)}")
    parts.append("</p>")
    if rec.description:
        parts.append(f"<p>{escape(rec.description)}</p>")
    if rec.agenda:
        items = "".join(f"<li>{escape(a)}</li>" for a in rec.agenda)
        parts.append(f"<p>Agenda:</p><ol>{items}</ol>")
    groups = _grouped(rec)
    counts = " · ".join(f"{MARK[k]} {len(v)}" for k, v in groups.items())
    people = "".join(f"<br/>{LABEL[k]}: {escape(', '.join(v))}" for k, v in groups.items() if v)
    parts.append(f"<p>RSVP: {counts}{people}</p>")
    if rec.status == "scheduled":
        parts.append(
            f"<p><i>React ✅ ❌ ❔ to answer (or <code>!event rsvp {rec.id} yes</code>). "
            f"Calendar file: <code>!event ics {rec.id}</code>. "
            f"Reminders: {escape(reminders_text(rec))}.</i></p>"
        )
    return "".join(parts)


def detail_text(rec: EventRecord, zone: str | None) -> str:
    """``!event show``: the card with the time in the asker's zone."""
    lines = card_text(rec).splitlines()
    lines[1] = f"🕑 {when_for(rec, zone)}"
    lines.insert(2, f"   Created by {rec.creator}")
    return "\n".join(lines)


def list_line(rec: EventRecord, zone: str | None) -> str:
    """One line of ``!event list``."""
    groups = _grouped(rec)
    counts = " ".join(f"{MARK[k]}{len(v)}" for k, v in groups.items())
    where = f" @ {rec.where}" if rec.where else ""
    return f"{rec.id} · {rec.title} · {when_for(rec, zone)}{where} · {counts}"


def reminder_text(rec: EventRecord, minutes_left: int, names: list[str]) -> str:
    """The reminder notice body, naming who is expected."""
    who = ", ".join(names) if names else "everyone"
    soon = f"in {format_span(minutes_left)}" if minutes_left > 0 else "now"
    where = f" at {rec.where}" if rec.where else ""
    return f"⏰ {rec.title} ({rec.id}) starts {soon}{where}: {when_event(rec)}. {who}"


def reminder_html(rec: EventRecord, minutes_left: int, users: list[str]) -> str:
    """The reminder's HTML, with a mention pill for each user."""
    pills = ", ".join(f'<a href="https://matrix.to/#/{escape(u)}">{escape(u)}</a>' for u in users)
    soon = f"in {format_span(minutes_left)}" if minutes_left > 0 else "now"
    where = f" at {escape(rec.where)}" if rec.where else ""
    return (
        f"⏰ <b>{escape(rec.title)}</b> ({rec.id}) starts {soon}{where}: "
        f"{escape(when_event(rec))}.<br/>{pills or 'everyone'}"
    )


def slot_label(start: datetime) -> str:
    """A poll slot: ``Thu 3 Dec 2026, 14:00 CET (13:00 UTC)``."""
    utc = start.astimezone(UTC)
    day = "" if utc.date() == start.date() else f"{utc:%a} "
    return f"{fmt_day_time(start)} {start.tzname()} ({day}{utc:%H:%M} UTC)"


def tally_text(rec: PollRecord) -> str:
    """The closing summary: votes per slot, the winner and how to create the event."""
    counts = rec.tally()
    lines = [f"📊 Poll {rec.id} “{rec.title}” is closed."]
    for i, s in enumerate(rec.slots, 1):
        n = len(counts[s.answer])
        star = " ⭐" if s.answer == rec.winner else ""
        lines.append(f"{i}. {s.label}: {n} vote{'s' if n != 1 else ''}{star}")
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    if winner is None:
        lines.append("Nobody voted, so there is no winner.")
    else:
        lines.append(f"Winner: {winner.label}. Create the event: !event poll accept {rec.id}")
    return "\n".join(lines)


def tally_html(rec: PollRecord) -> str:
    """The closing summary as HTML."""
    counts = rec.tally()
    items = "".join(
        f"<li>{escape(s.label)}: {len(counts[s.answer])}"
        f"{' ⭐' if s.answer == rec.winner else ''}</li>"
        for s in rec.slots
    )
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    tail = (
        "Nobody voted, so there is no winner."
        if winner is None
        else f"Winner: <b>{escape(winner.label)}</b>. Create the event: "
        f"<code>!event poll accept {rec.id}</code>"
    )
    return f"<p>📊 Poll {rec.id} “{escape(rec.title)}” is closed.</p><ol>{items}</ol><p>{tail}</p>"
