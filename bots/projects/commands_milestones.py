"""Provides the milestone commands: add, done and move (the owner or a coordinator)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.projects import store as s
from bots.projects.commands_projects import ID, MAX_TITLE, check_text
from bots.projects.model import Milestone
from bots.projects.parse import parse_date, parse_milestone_id, parse_user
from bots.projects.render import milestone_line
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context
from messenger.i18n import N_

if TYPE_CHECKING:
    from bots.projects.bot import ProjectsBot  # noqa: F401 (named by the Commands base)

MID = Arg("id", N_("the milestone's ID, e.g. M3"), parse=parse_milestone_id)
DATE = Arg("date", N_("the day it is due, YYYY-MM-DD"), parse=parse_date)
MAX_MILESTONES = 100


class MilestoneCommands(Commands["ProjectsBot"]):
    """``!milestone add|done|move``."""

    @command(
        "milestone add",
        ID,
        Arg("title", N_("what is to be reached, in quotes")),
        DATE,
        Opt("owner", N_("who answers for it (default: the project's owner)"), parse=parse_user,
            metavar="@USER"),
        summary=N_("Add a dated milestone to a project (its owner or a coordinator)."),
        example='!milestone add P1 "Training in Skopje" {date+90}',
    )  # fmt: skip
    async def add(self, ctx: Context, *, id: str, title: str, date: str, owner: str | None) -> None:
        p = await self.bot.project_here(ctx, id, open_only=True)
        self.bot.require_editor(ctx, p)
        title = check_text(title, MAX_TITLE)
        if date < self.bot.today():
            raise CommandError(
                N_("{date} is in the past; give a day from {today} on"),
                date=date, today=self.bot.today(),
            )  # fmt: skip
        if len(p.milestones) >= MAX_MILESTONES:
            raise CommandError(N_("a project has at most {most} milestones"), most=MAX_MILESTONES)
        if owner is not None and owner not in {ctx.sender, p.owner}:
            await self.bot.require_member(ctx, owner)
        mid = await s.next_id(ctx.tx, "M")
        m = Milestone(id=mid, title=title, due=date, owner=owner or p.owner)
        p.milestones.append(m)
        await s.link_milestone(ctx.tx, mid, p.id)
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "milestone.add",
            {"project": p.id, "room": p.room, "milestone": mid, "title": title, "due": date,
             "owner": m.owner},
        )  # fmt: skip
        text = "📌 " + ctx._("{id}: milestone added: {milestone}").format(
            id=p.id, milestone=milestone_line(ctx.t, m, self.bot.today())
        )
        await ctx.reply(text, data=p.card(self.bot.today()))

    @command(
        "milestone done",
        MID,
        summary=N_("Mark a milestone reached (its owner, the project's owner or a coordinator)."),
        example="!milestone done M3",
    )
    async def done(self, ctx: Context, *, id: str) -> None:
        p, m = await self.bot.milestone_here(ctx, id)
        self.bot.require_editor(ctx, p, m)
        if m.done_on is not None:
            raise CommandError(N_("{id} was already marked done on {date}"), id=id, date=m.done_on)
        today = self.bot.today()
        m.done_on, m.done_by = today, ctx.sender
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "milestone.done",
            {"project": p.id, "room": p.room, "milestone": id, "due": m.due, "done_on": today},
        )  # fmt: skip
        text = ctx._("{id}: {milestone}").format(id=p.id, milestone=milestone_line(ctx.t, m, today))
        await ctx.reply(text, data=p.card(today))

    @command(
        "milestone move",
        MID,
        DATE,
        summary=N_(
            "Give a milestone a new date (its owner, the project's owner or a coordinator)."
        ),
        example="!milestone move M3 {date+120}",
    )
    async def move(self, ctx: Context, *, id: str, date: str) -> None:
        p, m = await self.bot.milestone_here(ctx, id)
        self.bot.require_editor(ctx, p, m)
        today = self.bot.today()
        if m.done_on is not None:
            raise CommandError(N_("{id} was already marked done on {date}"), id=id, date=m.done_on)
        if date < today:
            raise CommandError(
                N_("{date} is in the past; give a day from {today} on"), date=date, today=today
            )
        before, m.due = m.due, date
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "milestone.move",
            {"project": p.id, "room": p.room, "milestone": id, "from": before, "to": date},
        )  # fmt: skip
        text = "🗓 " + ctx._("{id}: milestone moved: {milestone}").format(
            id=p.id, milestone=milestone_line(ctx.t, m, today)
        )
        await ctx.reply(text, data=p.card(today))
