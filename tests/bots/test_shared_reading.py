"""One bot of a process reads the rooms' messages for the others (messenger/botkit/reading.py):
every bot still answers exactly once, and a room the reader is not in is read by the bots
themselves."""

from __future__ import annotations

import asyncio

from messenger.session import reading
from tests.bots.resources.support import ask, is_error
from tests.support import OrgEnv


async def test_the_reader_hands_every_bot_its_commands_exactly_once(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room_id, (member,), runtime = await org_env.room_with_bots(member_factory)
    bots = settings.org.bot_user_ids()
    reader, *followers = runtime.bots

    pings = [await member.send(room_id, "!ping") for _ in range(3)]
    for ping in pings:
        replies = await member.wait_reply(ping, count=3)
        assert sorted(r["sender"] for r in replies) == sorted(bots.values())
    # A command only a follower knows, answered by it alone.
    verify = await member.send(room_id, "!ledger verify")
    (answer,) = await member.wait_reply(verify)
    assert answer["sender"] == bots["resources"]
    await asyncio.sleep(1.5)  # room for a duplicate, were there one
    for ping in pings:
        assert len(member.replies_to(ping)) == 3
    assert len(member.replies_to(verify)) == 1
    # The followers' own syncs left the messages out: the answers came through the reader.
    assert reader.session.read_elsewhere is None
    for bot in followers:
        assert bot.session.messages_left_out, bot.name
    assert not member.undecryptable()


async def test_a_room_the_reader_left_is_read_by_the_other_bots(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room_id, (member,), runtime = await org_env.room_with_bots(member_factory)
    bots = settings.org.bot_user_ids()
    reader, *followers = runtime.bots
    await reader.rooms.leave(room_id)

    async def reader_gone() -> bool:
        return room_id not in reader.session.joined_rooms()

    await member.wait_until(reader_gone)
    # A state change wakes the followers' syncs, which then take the room's messages again.
    await member.client.set_displayname("Anna")

    async def reading_themselves() -> bool:
        return not any(b.session.messages_left_out for b in followers)

    await member.wait_until(reading_themselves)
    ping = await member.send(room_id, "!ping")
    replies = await member.wait_reply(ping, count=2)
    assert {r["sender"] for r in replies} == {b.user_id for b in followers}
    await asyncio.sleep(1.5)
    assert len(member.replies_to(ping)) == 2
    assert bots["events"] not in {r["sender"] for r in member.replies_to(ping)}


async def test_a_member_who_just_joined_reads_every_bots_answer(
    org_env: OrgEnv, member_factory, make_user, monkeypatch
) -> None:
    """The other bots poll; the reader hands them her join with her command, so each syncs
    before it answers and encrypts its answer for her too (with polls 20 s apart, a bot that
    did not would not know she is there)."""
    monkeypatch.setattr(reading, "POLL_S", 20.0)
    coord, alice = await make_user("coord"), await make_user("member")
    settings = org_env.write_org(
        f"""
        [[working_group]]
        name = "Nordic policy"
        coordinators = ["{coord[0]}"]
        members = ["{alice[0]}"]
        """
    )
    assert not (await org_env.apply(settings)).failed
    room_id = await org_env.room_id("nordic-policy")
    c = await member_factory(*coord)
    await c.wait_joined(room_id)
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    _reader, *followers = runtime.bots

    async def bots_polling() -> bool:
        room = c.client.rooms.get(room_id)
        joined = set(room.users) - set(room.invited_users) if room else set()
        return {b.user_id for b in runtime.bots} <= joined and all(
            b.session.messages_left_out for b in followers
        )

    await c.wait_until(bots_polling)
    a = await member_factory(*alice)  # she accepts the invitation and asks at once
    await a.wait_joined(room_id)
    ping = await a.send(room_id, "!ping")
    replies = await a.wait_reply(ping, count=3)
    assert {r["sender"] for r in replies} == {b.user_id for b in runtime.bots}
    assert not a.undecryptable()


async def test_a_new_coordinator_is_one_at_once_for_every_bot(
    org_env: OrgEnv, member_factory, make_user, monkeypatch
) -> None:
    """A member made coordinator uses a coordinator's command at once: the bot it is for,
    handed it by the reader before its own (slow) sync saw the new power level, syncs first
    and checks the command against the room as it is now."""
    monkeypatch.setattr(reading, "POLL_S", 20.0)
    # The followers learn of the change only from the reader, and are not woken by it: as
    # if their sync were late. Only the catch-up before handling brings them the new level.
    monkeypatch.setattr(
        reading.ReadingMixin,
        "fell_behind",
        lambda self, room_id: self._behind.__setitem__(room_id, self._syncs_started),
    )
    coord, alice = await make_user("coord"), await make_user("member")
    group = """
        [[working_group]]
        name = "Nordic policy"
        coordinators = [{coordinators}]
        members = [{members}]
        """
    settings = org_env.write_org(
        group.format(coordinators=f'"{coord[0]}"', members=f'"{alice[0]}"')
    )
    assert not (await org_env.apply(settings)).failed
    room_id = await org_env.room_id("nordic-policy")
    a = await member_factory(*alice)
    await a.wait_joined(room_id)
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    resources = settings.org.bot_user_ids()["resources"]
    denied = await ask(a, room_id, resources, "!pool add funding 100")
    assert is_error(denied), denied["body"]

    promoted = org_env.write_org(
        group.format(coordinators=f'"{coord[0]}", "{alice[0]}"', members="")
    )
    assert not (await org_env.apply(promoted)).failed
    added = await ask(a, room_id, resources, "!pool add funding 100")
    assert not is_error(added), added["body"]


async def test_commands_sent_while_the_bots_were_down_are_answered_once_by_each(
    org_env: OrgEnv, member_factory
) -> None:
    """The first bot starts answering before the others are made; the commands it read in its
    first sync (sent while every bot was down, which the others leave out of their own syncs)
    reach the others once they are in, and each answers once."""
    settings, room_id, (member,), _runtime = await org_env.room_with_bots(member_factory)
    bots = settings.org.bot_user_ids()
    await org_env.stop_bots()
    ping = await member.send(room_id, "!ping")
    verify = await member.send(room_id, "!ledger verify")
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    replies = await member.wait_reply(ping, count=3)
    assert sorted(r["sender"] for r in replies) == sorted(bots.values())
    (answer,) = await member.wait_reply(verify)
    assert answer["sender"] == bots["resources"]
    await asyncio.sleep(1.5)  # room for a duplicate, were there one
    assert len(member.replies_to(ping)) == 3
    assert len(member.replies_to(verify)) == 1
    for bot in runtime.bots[1:]:
        assert bot.session.messages_left_out, bot.name  # they came through the reader
