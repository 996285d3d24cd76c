"""Provides the welcome: one threaded notice per member per room, in the member's language.

It is sent exactly once: the record that a member was welcomed in a room is written in the
same store transaction that queues the notice (and marks the join handled), and the notice's
transaction ID is fixed by room and member. A restart, a second ``org apply``, leaving and
being invited again, or a profile change send nothing more. The bot's initial sync and joins
from before it joined the room never reach here (``Bot.handle_batch`` skips them).
"""

from __future__ import annotations

from bots.onboard import render, store
from bots.onboard.model import Welcomed
from messenger.botkit.bot import Bot
from messenger.botkit.context import Context, notice_content, thread_relation
from messenger.config import Group
from messenger.protocol import Notice

MEMBER = "m.room.member"


def is_new_join(ctx: Context) -> bool:
    """A member's own join (not a profile change of someone already joined)."""
    event = ctx.event
    if event.type != MEMBER or event.state_key != event.sender:
        return False
    if event.content.get("membership") != "join":
        return False
    unsigned = event.raw.get("unsigned")
    prev = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    return not (isinstance(prev, dict) and prev.get("membership") == "join")


def is_member(bot: Bot, group: Group, user_id: str) -> bool:
    """A person of this group: not a bot, not the service account."""
    machines = {bot.org.service_user_id(), *bot.org.bot_user_ids().values()}
    return user_id in group.everyone and user_id not in machines


async def on_member_event(bot: Bot, ctx: Context) -> bool:
    """Welcome a member who joined (once ever per room); True if the event was a membership
    event (handled, or deliberately left alone), so other hooks need not look at it."""
    if ctx.event.type != MEMBER:
        return False
    group, user, room_id = ctx.group, ctx.sender, ctx.room_id
    if group is None or not is_new_join(ctx) or not is_member(bot, group, user):
        return True
    if not (await store.load_room(ctx.tx, room_id)).welcomes:
        return True
    if await store.welcomed(ctx.tx, room_id, user) is not None:
        return True
    await store.mark_welcomed(
        ctx.tx, room_id, user, Welcomed(event_id=ctx.event.event_id, ts=ctx.event.ts)
    )
    bots = sorted(bot.org.bot_user_ids().values())
    lines = render.welcome_lines(ctx.t, bot.org, group, user, bots)  # the member's language
    content = notice_content(
        "\n".join(lines),
        render.lines_html(lines),
        Notice(kind="welcome", bot=bot.name, command="onboard"),
        [user],
    )
    content["m.relates_to"] = thread_relation(ctx.event)
    await bot.queue(ctx.tx, room_id, content, cause=f"welcome:{store.welcome_key(room_id, user)}")
    return True
