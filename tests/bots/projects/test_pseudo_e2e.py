"""Under the en-XA pseudo-locale (the members' and the room's) every catalogue string comes back
bracketed: whatever the projects bot says — replies, refusals, cards, reminders, flags,
reports — holds no plain English phrase outside the brackets, and no handler crashes."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest

from messenger.i18n import PSEUDO
from tests.bots.projects.support import DAY, T0_MS, from_bot, projects_room, set_clock
from tests.i18n.test_pseudo_e2e import leftovers
from tests.support import OrgEnv

BABEL_DATE = re.compile(
    r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{1,2}, \d{4}"
)  # Babel's English dates (en-XA formats like English): not catalogue text
SUITE = [
    "!project create Kalmar --until 2027-06-30 --goal Oslo --sdg 5",
    "!project create Tallinn --until 2027-06-30 --remind monthly",
    "!milestone add P1 Oslo 2027-01-20",
    "!milestone add P1 Kalmar 2027-03-01",
    "!milestone add P1 Tallinn 2027-01-25",
    '!update P1 at-risk "Oslo 2027"',
    "!metric add P1 participants --target 40 --unit people",
    "!metric set P1 participants 27",
    "!project list",
    "!project show P1",
    "!milestone move M2 2027-04-01",
    "!milestone done M1",
    "!project report P1",
    "!project report --all --format csv",
    "!projects help",
    "!project close P2",
    "!retro P2",
    # refusals
    "!project create",
    "!project create Kalmar",
    "!project create Kalmar --until 2020-01-01",
    "!project create Kalmar --until 2027-06-30 --sdg 99",
    "!update P1 great Oslo",
    "!update P9 on-track Oslo",
    "!update P2 on-track Oslo",
    "!metric add P1 participants",
    "!metric add P1 participants --target 40",
    "!metric set P1 nothing 3",
    "!metric set P1 participants many",
    "!milestone done M1",
    "!milestone done X1",
    "!milestone move M2 2020-01-01",
    "!project report",
    "!project report P1 --format pdf",
    "!project show P7",
]


async def test_nothing_the_projects_bot_says_escapes_the_catalogue(
    org_env: OrgEnv, member_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _s, room, (alice,), rt, bot = await projects_room(org_env, member_factory, members=1)
    await rt.bots[0].prefs.set_room_languages(room, [PSEUDO])  # cards and reminders too
    sent = await alice.send(room, f"!locale {PSEUDO}")
    await alice.wait_reply(sent, bot)
    sent_ids = {}
    for text in SUITE:
        sent_ids[text] = sent = await alice.send(room, text)
        await alice.wait_reply(sent, bot)
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": sent_ids["!retro P2"]}}
    answer = await alice.send(room, "Kalmar", **thread)  # a lesson, acknowledged
    await alice.wait_reply(answer, bot)
    set_clock(rt, T0_MS + 31 * DAY)  # missed updates and an overdue milestone
    await asyncio.sleep(4)
    said = [
        str((s["content"].get("m.new_content") or s["content"]).get("body", ""))
        for s in from_bot(alice, room, bot)
        if s.get("type") == "m.room.message" and s["content"].get("msgtype") == "m.notice"
    ]
    assert len(said) > len(SUITE)
    assert any("⟦⏰" in body for body in said), "a reminder is checked too"
    assert any("⟦⚠" in body and "M3" in body for body in said), "and an overdue flag"
    crashed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashed, "every refusal is rendered, none crashes a handler"
    problems = [
        (phrase, body) for body in said[1:] for phrase in leftovers(BABEL_DATE.sub(" ", body))
    ]
    assert not problems, problems
