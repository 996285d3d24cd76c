"""Provides the library bot's load/save functions over the sealed state store.

Entries, their original files and the record of drained inbox items are documents in the
bot's store; every payload is sealed by the vault, so no entry text lies on disk in clear.
"""

from __future__ import annotations

import base64
from typing import Any

from bots.library.model import Entry
from messenger.store import StateStore, Tx

ENTRIES = "library-entries"  # key: K id → Entry
FILES = "library-files"  # key: K id → {"data": base64 of the original file}
DRAINED = "library-drained"  # key: inbox key → {"id": K id} (the entry it became)
META = "library-meta"  # key: "counters" → {"K": n}

Reader = Tx | StateStore


async def load_entry(tx: Reader, entry_id: str) -> Entry | None:
    """The stored entry, or None."""
    raw = await tx.get(ENTRIES, entry_id.upper())
    return Entry.model_validate(raw) if raw else None


async def save_entry(tx: Tx, entry: Entry) -> None:
    """Store an entry."""
    await tx.put(ENTRIES, entry.id, entry.model_dump(mode="json"))


async def all_entries(tx: Reader) -> list[Entry]:
    """Every stored entry (removed ones too), oldest first."""
    return [Entry.model_validate(raw) for _k, raw in await tx.items(ENTRIES)]


async def next_id(tx: Tx) -> str:
    """The next entry ID (K1, K2 …), one sequence for the whole organisation: two rooms adding
    at once are two commands in the bot's one store transaction at a time, never the same ID."""
    counters: dict[str, Any] = await tx.get(META, "counters") or {}
    n = int(counters.get("K", 0)) + 1
    counters["K"] = n
    await tx.put(META, "counters", counters)
    return f"K{n}"


async def save_file(tx: Tx, entry_id: str, data: bytes) -> None:
    """Keep an entry's original file (sealed like every document)."""
    await tx.put(FILES, entry_id, {"data": base64.b64encode(data).decode()})


async def load_file(tx: Reader, entry_id: str) -> bytes | None:
    """An entry's original file, or None."""
    raw = await tx.get(FILES, entry_id)
    return base64.b64decode(raw["data"]) if raw else None


async def delete_file(tx: Tx, entry_id: str) -> None:
    """Drop an entry's original file."""
    await tx.delete(FILES, entry_id)


async def drained(tx: Reader, inbox_key: str) -> str | None:
    """The entry an inbox item already became, if it did."""
    raw = await tx.get(DRAINED, inbox_key)
    return str(raw["id"]) if raw else None


async def mark_drained(tx: Tx, inbox_key: str, entry_id: str) -> None:
    """Record that an inbox item became an entry (so a crash before its deletion from the
    shared store never makes a second entry of it)."""
    await tx.put(DRAINED, inbox_key, {"id": entry_id})
