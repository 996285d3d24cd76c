"""Two projects in one room, who may change what, and malformed input: a clear answer and
nothing changed."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.bots.projects.support import ask, cards, is_error, projects_room, wait_card
from tests.support import OrgEnv

MALFORMED = [
    ("!project create", "missing title"),
    ('!project create "No end"', "--until"),
    ('!project create "Past" --until 2020-01-01', "in the past"),
    ('!project create "Bad" --until 2027-13-01', "YYYY-MM-DD"),
    ('!project create "Bad" --until 2027-06-30 --sdg 18', "1 to 17"),
    ('!project create "Bad" --until 2027-06-30 --owner mette', "Matrix user ID"),
    ('!project create "" --until 2027-06-30', "1 to 200"),
    ('!update P1 great "fine"', "on-track, at-risk or off-track"),
    ('!update P9 on-track "x"', "no project P9"),
    ("!update P1 on-track", "missing text"),
    ('!update P1 on-track "x" --remind daily', "weekly, monthly or never"),
    ("!metric add P1 participants", "--target"),
    ("!metric add P1 participants --target -3", "more than 0"),
    ("!metric set P1 nothing 3", "no metric nothing"),
    ("!metric set P1 participants many", "not a number"),
    ('!milestone add P1 "Old" 2026-01-01', "in the past"),
    ("!milestone done X3", "milestone ID"),
    ("!milestone done M99", "no milestone M99"),
    ("!milestone move M1 someday", "YYYY-MM-DD"),
    ("!project report", "!project report --all"),
    ("!project report P1 --format pdf", "html or csv"),
    ("!project show", "missing id"),
    ("!retro P7", "no project P7"),
]


async def test_two_projects_owners_and_coordinators(org_env: OrgEnv, member_factory: Any) -> None:
    _s, room, (coord, alice, bob), _rt, bot = await projects_room(
        org_env, member_factory, members=2, coordinators=1
    )
    a = await ask(alice, room, bot, '!project create "Alpha" --until 2027-06-30')
    b = await ask(bob, room, bot, '!project create "Beta" --until 2027-09-30')
    assert (a["org.samverkan.project"]["id"], b["org.samverkan.project"]["id"]) == ("P1", "P2")
    await ask(bob, room, bot, '!milestone add P2 "Beta kickoff" 2027-02-01')

    refused = await ask(alice, room, bot, '!milestone add P2 "Mine now" 2027-02-02')
    assert is_error(refused)
    assert "only" in refused["body"]
    assert bob.user_id in refused["body"]
    not_hers = await ask(alice, room, bot, "!milestone done M1")
    assert is_error(not_hers)
    assert "only" in not_hers["body"]
    not_his = await ask(bob, room, bot, '!update P1 off-track "sabotage"')
    assert is_error(not_his)
    listed = await ask(alice, room, bot, "!project list")
    assert "P1 · Alpha" in listed["body"]
    assert "P2 · Beta" in listed["body"]

    done = await ask(coord, room, bot, "!milestone done M1")  # a coordinator may
    assert not is_error(done)
    state = await wait_card(alice, room, bot, "P2", lambda c: c["milestones"][0]["done_on"])
    assert state["milestones"][0]["state"] == "done-on-time"
    assert cards(alice, room, bot)["P1"]["milestones"] == [], "P1 untouched by P2's changes"
    assert cards(alice, room, bot)["P1"]["status"] == "new"


async def test_malformed_commands_get_a_clear_answer_and_change_nothing(
    org_env: OrgEnv, member_factory: Any
) -> None:
    _s, room, (alice,), _rt, bot = await projects_room(org_env, member_factory, members=1)
    await ask(alice, room, bot, '!project create "Alpha" --until 2027-06-30')
    await ask(alice, room, bot, "!metric add P1 participants --target 40")
    await ask(alice, room, bot, '!milestone add P1 "Kickoff" 2027-02-01')
    await asyncio.sleep(1)
    before = cards(alice, room, bot)["P1"]
    for text, hint in MALFORMED:
        answer = await ask(alice, room, bot, text)
        assert is_error(answer), text
        assert hint in answer["body"], (text, answer["body"])
        assert "Usage:" in answer["body"], text
    await asyncio.sleep(1.5)
    assert cards(alice, room, bot)["P1"] == before
    assert set(cards(alice, room, bot)) == {"P1"}
