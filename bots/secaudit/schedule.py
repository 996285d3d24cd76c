"""Provides ``AuditSchedule``: ``[security] audit_every`` posts the whole audit to the
coordinators' room (``audit_room``) once per period, across restarts.

A period is ``now // every``; the last period posted is kept in the hosting bot's store in
the same transaction that queues the post, and the post's transaction ID is fixed by the
period, so a crash or a restart never posts a period twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bots.secaudit.auditlog import record_run
from bots.secaudit.render import room_report
from bots.secaudit.runner import audit_from_bot
from messenger.botkit.context import notice_content
from messenger.config import slugify
from messenger.errors import MessengerError
from messenger.i18n import translator

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot

log = logging.getLogger(__name__)

STATE_NS = "secaudit"
STATE_KEY = "schedule"
RETRY_MS = 60_000


class AuditSchedule:
    """Runs on the hosting bot's tick."""

    def __init__(self, bot: ResourcesBot) -> None:
        self.bot = bot
        self._posted: int | None = None  # the last period posted (read once from the store)
        self._retry_at = 0

    async def tick(self, now_ms: int) -> None:
        """Post this period's audit unless it was posted already; a failure never stops the
        hosting bot's other timers (it is logged and retried a minute later)."""
        if now_ms < self._retry_at:
            return
        try:
            await self._tick(now_ms)
        except Exception:
            log.exception("scheduled audit failed (retried in a minute)")
            self._retry_at = now_ms + RETRY_MS

    async def _tick(self, now_ms: int) -> None:
        sec = self.bot.org.security
        every = sec.every_ms
        deployment = self.bot.deployment
        if every is None or sec.audit_room is None or deployment is None:
            return
        period = now_ms // every
        if self._posted is None:
            kept = await self.bot.store.get(STATE_NS, STATE_KEY)
            self._posted = int(kept["period"]) if kept else -1
        if self._posted >= period:
            return
        group = next(g for g in self.bot.org.groups if g.slug == slugify(sec.audit_room))
        try:
            report = await audit_from_bot(self.bot, deployment, None)
        except MessengerError as e:
            log.warning("scheduled audit failed (retried in a minute): %s", e)
            self._retry_at = now_ms + RETRY_MS
            return
        room_id = report.rooms.get(group.slug)
        if room_id is None:
            log.warning("scheduled audit: the room of %r does not exist yet", group.name)
            self._retry_at = now_ms + RETRY_MS
            return
        t = translator(self.bot.room_locale(room_id, group))
        names = [g.name for g in self.bot.org.groups]
        text, html_body, data = room_report(t, report, names, trigger="schedule")
        async with self.bot.store.transaction() as tx:
            await self.bot.queue(
                tx,
                room_id,
                notice_content(text, html_body, data, None),
                cause=f"audit:{every}:{period}",
            )
            await tx.put(STATE_NS, STATE_KEY, {"period": period, "at": now_ms})
        self._posted = period
        self.bot.session.wake_outbox()
        try:
            await record_run(self.bot.shared, self.bot.user_id, report, "schedule", now_ms)
        except MessengerError as e:
            log.warning("scheduled audit: could not append to the audit log: %s", e)
