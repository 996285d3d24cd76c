"""Provides load/save functions for the resources bot's records over a store transaction.

Store layout (values sealed; keys are identifiers only):
``req/<R12>``, ``pool/<room:ID:kind:unit | org:kind:unit>``, ``res_meta/counter``,
``thread/<event ID>`` → request ID, ``due/<R12>`` → reminder time, and the ledger
(``ledger/<index>``, ``ledger_meta/head``, see ``book``).
"""

from __future__ import annotations

from bots.resources.model import KINDS, Pool, Request, pool_id
from messenger.store import StateStore, Tx

REQ_NS = "req"
POOL_NS = "pool"
META_NS = "res_meta"
THREAD_NS = "thread"
DUE_NS = "due"
ROOMS_NS = "rooms"  # the bot framework's room markers (room ID → {"slug": …})


async def load_request(tx: Tx, rid: str) -> Request | None:
    """One request by ID."""
    raw = await tx.get(REQ_NS, rid)
    return None if raw is None else Request.model_validate(raw)


async def save_request(tx: Tx, req: Request) -> None:
    """Store a request."""
    await tx.put(REQ_NS, req.id, req.model_dump(mode="json"))


async def all_requests(tx: Tx) -> list[Request]:
    """Every request, in the order they were made."""
    out = [Request.model_validate(v) for _k, v in await tx.items(REQ_NS)]
    out.sort(key=lambda r: int(r.id[1:]))
    return out


async def next_request_id(tx: Tx) -> str:
    """The next request ID (sequential per organisation: R1, R2, …)."""
    n = int(await tx.get(META_NS, "counter") or 0) + 1
    await tx.put(META_NS, "counter", n)
    return f"R{n}"


async def all_pools(tx: Tx) -> list[Pool]:
    """Every pool."""
    return [Pool.model_validate(v) for _k, v in await tx.items(POOL_NS)]


async def load_pool(tx: Tx, pid: str) -> Pool | None:
    """One pool by ID."""
    raw = await tx.get(POOL_NS, pid)
    return None if raw is None else Pool.model_validate(raw)


async def save_pool(tx: Tx, pool: Pool) -> None:
    """Store a pool."""
    await tx.put(POOL_NS, pool.id, pool.model_dump(mode="json"))


async def pool_for(tx: Tx, req: Request) -> Pool | None:
    """The pool a request draws on: its room's for that kind and unit, else the org's."""
    return await load_pool(tx, pool_id(req.kind, req.unit, req.room_id)) or await load_pool(
        tx, pool_id(req.kind, req.unit, None)
    )


async def default_unit(tx: Tx, kind: str, room_id: str) -> str:
    """The unit a request without ``--unit`` is counted in: that of the room's pool of
    its kind, else the organisation's, else the kind's default (SEK for funding).

    Where a scope has pools of that kind in several units, the kind's default wins if it is
    among them (else the first in ``KINDS`` order), so the choice never depends on store order.
    """
    allowed = KINDS[kind]
    for scope in (room_id, None):
        have = {u for u in allowed if await tx.get(POOL_NS, pool_id(kind, u, scope))}
        if have:
            return next(u for u in allowed if u in have)
    return allowed[0]


async def link_thread(tx: Tx, root: str, rid: str) -> None:
    """Remember that the thread on ``root`` discusses request ``rid``."""
    await tx.put(THREAD_NS, root, rid)


async def thread_request(tx: Tx, root: str) -> str | None:
    """The request a thread discusses, if any."""
    rid = await tx.get(THREAD_NS, root)
    return None if rid is None else str(rid)


async def schedule_reminder(tx: Tx, req: Request, now_ms: int) -> None:
    """Remember when to remind coordinators of a request with a ``--by`` date."""
    at = req.reminder_at(now_ms)
    if at is not None:
        await tx.put(DUE_NS, req.id, {"at": at})


async def due_reminders(store: StateStore, now_ms: int) -> list[str]:
    """IDs of requests whose reminder time has come (read outside a transaction)."""
    return [rid for rid, d in await store.items(DUE_NS) if int(d["at"]) <= now_ms]


async def clear_reminder(tx: Tx, rid: str) -> None:
    """Forget a request's reminder time."""
    await tx.delete(DUE_NS, rid)


async def marked_rooms(tx: Tx, slugs: set[str]) -> set[str]:
    """Rooms whose provisioning marker names one of these groups."""
    return {
        room_id
        for room_id, marker in await tx.items(ROOMS_NS)
        if isinstance(marker, dict) and marker.get("slug") in slugs
    }
