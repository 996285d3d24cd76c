"""Provides the scheduling-poll commands: start a native poll, close it, accept its winner."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from bots.events import polls
from bots.events import store as s
from bots.events.model import PollRecord
from bots.events.parse import (
    DateWord,
    Example,
    check_text,
    format_span,
    parse_duration,
    parse_offset,
    parse_poll_id,
    parse_slots,
    parse_zone,
)
from bots.events.render import slot_label, tally_html, tally_text
from bots.examples import quoted
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.protocol.events import PollSlot

if TYPE_CHECKING:
    from bots.events.bot import EventsBot  # noqa: F401 (named by the Commands base)


def slot_example(title: str) -> Example:
    """An ``!event poll`` line with the user's own title and slots from a date and time."""
    return lambda day, at, zone: f"!event poll {quoted(title)} {day}T{at} {day}T16:00 --tz {zone}"


class PollCommands(Commands["EventsBot"]):
    """``!event poll``, ``!event poll close`` and ``!event poll accept``; votes from responses."""

    @command(
        "event poll",
        Arg("title", "what the meeting is, in quotes"),
        Arg("slots", "candidate times: DATE TIME or DATETTIME", parse=parse_slots, rest=True),
        Opt("close-in", "close the poll after this long, e.g. 2d", parse=parse_offset, metavar="D"),
        Opt("tz", "zone of the slots (default: yours, see !tz)", parse=parse_zone, metavar="ZONE"),
        Opt("duration", "length of the meeting, e.g. 1h", parse=parse_duration, metavar="D"),
        summary="Ask the room when to meet with a native poll (Element shows it).",
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
        check_text(title, "title", 200)
        zone = tz or await s.user_zone(ctx.tx, ctx.sender) or "UTC"
        starts = []
        for day, at in slots:
            start, _note = self.bot.local_start(day, at, zone, slot_example(title))
            starts.append(start)
        if len({s.timestamp() for s in starts}) != len(starts):
            raise CommandError("two slots are the same time; give each slot once")
        ident = await s.next_id(ctx.tx, "P")
        rec = PollRecord(
            id=ident,
            room=ctx.room_id,
            title=title.strip(),
            timezone=zone,
            duration=duration or 60,
            slots=[
                PollSlot(answer=f"s{i}", start=s.isoformat(), label=slot_label(s))
                for i, s in enumerate(starts, 1)
            ],
            close_at_ms=self.bot.now_ms() + close_in * 60_000 if close_in else None,
            creator=ctx.sender,
        )
        await s.save_poll(ctx.tx, rec)
        await ctx.send(
            ctx.room_id,
            polls.start_content(rec),
            key=polls.poll_key(ident),
            event_type=polls.START_TYPE,
        )
        closes = f"It closes in {format_span(close_in)}" if close_in else "It stays open"
        await ctx.reply(
            f"📊 Poll {ident} is up: vote in it. {closes}, or when its creator or a coordinator "
            f"sends !event poll close {ident}.",
            data=rec.card(),
        )
        self.bot.track(polls.poll_key(ident), "poll", ident)

    async def poll_here(self, ctx: Context, poll_id: str) -> PollRecord:
        """The poll with this ID in the asker's room, or a CommandError."""
        rec = await s.load_poll(ctx.tx, poll_id)
        if rec is None or rec.room != ctx.room_id:
            raise CommandError(f"there is no poll {poll_id} in this room")
        return rec

    @command(
        "event poll close",
        Arg("id", "the poll's ID, e.g. P3", parse=parse_poll_id),
        summary="Close a poll now and post the tally (creator or coordinator).",
        example="!event poll close P3",
    )
    async def poll_close(self, ctx: Context, *, id: str) -> None:
        rec = await self.poll_here(ctx, id)
        self.bot.require_editor(ctx, rec, "close")
        if rec.status == "closed":
            raise CommandError(f"poll {id} is already closed; !event poll accept {id} uses it")
        await self._close(ctx, rec)

    async def _close(self, ctx: Context, rec: PollRecord) -> None:
        rec.close()
        await s.save_poll(ctx.tx, rec)
        await ctx.send(ctx.room_id, polls.end_content(rec), event_type=polls.END_TYPE)
        await ctx.reply(tally_text(rec), html_body=tally_html(rec), data=rec.card())

    @command(
        "event poll accept",
        Arg("id", "the poll's ID, e.g. P3", parse=parse_poll_id),
        Arg("slot", "a slot number instead of the winner", parse=int, optional=True),
        Opt("where", "where it takes place", metavar='"PLACE"'),
        summary="Create the event from a poll's winning (or chosen) slot.",
        example="!event poll accept P3",
    )
    async def poll_accept(
        self, ctx: Context, *, id: str, slot: int | None, where: str | None
    ) -> None:
        rec = await self.poll_here(ctx, id)
        self.bot.require_editor(ctx, rec, "turn into an event")
        if rec.event_created:
            raise CommandError(f"poll {id} already became event {rec.event_created}")
        if rec.status == "open":
            await self._close(ctx, rec)
        if slot is not None:
            if not 1 <= slot <= len(rec.slots):
                raise CommandError(f"poll {id} has slots 1 to {len(rec.slots)}, not {slot}")
            chosen = rec.slots[slot - 1]
        else:
            found = next((s for s in rec.slots if s.answer == rec.winner), None)
            if found is None:
                raise CommandError(
                    f"poll {id} has no winner (nobody voted); "
                    f"pick a slot: !event poll accept {id} 1"
                )
            chosen = found
        start = datetime.fromisoformat(chosen.start)
        if start <= self.bot.now_dt():
            raise CommandError(f"slot {chosen.label} has already passed; run a new poll")
        event = await self.bot.create_event(
            ctx,
            title=rec.title,
            start=start,
            zone=rec.timezone,
            duration=rec.duration,
            where=where or "",
        )
        rec.event_created = event.id
        await s.save_poll(ctx.tx, rec)
