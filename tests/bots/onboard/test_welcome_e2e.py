"""The welcome, end to end on the real Synapse: a member invited by ``org apply`` gets exactly
one, threaded on their join, in their language, with the room's text and decision norm — and
no second one after a restart, a second apply, or leaving and being invited again."""

from __future__ import annotations

import asyncio
from typing import Any

from messenger.i18n import translator
from tests.bots.onboard.support import (
    ask,
    group_toml,
    join_event,
    joined,
    provision,
    wait_bot_joined,
    welcomes,
)
from tests.support import OrgEnv

EXTRA = """
welcome = "Karibu! Read the agenda before the call."
decisions = "consensus"
languages = ["sv", "en"]
"""


async def test_a_member_invited_by_org_apply_is_welcomed_exactly_once(
    org_env: OrgEnv, member_factory: Any, make_user: Any
) -> None:
    coord, alice, bob = [await make_user(n) for n in ("coord", "alice", "bob")]
    group = "Kenya link"
    body = group_toml(group, [coord[0]], [alice[0], bob[0]], EXTRA, kind="partnership")
    settings = await provision(org_env, body)  # invites her (as samverkan up does)
    room, (c,) = await joined(org_env, member_factory, [coord], group)
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    bot = runtime.bots[0].user_id
    await wait_bot_joined(c, room, bot)
    await runtime.bots[0].prefs.set_member(alice[0], "locale", "da")  # hers: not the room's sv
    a = await member_factory(*alice)  # she accepts the invitation now
    await a.wait_joined(room)

    async def welcomed() -> bool:
        return bool(welcomes(a, room, bot))

    await a.wait_until(welcomed)
    (welcome,) = welcomes(a, room, bot)
    content = welcome["content"]
    da = translator("da")
    hello = da.gettext("👋 Welcome to {room}, {user}!").format(room=group, user=alice[0])
    assert content["body"].startswith(hello)
    assert "Karibu! Read the agenda before the call." in content["body"], "the group's text"
    assert da.gettext("To get started:") in content["body"], "in her language (Danish)"
    assert (
        da.gettext(
            "Decisions here are by consensus: a poll settles on a time every voter chose, so tick "
            "every slot you can make."
        )
        in content["body"]
    )
    for command in ("!tz", "!locale", "!skills add", "!translator add", "!onboard"):
        assert command in content["body"]
    assert content["m.mentions"]["user_ids"] == [alice[0]]
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] in join_event(a, room, alice[0]), "on her join"

    # A restart, a second apply, leaving and being invited again: no second welcome.
    await org_env.stop_bots()
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    assert not (await org_env.apply(settings)).failed
    await a.client.room_leave(room)

    async def left_and_back() -> bool:
        return len(join_event(c, room, alice[0])) >= 2

    await asyncio.sleep(1)
    assert not (await org_env.apply(settings)).failed  # invites her again; her client joins
    await c.wait_until(left_and_back)
    await ask(c, room, bot, "!ping")  # the bot has handled everything before this
    await asyncio.sleep(2)
    everyone_sees = welcomes(c, room, bot)
    assert len(everyone_sees) == 1, [w["content"]["body"][:60] for w in everyone_sees]
    assert everyone_sees[0]["content"]["m.mentions"]["user_ids"] == [alice[0]], (
        "the coordinator, in the room before the bot, got none"
    )
    assert not c.undecryptable()

    # A coordinator switches welcomes off: Bob, joining now, gets none.
    off = await ask(c, room, bot, "!onboard off")
    assert (
        translator("sv").gettext(
            "New members of this room get no welcome now; !onboard on turns it back on."
        )
        in off
    ), "in the room's language (Swedish)"
    b = await member_factory(*bob)
    await b.wait_joined(room)

    async def bob_joined() -> bool:
        return bool(join_event(c, room, bob[0]))

    await c.wait_until(bob_joined)
    await ask(c, room, bot, "!ping")
    await asyncio.sleep(2)
    assert len(welcomes(c, room, bot)) == 1, "welcomes are off in this room"
