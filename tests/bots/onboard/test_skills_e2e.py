"""The skills directory end to end: ``!who`` finds a skill only among people who share a room
with the asker now; skills live in the bot's sealed store, not in any profile or room state."""

from __future__ import annotations

from typing import Any

from tests.bots.onboard.support import ask, group_toml, joined, provision, wait_bot_joined
from tests.support import OrgEnv


async def test_who_finds_skills_only_among_people_who_share_a_room(
    org_env: OrgEnv, member_factory: Any, make_user: Any
) -> None:
    anna, bjorn, wanjiru = [await make_user(n) for n in ("anna", "bjorn", "wanjiru")]
    body = group_toml("Nordic policy", [], [anna[0], bjorn[0]], 'languages = ["sv", "da"]')
    body += group_toml("Kenya link", [anna[0]], [wanjiru[0]], 'languages = ["en", "sw"]')
    settings = await provision(org_env, body)
    nordic, (a, b) = await joined(org_env, member_factory, [anna, bjorn], "Nordic policy")
    kenya, (w,) = await joined(org_env, member_factory, [wanjiru], "Kenya link")
    await a.wait_joined(kenya)
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    bot = runtime.bots[0].user_id
    for member, room in ((a, nordic), (b, nordic), (w, kenya), (a, kenya)):
        await wait_bot_joined(member, room, bot)

    added = await ask(w, kenya, bot, '!skills add "Lokaldemokrati" "kampanjplanering"')
    assert "Added: lokaldemokrati, kampanjplanering." in added
    await ask(a, nordic, bot, "!locale sv")
    await ask(b, nordic, bot, "!locale en")  # the room's language is Swedish
    await ask(a, nordic, bot, '!skills add "lokalval"')

    # Björn shares only Nordic policy with Anna: he finds her skill, not Wanjiru's.
    found = await ask(b, nordic, bot, "!who lokal*")
    assert anna[0] in found
    assert "lokalval" in found
    assert wanjiru[0] not in found
    assert "languages: sv, da" in found, "her chosen language, then the room's"
    # Anna shares Kenya link with Wanjiru: she finds her, with that room's languages.
    found = await ask(a, nordic, bot, "!who *plan*")
    assert wanjiru[0] in found
    assert "kampanjplanering" in found
    assert "en, sw" in found
    # Wanjiru shares a room with Anna only.
    found = await ask(w, kenya, bot, "!who lokal*")
    assert anna[0] in found
    assert bjorn[0] not in found
    nobody = await ask(b, nordic, bot, "!who kampanjplanering")
    assert wanjiru[0] not in nobody
    assert "Nobody who shares a room with you" in nobody

    # Once Anna leaves the Kenya room, Wanjiru no longer finds her.
    await a.client.room_leave(kenya)

    async def gone() -> bool:
        room = w.client.rooms.get(kenya)
        return room is not None and anna[0] not in room.users

    await w.wait_until(gone)
    assert anna[0] not in await ask(w, kenya, bot, "!who lokal*")

    assert "Removed: kampanjplanering." in await ask(
        w, kenya, bot, '!skills remove "kampanjplanering"'
    )
    assert "Your skills: lokaldemokrati." in await ask(w, kenya, bot, "!skills")
    refused = await ask(w, kenya, bot, '!skills remove "juggling"')
    assert "you have not listed juggling" in refused
    bad = await ask(w, kenya, bot, '!skills add "unclosed')
    assert "close every quote" in bad
    assert "Usage: !skills add" in bad
    assert "Your skills: lokaldemokrati." in await ask(w, kenya, bot, "!skills"), "unchanged"

    # Nothing of it in room state.
    state = await runtime.bots[0].rooms.all_state(kenya)
    assert "lokaldemokrati" not in str(state)
