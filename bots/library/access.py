"""Provides ``Memberships``: who is joined to each room now, as the library's visibility
checks need it on every search, show and list.

Read from the homeserver once per room (its member state: complete, unlike the lazily
loaded members of a sync), then kept current from every membership event the bot's sync
delivers, and read again after ``FRESH_S`` so a gap in the timeline cannot keep a leaver in.
A room whose members cannot be read counts as unknown: nothing that depends on it is shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from messenger.errors import MessengerError
from messenger.events import Incoming
from messenger.session.rooms import Rooms

log = logging.getLogger(__name__)

FRESH_S = 300.0


class Memberships:
    """Room → joined members, read lazily and kept current from sync."""

    def __init__(self, rooms: Rooms, clock: Callable[[], float] = time.monotonic) -> None:
        self._rooms = rooms
        self._clock = clock
        self._joined: dict[str, set[str]] = {}
        self._read_at: dict[str, float] = {}

    def note(self, events: Iterable[Incoming]) -> None:
        """Take in membership changes of rooms already read (others are read when needed)."""
        for ev in events:
            if ev.type != "m.room.member" or not ev.state_key or ev.room_id not in self._joined:
                continue
            if ev.content.get("membership") == "join":
                self._joined[ev.room_id].add(ev.state_key)
            else:
                self._joined[ev.room_id].discard(ev.state_key)

    def forget(self, room_id: str) -> None:
        """Drop what is known of a room (the bot left it)."""
        self._joined.pop(room_id, None)
        self._read_at.pop(room_id, None)

    async def joined(self, room_id: str) -> frozenset[str] | None:
        """The room's joined members now; None when they cannot be read."""
        read_at = self._read_at.get(room_id)
        if read_at is None or self._clock() - read_at > FRESH_S:
            try:
                members = await self._rooms.members(room_id)
            except MessengerError as e:
                log.warning("members of %s not read (entries there stay hidden): %s", room_id, e)
                self.forget(room_id)
                return None
            self._joined[room_id] = {u for u, m in members.items() if m == "join"}
            self._read_at[room_id] = self._clock()
        return frozenset(self._joined[room_id])
