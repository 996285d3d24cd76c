"""Event cards end to end: create, RSVP by command or reaction, edits in place, ics, permissions."""

from __future__ import annotations

import asyncio
from datetime import datetime

from icalendar import Calendar
from nio.crypto import decrypt_attachment

from tests.bots.events.support import T0_MS, card_states, command, edits_of, set_clock, wait_card
from tests.support import OrgEnv


async def test_card_rsvp_by_command_and_reaction_edits_in_place(
    org_env: OrgEnv, member_factory
) -> None:
    settings, room, (coord, alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, coordinators=1, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)

    cmd = await alice.send(
        room,
        '!event create "Nordic <summit>" 2027-01-15 14:00 Europe/Stockholm --duration 2h'
        ' --where "Room 4" --description "Quarterly summit"',
    )
    (card,) = await alice.wait_reply(cmd, sender=bot)
    content = card["content"]
    assert content["msgtype"] == "m.notice"
    data = content["org.samverkan.event"]
    assert data["id"] == "E1"
    assert data["room"] == room
    assert data["title"] == "Nordic <summit>"
    assert data["start"] == "2027-01-15T14:00:00+01:00"
    assert data["timezone"] == "Europe/Stockholm"
    assert data["duration_minutes"] == 120
    assert data["where"] == "Room 4"
    assert data["status"] == "scheduled"
    assert data["rsvps"] == {}
    assert data["creator"] == alice.user_id
    assert "&lt;summit&gt;" in content["formatted_body"]
    assert "<summit>" not in content["formatted_body"]
    assert "13:00–15:00 UTC" in content["body"]
    card_id = card["event_id"]

    # RSVP by command: the card is edited, not re-posted.
    await command(bob, room, bot, "!event rsvp E1 yes")
    state = await wait_card(alice, room, bot, "E1", lambda s: s["rsvps"].get(bob.user_id))
    assert state["rsvps"] == {bob.user_id: "yes"}
    edit = edits_of(alice, room, bot)[-1]
    assert edit["content"]["m.relates_to"]["event_id"] == card_id
    assert edit["content"]["m.new_content"]["org.samverkan.event"]["rsvps"] == {bob.user_id: "yes"}

    # RSVP by reaction, then withdraw it by removing the reaction.
    reaction = await coord.send_event(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": card_id, "key": "❌"}},
    )
    await wait_card(alice, room, bot, "E1", lambda s: s["rsvps"].get(coord.user_id) == "no")
    await alice.send_event(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": card_id, "key": "❔"}},
    )
    await wait_card(alice, room, bot, "E1", lambda s: s["rsvps"].get(alice.user_id) == "maybe")
    await coord.client.room_redact(room, reaction)
    state = await wait_card(alice, room, bot, "E1", lambda s: coord.user_id not in s["rsvps"])
    assert state["rsvps"] == {bob.user_id: "yes", alice.user_id: "maybe"}
    cards = [
        s
        for _r, ev in alice.events
        if (s := getattr(ev, "source", {})).get("sender") == bot
        and "org.samverkan.event" in s.get("content", {})
        and s["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
        and s["content"].get("msgtype") == "m.notice"
        and s["content"].get("m.relates_to", {}).get("rel_type") != "m.thread"
    ]
    assert len(cards) == 1, "the card is edited in place, never re-posted"

    # A member who is neither the creator nor a coordinator cannot cancel.
    refused = await command(bob, room, bot, "!event cancel E1")
    assert "only E1's creator" in refused["content"]["body"]
    assert refused["content"]["org.samverkan.notice"]["kind"] == "error"
    await command(coord, room, bot, '!event agenda E1 add "Budget 2027"')
    state = await wait_card(alice, room, bot, "E1", lambda s: s["agenda"] == ["Budget 2027"])
    assert state["status"] == "scheduled"

    # ics: an encrypted attachment that decrypts and parses back to the same event.
    reply = await command(bob, room, bot, "!event ics E1")
    c = reply["content"]
    assert c["msgtype"] == "m.file"
    assert c["info"]["mimetype"] == "text/calendar"
    assert "url" not in c, "the file must be encrypted (a `file` block, not a plain url)"
    f = c["file"]
    resp = await bob.client.download(mxc=f["url"])
    plain = decrypt_attachment(resp.body, f["key"]["k"], f["hashes"]["sha256"], f["iv"])
    cal = Calendar.from_ical(plain)
    (vevent,) = cal.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Nordic <summit>"
    start = vevent.decoded("DTSTART")
    assert start == datetime.fromisoformat("2027-01-15T14:00:00+01:00")
    assert str(start.tzinfo) == "Europe/Stockholm"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert cal.walk("VTIMEZONE"), "the file carries its timezone definition"
    assert str(vevent["LOCATION"]) == "Room 4"
    assert "Budget 2027" in str(vevent["DESCRIPTION"])
    assert (vevent.decoded("DTEND") - start).total_seconds() == 7200

    # The creator cancels: the card says so.
    await command(alice, room, bot, "!event cancel E1")
    await wait_card(alice, room, bot, "E1", lambda s: s["status"] == "cancelled")
    assert not alice.undecryptable()


async def test_times_render_in_each_members_zone_and_list(org_env: OrgEnv, member_factory) -> None:
    settings, room, (alice, bob), rt = await org_env.room_with_bots(
        member_factory, members=2, bots=["events"]
    )
    bot = settings.org.bot_user_ids()["events"]
    set_clock(rt, T0_MS)
    r = await command(alice, room, bot, "!tz Africa/Nairobi")
    assert "Africa/Nairobi" in r["content"]["body"]
    await command(bob, room, bot, "!tz America/New_York")
    # No zone given: the creator's own zone is used.
    card = await command(alice, room, bot, '!event create "Partner call" 2027-01-20 16:00')
    assert card["content"]["org.samverkan.event"]["start"] == "2027-01-20T16:00:00+03:00"
    shown = await command(bob, room, bot, "!event show E1")
    assert "08:00–09:00 EST (America/New_York)" in shown["content"]["body"]
    listed = await command(bob, room, bot, "!event list")
    assert "E1 · Partner call · Wed 20 Jan 2027, 08:00–09:00 EST" in listed["content"]["body"]
    everywhere = await command(bob, room, bot, "!event list --all")
    assert "E1" in everywhere["content"]["body"]
    await asyncio.sleep(0)
    assert set(card_states(alice, room, bot)) == {"E1"}
