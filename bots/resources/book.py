"""Provides the resources bot's ledger book: ``messenger.ledgerbook`` under the name the bots
and tools import it by (``ledger/<index>``, ``ledger_meta/head`` in the bot's store)."""

from __future__ import annotations

from messenger.ledgerbook import (
    ENTRIES_NS,
    META_KEY,
    META_NS,
    LedgerBook,
    Reader,
    Writer,
    entry_key,
    stored_entries,
    stored_public_key,
    to_entries,
    verify_stored,
)

__all__ = [
    "ENTRIES_NS",
    "META_KEY",
    "META_NS",
    "LedgerBook",
    "Reader",
    "Writer",
    "entry_key",
    "stored_entries",
    "stored_public_key",
    "to_entries",
    "verify_stored",
]
