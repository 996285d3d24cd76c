"""Every onboarding reply, the welcome, holiday warnings and marks, and the decision norms'
replies go through the catalogues: run under the en-XA pseudo-locale against the real Synapse,
no reply holds three plain English words in a row (holiday and country names are data)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from bots.onboard.holidays import between
from messenger.i18n import PSEUDO, pseudo
from tests.bots.events.support import of_type, set_clock
from tests.bots.onboard.support import group_toml, joined, provision, wait_bot_joined, welcomes
from tests.i18n.test_pseudo_e2e import leftovers
from tests.support import Member, OrgEnv

NOW_MS = int(datetime(2026, 12, 1, 9, 0, tzinfo=UTC).timestamp() * 1000)
DATA = sorted(
    {h.name for h in between(["KE"], date(2026, 1, 1), date(2027, 12, 31), "en")}
    | {"Kenya link", "Kenya", "EAT (Africa/Nairobi)"},
    key=len,
    reverse=True,
)

MEMBER_COMMANDS = [
    "!onboard",
    "!onboard status",
    '!skills add "lokaldemokrati" "kampanjplanering"',
    "!skills",
    '!skills remove "juggling"',
    '!skills remove "kampanjplanering"',
    "!skills add",
    '!skills add "unclosed',
    '!skills add "<b>"',
    "!who lokal*",
    "!who *",
    "!who kampanj",
    "!holidays",
    "!holidays --month 2026-12",
    "!holidays --month 13",
    '!event create "Oslo" 2026-12-12 10:00 Africa/Nairobi',
    '!event poll "Oslo" 2026-12-12T10:00 2026-12-14T10:00',
]
COORD_COMMANDS = [
    "!onboard status",
    "!onboard off",
    "!onboard on",
    "!event poll close P1",
    "!event poll accept P1",
]


async def test_onboarding_replies_and_welcome_go_through_the_catalogues(
    org_env: OrgEnv, member_factory: Any, make_user: Any
) -> None:
    people = [await make_user(n) for n in ("coord", "member", "newcomer")]
    extra = 'countries = ["KE"]\ndecisions = "coordinator"'
    body = group_toml(
        "Kenya link", [people[0][0]], [u for u, _ in people[1:]], extra, "partnership"
    )
    settings = await provision(org_env, body)
    room, (coord, member) = await joined(org_env, member_factory, people[:2], "Kenya link")
    runtime = await org_env.start_bots(settings)
    await runtime.wait_synced()
    set_clock(runtime, NOW_MS)
    events = runtime.bots[0]
    await wait_bot_joined(coord, room, events.user_id)
    await events.prefs.set_room_languages(room, [PSEUDO])
    for user, _password in people:
        await events.prefs.set_member(user, "locale", PSEUDO)

    newcomer = await member_factory(*people[2])

    async def welcomed() -> bool:
        return bool(welcomes(newcomer, room, events.user_id))

    await newcomer.wait_until(welcomed)
    for command in MEMBER_COMMANDS:
        sent = await member.send(room, command)
        await member.wait_reply(sent, events.user_id)

    async def started() -> bool:
        return bool(of_type(member, room, events.user_id, "org.matrix.msc3381.poll.start"))

    await member.wait_until(started)
    (start,) = of_type(member, room, events.user_id, "org.matrix.msc3381.poll.start")
    vote = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start["event_id"]},
        "org.matrix.msc3381.poll.response": {"answers": ["s1"]},
    }
    await member.send_event(room, "org.matrix.msc3381.poll.response", vote)
    await asyncio.sleep(1.5)
    sent = await member.send(room, "!event poll accept P1")  # a coordinator picks here
    await member.wait_reply(sent, events.user_id)
    for command in COORD_COMMANDS:
        sent = await coord.send(room, command)
        await coord.wait_reply(sent, events.user_id)
    await asyncio.sleep(2)

    problems = untranslated(member, events.user_id) + untranslated(newcomer, events.user_id)
    assert not problems, "English outside the catalogues:\n" + "\n".join(sorted(set(problems)))
    assert welcomes(newcomer, room, events.user_id)[0]["content"]["body"].startswith("⟦👋")
    coordinator_picks = pseudo("In this room a coordinator picks the slot: {command}")
    assert any(
        coordinator_picks.split("{")[0] in str(getattr(ev, "source", {}))
        for _r, ev in member.events
    ), "the tally names the room's norm"


def untranslated(member: Member, bot: str) -> list[str]:
    """Runs of plain English in the bot's messages (holiday and country names removed)."""
    problems = []
    for _room, ev in member.events:
        src = getattr(ev, "source", {})
        if src.get("sender") != bot:
            continue
        content = src.get("content", {})
        new = content.get("m.new_content")
        text = str((new or content).get("body", "")) if isinstance(content, dict) else ""
        for name in DATA:
            text = text.replace(name, " ")
        problems += [f"{p!r} in {text[:160]!r}" for p in leftovers(text)]
    return problems
