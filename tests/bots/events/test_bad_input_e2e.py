"""Bad input and DST nights end to end: a clear answer with an example, and nothing changes."""

from __future__ import annotations

import asyncio

from tests.bots.events.support import T0_MS, card_states, command, set_clock
from tests.support import OrgEnv

BAD = [
    ('!event create "Summit" 3.12.2027 14:00', ["date '3.12.2027'", "YYYY-MM-DD", "e.g."]),
    ('!event create "Summit" 2027-02-30 14:00', ["no such day"]),
    ('!event create "Summit" 2027-12-03 25:00', ["time '25:00'", "e.g. 14:00"]),
    ('!event create "Summit" 2027-12-03 14:00 Europe/Stokholm', ["Europe/Stockholm"]),
    ('!event create "Summit" 2027-12-03 14:00 Mars/Olympus', ["unknown timezone"]),
    (  # the hint reuses the user's own title and proposes tomorrow (the clock is T0)
        '!event create "Summit" 2026-12-03 14:00 UTC',
        ["in the past", 'e.g. !event create "Summit" 2027-01-11 14:00 UTC'],
    ),
    (  # the usage example is dated from the bot's today (T0), never a fixed past date
        "!event create",
        ['Example: !event create "Board meeting" 2027-01-17 14:00 Europe/Stockholm'],
    ),
    (
        '!event poll "Partner call" 2027-01-09T10:00 2027-01-12T10:00',
        ["in the past", 'e.g. !event poll "Partner call" 2027-01-11T10:00'],
    ),
    ('!event create "Summit" 2027-12-03 14:00 --duration forever', ["90m"]),
    ("!event show E99", ["no event E99", "e.g. !event show E1"]),
    ("!event show X1", ["not an event ID", "E7"]),
    ("!event rsvp E1 perhaps", ["yes, no or maybe", "!event rsvp E7 yes"]),
    ("!event rsvp E99 yes", ["no event E99"]),
    ("!event remind E1 soon", ["1h, 24h"]),
    ("!tz Atlantis/Capital", ["unknown timezone", "Europe/Stockholm"]),
]


async def test_each_bad_input_is_explained_and_changes_nothing(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (alice,), rt = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(alice, room, bot, '!event create "Base" 2027-02-01 10:00 UTC')
    before = card_states(alice, room, bot)
    sent = [(await alice.send(room, text), expected) for text, expected in BAD]
    for event_id, expected in sent:
        (reply,) = await alice.wait_reply(event_id, sender=bot)
        body = reply["content"]["body"]
        assert reply["content"]["org.samverkan.notice"]["kind"] == "error", body
        for part in expected:
            assert part in body, (part, body)
    await asyncio.sleep(1)
    assert card_states(alice, room, bot) == before
    listed = await command(alice, room, bot, "!event list")
    assert "E1 · Base" in listed["content"]["body"]
    assert "E2" not in listed["content"]["body"]


async def test_dst_nights_nonexistent_and_ambiguous_times(org_env: OrgEnv, member_factory) -> None:
    settings, room, (alice,), rt = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    gap = await command(alice, room, bot, '!event create "Night" 2027-03-28 02:30 Europe/Stockholm')
    body = gap["content"]["body"]
    assert "02:30 does not exist on 2027-03-28 in Europe/Stockholm" in body
    assert '!event create "Night" 2027-03-28 03:30 Europe/Stockholm' in body
    assert card_states(alice, room, bot) == {}

    sent = await alice.send(room, '!event create "Night" 2027-10-31 02:30 Europe/Stockholm')
    replies = await alice.wait_reply(sent, sender=bot, count=2)
    card = next(r for r in replies if "org.samverkan.event" in r["content"])
    assert card["content"]["org.samverkan.event"]["start"] == "2027-10-31T02:30:00+02:00"
    note = next(r for r in replies if "org.samverkan.notice" in r["content"])
    assert "happens twice" in note["content"]["body"]
    assert "CEST (UTC+02:00)" in note["content"]["body"]
    assert "01:30 UTC" in note["content"]["body"]
    # The end, 1 h later on the wall clock's second pass, is shown in CET.
    assert "02:30 CEST–02:30 CET" in card["content"]["body"]
