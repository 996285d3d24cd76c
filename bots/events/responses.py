"""Provides the members' answers that are not commands: RSVP reactions, their redaction, votes.

Reactions and redactions may arrive unencrypted (Element sends them so, and the framework
lets them through), which means the homeserver could forge them: they only ever set or remove
the sender's own RSVP on a scheduled event's card, nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.events import polls
from bots.events import store as s
from bots.events.model import Answer, EventRecord
from bots.events.parse import reaction_answer
from messenger.botkit.context import Context
from messenger.errors import MessengerError

if TYPE_CHECKING:
    from bots.events.bot import EventsBot


async def handle(bot: EventsBot, ctx: Context) -> None:
    """Route a non-command event: a reaction, a redaction or a poll response."""
    ev = ctx.event
    if ev.type == "m.reaction":
        await on_reaction(bot, ctx)
    elif ev.type == "m.room.redaction":
        await on_redaction(ctx)
    elif ev.type in polls.RESPONSE_TYPES:
        await on_poll_response(ctx)


async def card_for(bot: EventsBot, ctx: Context, target: str) -> EventRecord | None:
    """The event whose card ``target`` is, in the event's room, or None."""
    ref = await s.load_ref(ctx.tx, target)
    if ref is None and bot.has_unresolved():
        try:  # the card went out but its event ID is not recorded yet: read it
            card = await bot.session.fetch_event(ctx.room_id, target)
        except MessengerError:
            return None
        data = card.content.get("org.samverkan.event")
        if card.sender == bot.user_id and isinstance(data, dict):
            ref = ("event", str(data.get("id")))
    if ref is None or ref[0] != "event":
        return None
    rec = await s.load_event(ctx.tx, ref[1])
    return rec if rec is not None and rec.room == ctx.room_id else None


async def on_reaction(bot: EventsBot, ctx: Context) -> None:
    """✅ ❌ ❔ on a scheduled event's card: the sender's RSVP."""
    rel = ctx.event.relates_to
    answer = reaction_answer(str(rel.get("key", "")))
    target = rel.get("event_id")
    if rel.get("rel_type") != "m.annotation" or answer is None or not isinstance(target, str):
        return
    rec = await card_for(bot, ctx, target)
    if rec is None or rec.status != "scheduled":
        return
    await s.save_reaction(ctx.tx, ctx.event.event_id, rec.id, ctx.sender, answer)
    rec.rsvps[ctx.sender] = Answer(answer=answer, via=ctx.event.event_id, ts=ctx.event.ts)
    await s.save_event(ctx.tx, rec)


async def on_redaction(ctx: Context) -> None:
    """A removed RSVP reaction: the user's previous reaction counts again, or none."""
    redacts = ctx.event.raw.get("redacts") or ctx.event.content.get("redacts")
    if not isinstance(redacts, str):
        return
    reaction = await s.pop_reaction(ctx.tx, redacts)
    if reaction is None:
        return
    event_id, user = reaction
    rec = await s.load_event(ctx.tx, event_id)
    current = rec.rsvps.get(user) if rec else None
    if rec is None or current is None or current.via != redacts:
        return  # a later reaction or command already replaced this answer
    others = await s.reactions_of(ctx.tx, rec.id, user)
    if others:
        key, answer = others[-1]
        rec.rsvps[user] = Answer(answer=answer, via=key, ts=ctx.event.ts)
    else:
        del rec.rsvps[user]
    await s.save_event(ctx.tx, rec)


async def on_poll_response(ctx: Context) -> None:
    """Count a member's poll response (the latest one per member counts)."""
    parsed = polls.response_answers(ctx.event.type, ctx.event.content)
    if parsed is None:
        return
    target, answers = parsed
    ref = await s.load_ref(ctx.tx, target)
    if ref is None or ref[0] != "poll":
        return
    rec = await s.load_poll(ctx.tx, ref[1])
    if rec is None or rec.room != ctx.room_id:
        return
    if rec.record_vote(ctx.sender, answers, ctx.event.ts):
        await s.save_poll(ctx.tx, rec)
