"""Provides what ``!kb add`` reads when it is a reply: the message replied to, or its file
(downloaded and decrypted in memory, size-checked, its text extracted).

Every way it can fail is a ``CommandError`` saying why; nothing is stored until all of it
has been read.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bots.library import extract
from bots.library.model import StoredFile
from messenger.botkit.commands import CommandError
from messenger.errors import MessengerError
from messenger.i18n import N_

if TYPE_CHECKING:
    from bots.library.bot import LibraryBot

FILE_TYPES = {"m.file", "m.image", "m.audio", "m.video"}
TEXT_TYPES = {"m.text", "m.notice", "m.emote"}
_FALLBACK = re.compile(r"\A(?:> [^\n]*\n)+\n")  # a reply's quote of what it answers


@dataclass
class Source:
    """What a reply pointed at: its text, and the original file if it was one."""

    event_id: str
    text: str
    file: StoredFile | None = None
    data: bytes | None = None


def _size_mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}"


async def read(bot: LibraryBot, room_id: str, event_id: str) -> Source:
    """The text (and file) of the event ``event_id`` in ``room_id``."""
    try:
        ev = await bot.session.fetch_event(room_id, event_id)
    except MessengerError as e:
        raise CommandError(
            N_("cannot read the message you replied to: {error}"), error=str(e)
        ) from None
    if ev.decrypt_error:
        raise CommandError(
            N_(
                "I cannot decrypt the message you replied to (its key was never shared with me); "
                "nothing was stored. Send it again, or paste its text after the options"
            )
        )
    msgtype = ev.content.get("msgtype")
    if ev.type == "m.room.message" and msgtype in FILE_TYPES:
        return await _file(bot, event_id, ev.content)
    if ev.type == "m.room.message" and msgtype in TEXT_TYPES:
        text = _FALLBACK.sub("", ev.body).strip()
        if text:
            return Source(event_id, text)
    raise CommandError(N_("the message you replied to has no text or file I can read"))


async def _file(bot: LibraryBot, event_id: str, content: dict[str, Any]) -> Source:
    raw_info, raw_file = content.get("info"), content.get("file")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    encrypted: dict[str, Any] | None = raw_file if isinstance(raw_file, dict) else None
    url = (encrypted or content).get("url")
    name = content.get("filename") or content.get("body") or "file"
    name = str(name).replace("/", "_")[:200]
    mimetype = str(info.get("mimetype") or (encrypted or {}).get("mimetype") or "")
    limit = bot.max_file_bytes
    declared = info.get("size")
    too_big = N_(
        "the file is {size} MB; the library takes files up to {limit} MB; nothing was stored"
    )
    if isinstance(declared, int) and declared > limit:
        raise CommandError(too_big, size=_size_mb(declared), limit=_size_mb(limit))
    if not isinstance(url, str) or not url.startswith("mxc://"):
        raise CommandError(N_("the file you replied to has no address I can download"))
    if extract.kind_of(name, mimetype) is None:
        raise CommandError(
            N_("cannot read {name}: the library reads text, Markdown, PDF, DOCX and ODT files"),
            name=name,
        )
    try:
        data = await bot.session.download(url, encrypted)
    except MessengerError as e:
        raise CommandError(
            N_("could not download or decrypt the file ({error}); nothing was stored"), error=str(e)
        ) from None
    if len(data) > limit:
        raise CommandError(too_big, size=_size_mb(len(data)), limit=_size_mb(limit))
    try:
        text = await asyncio.to_thread(extract.text_of, data, name, mimetype)
    except extract.Unreadable as e:
        raise CommandError(N_("cannot read {name}: {reason}"), name=name, reason=e.reason) from None
    stored = StoredFile(name=name, mimetype=mimetype or "application/octet-stream", size=len(data))
    return Source(event_id, text, stored, data)
