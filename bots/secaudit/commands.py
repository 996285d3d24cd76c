"""Provides ``!audit``: the security audit of the rooms a coordinator coordinates, in the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.secaudit.auditlog import append, record_run
from bots.secaudit.render import room_report
from bots.secaudit.runner import audit_from_bot
from messenger.botkit.commands import CommandError, Commands, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL
from messenger.i18n import N_

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot  # noqa: F401 (named by the Commands base)


class SecurityAuditCommands(Commands["ResourcesBot"]):
    """The security audit, for coordinators."""

    @command(
        "audit",
        summary=N_("security audit of the rooms you coordinate: settings, members, devices, bots"),
        power=COORDINATOR_LEVEL,
    )
    async def audit(self, ctx: Context) -> None:
        """Audit the caller's groups and answer with the findings (encrypted, in the thread)."""
        groups = [g for g in self.bot.org.groups if ctx.sender in g.coordinators]
        if not groups:
            raise CommandError(
                N_(
                    "the audit is for coordinators, and the organisation file names you "
                    "coordinator of no group"
                )
            )
        deployment = self.bot.deployment
        if deployment is None:
            raise CommandError(
                N_(
                    "the audit runs only where the bots run under samverkan up; ask the "
                    "operator to run samverkan audit"
                )
            )
        report = await audit_from_bot(self.bot, deployment, groups)
        text, html_body, data = room_report(ctx.t, report, [g.name for g in groups])
        await ctx.reply(text, html_body=html_body, data=data)
        now = self.bot.now_ms()
        if self.bot.shared is self.bot.store:  # one store: the command's transaction holds it
            await append(ctx.tx, ctx.sender, report, "command", now)
        else:
            await record_run(self.bot.shared, ctx.sender, report, "command", now)
