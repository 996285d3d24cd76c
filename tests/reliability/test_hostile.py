"""Hostile input: outsiders, strangers' invites, bypass attempts, forged content, huge and
malformed bodies, markup injection. Each gets a clear answer or is ignored by design."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from messenger.botkit.bot import Bot
from messenger.botkit.commands import CommandError, CommandTable, declared_commands
from messenger.protocol import EventCard, parse_structured
from tests.support import OrgEnv


async def test_outsiders_strangers_and_bypass_attempts(
    org_env: OrgEnv, make_user, member_factory
) -> None:  # noqa: E501
    settings, room_id, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events", "resources"]
    )
    bots = {b.name: b.user_id for b in runtime.bots}

    # A member cannot invite outsiders (invite needs power 50) …
    outsider_id, outsider_pw = await make_user("outsider")
    resp = await member.client.room_invite(room_id, outsider_id)
    assert getattr(resp, "status_code", None) == "M_FORBIDDEN"
    # … and when a coordinator does, the bots ignore the outsider's commands.
    await coord.client.room_invite(room_id, outsider_id)
    outsider = await member_factory(outsider_id, outsider_pw)
    await outsider.wait_joined(room_id)
    ignored = await outsider.send(room_id, "!ping")

    # Power-level bypass: a member adding to a pool is refused, naming the level.
    bypass = await member.send(room_id, "!pool add funding 1000")
    (refusal,) = await member.wait_reply(bypass, sender=bots["resources"])
    assert "power level 50" in refusal["content"]["body"]

    # A stranger's room: the bot refuses the invite.
    stranger_id, stranger_pw = await make_user("stranger")
    stranger = await member_factory(stranger_id, stranger_pw)
    created = await stranger.client.room_create(name="Totally legit", invite=[bots["events"]])

    async def bot_left() -> bool:
        state = await stranger.client.room_get_state_event(
            created.room_id, "m.room.member", bots["events"]
        )
        return getattr(state, "content", {}).get("membership") == "leave"

    await stranger.wait_until(bot_left)

    # Markup injection in a title is escaped in the HTML body.
    evil = await member.send(
        room_id, '!event create "<img src=x onerror=alert(1)>" 2031-01-02 10:00 UTC'
    )
    (card,) = await member.wait_reply(evil, sender=bots["events"])
    assert "<img" not in card["content"]["formatted_body"]
    assert "&lt;img" in card["content"]["formatted_body"]

    # Bidi overrides and control characters do not break anything.
    bidi = await member.send(
        room_id, '!event create "Budget \u202egnitaem\u202c \x07" 2031-01-03 10:00 UTC'
    )
    (answer,) = await member.wait_reply(bidi, sender=bots["events"])
    assert answer["content"]["msgtype"] == "m.notice"

    # Synapse refuses events over 64 KiB; encrypted, ~45 KB of text is the most a body can be.
    # A command that large gets a clear "too long"; a chat message that large is just chat.
    huge = await member.send(room_id, "!ping " + "x" * 40_000)
    (too_long,) = await member.wait_reply(huge, sender=bots["events"])
    assert "too long" in too_long["content"]["body"]
    await member.send(room_id, "y" * 40_000)

    # Malformed events: a body that is not a string, a relation that is not an object.
    await member.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": 12345})
    await member.send_event(
        room_id,
        "m.room.message",
        {"msgtype": "m.text", "body": "!ping", "m.relates_to": "nonsense"},
    )

    # Forged structured content from a member is not trusted by anyone reading it.
    forged = {
        "msgtype": "m.notice",
        "body": "fake card",
        "org.samverkan.event": {"id": "E1", "title": "Forged", "version": 1},
    }
    await member.send_event(room_id, "m.room.message", forged)
    assert parse_structured(EventCard, forged, member.user_id, set(bots.values())) is None

    # Through all of it, the bots stay alive and answer.
    alive = await member.send(room_id, "!ping")
    replies = await member.wait_reply(alive, count=len(bots))
    assert {r["sender"] for r in replies} == set(bots.values())
    await asyncio.sleep(1)
    assert outsider.replies_to(ignored) == []
    del settings


def all_command_tables() -> list[CommandTable]:
    from bots.runtime import bot_class

    tables = []
    for name in ("events", "resources", "translate", "library", "projects"):
        cls = bot_class(name)
        bot = object.__new__(cls)  # declarations only: no session needed
        found = declared_commands(bot)
        for group in cls.GROUPS:  # type: ignore[attr-defined]
            found += declared_commands(group(bot))
        assert found, f"{name}: no commands found"
        tables.append(CommandTable(found))
    return tables


TABLES = all_command_tables()
words = st.lists(st.text(max_size=30), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0), words)
def test_fuzz_every_command_parser(pick: int, args: list[str]) -> None:
    """Any words given to any declared command parse or raise a CommandError — nothing else."""
    commands = [c for t in TABLES for c in t.commands]
    cmd = commands[pick % len(commands)]
    try:
        if cmd.raw:
            cmd.bind_raw(" ".join(args))
        else:
            cmd.bind(args)
    except CommandError as e:
        assert str(e)  # noqa: PT017 -- fuzz: a refusal must say what was wrong


def test_bot_base_is_importable_without_a_session() -> None:
    assert issubclass(type(object.__new__(Bot)), Bot)
