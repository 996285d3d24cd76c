"""Every reply and card of the library bot goes through the catalogues: its commands (valid
and malformed) under the en-XA pseudo-locale leave no plain English phrase (real Synapse)."""

from __future__ import annotations

import asyncio
from typing import Any

from messenger.i18n import PSEUDO
from tests.bots.library.support import library_org
from tests.i18n.test_pseudo_e2e import leftovers
from tests.support import Member, OrgEnv

COMMANDS = [
    "!library help",
    '!kb add "Kalmar 2027" --type lesson --tags kenya Oslo 2027 Tallinn',
    "!kb search kalmar",
    "!kb search ka",
    "!kb search zzzz",
    "!kb show K1",
    "!kb list",
    "!kb list --type lesson",
    "!kb list --tag x",
    "!kb edit K1 --tags youth",
    "!kb edit K1",
    "!kb share K1 --org --public",
    "!kb share K1",
    "!kb share K1 --partners",
    "!kb share K1 --room --org",
    "!kb share K1 --room",
    "!kb show K9",
    "!kb add",
    "!kb add Kalmar",
    "!kb add Kalmar --type poem 2027",
    "!kb add Kalmar --tags a,b! 2027",
    "!kb add Kalmar --lang xx 2027",
    "!kb remove K1",
]


async def test_library_replies_and_cards_go_through_the_catalogues(
    org_env: OrgEnv, member_factory: Any
) -> None:
    lib = await library_org(org_env, member_factory)
    room_id, coord, member = lib.rooms["A"], lib.people["anna"], lib.people["alice"]
    bot = lib.runtime.bots[0]
    await bot.prefs.set_room_languages(room_id, [PSEUDO])  # cards in en-XA too
    for person in (coord, member):
        sent = await person.send(room_id, f"!locale {PSEUDO}")
        await person.wait_reply(sent, bot.user_id)
    for command in COMMANDS:
        who: Member = coord if command.startswith("!kb share") else member
        sent = await who.send(room_id, command)
        await who.wait_reply(sent, bot.user_id, timeout=45)
    await asyncio.sleep(2)  # the last card edit
    problems, seen = [], 0
    for _room, ev in member.events:
        src = getattr(ev, "source", {})
        if src.get("sender") != bot.user_id:
            continue
        seen += 1
        content = src.get("content", {})
        new = content.get("m.new_content")
        text = (new or content).get("body", "") if isinstance(content, dict) else ""
        for phrase in leftovers(str(text)):
            problems.append(f"{phrase!r} in {str(text)[:160]!r}")
    assert seen >= len(COMMANDS)
    assert not problems, "English outside the catalogues:\n" + "\n".join(sorted(set(problems)))
