"""``!onboard`` end to end: the checklist ticks items as a member does them (timezone, language,
skills, sessions cross-signed), coordinators see who has not finished and switch welcomes off."""

from __future__ import annotations

from typing import Any

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from tests.bots.onboard.support import ask, group_toml, joined, provision, wait_bot_joined
from tests.bots.test_verified_rooms import Person
from tests.support import OrgEnv


def ticked(body: str) -> dict[str, bool]:
    """The checklist's items as ✅ (True) or ⬜ (False), keyed by their first words."""
    out = {}
    for line in body.splitlines():
        if line[:1] in {"✅", "⬜"}:
            out[" ".join(line[2:].split()[:2])] = line.startswith("✅")
    return out


async def test_the_checklist_ticks_items_as_they_are_done(
    org_env: OrgEnv, member_factory: Any, make_user: Any
) -> None:
    dep = await org_env.open(org_env.write_org(""))
    pat_id, pat_pw = await dep.ensure_account("pat-" + org_env.suffix)
    coord = await make_user("coord")
    group = "Nordic policy"
    settings = await provision(org_env, group_toml(group, [coord[0]], [pat_id]))
    room, (c,) = await joined(org_env, member_factory, [coord], group)
    session = await dep.session(pat_id)
    cs = CrossSigning(session)
    pat = Person(session, VerificationManager(session, cs))  # joins on invite, keeps events
    try:
        runtime = await org_env.start_bots(settings)
        await runtime.wait_synced()
        bot = runtime.bots[0].user_id
        await wait_bot_joined(c, room, bot)

        first = (await pat.command(room, "!onboard", bot)).body
        assert "Your checklist in Nordic policy:" in first
        assert ticked(first) == {
            "Verify your": False,
            "Set your": False,
            "Choose the": False,
            "Tell others": False,
        }, first
        assert "4 items left." in first

        await pat.command(room, "!tz Africa/Nairobi", bot)
        await pat.command(room, "!locale en", bot)
        await pat.command(room, '!skills add "lokaldemokrati" "kampanjplanering"', bot)
        second = (await pat.command(room, "!onboard", bot)).body
        assert "✅ Timezone set: Africa/Nairobi" in second
        assert "✅ Language chosen: en" in second
        assert "✅ Skills listed: lokaldemokrati, kampanjplanering" in second
        assert "⬜ Verify your sessions" in second
        assert "1 item left." in second

        status = await ask(c, room, bot, "!onboard status")
        assert pat_id in status, "not finished: sessions"
        assert coord[0] in status
        assert "verify sessions" in status

        await cs.bootstrap(pat_pw)  # cross-signs her session
        third = (await pat.command(room, "!onboard", bot)).body
        assert "✅ Your sessions are verified (cross-signed)." in third
        assert "All done, thank you!" in third
        status = await ask(c, room, bot, "!onboard status")
        assert pat_id not in status, "finished: not listed"
        assert coord[0] in status

        refused = (await pat.command(room, "!onboard off", bot)).body
        assert "needs power level 50" in refused
        assert "no welcome now" in await ask(c, room, bot, "!onboard off")
        assert "welcome again" in await ask(c, room, bot, "!onboard on")
        wrong = await ask(c, room, bot, "!onboard maybe")
        assert "unexpected extra words" in wrong
        assert "Usage: !onboard" in wrong
    finally:
        await pat.close()
