"""Two coordinators approving at the same moment never overdraw a pool (real Synapse)."""

from __future__ import annotations

import asyncio

from tests.bots.resources.support import REQUEST_KEY, ask, is_error
from tests.support import OrgEnv

POOLS_KEY = "org.samverkan.pools"


async def test_concurrent_approvals_never_overdraw(org_env: OrgEnv, member_factory) -> None:
    _settings, room, (anna, olle, member), rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=2, bots=["resources"]
    )
    bot = rt.bots[0].user_id
    await ask(anna, room, bot, "!pool add funding 1000")
    ids = []
    for n in range(4):
        card = await ask(member, room, bot, f'!request funding "Item {n}" --amount 300')
        ids.append(card[REQUEST_KEY]["id"])

    # both coordinators' clients send their approvals at the same time, two each
    sends = [
        anna.send(room, f"!request approve {ids[0]}"),
        olle.send(room, f"!request approve {ids[1]}"),
        anna.send(room, f"!request approve {ids[2]}"),
        olle.send(room, f"!request approve {ids[3]}"),
    ]
    event_ids = await asyncio.gather(*sends)
    senders = [anna, olle, anna, olle]
    answers = [
        (await who.wait_reply(eid, sender=bot))[0]["content"]
        for who, eid in zip(senders, event_ids, strict=True)
    ]
    approved = [a for a in answers if not is_error(a)]
    refused = [a for a in answers if is_error(a)]
    bodies = [a["body"] for a in answers]
    assert len(approved) == 3, bodies
    assert len(refused) == 1, bodies
    assert "has SEK100.00 left" in refused[0]["body"]
    assert {a[REQUEST_KEY]["decided_by"] for a in approved} <= {anna.user_id, olle.user_id}

    pools = (await ask(member, room, bot, "!pool show"))[POOLS_KEY]["pools"]
    (funding,) = pools
    assert (funding["total"], funding["granted"], funding["remaining"]) == (
        "1000.00", "900.00", "100.00"
    )  # fmt: skip
    listed = await ask(member, room, bot, "!request list all")
    granted = [r["granted"] for r in listed["org.samverkan.requests"]["requests"] if r["granted"]]
    assert sorted(granted) == ["300.00"] * 3
    status = (await ask(member, room, bot, "!ledger verify"))["org.samverkan.ledger"]
    assert status["ok"]
    assert status["entries"] == 1 + 4 + 3
