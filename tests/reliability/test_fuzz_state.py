"""Fuzz room state: every state event a member and a coordinator may send (their own
``m.room.member`` with garbage, names, topics, custom and ``org.samverkan.*`` types), and the
ones the power levels refuse. After each batch every bot answers in every room, nothing was
answered twice, and the next command in the room is answered."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from tests.reliability.fuzzing import (
    MemberFactory,
    assert_alive,
    assert_no_double_answers,
    garbage,
    garbage_text,
    put_state,
    two_rooms,
)
from tests.support import Member, OrgEnv

SEED = 77
CASES = 90
BATCH = 30
# Types members may not send (power 50+); coordinators may send some (power 50).
TYPES = [
    "m.room.name",
    "m.room.topic",
    "m.room.avatar",
    "m.room.canonical_alias",
    "m.room.pinned_events",
    "org.example.custom",
    "org.samverkan.room",
    "org.samverkan.event",
    "m.room.power_levels",
    "m.room.encryption",
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.server_acl",
    "m.room.tombstone",
    "m.space.child",
    "m.space.parent",
]


def member_change(rng: random.Random, me: str) -> dict[str, Any]:
    """A change of one's own membership event that keeps one joined."""
    content: dict[str, Any] = {"membership": "join"}
    for key in ("displayname", "avatar_url", "reason", "is_direct", garbage_text(rng, 10)):
        if rng.random() < 0.5:
            content[key] = rng.choice(
                [garbage(rng, 1, True), garbage_text(rng, 60), "x" * rng.randrange(200, 3000), me]
            )
    if rng.random() < 0.2:
        content["displayname"] = "events bot \u202e" + garbage_text(rng, 10)  # impersonation
    return content


def case(rng: random.Random, sender: Member) -> tuple[str, str, Any]:
    """(type, state key, content) for one state event."""
    kind = rng.randrange(4)
    if kind == 0:
        return "m.room.member", sender.user_id, member_change(rng, sender.user_id)
    event_type = rng.choice(TYPES)
    # The provisioning marker at state key "" names the room's group: left to the service
    # account (a coordinator rewriting it is a configuration change, not hostile input).
    key = rng.choice(["", "", sender.user_id, garbage_text(rng, 12)])
    if event_type == "org.samverkan.room" and key == "":
        key = "fuzz"
    if event_type in {"m.room.power_levels", "m.room.encryption", "m.room.join_rules"}:
        key = key or "fuzz"  # the real ones are not ours to break; other keys are just state
    content = garbage(rng, 3, True)
    if not isinstance(content, dict) or rng.random() < 0.3:
        content = {k: garbage(rng, 1, True) for k in ("name", "topic", "body", "url", "via")}
    return event_type, key, content


async def test_fuzz_state_events(
    org_env: OrgEnv, member_factory: MemberFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    rng = random.Random(SEED)
    rooms, coord, member, runtime = await two_rooms(org_env, member_factory)
    bots = {b.user_id for b in runtime.bots}
    url = org_env.synapse.url
    outcomes: Counter[tuple[str, str, int]] = Counter()

    for start in range(0, CASES, BATCH):
        for _ in range(BATCH):
            sender = rng.choice([member, member, coord])
            room = rng.choice(rooms)
            event_type, key, content = case(rng, sender)
            status, _ = await put_state(
                url, str(sender.client.access_token), room, event_type, key, content
            )
            who = "coordinator" if sender is coord else "member"
            outcomes[(who, event_type, status)] += 1
        await assert_alive(
            runtime,
            {rooms[0]: member, rooms[1]: coord},
            caplog.records,
            f"state cases {start}-{start + BATCH - 1}",
        )

    accepted = sum(n for (_w, _t, s), n in outcomes.items() if s == 200)
    assert accepted >= CASES // 4, f"too few state events accepted to mean anything: {outcomes}"
    everything = {getattr(ev, "event_id", "") for c in (member, coord) for _r, ev in c.events}
    assert_no_double_answers([member, coord], bots, everything)
    nxt = await member.send(rooms[0], "!event list")
    await member.wait_reply(nxt, count=1)
