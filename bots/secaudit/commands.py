"""Provides ``!audit``: the security audit of a coordinator's groups, answered in the room."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.secaudit.auditlog import append, record_run
from bots.secaudit.render import room_report
from bots.secaudit.runner import audit_from_bot
from messenger.botkit.commands import CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL, Group, slugify
from messenger.i18n import N_

if TYPE_CHECKING:
    from bots.resources.bot import ResourcesBot  # noqa: F401 (named by the Commands base)


class SecurityAuditCommands(Commands["ResourcesBot"]):
    """The security audit, for coordinators."""

    @command(
        "audit",
        Opt("room", N_("another group's name, or 'all' (the groups you coordinate)"),
            metavar="NAME|all"),
        summary=N_("security audit of this room (or the groups you coordinate): settings, "
                   "members, devices, bots"),
        power=COORDINATOR_LEVEL,
    )  # fmt: skip
    async def audit(self, ctx: Context, *, room: str | None) -> None:
        """Audit the groups and answer with the findings (encrypted, in the thread). The
        report is read by everyone in this room: other groups only when asked for."""
        groups = self._groups(ctx, room)
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

    def _groups(self, ctx: Context, room: str | None) -> list[Group]:
        """This room's group, or the named ones; only groups the file makes the sender
        coordinate."""
        mine = [g for g in self.bot.org.groups if ctx.sender in g.coordinators]
        if room is None:
            if ctx.group is None or ctx.group not in mine:
                raise CommandError(
                    N_(
                        "the audit is for this group's coordinators, and the organisation "
                        "file does not name you one"
                    )
                )
            return [ctx.group]
        if room == "all":
            if not mine:
                raise CommandError(N_("the organisation file names you coordinator of no group"))
            return mine
        found = [g for g in self.bot.org.groups if g.slug == slugify(room)]
        if not found:
            names = ", ".join(g.name for g in self.bot.org.groups)
            raise CommandError(
                N_("no group called {name}; groups: {names}, or {all}"),
                name=repr(room), names=names, all="all",
            )  # fmt: skip
        if found[0] not in mine:
            raise CommandError(
                N_("an audit of {group} needs you to coordinate it"), group=found[0].name
            )
        return found
