"""Provides ``EventsBot``: event and poll commands composed into one bot, its hooks and timers.

Card edits are coalesced: a change marks the card dirty in the same transaction, and one
edit per card goes out after each sync batch (and on the timer, after a restart). Each edit's
transaction ID is fixed by (event, revision), so an edit is never sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import bots.onboard as onboard
from bots.events import polls, responses, timers
from bots.events import store as s
from bots.events.commands_events import EventCommands
from bots.events.commands_polls import PollCommands
from bots.events.lang import Message, Refusal
from bots.events.model import EventRecord, PollRecord
from bots.events.parse import (
    DESCRIPTION,
    PLACE,
    TITLE,
    DateWord,
    Example,
    NonexistentTime,
    check_text,
    parse_offset,
    parse_zone,
    resolve_local,
)
from bots.events.render import card_html, card_text
from bots.examples import DatedExamples
from messenger.botkit.bot import Bot
from messenger.botkit.context import Context, edit_content, notice_content, outbox_ref
from messenger.config import COORDINATOR_LEVEL, OrgFile
from messenger.events import SyncBatch
from messenger.i18n import N_
from messenger.protocol import Notice
from messenger.session.core import Session
from messenger.store import Tx

log = logging.getLogger(__name__)


def card_key(event_id: str) -> str:
    """The outbox key of an event's card."""
    return f"card:{event_id}"


class EventsBot(Bot):
    """Events with cards edited in place, RSVPs, reminders, .ics files and scheduling polls."""

    name = "events"
    GROUPS = (
        EventCommands,
        PollCommands,
        *onboard.GROUPS,  # welcomes, skills, holidays: hosted here, no account of their own
    )

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.unresolved: dict[str, tuple[s.Kind, str]] | None = None  # outbox key → (kind, id)
        self.next_due: int | None = None
        self.reminders_changed = True
        self.examples = DatedExamples(self.table)
        self.examples.refresh(self.now_dt().date())

    # -- hooks ----------------------------------------------------------------------------

    async def dispatch(self, ctx: Context) -> None:
        """Fill dated help examples for today (the clock may have moved), then route."""
        self.examples.refresh(self.now_dt().date())
        await super().dispatch(ctx)

    async def handle_batch(self, batch: SyncBatch) -> None:
        """Learn card/poll event IDs first: reactions and votes in the batch point at them."""
        await self.resolve_refs()
        await super().handle_batch(batch)

    async def after_batch(self, batch: SyncBatch) -> None:
        """Send one edit per card changed by the batch."""
        await self.flush_cards()

    async def on_event(self, ctx: Context) -> None:
        """Welcomes on members' joins; RSVP reactions on cards, their removal, poll responses."""
        if await onboard.on_member_event(self, ctx):
            return
        await responses.handle(self, ctx)

    async def on_tick(self, now_ms: int) -> None:
        """Fire due reminders, close due polls, and send card edits left after a restart."""
        await self.resolve_refs()
        await timers.fire_reminders(self, now_ms)
        await timers.close_due_polls(self, now_ms)
        await self.flush_cards()
        self.session.wake_outbox()

    # -- shared by the command groups ---------------------------------------------------------

    def now_dt(self) -> datetime:
        """The bot's clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)

    def info(self, command: str) -> Notice:
        """A plain informational payload."""
        return Notice(kind="info", bot=self.name, command=command)

    def default_reminders(self) -> list[int]:
        """The organisation's default reminder offsets, in minutes."""
        out = []
        for word in self.org.bots.default_reminders:
            try:
                out.append(parse_offset(word))
            except ValueError:
                log.warning("ignoring default reminder %r: not an offset like 24h", word)
        return sorted(set(out), reverse=True)

    def require_editor(self, ctx: Context, rec: EventRecord | PollRecord, action: str) -> None:
        """Only the creator or a coordinator (power ≥ 50) may change an event or poll.

        ``action`` is a whole catalogue message (``N_("only {id}'s creator … can cancel it
        …")``) with the fields ``id``, ``creator``, ``level`` and ``yours``."""
        if ctx.sender != rec.creator and ctx.power() < COORDINATOR_LEVEL:
            raise Refusal(
                action, id=rec.id, creator=rec.creator, level=COORDINATOR_LEVEL, yours=ctx.power()
            )

    async def zone_of(self, tx: s.Reader, user: str) -> str | None:
        """The zone a member chose with ``!tz`` (shared by every bot of the runtime), else the
        one this bot stored before the choice was shared, else None."""
        chosen = self.prefs.member(user, "tz")
        if isinstance(chosen, str):
            try:
                return parse_zone(chosen)
            except ValueError:
                log.warning("ignoring the stored timezone %r of %s: not an IANA zone", chosen, user)
        return await s.user_zone(tx, user)

    def local_start(
        self, day: DateWord, at: time, zone: str, example: Example
    ) -> tuple[datetime, Message | None]:
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
            raise Refusal(N_("{reason} e.g. {example}"), reason=e, example=fixed) from None
        if start <= now:
            local_now = now.astimezone(ZoneInfo(zone))
            later = example((local_today + timedelta(days=1)).isoformat(), f"{at:%H:%M}", zone)
            raise Refusal(
                N_(
                    "{day} {time} in {zone} is in the past (it is now {now} there); "
                    "pick a later time, e.g. {example}"
                ),
                day=when.isoformat(),
                time=f"{at:%H:%M}",
                zone=zone,
                now=f"{local_now:%Y-%m-%d %H:%M}",
                example=later,
            )
        return start, note

    async def schedule_reminders(self, tx: Tx, rec: EventRecord) -> None:
        """(Re)write the pending reminders of an event; the caller saves ``rec`` afterwards."""
        await timers.schedule_reminders(tx, rec, self.now_ms())
        self.reminders_changed = True

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
        notes: Sequence[Message | str] = (),
    ) -> EventRecord:
        """Store a new event, post its card (a reply to the command) and schedule reminders."""
        check_text(title, TITLE, 200)
        check_text(where, PLACE, 300, empty=True)
        check_text(description, DESCRIPTION, 2000, empty=True)
        ident = await s.next_id(ctx.tx, "E")
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
        await s.save_event(ctx.tx, rec, changed=False)
        t = ctx.room_t  # the card is the room's: in its language, whoever created it
        content = notice_content(card_text(t, rec), card_html(t, rec), rec.card(), None)
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": ctx.event.event_id}}
        await ctx.send(ctx.room_id, content, key=card_key(ident))
        if notes:
            text = "\n".join(n if isinstance(n, str) else n.render(ctx.t) for n in notes)
            await ctx.reply(text, data=self.info("event create"))
        self.track(card_key(ident), "event", ident)
        return rec

    # -- cards and polls: their event IDs, and coalesced card edits ------------------------

    def track(self, key: str, kind: s.Kind, ident: str) -> None:
        """Remember a queued card or poll whose event ID is still to be learnt."""
        if self.unresolved is not None:
            self.unresolved[key] = (kind, ident)

    def has_unresolved(self) -> bool:
        """Whether a card or poll was queued but its event ID is not known yet."""
        return self.unresolved is None or bool(self.unresolved)

    async def resolve_refs(self) -> None:
        """Map sent cards and polls to their event IDs (reactions and votes point at those)."""
        if self.unresolved is None:
            self.unresolved = {}
            for event in await s.all_events(self.store):
                if not event.card_event:
                    self.unresolved[card_key(event.id)] = ("event", event.id)
            for started in await s.all_polls(self.store):
                if not started.poll_event:
                    self.unresolved[polls.poll_key(started.id)] = ("poll", started.id)
        for key, (kind, ident) in list(self.unresolved.items()):
            event_id = await self.store.sent_event_id(key)
            if not event_id:
                continue
            async with self.store.transaction() as tx:
                await s.save_ref(tx, event_id, kind, ident)
                if kind == "event":
                    rec = await s.load_event(tx, ident)
                    if rec is not None:
                        rec.card_event = event_id
                        await s.save_event(tx, rec, changed=False)
                else:
                    poll = await s.load_poll(tx, ident)
                    if poll is not None:
                        poll.poll_event = event_id
                        await s.save_poll(tx, poll)
            self.unresolved.pop(key, None)

    async def flush_cards(self) -> None:
        """Queue one edit for every card whose event changed since it was last drawn."""
        for ident, room in await s.dirty_events(self.store):
            t = await self.room_translator(room)  # the card is the room's: its language
            async with self.store.transaction() as tx:
                if not await s.take_dirty(tx, ident):
                    continue
                rec = await s.load_event(tx, ident)
                if rec is None:
                    continue
                content = edit_content(
                    rec.card_event or outbox_ref(card_key(rec.id)),
                    card_text(t, rec),
                    card_html(t, rec),
                    rec.card(),
                )
                await self.queue(tx, rec.room, content, cause=f"card:{rec.id}:{rec.revision}")
