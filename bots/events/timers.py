"""Provides ``EventsBase``: shared helpers of the events bot, card edits, references and timers.

Card edits are coalesced: a change marks the card dirty in the same transaction, and one
edit per card goes out after each sync batch (and on the timer, after a restart). Each edit's
transaction ID is fixed by (event, revision), so an edit is never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bots.events import model as m
from bots.events import polls
from bots.events.model import EventRecord, PollRecord
from bots.events.parsing import (
    DateWord,
    NonexistentTime,
    format_span,
    parse_offset,
    resolve_local,
)
from bots.events.render import card_html, card_text, reminder_html, reminder_text
from bots.examples import DatedExamples
from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError
from messenger.botkit.context import Context, notice_content, outbox_ref
from messenger.config import COORDINATOR_LEVEL
from messenger.errors import MessengerError
from messenger.events import SyncBatch
from messenger.protocol import Notice
from messenger.protocol.events import EventReminder
from messenger.store import Tx

log = logging.getLogger(__name__)

Example = Callable[[str, str, str], str]  # (date, time, zone) → a command line to copy


def card_key(event_id: str) -> str:
    """The outbox key of an event's card."""
    return f"card:{event_id}"


def check_text(text: str, what: str, limit: int, empty: bool = False) -> None:
    """Refuse an empty (unless allowed) or overlong text with a CommandError."""
    if not text.strip() and not empty:
        raise CommandError(f'the {what} is empty; put it in quotes, e.g. "Board meeting"')
    if len(text) > limit:
        raise CommandError(f"the {what} is too long ({len(text)} characters; at most {limit})")


def edit_content(original: str, text: str, html_body: str, data: Any) -> dict[str, Any]:
    """An ``m.replace`` edit of ``original`` (an event ID or an outbox placeholder)."""
    new = notice_content(text, html_body, data, None)
    content = {
        **notice_content("* " + text, None, None, None),
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }
    return data.attach(content) if data is not None else content


class EventsBase(Bot):
    """Helpers every part of the events bot shares, and its timers."""

    name = "events"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unresolved: dict[str, tuple[str, str]] | None = None  # outbox key → (kind, id)
        self._next_due: int | None = None
        self._reminders_changed = True
        self.examples = DatedExamples(self.table)
        self.examples.refresh(self.now_dt().date())

    async def dispatch(self, ctx: Context) -> None:
        """Fill dated help examples for today (the clock may have moved), then route."""
        self.examples.refresh(self.now_dt().date())
        await super().dispatch(ctx)

    # -- helpers for commands ---------------------------------------------------------------

    def default_reminders(self) -> list[int]:
        """The organisation's default reminder offsets, in minutes."""
        out = []
        for word in self.org.bots.default_reminders:
            try:
                out.append(parse_offset(word))
            except ValueError:
                log.warning("ignoring default reminder %r: not an offset like 24h", word)
        return sorted(set(out), reverse=True)

    async def event_here(self, ctx: Context, event_id: str) -> EventRecord:
        """The event with this ID in the asker's room, or a CommandError saying there is none."""
        rec = await m.load_event(ctx.tx, event_id)
        if rec is None or rec.room != ctx.room_id:
            raise CommandError(
                f"there is no event {event_id} in this room; !event list shows the IDs, "
                f"e.g. !event show E1"
            )
        return rec

    def require_editor(self, ctx: Context, rec: EventRecord | PollRecord, action: str) -> None:
        """Only the creator or a coordinator (power ≥ 50) may change an event or poll."""
        if ctx.sender != rec.creator and ctx.power() < COORDINATOR_LEVEL:
            raise CommandError(
                f"only {rec.id}'s creator ({rec.creator}) or a coordinator (power level "
                f"{COORDINATOR_LEVEL}) can {action} it; your power level here is {ctx.power()}"
            )

    async def zone_of(self, tx: Tx, user: str) -> str | None:
        """The zone a member chose with !tz."""
        return await m.user_zone(tx, user)

    def track(self, key: str, kind: str, ident: str) -> None:
        """Remember a queued card or poll whose event ID is still to be learnt."""
        if self._unresolved is not None:
            self._unresolved[key] = (kind, ident)

    async def schedule_reminders(self, tx: Tx, rec: EventRecord) -> None:
        """(Re)write the pending reminders of an event from its start and offsets.

        Updates ``rec.scheduled``; the caller saves ``rec`` afterwards.
        """
        now = self.now_ms()
        kept = []
        for key in rec.scheduled:
            doc = await tx.get(m.REMINDERS, key)
            if doc is not None and not doc["fired"]:
                await tx.delete(m.REMINDERS, key)
            elif doc is not None:
                kept.append(key)
        rec.scheduled = kept
        self._reminders_changed = True
        if rec.status != "scheduled":
            return
        start = rec.start_ms
        for minutes in rec.reminders:
            at = start - minutes * 60_000
            key = f"{rec.id}:{minutes}:{start}"
            if at <= now or key in kept:
                continue
            await tx.put(
                m.REMINDERS,
                key,
                {"event": rec.id, "room": rec.room, "at": at, "minutes": minutes, "fired": False},
            )
            rec.scheduled.append(key)

    def local_start(
        self, day: DateWord, at: time, zone: str, example: Example
    ) -> tuple[datetime, str | None]:
        """The aware start for a date and wall-clock time in ``zone``: DST-checked, not past.

        ``example(date, time, zone)`` writes the corrected command for the hints (it is given
        the user's own title by the caller, so the hint can be copied as it is).
        """
        now = self.now_dt()
        local_today = now.astimezone(ZoneInfo(zone)).date()
        when = day.resolve(local_today)
        try:
            start, note = resolve_local(when, at, zone)
        except NonexistentTime as e:
            fixed = example(when.isoformat(), f"{e.suggestion:%H:%M}", zone)
            raise CommandError(f"{e} e.g. {fixed}") from None
        if start <= now:
            local_now = now.astimezone(ZoneInfo(zone))
            later = example((local_today + timedelta(days=1)).isoformat(), f"{at:%H:%M}", zone)
            raise CommandError(
                f"{when.isoformat()} {at:%H:%M} in {zone} is in the past (it is now "
                f"{local_now:%Y-%m-%d %H:%M} there); pick a later time, e.g. {later}"
            )
        return start, note

    async def create_event(
        self,
        ctx: Context,
        *,
        title: str,
        start: datetime,
        zone: str,
        duration: int,
        where: str = "",
        description: str = "",
        notes: list[str] | None = None,
    ) -> EventRecord:
        """Store a new event, post its card (a reply to the command) and schedule reminders."""
        check_text(title, "title", 200)
        check_text(where, "place", 300, empty=True)
        check_text(description, "description", 2000, empty=True)
        ident = await m.next_id(ctx.tx, "E")
        rec = EventRecord(
            id=ident,
            room=ctx.room_id,
            title=title.strip(),
            start_utc=start.astimezone(UTC).isoformat(),
            timezone=zone,
            duration=duration,
            where=where.strip(),
            description=description.strip(),
            reminders=self.default_reminders(),
            creator=ctx.sender,
        )
        await self.schedule_reminders(ctx.tx, rec)
        await m.save_event(ctx.tx, rec, changed=False)
        content = notice_content(card_text(rec), card_html(rec), rec.card(), None)
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": ctx.event.event_id}}
        await ctx.send(ctx.room_id, content, key=card_key(ident))
        if notes:
            await ctx.reply(
                "\n".join(notes), data=Notice(kind="info", bot=self.name, command="event create")
            )
        self.track(card_key(ident), "event", ident)
        return rec

    # -- the sync batch: resolve references, then coalesce card edits ------------------------

    async def handle_batch(self, batch: SyncBatch) -> None:
        """Learn card/poll event IDs, handle the batch, then send one edit per changed card."""
        await self.resolve_refs()
        await super().handle_batch(batch)
        await self.flush_cards()
        self.session.wake_outbox()

    async def resolve_refs(self) -> None:
        """Map sent cards and polls to their event IDs (reactions and votes point at those)."""
        if self._unresolved is None:
            self._unresolved = {}
            for ident, raw in await self.store.items(m.EVENTS):
                if not raw.get("card_event"):
                    self._unresolved[card_key(ident)] = ("event", ident)
            for ident, raw in await self.store.items(m.POLLS):
                if not raw.get("poll_event"):
                    self._unresolved[polls.poll_key(ident)] = ("poll", ident)
        for key, (kind, ident) in list(self._unresolved.items()):
            event_id = await self.store.sent_event_id(key)
            if not event_id:
                continue
            async with self.store.transaction() as tx:
                await tx.put(m.REFS, event_id, {"kind": kind, "id": ident})
                if kind == "event":
                    rec = await m.load_event(tx, ident)
                    if rec is not None:
                        rec.card_event = event_id
                        await m.save_event(tx, rec, changed=False)
                else:
                    poll = await m.load_poll(tx, ident)
                    if poll is not None:
                        poll.poll_event = event_id
                        await m.save_poll(tx, poll)
            self._unresolved.pop(key, None)

    def has_unresolved(self) -> bool:
        """Whether a card or poll was queued but its event ID is not known yet."""
        return self._unresolved is None or bool(self._unresolved)

    async def flush_cards(self) -> None:
        """Queue one edit for every card whose event changed since it was last drawn."""
        for ident, _ in await self.store.items(m.DIRTY):
            async with self.store.transaction() as tx:
                if await tx.get(m.DIRTY, ident) is None:
                    continue
                await tx.delete(m.DIRTY, ident)
                rec = await m.load_event(tx, ident)
                if rec is None:
                    continue
                content = edit_content(
                    rec.card_event or outbox_ref(card_key(rec.id)),
                    card_text(rec),
                    card_html(rec),
                    rec.card(),
                )
                await self.queue(tx, rec.room, content, cause=f"card:{rec.id}:{rec.revision}")

    # -- timers -----------------------------------------------------------------------------

    async def on_tick(self, now_ms: int) -> None:
        """Fire due reminders, close due polls, and send card edits left after a restart."""
        await self.resolve_refs()
        await self.fire_reminders(now_ms)
        await self.close_due_polls(now_ms)
        await self.flush_cards()
        self.session.wake_outbox()

    async def fire_reminders(self, now: int) -> None:
        """Post every reminder that is due and not yet posted (each exactly once)."""
        if not self._reminders_changed and (self._next_due is None or now < self._next_due):
            return
        self._reminders_changed = False
        items = await self.store.items(m.REMINDERS)
        pending = [(k, v) for k, v in items if not v["fired"]]
        later = [v["at"] for _, v in pending if v["at"] > now]
        self._next_due = min(later) if later else None
        for key, value in pending:
            if value["at"] <= now:
                await self._fire(key, value, now)

    async def _fire(self, key: str, value: dict[str, Any], now: int) -> None:
        try:
            members = await self.rooms.members(value["room"])
        except MessengerError as e:
            log.warning("reminder %s: cannot read the room's members (%s); retrying", key, e)
            self._reminders_changed = True
            return
        bots = {self.org.service_user_id(), *self.org.bot_user_ids().values()}
        async with self.store.transaction() as tx:
            current = await tx.get(m.REMINDERS, key)
            if current is None or current["fired"]:
                return
            await tx.put(m.REMINDERS, key, {**current, "fired": True})
            rec = await m.load_event(tx, value["event"])
            if rec is None or rec.status != "scheduled" or rec.start_ms <= now:
                return  # cancelled, moved or already started: nothing to remind of
            declined = {u for u, a in rec.rsvps.items() if a.answer == "no"}
            users = sorted(
                u for u, ms in members.items() if ms == "join" and u not in bots | declined
            )
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
                reminder_text(rec, left, users), reminder_html(rec, left, users), data, users
            )
            if rec.card_event:
                content["m.relates_to"] = {
                    "rel_type": "m.thread",
                    "event_id": rec.card_event,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": rec.card_event},
                }
            await self.queue(tx, rec.room, content, cause=f"reminder:{key}")

    async def close_due_polls(self, now: int) -> None:
        """Close polls whose --close-in time has come."""
        for ident, raw in await self.store.items(m.POLLS):
            if raw.get("status") != "open" or not raw.get("close_at_ms"):
                continue
            if raw["close_at_ms"] > now:
                continue
            async with self.store.transaction() as tx:
                rec = await m.load_poll(tx, ident)
                if rec is None or rec.status != "open":
                    continue
                polls.close(rec)
                await m.save_poll(tx, rec)
                await self.queue(
                    tx,
                    rec.room,
                    polls.end_content(rec),
                    cause=f"poll-end:{rec.id}",
                    event_type=polls.END_TYPE,
                )
                await self.queue(
                    tx, rec.room, polls.tally_notice(rec), cause=f"poll-tally:{rec.id}"
                )

    def now_dt(self) -> datetime:
        """The bot's clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)
