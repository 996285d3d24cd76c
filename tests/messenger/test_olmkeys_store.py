"""nio's key store under ``E2EEClient``: the set of encrypted rooms is written once per room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nio import AsyncClientConfig
from nio.store import DefaultStore

from messenger.session.olmkeys import E2EEClient


def client(path: Path) -> E2EEClient:
    config = AsyncClientConfig(
        encryption_enabled=True, store_sync_tokens=False, pickle_key="test pickle key"
    )
    c = E2EEClient("http://127.0.0.1:9", "@bot:x", store_path=str(path), config=config)
    c.restore_login("@bot:x", "DEVICE", "token")  # loads the store
    return c


async def test_encrypted_rooms_are_written_only_when_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[set[str]] = []
    original = DefaultStore.save_encrypted_rooms

    def counted(self: Any, rooms: Any) -> None:
        writes.append(set(rooms))
        original(self, rooms)

    monkeypatch.setattr(DefaultStore, "save_encrypted_rooms", counted)
    first = client(tmp_path)
    store = first.store
    assert store is not None
    store.save_encrypted_rooms(set())  # what nio does after a sync with nothing new
    store.save_encrypted_rooms({"!a:x"})
    store.save_encrypted_rooms({"!a:x"})
    store.save_encrypted_rooms({"!a:x", "!b:x"})
    assert writes == [{"!a:x"}, {"!b:x"}]
    await first.close()

    again = client(tmp_path)  # a restart knows both rooms are encrypted
    assert {"!a:x", "!b:x"} <= again.encrypted_rooms
    assert again.store is not None
    again.store.save_encrypted_rooms({"!a:x", "!b:x"})
    assert len(writes) == 2
    await again.close()
