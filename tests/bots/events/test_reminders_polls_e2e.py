"""Reminders (injected clock, across a restart) and native scheduling polls, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from tests.bots.events.support import (
    T0_MS,
    command,
    of_type,
    reminders,
    set_clock,
    wait_card,
)
from tests.support import Member, OrgEnv

START_MS = int(datetime.fromisoformat("2027-01-12T09:00:00+01:00").timestamp() * 1000)
HOUR = 3_600_000


async def test_reminders_fire_once_at_the_right_time_across_a_restart(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (coord, alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    card = await command(
        alice, room, bot, '!event create "Leadership" 2027-01-12 09:00 Europe/Oslo'
    )
    assert card["content"]["org.samverkan.event"]["reminders"] == ["24h", "1h"]
    await command(bob, room, bot, "!event rsvp E1 no")
    await wait_card(alice, room, bot, "E1", lambda s: s["rsvps"].get(bob.user_id) == "no")

    set_clock(rt, START_MS - 24 * HOUR - 60_000)  # a minute early: nothing yet
    await asyncio.sleep(2.5)
    assert reminders(alice, room, bot) == []

    set_clock(rt, START_MS - 24 * HOUR + 1_000)
    await alice.wait_until(_count(alice, room, bot, 1))
    (first,) = reminders(alice, room, bot)
    c = first["content"]
    assert c["org.samverkan.event.reminder"]["offset"] == "24h"
    assert set(c["m.mentions"]["user_ids"]) == {coord.user_id, alice.user_id}
    assert bob.user_id not in c["body"], "whoever declined is not reminded"
    assert alice.user_id in c["body"]
    assert c["m.relates_to"]["rel_type"] == "m.thread"
    assert c["m.relates_to"]["event_id"] == card["event_id"]
    assert "starts in 24h" in c["body"]

    # Restart between scheduling and firing of the 1h reminder.
    await org_env.stop_bots()
    rt = await org_env.start_bots(settings, ["events"])
    await rt.wait_synced()
    set_clock(rt, START_MS - HOUR + 1_000)
    await alice.wait_until(_count(alice, room, bot, 2))
    await asyncio.sleep(2.5)  # more ticks: still no repeat
    fired = reminders(alice, room, bot)
    assert [r["content"]["org.samverkan.event.reminder"]["offset"] for r in fired] == ["24h", "1h"]
    assert not alice.undecryptable()


def _count(member: Member, room: str, bot: str, n: int) -> Callable[[], Awaitable[bool]]:
    async def ok() -> bool:
        return len(reminders(member, room, bot)) >= n

    return ok


async def test_poll_answered_by_two_members_closed_tallied_and_accepted(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (alice, bob, carol), rt = await org_env.room_with_bots(
        member_factory, members=3, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(
        alice,
        room,
        bot,
        '!event poll "Partner call" 2027-01-20T14:00 2027-01-21 09:00 2027-01-22T16:30'
        " --tz Africa/Nairobi --duration 90m",
    )

    async def started() -> bool:
        return bool(of_type(alice, room, bot, "org.matrix.msc3381.poll.start"))

    await alice.wait_until(started)
    (start,) = of_type(alice, room, bot, "org.matrix.msc3381.poll.start")
    block = start["content"]["org.matrix.msc3381.poll.start"]
    assert block["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert block["max_selections"] == 1
    answers = block["answers"]
    assert [a["id"] for a in answers] == ["s1", "s2", "s3"]
    assert answers[0]["org.matrix.msc1767.text"].startswith("Wed 20 Jan 2027, 14:00 EAT")
    assert "11:00 UTC" in answers[0]["org.matrix.msc1767.text"]
    assert start["content"]["m.poll"]["answers"][1]["m.id"] == "s2"
    assert "org.matrix.msc1767.text" in start["content"]

    def vote(answer: str) -> dict:
        return {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start["event_id"]},
            "org.matrix.msc3381.poll.response": {"answers": [answer]},
        }

    await bob.send_event(room, "org.matrix.msc3381.poll.response", vote("s1"))
    await carol.send_event(room, "org.matrix.msc3381.poll.response", vote("s3"))
    await carol.send_event(room, "org.matrix.msc3381.poll.response", vote("s2"))  # changes mind
    await alice.send_event(room, "org.matrix.msc3381.poll.response", vote("s2"))
    await asyncio.sleep(1.5)

    refused = await command(bob, room, bot, "!event poll close P1")
    assert "only P1's creator" in refused["content"]["body"]
    tally = await command(alice, room, bot, "!event poll close P1")
    data = tally["content"]["org.samverkan.poll"]
    assert data["status"] == "closed"
    assert data["votes"] == {
        "s1": [bob.user_id],
        "s2": sorted([alice.user_id, carol.user_id]),
        "s3": [],
    }
    assert data["winner"] == "s2"
    assert "!event poll accept P1" in tally["content"]["body"]

    async def ended() -> bool:
        return bool(of_type(alice, room, bot, "org.matrix.msc3381.poll.end"))

    await alice.wait_until(ended)
    (end,) = of_type(alice, room, bot, "org.matrix.msc3381.poll.end")
    assert end["content"]["m.relates_to"] == {
        "rel_type": "m.reference",
        "event_id": start["event_id"],
    }

    card = await command(alice, room, bot, "!event poll accept P1")
    event = card["content"]["org.samverkan.event"]
    assert event["start"] == "2027-01-21T09:00:00+03:00"
    assert event["duration_minutes"] == 90
    assert event["title"] == "Partner call"
    again = await command(alice, room, bot, "!event poll accept P1")
    assert "already became event E1" in again["content"]["body"]


async def test_poll_closes_by_itself_after_close_in(org_env: OrgEnv, member_factory) -> None:
    settings, room, (alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(
        alice, room, bot, '!event poll "Retro" 2027-01-20T14:00 2027-01-21T14:00 --close-in 1d'
    )

    async def started() -> bool:
        return bool(of_type(alice, room, bot, "org.matrix.msc3381.poll.start"))

    await alice.wait_until(started)
    (start,) = of_type(alice, room, bot, "org.matrix.msc3381.poll.start")
    await bob.send_event(
        room,
        "org.matrix.msc3381.poll.response",
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start["event_id"]},
            "org.matrix.msc3381.poll.response": {"answers": ["s2"]},
        },
    )
    await asyncio.sleep(1.5)
    set_clock(rt, T0_MS + 24 * HOUR + 1_000)

    async def ended() -> bool:
        return bool(of_type(alice, room, bot, "org.matrix.msc3381.poll.end"))

    await alice.wait_until(ended)
    (end,) = of_type(alice, room, bot, "org.matrix.msc3381.poll.end")
    assert end["content"]["org.samverkan.poll"]["winner"] == "s2"
    assert "Winner: Thu 21 Jan 2027" in end["content"]["org.matrix.msc1767.text"]
