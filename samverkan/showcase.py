"""Provides the demo's showcase: the coordinator sends commands and reads the decrypted answers."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from messenger.config import OrgFile
from messenger.deployment import Deployment
from messenger.events import Incoming, SyncBatch
from messenger.rooms import Rooms
from messenger.session import Session
from tui.factory import tui_dir


def script() -> list[str]:
    """What the coordinator types: every bot at work once."""
    day = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    return [
        "!ping",
        "!help",
        f'!event create "Nordic summit" {day} 14:00 Europe/Stockholm --duration 2h --where "Oslo"',
        "!pool add funding 50000 --unit SEK",
        '!request funding "Travel to the Nairobi workshop" --amount 12000',
        "!translator add sw>en",
        "Tunahitaji kuamua nani ataongoza warsha kuhusu demokrasia ya mitaa mjini Nairobi.",
    ]


WAIT_S = 60.0
STEP_WAIT_S = 20.0


async def showcase(deployment: Deployment, org: OrgFile, user: str, password: str) -> None:
    """Send the script in the first working group's room and print each bot's decrypted answer."""
    user_id, _ = await deployment.ensure_account(user, password)
    # The showcase types from the coordinator's TUI device, so the TUI opened afterwards can
    # read what was said (a new device could not: it joined after those room keys were sent).
    session = await Session.open(
        deployment.url,
        user_id,
        tui_dir(deployment.settings.home, user_id),
        deployment.vault,
        password=password,
        device_name="Samverkan TUI",
    )
    rooms = Rooms(session)
    seen: list[Incoming] = []

    async def collect(batch: SyncBatch) -> None:
        for invite in batch.invites:
            await rooms.join(invite.room_id)
        seen.extend(batch.events)

    try:
        from messenger.provision import Provisioner

        service = await deployment.service_session()
        try:
            room_id = (await Provisioner(service, org).existing())[org.groups[0].slug].room_id
        finally:
            await service.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        bots = set(org.bot_user_ids().values())
        while loop.time() < deadline:
            await session.sync_once(collect, timeout_ms=1000)
            room = session.client.rooms.get(room_id)
            if room and bots <= set(room.users) and session.user_id in room.users:
                break
        print(f"\nshowcase in {org.groups[0].name!r} as {user_id}:")
        for text in script():
            sent = await session.send_now(
                room_id, {"msgtype": "m.text", "body": text}, txn_id=uuid.uuid4().hex
            )
            print(f"  > {text}")
            answered: set[str] = set()
            expected = len(bots) if text == "!ping" else 1
            step_deadline = loop.time() + STEP_WAIT_S
            while len(answered) < expected and loop.time() < step_deadline:
                await session.sync_once(collect, timeout_ms=1000)
                for ev in seen:
                    if ev.reply_to == sent and ev.event_id not in answered:
                        answered.add(ev.event_id)
                        tag = "decrypted" if ev.encrypted else "NOT ENCRYPTED"
                        first = ev.body.splitlines()[0] if ev.body else ""
                        more = (
                            f" (+{len(ev.body.splitlines()) - 1} lines)" if "\n" in ev.body else ""
                        )
                        print(f"  < {ev.sender} [{tag}]: {first}{more}")
    finally:
        await session.close()
