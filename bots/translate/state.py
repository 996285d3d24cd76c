"""Provides the translate bot's state over the sealed store: rooms, volunteers, glossary, memory.

Keys stay readable on disk, so they are IDs only: room, user and event IDs, or a keyed
hash (HMAC with a random secret kept sealed in the store) where a key comes from text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from messenger.store import Tx

ROOMS = "tr.room"
VOLUNTEERS = "tr.volunteer"
GLOSSARY = "tr.glossary"
MEMORY = "tr.memory"
PROMPTS = "tr.prompt"
THREADS = "tr.thread"
META = "tr.meta"
THREAD_KEEP = 50


async def secret(tx: Tx) -> bytes:
    """The store's random HMAC key for text-derived keys (created on first use)."""
    value = await tx.get(META, "hmac")
    if value is None:
        value = secrets.token_hex(32)
        await tx.put(META, "hmac", value)
    return bytes.fromhex(value)


def normalise(text: str) -> str:
    """Text as translation memory compares it: NFC, whitespace collapsed, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


async def text_key(tx: Tx, *parts: str) -> str:
    """A keyed hash naming text-derived documents without revealing the text."""
    mac = hmac.new(await secret(tx), "\x00".join(parts).encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


# -- rooms ----------------------------------------------------------------------------------


@dataclass
class RoomSettings:
    """A room's working languages (None: the organisation file's) and machine-translation opt-in."""

    languages: list[str] | None = None
    mt: bool = False


async def room(tx: Tx, room_id: str) -> RoomSettings:
    """A room's settings."""
    raw = await tx.get(ROOMS, room_id) or {}
    return RoomSettings(languages=raw.get("languages"), mt=bool(raw.get("mt", False)))


async def save_room(tx: Tx, room_id: str, settings: RoomSettings) -> None:
    """Store a room's settings."""
    await tx.put(ROOMS, room_id, {"languages": settings.languages, "mt": settings.mt})


# -- volunteers -----------------------------------------------------------------------------


async def volunteers(tx: Tx) -> dict[str, list[tuple[str, str]]]:
    """User ID → declared (source, target) pairs."""
    return {u: [(a, b) for a, b in v.get("pairs", [])] for u, v in await tx.items(VOLUNTEERS)}


async def set_pairs(tx: Tx, user_id: str, pairs: list[tuple[str, str]]) -> None:
    """Replace a volunteer's pairs (none: forget the volunteer)."""
    if pairs:
        await tx.put(VOLUNTEERS, user_id, {"pairs": [list(p) for p in pairs]})
    else:
        await tx.delete(VOLUNTEERS, user_id)


def volunteers_for(
    table: dict[str, list[tuple[str, str]]], source: str, targets: list[str]
) -> list[str]:
    """Volunteers who declared ``source>T`` for a target T (Norwegian counts as one)."""
    from bots.translate.detect import same_language

    return sorted(
        u
        for u, ps in table.items()
        if any(
            same_language(a, source) and any(same_language(b, t) for t in targets) for a, b in ps
        )
    )


# -- glossary -------------------------------------------------------------------------------


@dataclass
class Term:
    """A glossary entry: the term and its approved renderings per language."""

    key: str
    term: str
    translations: dict[str, str] = field(default_factory=dict)

    def forms(self) -> list[str]:
        """Every written form that counts as this term in a message."""
        return [self.term, *self.translations.values()]

    def rendering(self, language: str) -> str:
        """The approved rendering in ``language`` (the term itself when none is defined)."""
        return self.translations.get(language, self.term)


async def glossary(tx: Tx) -> list[Term]:
    """Every glossary entry, oldest first."""
    return [
        Term(k, v["term"], dict(v.get("translations", {}))) for k, v in await tx.items(GLOSSARY)
    ]


async def add_term(tx: Tx, term: str, translations: dict[str, str], by: str) -> Term:
    """Add a term, or merge new renderings into an existing one (same term, any case)."""
    key = await text_key(tx, "glossary", normalise(term).casefold())
    old = await tx.get(GLOSSARY, key) or {}
    merged = {**old.get("translations", {}), **translations}
    await tx.put(GLOSSARY, key, {"term": term, "translations": merged, "by": by})
    return Term(key, term, merged)


async def remove_term(tx: Tx, term: str) -> bool:
    """Remove a term (matched on the term or any rendering, any case); whether one was."""
    wanted = normalise(term).casefold()
    for t in await glossary(tx):
        if wanted in {normalise(f).casefold() for f in t.forms()}:
            await tx.delete(GLOSSARY, t.key)
            return True
    return False


def _pattern(form: str) -> re.Pattern[str]:
    escaped = re.escape(form)
    if form and not (form[0].isalnum() and form[-1].isalnum()) or _spaceless(form):
        return re.compile(escaped, re.I)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.I)


def _spaceless(text: str) -> bool:
    """Whether the text uses a script written without spaces between words (Thai, Lao …)."""
    return any("\u0e00" <= ch <= "\u0eff" or "\u3040" <= ch <= "\u9fff" for ch in text)


def find_terms(terms: list[Term], text: str) -> list[Term]:
    """Glossary entries whose term or a rendering appears in ``text`` (whole words)."""
    return [t for t in terms if any(f and _pattern(f).search(text) for f in t.forms())]


# -- translation memory ---------------------------------------------------------------------


async def remember(
    tx: Tx, text: str, source: str, target: str, translation: str, **meta: Any
) -> None:
    """Record a translation of ``text`` (``meta``: by, machine, provider, source_event)."""
    key = await text_key(tx, "memory", normalise(text), source, target)
    old = await tx.get(MEMORY, key)
    if old and not old.get("machine") and meta.get("machine"):
        return  # a volunteer's translation is never replaced by a machine's
    await tx.put(MEMORY, key, {"text": translation, **meta})


async def recall(tx: Tx, text: str, source: str, target: str) -> dict[str, Any] | None:
    """The earlier translation of the same text, if any."""
    key = await text_key(tx, "memory", normalise(text), source, target)
    found = await tx.get(MEMORY, key)
    return found if isinstance(found, dict) else None


# -- prompts --------------------------------------------------------------------------------


async def prompt(tx: Tx, source_event: str) -> dict[str, Any] | None:
    """The prompt record of a source message."""
    found = await tx.get(PROMPTS, source_event)
    return found if isinstance(found, dict) else None


async def save_prompt(tx: Tx, source_event: str, record: dict[str, Any]) -> None:
    """Store a prompt record and index it under its thread."""
    await tx.put(PROMPTS, source_event, record)
    thread = record["thread_root"]
    listed = await tx.get(THREADS, thread) or []
    if source_event not in listed:
        await tx.put(THREADS, thread, [*listed, source_event][-THREAD_KEEP:])


async def prompts_in_thread(tx: Tx, thread_root: str) -> list[str]:
    """Source events with a prompt in a thread, oldest first."""
    return list(await tx.get(THREADS, thread_root) or [])
