"""Provides the library bot's structured content (``org.samverkan.library`` …).

A *card* describes one knowledge-base entry (K1, K2 …) in the room it belongs to; it is
edited in place when the entry changes or is removed, so the TUI's Library screen follows
the newest payload. A *search* answer lists the hits a member was allowed to see.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from messenger.protocol.base import Structured

EntryType = Literal["guide", "case", "lesson", "resource", "minutes"]
Scope = Literal["room", "org", "partners"]


class LibraryCard(Structured):
    """One entry as its room sees it: what the TUI lists and searches."""

    KEY: ClassVar[str] = "org.samverkan.library"
    id: str
    room_id: str
    title: str
    type: EntryType
    tags: list[str] = Field(default_factory=list)
    lang: str | None = None
    author: str
    created_at: int
    status: Literal["active", "removed"] = "active"
    scope: Scope = "room"
    public: bool = False
    excerpt: str = ""  # the start of the text (the whole text if short)
    source_event_id: str | None = None  # the message or file the entry was made from
    file_name: str | None = None
    revision: int = 1


class LibraryHit(BaseModel):
    """One search result: which entry, where it is from, and the words around the match."""

    id: str
    title: str
    type: EntryType
    room_id: str
    snippet: str


class LibrarySearch(Structured):
    """The answer to ``!kb search``: the visible hits, best first."""

    KEY: ClassVar[str] = "org.samverkan.library.search"
    query: str
    hits: list[LibraryHit] = Field(default_factory=list)
    withheld: int = 0  # matches in rooms not everyone reading this answer may see
