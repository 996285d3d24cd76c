"""Provides what the events bot does on the clock: reminders scheduled and fired, polls closed.

Each reminder and each poll closing is posted exactly once: its transaction ID is fixed by
what caused it, and the "fired"/"closed" mark commits with the queued message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bots.events import polls
from bots.events import store as s
from bots.events.model import EventRecord
from bots.events.parse import format_span
from bots.events.render import reminder_html, reminder_text, tally_html, tally_text
from messenger.botkit.context import notice_content, thread_relation
from messenger.errors import MessengerError
from messenger.protocol.events import EventReminder
from messenger.store import Tx

if TYPE_CHECKING:
    from bots.events.bot import EventsBot

log = logging.getLogger(__name__)


async def schedule_reminders(tx: Tx, rec: EventRecord, now: int) -> None:
    """(Re)write the pending reminders of an event from its start and offsets.

    Updates ``rec.scheduled``; the caller saves ``rec`` afterwards.
    """
    kept = []
    for key in rec.scheduled:
        doc = await s.load_reminder(tx, key)
        if doc is not None and not doc["fired"]:
            await s.delete_reminder(tx, key)
        elif doc is not None:
            kept.append(key)
    rec.scheduled = kept
    if rec.status != "scheduled":
        return
    start = rec.start_ms
    for minutes in rec.reminders:
        at = start - minutes * 60_000
        key = f"{rec.id}:{minutes}:{start}"
        if at <= now or key in kept:
            continue
        doc = {"event": rec.id, "room": rec.room, "at": at, "minutes": minutes, "fired": False}
        await s.save_reminder(tx, key, doc)
        rec.scheduled.append(key)


async def fire_reminders(bot: EventsBot, now: int) -> None:
    """Post every reminder that is due and not yet posted (each exactly once)."""
    if not bot.reminders_changed and (bot.next_due is None or now < bot.next_due):
        return
    bot.reminders_changed = False
    pending = await s.pending_reminders(bot.store)
    later = [v["at"] for _, v in pending if v["at"] > now]
    bot.next_due = min(later) if later else None
    for key, value in pending:
        if value["at"] <= now:
            await _fire(bot, key, value, now)


async def _fire(bot: EventsBot, key: str, value: dict[str, Any], now: int) -> None:
    try:
        members = await bot.rooms.members(value["room"])
    except MessengerError as e:
        log.warning("reminder %s: cannot read the room's members (%s); retrying", key, e)
        bot.reminders_changed = True
        return
    bots = {bot.org.service_user_id(), *bot.org.bot_user_ids().values()}
    t = await bot.room_translator(value["room"])  # a reminder is the room's: its language
    async with bot.store.transaction() as tx:
        current = await s.load_reminder(tx, key)
        if current is None or current["fired"]:
            return
        await s.save_reminder(tx, key, {**current, "fired": True})
        rec = await s.load_event(tx, value["event"])
        if rec is None or rec.status != "scheduled" or rec.start_ms <= now:
            return  # cancelled, moved or already started: nothing to remind of
        declined = {u for u, a in rec.rsvps.items() if a.answer == "no"}
        users = sorted(u for u, ms in members.items() if ms == "join" and u not in bots | declined)
        left = max(0, round((rec.start_ms - now) / 60_000))
        data = EventReminder(
            id=rec.id,
            room=rec.room,
            title=rec.title,
            start=rec.start.isoformat(),
            offset=format_span(int(value["minutes"])),
            mentioned=users,
        )
        content = notice_content(
            reminder_text(t, rec, left, users), reminder_html(t, rec, left, users), data, users
        )
        if rec.card_event:
            content["m.relates_to"] = thread_relation(rec.card_event)
        await bot.queue(tx, rec.room, content, cause=f"reminder:{key}")


async def close_due_polls(bot: EventsBot, now: int) -> None:
    """Close polls whose --close-in time has come: the poll's end event, then the tally."""
    for due in await s.all_polls(bot.store):
        if due.status != "open" or not due.close_at_ms or due.close_at_ms > now:
            continue
        t = await bot.room_translator(due.room)
        async with bot.store.transaction() as tx:
            rec = await s.load_poll(tx, due.id)
            if rec is None or rec.status != "open":
                continue
            rec.close()
            await s.save_poll(tx, rec)
            await bot.queue(
                tx,
                rec.room,
                polls.end_content(t, rec),
                cause=f"poll-end:{rec.id}",
                event_type=polls.END_TYPE,
            )
            content = notice_content(tally_text(t, rec), tally_html(t, rec), rec.card(), None)
            if rec.poll_event:
                content["m.relates_to"] = thread_relation(rec.poll_event)
            await bot.queue(tx, rec.room, content, cause=f"poll-tally:{rec.id}")
