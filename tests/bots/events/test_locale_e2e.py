"""The events bot in the members' languages, end to end: replies in the asker's language with
Babel dates, cards in the room's language whoever acts on them, Swedish errors whose command
example stays as declared."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime

import pytest

from tests.bots.events.support import (
    T0_MS,
    command,
    edits_of,
    of_type,
    reminders,
    set_clock,
    sources,
    wait_card,
)
from tests.support import Member, OrgEnv


async def test_locale_sv_lists_events_with_swedish_dates(org_env: OrgEnv, member_factory) -> None:
    settings, room, (alice,), rt = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    card = await command(
        alice, room, bot, '!event create "Summit" 2027-01-15 14:00 Europe/Stockholm'
    )
    assert "Fri 15 Jan 2027, 14:00–15:00 CET" in card["content"]["body"], "the room is English"

    chosen = await command(alice, room, bot, "!locale sv")
    assert "sv" in chosen["content"]["body"]
    listed = (await command(alice, room, bot, "!event list"))["content"]["body"]
    assert listed.startswith("Kommande evenemang i det här rummet"), listed
    assert "fre 15 jan. 2027 14:00–15:00 CET" in listed, listed
    for english in ("Fri", "Jan", "Upcoming"):
        assert english not in listed, listed

    # !tz is the shared preference: set here, read by the list, in Swedish.
    tz = (await command(alice, room, bot, "!tz Africa/Nairobi"))["content"]["body"]
    assert "Jag visar dig tider i Africa/Nairobi" in tz, tz
    assert rt.bots[0].prefs.member(alice.user_id, "tz") == "Africa/Nairobi"
    listed = (await command(alice, room, bot, "!event list"))["content"]["body"]
    assert "fre 15 jan. 2027 16:00–17:00 EAT (Africa/Nairobi)" in listed, listed
    assert "14:00 CET i Europe/Stockholm" in listed, listed


async def test_malformed_create_gets_a_swedish_error_with_the_unchanged_example(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (alice,), rt = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(alice, room, bot, "!locale sv")
    reply = await command(alice, room, bot, '!event create "Summit" 3.12.2027 14:00')
    body = reply["content"]["body"]
    assert reply["content"]["org.samverkan.notice"]["kind"] == "error", body
    assert "date '3.12.2027': inte ett datum; skriv ÅÅÅÅ-MM-DD" in body, body
    assert "Användning: !event create <title> <date> <time> [tz] [--duration D]" in body, body
    example = '!event create "Board meeting" 2027-01-17 14:00 Europe/Stockholm --duration 2h'
    assert f"Exempel: {example}" in body, body
    assert "not a date" not in body

    past = await command(alice, room, bot, '!event create "Summit" 2026-12-03 14:00 UTC')
    body = past["content"]["body"]
    assert "har redan varit" in body, body
    assert '!event create "Summit" 2027-01-11 14:00 UTC' in body, body

    missing = (await command(alice, room, bot, "!event create"))["content"]["body"]
    assert "vad det är, inom citattecken" in missing, missing
    assert f"Exempel: {example}" in missing, missing
    listed = (await command(alice, room, bot, "!event list"))["content"]["body"]
    assert "Inga kommande evenemang i det här rummet" in listed, "nothing was created"


async def test_card_stays_in_the_rooms_language_whoever_answers(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, bots=["events"], extra='languages = ["sv"]'
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(alice, room, bot, "!locale da")
    await command(bob, room, bot, "!locale en")

    card = await command(
        alice, room, bot, '!event create "Styrelsemöte" 2027-01-15 14:00 Europe/Stockholm'
    )
    body = card["content"]["body"]
    assert "fre 15 jan. 2027 14:00–15:00 CET" in body, body
    assert "OSA: ✅ 0" in body, body
    assert "Reagera ✅ ❌ ❔ för att svara" in body, body

    answered = await command(alice, room, bot, "!event rsvp E1 yes")
    assert answered["content"]["body"].startswith("Noteret: kommer til Styrelsemöte (E1)")
    answered = await command(bob, room, bot, "!event rsvp E1 maybe")
    assert answered["content"]["body"].startswith("Noted: maybe for Styrelsemöte (E1)")

    await wait_card(alice, room, bot, "E1", lambda s: len(s["rsvps"]) == 2)

    async def both_on_the_card() -> bool:
        new = [e["content"]["m.new_content"] for e in edits_of(alice, room, bot)]
        return any("Kanske: " in n["body"] and "Kommer: " in n["body"] for n in new)

    await alice.wait_until(both_on_the_card)
    for edit in edits_of(alice, room, bot):
        new = edit["content"]["m.new_content"]
        assert "OSA: " in new["body"], new["body"]
        assert "fre 15 jan. 2027" in new["body"], new["body"]
        for other in ("Going", "Maybe", "RSVP", "Tilmelding", "Måske"):  # not en, not da
            assert other not in new["body"], new["body"]
        assert "OSA: " in new["formatted_body"], new["formatted_body"]

    # What the room shares stays in its language whoever caused it: bob's (en) poll asks in
    # Swedish, and the reminder is Swedish.
    asked = await command(bob, room, bot, '!event poll "Fika" 2027-01-20T14:00 2027-01-21T09:00')
    assert asked["content"]["body"].startswith("📊 Poll P1 is up"), "his reply: English"
    await alice.wait_until(lambda: _has(alice, room, bot, "org.matrix.msc3381.poll.start"))
    (poll,) = of_type(alice, room, bot, "org.matrix.msc3381.poll.start")
    question = poll["content"]["org.matrix.msc3381.poll.start"]["question"]["body"]
    assert question == "Fika (P1): när passar det er?"
    start = int(datetime.fromisoformat("2027-01-15T14:00:00+01:00").timestamp() * 1000)
    set_clock(rt, start - 24 * 3_600_000 + 1_000)

    async def reminded() -> bool:
        return bool(reminders(alice, room, bot))

    await alice.wait_until(reminded)
    (reminder,) = reminders(alice, room, bot)
    assert "Styrelsemöte (E1) börjar om 24h: fre 15 jan. 2027" in reminder["content"]["body"]


async def _has(member: Member, room: str, bot: str, event_type: str) -> bool:
    return bool(of_type(member, room, bot, event_type))


PSEUDO_SUITE = [
    '!event create "Summit" 2027-01-15 14:00 --where Hall',  # no zone: the UTC note
    "!tz",
    "!tz Europe/Oslo",
    "!event list",
    "!event list --all",
    "!event show E1",
    "!event rsvp E1 maybe",
    "!event edit E1 --time 15:00",
    "!event agenda E1",
    "!event agenda E1 add Budget",
    "!event agenda E1",
    "!event remind E1 2h",
    "!event remind E1 2h",
    '!event poll "Fika" 2027-01-20T14:00 2027-01-21T09:00 --close-in 2d',
    "!event poll close P1",
    "!event poll accept P1",
    "!event poll accept P1 1",
    '!event create "Summit" 3.12.2027 14:00',
    '!event create "Summit" 2027-12-03 14:00 Europe/Stokholm',
    '!event create "Summit" 2026-12-03 14:00 UTC',
    '!event create "Night" 2027-03-28 02:30 Europe/Stockholm',
    '!event create "" 2027-12-03 14:00 UTC',
    "!event create",
    "!event show E99",
    "!event rsvp E1 perhaps",
    "!event remind E1 soon",
    "!event edit E1",
    "!event agenda E1 remove 9",
    "!event cancel E1",
    "!event cancel E1",
]
OUTSIDE = re.compile(r"⟦[^⟧]*⟧|![^\n⟦]*|\S*[@:/]\S*|<[^>]*>")
SENTENCE = re.compile(r"\b[A-Za-z]{3,}\s+[A-Za-z]{3,}\b")


async def test_nothing_the_bot_says_escapes_the_catalogue(
    org_env: OrgEnv, member_factory, caplog: pytest.LogCaptureFixture
) -> None:
    """Under the en-XA pseudo-locale every catalogue string is bracketed: what is left outside
    the brackets is commands, IDs, people, times and what members wrote — never a sentence."""
    settings, room, (alice,), rt = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    await command(alice, room, bot, "!locale en-XA")
    for text in PSEUDO_SUITE:
        await command(alice, room, bot, text)
    await asyncio.sleep(1.5)  # the last card edits
    said = [
        str((s["content"].get("m.new_content") or s["content"]).get("body", ""))
        for s in sources(alice, room, bot)
        if s["type"] == "m.room.message"
    ]
    assert len(said) > len(PSEUDO_SUITE)
    crashed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashed, "every refusal is rendered, none crashes a handler"
    for body in said[1:]:  # the first is !locale's English confirmation of the choice
        rest = OUTSIDE.sub(" ", body)
        assert not SENTENCE.search(rest), (body, rest)
