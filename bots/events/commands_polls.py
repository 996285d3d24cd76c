"""Provides the scheduling-poll commands: start a native poll, close it, accept its winner."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bots.events import polls
from bots.events import store as s
from bots.events.editors import ACCEPT, CLOSE
from bots.events.lang import Refusal, checked, span
from bots.events.model import PollRecord
from bots.events.parse import (
    TITLE,
    DateWord,
    Example,
    check_text,
    parse_duration,
    parse_offset,
    parse_poll_id,
    parse_slot_number,
    parse_slots,
    parse_zone,
)
from bots.events.render import slot_label, tally_html, tally_text
from bots.examples import quoted
from bots.onboard.holidays import countries_of, on_day
from bots.onboard.render import mark, norm, warnings
from messenger.botkit.commands import Arg, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.i18n import N_
from messenger.protocol.events import PollSlot

if TYPE_CHECKING:
    from bots.events.bot import EventsBot  # noqa: F401 (named by the Commands base)


def slot_example(title: str) -> Example:
    """An ``!event poll`` line with the user's own title and slots from a date and time."""
    return lambda day, at, zone: f"!event poll {quoted(title)} {day}T{at} {day}T16:00 --tz {zone}"


POLL_ID = Arg("id", N_("the poll's ID, e.g. P3"), parse=checked("id", parse_poll_id))


class PollCommands(Commands["EventsBot"]):
    """``!event poll``, ``!event poll close`` and ``!event poll accept``; votes from responses."""

    @command(
        "event poll",
        Arg("title", N_("what the meeting is, in quotes")),
        Arg(
            "slots",
            N_("candidate times: DATE TIME or DATETTIME"),
            parse=checked("slots", parse_slots),
            rest=True,
        ),
        Opt(
            "close-in",
            N_("close the poll after this long, e.g. 2d"),
            parse=checked("close-in", parse_offset),
            metavar="D",
        ),
        Opt(
            "tz",
            N_("zone of the slots (default: yours, see !tz)"),
            parse=checked("tz", parse_zone),
            metavar="ZONE",
        ),
        Opt(
            "duration",
            N_("length of the meeting, e.g. 1h"),
            parse=checked("duration", parse_duration),
            metavar="D",
        ),
        summary=N_("Ask the room when to meet with a native poll (Element shows it)."),
        example='!event poll "Partner call" {date+7}T14:00 {date+8}T09:00 --close-in 2d',
    )
    async def poll(
        self,
        ctx: Context,
        *,
        title: str,
        slots: list[tuple[DateWord, time]],
        close_in: int | None,
        tz: str | None,
        duration: int | None,
    ) -> None:
        check_text(title, TITLE, 200)
        zone = tz or await self.bot.zone_of(ctx.tx, ctx.sender) or "UTC"
        starts = []
        for day, at in slots:
            start, _note = self.bot.local_start(day, at, zone, slot_example(title))
            starts.append(start)
        if len({s.timestamp() for s in starts}) != len(starts):
            raise Refusal(N_("two slots are the same time; give each slot once"))
        ident = await s.next_id(ctx.tx, "P")
        room_t = ctx.room_t  # the poll is the room's: its slots and question in its language
        countries, lang = countries_of(ctx.group), room_t.lang  # holidays are marked
        rule = ctx.group.decisions if ctx.group is not None else "majority"
        rec = PollRecord(
            id=ident,
            room=ctx.room_id,
            title=title.strip(),
            timezone=zone,
            duration=duration or 60,
            slots=[
                PollSlot(
                    answer=f"s{i}",
                    start=s.isoformat(),
                    label=slot_label(room_t, s) + mark(room_t, on_day(countries, s.date(), lang)),
                )
                for i, s in enumerate(starts, 1)
            ],
            close_at_ms=self.bot.now_ms() + close_in * 60_000 if close_in else None,
            creator=ctx.sender,
            rule=rule,
            max_selections=len(starts) if rule == "consensus" else 1,
        )
        await s.save_poll(ctx.tx, rec)
        await ctx.send(
            ctx.room_id,
            polls.start_content(room_t, rec),
            key=polls.poll_key(ident),
            event_type=polls.START_TYPE,
        )
        up = (
            ctx._(
                "Poll {id} is up: vote in it. It closes in {span}, or when its creator or a "
                "coordinator sends {command}."
            )
            if close_in
            else ctx._(
                "Poll {id} is up: vote in it. It stays open until its creator or a "
                "coordinator sends {command}."
            )
        )
        text = up.format(id=ident, span=span(close_in or 0), command=f"!event poll close {ident}")
        text += " " + norm(ctx.t, ctx.group)
        await ctx.reply(f"📊 {text}", data=rec.card())
        self.bot.track(polls.poll_key(ident), "poll", ident)

    async def poll_here(self, ctx: Context, poll_id: str) -> PollRecord:
        """The poll with this ID in the asker's room, or a CommandError."""
        rec = await s.load_poll(ctx.tx, poll_id)
        if rec is None or rec.room != ctx.room_id:
            raise Refusal(N_("there is no poll {id} in this room"), id=poll_id)
        return rec

    @command(
        "event poll close",
        POLL_ID,
        summary=N_("Close a poll now and post the tally (creator or coordinator)."),
        example="!event poll close P3",
    )
    async def poll_close(self, ctx: Context, *, id: str) -> None:
        rec = await self.poll_here(ctx, id)
        self.bot.require_editor(ctx, rec, CLOSE)
        if rec.status == "closed":
            raise Refusal(
                N_("poll {id} is already closed; {command} uses it"),
                id=id,
                command=f"!event poll accept {id}",
            )
        await self._close(ctx, rec)

    async def _close(self, ctx: Context, rec: PollRecord) -> None:
        rec.close()
        await s.save_poll(ctx.tx, rec)
        end = polls.end_content(ctx.room_t, rec)  # the poll's end is the room's
        await ctx.send(ctx.room_id, end, event_type=polls.END_TYPE)
        await ctx.reply(tally_text(ctx.t, rec), html_body=tally_html(ctx.t, rec), data=rec.card())

    @command(
        "event poll accept",
        POLL_ID,
        Arg(
            "slot",
            N_("a slot number instead of the winner"),
            parse=checked("slot", parse_slot_number),
            optional=True,
        ),
        Opt("where", N_("where it takes place"), metavar='"PLACE"'),
        summary=N_("Create the event from a poll's winning (or chosen) slot."),
        example="!event poll accept P3",
    )
    async def poll_accept(
        self, ctx: Context, *, id: str, slot: int | None, where: str | None
    ) -> None:
        rec = await self.poll_here(ctx, id)
        self.bot.require_editor(ctx, rec, ACCEPT)
        if rec.event_created:
            raise Refusal(
                N_("poll {id} already became event {event}"), id=id, event=rec.event_created
            )
        if rec.rule == "coordinator" and ctx.power() < COORDINATOR_LEVEL:
            raise Refusal(
                N_(
                    "in this room a coordinator picks a poll's slot (power level {level}; "
                    "yours is {yours})"
                ),
                level=COORDINATOR_LEVEL,
                yours=ctx.power(),
            )
        if rec.status == "open":
            await self._close(ctx, rec)
        if slot is not None:
            if not 1 <= slot <= len(rec.slots):
                raise Refusal(
                    N_("poll {id} has slots 1 to {last}, not {n}"),
                    id=id,
                    last=len(rec.slots),
                    n=slot,
                )
            chosen = rec.slots[slot - 1]
            if rec.rule == "consensus" and rec.without(chosen.answer):
                raise Refusal(
                    N_(
                        "this room decides by consensus, and {users} did not choose slot {n}; "
                        "only a slot every voter chose can be accepted"
                    ),
                    users=", ".join(rec.without(chosen.answer)),
                    n=slot,
                )
        else:
            if rec.rule == "coordinator":
                raise Refusal(
                    N_("in this room a coordinator picks the slot: {command}"),
                    command=f"!event poll accept {id} 1",
                )
            found = next((s for s in rec.slots if s.answer == rec.winner), None)
            if found is None and rec.votes and rec.rule == "consensus":
                raise Refusal(
                    N_(
                        "poll {id} has no slot every voter chose, so by consensus there is "
                        "nothing to accept; run a new poll with other times"
                    ),
                    id=id,
                )
            if found is None:
                raise Refusal(
                    N_("poll {id} has no winner (nobody voted); pick a slot: {command}"),
                    id=id,
                    command=f"!event poll accept {id} 1",
                )
            chosen = found
        start = datetime.fromisoformat(chosen.start)
        if start <= self.bot.now_dt():
            raise Refusal(N_("slot {slot} has already passed; run a new poll"), slot=chosen.label)
        event = await self.bot.create_event(
            ctx,
            title=rec.title,
            start=start,
            zone=rec.timezone,
            duration=rec.duration,
            where=where or "",
            notes=warnings(ctx.t, ctx.group, start.astimezone(ZoneInfo(rec.timezone)).date()),
        )
        rec.event_created = event.id
        await s.save_poll(ctx.tx, rec)
