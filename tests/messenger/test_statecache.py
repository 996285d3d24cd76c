"""The room state cache: kept from sync, persisted sealed, read back after a restart."""

from __future__ import annotations

from pathlib import Path

from messenger.protocol import ROOM_MARKER
from messenger.session.statecache import RoomStateCache
from messenger.store import StateStore
from tests.messenger.test_store_schema import vault


async def test_state_is_kept_persisted_and_read_back(tmp_path: Path) -> None:
    v = vault(tmp_path)
    store = await StateStore.open(tmp_path / "state.db", v)
    cache = RoomStateCache(store)
    assert cache.marker("!r") is None
    assert cache.power_level("!r", "@a:x") is None
    cache.note("!r", ROOM_MARKER, "", {"slug": "nordic", "kind": "working_group"})
    cache.note("!r", "m.room.power_levels", "", {"users": {"@a:x": 50}, "users_default": 0})
    cache.note("!r", "m.room.encryption", "", {"algorithm": "m.megolm.v1.aes-sha2"})
    cache.note("!r", "m.room.power_levels", "@a:x", {"users": {"@a:x": 100}})  # not state ""
    cache.note("!r", "m.room.name", "", {"name": "ignored"})
    await cache.save()
    await store.close()

    store = await StateStore.open(tmp_path / "state.db", v)
    again = RoomStateCache(store)
    await again.load()
    assert again.marker("!r") == {"slug": "nordic", "kind": "working_group"}
    assert again.power_level("!r", "@a:x") == 50
    assert again.power_level("!r", "@b:x") == 0
    assert again.encrypted("!r") is True
    again.note("!r", "m.room.power_levels", "", {"users": {"@a:x": 0}, "users_default": 10})
    assert again.power_level("!r", "@a:x") == 0
    assert again.power_level("!r", "@b:x") == 10
    again.forget("!r")
    await again.save()
    fresh = RoomStateCache(store)
    await fresh.load()
    assert fresh.marker("!r") is None
    await store.close()


async def test_a_filled_cache_is_remembered_as_complete(tmp_path: Path) -> None:
    """A restart resumes from the stored token only when a full-state sync filled the cache
    (this version of it); a cache from before, or never filled, asks for full state once."""
    v = vault(tmp_path)
    store = await StateStore.open(tmp_path / "state.db", v)
    cache = RoomStateCache(store)
    await cache.load()
    assert not cache.complete
    cache.note("!r", ROOM_MARKER, "", {"slug": "nordic"})
    await cache.save()
    again = RoomStateCache(store)
    await again.load()
    assert not again.complete  # rooms noted from timelines only: not every room is known
    again.filled()
    await again.save()
    kept = RoomStateCache(store)
    await kept.load()
    assert kept.complete
    await store.put("room-state-meta", "cache", {"version": 0})  # an older cache's record
    old = RoomStateCache(store)
    await old.load()
    assert not old.complete
    await store.close()
