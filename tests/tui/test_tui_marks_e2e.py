"""Marks the TUI puts on messages from the real Synapse: a plaintext message forged into an
encrypted room, and a message sent from a device that was signed out since."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import OrgEnv, client_api
from tests.tui.support import password_of, tui_for, until
from tui.widgets.timeline import TimelineView


async def raw(url: str, token: str, method: str, path: str, body: dict[str, Any]) -> Any:
    """One client-server API call with an access token, outside any Matrix client."""
    status, data = await client_api(url, method, f"/_matrix/client/v3{path}", token, body)
    assert status == 200, data
    return data


def header_of(view: TimelineView, body: str) -> str:
    """The line right above the first line showing ``body`` (the message's header)."""
    lines = [s.text for s in view._lines]
    at = next(i for i, line in enumerate(lines) if body in line)
    return lines[at - 1]


async def test_plaintext_forged_into_an_encrypted_room_is_marked(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events"]
    )
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        assert client.info[room_id].encrypted
        assert client.session is not None
        tui_device = client.session.device_id

        async def member_knows_tui() -> bool:
            return tui_device in member.client.device_store[coord.user_id]

        await member.wait_until(member_knows_tui)
        sealed = await member.send(room_id, "Encrypted, as it should be")
        forged = (
            await raw(
                org_env.synapse.url,
                member.client.access_token,
                "PUT",
                f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                {"msgtype": "m.text", "body": "Plaintext the server could have written"},
            )
        )["event_id"]
        app.open_room(room_id)
        tl = client.timeline(room_id)
        await until(pilot, lambda: tl.get(forged) is not None, "the plaintext message")
        await until(pilot, lambda: tl.get(sealed) is not None, "the encrypted message")
        view = app.main.query_one("#timeline", TimelineView)  # type: ignore[union-attr]
        await until(
            pilot, lambda: any("Plaintext the server" in s.text for s in view._lines), "shown"
        )
        # Sent right after the encrypted one by the same person: the mark is still there.
        assert "⚠ not encrypted" in header_of(view, "Plaintext the server could have written")
        assert "not encrypted" not in header_of(view, "Encrypted, as it should be")


async def test_history_from_a_signed_out_device_is_readable_and_marked(
    org_env: OrgEnv, member_factory: Any
) -> None:
    """Needs the lead's messenger/session/decryption.py change (keys bound to the device that owned
    them when they arrived); the TUI's part is the mark and the reason shown."""
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events"]
    )
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        assert app.client is not None
        assert app.client.session is not None
        tui_device = app.client.session.device_id

        async def member_knows_tui() -> bool:
            return tui_device in member.client.device_store[coord.user_id]

        await member.wait_until(member_knows_tui)
        old = await member.send(room_id, "Sent from a laptop I later signed out")
        tl = app.client.timeline(room_id)
        await until(pilot, lambda: tl.get(old) is not None, "the message, live")
    phone = await member_factory(member.user_id, password_of(member.user_id))  # still signed in
    await raw(org_env.synapse.url, member.client.access_token, "POST", "/logout", {})

    # The TUI again, on the same device: the room's history is read back from the server.
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        assert client.session is not None
        # Not what is tested here (device-list tracking across a restart): ask once, now.
        await client.session.query_device_keys({member.user_id})
        devices: list[str] = []

        def laptop_gone() -> bool:
            devices[:] = [r.device_id for r in client.devices([member.user_id])]
            return devices == [phone.client.device_id]

        await until(pilot, laptop_gone, "the TUI to learn the laptop was signed out")
        # What this start read before it knew is as it was read then; read the event again.
        again = await client.session.fetch_event(room_id, old)
        assert again.decrypt_error is None
        assert again.device_deleted
        assert again.sender_device is not None

    # A third start: the device list (with the laptop gone) is known from the first sync on.
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        app.open_room(room_id)
        tl = client.timeline(room_id)
        await until(pilot, lambda: tl.get(old) is not None, "the message in the history")
        msg = tl.get(old)
        assert msg is not None
        assert msg.decrypt_error is None, msg.decrypt_error
        assert msg.body == "Sent from a laptop I later signed out"
        assert msg.device_deleted
        view = app.main.query_one("#timeline", TimelineView)  # type: ignore[union-attr]
        await until(pilot, lambda: any("laptop I later" in s.text for s in view._lines), "shown")
        assert "⚠ sent from a deleted device" in header_of(view, "laptop I later signed out")
