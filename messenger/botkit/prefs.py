"""Provides ``Preferences``: what members chose (reply language, timezone) and rooms' working
languages, one copy shared by every bot of a runtime, kept sealed in a state store — never in
room state or the Matrix profile, which the homeserver can read. Bots in other processes
write the same store: ``refresh`` (the runtime's tick) picks their changes up."""

from __future__ import annotations

from typing import Any

from messenger.config import Group, OrgFile
from messenger.i18n import SOURCE, normalise
from messenger.store import StateStore

MEMBER_NS = "member-prefs"
ROOM_NS = "room-prefs"


class Preferences:
    """Members' and rooms' choices, read from memory, written through to the store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self._members: dict[str, dict[str, Any]] = {}
        self._rooms: dict[str, dict[str, Any]] = {}
        self.loaded = False
        self._version: int | None = None

    async def load(self) -> None:
        """Read every stored choice (a few bytes per member)."""
        version = await self.store.data_version()
        self._members = {k: dict(v) for k, v in await self.store.items(MEMBER_NS)}
        self._rooms = {k: dict(v) for k, v in await self.store.items(ROOM_NS)}
        self.loaded = True
        self._version = version

    async def refresh(self) -> bool:
        """Read the choices again if another process (bots run apart with ``samverkan up
        --bots``) wrote to the store since; one cheap query otherwise. Whether it reloaded."""
        if await self.store.data_version() == self._version:
            return False
        await self.load()
        return True

    def member(self, user_id: str, field: str) -> Any:
        """One member's choice (``locale``, ``tz``), or None."""
        return self._members.get(user_id, {}).get(field)

    async def set_member(self, user_id: str, field: str, value: Any) -> None:
        """Record a member's choice."""
        kept = await self.store.get(MEMBER_NS, user_id)  # as another process may have left it
        record = {**(kept if isinstance(kept, dict) else {}), field: value}
        await self.store.put(MEMBER_NS, user_id, record)
        self._members[user_id] = record

    def room_languages(self, room_id: str) -> list[str] | None:
        """The working languages set in the room (``!lang``), or None."""
        langs = self._rooms.get(room_id, {}).get("languages")
        return list(langs) if isinstance(langs, list) else None

    async def set_room_languages(self, room_id: str, languages: list[str]) -> None:
        """Record the room's working languages (the translation bot's ``!lang``)."""
        kept = await self.store.get(ROOM_NS, room_id)
        record = {**(kept if isinstance(kept, dict) else {}), "languages": list(languages)}
        await self.store.put(ROOM_NS, room_id, record)
        self._rooms[room_id] = record

    # -- which language ---------------------------------------------------------------

    def room_locale(self, org: OrgFile, room_id: str, group: Group | None) -> str:
        """The language of what a room shares (cards): its first working language with a
        catalogue, else the organisation's first, else English."""
        candidates = [
            *(self.room_languages(room_id) or []),
            *(group.languages if group is not None else []),
            *org.organisation.languages,
        ]
        for lang in candidates:
            found = normalise(lang)
            if found is not None:
                return found
        return SOURCE

    def locale(self, org: OrgFile, user_id: str, room_id: str, group: Group | None) -> str:
        """The language of a reply to ``user_id``: their ``!locale``, else the room's."""
        chosen = self.member(user_id, "locale")
        if isinstance(chosen, str) and normalise(chosen) is not None:
            return str(normalise(chosen))
        return self.room_locale(org, room_id, group)
