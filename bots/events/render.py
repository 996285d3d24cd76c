"""Provides the text and HTML of event cards, lists, reminders and poll tallies (escaped), each
in the language of a ``Translator``: the room's for cards and reminders, the asker's for
replies. Dates and lists go through Babel; user text is escaped, and so is translated text."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.lists import format_list

from bots.events.lang import clock, day_time, span, weekday
from bots.events.model import EventRecord, PollRecord
from messenger.i18n import N_, Translator
from messenger.protocol.events import Rsvp

MARK: dict[Rsvp, str] = {"yes": "✅", "maybe": "❔", "no": "❌"}
LABEL: dict[Rsvp, str] = {"yes": N_("Going"), "maybe": N_("Maybe"), "no": N_("Not going")}


def html_fill(t: Translator, template: str, **fields: str) -> str:
    """``template`` translated and escaped like user text, filled with HTML fields (escaped
    by the caller)."""
    return escape(t.gettext(template), quote=False).format(**fields)


def fmt_span(t: Translator, start: datetime, end: datetime) -> str:
    """``Thu 3 Dec 2026, 14:00–16:00 CET`` (the end's date or zone shown when they differ)."""
    first = day_time(t, start)
    if end.date() != start.date():
        return f"{first} {start.tzname()} – {day_time(t, end)} {end.tzname()}"
    if end.tzname() != start.tzname():
        return f"{first} {start.tzname()}–{clock(end)} {end.tzname()}"
    return f"{first}–{clock(end)} {start.tzname()}"


def when_event(t: Translator, rec: EventRecord) -> str:
    """The card's time line: the event's own zone, then UTC."""
    start, end = rec.start, rec.end
    utc_s, utc_e = start.astimezone(UTC), end.astimezone(UTC)
    return f"{fmt_span(t, start, end)} ({rec.timezone}) · {fmt_span(t, utc_s, utc_e)}"


def when_for(t: Translator, rec: EventRecord, zone: str | None) -> str:
    """The event's time in a viewer's zone (the event's zone and UTC when they set none)."""
    if zone is None:
        return when_event(t, rec)
    tz = ZoneInfo(zone)
    start, end = rec.start.astimezone(tz), rec.end.astimezone(tz)
    line = f"{fmt_span(t, start, end)} ({zone})"
    if zone != rec.timezone:
        there = f"{day_time(t, rec.start)} {rec.start.tzname()}"
        line += " · " + t.gettext("{time} in {zone}").format(time=there, zone=rec.timezone)
    return line


def _grouped(rec: EventRecord) -> dict[Rsvp, list[str]]:
    out: dict[Rsvp, list[str]] = {"yes": [], "maybe": [], "no": []}
    for user, a in sorted(rec.rsvps.items()):
        out[a.answer].append(user)
    return out


def reminders_text(t: Translator, rec: EventRecord) -> str:
    """``24h and 1h before`` or ``none``."""
    spans = [span(m) for m in sorted(rec.reminders, reverse=True)]
    if not spans:
        return t.gettext("none")
    return t.gettext("{spans} before").format(spans=format_list(spans, locale=t.locale))


def _rsvp_lines(t: Translator, rec: EventRecord) -> tuple[str, list[tuple[str, list[str]]]]:
    groups = _grouped(rec)
    counts = " · ".join(f"{MARK[k]} {len(v)}" for k, v in groups.items())
    return counts, [(t.gettext(LABEL[k]), v) for k, v in groups.items() if v]


def card_text(t: Translator, rec: EventRecord) -> str:
    """The plain-text card."""
    if rec.status == "cancelled":
        head = "🚫 " + t.gettext("CANCELLED: {title} ({id})").format(title=rec.title, id=rec.id)
    else:
        head = f"📅 {rec.title} ({rec.id})"
    lines = [head, f"🕑 {when_event(t, rec)}"]
    if rec.where:
        lines.append(f"📍 {rec.where}")
    if rec.description:
        lines.append(rec.description)
    if rec.agenda:
        lines.append(t.gettext("Agenda:"))
        lines += [f"  {i}. {item}" for i, item in enumerate(rec.agenda, 1)]
    counts, people = _rsvp_lines(t, rec)
    lines.append(t.gettext("RSVP: {counts}").format(counts=counts))
    lines += [f"  {label}: {', '.join(v)}" for label, v in people]
    if rec.status == "scheduled":
        lines.append(
            t.gettext(
                "React ✅ ❌ ❔ to answer (or {rsvp}). Calendar file: {ics}. Reminders: {when}."
            ).format(
                rsvp=f"!event rsvp {rec.id} yes",
                ics=f"!event ics {rec.id}",
                when=reminders_text(t, rec),
            )
        )
    return "\n".join(lines)


def card_html(t: Translator, rec: EventRecord) -> str:
    """The HTML card; every user-written (and translated) string is escaped."""
    title = escape(rec.title)
    if rec.status == "cancelled":
        cancelled = html_fill(
            t, "CANCELLED: {title} ({id})", title=f"<del>{title}</del>", id=rec.id
        )
        head = f"<p>🚫 <b>{cancelled}</b></p>"
    else:
        head = f"<p>📅 <b>{title}</b> ({rec.id})</p>"
    parts = [head, f"<p>🕑 {escape(when_event(t, rec))}"]
    if rec.where:
        parts.append(f"<br/>📍 {escape(rec.where)}")
    parts.append("</p>")
    if rec.description:
        parts.append(f"<p>{escape(rec.description)}</p>")
    if rec.agenda:
        items = "".join(f"<li>{escape(a)}</li>" for a in rec.agenda)
        parts.append(f"<p>{escape(t.gettext('Agenda:'))}</p><ol>{items}</ol>")
    counts, people = _rsvp_lines(t, rec)
    who = "".join(f"<br/>{escape(label)}: {escape(', '.join(v))}" for label, v in people)
    parts.append(f"<p>{html_fill(t, 'RSVP: {counts}', counts=counts)}{who}</p>")
    if rec.status == "scheduled":
        how = html_fill(
            t,
            "React ✅ ❌ ❔ to answer (or {rsvp}). Calendar file: {ics}. Reminders: {when}.",
            rsvp=f"<code>!event rsvp {rec.id} yes</code>",
            ics=f"<code>!event ics {rec.id}</code>",
            when=escape(reminders_text(t, rec)),
        )
        parts.append(f"<p><i>{how}</i></p>")
    return "".join(parts)


def detail_text(t: Translator, rec: EventRecord, zone: str | None) -> str:
    """``!event show``: the card with the time in the asker's zone."""
    lines = card_text(t, rec).splitlines()
    lines[1] = f"🕑 {when_for(t, rec, zone)}"
    lines.insert(2, "   " + t.gettext("Created by {user}").format(user=rec.creator))
    return "\n".join(lines)


def list_line(t: Translator, rec: EventRecord, zone: str | None) -> str:
    """One line of ``!event list``."""
    groups = _grouped(rec)
    counts = " ".join(f"{MARK[k]}{len(v)}" for k, v in groups.items())
    where = f" @ {rec.where}" if rec.where else ""
    return f"{rec.id} · {rec.title} · {when_for(t, rec, zone)}{where} · {counts}"


REMINDER = N_("⏰ {title} ({id}) starts {soon}: {when}. {who}")
REMINDER_AT = N_("⏰ {title} ({id}) starts {soon} at {place}: {when}. {who}")


def _soon(t: Translator, minutes_left: int) -> str:
    if minutes_left > 0:
        return t.gettext("in {span}").format(span=span(minutes_left))
    return t.gettext("now")


def reminder_text(t: Translator, rec: EventRecord, minutes_left: int, names: list[str]) -> str:
    """The reminder notice body, naming who is expected."""
    fields: dict[str, Any] = {
        "title": rec.title,
        "id": rec.id,
        "soon": _soon(t, minutes_left),
        "when": when_event(t, rec),
        "who": ", ".join(names) if names else t.gettext("everyone"),
    }
    if rec.where:
        return t.gettext(REMINDER_AT).format(place=rec.where, **fields)
    return t.gettext(REMINDER).format(**fields)


def reminder_html(t: Translator, rec: EventRecord, minutes_left: int, users: list[str]) -> str:
    """The reminder's HTML, with a mention pill for each user."""
    pills = ", ".join(f'<a href="https://matrix.to/#/{escape(u)}">{escape(u)}</a>' for u in users)
    fields = {
        "title": f"<b>{escape(rec.title)}</b>",
        "id": rec.id,
        "soon": escape(_soon(t, minutes_left)),
        "when": escape(when_event(t, rec)),
        "who": pills or escape(t.gettext("everyone")),
    }
    if rec.where:
        return html_fill(t, REMINDER_AT, place=escape(rec.where), **fields)
    return html_fill(t, REMINDER, **fields)


def slot_label(t: Translator, start: datetime) -> str:
    """A poll slot: ``Thu 3 Dec 2026, 14:00 CET (13:00 UTC)``."""
    utc = start.astimezone(UTC)
    day = "" if utc.date() == start.date() else f"{weekday(t, utc)} "
    return f"{day_time(t, start)} {start.tzname()} ({day}{clock(utc)} UTC)"


def _votes(t: Translator, n: int) -> str:
    return t.ngettext("{n} vote", "{n} votes", n).format(n=n)


def no_winner(t: Translator, rec: PollRecord) -> str:
    """Why a closed poll has no winner: no votes, no slot every voter chose (consensus, naming
    who left each slot out), or a coordinator picks (coordinator rule)."""
    if not rec.votes:
        return t.gettext("Nobody voted, so there is no winner.")
    if rec.rule == "coordinator":
        return t.gettext("In this room a coordinator picks the slot: {command}").format(
            command=f"!event poll accept {rec.id} 1"
        )
    left = "; ".join(
        t.gettext("slot {slot} left out by {users}").format(
            slot=i, users=", ".join(rec.without(s.answer))
        )
        for i, s in enumerate(rec.slots, 1)
    )
    return t.gettext(
        "No slot was chosen by every voter, so by consensus there is no winner ({left}). "
        "Run a new poll with other times."
    ).format(left=left)


def tally_text(t: Translator, rec: PollRecord) -> str:
    """The closing summary: votes per slot, the winner and how to create the event."""
    counts = rec.tally()
    closed = t.gettext("📊 Poll {id} “{title}” is closed.")
    lines = [closed.format(id=rec.id, title=rec.title)]
    for i, s in enumerate(rec.slots, 1):
        star = " ⭐" if s.answer == rec.winner else ""
        lines.append(f"{i}. {s.label}: {_votes(t, len(counts[s.answer]))}{star}")
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    if winner is None:
        lines.append(no_winner(t, rec))
    else:
        lines.append(
            t.gettext("Winner: {slot}. Create the event: {command}").format(
                slot=winner.label, command=f"!event poll accept {rec.id}"
            )
        )
    return "\n".join(lines)


def tally_html(t: Translator, rec: PollRecord) -> str:
    """The closing summary as HTML."""
    counts = rec.tally()
    items = "".join(
        f"<li>{escape(s.label)}: {escape(_votes(t, len(counts[s.answer])))}"
        f"{' ⭐' if s.answer == rec.winner else ''}</li>"
        for s in rec.slots
    )
    winner = next((s for s in rec.slots if s.answer == rec.winner), None)
    if winner is None:
        tail = escape(no_winner(t, rec))
    else:
        tail = html_fill(
            t,
            "Winner: {slot}. Create the event: {command}",
            slot=f"<b>{escape(winner.label)}</b>",
            command=f"<code>!event poll accept {rec.id}</code>",
        )
    head = html_fill(t, "📊 Poll {id} “{title}” is closed.", id=rec.id, title=escape(rec.title))
    return f"<p>{head}</p><ol>{items}</ol><p>{tail}</p>"
