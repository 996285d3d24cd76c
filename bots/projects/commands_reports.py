"""Provides ``!project report`` (a progress report as an encrypted attachment) and ``!retro``
(a retrospective whose answers become lessons for the library)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bots.projects import store as s
from bots.projects.commands_projects import ID
from bots.projects.model import report_row
from bots.projects.parse import parse_format, parse_project_id
from bots.projects.report import Ledger, report_csv, report_html, summary
from bots.resources.book import stored_entries, verify_stored
from bots.resources.render import fits
from crypto.errors import LedgerError
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context, thread_relation
from messenger.i18n import N_
from messenger.protocol.projects import ProjectReport

if TYPE_CHECKING:
    from bots.projects.bot import ProjectsBot  # noqa: F401 (named by the Commands base)

ROW_STEPS = (25, 12, 6, 3, 1, 0)
MIME = {"html": "text/html", "csv": "text/csv"}
RETRO_PROMPT = N_(
    "🔁 Retrospective of {title} ({id}): what worked, and what did not? Answer in this thread, "
    "one point per message; each answer becomes a lesson in the library."
)


class ReportCommands(Commands["ProjectsBot"]):
    """``!project report`` and ``!retro``."""

    @command(
        "project report",
        Arg("id", N_("the project's ID, e.g. P1 (or --all)"), parse=parse_project_id,
            optional=True),
        Opt("all", N_("every project of this room"), flag=True),
        Opt("format", N_("the attached file: html (default) or csv"), parse=parse_format,
            metavar="html|csv"),
        summary=N_("A progress report (targets against actuals, milestones on time or late, "
                   "resources) as an encrypted attachment."),
        example="!project report P1 --format csv",
    )  # fmt: skip
    async def report(self, ctx: Context, *, id: str | None, all: bool, format: str | None) -> None:
        if (id is None) == (not all):
            raise CommandError(
                N_("name one project or ask for all of this room's: {one} or {every}"),
                one="!project report P1", every="!project report --all",
            )  # fmt: skip
        if id is not None:
            projects = [await self.bot.project_here(ctx, id)]
        else:
            projects = [p for p in await s.all_projects(ctx.tx) if p.room == ctx.room_id]
        if not projects:
            raise CommandError(N_("there are no projects in this room yet"))
        today = self.bot.today()
        rows = [report_row(p, today) for p in projects]
        ledger, entries = await self._ledger(ctx, {p.id for p in projects})
        for shown in ROW_STEPS:
            text, html_body = summary(ctx.t, rows, shown, ledger)
            data = ProjectReport(
                room=ctx.room_id, projects=len(rows), rows=rows[:shown], ledger_head=ledger.head,
                ledger_entries=ledger.count, ledger_key=ledger.key, verified=ledger.verified,
            )  # fmt: skip
            if fits(text, html_body, data):
                break
        await ctx.reply(text, html_body=html_body, data=data)
        fmt = format or "html"
        if fmt == "csv":
            body = report_csv(projects, today, entries, ledger)
        else:
            body = report_html(ctx.t, projects, rows, today, entries, ledger)
        scope = projects[0].id if id is not None else "all"
        name = f"progress-report-{scope}-{today}.{fmt}"
        file_block = await self.bot.session.upload_encrypted(body, MIME[fmt], name)
        await ctx.send(ctx.room_id, file_message(name, MIME[fmt], body, file_block, ctx))

    async def _ledger(self, ctx: Context, ids: set[str]) -> tuple[Ledger, list[dict[str, Any]]]:
        """The ledger's head, key and state, and the entries of these projects of this room."""
        key = await self.bot.book.public_key(ctx.tx)
        head, count = await self.bot.book.head(ctx.tx)
        entries = await stored_entries(ctx.tx)
        try:
            verified = await verify_stored(entries, key) == head
        except LedgerError:
            verified = False
        mine = [
            e
            for e in entries
            if isinstance(e.get("data"), dict)
            and e["data"].get("room") == ctx.room_id
            and e["data"].get("project") in ids
        ]
        return Ledger(head, key.to_base64(), count, verified), mine

    @command(
        "retro",
        ID,
        summary=N_("Hold a retrospective: answers in its thread become lessons in the library."),
        example="!retro P1",
    )
    async def retro(self, ctx: Context, *, id: str) -> None:
        p = await self.bot.project_here(ctx, id)
        self.bot.require_editor(ctx, p)
        await s.link_retro(ctx.tx, ctx.event.thread_root or ctx.event.event_id, p.id)
        text = ctx.room_t.gettext(RETRO_PROMPT).format(title=p.title, id=p.id)
        await ctx.reply(text, data=self.bot.info("retro"))


def file_message(
    name: str, mime: str, body: bytes, file_block: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    """An ``m.file`` message with an encrypted file, in the command's thread."""
    return {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        "file": file_block,
        "info": {"mimetype": mime, "size": len(body)},
        "m.relates_to": thread_relation(ctx.event),
    }
