"""Provides ``ProjectsBot``: projects, milestones, updates, metrics, reports and retrospectives.

Cards are edited in place and coalesced like the events bot's: a change marks the project
dirty in the command's transaction; after each sync batch (and on the timer) one edit per
card goes out, its transaction ID fixed by (project, revision), and the project's record in
the deployment store (``PROJECTS_NS``) is refreshed. Status changes and metric values are
entries in a signed, hash-chained ledger (``bots.resources.book``), kept in this bot's store.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from bots.examples import DatedExamples
from bots.projects import store as s
from bots.projects import timers
from bots.projects.commands_milestones import MilestoneCommands
from bots.projects.commands_projects import ProjectCommands
from bots.projects.commands_reports import ReportCommands
from bots.projects.model import Milestone, Project, resource_totals
from bots.projects.refs import card_key
from bots.projects.render import card_html, card_text
from bots.resources.book import LedgerBook
from bots.resources.model import ms_date as ms_day
from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError
from messenger.botkit.context import Context, edit_content, notice_content, outbox_ref
from messenger.botkit.shared import LIBRARY_INBOX_NS, PROJECT_RESOURCES_NS, PROJECTS_NS, shared_key
from messenger.config import COORDINATOR_LEVEL, OrgFile
from messenger.errors import MessengerError
from messenger.i18n import N_, Translator
from messenger.protocol import Notice
from messenger.session.core import Session
from messenger.store import Tx

MAX_LESSON_CHARS = 4000


class ProjectsBot(Bot):
    """``!project``, ``!milestone``, ``!update``, ``!metric`` and ``!retro``."""

    name = "projects"
    GROUPS = (
        ProjectCommands,
        MilestoneCommands,
        ReportCommands,
    )

    def __init__(self, session: Session, org: OrgFile) -> None:
        super().__init__(session, org)
        self.book = LedgerBook()
        self.next_due: int | None = None
        self.recheck = True
        self.resources_seen = ""
        self.key_ready = False
        self.examples = DatedExamples(self.table)
        self.examples.refresh(self.today_date())

    # -- time -----------------------------------------------------------------------------

    def today(self) -> str:
        """Today (UTC, ISO) by the bot's clock."""
        return ms_day(self.now_ms())

    def today_date(self) -> date:
        """Today as a ``date``."""
        return date.fromisoformat(self.today())

    # -- hooks ----------------------------------------------------------------------------

    async def dispatch(self, ctx: Context) -> None:
        """Fill dated examples for today, then route."""
        self.examples.refresh(self.today_date())
        await super().dispatch(ctx)

    async def after_batch(self, batch: Any) -> None:
        """Send one edit per card changed by the batch."""
        await self.flush_cards()

    async def on_tick(self, now_ms: int) -> None:
        """Make the ledger key once; take in resource totals; remind and flag; edit cards."""
        if not self.key_ready:
            async with self.store.transaction() as tx:
                await self.book.meta(tx)
            self.key_ready = True
        await self.take_resources()
        await timers.run(self, now_ms)
        await self.flush_cards()
        self.session.wake_outbox()

    async def on_message(self, ctx: Context) -> None:
        """An answer in a retrospective's thread becomes a lesson for the library."""
        root = ctx.event.thread_root
        text = ctx.event.body.strip()
        if root is None or not text or ctx.sender in self.org.bot_user_ids().values():
            return
        pid = await s.retro_project(ctx.tx, root)
        p = None if pid is None else await s.load_project(ctx.tx, pid)
        if p is None or p.room != ctx.room_id:
            return
        first = text.splitlines()[0][:80]
        record = {
            "room_id": p.room,
            "title": f"{p.title}: {first}",
            "type": "lesson",
            "tags": lesson_tags(p),
            "lang": self.room_locale(p.room, ctx.group),
            "text": text[:MAX_LESSON_CHARS],
            "author": ctx.sender,
            "source": f"projects:{shared_key(p.room, p.id)}",
        }
        await self.shared_put(ctx.tx, LIBRARY_INBOX_NS, f"{ctx.event.event_id}:lesson", record)
        kept = ctx._("📚 Kept as a lesson of {id} for the library.").format(id=p.id)
        await ctx.reply(kept, data=self.info("retro"))

    # -- shared by the command groups ---------------------------------------------------------

    def info(self, command: str) -> Notice:
        """A plain informational payload."""
        return Notice(kind="info", bot=self.name, command=command)

    async def record(self, ctx: Context, action: str, data: dict[str, Any]) -> None:
        """Append a signed ledger entry for a change, in the command's transaction."""
        await self.book.append(ctx.tx, ctx.sender, action, data, self.now_ms())

    async def project_here(self, ctx: Context, pid: str, *, open_only: bool = False) -> Project:
        """The project with this ID in the asker's room, or a CommandError saying there is none."""
        p = await s.load_project(ctx.tx, pid)
        if p is None or p.room != ctx.room_id:
            raise CommandError(
                N_("there is no project {id} in this room; !project list shows the IDs"), id=pid
            )
        if open_only and p.closed:
            raise CommandError(N_("{id} is closed; it cannot be changed any more"), id=pid)
        return p

    async def milestone_here(self, ctx: Context, mid: str) -> tuple[Project, Milestone]:
        """A milestone of an open project in the asker's room, or a CommandError."""
        pid = await s.milestone_project(ctx.tx, mid)
        p = None if pid is None else await s.load_project(ctx.tx, pid)
        m = None if p is None or p.room != ctx.room_id else p.milestone(mid)
        if p is None or m is None:
            raise CommandError(
                N_("there is no milestone {id} in this room; !project show P1 lists them"), id=mid
            )
        if p.closed:
            raise CommandError(N_("{id} is closed; it cannot be changed any more"), id=p.id)
        return p, m

    def require_editor(self, ctx: Context, p: Project, m: Milestone | None = None) -> None:
        """Only the project's owner (or the milestone's) or a coordinator changes it."""
        owners = {p.owner} | ({m.owner} if m else set())
        if ctx.sender in owners or ctx.power() >= COORDINATOR_LEVEL:
            return
        if m is not None:
            raise CommandError(
                N_(
                    "only {owner} (the milestone's owner), {project_owner} (the project's) or a "
                    "coordinator (power level {level}) can change {id}; your power level here "
                    "is {yours}"
                ),
                owner=m.owner, project_owner=p.owner, id=m.id, level=COORDINATOR_LEVEL,
                yours=ctx.power(),
            )  # fmt: skip
        raise CommandError(
            N_(
                "only {owner} (its owner) or a coordinator (power level {level}) can change "
                "{id}; your power level here is {yours}"
            ),
            owner=p.owner, id=p.id, level=COORDINATOR_LEVEL, yours=ctx.power(),
        )  # fmt: skip

    async def require_member(self, ctx: Context, user: str) -> None:
        """An owner named with ``--owner`` must have joined the room."""
        try:
            joined = (await self.rooms.members(ctx.room_id)).get(user) == "join"
        except MessengerError:
            joined = False
        if not joined:
            raise CommandError(
                N_("{user} is not a member of this room; name someone who is"), user=user
            )

    def card_content(self, t: Translator, p: Project) -> dict[str, Any]:
        """A new card's content (the room's language)."""
        today = self.today()
        return notice_content(card_text(t, p, today), card_html(t, p, today), p.card(today), None)

    # -- the deployment store (records other bots read or drain) -----------------------------

    async def shared_put(self, tx: Tx | None, ns: str, key: str, value: Any) -> None:
        """Write a shared record (in ``tx`` when the shared store is this bot's own)."""
        if self.shared is self.store:
            if tx is not None:
                await tx.put(ns, key, value)
            else:
                await self.store.put(ns, key, value)
        else:
            await self.shared.put(ns, key, value)

    async def shared_items(self, tx: Tx | None, ns: str) -> list[tuple[str, Any]]:
        """Every shared record of a namespace."""
        if self.shared is self.store and tx is not None:
            return await tx.items(ns)
        return await self.shared.items(ns)

    async def take_resources(self) -> None:
        """Fold the resources bot's records of requests tied to projects into the projects'
        granted/spent totals (each changed project's card is edited)."""
        items = await self.shared_items(None, PROJECT_RESOURCES_NS)
        seen = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()
        if seen == self.resources_seen:
            return
        by_project: dict[str, list[dict[str, Any]]] = {}
        for key, rec in items:
            if isinstance(rec, dict) and isinstance(rec.get("project"), str):
                room = key.rsplit("/", 1)[0]
                by_project.setdefault(shared_key(room, rec["project"]), []).append(rec)
        async with self.store.transaction() as tx:
            for p in await s.all_projects(tx):
                totals = resource_totals(by_project.get(shared_key(p.room, p.id), []))
                if totals != p.resources:
                    p.resources = totals
                    await s.save_project(tx, p)
        self.resources_seen = seen

    # -- cards ------------------------------------------------------------------------------

    async def flush_cards(self) -> None:
        """Publish every changed project to ``PROJECTS_NS`` and queue one edit of its card."""
        dirty = await s.dirty_projects(self.store)
        if dirty:
            self.recheck = True
        today = self.today()
        for pid in dirty:
            p = await s.load_project(self.store, pid)
            if p is None:
                continue
            await self.shared_put(None, PROJECTS_NS, shared_key(p.room, p.id), p.shared())
            t = await self.room_translator(p.room)
            async with self.store.transaction() as tx:
                if not await s.take_dirty(tx, pid):
                    continue
                p = await s.load_project(tx, pid)
                if p is None:
                    continue
                content = edit_content(
                    outbox_ref(card_key(p.id)),
                    card_text(t, p, today),
                    card_html(t, p, today),
                    p.card(today),
                )
                await self.queue(tx, p.room, content, cause=f"card:{p.id}:{p.revision}")


def lesson_tags(p: Project) -> list[str]:
    """The tags a project's lessons carry: ``retro``, its ID, its UN goals."""
    return ["retro", p.id.lower(), *(f"sdg{n}" for n in p.sdg)]
