"""Provides the project commands: create, list, show, close, ``!update`` and ``!metric``.

Every handler validates before it writes; a ``CommandError`` undoes everything it wrote
(project, ledger entry, queued replies), so bad input leaves state unchanged.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bots.examples import quoted
from bots.projects import store as s
from bots.projects.model import Metric, MetricPoint, Project, Remind, Update
from bots.projects.parse import (
    parse_date,
    parse_metric_name,
    parse_number,
    parse_project_id,
    parse_remind,
    parse_sdg,
    parse_status,
    parse_target,
    parse_user,
)
from bots.projects.refs import card_key, on_card
from bots.projects.render import card_html, card_text, list_line, metric_line, update_notice
from messenger.botkit.commands import Arg, CommandError, Commands, Opt, command
from messenger.botkit.context import Context, notice_content
from messenger.botkit.shared import PROJECTS_NS, shared_key
from messenger.i18n import N_
from messenger.protocol.projects import ProjectStatus

if TYPE_CHECKING:
    from bots.projects.bot import ProjectsBot  # noqa: F401 (named by the Commands base)

ID = Arg("id", N_("the project's ID, e.g. P1"), parse=parse_project_id)
MAX_TITLE = 200
MAX_TEXT = 2000
MAX_METRICS = 20
MAX_YEARS = 20


def check_text(text: str, limit: int) -> str:
    """Stripped text of 1 to ``limit`` characters, or a CommandError."""
    text = text.strip()
    if not text or len(text) > limit:
        raise CommandError(N_("write it in 1 to {most} characters, in quotes"), most=limit)
    return text


def text_hash(text: str) -> str:
    """SHA-256 of a text, for the ledger (the text itself stays in the room)."""
    return hashlib.sha256(text.encode()).hexdigest()


class ProjectCommands(Commands["ProjectsBot"]):
    """``!project create|list|show|close``, ``!update`` and ``!metric add|set``."""

    @command(
        "project create",
        Arg("title", N_("what the project is called, in quotes")),
        Opt("until", N_("the day it ends (YYYY-MM-DD); required"), parse=parse_date,
            metavar="DATE"),
        Opt("goal", N_("what it wants to achieve"), metavar='"GOAL"'),
        Opt("sdg", N_("UN sustainable development goals, e.g. 5 or 5,10"), parse=parse_sdg,
            metavar="N"),
        Opt("owner", N_("who answers for it (default: you)"), parse=parse_user, metavar="@USER"),
        Opt("remind", N_("how often I ask the owner for an update (default weekly)"),
            parse=parse_remind, metavar="weekly|monthly|never"),
        summary=N_("Start a project; its card shows status, milestones, metrics and timeline."),
        example='!project create "Women in local politics" --until {date+200} --sdg 5',
    )  # fmt: skip
    async def create(
        self,
        ctx: Context,
        *,
        title: str,
        until: str | None,
        goal: str | None,
        sdg: list[int] | None,
        owner: str | None,
        remind: Remind | None,
    ) -> None:
        title = check_text(title, MAX_TITLE)
        today = self.bot.today()
        if until is None:
            raise CommandError(
                N_("say when it ends with --until YYYY-MM-DD, e.g. {example}"),
                example=f"!project create {quoted(title)} --until {later(today, 180)}",
            )
        check_until(until, today)
        if owner is not None and owner != ctx.sender:
            await self.bot.require_member(ctx, owner)
        pid = await s.next_id(ctx.tx, "P")
        p = Project(
            id=pid,
            room=ctx.room_id,
            title=title,
            goal=check_text(goal, MAX_TEXT) if goal is not None else "",
            sdg=sdg or [],
            owner=owner or ctx.sender,
            creator=ctx.sender,
            created_ms=self.bot.now_ms(),
            until=until,
            remind=remind or "weekly",
        )
        await s.save_project(ctx.tx, p)  # dirty: the card and shared record follow each change
        await self.bot.shared_put(ctx.tx, PROJECTS_NS, shared_key(p.room, pid), p.shared())
        await self.bot.record(
            ctx, "project.create",
            {"project": pid, "room": p.room, "title": p.title, "owner": p.owner,
             "until": until, "sdg": p.sdg, "remind": p.remind},
        )  # fmt: skip
        content = self.bot.card_content(ctx.room_t, p)  # the room's card, edited in place
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": ctx.event.event_id}}
        await ctx.send(ctx.room_id, content, key=card_key(pid))

    @command(
        "project list",
        summary=N_("The projects of this room."),
        example="!project list",
    )
    async def list_projects(self, ctx: Context) -> None:
        mine = [p for p in await s.all_projects(ctx.tx) if p.room == ctx.room_id]
        if not mine:
            text = ctx._("No projects in this room yet. Start one: {example}").format(
                example=f'!project create "…" --until {later(self.bot.today(), 180)}'
            )
            await ctx.reply(text, data=self.bot.info("project list"))
            return
        today = self.bot.today()
        head = ctx.t.ngettext("{n} project in this room:", "{n} projects in this room:", len(mine))
        lines = [head.format(n=len(mine))] + [list_line(ctx.t, p, today) for p in mine[-50:]]
        await ctx.reply("\n".join(lines), data=self.bot.info("project list"))

    @command(
        "project show",
        ID,
        summary=N_("A project's whole timeline: milestones, metrics, latest updates."),
        example="!project show P1",
    )
    async def show(self, ctx: Context, *, id: str) -> None:
        p = await self.bot.project_here(ctx, id)
        today = self.bot.today()
        await ctx.reply(
            card_text(ctx.t, p, today, full=True),
            html_body=card_html(ctx.t, p, today, full=True),
            data=p.card(today),
        )

    @command(
        "project close",
        ID,
        summary=N_("Close a project (its owner or a coordinator); then hold a retrospective."),
        example="!project close P1",
    )
    async def close(self, ctx: Context, *, id: str) -> None:
        p = await self.bot.project_here(ctx, id, open_only=True)
        self.bot.require_editor(ctx, p)
        p.status = "closed"
        await s.save_project(ctx.tx, p)
        await self.bot.record(ctx, "project.close", {"project": id, "room": p.room})
        text = "🏁 " + ctx._("{title} ({id}) is closed. What did you learn? {example}").format(
            title=p.title, id=id, example=f"!retro {id}"
        )
        await ctx.reply(text, data=p.card(self.bot.today()))

    @command(
        "update",
        ID,
        Arg("status", N_("on-track, at-risk or off-track"), parse=parse_status),
        Arg("text", N_("what happened, in quotes"), rest=True),
        Opt("remind", N_("how often I ask for the next update"), parse=parse_remind,
            metavar="weekly|monthly|never"),
        summary=N_("Post a status update; it goes in the card's thread and the card changes."),
        example='!update P1 at-risk "The venue cancelled; looking for another"',
    )  # fmt: skip
    async def update(
        self, ctx: Context, *, id: str, status: ProjectStatus, text: str, remind: Remind | None
    ) -> None:
        p = await self.bot.project_here(ctx, id, open_only=True)
        self.bot.require_editor(ctx, p)
        u = Update(
            status=status, text=check_text(text, MAX_TEXT), by=ctx.sender, ts=self.bot.now_ms()
        )
        before = p.status
        p.add_update(u)
        if remind is not None:
            p.remind = remind
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "project.update",
            {"project": id, "room": p.room, "status": status, "before": before,
             "text_sha256": text_hash(u.text), "remind": p.remind},
        )  # fmt: skip
        t = ctx.room_t  # the thread is the card's: the room's language
        content = notice_content(update_notice(t, p, u), None, p.card(self.bot.today()), None)
        content["m.relates_to"] = on_card(p.id)
        await ctx.send(ctx.room_id, content)
        await ctx.reply(
            "✅ " + ctx._("Update posted in the thread of {id}'s card.").format(id=id),
            data=self.bot.info("update"),
        )

    @command(
        "metric add",
        ID,
        Arg("name", N_("one word, e.g. participants"), parse=parse_metric_name),
        Opt("target", N_("the number to reach; required"), parse=parse_target, metavar="N"),
        Opt("unit", N_("what it counts, e.g. people"), metavar="UNIT"),
        summary=N_("Add a shared measure with a target to a project."),
        example="!metric add P1 participants --target 40 --unit people",
    )
    async def metric_add(
        self, ctx: Context, *, id: str, name: str, target: str | None, unit: str | None
    ) -> None:
        p = await self.bot.project_here(ctx, id, open_only=True)
        self.bot.require_editor(ctx, p)
        if target is None:
            raise CommandError(
                N_("give the number to reach with --target, e.g. {example}"),
                example=f"!metric add {id} {name} --target 40",
            )
        if p.metric(name) is not None:
            raise CommandError(
                N_("{id} already measures {name}; set it with {example}"),
                id=id, name=name, example=f"!metric set {id} {name} 12",
            )  # fmt: skip
        if len(p.metrics) >= MAX_METRICS:
            raise CommandError(N_("a project has at most {most} metrics"), most=MAX_METRICS)
        unit_text = check_text(unit, 20) if unit is not None else ""
        p.metrics.append(Metric(name=name, unit=unit_text, target=target))
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "metric.add",
            {"project": id, "room": p.room, "name": name, "target": target, "unit": unit_text},
        )  # fmt: skip
        text = "📏 " + ctx._("{id} now measures {metric}.").format(
            id=id, metric=metric_line(ctx.t, p.metrics[-1])
        )
        await ctx.reply(text, data=p.card(self.bot.today()))

    @command(
        "metric set",
        ID,
        Arg("name", N_("the metric's name"), parse=parse_metric_name),
        Arg("value", N_("its value now"), parse=parse_number),
        summary=N_("Record a metric's current value (its history is kept)."),
        example="!metric set P1 participants 27",
    )
    async def metric_set(self, ctx: Context, *, id: str, name: str, value: str) -> None:
        p = await self.bot.project_here(ctx, id, open_only=True)
        self.bot.require_editor(ctx, p)
        m = p.metric(name)
        if m is None:
            known = ", ".join(x.name for x in p.metrics) or "—"
            raise CommandError(
                N_("{id} has no metric {name} (it has: {known}); add it with {example}"),
                id=id, name=name, known=known,
                example=f"!metric add {id} {name} --target 40",
            )  # fmt: skip
        m.history.append(MetricPoint(value=value, ts=self.bot.now_ms(), by=ctx.sender))
        await s.save_project(ctx.tx, p)
        await self.bot.record(
            ctx, "metric.set",
            {"project": id, "room": p.room, "name": m.name, "value": value, "target": m.target},
        )  # fmt: skip
        text = "📈 " + ctx._("{id}: {metric}").format(id=id, metric=metric_line(ctx.t, m))
        await ctx.reply(text, data=p.card(self.bot.today()))


def later(today: str, days: int) -> str:
    """The ISO date ``days`` after ``today``."""
    return (date.fromisoformat(today) + timedelta(days=days)).isoformat()


def check_until(until: str, today: str) -> None:
    """An end date from today on, within twenty years."""
    if until < today:
        raise CommandError(
            N_("{date} is in the past; give a day from {today} on"), date=until, today=today
        )
    if date.fromisoformat(until) > date.fromisoformat(today) + timedelta(days=365 * MAX_YEARS):
        raise CommandError(
            N_("{date} is more than {years} years away"), date=until, years=MAX_YEARS
        )
