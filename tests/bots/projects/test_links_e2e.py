"""What other bots get from and give to projects, through the deployment store: a request
tied to a project shows in its card and report; retrospective answers become lessons."""

from __future__ import annotations

import importlib.util
from typing import Any

from messenger.botkit.shared import LIBRARY_INBOX_NS, PROJECT_RESOURCES_NS, PROJECTS_NS, shared_key
from tests.bots.projects.support import (
    REPORT_KEY,
    ask,
    csv_rows,
    is_error,
    projects_room,
    report,
    wait_card,
)
from tests.support import Member, OrgEnv

HAS_LIBRARY = importlib.util.find_spec("bots.library") is not None


async def test_a_request_tied_to_a_project_shows_in_its_card_and_report(
    org_env: OrgEnv, member_factory: Any
) -> None:
    _s, room, (coord, alice), _rt, bot = await projects_room(
        org_env, member_factory, members=1, coordinators=1, bots=["projects", "resources"]
    )
    res = _s.org.bot_user_ids()["resources"]
    await ask(alice, room, bot, '!project create "Alpha" --until 2027-06-30 --sdg 5')
    assert org_env.deployment is not None
    store = org_env.deployment.store
    published = await store.get(PROJECTS_NS, shared_key(room, "P1"))
    assert published["title"] == "Alpha"
    assert published["closed"] is False

    unknown = await ask(alice, room, res, '!request funding "Hall" --amount 1000 --project P9')
    assert is_error(unknown)
    assert "no project P9" in unknown["body"]
    assert await store.items(PROJECT_RESOURCES_NS) == []
    await ask(coord, room, res, "!pool add funding 5000")
    made = await ask(alice, room, res, '!request funding "Hall" --amount 1000 --project P1')
    rid = made["org.samverkan.request"]["id"]
    assert made["org.samverkan.request"]["project"] == "P1"
    assert "For project P1" in made["body"]
    record = await store.get(PROJECT_RESOURCES_NS, shared_key(room, rid))
    assert (record["project"], record["requested"], record["granted"]) == ("P1", 100000, 0)
    await ask(alice, room, res, '!request hours "Untied" --amount 5')  # not the project's

    await ask(coord, room, res, f"!request approve {rid} --amount 800")
    card = await wait_card(
        alice, room, bot, "P1", lambda c: c["resources"] and c["resources"][0]["granted"] != "0.00"
    )
    assert card["resources"] == [{"unit": "SEK", "granted": "800.00", "spent": "0.00"}]
    await ask(coord, room, res, f"!request fulfil {rid}")
    card = await wait_card(alice, room, bot, "P1", lambda c: c["resources"][0]["spent"] != "0.00")
    assert card["resources"] == [{"unit": "SEK", "granted": "800.00", "spent": "800.00"}]

    notice, data = await report(alice, room, bot, "!project report P1 --format csv")
    (row,) = notice[REPORT_KEY]["rows"]
    assert row["resources"] == [{"unit": "SEK", "granted": "800.00", "spent": "800.00"}]
    assert "granted SEK800.00, spent SEK800.00" in notice["body"]
    (money,) = [r for r in csv_rows(data) if r["record"] == "resource"]
    assert (money["unit"], money["granted"], money["spent"]) == ("SEK", "800.00", "800.00")

    await ask(alice, room, bot, "!project close P1")
    closed = await ask(alice, room, res, '!request funding "More" --amount 10 --project P1')
    assert is_error(closed)
    assert "closed" in closed["body"]


async def test_retrospective_answers_become_lessons(org_env: OrgEnv, member_factory: Any) -> None:
    bots = ["projects", "library"] if HAS_LIBRARY else ["projects"]
    _s, room, (alice, bob), _rt, bot = await projects_room(
        org_env, member_factory, members=2, bots=bots
    )
    await ask(alice, room, bot, '!project create "Alpha" --until 2027-06-30 --sdg 5,10')
    refused = await ask(bob, room, bot, "!retro P1")
    assert is_error(refused)
    retro_cmd = await alice.send(room, "!retro P1")
    (prompt,) = await alice.wait_reply(retro_cmd, sender=bot)
    assert "what worked" in prompt["content"]["body"]
    rel = {"m.relates_to": {"rel_type": "m.thread", "event_id": retro_cmd}}
    said = await bob.send(room, "Pairing new candidates with mentors worked well", **rel)
    await bob.wait_reply(said, sender=bot)
    await alice.send(room, "Booking venues late did not work", **rel)
    await alice.send(room, "Outside the thread: no lesson")
    assert org_env.deployment is not None
    store = org_env.deployment.store
    if not HAS_LIBRARY:
        await _until_inbox(alice, store, 2)
        items = dict(await store.items(LIBRARY_INBOX_NS))
        (first,) = [v for k, v in items.items() if k.startswith(said)]
        assert first["type"] == "lesson"
        assert first["author"] == bob.user_id
        assert first["tags"] == ["retro", "p1", "sdg5", "sdg10"]
        assert first["source"] == f"projects:{room}/P1"
        return
    lib = _s.org.bot_user_ids()["library"]

    async def two_lessons() -> bool:
        return len(_lessons(alice, room, lib)) >= 2

    await alice.wait_until(two_lessons, timeout=60)
    titles = sorted(c["title"] for c in _lessons(alice, room, lib))
    assert titles[0].startswith("Alpha: Booking venues late")
    assert "Outside the thread" not in " ".join(titles)


async def _until_inbox(m: Member, store: Any, n: int) -> None:
    async def enough() -> bool:
        return len(await store.items(LIBRARY_INBOX_NS)) >= n

    await m.wait_until(enough)


def _lessons(m: Member, room: str, lib: str) -> list[dict[str, Any]]:
    out = {}
    for r, ev in m.events:
        src = getattr(ev, "source", {})
        content = src.get("content", {})
        new = content.get("m.new_content")
        card = (new if isinstance(new, dict) else content).get("org.samverkan.library")
        if r == room and src.get("sender") == lib and isinstance(card, dict):
            if card.get("type") == "lesson":
                out[card["id"]] = card
    return list(out.values())
