"""Provides the library bot's record (``Entry``) and the pure rules over it: who may see it,
who may change it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from messenger.ids import server_of
from messenger.protocol.library import EntryType, LibraryCard, Scope

TYPES: tuple[EntryType, ...] = ("guide", "case", "lesson", "resource", "minutes")
EXCERPT_CHARS = 1200


class StoredFile(BaseModel):
    """The original file an entry was made from (its bytes are sealed in the store)."""

    name: str
    mimetype: str
    size: int


class Entry(BaseModel):
    """A knowledge-base entry as the bot keeps it (sealed in the state store)."""

    id: str
    room: str
    title: str
    type: EntryType
    tags: list[str] = Field(default_factory=list)
    lang: str | None = None
    text: str
    author: str
    created_ms: int
    updated_ms: int = 0
    source_event: str | None = None
    file: StoredFile | None = None
    scope: Scope = "room"
    public: bool = False
    removed: bool = False
    origin: str = "command"  # "command" or "<bot>:<ref>" for entries from the inbox
    revision: int = 1

    def card(self) -> LibraryCard:
        """The structured copy the room's card carries."""
        excerpt = self.text[:EXCERPT_CHARS] + ("…" if len(self.text) > EXCERPT_CHARS else "")
        return LibraryCard(
            id=self.id,
            room_id=self.room,
            title=self.title,
            type=self.type,
            tags=self.tags,
            lang=self.lang,
            author=self.author,
            created_at=self.created_ms,
            status="removed" if self.removed else "active",
            scope=self.scope,
            public=self.public,
            excerpt=excerpt,
            source_event_id=self.source_event,
            file_name=self.file.name if self.file else None,
            revision=self.revision,
        )


@dataclass(frozen=True)
class Audience:
    """Who asks and who reads the answer: the asker, the room the answer goes to and its
    joined members (bots excluded; None when they could not be read), and the organisation's
    own server."""

    asker: str
    room: str
    readers: frozenset[str] | None
    home_server: str

    def all_local(self) -> bool:
        """Whether the asker and every reader are on the organisation's own server."""
        if self.readers is None:
            return False
        return all(server_of(u) == self.home_server for u in {self.asker, *self.readers})


def visible(entry: Entry, audience: Audience, joined: frozenset[str] | None) -> bool:
    """Whether ``entry`` may be shown to ``audience``.

    ``joined`` are the members of the entry's room now (None when that could not be read:
    then only what does not depend on it is shown). An entry of the room being answered in is
    visible; one shared with partners, in any room; one shared with the organisation, when
    the asker and every reader are on the organisation's server; any other only when the
    asker and every reader of the answer are members of the entry's room now — an answer in a
    room is read by all its members, so it never carries what one of them may not read.
    """
    if entry.removed:
        return False
    if entry.room == audience.room or entry.scope == "partners":
        return True
    if entry.scope == "org" and audience.all_local():
        return True
    if joined is None or audience.readers is None or audience.asker not in joined:
        return False
    return audience.readers <= joined


def readable_by_asker(entry: Entry, audience: Audience, joined: frozenset[str] | None) -> bool:
    """Whether the asker alone could see ``entry`` (to say how many matches were withheld)."""
    if entry.removed:
        return False
    alone = Audience(audience.asker, audience.room, frozenset(), audience.home_server)
    return visible(entry, alone, joined)
