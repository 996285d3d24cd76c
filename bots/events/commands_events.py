"""Provides the event commands: create, list, show, RSVP, cancel, edit, agenda, remind, ics, tz."""

from __future__ import annotations

from datetime import UTC, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bots.events import ics
from bots.events import store as s
from bots.events.model import Answer, EventRecord
from bots.events.parse import (
    DateWord,
    Example,
    check_text,
    format_span,
    parse_date,
    parse_duration,
    parse_event_id,
    parse_offset,
    parse_rsvp,
    parse_time,
    parse_zone,
)
from bots.events.render import LABEL, detail_text, list_line, when_for
from bots.examples import fill_dates, quoted
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context, thread_relation
from messenger.errors import MessengerError
from messenger.protocol.events import Rsvp

if TYPE_CHECKING:
    from bots.events.bot import EventsBot  # noqa: F401 (named by the Commands base)


def create_example(title: str) -> Example:
    """An ``!event create`` line for a date, time and zone, with the user's own title."""
    return lambda day, at, zone: f"!event create {quoted(title)} {day} {at} {zone}"


def edit_example(event_id: str) -> Example:
    """An ``!event edit`` line for a new date, time and zone."""
    return lambda day, at, zone: f"!event edit {event_id} --date {day} --time {at} --tz {zone}"


ID = Arg("id", "the event's ID, e.g. E7", parse=parse_event_id)


class EventCommands(Commands["EventsBot"]):
    """``!event create|list|show|rsvp|cancel|edit|agenda|remind|ics`` and ``!tz``."""

    async def event_here(self, ctx: Context, event_id: str) -> EventRecord:
        """The event with this ID in the asker's room, or a CommandError saying there is none."""
        rec = await s.load_event(ctx.tx, event_id)
        if rec is None or rec.room != ctx.room_id:
            raise CommandError(
                f"there is no event {event_id} in this room; !event list shows the IDs, "
                f"e.g. !event show E1"
            )
        return rec

    @command(
        "event create",
        Arg("title", "what it is, in quotes"),
        Arg("date", "YYYY-MM-DD, today or tomorrow", parse=parse_date),
        Arg("time", "HH:MM, 24-hour clock", parse=parse_time),
        Arg("tz", "IANA zone (default: yours, see !tz)", parse=parse_zone, optional=True),
        Opt(
            "duration",
            "how long, e.g. 90m, 2h, 1h30m (default 1h)",
            parse=parse_duration,
            metavar="D",
        ),
        Opt("where", "place or video link", metavar='"PLACE"'),
        Opt("description", "a few words about it", metavar='"TEXT"'),
        summary="Plan an event; its card shows RSVPs and is kept up to date.",
        example='!event create "Board meeting" {date+7} 14:00 Europe/Stockholm --duration 2h',
    )
    async def create(
        self,
        ctx: Context,
        *,
        title: str,
        date: DateWord,
        time: time,
        tz: str | None,
        duration: int | None,
        where: str | None,
        description: str | None,
    ) -> None:
        notes = []
        zone = tz or await s.user_zone(ctx.tx, ctx.sender)
        if zone is None:
            zone = "UTC"
            notes.append(
                "No timezone given and you have not set yours, so I used UTC. "
                "Set yours with !tz Europe/Stockholm, or name one after the time."
            )
        start, note = self.bot.local_start(date, time, zone, create_example(title))
        if note:
            notes.insert(0, note)
        await self.bot.create_event(
            ctx,
            title=title,
            start=start,
            zone=zone,
            duration=duration or 60,
            where=where or "",
            description=description or "",
            notes=notes,
        )

    @command(
        "event list",
        Opt("all", "every room you share with the bot", flag=True),
        summary="Upcoming events in this room, in your timezone.",
        example="!event list --all",
    )
    async def list_events(self, ctx: Context, *, all: bool) -> None:
        zone = await s.user_zone(ctx.tx, ctx.sender)
        now = self.bot.now_ms()
        upcoming = [
            rec
            for rec in await s.all_events(ctx.tx)
            if rec.status == "scheduled" and rec.start_ms + rec.duration * 60_000 > now
        ]
        shared = {ctx.room_id}
        if all:
            for room in {r.room for r in upcoming} - shared:
                try:
                    if (await self.bot.rooms.members(room)).get(ctx.sender) == "join":
                        shared.add(room)
                except MessengerError:
                    continue
        chosen = sorted((r for r in upcoming if r.room in shared), key=lambda r: r.start_ms)
        where = "in the rooms you share with me" if all else "in this room"
        if not chosen:
            text = f"No upcoming events {where}. Plan one: " + fill_dates(
                '!event create "Board meeting" {date+7} 14:00 Europe/Stockholm',
                self.bot.now_dt().date(),
            )
            await ctx.reply(text, data=self.bot.info("event list"))
            return
        lines = [f"Upcoming events {where} ({zone or 'your zone is not set: !tz'}):"]
        lines += [
            ("" if r.room == ctx.room_id else "[other room] ") + list_line(r, zone)
            for r in chosen[:50]
        ]
        if len(chosen) > 50:
            lines.append(f"… and {len(chosen) - 50} more")
        await ctx.reply("\n".join(lines), data=self.bot.info("event list"))

    @command(
        "event show", ID, summary="An event's details, in your timezone.", example="!event show E7"
    )
    async def show(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        zone = await s.user_zone(ctx.tx, ctx.sender)
        await ctx.reply(detail_text(rec, zone), data=rec.card())

    @command(
        "event rsvp",
        ID,
        Arg("answer", "yes, no or maybe", parse=parse_rsvp),
        summary="Answer whether you come (or react ✅ ❌ ❔ to the card).",
        example="!event rsvp E7 yes",
    )
    async def rsvp(self, ctx: Context, *, id: str, answer: Rsvp) -> None:
        rec = await self.event_here(ctx, id)
        if rec.status != "scheduled":
            raise CommandError(f"{id} is cancelled; there is nothing to answer")
        rec.rsvps[ctx.sender] = Answer(answer=answer, via="command", ts=ctx.event.ts)
        await s.save_event(ctx.tx, rec)
        await ctx.reply(f"Noted: {LABEL[answer].lower()} for {rec.title} ({id}).", data=rec.card())

    @command(
        "event cancel",
        ID,
        summary="Cancel an event (its creator or a coordinator).",
        example="!event cancel E7",
    )
    async def cancel(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, "cancel")
        if rec.status == "cancelled":
            raise CommandError(f"{id} is already cancelled")
        rec.status = "cancelled"
        await self.bot.schedule_reminders(ctx.tx, rec)
        await s.save_event(ctx.tx, rec)
        going = sorted(u for u, a in rec.rsvps.items() if a.answer != "no")
        await ctx.reply(
            f"🚫 {rec.title} ({id}) is cancelled." + (f" {', '.join(going)}" if going else ""),
            data=rec.card(),
            mentions=going,
        )

    @command(
        "event edit",
        ID,
        Opt("title", "a new title", metavar='"TITLE"'),
        Opt("date", "a new date", parse=parse_date, metavar="DATE"),
        Opt("time", "a new start time", parse=parse_time, metavar="HH:MM"),
        Opt("tz", "a new timezone", parse=parse_zone, metavar="ZONE"),
        Opt("duration", "a new length", parse=parse_duration, metavar="D"),
        Opt("where", "a new place", metavar='"PLACE"'),
        Opt("description", "a new description", metavar='"TEXT"'),
        summary="Change an event (its creator or a coordinator); the card is updated.",
        example="!event edit E7 --time 15:00 --where Zoom",
    )
    async def edit(self, ctx: Context, *, id: str, **changes: object) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, "edit")
        if rec.status != "scheduled":
            raise CommandError(f"{id} is cancelled; create a new event instead")
        if all(v is None for v in changes.values()):
            raise CommandError("say what to change, e.g. !event edit E7 --time 15:00")
        if changes["title"] is not None:
            check_text(str(changes["title"]), "title", 200)
            rec.title = str(changes["title"]).strip()
        for field in ("where", "description"):
            if changes[field] is not None:
                check_text(str(changes[field]), field, 2000, empty=True)
                setattr(rec, field, str(changes[field]).strip())
        if changes["duration"] is not None:
            rec.duration = int(str(changes["duration"]))
        note = None
        if any(changes[k] is not None for k in ("date", "time", "tz")):
            zone = str(changes["tz"] or rec.timezone)
            day = changes["date"] or DateWord(day=rec.start.date())
            at = changes["time"] or rec.start.time()
            assert isinstance(day, DateWord)
            assert isinstance(at, time)
            start, note = self.bot.local_start(day, at, zone, edit_example(id))
            rec.start_utc, rec.timezone = start.astimezone(UTC).isoformat(), zone
        await self.bot.schedule_reminders(ctx.tx, rec)
        await s.save_event(ctx.tx, rec)
        text = f"✏ {rec.title} ({id}) changed: {when_for(rec, None)}." + (
            f" {note}" if note else ""
        )
        await ctx.reply(text, data=rec.card())

    @command(
        "event agenda",
        ID,
        Arg("action", "add or remove; leave out to see the agenda", optional=True),
        Arg("item", "the item (add) or its number (remove)", optional=True, rest=True),
        summary="Show an event's agenda, or add/remove items (creator or coordinator).",
        example='!event agenda E7 add "Budget 2027"',
    )
    async def agenda(self, ctx: Context, *, id: str, action: str | None, item: str | None) -> None:
        rec = await self.event_here(ctx, id)
        if action is None:
            items = "\n".join(f"{i}. {a}" for i, a in enumerate(rec.agenda, 1)) or "(empty)"
            await ctx.reply(f"Agenda of {rec.title} ({id}):\n{items}", data=rec.card())
            return
        self.bot.require_editor(ctx, rec, "change the agenda of")
        if action.lower() == "add" and item:
            check_text(item, "agenda item", 300)
            if len(rec.agenda) >= 50:
                raise CommandError("an agenda has at most 50 items")
            rec.agenda.append(item.strip())
        elif action.lower() == "remove" and item and item.strip().isdigit():
            n = int(item)
            if not 1 <= n <= len(rec.agenda):
                raise CommandError(f"the agenda has items 1 to {len(rec.agenda)}, not {n}")
            rec.agenda.pop(n - 1)
        else:
            raise CommandError(
                f'write !event agenda {id} add "item" or !event agenda {id} remove 2'
            )
        await s.save_event(ctx.tx, rec)
        await ctx.reply(f"Agenda of {rec.title} ({id}) updated.", data=rec.card())

    @command(
        "event remind",
        ID,
        Arg("offset", "how long before, e.g. 1h, 24h, 2d", parse=parse_offset),
        summary="Add a reminder before an event (creator or coordinator).",
        example="!event remind E7 2h",
    )
    async def remind(self, ctx: Context, *, id: str, offset: int) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, "add reminders to")
        if rec.status != "scheduled":
            raise CommandError(f"{id} is cancelled")
        if rec.start_ms - offset * 60_000 <= self.bot.now_ms():
            raise CommandError(
                f"{format_span(offset)} before {id} has already passed; pick a shorter time, "
                f"e.g. !event remind {id} 30m"
            )
        if offset in rec.reminders:
            raise CommandError(f"{id} already has a reminder {format_span(offset)} before")
        rec.reminders.append(offset)
        await self.bot.schedule_reminders(ctx.tx, rec)
        await s.save_event(ctx.tx, rec)
        await ctx.reply(
            f"⏰ I will remind the room {format_span(offset)} before {rec.title} ({id}).",
            data=rec.card(),
        )

    @command(
        "event ics",
        ID,
        summary="Get the event as an encrypted calendar file (.ics) to import.",
        example="!event ics E7",
    )
    async def ics_file(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        data = ics.build_ics(rec, self.bot.now_dt())
        name = ics.filename(rec)
        file = await self.bot.session.upload_encrypted(data, "text/calendar", name)
        content = {
            "msgtype": "m.file",
            "body": name,
            "filename": name,
            "file": file,
            "info": {"mimetype": "text/calendar", "size": len(data)},
            "m.relates_to": thread_relation(ctx.event),
        }
        await ctx.send(ctx.room_id, rec.card().attach(content))

    @command(
        "tz",
        Arg("zone", "an IANA zone, e.g. Europe/Copenhagen", parse=parse_zone, optional=True),
        summary="Set (or see) your timezone; event times are shown to you in it.",
        example="!tz Europe/Copenhagen",
        aliases=["event tz"],
    )
    async def tz(self, ctx: Context, *, zone: str | None) -> None:
        if zone is None:
            current = await s.user_zone(ctx.tx, ctx.sender)
            text = f"Your timezone is {current}." if current else "You have not set a timezone."
            await ctx.reply(text + " Set it with !tz Europe/Copenhagen", data=self.bot.info("tz"))
            return
        await s.save_zone(ctx.tx, ctx.sender, zone)
        local = self.bot.now_dt().astimezone(ZoneInfo(zone))
        await ctx.reply(
            f"🌍 I will show you times in {zone} (it is {local:%H:%M} {local.tzname()} there now).",
            data=self.bot.info("tz"),
        )
