"""Provides the demo's showcase: the coordinator sends commands and reads the decrypted answers."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from messenger.config import Group, OrgFile
from messenger.deploy.deployment import Deployment
from messenger.events import Incoming, SyncBatch
from messenger.session.core import Session
from messenger.session.rooms import Rooms
from tui.factory import tui_dir

SWAHILI = "Tunahitaji kuamua nani ataongoza warsha kuhusu demokrasia ya mitaa mjini Nairobi."


def script() -> list[tuple[str, str]]:
    """What the coordinator types, as (room, text): every bot at work once. ``main`` is the
    first working group; ``sw`` the first group working in Swahili (the Kenya partnership)."""
    day = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    until = (datetime.date.today() + datetime.timedelta(days=180)).isoformat()
    return [
        ("main", "!ping"),
        ("main", "!help"),
        (
            "main",
            f'!event create "Nordic summit" {day} 14:00 Europe/Stockholm --duration 2h '
            '--where "Oslo"',
        ),
        ("main", "!pool add funding 50000 --unit SEK"),
        ("main", '!request funding "Travel to the Nairobi workshop" --amount 12000'),
        (
            "main",
            f'!project create "Women in local politics" --until {until} '
            '--goal "40 trained candidates" --sdg 5',
        ),
        (
            "main",
            '!kb add "Volunteers in the election campaign" --type lesson --tags kenya '
            "Start early with local volunteers.",
        ),
        ("main", "!kb search volunteer"),
        ("sw", "!holidays"),
        ("sw", "!translator add sw>en"),
        # Swahili is a working language there: nothing to do until someone asks for English.
        ("sw", SWAHILI),
        ("sw", "!translate en"),  # a reply to the message before
    ]


def showcase_rooms(org: OrgFile) -> dict[str, Group]:
    """The group each of the script's room keys stands for."""
    main = org.groups[0]
    swahili = next((g for g in org.groups if "sw" in org.group_languages(g)), main)
    return {"main": main, "sw": swahili}


WAIT_S = 60.0
STEP_WAIT_S = 20.0


async def showcase(deployment: Deployment, org: OrgFile, user: str, password: str) -> None:
    """Send the script in its rooms and print each bot's decrypted answer."""
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
        from messenger.deploy.provision import Provisioner

        groups = showcase_rooms(org)
        service = await deployment.service_session()
        try:
            existing = await Provisioner(service, org).existing()
        finally:
            await service.close()
        room_ids = {key: existing[g.slug].room_id for key, g in groups.items()}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        bots = set(org.bot_user_ids().values())

        def ready(room_id: str) -> bool:
            room = session.client.rooms.get(room_id)
            return bool(room) and bots <= set(room.users) and session.user_id in room.users

        while loop.time() < deadline:
            await session.sync_once(collect, timeout_ms=1000)
            if all(ready(r) for r in room_ids.values()):
                break
        current, sent = "", ""
        for key, text in script():
            if key != current:
                print(f"\nshowcase in {groups[key].name!r} as {user_id}:")
                current = key
            content: dict[str, object] = {"msgtype": "m.text", "body": text}
            if text.startswith("!translate "):
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": sent}}
            sent = await session.send_now(room_ids[key], content, txn_id=uuid.uuid4().hex)
            print(f"  > {text}")
            answered: set[str] = set()
            expected = len(bots) if text == "!ping" else 1 if text.startswith("!") else 0
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
