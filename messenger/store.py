"""Provides the encrypted local state store: documents, processed events and the outbox.

Every payload column is sealed with the vault (XSalsa20-Poly1305), bound to its table and
key, so nothing a user wrote lies on disk in plaintext. Keys and event IDs stay readable:
they are identifiers, never content.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from crypto.vault import Vault
from messenger.errors import ConfigError

MIGRATIONS: tuple[str, ...] = (
    # 1: documents, processed events, the outbox (stores made before versioning are at 0
    # and pass through this unchanged: every statement is IF NOT EXISTS).
    """
CREATE TABLE IF NOT EXISTS docs (
    ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key));
CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    txn_id TEXT NOT NULL UNIQUE,
    room_id TEXT NOT NULL,
    key TEXT,
    payload BLOB NOT NULL,
    event_id TEXT,
    created INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (event_id) WHERE event_id IS NULL;
CREATE INDEX IF NOT EXISTS outbox_key ON outbox (key);
""",
)
"""Ordered schema migrations: ``MIGRATIONS[n]`` brings a store from version n to n + 1.
Append only; never edit one that has shipped."""
SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(db: aiosqlite.Connection, path: Path) -> int:
    """Bring the store's schema to ``SCHEMA_VERSION`` (each step in its own transaction, the
    version row with it); return the version it had. A store newer than this code is refused."""
    await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with db.execute("SELECT version FROM schema_version") as cur:
        row = await cur.fetchone()
    found = int(row[0]) if row else 0
    if found > SCHEMA_VERSION:
        raise ConfigError(
            f"{path} was written by a newer Samverkan (schema {found}; this one knows "
            f"{SCHEMA_VERSION}): upgrade Samverkan to open it"
        )
    for version in range(found, SCHEMA_VERSION):
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    await db.execute(statement)
            await db.execute("DELETE FROM schema_version")
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version + 1,))
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
    return found


@dataclass(frozen=True)
class Outgoing:
    """A message waiting in (or sent from) the outbox."""

    seq: int
    txn_id: str
    room_id: str
    key: str | None
    event_type: str
    content: dict[str, Any]


class Tx:
    """Writes inside one atomic store transaction (see ``StateStore.transaction``)."""

    def __init__(self, store: StateStore) -> None:
        self._s = store

    async def get(self, ns: str, key: str) -> Any:
        """Read a document, seeing this transaction's own writes."""
        return await self._s._get(ns, key)

    async def items(self, ns: str) -> list[tuple[str, Any]]:
        """Every document in a namespace."""
        return await self._s._items(ns)

    async def put(self, ns: str, key: str, value: Any) -> None:
        """Write a JSON-serialisable document."""
        await self._s._put(ns, key, value)

    async def delete(self, ns: str, key: str) -> None:
        """Remove a document."""
        await self._s._db.execute("DELETE FROM docs WHERE ns=? AND key=?", (ns, key))

    @asynccontextmanager
    async def savepoint(self, name: str = "unit") -> AsyncIterator[None]:
        """A nested unit: an exception undoes only what happened inside it."""
        await self._s._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self._s._db.execute(f"ROLLBACK TO {name}")
            await self._s._db.execute(f"RELEASE {name}")
            raise
        await self._s._db.execute(f"RELEASE {name}")

    async def sent_event_id(self, key: str) -> str | None:
        """The event ID of the first sent message queued under ``key`` (None if not yet)."""
        return await self._s._sent_event_id(key)

    async def unmark_processed(self, event_id: str) -> None:
        """Forget that an event was handled (it was unreadable then and decrypts now)."""
        await self._s._db.execute("DELETE FROM processed WHERE event_id=?", (event_id,))

    async def mark_processed(self, event_id: str) -> None:
        """Record that an incoming event has been handled."""
        await self._s._db.execute(
            "INSERT OR IGNORE INTO processed (event_id, ts) VALUES (?, ?)",
            (event_id, int(time.time() * 1000)),
        )

    async def enqueue(
        self,
        room_id: str,
        content: dict[str, Any],
        *,
        txn_id: str,
        event_type: str = "m.room.message",
        key: str | None = None,
    ) -> None:
        """Queue a message; its transaction ID is fixed now, so a retry never duplicates it."""
        payload = json.dumps({"type": event_type, "content": content}).encode()
        sealed = self._s._seal(payload, f"outbox:{txn_id}")
        await self._s._db.execute(
            "INSERT OR IGNORE INTO outbox (txn_id, room_id, key, payload, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (txn_id, room_id, key, sealed, int(time.time() * 1000)),
        )


class _TaskLock:
    """An asyncio lock its holder's own task may take again: a read inside a transaction
    (``store.get`` where the ``Tx`` was not passed down) reads that transaction, instead of
    waiting for it to end, which it never would."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    def held_here(self) -> bool:
        """Whether the current task holds it."""
        return self._owner is not None and self._owner is asyncio.current_task()

    async def __aenter__(self) -> None:
        if not self.held_here():
            await self._lock.acquire()
            self._owner = asyncio.current_task()
        self._depth += 1

    async def __aexit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class StateStore:
    """An aiosqlite database whose payloads are sealed with a ``Vault``.

    One connection, one asyncio lock: transactions never interleave, so a read-check-write
    inside ``transaction()`` is atomic against every other coroutine of the process.
    """

    def __init__(self, db: aiosqlite.Connection, vault: Vault) -> None:
        self._db = db
        self._vault = vault
        self._lock = _TaskLock()

    @classmethod
    async def open(cls, path: Path, vault: Vault) -> StateStore:
        """Open (creating if needed) the store at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pending = aiosqlite.connect(path, isolation_level=None)
        # A store someone forgot to close must not keep the interpreter alive at exit.
        worker = getattr(pending, "_thread", None)
        if worker is not None:
            worker.daemon = True
        db = await pending

        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        try:
            await migrate(db, path)
        except BaseException:
            await db.close()
            raise
        return cls(db, vault)

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def data_version(self) -> int:
        """SQLite's ``data_version``: it changes when another connection (another process)
        commits to the store, and only then — a cheap test for "reload what you cached"."""
        async with self._db.execute("PRAGMA data_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    def _seal(self, data: bytes, context: str) -> bytes:
        return self._vault.seal(data, context=context.encode())

    def _open(self, data: bytes, context: str) -> bytes:
        return self._vault.open(data, context=context.encode())

    async def _get(self, ns: str, key: str) -> Any:
        async with self._db.execute(
            "SELECT value FROM docs WHERE ns=? AND key=?", (ns, key)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return json.loads(self._open(row[0], f"docs:{ns}:{key}"))

    async def _items(self, ns: str) -> list[tuple[str, Any]]:
        async with self._db.execute(
            "SELECT key, value FROM docs WHERE ns=? ORDER BY rowid", (ns,)
        ) as cur:
            rows = await cur.fetchall()
        return [(k, json.loads(self._open(v, f"docs:{ns}:{k}"))) for k, v in rows]

    async def _put(self, ns: str, key: str, value: Any) -> None:
        sealed = self._seal(json.dumps(value).encode(), f"docs:{ns}:{key}")
        await self._db.execute(
            "INSERT INTO docs (ns, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (ns, key) DO UPDATE SET value=excluded.value",
            (ns, key, sealed),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """An atomic unit: all writes commit together or none do."""
        if self._lock.held_here():
            # SQLite has no nested transactions, and a nested ROLLBACK would undo the outer
            # one: a coding error, said at once rather than a task waiting on itself.
            raise RuntimeError("a store transaction is already open in this task: use its Tx")
        async with self._lock:
            if self._db.in_transaction:
                # A task cancelled while its BEGIN ran in the worker thread left it open;
                # nobody else is inside (we hold the lock): undo it.
                await self._db.execute("ROLLBACK")
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            else:
                await self._db.execute("COMMIT")

    async def get(self, ns: str, key: str) -> Any:
        """Read one document (None if absent)."""
        async with self._lock:
            return await self._get(ns, key)

    async def items(self, ns: str) -> list[tuple[str, Any]]:
        """Every document in a namespace, in insertion order."""
        async with self._lock:
            return await self._items(ns)

    async def put(self, ns: str, key: str, value: Any) -> None:
        """Write one document in its own transaction."""
        async with self.transaction() as tx:
            await tx.put(ns, key, value)

    async def delete(self, ns: str, key: str) -> None:
        """Remove one document."""
        async with self.transaction() as tx:
            await tx.delete(ns, key)

    async def is_processed(self, event_id: str) -> bool:
        """Whether an incoming event was already handled."""
        async with (
            self._lock,
            self._db.execute("SELECT 1 FROM processed WHERE event_id=?", (event_id,)) as cur,
        ):
            return await cur.fetchone() is not None

    async def processed_among(self, event_ids: list[str]) -> set[str]:
        """Which of ``event_ids`` were already handled (one query per 500 IDs)."""
        found: set[str] = set()
        async with self._lock:
            for i in range(0, len(event_ids), 500):
                part = event_ids[i : i + 500]
                marks = ",".join("?" * len(part))
                async with self._db.execute(
                    f"SELECT event_id FROM processed WHERE event_id IN ({marks})", part
                ) as cur:
                    found.update(str(r[0]) for r in await cur.fetchall())
        return found

    async def pending(self, room_id: str | None = None) -> list[Outgoing]:
        """Outbox messages not yet acknowledged by the homeserver (of one room), oldest first."""
        where = "" if room_id is None else " AND room_id=?"
        async with (
            self._lock,
            self._db.execute(
                "SELECT seq, txn_id, room_id, key, payload FROM outbox"
                f" WHERE event_id IS NULL{where} ORDER BY seq",
                () if room_id is None else (room_id,),
            ) as cur,
        ):
            rows = await cur.fetchall()
        out = []
        for seq, txn_id, room, key, payload in rows:
            data = json.loads(self._open(payload, f"outbox:{txn_id}"))
            out.append(Outgoing(seq, txn_id, room, key, data["type"], data["content"]))
        return out

    async def pending_rooms(self) -> list[str]:
        """Rooms with outbox messages not yet acknowledged, the longest-waiting first."""
        async with (
            self._lock,
            self._db.execute(
                "SELECT room_id FROM outbox WHERE event_id IS NULL"
                " GROUP BY room_id ORDER BY min(seq)"
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [str(r[0]) for r in rows]

    async def mark_sent(self, txn_id: str, event_id: str) -> None:
        """Record the event ID the homeserver gave an outbox message."""
        async with self._lock:
            await self._db.execute(
                "UPDATE outbox SET event_id=? WHERE txn_id=?", (event_id, txn_id)
            )

    async def sent_event_id(self, key: str) -> str | None:
        """The event ID of the first sent message queued under ``key``."""
        async with self._lock:
            return await self._sent_event_id(key)

    async def given_up(self, key: str) -> bool:
        """Whether no message queued under ``key`` can ever be sent: every one was given up
        (refused for good), or none was ever queued (a reference to it waits for nothing)."""
        async with (
            self._lock,
            self._db.execute(
                "SELECT COUNT(*), SUM(event_id IS NULL OR event_id != '') FROM outbox WHERE key=?",
                (key,),
            ) as cur,
        ):
            row = await cur.fetchone()
        return not (row and row[0] and row[1])

    async def _sent_event_id(self, key: str) -> str | None:
        async with self._db.execute(
            "SELECT event_id FROM outbox WHERE key=? AND event_id IS NOT NULL AND event_id != ''"
            " ORDER BY seq LIMIT 1",
            (key,),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else str(row[0])
