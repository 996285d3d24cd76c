"""Provides ``LibraryBot``: the organisation's encrypted, multilingual knowledge base.

Entries (K1, K2 …) are sealed in the bot's store; their full-text index lives only in
memory and is rebuilt from the store at start. Who may see an entry is decided on every
search, show and list from the rooms' members as they are now (``access.Memberships``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bots.library import inbox
from bots.library import store as s
from bots.library.access import Memberships
from bots.library.commands_entries import EntryCommands
from bots.library.commands_find import FindCommands
from bots.library.model import Audience, Entry, readable_by_asker, visible
from bots.library.render import card
from bots.library.shelf import Shelf
from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError
from messenger.botkit.context import Context, edit_content, notice_content, outbox_ref
from messenger.botkit.shared import LIBRARY_PUBLIC_NS, shared_key
from messenger.config import COORDINATOR_LEVEL, Group, OrgFile
from messenger.errors import MessengerError
from messenger.events import SyncBatch
from messenger.i18n import N_
from messenger.protocol import Notice
from messenger.session.core import Session
from messenger.store import Tx

log = logging.getLogger(__name__)

MB = 1024 * 1024
NOT_HERE = N_("there is no entry {id} that you can see here; !kb list shows the ones you can")


def card_key(entry_id: str) -> str:
    """The outbox key of an entry's card."""
    return f"card:{entry_id}"


@dataclass
class View:
    """What one asker, answered in one room, may see: decided once per command."""

    audience: Audience
    joined: dict[str, frozenset[str] | None]
    _memo: dict[tuple[str, str, bool, bool], bool] = field(default_factory=dict)

    def shows(self, entry: Entry) -> bool:
        """Whether the answer may carry ``entry`` (decided once per room and scope)."""
        key = (entry.room, entry.scope, entry.removed, True)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = visible(entry, self.audience, self.joined.get(entry.room))
        return found

    def asker_could(self, entry: Entry) -> bool:
        """Whether the asker alone could see ``entry`` (elsewhere)."""
        key = (entry.room, entry.scope, entry.removed, False)
        found = self._memo.get(key)
        if found is None:
            joined = self.joined.get(entry.room)
            found = self._memo[key] = readable_by_asker(entry, self.audience, joined)
        return found


class LibraryBot(Bot):
    """``!kb`` commands over entries kept sealed and indexed in memory."""

    name = "library"
    GROUPS = (EntryCommands, FindCommands)

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.shelf = Shelf()
        self.members = Memberships(self.rooms)
        self.max_file_bytes = org.bots.library_max_file_mb * MB
        self._loading = asyncio.Lock()
        self.rebuild_s: float | None = None
        """How long the last rebuild of the index from the store took."""

    # -- hooks ----------------------------------------------------------------------------

    async def handle_batch(self, batch: SyncBatch) -> None:
        """Keep the rooms' members current before any command of the batch is answered."""
        await self.ensure_loaded()
        self.members.note(batch.events)
        for room_id in batch.left:
            self.members.forget(room_id)
        await super().handle_batch(batch)

    async def after_batch(self, batch: SyncBatch) -> None:
        """The batch is committed: the index takes the entries it changed as stored."""
        await self.shelf.refresh(self.store, settle=True)

    async def on_tick(self, now_ms: int) -> None:
        """Turn what other bots left in the library's inbox into entries."""
        await self.ensure_loaded()
        await inbox.drain(self, now_ms)
        await self.shelf.refresh(self.store, settle=True)
        self.session.wake_outbox()

    async def ensure_loaded(self) -> None:
        """Rebuild the in-memory index from the sealed store once per process."""
        async with self._loading:
            if self.shelf.loaded:
                return
            started = time.perf_counter()
            count = await self.shelf.load(self.store)
            self.rebuild_s = took = time.perf_counter() - started
            log.info("%s: library index rebuilt: %d entries in %.3f s", self.user_id, count, took)

    # -- shared by the command groups -------------------------------------------------------

    def info(self, command: str) -> Notice:
        """A plain informational payload."""
        return Notice(kind="info", bot=self.name, command=command)

    def not_bots(self, users: frozenset[str]) -> frozenset[str]:
        """Members without the organisation's bots and service account."""
        return users - {self.org.service_user_id(), *self.org.bot_user_ids().values(), self.user_id}

    async def view(self, ctx: Context) -> View:
        """What the asker may be shown in this room, from the members of every room now."""
        here = await self.members.joined(ctx.room_id)
        readers = None if here is None else self.not_bots(here) - {ctx.sender}
        audience = Audience(ctx.sender, ctx.room_id, readers, self.org.homeserver.server_name)
        joined = {room: await self.members.joined(room) for room in sorted(self.shelf.rooms)}
        return View(audience, joined)

    async def entry_here(self, ctx: Context, entry_id: str, view: View | None = None) -> Entry:
        """A stored entry the asker may see here (else the same refusal as for none at all)."""
        await self.shelf.refresh(ctx.tx, settle=False)
        entry = await s.load_entry(ctx.tx, entry_id)
        view = view or await self.view(ctx)
        if entry is None or not view.shows(entry):
            raise CommandError(NOT_HERE, id=entry_id)
        return entry

    def may_change(self, ctx: Context, entry: Entry) -> bool:
        """The author, or a coordinator of the entry's room."""
        return ctx.sender == entry.author or self.is_coordinator(entry.room, ctx.sender)

    def is_coordinator(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` has coordinator power in ``room_id``."""
        return self.rooms.power_level(room_id, user_id) >= COORDINATOR_LEVEL

    async def group_or_none(self, room_id: str) -> Group | None:
        """The room's group; None when it is none or cannot be looked up now."""
        try:
            return await self.group_of(room_id)
        except MessengerError:
            return None

    async def room_name(self, room_id: str) -> str:
        """The working group's or partnership's name of a room (its ID if unknown)."""
        group = await self.group_or_none(room_id)
        return group.name if group else room_id

    async def save(self, tx: Tx, entry: Entry) -> None:
        """Store an entry and let the index know."""
        await s.save_entry(tx, entry)
        self.shelf.touch(entry.id)

    async def post_card(self, tx: Tx, entry: Entry, reply_to: str | None, cause: str) -> None:
        """Queue the room's card of a new entry (a reply to what made it, if anything)."""
        text, html_body = card(await self.room_translator(entry.room), entry)
        content = notice_content(text, html_body, entry.card(), None)
        if reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        await self.queue(tx, entry.room, content, cause=cause, key=card_key(entry.id))

    async def edit_card(self, tx: Tx, entry: Entry) -> None:
        """Queue an edit of an entry's card, in the entry's room."""
        text, html_body = card(await self.room_translator(entry.room), entry)
        target = await tx.sent_event_id(card_key(entry.id)) or outbox_ref(card_key(entry.id))
        content = edit_content(target, text, html_body, entry.card())
        await self.queue(tx, entry.room, content, cause=f"card:{entry.id}:{entry.revision}")

    async def publish(self, tx: Tx, entry: Entry) -> None:
        """Write (or withdraw) the entry's title in the public list for the transparency
        report (titles only); kept in the deployment's shared store."""
        key = shared_key(entry.room, entry.id)
        value: dict[str, Any] | None = None
        if entry.public and not entry.removed:
            value = {
                "title": entry.title,
                "type": entry.type,
                "lang": entry.lang,
                "created_ms": entry.created_ms,
            }
        if self.shared is self.store:  # outside a runtime: the same store, the same transaction
            await (
                tx.put(LIBRARY_PUBLIC_NS, key, value)
                if value
                else tx.delete(LIBRARY_PUBLIC_NS, key)
            )
        elif value:
            await self.shared.put(LIBRARY_PUBLIC_NS, key, value)
        else:
            await self.shared.delete(LIBRARY_PUBLIC_NS, key)
