"""The state store's schema is versioned: new stores, stores from before versioning, and
stores from a newer Samverkan (no homeserver needed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nacl.pwhash
import pytest

from crypto.vault import Vault
from messenger import store as store_mod
from messenger.errors import ConfigError
from messenger.store import SCHEMA_VERSION, StateStore


def vault(tmp_path: Path) -> Vault:
    return Vault.open_or_create(
        tmp_path / "vault.json",
        "pw",
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT version FROM schema_version").fetchone()[0])


async def test_a_new_store_is_at_the_current_version(tmp_path: Path) -> None:
    s = await StateStore.open(tmp_path / "state.db", vault(tmp_path))
    await s.put("ns", "k", {"v": 1})
    await s.close()
    assert version_of(tmp_path / "state.db") == SCHEMA_VERSION


async def test_a_store_from_before_versioning_keeps_its_data(tmp_path: Path) -> None:
    v = vault(tmp_path)
    s = await StateStore.open(tmp_path / "state.db", v)
    await s.put("ns", "k", {"v": 1})
    await s.close()
    with sqlite3.connect(tmp_path / "state.db") as db:  # as an unversioned store looked
        db.execute("DROP TABLE schema_version")
    s = await StateStore.open(tmp_path / "state.db", v)
    assert await s.get("ns", "k") == {"v": 1}
    await s.close()
    assert version_of(tmp_path / "state.db") == SCHEMA_VERSION


async def test_migrations_run_in_order_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = vault(tmp_path)
    s = await StateStore.open(tmp_path / "state.db", v)
    await s.close()
    step = "CREATE TABLE later (x INTEGER); INSERT INTO later (x) VALUES (1)"
    monkeypatch.setattr(store_mod, "MIGRATIONS", (*store_mod.MIGRATIONS, step))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):  # the second open must not run the step again
        s = await StateStore.open(tmp_path / "state.db", v)
        await s.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT COUNT(*) FROM later").fetchone()[0] == 1
    assert version_of(tmp_path / "state.db") == SCHEMA_VERSION + 1


async def test_a_store_from_a_newer_samverkan_is_refused(tmp_path: Path) -> None:
    v = vault(tmp_path)
    s = await StateStore.open(tmp_path / "state.db", v)
    await s.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 5,))
    with pytest.raises(ConfigError, match="newer Samverkan"):
        await StateStore.open(tmp_path / "state.db", v)
