"""Provides the skills directory: ``!skills``, ``!skills add``, ``!skills remove`` and
``!who PATTERN`` (members with matching skills, among those who share a room with the asker now).

Skills are kept sealed in the hosting bot's store; ``!who`` asks the homeserver who is joined
to which organisation room at the moment it is asked, so someone who left is not found.
"""

from __future__ import annotations

from bots.onboard import parse, render, store
from bots.onboard.commands_onboard import OnboardGroup
from messenger.botkit.commands import Arg, CommandError, command
from messenger.botkit.context import Context
from messenger.config import Group
from messenger.errors import MessengerError
from messenger.i18n import N_

SKILLS_ARG = Arg(
    "skills", N_('one or more skills, each in quotes, e.g. "lokaldemokrati"'), parse=parse.skills
)


class SkillCommands(OnboardGroup):
    """``!skills``, ``!skills add``, ``!skills remove``, ``!who``."""

    @command(
        "skills",
        summary=N_("The skills you listed (others find you by them with !who)."),
        example="!skills",
    )
    async def show(self, ctx: Context) -> None:
        mine = await store.load_skills(ctx.tx, ctx.sender)
        await ctx.reply(render.skills_text(ctx.t, mine.skills), data=self.info())

    @command(
        "skills add",
        SKILLS_ARG,
        summary=N_("List what you know, so members who share a room with you can find you."),
        example='!skills add "lokaldemokrati" "kampanjplanering"',
        raw=True,
    )
    async def add(self, ctx: Context, *, skills: list[str]) -> None:
        mine = await store.load_skills(ctx.tx, ctx.sender)
        try:
            added = mine.add(skills)
        except ValueError:
            raise CommandError(
                N_("you can list at most {most} skills; remove some first: {example}"),
                most=parse.MAX_SKILLS,
                example=f'!skills remove "{mine.skills[0]}"',
            ) from None
        await store.save_skills(ctx.tx, ctx.sender, mine)
        text = (
            ctx._("Added: {added}.").format(added=", ".join(added))
            if added
            else ctx._("You had listed all of them already.")
        )
        await ctx.reply(f"{text} {render.skills_text(ctx.t, mine.skills)}", data=self.info())

    @command(
        "skills remove",
        SKILLS_ARG,
        summary=N_("Remove skills from your list."),
        example='!skills remove "kampanjplanering"',
        raw=True,
    )
    async def remove(self, ctx: Context, *, skills: list[str]) -> None:
        mine = await store.load_skills(ctx.tx, ctx.sender)
        gone = mine.remove(skills)
        if not gone:
            raise CommandError(
                N_("you have not listed {skills}; yours: {yours}"),
                skills=", ".join(skills),
                yours=", ".join(mine.skills) or "-",
            )
        await store.save_skills(ctx.tx, ctx.sender, mine)
        text = ctx._("Removed: {removed}.").format(removed=", ".join(gone))
        await ctx.reply(f"{text} {render.skills_text(ctx.t, mine.skills)}", data=self.info())

    async def shared_rooms(self, user_id: str) -> dict[str, list[Group]]:
        """Everyone joined to an organisation room ``user_id`` is joined to now → those rooms'
        groups (asked of the homeserver, not a cache: whoever left is gone)."""
        out: dict[str, list[Group]] = {}
        for room_id in await self.bot.rooms.joined_rooms():
            group = await self.bot.group_of(room_id)
            if group is None:
                continue
            try:
                members = await self.bot.rooms.members(room_id)
            except MessengerError:
                continue  # a room the bot cannot read now: nobody is found through it
            joined = {u for u, m in members.items() if m == "join"}
            if user_id not in joined:
                continue
            for other in joined:
                out.setdefault(other, []).append(group)
        return out

    def languages(self, user_id: str, groups: list[Group]) -> list[str]:
        """A member's languages: their reply language, then their shared rooms' languages."""
        chosen = self.bot.prefs.member(user_id, "locale")
        langs = [chosen] if isinstance(chosen, str) else []
        for group in groups:
            langs += self.bot.org.group_languages(group)
        return list(dict.fromkeys(langs))

    @command(
        "who",
        Arg("pattern", N_("a skill, or its start with *, e.g. lokal*"), parse=parse.pattern),
        summary=N_("Who knows something: members with a matching skill who share a room with you."),
        example="!who lokal*",
    )
    async def who(self, ctx: Context, *, pattern: str) -> None:
        shared = await self.shared_rooms(ctx.sender)
        found: dict[str, tuple[list[str], list[str]]] = {}
        for user, skills in (await store.all_skills(ctx.tx)).items():
            matched = skills.matching(pattern)
            if user == ctx.sender or user not in shared or not matched:
                continue
            found[user] = (matched, self.languages(user, shared[user]))
        await self.reply(ctx, render.who_lines(ctx.t, pattern, found))
