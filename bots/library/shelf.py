"""Provides ``Shelf``: the library's entries and their full-text index, in memory only.

Rebuilt from the sealed store when the bot starts (``load``); a command that changes an
entry ``touch``es it, and ``refresh`` re-reads touched entries — from the open transaction
while a batch is handled (so a search sees an entry added just before it), and from the
committed store after the batch (so a rolled-back change never lingers in the index).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bots.library import store as s
from bots.library.model import Entry
from messenger.fulltext import TextIndex


class Shelf:
    """Visible-or-not entries by ID (removed ones left out) and their index."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.rooms: Counter[str] = Counter()
        """How many entries each room has on the shelf."""
        self.index = TextIndex()
        self.loaded = False
        self._touched: set[str] = set()

    def put(self, entry: Entry) -> None:
        """Take in one entry as stored (a removed one leaves the shelf)."""
        self.drop(entry.id)
        if entry.removed:
            return
        self.entries[entry.id] = entry
        self.rooms[entry.room] += 1
        self.index.add(entry.id, title=entry.title, text=entry.text, tags=entry.tags)

    def drop(self, entry_id: str) -> None:
        """Forget one entry."""
        gone = self.entries.pop(entry_id, None)
        if gone is not None:
            self.rooms[gone.room] -= 1
            if not self.rooms[gone.room]:
                del self.rooms[gone.room]
        self.index.remove(entry_id)

    async def load(self, reader: s.Reader) -> int:
        """Rebuild everything from the store; the number of entries on the shelf. The index
        is built in a worker thread, so the other bots of the process keep answering."""
        stored = await s.all_entries(reader)
        entries, index = await asyncio.to_thread(_build, stored)
        self.entries, self.index = entries, index
        self.rooms = Counter(e.room for e in entries.values())
        self.loaded = True
        return len(self.entries)

    def touch(self, entry_id: str) -> None:
        """Note that an entry changed in the transaction under way."""
        self._touched.add(entry_id)

    async def refresh(self, reader: s.Reader, *, settle: bool) -> None:
        """Re-read touched entries from ``reader``; ``settle`` (a committed store) forgets
        them afterwards."""
        for entry_id in sorted(self._touched):
            entry = await s.load_entry(reader, entry_id)
            if entry is None:
                self.drop(entry_id)
            elif self.entries.get(entry_id) != entry:  # unchanged: keep the index as it is
                self.put(entry)
        if settle:
            self._touched.clear()


def _build(stored: list[Entry]) -> tuple[dict[str, Entry], TextIndex]:
    """The entries not removed, by ID, and their index."""
    entries, index = {}, TextIndex()
    for entry in stored:
        if not entry.removed:
            entries[entry.id] = entry
            index.add(entry.id, title=entry.title, text=entry.text, tags=entry.tags)
    return entries, index
