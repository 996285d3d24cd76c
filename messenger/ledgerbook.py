"""Provides ``LedgerBook``: a signed, hash-chained ledger kept sealed in a state store.

The signing key (an Ed25519 seed) and the chain head live in one sealed document
(``<meta_ns>/head``); each entry is its own sealed document under ``<entries_ns>/<index>``.
Appends happen inside the caller's store transaction, so an entry exists exactly when the
state change it records was committed. The resources bot's transparency ledger is the
default namespaces; the security audit's log is the same book in namespaces of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from crypto.keys import Ed25519PrivateKey, Ed25519PublicKey
from crypto.ledger import GENESIS_HASH, Ledger, LedgerEntry, verify_chain

ENTRIES_NS = "ledger"
META_NS = "ledger_meta"
META_KEY = "head"


class Reader(Protocol):
    """What both a store and a transaction offer for reading."""

    async def get(self, ns: str, key: str) -> Any:
        """One document."""

    async def items(self, ns: str) -> list[tuple[str, Any]]:
        """Every document of a namespace."""


class Writer(Reader, Protocol):
    """A store transaction."""

    async def put(self, ns: str, key: str, value: Any) -> None:
        """Write one document."""


def entry_key(index: int) -> str:
    """The store key of an entry (zero-padded so keys sort in chain order)."""
    return f"{index:012d}"


class LedgerBook:
    """Appends and reads the ledger; caches the signing key object by its (sealed) seed.

    ``entries_ns`` and ``meta_ns`` name where it lives (another chain, e.g. the security
    audit's log, is the same book in other namespaces).
    """

    def __init__(self, entries_ns: str = ENTRIES_NS, meta_ns: str = META_NS) -> None:
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self.entries_ns = entries_ns
        self.meta_ns = meta_ns

    def _key(self, seed: str) -> Ed25519PrivateKey:
        key = self._keys.get(seed)
        if key is None:
            key = self._keys[seed] = Ed25519PrivateKey.from_base64(seed)
        return key

    async def meta(self, tx: Writer) -> dict[str, Any]:
        """The head document, creating the signing key on first use."""
        meta = await tx.get(self.meta_ns, META_KEY)
        if meta is None:
            meta = {
                "seed": Ed25519PrivateKey.generate().to_base64(),
                "hash": GENESIS_HASH,
                "next": 0,
            }
            await tx.put(self.meta_ns, META_KEY, meta)
        return dict(meta)

    async def public_key(self, tx: Writer) -> Ed25519PublicKey:
        """The key auditors verify the ledger with."""
        return self._key((await self.meta(tx))["seed"]).public_key

    async def append(
        self, tx: Writer, actor: str, action: str, data: dict[str, Any], ts: int
    ) -> LedgerEntry:
        """Sign and store one entry after the head, in the caller's transaction."""
        meta = await self.meta(tx)
        ledger = Ledger(head_hash=meta["hash"], next_index=meta["next"])
        entry = ledger.append(self._key(meta["seed"]), actor, action, data, ts)
        await tx.put(self.entries_ns, entry_key(entry.index), entry.to_dict())
        meta.update(hash=ledger.head_hash, next=ledger.next_index)
        await tx.put(self.meta_ns, META_KEY, meta)
        return entry

    async def head(self, tx: Writer) -> tuple[str, int]:
        """(head hash, number of entries)."""
        meta = await self.meta(tx)
        return meta["hash"], meta["next"]


async def stored_entries(reader: Reader, ns: str = ENTRIES_NS) -> list[dict[str, Any]]:
    """Every stored entry as a JSON object, in chain order."""
    rows = await reader.items(ns)
    rows.sort(key=lambda kv: kv[0])
    return [value for _key, value in rows]


async def stored_public_key(reader: Reader, meta_ns: str = META_NS) -> Ed25519PublicKey | None:
    """The ledger's verification key, or None when the bot has never signed anything."""
    meta = await reader.get(meta_ns, META_KEY)
    if meta is None:
        return None
    return Ed25519PrivateKey.from_base64(meta["seed"]).public_key


async def verify_stored(entries: list[dict[str, Any]], public_key: Ed25519PublicKey) -> str:
    """Verify a whole chain off the event loop; return its head (raises ``LedgerError``)."""
    return await asyncio.to_thread(verify_chain, entries, public_key)


def to_entries(objects: list[dict[str, Any]]) -> list[LedgerEntry]:
    """Parse stored entries (``CryptoError`` for a malformed one)."""
    return [LedgerEntry.from_dict(obj) for obj in objects]
