"""Provides ``!onboard`` (your checklist), ``!onboard on|off`` and ``!onboard status``
(coordinators): the welcome's switch per room and who has not finished."""

from __future__ import annotations

from bots.onboard import render, store
from bots.onboard.checks import checklist
from bots.onboard.model import Checklist
from bots.onboard.welcome import is_member
from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError, Commands, command
from messenger.botkit.context import Context
from messenger.config import COORDINATOR_LEVEL, Group
from messenger.i18n import N_
from messenger.protocol import Notice


def group_here(ctx: Context) -> Group:
    """The organisation group of the asker's room (commands run only in those)."""
    if ctx.group is None:
        raise CommandError(N_("this room is not one of the organisation's rooms"))
    return ctx.group


class OnboardGroup(Commands[Bot]):
    """What the onboarding groups share (no commands of its own)."""

    def info(self) -> Notice:
        """The structured copy of an onboarding answer."""
        return Notice(kind="info", bot=self.bot.name, command="onboard")

    async def reply(self, ctx: Context, lines: list[str]) -> None:
        """Answer with lines of text (and the same as HTML paragraphs)."""
        await ctx.reply("\n".join(lines), html_body=render.lines_html(lines), data=self.info())


class OnboardCommands(OnboardGroup):
    """``!onboard``, ``!onboard on``, ``!onboard off``, ``!onboard status``."""

    @command(
        "onboard",
        summary=N_("Your checklist in this room: what you have done and what is left."),
        example="!onboard",
    )
    async def show(self, ctx: Context) -> None:
        group = group_here(ctx)
        checks, values = await checklist(self.bot, ctx.tx, ctx.sender)
        await self.reply(ctx, render.checklist_lines(ctx.t, group, checks, values))

    async def switch(self, ctx: Context, on: bool) -> None:
        """Turn the room's welcomes on or off."""
        room = await store.load_room(ctx.tx, ctx.room_id)
        room.welcomes, room.by = on, ctx.sender
        await store.save_room(ctx.tx, ctx.room_id, room)
        text = (
            ctx._("New members of this room get a welcome again.")
            if on
            else ctx._("New members of this room get no welcome now; !onboard on turns it back on.")
        )
        await ctx.reply(text, data=self.info())

    @command(
        "onboard off",
        summary=N_("Stop welcoming new members in this room (coordinators)."),
        example="!onboard off",
        power=COORDINATOR_LEVEL,
    )
    async def off(self, ctx: Context) -> None:
        await self.switch(ctx, False)

    @command(
        "onboard on",
        summary=N_("Welcome new members in this room again (coordinators)."),
        example="!onboard on",
        power=COORDINATOR_LEVEL,
    )
    async def on(self, ctx: Context) -> None:
        await self.switch(ctx, True)

    @command(
        "onboard status",
        summary=N_("Who in this room has not finished the checklist (coordinators)."),
        example="!onboard status",
        power=COORDINATOR_LEVEL,
    )
    async def status(self, ctx: Context) -> None:
        group = group_here(ctx)
        joined = [u for u, m in (await self.bot.rooms.members(ctx.room_id)).items() if m == "join"]
        unfinished: dict[str, Checklist] = {}
        for user in sorted(joined):
            if not is_member(self.bot, group, user):
                continue
            checks, _values = await checklist(self.bot, ctx.tx, user)
            if not checks.finished:
                unfinished[user] = checks
        await self.reply(ctx, render.status_lines(ctx.t, group, unfinished))
