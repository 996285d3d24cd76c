"""E2EE scenarios 9–16 (shared/E2EE-SCENARIOS.md): crashes, failing endpoints, forged events."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp

from messenger.session.rooms import Rooms
from tests.bots.test_exactly_once import bot_joined, provisioned
from tests.e2ee.support import bots_room, replies
from tests.e2ee.test_scenarios_keys import _raw_send, password
from tests.proxy import FaultProxy
from tests.support import Member


async def test_09_sigkill_after_sync_with_room_key_before_processing(
    org_env, make_user, member_factory, tmp_path: Path
) -> None:
    """The bot is SIGKILLed when a /sync carrying the room key arrived, before nio saw it:
    after the restart the key is there and the command is answered once."""
    room_id, member, bot, up = await provisioned(org_env, make_user, member_factory, tmp_path)
    await up.start()
    await bot_joined(member, room_id, bot)
    await up.stop()
    ping = await member.send(room_id, "!ping")  # room key + command wait for the bot
    await up.start(crash_at="sync-unprocessed")
    assert await up.wait_killed() == -signal.SIGKILL, up.log.read_text()[-2000:]
    assert (tmp_path / "crashed-sync-unprocessed").exists()
    await up.start()
    try:
        (reply,) = await member.wait_reply(ping, sender=bot, timeout=60)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        assert await replies(member, ping, bot, wait=2) == 1
        assert not member.undecryptable()
    finally:
        assert await up.stop() == 0, up.log.read_text()[-2000:]


async def test_10_sigkill_during_key_upload_same_keys_uploaded_again(
    org_env, make_user, member_factory, tmp_path: Path
) -> None:
    """SIGKILL after the homeserver stored the bot's first keys, before the bot saw the answer:
    the restarted bot re-uploads the same keys (no "already exists" wedge) and a member's new
    Olm session with it (on one of those one-time keys) works."""
    room_id, member, bot, up = await provisioned(org_env, make_user, member_factory, tmp_path)
    await up.start(crash_at="keys-uploaded")
    assert await up.wait_killed() == -signal.SIGKILL, up.log.read_text()[-2000:]
    await up.start()
    try:
        await bot_joined(member, room_id, bot)
        ping = await member.send(room_id, "!ping")
        (reply,) = await member.wait_reply(ping, sender=bot, timeout=60)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        assert "already exists" not in up.log.read_text()
        assert not member.undecryptable()
    finally:
        assert await up.stop() == 0, up.log.read_text()[-2000:]


async def new_device(
    member: Member, synapse: Any, tmp_path: Path, url: str | None = None
) -> Member:
    """The member's second device (a fresh login)."""
    return await Member.login(
        url or synapse.url, member.user_id, password(member), tmp_path / "dev2"
    )


async def test_11_keys_query_failing_keeps_the_room_key(
    org_env, member_factory, proxy: FaultProxy, synapse, tmp_path: Path
) -> None:
    """/keys/query fails 3× for the bot: the room key from a new device is kept and the
    command decrypts (and is authorised) once the query works."""
    _s, room_id, (member,), runtime = await bots_room(org_env, member_factory, proxy=proxy)
    bot = runtime.bots[0].user_id
    proxy.add("fail", r"/keys/query", times=3, status=500, name="query")
    second = await new_device(member, synapse, tmp_path)
    try:
        await second.wait_joined(room_id)
        ping = await second.send(room_id, "!ping")
        (reply,) = await second.wait_reply(ping, sender=bot, timeout=60)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        assert proxy.hits["query"] == 3
    finally:
        await second.close()


async def test_12_failed_to_device_upload_and_claim_are_retried(
    org_env, member_factory, proxy: FaultProxy, synapse, tmp_path: Path
) -> None:
    """/sendToDevice, /keys/claim and /keys/upload each fail twice (502) for the bot; its
    answer to a new device still decrypts there, and its one-time keys are topped up."""
    _s, room_id, (member,), runtime = await bots_room(org_env, member_factory, proxy=proxy)
    bot = runtime.bots[0]
    for path in ("/sendToDevice/", "/keys/claim", "/keys/upload"):
        proxy.add("fail", path, times=2, status=502, name=path)
    second = await new_device(member, synapse, tmp_path)
    try:
        await second.wait_joined(room_id)
        ping = await second.send(room_id, "!ping")
        (reply,) = await second.wait_reply(ping, sender=bot.user_id, timeout=90)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        assert not [e for e in second.undecryptable() if e.sender == bot.user_id]
        assert proxy.hits["/sendToDevice/"] == 2
        assert proxy.hits["/keys/claim"] == 2
        olm = bot.session.client.olm
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while (
            proxy.hits["/keys/upload"] < 2
            or olm.uploaded_key_count != olm.account.max_one_time_keys
        ):
            assert loop.time() < deadline, (proxy.hits, olm.uploaded_key_count)
            await asyncio.sleep(0.5)
    finally:
        await second.close()


async def test_13_many_to_device_messages_while_sync_blocked_processed_in_order(
    client_factory, make_user, member_factory, proxy: FaultProxy
) -> None:
    """120 room keys arrive while Bob's /sync is blocked: all are processed, in order, and
    messages under the first and the last of them decrypt."""
    alice_id, alice_pw = await make_user("alice")
    bob_id, bob_pw = await make_user("bob")
    alice = await member_factory(alice_id, alice_pw)
    bob = await client_factory(bob_id, bob_pw, url=proxy.url)
    resp = await alice.client.room_create(
        invite=[bob_id],
        initial_state=[
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        ],
    )
    room_id = resp.room_id

    async def bob_joined() -> bool:
        room = alice.client.rooms.get(room_id)
        return room is not None and bob_id in room.users and bob_id not in room.invited_users

    await alice.wait_until(bob_joined)
    await alice.client.keys_query() if alice.client.should_query_keys else None
    await bob.stop()
    block = proxy.add("block", r"/sync", times=None, name="sync")
    bob.start()
    sids = []
    olm = alice.client.olm
    first = None
    for _ in range(120):
        await alice.client.share_group_session(room_id, ignore_unverified_devices=True)
        session = olm.outbound_group_sessions[room_id]
        first = first or session
        sids.append(session.id)
    last_msg = await alice.send(room_id, "under the last key")
    olm.outbound_group_sessions[room_id] = first
    first_msg = await alice.send(room_id, "under the first key")
    await asyncio.sleep(1)
    assert proxy.hits["sync"] >= 1
    proxy.remove(block)
    assert (await bob.wait_readable(first_msg, 90)).body == "under the first key"
    assert (await bob.wait_readable(last_msg)).body == "under the last key"
    store = bob.session.client.olm.inbound_group_store
    key = olm.account.identity_keys["curve25519"]
    assert all(store.get(room_id, key, sid) for sid in sids)
    assert len(set(sids)) == 120


async def test_14_fallback_key_reaches_bot_after_one_time_keys_ran_out(
    client_factory, make_user, member_factory, synapse
) -> None:
    """Bob's 50 one-time keys are claimed while he is offline; a new device still reaches him
    through his fallback key, and he replaces the used fallback key afterwards."""
    carol_id, carol_pw = await make_user("carol")
    bob_id, bob_pw = await make_user("bob")
    carol = await member_factory(carol_id, carol_pw)
    bob = await client_factory(bob_id, bob_pw)
    resp = await carol.client.room_create(
        invite=[bob_id],
        initial_state=[
            {
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            }
        ],
    )
    room_id = resp.room_id

    async def bob_joined() -> bool:
        room = carol.client.rooms.get(room_id)
        return room is not None and bob_id in room.users and bob_id not in room.invited_users

    await carol.wait_until(bob_joined)
    await bob.stop()
    device = bob.session.device_id
    token = carol.client.access_token
    claimed = [await claim(synapse.url, token, bob_id, device) for _ in range(51)]
    assert not any(k.get("fallback") for k in claimed[:50])
    assert claimed[50].get("fallback") is True
    used_fallback = claimed[50]["key"]
    bob.start()
    event_id = await carol.send(room_id, "via the fallback key")
    assert (await bob.wait_readable(event_id)).body == "via the fallback key"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        key = await claim(synapse.url, token, bob_id, device)
        if not key.get("fallback") or key["key"] != used_fallback:
            break
        assert loop.time() < deadline, "the used fallback key was never replaced"
        await asyncio.sleep(1)


async def claim(url: str, token: str, user: str, device: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{url}/_matrix/client/v3/keys/claim",
            headers={"Authorization": f"Bearer {token}"},
            json={"one_time_keys": {user: {device: "signed_curve25519"}}},
        ) as r,
    ):
        data = await r.json()
    keys = data["one_time_keys"].get(user, {}).get(device, {})
    assert keys, data
    return dict(next(iter(keys.values())))


async def test_15_spoofed_sender_never_authorises(
    org_env, member_factory, make_user, proxy: FaultProxy
) -> None:
    """An outsider's `!ping` whose `sender` is rewritten (in the bot's /sync) to an
    organisation member is not run: the Megolm session belongs to the outsider's device."""
    _s, room_id, (alice,), runtime = await bots_room(org_env, member_factory, proxy=proxy)
    bot = runtime.bots[0].user_id
    mallory_id, mallory_pw = await make_user("mallory")
    service = await org_env.deployment.service_session()
    try:
        await Rooms(service).invite(room_id, mallory_id)
    finally:
        await service.close()
    mallory = await member_factory(mallory_id, mallory_pw)
    await mallory.wait_joined(room_id)

    def spoof(doc: dict[str, Any]) -> None:
        room = doc.get("rooms", {}).get("join", {}).get(room_id, {})
        for ev in room.get("timeline", {}).get("events", []):
            if ev.get("sender") == mallory_id and ev.get("type") == "m.room.encrypted":
                ev["sender"] = alice.user_id

    proxy.add("rewrite", r"/sync", times=None, rewrite=spoof, name="spoof")
    forged = await mallory.send(room_id, "!ping")
    genuine = await alice.send(room_id, "!ping")
    await alice.wait_reply(genuine, sender=bot)
    assert await replies(alice, forged, bot, wait=3) == 0
    assert proxy.hits["spoof"] >= 1


async def test_16_replayed_ciphertext_under_new_event_id_rejected(
    org_env, member_factory, synapse
) -> None:
    """Alice's encrypted `!ping` re-posted verbatim as a new event is not answered — neither
    while the bot runs nor after a restart (the message index is persisted)."""
    settings, room_id, (alice,), runtime = await bots_room(org_env, member_factory)
    bot = runtime.bots[0].user_id
    ping = await alice.send(room_id, "!ping")
    await alice.wait_reply(ping, sender=bot)
    token = alice.client.access_token
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{synapse.url}/_matrix/client/v3/rooms/{room_id}/event/{ping}",
            headers={"Authorization": f"Bearer {token}"},
        ) as r,
    ):
        content = (await r.json())["content"]
    replay = await _raw_send(synapse.url, token, room_id, "m.room.encrypted", content)
    assert await replies(alice, replay, bot, wait=3) == 0
    await org_env.stop_bots()
    await org_env.start_bots(settings, ["events"])
    replay2 = await _raw_send(synapse.url, token, room_id, "m.room.encrypted", content)
    later = await alice.send(room_id, "!ping")
    await alice.wait_reply(later, sender=bot)
    assert await replies(alice, replay2, bot, wait=2) == 0
    assert len(alice.replies_to(ping, sender=bot)) == 1
