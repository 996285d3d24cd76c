"""Provides the translate bot's load/save functions over a ``Tx`` of the sealed state store.

Keys stay readable on disk, so they are IDs only: room, user and event IDs, or a keyed
hash (HMAC with a random secret kept sealed in the store) where a key comes from text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bots.translate.model import Memory, Prompt, RoomSettings, Term, normalise
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


async def text_key(tx: Tx, *parts: str) -> str:
    """A keyed hash naming text-derived documents without revealing the text."""
    mac = hmac.new(await secret(tx), "\x00".join(parts).encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


# -- rooms ----------------------------------------------------------------------------------


async def load_room(tx: Tx, room_id: str) -> RoomSettings:
    """A room's settings."""
    raw = await tx.get(ROOMS, room_id) or {}
    return RoomSettings(languages=raw.get("languages"), mt=bool(raw.get("mt", False)))


async def save_room(tx: Tx, room_id: str, settings: RoomSettings) -> None:
    """Store a room's settings."""
    await tx.put(ROOMS, room_id, {"languages": settings.languages, "mt": settings.mt})


async def room_languages(tx: Tx) -> set[str]:
    """Every language some room set with ``!lang``."""
    codes: set[str] = set()
    for _room, raw in await tx.items(ROOMS):
        codes.update(raw.get("languages") or [])
    return codes


async def rooms_with_languages(tx: Tx) -> dict[str, list[str]]:
    """Room → the working languages it set with ``!lang`` (rooms that set some)."""
    rooms = await tx.items(ROOMS)
    return {room: list(raw["languages"]) for room, raw in rooms if raw.get("languages")}


# -- volunteers -----------------------------------------------------------------------------


async def load_volunteers(tx: Tx) -> dict[str, list[tuple[str, str]]]:
    """User ID → declared (source, target) pairs."""
    return {u: [(a, b) for a, b in v.get("pairs", [])] for u, v in await tx.items(VOLUNTEERS)}


async def save_pairs(tx: Tx, user_id: str, pairs: list[tuple[str, str]]) -> None:
    """Replace a volunteer's pairs (none: forget the volunteer)."""
    if pairs:
        await tx.put(VOLUNTEERS, user_id, {"pairs": [list(p) for p in pairs]})
    else:
        await tx.delete(VOLUNTEERS, user_id)


# -- glossary -------------------------------------------------------------------------------


async def load_glossary(tx: Tx) -> list[Term]:
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
    for t in await load_glossary(tx):
        if wanted in {normalise(f).casefold() for f in t.forms()}:
            await tx.delete(GLOSSARY, t.key)
            return True
    return False


# -- translation memory ---------------------------------------------------------------------


async def remember(tx: Tx, text: str, source: str, target: str, memory: Memory) -> None:
    """Record a translation of ``text``; a volunteer's is never replaced by a machine's."""
    key = await text_key(tx, "memory", normalise(text), source, target)
    old = await tx.get(MEMORY, key)
    if old and not old.get("machine") and memory.machine:
        return
    await tx.put(MEMORY, key, memory.stored())


async def recall(tx: Tx, text: str, source: str, target: str) -> Memory | None:
    """The earlier translation of the same text, if any."""
    key = await text_key(tx, "memory", normalise(text), source, target)
    found = await tx.get(MEMORY, key)
    return Memory.from_stored(found) if isinstance(found, dict) else None


# -- prompts --------------------------------------------------------------------------------


async def load_prompt(tx: Tx, source_event: str) -> Prompt | None:
    """The prompt record of a source message."""
    found = await tx.get(PROMPTS, source_event)
    return Prompt.from_stored(found) if isinstance(found, dict) else None


async def save_prompt(tx: Tx, source_event: str, record: Prompt) -> None:
    """Store a prompt record and index it under its thread."""
    await tx.put(PROMPTS, source_event, record.stored())
    listed = await tx.get(THREADS, record.thread_root) or []
    if source_event not in listed:
        await tx.put(THREADS, record.thread_root, [*listed, source_event][-THREAD_KEEP:])


async def prompts_in_thread(tx: Tx, thread_root: str) -> list[str]:
    """Source events with a prompt in a thread, oldest first."""
    return list(await tx.get(THREADS, thread_root) or [])
