"""One bad event never stops a bot or a room: poison handlers, refused replies, garbage
to-device messages, against the real Synapse (issue 13, items 2 and 3)."""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from typing import Any

import pytest

from messenger.poison import set_poison
from messenger.session.outbox import OUTBOX_REF
from tests.support import Member, OrgEnv, client_api


def ping_count(member: Member, event_id: str, bot_ids: set[str]) -> dict[str, int]:
    """How many replies each bot sent to ``event_id``."""
    counts = dict.fromkeys(bot_ids, 0)
    for src in member.replies_to(event_id):
        if src.get("sender") in counts:
            counts[src["sender"]] += 1
    return counts


async def all_bots_answer(member: Member, room_id: str, bot_ids: set[str]) -> None:
    """An encrypted ``!ping`` is answered by every bot exactly once."""
    ping = await member.send(room_id, "!ping")
    for bot in bot_ids:
        await member.wait_reply(ping, bot, timeout=45)
    assert ping_count(member, ping, bot_ids) == dict.fromkeys(bot_ids, 1)


async def raw(
    url: str, token: str, method: str, path: str, body: dict[str, Any]
) -> tuple[int, Any]:
    return await client_api(url, method, f"/_matrix/client/v3{path}", token, body)


async def send_relation_inside(
    member: Member, room_id: str, content: dict[str, Any], rel: dict[str, Any]
) -> str:
    """Send an encrypted message whose relation is only inside the ciphertext, where the
    server cannot check it (nio would copy it to the clear part)."""
    _type, encrypted = member.client.encrypt(
        room_id, "m.room.message", {**content, "m.relates_to": rel}
    )
    encrypted.pop("m.relates_to", None)
    url = member.client.homeserver
    status, body = await raw(
        url,
        member.client.access_token,
        "PUT",
        f"/rooms/{room_id}/send/m.room.encrypted/{uuid.uuid4().hex}",
        encrypted,
    )
    assert status == 200, body
    return str(body["event_id"])


async def test_a_poisoned_event_is_isolated_across_a_restart(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """A handler that raises for one event: one 'could not be handled' answer, and the
    commands after it in the same room are answered, also after a restart of the bots."""
    settings, room_id, (anna,), runtime = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    events_bot = runtime.bots[0].user_id
    set_poison("POISON-" + org_env.suffix)
    try:
        bad = await anna.send(room_id, f"!event list POISON-{org_env.suffix}")
        after = await anna.send(room_id, "!ping")
        (failure,) = await anna.wait_reply(bad, events_bot)
        assert "something went wrong" in failure["content"]["body"]
        await anna.wait_reply(after, events_bot)
        await org_env.stop_bots()
        await org_env.start_bots(settings, ["events"])
        again = await anna.send(room_id, "!ping")
        await anna.wait_reply(again, events_bot)
        assert len(anna.replies_to(bad, events_bot)) == 1, "the poisoned event was retried"
    finally:
        set_poison(None)


async def test_a_reply_to_an_unknown_thread_does_not_block_the_room(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """An encrypted !ping whose thread relation (inside the ciphertext) names an event that
    does not exist: the server refuses the threaded reply; the bots answer anyway and the
    room keeps working."""
    _s, room_id, (anna,), runtime = await org_env.room_with_bots(member_factory, members=1)
    bot_ids = {b.user_id for b in runtime.bots}
    ghost = f"$ghost{uuid.uuid4().hex}"
    await all_bots_answer(anna, room_id, bot_ids)  # the room key is shared
    rel = {"rel_type": "m.thread", "event_id": ghost, "is_falling_back": True}
    bad = await send_relation_inside(anna, room_id, {"msgtype": "m.text", "body": "!ping"}, rel)
    await all_bots_answer(anna, room_id, bot_ids)
    for bot in bot_ids:
        await anna.wait_reply(bad, bot)
    assert ping_count(anna, bad, bot_ids) == dict.fromkeys(bot_ids, 1)


async def test_a_message_threaded_on_a_never_queued_card_does_not_block_the_room(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """A queued message whose thread root is an outbox key nothing was ever queued under can
    never get its relation: it goes out without one, and the room's next message follows."""
    _s, room_id, (anna,), runtime = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = runtime.bots[0]
    body = f"orphan {uuid.uuid4().hex}"
    orphan = {
        "msgtype": "m.notice",
        "body": body,
        "m.relates_to": {"rel_type": "m.thread", "event_id": f"{OUTBOX_REF}never-queued"},
    }
    async with bot.store.transaction() as tx:
        await tx.enqueue(room_id, orphan, txn_id=f"orphan-{uuid.uuid4().hex}", key="orphan")
    bot.session.wake_outbox()

    async def orphan_arrived() -> bool:
        return any(getattr(ev, "body", None) == body for _r, ev in anna.events)

    await anna.wait_until(orphan_arrived)
    await all_bots_answer(anna, room_id, {bot.user_id})


async def test_an_oversized_reply_does_not_block_the_room(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """A reply the homeserver refuses as too large is replaced by a short stand-in in the
    same thread, and the next message to the room goes out."""
    _s, room_id, (anna,), runtime = await org_env.room_with_bots(
        member_factory, members=1, bots=["events"]
    )
    bot = runtime.bots[0]
    cmd = await anna.send(room_id, "!ping")
    await anna.wait_reply(cmd, bot.user_id)
    huge = {
        "msgtype": "m.notice",
        "body": "x" * 70_000,
        "m.relates_to": {"m.in_reply_to": {"event_id": cmd}},
    }
    async with bot.store.transaction() as tx:
        await tx.enqueue(room_id, huge, txn_id=f"huge-{uuid.uuid4().hex}", key="huge")
    bot.session.wake_outbox()
    replies = await anna.wait_reply(cmd, bot.user_id, count=2)
    assert any("too large" in r["content"].get("body", "") for r in replies), replies
    await all_bots_answer(anna, room_id, {bot.user_id})


def garbage_olm(rng: secrets.SystemRandom) -> dict[str, Any]:
    """An Olm to-device body that is not Olm at all (random sender key, random pre-key)."""
    sender_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")
    return {
        "algorithm": "m.olm.v1.curve25519-aes-sha2",
        "sender_key": sender_key,
        "ciphertext": {
            "*": {"type": rng.choice([0, 1]), "body": base64.b64encode(os.urandom(90)).decode()}
        },
    }


@pytest.mark.parametrize("rounds", [3])
async def test_garbage_to_device_from_an_outsider_never_stops_the_bots(
    org_env: OrgEnv, member_factory: Any, make_user: Any, synapse: Any, rounds: int
) -> None:
    """The message that ended `up` (issue 13 item 2): a random-ciphertext Olm pre-key message
    to every bot device from an account that shares no room with them, and friends."""
    _s, room_id, (anna,), runtime = await org_env.room_with_bots(member_factory, members=1)
    bot_ids = {b.user_id for b in runtime.bots}
    outsider, pw = await make_user("outsider")
    mallory = await member_factory(outsider, pw)
    token = mallory.client.access_token
    rng = secrets.SystemRandom()
    for _ in range(rounds):
        for bot in bot_ids:
            for event_type, content in [
                ("m.room.encrypted", garbage_olm(rng)),
                ("m.room.encrypted", {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": 7}),
                ("m.room.encrypted", {"algorithm": None}),
                ("m.room_key_request", {"action": "request", "body": "nope"}),
                ("m.key.verification.request", {"transaction_id": {"a": 1}, "timestamp": "x"}),
                ("m.key.verification.start", {"transaction_id": ["x"], "method": 3}),
            ]:
                status, body = await raw(
                    synapse.url,
                    token,
                    "PUT",
                    f"/sendToDevice/{event_type}/{uuid.uuid4().hex}",
                    {"messages": {bot: {"*": content}}},
                )
                assert status == 200, body
        await all_bots_answer(anna, room_id, bot_ids)
    assert not runtime.failed.is_set()
