"""Provides the bot's notice for messages it cannot read (withheld keys, keys that never came)."""

from __future__ import annotations

import hashlib
import html
import time
from typing import TYPE_CHECKING

from messenger.botkit.context import notice_content
from messenger.events import Incoming
from messenger.i18n import Translator, translator
from messenger.protocol import Notice

if TYPE_CHECKING:
    from messenger.botkit.bot import Bot

NOTICE_NS = "utd-notice"
REPEAT_AFTER_S = 24 * 3600


def undecryptable_text(bot_user_id: str, event: Incoming, why: str, t: Translator) -> str:
    """One clear sentence: whose message, why it is unreadable, what a coordinator can do."""
    advice = (
        t.gettext("a coordinator can verify me with emoji verification")
        if "verified" in why
        else t.gettext("ask them to send it again; if it keeps happening, tell a coordinator")
    )
    return t.gettext("I could not read a message from {sender}: {why} — {advice} ({bot}).").format(
        sender=event.sender, why=t.gettext(why), advice=advice, bot=bot_user_id
    )


async def post_undecryptable_notice(bot: Bot, event: Incoming, why: str) -> None:
    """Queue one notice in the room (at most one per sender and reason a day).

    Wire it with ``session.on_undecryptable = functools.partial(post_undecryptable_notice, bot)``.
    Only organisation rooms and organisation senders get one; nothing for our own events.
    """
    if event.sender == bot.user_id or event.sender not in bot.org_users():
        return
    group = await bot.group_of(event.room_id)
    if group is None:
        return
    key = hashlib.sha256(f"{event.room_id}|{event.sender}|{why}".encode()).hexdigest()
    t = translator(bot.room_locale(event.room_id, group))
    text = undecryptable_text(bot.user_id, event, why, t)
    async with bot.store.transaction() as tx:
        last = await tx.get(NOTICE_NS, key)
        if last and time.time() - float(last.get("at", 0)) < REPEAT_AFTER_S:
            return
        await tx.put(NOTICE_NS, key, {"at": time.time()})
        content = notice_content(
            text,
            html.escape(text),
            Notice(kind="error", bot=bot.name),
            [event.sender],
        )
        await bot.queue(tx, event.room_id, content, cause=f"utd:{event.event_id}")
    bot.session.wake_outbox()
