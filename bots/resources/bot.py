"""Provides ``ResourcesBase``: the resources bot's state (requests, pools), ledger and timers.

Store layout (values sealed; keys are identifiers only):
``req/<R12>``, ``pool/<room:ID:kind:unit | org:kind:unit>``, ``res_meta/counter``,
``thread/<event ID>`` → request ID, ``due/<R12>`` → reminder time, and the ledger
(``ledger/<index>``, ``ledger_meta/head``, see ``book``).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime
from html import escape
from typing import Any

from bots.examples import DatedExamples
from bots.resources.book import LedgerBook
from bots.resources.model import KINDS, Comment, Pool, Request, date_ms, pool_id
from bots.resources.render import card, card_data
from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError
from messenger.botkit.context import Context, notice_content
from messenger.config import OrgFile
from messenger.errors import MessengerError
from messenger.session.core import Session
from messenger.session.rooms import Rooms
from messenger.store import Tx

log = logging.getLogger(__name__)

REQ_NS = "req"
POOL_NS = "pool"
META_NS = "res_meta"
THREAD_NS = "thread"
DUE_NS = "due"
DAY_MS = 86_400_000
REMIND_BEFORE_MS = 3 * DAY_MS  # coordinators hear about an undecided request 3 days before
REMIND_SOON_MS = 3_600_000  # … or an hour after it was made, if that is later
MAX_COMMENT_CHARS = 2000


def card_key(rid: str) -> str:
    """Outbox key of a request's card (edited in place)."""
    return f"card:{rid}"


class LevelsRooms(Rooms):
    """``Rooms`` whose power levels come from ``m.room.power_levels`` as fetched or seen.

    Works around a restored session not knowing room state: nio keeps no room state across
    restarts and an incremental sync does not resend it, so ``Rooms.power_level`` would say 0
    for every coordinator after a restart (see the report to the lead).
    """

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.levels: dict[str, dict[str, Any]] = {}

    async def ensure_levels(self, room_id: str) -> None:
        """Fetch a room's power levels once per process."""
        if room_id not in self.levels:
            try:
                content = await self.get_state(room_id, "m.room.power_levels")
            except MessengerError as e:
                log.warning("cannot read power levels of %s: %s", room_id, e)
                return
            if content is not None:
                self.levels[room_id] = content

    def power_level(self, room_id: str, user_id: str) -> int:
        """The user's level from the latest power-levels content we know."""
        content = self.levels.get(room_id)
        if content is None:
            return super().power_level(room_id, user_id)
        users = content.get("users")
        users = users if isinstance(users, dict) else {}
        try:
            return int(users.get(user_id, content.get("users_default", 0)))
        except (TypeError, ValueError):
            return 0


class ResourcesBase(Bot):
    """State helpers shared by the request, pool, ledger and report commands."""

    name = "resources"

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.rooms: LevelsRooms = LevelsRooms(session)
        self.book = LedgerBook()
        self._key_ready = False
        self.examples = DatedExamples(self.table)
        self.examples.refresh(self.today())

    def today(self) -> date:
        """Today (UTC) by the bot's clock."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC).date()

    async def dispatch(self, ctx: Context) -> None:
        """Fill dated examples for today; keep power levels current (fetched once, then from
        the timeline); then route (the framework drops what is not end-to-end authenticated)."""
        self.examples.refresh(self.today())
        event = ctx.event
        if event.type == "m.room.power_levels" and event.state_key == "":
            self.rooms.levels[event.room_id] = dict(event.content)
        elif ctx.group is not None:
            await self.rooms.ensure_levels(event.room_id)
        await super().dispatch(ctx)

    # -- records --------------------------------------------------------------------------

    async def record(self, ctx: Context, action: str, data: dict[str, Any]) -> None:
        """Append a signed ledger entry for a state change, in the command's transaction."""
        await self.book.append(ctx.tx, ctx.sender, action, data, self.now_ms())

    async def load(self, ctx: Context, rid: str) -> Request:
        """A request of this room, or a CommandError naming the ID."""
        raw = await ctx.tx.get(REQ_NS, rid)
        if raw is None or raw.get("room_id") != ctx.room_id:
            raise CommandError(f"there is no request {rid} in this room; see !request list all")
        return Request.model_validate(raw)

    async def save(self, tx: Tx, req: Request) -> None:
        """Store a request."""
        await tx.put(REQ_NS, req.id, req.model_dump(mode="json"))

    async def requests(self, tx: Tx) -> list[Request]:
        """Every request, in the order they were made."""
        out = [Request.model_validate(v) for _k, v in await tx.items(REQ_NS)]
        out.sort(key=lambda r: int(r.id[1:]))
        return out

    async def pools(self, tx: Tx) -> list[Pool]:
        """Every pool."""
        return [Pool.model_validate(v) for _k, v in await tx.items(POOL_NS)]

    async def get_pool(self, tx: Tx, pid: str) -> Pool | None:
        """One pool by ID."""
        raw = await tx.get(POOL_NS, pid)
        return None if raw is None else Pool.model_validate(raw)

    async def save_pool(self, tx: Tx, pool: Pool) -> None:
        """Store a pool."""
        await tx.put(POOL_NS, pool.id, pool.model_dump(mode="json"))

    async def pool_for(self, tx: Tx, req: Request) -> Pool | None:
        """The pool a request draws on: its room's for that kind and unit, else the org's."""
        return await self.get_pool(
            tx, pool_id(req.kind, req.unit, req.room_id)
        ) or await self.get_pool(tx, pool_id(req.kind, req.unit, None))

    async def default_unit(self, tx: Tx, kind: str, room_id: str) -> str:
        """The unit a request without ``--unit`` is counted in: that of the room's pool of
        its kind, else the organisation's, else the kind's default (SEK for funding).

        Where a scope has pools of that kind in several units, the kind's default wins if it is
        among them (else the first in ``KINDS`` order), so the choice never depends on store order.
        """
        allowed = KINDS[kind]
        for scope in (room_id, None):
            have = {u for u in allowed if await tx.get(POOL_NS, pool_id(kind, u, scope))}
            if have:
                return next(u for u in allowed if u in have)
        return allowed[0]

    async def next_id(self, tx: Tx) -> str:
        """The next request ID (sequential per organisation: R1, R2, …)."""
        n = int(await tx.get(META_NS, "counter") or 0) + 1
        await tx.put(META_NS, "counter", n)
        return f"R{n}"

    async def refresh_card(self, ctx: Context, req: Request) -> None:
        """Edit the request's card in place to show its new status."""
        text, html_body = card(req)
        await ctx.edit(
            req.room_id, card_key(req.id), text, html_body=html_body, data=card_data(req)
        )

    # -- comments in a request's thread ---------------------------------------------------

    async def on_message(self, ctx: Context) -> None:
        """A message in a request's thread is kept with the request (and its hash in the ledger)."""
        root = ctx.event.thread_root
        if root is None or not ctx.event.body.strip():
            return
        rid = await ctx.tx.get(THREAD_NS, root)
        if rid is None:
            return
        raw = await ctx.tx.get(REQ_NS, rid)
        if raw is None:
            return
        req = Request.model_validate(raw)
        text = ctx.event.body.strip()[:MAX_COMMENT_CHARS]
        req.comments.append(Comment(sender=ctx.sender, ts=ctx.event.ts, text=text))
        await self.save(ctx.tx, req)
        digest = hashlib.sha256(text.encode()).hexdigest()
        await self.record(ctx, "request.comment", {"id": rid, "text_sha256": digest})

    async def on_event(self, ctx: Context) -> None:
        """Reactions, redactions and every other non-message event do nothing here.

        Element sends reactions (and redactions) unencrypted even in encrypted rooms, and the
        framework lets them through for RSVPs, so the homeserver could forge them: nothing in
        this bot may grant, spend, record or decide on one. Keep it that way.
        """

    # -- timers ---------------------------------------------------------------------------

    async def on_tick(self, now_ms: int) -> None:
        """Make the ledger key once; remind coordinators of requests due soon and undecided."""
        if not self._key_ready:
            async with self.store.transaction() as tx:
                await self.book.meta(tx)
            self._key_ready = True
        due = await self.store.items(DUE_NS)
        ready = [rid for rid, d in due if int(d["at"]) <= now_ms]
        if not ready:
            return
        async with self.store.transaction() as tx:
            for rid in ready:
                raw = await tx.get(REQ_NS, rid)
                await tx.delete(DUE_NS, rid)
                if raw is None:
                    continue
                req = Request.model_validate(raw)
                if req.status != "open" or req.reminded:
                    continue
                await self._remind(tx, req)
                req.reminded = True
                await self.save(tx, req)
        self.session.wake_outbox()

    async def _remind(self, tx: Tx, req: Request) -> None:
        group = next((g for g in self.org.groups if g.slug == req.group), None)
        coords = [c for c in (group.coordinators if group else []) if c != self.user_id]
        who = ", ".join(coords) or "coordinators"
        who_html = (
            ", ".join(f'<a href="https://matrix.to/#/{escape(c)}">{escape(c)}</a>' for c in coords)
            or "coordinators"
        )
        text = f"⏰ {who}: {req.id} is needed by {req.by} and still waiting for a decision."
        html_body = (
            f"⏰ {who_html}: <b>{req.id}</b> “{escape(req.what)}” is needed by {req.by} "
            "and still waiting for a decision (<code>!request approve "
            f'{req.id}</code> or <code>!request deny {req.id} "reason"</code>).'
        )
        content = notice_content(text, html_body, card_data(req), coords)
        if req.thread_root:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": req.thread_root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": req.thread_root},
            }
        await self.queue(tx, req.room_id, content, cause=f"reminder:{req.id}")

    async def schedule_reminder(self, tx: Tx, req: Request, now_ms: int) -> None:
        """Remember when to remind coordinators of a request with a ``--by`` date."""
        if req.by is None:
            return
        at = max(date_ms(req.by) - REMIND_BEFORE_MS, now_ms + REMIND_SOON_MS)
        await tx.put(DUE_NS, req.id, {"at": at})
