"""The library across a restart (the in-memory index rebuilt from the sealed store), with no
entry text on disk, and draining the inbox other bots write (real Synapse)."""

from __future__ import annotations

import asyncio

from messenger.botkit.shared import LIBRARY_INBOX_NS
from tests.bots.library.support import (
    ask,
    cards,
    hit_ids,
    library_org,
    reply_to,
    send_file,
    tag,
)
from tests.support import OrgEnv
from tests.test_at_rest import files_containing


async def test_survives_restart_and_leaves_no_plaintext(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory)
    a = lib.rooms["A"]
    alice = lib.people["alice"]
    word, in_file, title = tag(), tag(), tag()
    await ask(
        alice, a, lib.bot, f'!kb add "Hemlig {title}" --type minutes Protokoll {word} från mötet.'
    )
    event = await send_file(
        alice, a, f"Strategi {in_file} för valet".encode(), "s.txt", "text/plain"
    )
    await ask(alice, a, lib.bot, '!kb add "Strategi"', **reply_to(event))
    assert hit_ids(await ask(alice, a, lib.bot, f"!kb search {word[2:9]}")) == ["K1"]

    await org_env.stop_bots()
    hits = files_containing(org_env.home, [word.encode(), in_file.encode(), title.encode()])
    assert not hits, [(str(p.relative_to(org_env.home)), n) for p, n in hits]

    runtime = await org_env.start_bots(lib.settings)
    await runtime.wait_synced()
    bot = runtime.bots[0]
    found = await ask(alice, a, bot.user_id, f"!kb search {in_file}")
    assert hit_ids(found) == ["K2"]
    assert bot.rebuild_s is not None
    assert len(bot.shelf.entries) == 2
    # IDs go on from where they were
    card = await ask(alice, a, bot.user_id, '!kb add "Tre" --type guide Tredje posten.')
    assert card["org.samverkan.library"]["id"] == "K3"


async def test_inbox_items_become_lesson_entries(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory)
    a = lib.rooms["A"]
    alice = lib.people["alice"]
    assert org_env.deployment is not None
    shared = org_env.deployment.store
    item = {
        "room_id": a,
        "title": "Retro P1: lokala partner",
        "type": "lesson",
        "tags": ["kenya", "retro"],
        "lang": "sv",
        "text": "Vi borde ha involverat lokalavdelningarna tidigare.",
        "author": alice.user_id,
        "source": "projects:P1",
    }
    await shared.put(LIBRARY_INBOX_NS, "$retro:1", item)
    await shared.put(LIBRARY_INBOX_NS, "$retro:2", {"room_id": a, "title": ""})  # malformed

    async def card_posted() -> bool:
        return any(c["title"] == item["title"] for c in cards(alice, a, lib.bot))

    await alice.wait_until(card_posted)
    (card,) = [c for c in cards(alice, a, lib.bot) if c["title"] == item["title"]]
    assert (card["id"], card["type"], card["tags"]) == ("K1", "lesson", ["kenya", "retro"])
    assert await shared.items(LIBRARY_INBOX_NS) == []
    listed = await ask(alice, a, lib.bot, "!kb list --type lesson")
    assert "K1 · Retro P1" in listed["body"]
    assert hit_ids(await ask(alice, a, lib.bot, "!kb search lokalavdelning")) == ["K1"]


async def test_rooms_adding_at_once_never_share_an_id(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory)
    people = [(lib.people["alice"], lib.rooms["A"]), (lib.people["carol"], lib.rooms["B"])]
    people += [(lib.people["bob"], lib.rooms["C"]), (lib.people["dave"], lib.rooms["B"])]
    assert org_env.deployment is not None
    await org_env.deployment.store.put(
        LIBRARY_INBOX_NS,
        "$retro:9",
        {"room_id": lib.rooms["C"], "title": "Retro", "text": "Lärdom.", "author": ""},
    )
    answers = await asyncio.gather(
        *(
            ask(m, room, lib.bot, f'!kb add "Entry {n}" Text {n}.')
            for n, (m, room) in enumerate(people)
        )
    )
    ids = [a["org.samverkan.library"]["id"] for a in answers]
    bob = lib.people["bob"]

    async def drained() -> bool:
        return any(c["title"] == "Retro" for c in cards(bob, lib.rooms["C"], lib.bot))

    await bob.wait_until(drained)
    (retro,) = [c["id"] for c in cards(bob, lib.rooms["C"], lib.bot) if c["title"] == "Retro"]
    assert sorted([*ids, retro], key=lambda k: int(k[1:])) == ["K1", "K2", "K3", "K4", "K5"]
