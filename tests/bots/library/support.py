"""Test support for the library bot: an organisation of three rooms, asking and reading the
bot's answers as a member's client sees them, and sending encrypted files."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from docx import Document

from bots.runtime import Runtime
from messenger.config import Settings, slugify
from tests.support import Member, OrgEnv

CARD_KEY = "org.samverkan.library"
SEARCH_KEY = "org.samverkan.library.search"


@dataclass
class Library:
    """Rooms A (alice, carol, dave; anna coordinates), B (carol, dave) and C (bob)."""

    settings: Settings
    runtime: Runtime
    bot: str
    rooms: dict[str, str]
    people: dict[str, Member]


async def library_org(
    org_env: OrgEnv, member_factory: Any, *, bots_extra: str = "", partnership: bool = False
) -> Library:
    """Provision the three rooms with the library bot running and everyone joined.

    With ``partnership``, room A is a partnership (its entries may go to partners)."""
    names = ["anna", "alice", "carol", "dave", "bob"]
    users = {n: await org_env.make_user(n) for n in names}
    uid = {n: users[n][0] for n in names}
    first = "partnership" if partnership else "working_group"
    partners = 'partners = ["Sister party"]' if partnership else ""
    settings = org_env.write_org(
        f"""
        {bots_extra}
        [[{first}]]
        name = "Room A"
        {partners}
        coordinators = ["{uid["anna"]}"]
        members = ["{uid["alice"]}", "{uid["carol"]}", "{uid["dave"]}"]
        [[working_group]]
        name = "Room B"
        members = ["{uid["carol"]}", "{uid["dave"]}"]
        [[working_group]]
        name = "Room C"
        members = ["{uid["bob"]}"]
        """,
        enabled=["library"],
    )
    report = await org_env.apply(settings)
    assert not report.failed, report.failed
    rooms = {k: await org_env.room_id(slugify(f"Room {k}")) for k in "ABC"}
    people = {n: await member_factory(*users[n]) for n in names}
    where = {"anna": "A", "alice": "A", "carol": "AB", "dave": "AB", "bob": "C"}
    for n, letters in where.items():
        for k in letters:
            await people[n].wait_joined(rooms[k])
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    bot = runtime.bots[0].user_id
    for n, letters in where.items():
        await people[n].wait_all_joined([rooms[k] for k in letters], {bot})
    return Library(settings, runtime, bot, rooms, people)


async def ask(member: Member, room_id: str, bot: str, text: str, **extra: Any) -> dict[str, Any]:
    """Send a command; the content of the bot's first answer (decrypted)."""
    sent = await member.send(room_id, text, **extra)
    (reply, *_) = await member.wait_reply(sent, sender=bot)
    return dict(reply["content"])


def is_error(content: dict[str, Any]) -> bool:
    """Whether an answer is the bot's refusal."""
    return bool(content.get("org.samverkan.notice", {}).get("kind") == "error")


def hit_ids(content: dict[str, Any]) -> list[str]:
    """The entry IDs of a search answer, best first."""
    return [h["id"] for h in content[SEARCH_KEY]["hits"]]


def reply_to(event_id: str) -> dict[str, Any]:
    """The relation of a rich reply (as Element sends it)."""
    return {"m.relates_to": {"m.in_reply_to": {"event_id": event_id}}}


def docx_bytes(*paragraphs: str) -> bytes:
    """A Word document with these paragraphs."""
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


async def send_file(
    member: Member, room_id: str, data: bytes, name: str, mimetype: str, size: int | None = None
) -> str:
    """Upload ``data`` encrypted (as Element does in an encrypted room) and post it."""
    resp, keys = await member.client.upload(
        lambda *_: io.BytesIO(data),
        content_type="application/octet-stream",
        filename=name,
        encrypt=True,
        filesize=len(data),
    )
    assert getattr(resp, "content_uri", None), resp
    content = {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        "info": {"mimetype": mimetype, "size": len(data) if size is None else size},
        "file": {**keys, "url": resp.content_uri, "mimetype": mimetype},
    }
    return await member.send_event(room_id, "m.room.message", content)


def tag() -> str:
    """A word no other test writes."""
    return "zq" + uuid.uuid4().hex[:10]


def cards(member: Member, room_id: str, bot: str) -> list[dict[str, Any]]:
    """The library payloads of the bot's cards in a room (edits included), as received."""
    out = []
    for room, ev in member.events:
        src = getattr(ev, "source", {})
        content = src.get("content", {})
        new = content.get("m.new_content") if isinstance(content, dict) else None
        data = (new if isinstance(new, dict) else content).get(CARD_KEY)
        if room == room_id and src.get("sender") == bot and isinstance(data, dict):
            out.append(data)
    return out
