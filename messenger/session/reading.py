"""Provides ``ReadingMixin``: the rooms a ``Session`` is in, and its part when another
session of the process reads its rooms' messages for it (``botkit.reading``): polling, and
syncing before it sends where the state changed unseen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

POLL_S = 1.0
"""How often a session whose messages another session reads syncs (``read_elsewhere``):
a waiting /sync is woken by every event in the account's rooms, a poll only once."""
CATCH_UP_S = 10.0


class ReadingMixin:
    """Joined rooms and polling for ``Session`` (which provides ``client`` and ``synced``)."""

    client: Any
    synced: asyncio.Event
    joined: set[str]
    read_elsewhere: Callable[[], bool] | None
    _poll_wakeup: asyncio.Event
    _syncs_started: int
    _syncs_done: int
    _behind: dict[str, int]

    async def poll_pause(self) -> None:
        """Between two polls: ``POLL_S``, or less when someone needs a sync now."""
        self._poll_wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poll_wakeup.wait(), POLL_S)

    def fell_behind(self, room_id: str) -> None:
        """Another session saw the room's state change (a member joined …): this one syncs
        again before it next sends there, so it encrypts for whoever is in the room now."""
        self._behind[room_id] = self._syncs_started
        self._poll_wakeup.set()

    async def catch_up(self, room_id: str) -> None:
        """Wait (at most ``CATCH_UP_S``) for a sync begun after the room fell behind."""
        mark = self._behind.get(room_id)
        if mark is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_S
        while self._syncs_done <= mark and loop.time() < deadline:
            self._poll_wakeup.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.synced.wait(), max(0.0, deadline - loop.time()))
        if self._behind.get(room_id) == mark:
            del self._behind[room_id]

    def joined_rooms(self) -> set[str]:
        """The rooms this account is in (a copy of ``joined``)."""
        return set(self.joined)

    def device_verified(self, user_id: str, device_id: str) -> bool:
        """Whether this session has verified ``user_id``'s device (emoji verification)."""
        olm = self.client.olm
        device = self.client.device_store.active_user_devices(user_id)
        found = next((d for d in device if d.id == device_id), None)
        return bool(olm is not None and found is not None and olm.is_device_verified(found))
