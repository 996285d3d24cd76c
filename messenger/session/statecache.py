"""Provides ``RoomStateCache``: the room state bots and the client read on every command —
the provisioning marker, power levels, encryption — kept current from sync and persisted
(sealed) in the state store, so a restart knows them before its first sync answers.

Once a full-state sync has filled it (``complete``), a restart resumes from the stored sync
token instead of asking the homeserver for every room's state again."""

from __future__ import annotations

from typing import Any

from messenger.protocol import ROOM_MARKER
from messenger.store import StateStore, Tx

NS = "room-state"
META_NS = "room-state-meta"
VERSION = 1
"""Bump when the cache holds more: a cache of an older version is filled again by one
full-state sync."""
POWER_LEVELS = "m.room.power_levels"
ENCRYPTION = "m.room.encryption"
TRACKED = {ROOM_MARKER: "marker", POWER_LEVELS: "power", ENCRYPTION: "encryption"}


class RoomStateCache:
    """Per room: ``marker``, ``power`` and ``encryption`` contents as last seen (or absent)."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._rooms: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        self.complete = False
        """Whether a full-state sync filled the cache (this run or a kept earlier one)."""
        self._complete_saved = False

    async def load(self) -> None:
        """Read what a previous run kept."""
        self._rooms = {room: dict(v) for room, v in await self._store.items(NS)}
        meta = await self._store.get(META_NS, "cache")
        self.complete = self._complete_saved = (meta or {}).get("version") == VERSION

    def filled(self) -> None:
        """A full-state sync has been noted: the cache holds every joined room (kept with the
        next ``save``)."""
        self.complete = True

    def note(self, room_id: str, event_type: str, state_key: object, content: object) -> None:
        """Take in one state event (from a sync's state or timeline); others are ignored."""
        field = TRACKED.get(event_type)
        if field is None or state_key != "" or not isinstance(content, dict):
            return
        room = self._rooms.setdefault(room_id, {})
        if room.get(field) != content:
            room[field] = dict(content)
            self._dirty.add(room_id)

    def set_marker(self, room_id: str, content: dict[str, Any]) -> None:
        """Remember a marker read directly ({} when the room has none)."""
        self.note(room_id, ROOM_MARKER, "", content)

    @property
    def changed(self) -> bool:
        """Whether something is not written yet."""
        return bool(self._dirty) or self.complete != self._complete_saved

    def rooms(self) -> set[str]:
        """The rooms it holds: every joined room once ``complete``."""
        return set(self._rooms)

    def __contains__(self, room_id: object) -> bool:
        """Whether it holds the room (a sync brought its state, this run or an earlier one)."""
        return room_id in self._rooms

    def marker(self, room_id: str) -> dict[str, Any] | None:
        """The room's provisioning marker; {} when it has none; None when not known yet."""
        found = self._rooms.get(room_id, {}).get("marker")
        return dict(found) if isinstance(found, dict) else None

    def encrypted(self, room_id: str) -> bool | None:
        """Whether the room has ``m.room.encryption``; None when not known."""
        room = self._rooms.get(room_id)
        if room is None or "power" not in room and "encryption" not in room:
            return None
        return "encryption" in room

    def power_level(self, room_id: str, user_id: str) -> int | None:
        """The user's power level from the cached power levels; None when not known."""
        power = self._rooms.get(room_id, {}).get("power")
        if not isinstance(power, dict):
            return None
        users = power.get("users")
        level = users.get(user_id) if isinstance(users, dict) else None
        if level is None:
            level = power.get("users_default", 0)
        try:
            return int(level)
        except (TypeError, ValueError):
            return 0

    def forget(self, room_id: str) -> None:
        """Drop a room (left or forgotten)."""
        if self._rooms.pop(room_id, None) is not None:
            self._dirty.add(room_id)

    async def save(self) -> None:
        """Persist what changed since the last save, in one transaction."""
        if not self._dirty and self.complete == self._complete_saved:
            return
        async with self._store.transaction() as tx:
            await self.write(tx)
        self.written()

    async def write(self, tx: Tx) -> None:
        """Write what changed into ``tx`` (the session's end-of-batch transaction); call
        ``written`` once it committed."""
        for room_id in self._dirty:
            if room_id in self._rooms:
                await tx.put(NS, room_id, self._rooms[room_id])
            else:
                await tx.delete(NS, room_id)
        if self.complete and not self._complete_saved:
            await tx.put(META_NS, "cache", {"version": VERSION})

    def written(self) -> None:
        """The last ``write`` committed."""
        self._dirty.clear()
        self._complete_saved = self.complete
