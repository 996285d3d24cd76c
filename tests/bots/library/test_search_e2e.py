"""The library end to end on the real Synapse: adding from text and from a reply, search
across compounds and diacritics, who sees what, and refusals."""

from __future__ import annotations

from messenger.botkit.shared import LIBRARY_PUBLIC_NS
from tests.bots.library.support import (
    CARD_KEY,
    SEARCH_KEY,
    ask,
    cards,
    hit_ids,
    is_error,
    library_org,
    reply_to,
)
from tests.support import OrgEnv


async def test_search_across_languages_rooms_and_leaving(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory)
    a, b, c = lib.rooms["A"], lib.rooms["B"], lib.rooms["C"]
    alice, carol, dave, bob = (lib.people[n] for n in ("alice", "carol", "dave", "bob"))

    card = await ask(
        alice,
        a,
        lib.bot,
        '!kb add "Frivilliges erfaringer fra valgkampen" --type lesson --tags kenya --lang da '
        "Start tidligt med lokale frivillige i kommunalvalget.",
    )
    data = card[CARD_KEY]
    assert (data["id"], data["type"], data["tags"], data["lang"]) == (
        "K1",
        "lesson",
        ["kenya"],
        "da",
    )
    assert data["room_id"] == a
    assert data["author"] == alice.user_id
    assert "Start tidligt" in card["body"]

    # from a reply to a Swedish message
    said = await alice.send(a, "Samarbetet kring Östersjöns miljö behöver fler röster.")
    card2 = await ask(alice, a, lib.bot, '!kb add "Östersjön" --type case', **reply_to(said))
    assert card2[CARD_KEY]["id"] == "K2"
    assert card2[CARD_KEY]["source_event_id"] == said
    assert "Östersjöns miljö" in card2[CARD_KEY]["excerpt"]

    # a part of a Danish compound, and a word without its diacritics
    found = await ask(alice, a, lib.bot, "!kb search valg")
    assert hit_ids(found) == ["K1"]
    assert "kommunalvalget" in found[SEARCH_KEY]["hits"][0]["snippet"]
    assert "Room A" in found["body"]
    assert hit_ids(await ask(alice, a, lib.bot, "!kb search ostersjo")) == ["K2"]
    assert hit_ids(await ask(alice, a, lib.bot, "!kb search MILJO")) == ["K2"]

    # too short: refused with the reason
    short = await ask(alice, a, lib.bot, "!kb search va")
    assert is_error(short)
    assert "at least 3 letters" in short["body"]

    # another room's member: nothing, not even a count
    other = await ask(bob, c, lib.bot, "!kb search valg")
    assert hit_ids(other) == []
    assert other[SEARCH_KEY]["withheld"] == 0
    assert is_error(await ask(bob, c, lib.bot, "!kb show K1"))

    # room B: carol and dave are both members of A, so the answer there may carry K1
    assert hit_ids(await ask(carol, b, lib.bot, "!kb search valg")) == ["K1"]
    shown = await ask(carol, b, lib.bot, "!kb show K1")
    assert not is_error(shown)
    assert "kommunalvalget" in shown["body"]

    # carol leaves A: from then on nothing of A reaches her (nor room B, where she reads)
    await carol.client.room_leave(a)
    gone = await ask(carol, b, lib.bot, "!kb search valg")
    assert hit_ids(gone) == []
    assert gone[SEARCH_KEY]["withheld"] == 0
    assert is_error(await ask(carol, b, lib.bot, "!kb show K1"))
    listed = await ask(carol, b, lib.bot, "!kb list")
    assert "K1" not in listed["body"]
    # dave, still in A, asks in B where carol still reads: withheld, counted, not shown
    held = await ask(dave, b, lib.bot, "!kb search valg")
    assert hit_ids(held) == []
    assert held[SEARCH_KEY]["withheld"] == 1


async def test_share_edit_remove_and_permissions(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory)
    a, c = lib.rooms["A"], lib.rooms["C"]
    anna, alice, bob = (lib.people[n] for n in ("anna", "alice", "bob"))
    await ask(alice, a, lib.bot, '!kb add "Valgguide" --type guide Sådan planlægger I valgkampen.')

    refused = await ask(bob, c, lib.bot, "!kb share K1 --org")
    assert is_error(refused)  # bob cannot even see it
    refused = await ask(alice, a, lib.bot, "!kb share K1 --org")
    assert is_error(refused)
    assert "coordinator" in refused["body"]
    assert is_error(await ask(anna, a, lib.bot, "!kb share K1 --partners"))  # not a partnership
    assert not is_error(await ask(anna, a, lib.bot, "!kb share K1 --org --public"))
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search planlaeg")) == ["K1"]
    assert org_env.deployment is not None
    public = await org_env.deployment.store.get(LIBRARY_PUBLIC_NS, f"{a}/K1")
    assert public == {
        "title": "Valgguide",
        "type": "guide",
        "lang": None,
        "created_ms": public["created_ms"],
    }

    assert is_error(await ask(bob, c, lib.bot, '!kb edit K1 --title "Mine"'))  # not the author
    assert is_error(await ask(alice, a, lib.bot, "!kb edit K1"))  # nothing to change
    assert not is_error(
        await ask(alice, a, lib.bot, "!kb edit K1 --tags youth Ny tekst om kampagnen.")
    )
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search kampagne")) == ["K1"]
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search planlaeg")) == []
    lessons = await ask(bob, c, lib.bot, "!kb list --tag youth")
    assert "K1" in lessons["body"]

    assert not is_error(await ask(anna, a, lib.bot, "!kb remove K1"))
    assert hit_ids(await ask(alice, a, lib.bot, "!kb search kampagne")) == []
    assert is_error(await ask(alice, a, lib.bot, "!kb show K1"))
    assert await org_env.deployment.store.get(LIBRARY_PUBLIC_NS, f"{a}/K1") is None

    for bad in (
        "!kb add",
        "!kb add Title",
        "!kb add T --type poem x",
        "!kb show X9",
        "!kb list --type x",
    ):
        assert is_error(await ask(alice, a, lib.bot, bad)), bad


async def test_a_partnership_entry_shared_with_partners(org_env: OrgEnv, member_factory) -> None:
    lib = await library_org(org_env, member_factory, partnership=True)
    a, c = lib.rooms["A"], lib.rooms["C"]
    anna, alice, bob = (lib.people[n] for n in ("anna", "alice", "bob"))
    await ask(alice, a, lib.bot, '!kb add "Nakuru" --type case Ungdomsvalget i Nakuru.')
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search nakuru")) == []
    shared = await ask(anna, a, lib.bot, "!kb share K1 --partners")
    assert not is_error(shared), shared["body"]
    assert "partners" in shared["body"]
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search nakuru")) == ["K1"]

    async def card_says_partners() -> bool:
        return any(c["id"] == "K1" and c["scope"] == "partners" for c in cards(alice, a, lib.bot))

    await alice.wait_until(card_says_partners)  # the card was edited in place
    assert not is_error(await ask(anna, a, lib.bot, "!kb share K1 --room"))
    assert hit_ids(await ask(bob, c, lib.bot, "!kb search nakuru")) == []
