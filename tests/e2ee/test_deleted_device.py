"""Messages from a device signed out later stay readable and stay that sender's (issue 14
item 2): the room key is authenticated against the device that owned it when it arrived."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from messenger.session.rooms import Rooms
from tests.e2ee.support import Client, bots_room
from tests.e2ee.test_scenarios_keys import password, visibility
from tests.support import Member, OrgEnv


async def sign_out(member: Member) -> str:
    """Log the member's device out (the server deletes it and its keys); return its ID."""
    device_id = str(member.client.device_id)
    await member.client.logout()
    await member.close()
    return device_id


async def wait_deleted(c: Client, user_id: str, device_id: str) -> None:
    """Until our Session's device list shows ``device_id`` gone."""

    def gone() -> bool:
        store = c.session.client.device_store
        return device_id not in {d.id for d in store.active_user_devices(user_id)}

    await c.wait_for(gone, 60)


async def test_history_from_a_signed_out_device_decrypts_and_keeps_its_sender(
    client_factory: Any, make_user: Any, member_factory: Any, synapse: Any, tmp_path: Path
) -> None:
    alice_id, alice_pw = await make_user("alice")
    bob_id, bob_pw = await make_user("bob")
    alice = await client_factory(alice_id, alice_pw)
    bob = await member_factory(bob_id, bob_pw)
    room_id = await Rooms(alice.session).create(
        "deleted", invite=[bob_id], extra_state=[visibility("shared")]
    )
    await bob.wait_joined(room_id)
    await alice.wait_for(lambda: bob_id in alice.session.client.rooms[room_id].users)
    old_laptop = await Member.login(synapse.url, bob_id, password(bob), tmp_path / "laptop")
    await old_laptop.wait_joined(room_id)
    sent = await old_laptop.send(room_id, "written on the old laptop")
    first = await alice.wait_readable(sent)
    assert first.sender_device == old_laptop.client.device_id

    device_id = await sign_out(old_laptop)
    await wait_deleted(alice, bob_id, device_id)
    later = await asyncio.wait_for(alice.session.fetch_event(room_id, sent), 30)
    assert later.decrypt_error is None, later.decrypt_error
    assert later.body == "written on the old laptop"
    assert later.sender == bob_id
    assert later.sender_device == device_id
    assert later.device_deleted
    assert later.encrypted


async def test_a_command_from_a_device_deleted_before_the_bot_read_it_is_answered(
    org_env: OrgEnv, member_factory: Any, synapse: Any, tmp_path: Path
) -> None:
    """The bot was down; the member sent a command from a second device and signed that
    device out; when the bot comes back, the command is still the member's and answered."""
    settings, room_id, (anna,), runtime = await bots_room(org_env, member_factory)
    bot = runtime.bots[0].user_id
    warm = await anna.send(room_id, "!ping")
    await anna.wait_reply(warm, bot)
    phone = await Member.login(synapse.url, anna.user_id, password(anna), tmp_path / "phone")
    await phone.wait_joined(room_id)
    # The bot learns of the phone while it exists (a device-list change), then goes down.
    first = await phone.send(room_id, "!ping")
    await anna.wait_reply(first, bot)
    await org_env.stop_bots()
    cmd = await phone.send(room_id, "!ping")
    await sign_out(phone)
    await org_env.start_bots(settings, ["events"])
    (reply,) = await anna.wait_reply(cmd, bot, timeout=60)
    assert "pong" in reply["content"]["body"]
