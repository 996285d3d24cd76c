"""Provides ``ResourcesBot``: resource requests, pools, a signed transparency ledger, reports.

The bot composes two command groups (``commands_requests``, ``commands_audit``) and owns what
they share: the ledger book, the clock's today, and the hooks — comments in a request's
thread, reminders of undecided requests, the ledger key made on the first tick.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from bots.examples import DatedExamples
from bots.resources import store
from bots.resources.book import LedgerBook
from bots.resources.commands_audit import AuditCommands
from bots.resources.commands_requests import RequestCommands
from bots.resources.model import Comment, Request
from bots.resources.render import card_data, reminder
from bots.secaudit.commands import SecurityAuditCommands
from bots.secaudit.schedule import AuditSchedule
from messenger.botkit.bot import Bot
from messenger.botkit.context import Context, notice_content, thread_relation
from messenger.config import OrgFile
from messenger.deploy.deployment import Deployment
from messenger.i18n import translator
from messenger.session.core import Session
from messenger.store import Tx

MAX_COMMENT_CHARS = 2000


class ResourcesBot(Bot):
    """The resources bot: ``!request``, ``!pool``, ``!ledger verify`` and ``!report``."""

    name = "resources"
    GROUPS = (
        RequestCommands,
        AuditCommands,
        SecurityAuditCommands,
    )

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.book = LedgerBook()
        self._key_ready = False
        self.examples = DatedExamples(self.table)
        self.examples.refresh(self.today())
        self.deployment: Deployment | None = None
        """Set by the runtime: the security audit (``!audit``, the schedule) needs it."""
        self.audit_schedule = AuditSchedule(self)

    def today(self) -> date:
        """Today (UTC) by the bot's clock."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC).date()

    async def dispatch(self, ctx: Context) -> None:
        """Fill dated examples for today, then route (the framework drops what is not
        end-to-end authenticated)."""
        self.examples.refresh(self.today())
        await super().dispatch(ctx)

    async def record(self, ctx: Context, action: str, data: dict[str, Any]) -> None:
        """Append a signed ledger entry for a state change, in the command's transaction."""
        await self.book.append(ctx.tx, ctx.sender, action, data, self.now_ms())

    # -- comments in a request's thread ---------------------------------------------------

    async def on_message(self, ctx: Context) -> None:
        """A message in a request's thread is kept with the request (and its hash in the ledger)."""
        root = ctx.event.thread_root
        if root is None or not ctx.event.body.strip():
            return
        rid = await store.thread_request(ctx.tx, root)
        req = None if rid is None else await store.load_request(ctx.tx, rid)
        if req is None:
            return
        text = ctx.event.body.strip()[:MAX_COMMENT_CHARS]
        req.comments.append(Comment(sender=ctx.sender, ts=ctx.event.ts, text=text))
        await store.save_request(ctx.tx, req)
        digest = hashlib.sha256(text.encode()).hexdigest()
        await self.record(ctx, "request.comment", {"id": req.id, "text_sha256": digest})

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
        await self.audit_schedule.tick(now_ms)
        ready = await store.due_reminders(self.store, now_ms)
        if not ready:
            return
        async with self.store.transaction() as tx:
            for rid in ready:
                req = await store.load_request(tx, rid)
                await store.clear_reminder(tx, rid)
                if req is None or req.status != "open" or req.reminded:
                    continue
                await self._remind(tx, req)
                req.reminded = True
                await store.save_request(tx, req)
        self.session.wake_outbox()

    async def _remind(self, tx: Tx, req: Request) -> None:
        """Queue the reminder in the request's thread, mentioning its group's coordinators."""
        group = next((g for g in self.org.groups if g.slug == req.group), None)
        coords = [c for c in (group.coordinators if group else []) if c != self.user_id]
        room_t = translator(self.room_locale(req.room_id, group))  # the room's, like its card
        text, html_body = reminder(room_t, req, coords)
        content = notice_content(text, html_body, card_data(req), coords)
        if req.thread_root:
            content["m.relates_to"] = thread_relation(req.thread_root)
        await self.queue(tx, req.room_id, content, cause=f"reminder:{req.id}")
