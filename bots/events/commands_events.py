"""Provides the event commands: create, list, show, RSVP, cancel, edit, agenda, remind, ics, tz."""

from __future__ import annotations

from datetime import UTC, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bots.events import store as s
from bots.events.editors import AGENDA, CANCEL, EDIT, REMIND
from bots.events.lang import Message, Phrase, Refusal, Span, checked, clock, span
from bots.events.model import Answer, EventRecord
from bots.events.parse import (
    AGENDA_ITEM,
    DESCRIPTION,
    PLACE,
    TITLE,
    DateWord,
    Example,
    check_text,
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
from bots.onboard.render import warnings
from messenger.botkit.commands import Arg, Commands, Opt, command
from messenger.botkit.context import Context, thread_relation
from messenger.errors import MessengerError
from messenger.i18n import N_
from messenger.protocol.events import Rsvp

if TYPE_CHECKING:
    from bots.events.bot import EventsBot  # noqa: F401 (named by the Commands base)


def create_example(title: str) -> Example:
    """An ``!event create`` line for a date, time and zone, with the user's own title."""
    return lambda day, at, zone: f"!event create {quoted(title)} {day} {at} {zone}"


def edit_example(event_id: str) -> Example:
    """An ``!event edit`` line for a new date, time and zone."""
    return lambda day, at, zone: f"!event edit {event_id} --date {day} --time {at} --tz {zone}"


ID = Arg("id", N_("the event's ID, e.g. E7"), parse=checked("id", parse_event_id))
NO_ZONE = N_(
    "No timezone given and you have not set yours, so I used UTC. "
    "Set yours with !tz Europe/Stockholm, or name one after the time."
)


class EventCommands(Commands["EventsBot"]):
    """``!event create|list|show|rsvp|cancel|edit|agenda|remind|ics`` and ``!tz``."""

    async def event_here(self, ctx: Context, event_id: str) -> EventRecord:
        """The event with this ID in the asker's room, or a CommandError saying there is none."""
        rec = await s.load_event(ctx.tx, event_id)
        if rec is None or rec.room != ctx.room_id:
            raise Refusal(
                N_(
                    "there is no event {id} in this room; !event list shows the IDs, e.g. {example}"
                ),
                id=event_id,
                example="!event show E1",
            )
        return rec

    @command(
        "event create",
        Arg("title", N_("what it is, in quotes")),
        Arg("date", N_("YYYY-MM-DD, today or tomorrow"), parse=checked("date", parse_date)),
        Arg("time", N_("HH:MM, 24-hour clock"), parse=checked("time", parse_time)),
        Arg(
            "tz",
            N_("IANA zone (default: yours, see !tz)"),
            parse=checked("tz", parse_zone),
            optional=True,
        ),
        Opt(
            "duration",
            N_("how long, e.g. 90m, 2h, 1h30m (default 1h)"),
            parse=checked("duration", parse_duration),
            metavar="D",
        ),
        Opt("where", N_("place or video link"), metavar='"PLACE"'),
        Opt("description", N_("a few words about it"), metavar='"TEXT"'),
        summary=N_("Plan an event; its card shows RSVPs and is kept up to date."),
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
        notes: list[Message | str] = []
        zone = tz or await self.bot.zone_of(ctx.tx, ctx.sender)
        if zone is None:
            zone = "UTC"
            notes.append(Message(NO_ZONE))
        start, note = self.bot.local_start(date, time, zone, create_example(title))
        if note:
            notes.insert(0, note)
        notes += warnings(ctx.t, ctx.group, start.date())  # a partner's holiday: warn, go on
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
        Opt("all", N_("every room you share with the bot"), flag=True),
        summary=N_("Upcoming events in this room, in your timezone."),
        example="!event list --all",
    )
    async def list_events(self, ctx: Context, *, all: bool) -> None:
        t = ctx.t
        zone = await self.bot.zone_of(ctx.tx, ctx.sender)
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
        if not chosen:
            example = fill_dates(
                '!event create "Board meeting" {date+7} 14:00 Europe/Stockholm',
                self.bot.now_dt().date(),
            )
            text = (
                t.gettext("No upcoming events in the rooms you share with me. Plan one: {example}")
                if all
                else t.gettext("No upcoming events in this room. Plan one: {example}")
            ).format(example=example)
            await ctx.reply(text, data=self.bot.info("event list"))
            return
        shown_zone = zone or t.gettext("your zone is not set: !tz")
        head = (
            t.gettext("Upcoming events in the rooms you share with me ({zone}):")
            if all
            else t.gettext("Upcoming events in this room ({zone}):")
        )
        other = t.gettext("[other room]") + " "
        lines = [head.format(zone=shown_zone)]
        lines += [
            ("" if r.room == ctx.room_id else other) + list_line(t, r, zone) for r in chosen[:50]
        ]
        if len(chosen) > 50:
            more = len(chosen) - 50
            lines.append(t.ngettext("… and {n} more", "… and {n} more", more).format(n=more))
        await ctx.reply("\n".join(lines), data=self.bot.info("event list"))

    @command(
        "event show",
        ID,
        summary=N_("An event's details, in your timezone."),
        example="!event show E7",
    )
    async def show(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        zone = await self.bot.zone_of(ctx.tx, ctx.sender)
        await ctx.reply(detail_text(ctx.t, rec, zone), data=rec.card())

    @command(
        "event rsvp",
        ID,
        Arg("answer", N_("yes, no or maybe"), parse=checked("answer", parse_rsvp)),
        summary=N_("Answer whether you come (or react ✅ ❌ ❔ to the card)."),
        example="!event rsvp E7 yes",
    )
    async def rsvp(self, ctx: Context, *, id: str, answer: Rsvp) -> None:
        rec = await self.event_here(ctx, id)
        if rec.status != "scheduled":
            raise Refusal(N_("{id} is cancelled; there is nothing to answer"), id=id)
        rec.rsvps[ctx.sender] = Answer(answer=answer, via="command", ts=ctx.event.ts)
        await s.save_event(ctx.tx, rec)
        noted = ctx._("Noted: {answer} for {title} ({id}).").format(
            answer=ctx._(LABEL[answer]).lower(), title=rec.title, id=id
        )
        await ctx.reply(noted, data=rec.card())

    @command(
        "event cancel",
        ID,
        summary=N_("Cancel an event (its creator or a coordinator)."),
        example="!event cancel E7",
    )
    async def cancel(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, CANCEL)
        if rec.status == "cancelled":
            raise Refusal(N_("{id} is already cancelled"), id=id)
        rec.status = "cancelled"
        await self.bot.schedule_reminders(ctx.tx, rec)
        await s.save_event(ctx.tx, rec)
        going = sorted(u for u, a in rec.rsvps.items() if a.answer != "no")
        await ctx.reply(
            "🚫 "
            + ctx._("{title} ({id}) is cancelled.").format(title=rec.title, id=id)
            + (f" {', '.join(going)}" if going else ""),
            data=rec.card(),
            mentions=going,
        )

    @command(
        "event edit",
        ID,
        Opt("title", N_("a new title"), metavar='"TITLE"'),
        Opt("date", N_("a new date"), parse=checked("date", parse_date), metavar="DATE"),
        Opt("time", N_("a new start time"), parse=checked("time", parse_time), metavar="HH:MM"),
        Opt("tz", N_("a new timezone"), parse=checked("tz", parse_zone), metavar="ZONE"),
        Opt(
            "duration",
            N_("a new length"),
            parse=checked("duration", parse_duration),
            metavar="D",
        ),
        Opt("where", N_("a new place"), metavar='"PLACE"'),
        Opt("description", N_("a new description"), metavar='"TEXT"'),
        summary=N_("Change an event (its creator or a coordinator); the card is updated."),
        example="!event edit E7 --time 15:00 --where Zoom",
    )
    async def edit(self, ctx: Context, *, id: str, **changes: object) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, EDIT)
        if rec.status != "scheduled":
            raise Refusal(N_("{id} is cancelled; create a new event instead"), id=id)
        if all(v is None for v in changes.values()):
            raise Refusal(
                N_("say what to change, e.g. {example}"), example="!event edit E7 --time 15:00"
            )
        if changes["title"] is not None:
            check_text(str(changes["title"]), TITLE, 200)
            rec.title = str(changes["title"]).strip()
        fields: dict[str, Phrase] = {"where": PLACE, "description": DESCRIPTION}
        for field, what in fields.items():
            if changes[field] is not None:
                check_text(str(changes[field]), what, 2000, empty=True)
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
        text = "✏ " + ctx._("{title} ({id}) changed: {when}.").format(
            title=rec.title, id=id, when=when_for(ctx.t, rec, None)
        )
        if note:
            text += " " + note.render(ctx.t)
        await ctx.reply(text, data=rec.card())

    @command(
        "event agenda",
        ID,
        Arg("action", N_("add or remove; leave out to see the agenda"), optional=True),
        Arg("item", N_("the item (add) or its number (remove)"), optional=True, rest=True),
        summary=N_("Show an event's agenda, or add/remove items (creator or coordinator)."),
        example='!event agenda E7 add "Budget 2027"',
    )
    async def agenda(self, ctx: Context, *, id: str, action: str | None, item: str | None) -> None:
        rec = await self.event_here(ctx, id)
        if action is None:
            listed = "\n".join(f"{i}. {a}" for i, a in enumerate(rec.agenda, 1))
            head = ctx._("Agenda of {title} ({id}):").format(title=rec.title, id=id)
            await ctx.reply(f"{head}\n{listed or ctx._('(empty)')}", data=rec.card())
            return
        self.bot.require_editor(ctx, rec, AGENDA)
        if action.lower() == "add" and item:
            check_text(item, AGENDA_ITEM, 300)
            if len(rec.agenda) >= 50:
                raise Refusal(N_("an agenda has at most {most} items"), most=50)
            rec.agenda.append(item.strip())
        elif action.lower() == "remove" and item and item.strip().isdigit():
            n = int(item)
            if not 1 <= n <= len(rec.agenda):
                raise Refusal(
                    N_("the agenda has items 1 to {last}, not {n}"), last=len(rec.agenda), n=n
                )
            rec.agenda.pop(n - 1)
        else:
            raise Refusal(
                N_("write {add} or {remove}"),
                add=f'!event agenda {id} add "item"',
                remove=f"!event agenda {id} remove 2",
            )
        await s.save_event(ctx.tx, rec)
        updated = ctx._("Agenda of {title} ({id}) updated.").format(title=rec.title, id=id)
        await ctx.reply(updated, data=rec.card())

    @command(
        "event remind",
        ID,
        Arg(
            "offset", N_("how long before, e.g. 1h, 24h, 2d"), parse=checked("offset", parse_offset)
        ),
        summary=N_("Add a reminder before an event (creator or coordinator)."),
        example="!event remind E7 2h",
    )
    async def remind(self, ctx: Context, *, id: str, offset: int) -> None:
        rec = await self.event_here(ctx, id)
        self.bot.require_editor(ctx, rec, REMIND)
        if rec.status != "scheduled":
            raise Refusal(N_("{id} is cancelled"), id=id)
        if rec.start_ms - offset * 60_000 <= self.bot.now_ms():
            raise Refusal(
                N_("{span} before {id} has already passed; pick a shorter time, e.g. {example}"),
                span=Span(offset),
                id=id,
                example=f"!event remind {id} 30m",
            )
        if offset in rec.reminders:
            raise Refusal(N_("{id} already has a reminder {span} before"), id=id, span=Span(offset))
        rec.reminders.append(offset)
        await self.bot.schedule_reminders(ctx.tx, rec)
        await s.save_event(ctx.tx, rec)
        await ctx.reply(
            "⏰ "
            + ctx._("I will remind the room {span} before {title} ({id}).").format(
                span=span(offset), title=rec.title, id=id
            ),
            data=rec.card(),
        )

    @command(
        "event ics",
        ID,
        summary=N_("Get the event as an encrypted calendar file (.ics) to import."),
        example="!event ics E7",
    )
    async def ics_file(self, ctx: Context, *, id: str) -> None:
        rec = await self.event_here(ctx, id)
        from bots.events import ics  # icalendar: imported on first use, not at every start

        data = ics.build_ics(rec, self.bot.now_dt(), ctx.t)
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
        Arg(
            "zone",
            N_("an IANA zone, e.g. Europe/Copenhagen"),
            parse=checked("zone", parse_zone),
            optional=True,
        ),
        summary=N_("Set (or see) your timezone; event times are shown to you in it."),
        example="!tz Europe/Copenhagen",
        aliases=["event tz"],
    )
    async def tz(self, ctx: Context, *, zone: str | None) -> None:
        if zone is None:
            current = await self.bot.zone_of(ctx.tx, ctx.sender)
            text = (
                ctx._("Your timezone is {zone}.").format(zone=current)
                if current
                else ctx._("You have not set a timezone.")
            )
            how = ctx._("Set it with {example}").format(example="!tz Europe/Copenhagen")
            await ctx.reply(f"{text} {how}", data=self.bot.info("tz"))
            return
        await self.bot.prefs.set_member(ctx.sender, "tz", zone)  # every bot reads it
        local = self.bot.now_dt().astimezone(ZoneInfo(zone))
        done = ctx._("I will show you times in {zone} (it is {time} {abbr} there now).")
        await ctx.reply(
            "🌍 " + done.format(zone=zone, time=clock(local), abbr=local.tzname()),
            data=self.bot.info("tz"),
        )
