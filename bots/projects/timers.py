"""Provides what the projects bot does on the clock: missed-update reminders and overdue flags.

Each is posted exactly once: its transaction ID is fixed by what caused it (the project and
the deadline; the milestone and its due date), and the mark that it was sent (the project's
``reminded_for``, the milestone's ``flagged``) commits with the queued message — a restart
neither loses nor repeats one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.projects import store as s
from bots.projects.refs import on_card
from bots.projects.render import overdue, reminder
from bots.resources.model import ms_date as ms_day
from messenger.botkit.context import notice_content

if TYPE_CHECKING:
    from bots.projects.bot import ProjectsBot


async def run(bot: ProjectsBot, now: int) -> None:
    """Remind owners of missed updates and flag overdue milestones that are due."""
    if not bot.recheck and (bot.next_due is None or now < bot.next_due):
        return
    bot.recheck = False
    today = ms_day(now)
    later: list[int] = []
    for p in await s.all_projects(bot.store):
        if p.latest_deadline(now) is not None:
            await remind(bot, p.id, p.room, now)
            bot.recheck = True
        if p.overdue_unflagged(today):
            await flag(bot, p.id, p.room, today)
            bot.recheck = True
        nxt = p.next_timer(today)
        if nxt is not None:
            later.append(nxt)
    bot.next_due = min(later) if later else None


async def remind(bot: ProjectsBot, pid: str, room: str, now: int) -> None:
    """Remind the owner (mentioned, in the card's thread) of a missed update, once."""
    t = await bot.room_translator(room)  # the room's: in its language
    async with bot.store.transaction() as tx:
        p = await s.load_project(tx, pid)
        deadline = None if p is None else p.latest_deadline(now)
        if p is None or deadline is None:
            return
        p.reminded_for = deadline
        await s.save_project(tx, p, changed=False)
        text, html = reminder(t, p)
        content = notice_content(text, html, bot.info("reminder"), [p.owner])
        content["m.relates_to"] = on_card(p.id)
        await bot.queue(tx, p.room, content, cause=f"remind:{p.id}:{deadline}")


async def flag(bot: ProjectsBot, pid: str, room: str, today: str) -> None:
    """Flag each overdue milestone to its owner (mentioned, in the card's thread), once."""
    t = await bot.room_translator(room)
    async with bot.store.transaction() as tx:
        p = await s.load_project(tx, pid)
        if p is None:
            return
        for m in p.overdue_unflagged(today):
            m.flagged = m.due
            text, html = overdue(t, p, m)
            content = notice_content(text, html, bot.info("overdue"), [m.owner])
            content["m.relates_to"] = on_card(p.id)
            await bot.queue(tx, p.room, content, cause=f"overdue:{m.id}:{m.due}")
        await s.save_project(tx, p)
