"""Helpers for the projects bot tests: a room with the bot, its clock, cards and attachments
as a member's client decrypts them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from nio.crypto import decrypt_attachment

from bots.runtime import Runtime
from tests.bots.resources.support import ask, is_error
from tests.support import Member, OrgEnv

PROJECT_KEY = "org.samverkan.project"
REPORT_KEY = "org.samverkan.project.report"
T0 = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # a Monday; the bots' injected "now"
T0_MS = int(T0.timestamp() * 1000)
DAY = 86_400_000
ENABLED = ["events", "resources", "translate", "projects"]
__all__ = ["ask", "is_error"]


async def projects_room(
    org_env: OrgEnv,
    member_factory: Any,
    *,
    members: int = 1,
    coordinators: int = 0,
    bots: list[str] | None = None,
) -> tuple[Any, str, list[Member], Runtime, str]:
    """A working group with the projects bot (and ``bots``), its clock at ``T0``; returns
    (settings, room, people — coordinators first —, runtime, the projects bot's user ID)."""
    settings, room, people, rt = await org_env.room_with_bots(
        member_factory, members=members, coordinators=coordinators,
        bots=bots or ["projects"], enabled=ENABLED + [b for b in bots or [] if b not in ENABLED],
    )  # fmt: skip
    set_clock(rt, T0_MS)
    return settings, room, people, rt, settings.org.bot_user_ids()["projects"]


def set_clock(rt: Runtime, ms: int) -> None:
    """Move every bot's clock (the projects bot's reminders and 'today')."""
    for bot in rt.bots:
        bot.clock = lambda ms=ms: ms  # type: ignore[misc]


def projects_bot(rt: Runtime) -> Any:
    """The runtime's projects bot."""
    return next(b for b in rt.bots if b.name == "projects")


def from_bot(m: Member, room: str, bot: str) -> list[dict[str, Any]]:
    """Decrypted event sources from the bot in a room, in arrival order."""
    return [
        getattr(ev, "source", {})
        for r, ev in m.events
        if r == room and getattr(ev, "source", {}).get("sender") == bot
    ]


def cards(m: Member, room: str, bot: str) -> dict[str, dict[str, Any]]:
    """Project ID → the newest state of its card (the card or an edit of it)."""
    best: dict[str, dict[str, Any]] = {}
    for src in from_bot(m, room, bot):
        content = src.get("content", {})
        rel = content.get("m.relates_to", {})
        if rel.get("rel_type") == "m.thread":
            continue  # threaded answers carry the state too; the card is what we follow
        new = content.get("m.new_content")
        data = (new if isinstance(new, dict) else content).get(PROJECT_KEY)
        if not isinstance(data, dict):
            continue
        known = best.get(data["id"])
        if known is None or data["revision"] >= known["revision"]:
            best[data["id"]] = data
    return best


def card_event(m: Member, room: str, bot: str, pid: str) -> str:
    """The event ID of a project's card (the original, not an edit)."""
    for src in from_bot(m, room, bot):
        content = src.get("content", {})
        data = content.get(PROJECT_KEY)
        if isinstance(data, dict) and data["id"] == pid and "m.new_content" not in content:
            if content.get("m.relates_to", {}).get("rel_type") != "m.thread":
                return str(src["event_id"])
    raise AssertionError(f"no card for {pid}")


async def wait_card(m: Member, room: str, bot: str, pid: str, pred: Any) -> dict[str, Any]:
    """Wait until the member's newest view of a project's card satisfies ``pred``."""

    async def ok() -> bool:
        state = cards(m, room, bot).get(pid)
        return state is not None and bool(pred(state))

    await m.wait_until(ok)
    return cards(m, room, bot)[pid]


def in_card_thread(m: Member, room: str, bot: str, card: str) -> list[dict[str, Any]]:
    """The bot's messages in the thread of a card."""
    return [
        s
        for s in from_bot(m, room, bot)
        if s.get("content", {}).get("m.relates_to", {}).get("rel_type") == "m.thread"
        and s["content"]["m.relates_to"].get("event_id") == card
    ]


async def download(m: Member, content: dict[str, Any]) -> bytes:
    """Download and decrypt an encrypted attachment with the member's own nio client."""
    f = content["file"]
    resp = await m.client.download(mxc=f["url"])
    return bytes(decrypt_attachment(resp.body, f["key"]["k"], f["hashes"]["sha256"], f["iv"]))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


async def report(m: Member, room: str, bot: str, body: str) -> tuple[dict[str, Any], bytes]:
    """Send a report command; (the notice's content, the decrypted attachment)."""
    sent = await m.send(room, body)
    replies = await m.wait_reply(sent, sender=bot, count=2)
    notice = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.notice")
    upload = next(r["content"] for r in replies if r["content"]["msgtype"] == "m.file")
    return notice, await download(m, upload)
