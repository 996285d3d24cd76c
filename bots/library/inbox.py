"""Provides the drain of ``LIBRARY_INBOX_NS``: what other bots hand the library (a project's
retrospective answers) becomes entries, each with a card in its room.

The inbox lives in the deployment's shared store, the entries in the bot's own: an item is
stored as an entry and marked drained in one transaction of the bot's store, then deleted
from the inbox; a crash between the two finds the mark and only deletes the item. When both
stores are one (a bot outside the runtime), all of it is one transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from bots.library import parse
from bots.library import store as s
from bots.library.model import Entry
from messenger.botkit.shared import LIBRARY_INBOX_NS
from messenger.errors import MessengerError, RateLimited, TransientError
from messenger.ids import is_user_id
from messenger.protocol.library import EntryType
from messenger.store import Tx

if TYPE_CHECKING:
    from bots.library.bot import LibraryBot

log = logging.getLogger(__name__)

BATCH = 50  # items per tick


class InboxItem(BaseModel):
    """One item as another bot wrote it (see ``messenger.botkit.shared``)."""

    room_id: str = Field(min_length=2)
    title: str = Field(min_length=1)
    type: EntryType = "lesson"
    tags: list[str] = Field(default_factory=list)
    lang: str | None = None
    text: str = Field(min_length=1, max_length=parse.MAX_TEXT)
    author: str
    source: str = "inbox"


def _entry(item: InboxItem, entry_id: str, now_ms: int) -> Entry:
    try:
        tags = parse.tags(",".join(item.tags)) if item.tags else []
    except ValueError:
        tags = []
    try:
        lang = parse.language(item.lang) if item.lang else None
    except ValueError:
        lang = None
    return Entry(
        id=entry_id,
        room=item.room_id,
        title=" ".join(item.title.split())[: parse.MAX_TITLE],
        type=item.type,
        tags=tags,
        lang=lang,
        text=item.text.strip(),
        author=item.author if is_user_id(item.author) else "",
        created_ms=now_ms,
        updated_ms=now_ms,
        origin=item.source[:200],
    )


async def _take(bot: LibraryBot, tx: Tx, key: str, raw: Any, now_ms: int) -> None:
    """Store one inbox item as an entry (once), or drop it if it is malformed."""
    if await s.drained(tx, key):
        return
    try:
        item = InboxItem.model_validate(raw)
    except ValidationError as e:
        log.warning("%s: dropping a malformed library inbox item %s: %s", bot.user_id, key, e)
        await s.mark_drained(tx, key, "")
        return
    if await bot.group_of(item.room_id) is None:
        log.warning(
            "%s: dropping inbox item %s: %s is no organisation room", bot.user_id, key, item.room_id
        )
        await s.mark_drained(tx, key, "")
        return
    entry = _entry(item, await s.next_id(tx), now_ms)
    await bot.save(tx, entry)
    await s.mark_drained(tx, key, entry.id)
    await bot.post_card(tx, entry, None, cause=f"inbox:{key}")


async def drain(bot: LibraryBot, now_ms: int) -> int:
    """Move up to ``BATCH`` inbox items into the library; how many were taken."""
    try:
        items = (await bot.shared.items(LIBRARY_INBOX_NS))[:BATCH]
    except MessengerError as e:
        log.warning("%s: library inbox not read: %s", bot.user_id, e)
        return 0
    for key, raw in items:
        try:
            async with bot.store.transaction() as tx:
                await _take(bot, tx, key, raw, now_ms)
                if bot.shared is bot.store:
                    await tx.delete(LIBRARY_INBOX_NS, key)
        except (TransientError, RateLimited) as e:
            log.warning("%s: library inbox drain paused (retried next tick): %s", bot.user_id, e)
            return 0
        except Exception:  # one bad item must not block the ones after it, tick after tick
            log.exception("%s: library inbox item %s could not be taken; dropped", bot.user_id, key)
            async with bot.store.transaction() as tx:
                await s.mark_drained(tx, key, "")
                if bot.shared is bot.store:
                    await tx.delete(LIBRARY_INBOX_NS, key)
        if bot.shared is not bot.store:
            await bot.shared.delete(LIBRARY_INBOX_NS, key)
    return len(items)
