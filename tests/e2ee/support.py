"""Helpers for the tests in this folder (the fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from messenger.deploy.homeserver import EmbeddedSynapse
from messenger.events import Incoming, SyncBatch
from messenger.session.core import Session
from tests.proxy import FaultProxy
from tests.support import WAIT_S, Member, OrgEnv


class Proxied:
    """The test Synapse as seen through a proxy (a Deployment then connects via ``url``)."""

    def __init__(self, real: EmbeddedSynapse, url: str) -> None:
        self.real = real
        self.url = url

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Client:
    """Our Session for one account, syncing in the background and keeping what it saw."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events: list[Incoming] = []
        self.batches: list[SyncBatch] = []
        self.auto_join = True
        self._task: asyncio.Task[None] | None = None
        self._new = asyncio.Event()

    async def handle(self, batch: SyncBatch) -> None:
        self.batches.append(batch)
        self.events.extend(batch.events)
        if self.auto_join:
            for inv in batch.invites:
                await self.session.client.join(inv.room_id)
        self._new.set()

    def start(self) -> Client:
        self._task = asyncio.create_task(self.session.run(self.handle))
        return self

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def close(self) -> None:
        await self.stop()
        await self.session.close()

    def event(self, event_id: str) -> Incoming | None:
        found = [e for e in self.events if e.event_id == event_id]
        return found[-1] if found else None

    async def wait_for(self, pred: Callable[[], bool], timeout: float = WAIT_S) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not pred():
            if loop.time() > deadline:
                raise TimeoutError("condition not met in time")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), 0.5)

    async def wait_readable(self, event_id: str, timeout: float = WAIT_S) -> Incoming:
        def ok() -> bool:
            ev = self.event(event_id)
            return ev is not None and ev.decrypt_error is None

        await self.wait_for(ok, timeout)
        found = self.event(event_id)
        assert found is not None
        return found


ClientFactory = Callable[..., Awaitable[Client]]


async def bots_room(
    org_env: OrgEnv,
    member_factory: Any,
    *,
    proxy: FaultProxy | None = None,
    members: int = 1,
    coordinators: int = 0,
    extra: str = "",
) -> tuple[Any, str, list[Member], Any]:
    """``org_env.room_with_bots`` with the events bot, optionally connected through ``proxy``."""
    from messenger.config import slugify

    people = [await org_env.make_user("coord") for _ in range(coordinators)]
    people += [await org_env.make_user("member") for _ in range(members)]
    coords = ", ".join(f'"{u}"' for u, _ in people[:coordinators])
    mems = ", ".join(f'"{u}"' for u, _ in people[coordinators:])
    settings = org_env.write_org(
        f"""
        [[working_group]]
        name = "Nordic policy"
        coordinators = [{coords}]
        members = [{mems}]
        {extra}
        """,
        enabled=["events"],
    )
    report = await org_env.apply(settings)
    assert not report.failed, report.failed
    room_id = await org_env.room_id(slugify("Nordic policy"))
    clients = [await member_factory(u, pw) for u, pw in people]
    for c in clients:
        await c.wait_joined(room_id)
    dep = await org_env.open(settings)
    if proxy is not None:
        dep.synapse = Proxied(org_env.synapse, proxy.url)  # type: ignore[assignment]
    runtime = await org_env.start_bots(settings, ["events"])
    await asyncio.wait_for(runtime.wait_synced(), 60)
    bot = runtime.bots[0].user_id
    for c in clients:

        async def joined(c: Member = c) -> bool:
            room = c.client.rooms.get(room_id)
            return room is not None and bot in room.users and bot not in room.invited_users

        await c.wait_until(joined, 60)
    return settings, room_id, clients, runtime


async def replies(member: Member, event_id: str, bot: str, wait: float = 3.0) -> int:
    """How many replies of ``bot`` to ``event_id`` the member sees after ``wait`` seconds."""
    await asyncio.sleep(wait)
    return len(member.replies_to(event_id, sender=bot))
