"""What the TUI knows when it starts: dashboards from the rooms' history, its own identity."""

from __future__ import annotations

from typing import Any

from messenger.client.chat import ChatClient
from messenger.events import SyncBatch
from messenger.session.core import Session
from tests.support import OrgEnv
from tests.tui.support import password_of, tui_for, until
from tui.board import approved_requests, upcoming_events
from tui.factory import tui_dir
from tui.screens.dashboards import DashboardScreen


async def _ignore(_batch: SyncBatch) -> None:
    return None


async def test_dashboards_show_items_from_before_the_start(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room_id, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events", "resources"]
    )
    assert org_env.deployment is not None
    ids = settings.org.bot_user_ids()
    # The TUI's device exists (an earlier run) and the bots encrypt for it ...
    device = await Session.open(
        org_env.synapse.url,
        coord.user_id,
        tui_dir(settings.home, coord.user_id),
        org_env.deployment.vault,
        password=password_of(coord.user_id),
        device_name="Samverkan TUI",
    )
    try:
        first_run = ChatClient(device, coord.user_id, set())
        assert (await first_run.prepare_identity(password_of(coord.user_id))).state == "created"
        assert first_run.cross_signing is not None
        master = (await first_run.cross_signing.query(coord.user_id, fresh=True))["master"]
        await device.sync_once(_ignore, timeout_ms=0)

        async def everyone_knows_it() -> bool:
            stores = [b.session.client.device_store for b in runtime.bots]
            return all(device.device_id in s[coord.user_id] for s in stores)

        await member.wait_until(everyone_knows_it)
        # ... items are created and changed while it is not running ...
        ask = await member.send(room_id, '!request materials "Flyers for the summit"')
        (card,) = await member.wait_reply(ask, sender=ids["resources"])
        request_id = card["content"]["org.samverkan.request"]["id"]
        plan = await coord.send(room_id, '!event create "Summit" 2031-05-20 10:00 Europe/Stockholm')
        await coord.wait_reply(plan, sender=ids["events"])
        approve = await coord.send(room_id, f"!request approve {request_id}")
        await coord.wait_reply(approve, sender=ids["resources"])

        async def card_edited() -> bool:
            return any(
                getattr(ev, "source", {}).get("content", {}).get("m.relates_to", {}).get("rel_type")
                == "m.replace"
                and ev.source["sender"] == ids["resources"]
                for _r, ev in member.events
            )

        await member.wait_until(card_edited)
        for _ in range(3):  # ... and that device's sync token moves past all of it
            await device.sync_once(_ignore, timeout_ms=0)
    finally:
        await device.close()

    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.board_filled, "the dashboards' history")
        client = app.client
        assert client is not None
        assert client.session is not None
        assert client.session.device_id == device.device_id  # restored, not a new login
        assert client.identity.state == "kept"  # the same cross-signing keys, no new dialog
        assert client.cross_signing is not None
        assert (await client.cross_signing.query(coord.user_id, fresh=True))["master"] == master
        (event,) = upcoming_events(client)
        assert event.data.title == "Summit"
        (request,) = approved_requests(client)
        assert request.data.id == request_id
        assert request.data.status == "approved"  # the card with its latest edit
        assert request.data.what == "Flyers for the summit"
        await pilot.press("f2")
        assert isinstance(app.screen, DashboardScreen)
        assert "Summit" in str(app.screen.query_one("#t-events").get_row_at(0))  # type: ignore[attr-defined]
        await pilot.press("2")
        approved = app.screen.query_one("#t-approved")
        assert request_id in str(approved.get_row_at(0))  # type: ignore[attr-defined]
