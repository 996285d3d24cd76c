"""E2EE scenarios 17–23 (shared/E2EE-SCENARIOS.md): unwedging, withheld keys, backup,
transaction IDs, lost sync tokens, outsiders, late keys and shutdown."""

from __future__ import annotations

import asyncio
import functools
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from messenger.botkit.utd import post_undecryptable_notice
from messenger.session.core import UNDECRYPTED_NS
from messenger.session.rooms import Rooms
from messenger.store import StateStore
from tests.e2ee.support import bots_room, replies
from tests.e2ee.test_scenarios_keys import decrypted, pair_room, send, text, wait_decrypted
from tests.messenger.test_backup import (
    test_new_device_decrypts_history_after_restore as backup_restore_flow,
)
from tests.proxy import FaultProxy
from tests.support import Member


async def test_17_wedged_olm_session_replaced_and_key_reshared(
    client_factory, make_user, member_factory
) -> None:
    """Bob's client loses its Olm session with Alice (our Session): it cannot read her next
    room key, marks the session wedged and opens a new one (m.dummy); Alice then re-shares
    her room key over the new session, so her next message decrypts."""
    alice, bob, room_id = await pair_room(client_factory, make_user, member_factory)
    hello = await bob.send(room_id, "hello")  # Bob's Olm session to Alice, which she reuses
    await alice.wait_readable(hello)
    first, _ = await send(alice, room_id, "before the wedge")
    await wait_decrypted(bob, first)
    alice_key = alice.session.client.olm.account.identity_keys["curve25519"]
    bob.client.olm.session_store._entries.pop(alice_key, None)  # the wedge
    alice.session.client.invalidate_outbound_session(room_id)
    lost, _ = await send(alice, room_id, "under a key bob cannot receive")

    def dummy_seen() -> bool:
        return any(t.get("type") == "m.dummy" for b in alice.batches for t in b.to_device)

    await alice.wait_for(dummy_seen)
    after, _ = await send(alice, room_id, "after the unwedging")
    src = await wait_decrypted(bob, after)
    assert src["content"]["body"] == "after the unwedging"
    assert lost  # sent under a key Bob never received (lost to the wedge)


async def test_18_withheld_key_bot_says_it_clearly(
    org_env, member_factory, client_factory, synapse
) -> None:
    """A member's client that shares keys only with verified devices withholds the key from
    the unverified bot (m.room_key.withheld, m.unverified); the bot says so in the room."""
    _s, room_id, (alice, bob), runtime = await bots_room(org_env, member_factory, members=2)
    bot = runtime.bots[0]
    bot.session.on_undecryptable = functools.partial(post_undecryptable_notice, bot)
    strict = await client_factory(bob.user_id, "pw-" + bob.user_id[1:].split(":")[0])
    strict.session.client.withhold_from_unverified = True
    await strict.session.query_device_keys({alice.user_id, bot.user_id})
    for device in strict.session.client.device_store.active_user_devices(alice.user_id):
        strict.session.client.verify_device(device)  # Alice's device is verified, the bot's not
    event_id = await strict.session.send_now(room_id, text("!ping"), txn_id=uuid.uuid4().hex)

    def notice() -> list[dict[str, Any]]:
        return [
            ev.source
            for _r, ev in alice.events
            if getattr(ev, "sender", None) == bot.user_id
            and "could not read a message" in ev.source.get("content", {}).get("body", "")
        ]

    async def noticed() -> bool:
        return bool(notice())

    await alice.wait_until(noticed)
    (msg,) = notice()
    body = msg["content"]["body"]
    assert bob.user_id in body
    assert "not verified" in body
    assert "emoji verification" in body
    assert await replies(alice, event_id, bot.user_id, wait=0) == 0
    assert decrypted(alice, event_id) is not None  # the verified device did get the key
    await asyncio.sleep(1.5)
    assert len(notice()) == 1


async def test_19_key_backup_restores_on_new_device_wrong_key_fails(
    org_env, member_factory, make_user, tmp_path: Path
) -> None:
    """The backup flow of tests/messenger/test_backup.py: a new device restores history with
    the recovery key; a wrong recovery key raises CryptoError and changes nothing."""
    await backup_restore_flow(org_env, member_factory, make_user, tmp_path)


async def test_20_same_transaction_id_same_event_after_502_and_drop(
    client_factory, make_user, member_factory, proxy: FaultProxy
) -> None:
    """The homeserver stores the message but the answer is lost (502, then a dropped
    connection): the outbox retries with the same transaction ID — one event, same ID."""
    alice, bob, room_id = await pair_room(client_factory, make_user, member_factory, url=proxy.url)
    proxy.add("fail", r"/send/m\.room\.encrypted/", after_forward=True, status=502, name="502")
    proxy.add("drop", r"/send/m\.room\.encrypted/", after_forward=True, name="drop")
    outbox = asyncio.create_task(alice.session.run_outbox())
    try:
        async with alice.session.store.transaction() as tx:
            await tx.enqueue(room_id, text("exactly once"), txn_id="t-" + uuid.uuid4().hex, key="k")
        alice.session.wake_outbox()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not await alice.session.store.sent_event_id("k"):
            assert loop.time() < deadline
            await asyncio.sleep(0.2)
        event_id = await alice.session.store.sent_event_id("k")
    finally:
        outbox.cancel()
    assert proxy.hits["502"] == 1
    assert proxy.hits["drop"] == 1
    await wait_decrypted(bob, event_id)
    await asyncio.sleep(1)
    copies = [e for _r, e in bob.events if getattr(e, "body", None) == "exactly once"]
    assert len(copies) == 1
    assert copies[0].event_id == event_id


async def _set_token(org_env: Any, bot_user: str, token: str | None) -> None:
    dep = org_env.deployment
    store = await StateStore.open(dep.account_dir(bot_user) / "state.db", dep.vault)
    try:
        if token is None:
            await store.delete("session", "sync_token")
        else:
            await store.put("session", "sync_token", token)
    finally:
        await store.close()


async def test_21_lost_or_old_sync_token_runs_no_command_twice(org_env, member_factory) -> None:
    """Restart with an old sync token, then with none: no command is answered twice."""
    settings, room_id, (alice,), runtime = await bots_room(org_env, member_factory)
    bot = runtime.bots[0]
    first = await alice.send(room_id, "!ping")
    await alice.wait_reply(first, sender=bot.user_id)
    old = await bot.store.get("session", "sync_token")
    second = await alice.send(room_id, "!ping")
    await alice.wait_reply(second, sender=bot.user_id)
    for token in (old, None):
        await org_env.stop_bots()
        await _set_token(org_env, bot.user_id, token)
        runtime = await org_env.start_bots(settings, ["events"])
        await asyncio.wait_for(runtime.wait_synced(), 60)
        probe = await alice.send(room_id, "!ping")
        await alice.wait_reply(probe, sender=bot.user_id)
    await asyncio.sleep(1)
    assert len(alice.replies_to(first, sender=bot.user_id)) == 1
    assert len(alice.replies_to(second, sender=bot.user_id)) == 1


async def test_22_outside_invites_refused_non_member_commands_ignored(
    org_env, member_factory, make_user
) -> None:
    """An outsider's invite is rejected; an outsider in an organisation room gets no answer."""
    _s, room_id, (alice,), runtime = await bots_room(org_env, member_factory)
    bot = runtime.bots[0].user_id
    eve_id, eve_pw = await make_user("eve")
    eve = await member_factory(eve_id, eve_pw)
    resp = await eve.client.room_create(invite=[bot])

    async def refused() -> bool:
        members = await eve.client.joined_members(resp.room_id)
        state = await eve.client.room_get_state_event(resp.room_id, "m.room.member", bot)
        return bot not in [m.user_id for m in members.members] and (
            getattr(state, "content", {}).get("membership") == "leave"
        )

    await eve.wait_until(refused)
    service = await org_env.deployment.service_session()
    try:
        await Rooms(service).invite(room_id, eve_id)
    finally:
        await service.close()
    await eve.wait_joined(room_id)
    ignored = await eve.send(room_id, "!ping")
    answered = await alice.send(room_id, "!ping")
    await alice.wait_reply(answered, sender=bot)
    assert await replies(eve, ignored, bot, wait=2) == 0


async def test_23_command_before_its_key_answered_when_key_lands_no_logout(
    org_env, synapse, proxy: FaultProxy, tmp_path: Path
) -> None:
    """The member's room key is held back (its /sendToDevice deferred by the proxy) until
    after the command arrived: the bot keeps the event, decrypts it when the key lands and
    answers. Stopping the runtime does not log the bot's device out."""
    members: list[Member] = []

    async def via_proxy(user: str, pw: str) -> Member:
        m = await Member.login(proxy.url, user, pw, tmp_path / f"m{len(members)}")
        members.append(m)
        return m

    try:
        _s, room_id, (alice,), runtime = await bots_room(org_env, via_proxy)
        bot = runtime.bots[0]
        bot.session.key_request_after_s = 0
        hold = proxy.add("defer", r"/sendToDevice/m\.room\.encrypted/", times=None, name="keys")
        ping = await alice.send(room_id, "!ping")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not await bot.store.get(UNDECRYPTED_NS, ping):
            assert loop.time() < deadline, "the bot never saw the undecryptable command"
            await asyncio.sleep(0.2)
        proxy.remove(hold)
        assert await proxy.release(hold) >= 1
        (reply,) = await alice.wait_reply(ping, sender=bot.user_id, timeout=60)
        assert reply["content"]["org.samverkan.notice"]["kind"] == "pong"
        token = bot.session.client.access_token
        await org_env.stop_bots()
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{synapse.url}/_matrix/client/v3/account/whoami",
                headers={"Authorization": f"Bearer {token}"},
            ) as r,
        ):
            assert r.status == 200, "the bot's device must stay logged in"
    finally:
        for m in members:
            await m.close()
