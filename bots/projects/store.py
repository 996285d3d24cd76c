"""Provides the projects bot's load/save functions over the sealed state store.

Store layout (values sealed; keys are identifiers only): ``projects/<P1>``,
``project-milestones/<M3>`` → project ID, ``project-dirty/<P1>`` → {"room"} (its card needs
an edit and its shared record a refresh), ``project-retro/<event ID>`` → project ID (the
thread a retrospective prompt asked in), ``project-meta/counters``, and the signed ledger
(``ledger/<index>``, ``ledger_meta/head``, kept by ``bots.resources.book.LedgerBook``).
"""

from __future__ import annotations

from typing import Any, Literal

from bots.projects.model import Project
from messenger.store import StateStore, Tx

PROJECTS = "projects"
MILESTONES = "project-milestones"
DIRTY = "project-dirty"
RETRO = "project-retro"
META = "project-meta"

Reader = Tx | StateStore


async def load_project(tx: Reader, pid: str) -> Project | None:
    """The stored project, or None."""
    raw = await tx.get(PROJECTS, pid)
    return Project.model_validate(raw) if raw else None


async def save_project(tx: Tx, rec: Project, *, changed: bool = True) -> None:
    """Store a project; ``changed`` bumps its revision and marks its card for an edit."""
    if changed:
        rec.revision += 1
        await tx.put(DIRTY, rec.id, {"room": rec.room})
    await tx.put(PROJECTS, rec.id, rec.model_dump(mode="json"))


async def all_projects(tx: Reader) -> list[Project]:
    """Every stored project, in the order they were made."""
    out = [Project.model_validate(raw) for _k, raw in await tx.items(PROJECTS)]
    return sorted(out, key=lambda p: int(p.id[1:]))


async def next_id(tx: Tx, kind: Literal["P", "M"]) -> str:
    """The next short ID of a kind: P1, P2 … or M1, M2 … (sequential for the bot, like the
    events bot's E-ids; a room only ever sees its own)."""
    counters: dict[str, Any] = await tx.get(META, "counters") or {}
    n = int(counters.get(kind, 0)) + 1
    counters[kind] = n
    await tx.put(META, "counters", counters)
    return f"{kind}{n}"


async def link_milestone(tx: Tx, mid: str, pid: str) -> None:
    """Remember which project a milestone belongs to."""
    await tx.put(MILESTONES, mid, pid)


async def milestone_project(tx: Reader, mid: str) -> str | None:
    """The project a milestone belongs to, if it exists."""
    pid = await tx.get(MILESTONES, mid)
    return None if pid is None else str(pid)


async def dirty_projects(tx: Reader) -> list[str]:
    """IDs of the projects whose card changed since it was last drawn."""
    return [pid for pid, _doc in await tx.items(DIRTY)]


async def take_dirty(tx: Tx, pid: str) -> bool:
    """Clear a project's dirty mark; whether it was set."""
    if await tx.get(DIRTY, pid) is None:
        return False
    await tx.delete(DIRTY, pid)
    return True


async def link_retro(tx: Tx, root: str, pid: str) -> None:
    """Remember that answers in the thread on ``root`` are a project's retrospective."""
    await tx.put(RETRO, root, pid)


async def retro_project(tx: Reader, root: str) -> str | None:
    """The project whose retrospective a thread collects, if any."""
    pid = await tx.get(RETRO, root)
    return None if pid is None else str(pid)
