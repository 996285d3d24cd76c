"""Missed-update reminders and overdue flags on the bot's clock: each exactly once, across a
restart; ``--remind never`` sends nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.bots.projects.support import (
    DAY,
    T0_MS,
    ask,
    card_event,
    in_card_thread,
    projects_room,
    set_clock,
)
from tests.support import Member, OrgEnv


def said(m: Member, room: str, bot: str, card: str, word: str) -> list[dict[str, Any]]:
    """The bot's messages in a card's thread whose body holds ``word``."""
    return [s for s in in_card_thread(m, room, bot, card) if word in s["content"]["body"]]


async def test_a_missed_update_reminds_the_owner_once_per_period_across_a_restart(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room, (alice, bob), rt, bot = await projects_room(org_env, member_factory, members=2)
    await ask(alice, room, bot, '!project create "Weekly" --until 2027-06-30')
    await ask(bob, room, bot, '!project create "Quiet" --until 2027-06-30 --remind never')
    await ask(alice, room, bot, '!milestone add P1 "Kickoff" 2027-01-15')
    p1, p2 = card_event(alice, room, bot, "P1"), card_event(alice, room, bot, "P2")

    set_clock(rt, T0_MS + 7 * DAY - 60_000)  # a minute early: nothing yet
    await asyncio.sleep(2.5)
    assert said(alice, room, bot, p1, "no update") == []

    set_clock(rt, T0_MS + 7 * DAY + 1_000)

    async def reminded() -> bool:
        return len(said(alice, room, bot, p1, "no update")) == 1

    await alice.wait_until(reminded)
    (first,) = said(alice, room, bot, p1, "no update")
    assert first["content"]["m.mentions"]["user_ids"] == [alice.user_id]
    assert alice.user_id in first["content"]["body"]
    (flag,) = said(alice, room, bot, p1, "M1")  # 2027-01-15 has passed: flagged once
    assert "was due" in flag["content"]["body"]

    await org_env.stop_bots()  # restart: the marks were stored with the messages
    rt = await org_env.start_bots(settings, ["projects"])
    await rt.wait_synced()
    set_clock(rt, T0_MS + 7 * DAY + 60_000)
    await asyncio.sleep(3)
    assert len(said(alice, room, bot, p1, "no update")) == 1, "not again after the restart"
    assert len(said(alice, room, bot, p1, "was due")) == 1

    set_clock(rt, T0_MS + 14 * DAY + 1_000)  # the next period still without an update

    async def twice() -> bool:
        return len(said(alice, room, bot, p1, "no update")) == 2

    await alice.wait_until(twice)
    await ask(alice, room, bot, '!update P1 on-track "Back on it"')
    set_clock(rt, T0_MS + 20 * DAY)  # less than a week after the update
    await asyncio.sleep(2.5)
    assert len(said(alice, room, bot, p1, "no update")) == 2
    assert in_card_thread(alice, room, bot, p2) == [], "--remind never sends nothing"
