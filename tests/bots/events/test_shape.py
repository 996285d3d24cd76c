"""The events bot's shape: one Bot composing command groups, store functions that read the data
existing deployments hold, and card edits shaped as the kit's ``Context.edit`` shapes them."""

from __future__ import annotations

from pathlib import Path

import nacl.pwhash

from bots.events import store as s
from bots.events.bot import EventsBot
from bots.events.commands_events import EventCommands
from bots.events.commands_polls import PollCommands
from crypto.vault import Vault
from messenger.botkit.bot import Bot
from messenger.botkit.commands import declared_commands
from messenger.botkit.prefs import Preferences
from messenger.store import StateStore

EVENT_COMMANDS = {
    "event create",
    "event list",
    "event show",
    "event rsvp",
    "event cancel",
    "event edit",
    "event agenda",
    "event remind",
    "event ics",
    "tz",
}
POLL_COMMANDS = {"event poll", "event poll close", "event poll accept"}


def test_one_bot_class_composing_two_command_groups() -> None:
    assert EventsBot.__bases__ == (Bot,)
    bot = EventsBot.__new__(EventsBot)
    assert declared_commands(bot) == [], "commands live in the groups, not on the bot"
    assert {c.name for c in declared_commands(EventCommands(bot))} == EVENT_COMMANDS
    assert {c.name for c in declared_commands(PollCommands(bot))} == POLL_COMMANDS


async def open_store(tmp_path: Path) -> StateStore:
    vault = Vault.open_or_create(
        tmp_path / "vault.json",
        "pw",
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )
    return await StateStore.open(tmp_path / "state.db", vault)


EVENT = {
    "id": "E4",
    "room": "!r:l",
    "title": "Board",
    "start_utc": "2027-02-01T13:00:00+00:00",
    "timezone": "Europe/Stockholm",
    "duration": 60,
    "rsvps": {"@b:l": {"answer": "yes", "via": "$react", "ts": 5}},
    "creator": "@a:l",
    "revision": 3,
    "card_event": "$card",
}


async def test_store_reads_and_writes_the_deployed_format(tmp_path: Path) -> None:
    """Namespaces, keys and documents as the events bot has always written them."""
    store = await open_store(tmp_path)
    async with store.transaction() as tx:
        await tx.put("events", "E4", EVENT)
        await tx.put("event-meta", "counters", {"E": 4, "P": 2})
        await tx.put("event-tz", "@a:l", {"zone": "Europe/Oslo"})
        await tx.put("event-refs", "$card", {"kind": "event", "id": "E4"})
        await tx.put("event-refs", "$poll", {"kind": "poll", "id": "P2"})
        await tx.put("event-reactions", "$react", {"event": "E4", "user": "@b:l", "answer": "yes"})
        await tx.put("event-reactions", "$old", {"event": "E4", "user": "@b:l", "answer": "no"})
        await tx.put("event-dirty", "E4", {"room": "!r:l"})
        reminder = {"event": "E4", "room": "!r:l", "at": 1, "minutes": 60, "fired": False}
        await tx.put("event-reminders", "E4:60:1", reminder)
        await tx.put("event-reminders", "E4:1440:1", {**reminder, "fired": True})
    async with store.transaction() as tx:
        rec = await s.load_event(tx, "E4")
        assert rec is not None
        assert rec.rsvps["@b:l"].via == "$react"
        assert rec.revision == 3
        assert await s.next_id(tx, "E") == "E5"
        assert await s.next_id(tx, "P") == "P3"
        assert await s.user_zone(tx, "@a:l") == "Europe/Oslo"
        assert await s.user_zone(tx, "@c:l") is None
        assert await s.load_ref(tx, "$card") == ("event", "E4")
        assert await s.load_ref(tx, "$poll") == ("poll", "P2")
        assert await s.pop_reaction(tx, "$react") == ("E4", "@b:l")
        assert await s.pop_reaction(tx, "$react") is None
        assert await s.reactions_of(tx, "E4", "@b:l") == [("$old", "no")]
        assert await s.pending_reminders(tx) == [("E4:60:1", reminder)]
        assert [i for i, _room in await s.dirty_events(tx)] == ["E4"]
        assert await s.take_dirty(tx, "E4")
        assert not await s.take_dirty(tx, "E4")
        await s.save_event(tx, rec)  # a change: revision bumped, card marked for an edit
        await s.save_zone(tx, "@c:l", "UTC")
        await s.save_ref(tx, "$p3", "poll", "P3")
    assert (await store.get("events", "E4"))["revision"] == 4
    assert await store.get("event-dirty", "E4") == {"room": "!r:l"}
    assert await store.get("event-tz", "@c:l") == {"zone": "UTC"}
    assert await store.get("event-refs", "$p3") == {"kind": "poll", "id": "P3"}
    assert await store.get("event-meta", "counters") == {"E": 5, "P": 3}
    await store.close()


async def test_tz_is_the_shared_preference_and_old_zones_stay_readable(tmp_path: Path) -> None:
    """``!tz`` writes the runtime's shared preference; a zone stored by the events bot before
    that (``event-tz``) is still read for members who have not chosen again."""
    store = await open_store(tmp_path)
    bot = EventsBot.__new__(EventsBot)
    bot.prefs = Preferences(store)
    async with store.transaction() as tx:
        await s.save_zone(tx, "@old:l", "Europe/Oslo")
        await s.save_zone(tx, "@both:l", "Europe/Oslo")
    await bot.prefs.set_member("@both:l", "tz", "Africa/Nairobi")
    await bot.prefs.set_member("@broken:l", "tz", "Mars/Olympus")
    reloaded = Preferences(store)  # as a restarted runtime reads them
    await reloaded.load()
    bot.prefs = reloaded
    async with store.transaction() as tx:
        assert await bot.zone_of(tx, "@old:l") == "Europe/Oslo"
        assert await bot.zone_of(tx, "@both:l") == "Africa/Nairobi"
        assert await bot.zone_of(tx, "@broken:l") is None
        assert await bot.zone_of(tx, "@new:l") is None
    await store.close()
