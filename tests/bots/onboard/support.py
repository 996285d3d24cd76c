"""Test support: organisations with several groups, and reading welcomes and replies as a
member's client sees them (decrypted)."""

from __future__ import annotations

import textwrap
from typing import Any

from messenger.config import Settings, slugify
from tests.bots.events.support import sources
from tests.support import Member, OrgEnv


def group_toml(
    name: str,
    coordinators: list[str],
    members: list[str],
    extra: str = "",
    kind: str = "working_group",
) -> str:
    """One ``[[working_group]]`` (or partnership) table."""
    quoted = lambda users: ", ".join(f'"{u}"' for u in users)  # noqa: E731
    return textwrap.dedent(f"""
        [[{kind}]]
        name = "{name}"
        coordinators = [{quoted(coordinators)}]
        members = [{quoted(members)}]
    """) + textwrap.dedent(extra)


async def provision(org_env: OrgEnv, body: str) -> Settings:
    """Write the organisation file (groups in ``body``) and apply it; nothing may fail."""
    settings = org_env.write_org(body, enabled=["events"])
    report = await org_env.apply(settings)
    assert not report.failed, report.failed
    return settings


async def joined(
    org_env: OrgEnv, member_factory: Any, people: list[tuple[str, str]], group: str
) -> tuple[str, list[Member]]:
    """The group's room ID and a logged-in client for each person, joined to it."""
    room_id = await org_env.room_id(slugify(group))
    clients = [await member_factory(u, pw) for u, pw in people]
    for c in clients:
        await c.wait_joined(room_id)
    return room_id, clients


async def wait_bot_joined(member: Member, room_id: str, bot: str) -> None:
    """Until the bot has joined the room, as the member's client sees it."""

    async def ok() -> bool:
        room = member.client.rooms.get(room_id)
        return bool(room) and bot in set(room.users) - set(room.invited_users)

    await member.wait_until(ok)


def welcomes(member: Member, room_id: str, bot: str) -> list[dict[str, Any]]:
    """The bot's welcomes in a room (``org.samverkan.notice`` of kind ``welcome``)."""
    return [
        s
        for s in sources(member, room_id, bot)
        if s.get("content", {}).get("org.samverkan.notice", {}).get("kind") == "welcome"
    ]


def join_event(member: Member, room_id: str, user: str) -> list[str]:
    """The event IDs of ``user``'s joins in a room, as ``member`` saw them."""
    out = []
    for room, ev in member.events:
        src = getattr(ev, "source", {})
        if (
            room == room_id
            and src.get("type") == "m.room.member"
            and src.get("state_key") == user
            and src.get("content", {}).get("membership") == "join"
        ):
            out.append(str(src["event_id"]))
    return out


async def ask(member: Member, room_id: str, bot: str, text: str, count: int = 1) -> str:
    """Send a command; the body of the bot's answers to it (``count`` of them), joined."""
    sent = await member.send(room_id, text)
    replies = await member.wait_reply(sent, sender=bot, count=count)
    return "\n".join(str(r["content"].get("body", "")) for r in replies)
