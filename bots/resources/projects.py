"""Provides the tie between requests and the projects bot's projects (``!request … --project
P1``): the check that the project exists, open, in the request's room (``PROJECTS_NS``), and
the record of the request the projects bot totals for its card and report
(``PROJECT_RESOURCES_NS``, written on every status change). See ``messenger.botkit.shared``.
"""

from __future__ import annotations

import re
from typing import Any

from bots.resources.model import Request
from messenger.botkit.commands import CommandError
from messenger.botkit.context import Context
from messenger.botkit.shared import PROJECT_RESOURCES_NS, PROJECTS_NS, shared_key
from messenger.i18n import N_

_PROJECT = re.compile(r"#?[Pp](\d{1,6})")


def parse_project(word: str) -> str:
    """``P1`` (``p1`` and ``#P1`` work too)."""
    m = _PROJECT.fullmatch(word.strip())
    if not m:
        raise ValueError(N_("not a project ID; project IDs look like P1 (see !project list)"))
    return f"P{int(m[1])}"


async def check_project(ctx: Context, pid: str) -> None:
    """Refuse a project that the projects bot does not list, open, in this room."""
    key = shared_key(ctx.room_id, pid)
    bot = ctx.bot
    found = await (ctx.tx if bot.shared is bot.store else bot.shared).get(PROJECTS_NS, key)
    if not isinstance(found, dict):
        raise CommandError(
            N_("there is no project {id} in this room; !project list shows the IDs"), id=pid
        )
    if found.get("closed"):
        raise CommandError(N_("{id} is closed; it takes no more requests"), id=pid)


def project_record(req: Request) -> dict[str, Any]:
    """What the projects bot reads of a request tied to a project (integer hundredths)."""
    granted = (req.granted or 0) if req.status in {"approved", "fulfilled"} else 0
    return {
        "project": req.project,
        "kind": req.kind,
        "unit": req.unit,
        "requested": req.amount or 0,
        "granted": granted,
        "spent": granted if req.status == "fulfilled" else 0,
        "status": req.status,
    }


async def publish(ctx: Context, req: Request) -> None:
    """Write (or update) the request's record for its project, if it has one."""
    if req.project is None:
        return
    key, value = shared_key(req.room_id, req.id), project_record(req)
    bot = ctx.bot
    if bot.shared is bot.store:
        await ctx.tx.put(PROJECT_RESOURCES_NS, key, value)
    else:
        await bot.shared.put(PROJECT_RESOURCES_NS, key, value)
