"""The terminal client against the real Synapse, driven with Pilot, checked from other clients."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.events import SyncBatch
from messenger.session.core import Session
from tests.support import WAIT_S, OrgEnv
from tests.tui.support import body_is, password_of, tui_for, until, wait_seen
from tui.board import approved_requests, open_requests
from tui.screens.dashboards import DashboardScreen
from tui.screens.devices import DevicesScreen
from tui.screens.verify import VerifyScreen
from tui.widgets.composer import Composer
from tui.widgets.timeline import TimelineView


async def test_read_send_thread_and_react(org_env: OrgEnv, member_factory: Any) -> None:
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events"]
    )
    before = await member.send(room_id, "Sent before the TUI device existed")
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        assert client.session is not None
        tui_device = client.session.device_id

        async def member_knows_tui() -> bool:
            return tui_device in member.client.device_store[coord.user_id]

        await member.wait_until(member_knows_tui)
        hello = await member.send(room_id, "Hej från Mette — **viktigt**")
        await until(pilot, lambda: client.info[room_id].kind == "working_group", "the space marker")
        labels = [str(o.prompt) for o in app.main.query_one("#rooms").options]  # type: ignore[union-attr, attr-defined]
        assert any("Nordic policy" in label for label in labels), labels
        assert any(settings.org.organisation.name in label for label in labels), labels

        app.open_room(room_id)
        tl = client.timeline(room_id)
        await until(pilot, lambda: tl.get(hello) is not None, "the member's message")
        msg = tl.get(hello)
        assert msg is not None
        assert msg.decrypt_error is None
        assert msg.encrypted
        assert msg.body == "Hej från Mette — **viktigt**"
        view = app.main.query_one("#timeline", TimelineView)  # type: ignore[union-attr]
        assert any("Hej från Mette" in s.text for s in view._lines)
        utd = tl.get(before)  # no key for a device that did not exist: shown, with the reason
        assert utd is not None
        assert utd.decrypt_error
        assert any("Unable to decrypt this message" in s.text for s in view._lines)

        composer = app.main.query_one(Composer)  # type: ignore[union-attr]
        composer.focus()
        composer.load_text("Hello from the **TUI**")
        await pilot.press("enter")
        sent = await wait_seen(member, coord.user_id, body_is("Hello from the **TUI**"))
        assert sent["content"]["formatted_body"] == "<p>Hello from the <strong>TUI</strong></p>"
        assert sent["type"] == "m.room.message"  # decrypted by the member's own client

        await until(pilot, lambda: view.shown()[-1].event_id == sent["event_id"], "our echo")
        view.focus()
        await pilot.press("up", "up")
        current = view.current()
        assert current is not None
        assert current.event_id == hello
        await pilot.press("t")
        assert app.main.thread_root == hello  # type: ignore[union-attr]
        composer.load_text("In the thread")
        await pilot.press("enter")
        threaded = await wait_seen(member, coord.user_id, body_is("In the thread"))
        rel = threaded["content"]["m.relates_to"]
        assert rel["rel_type"] == "m.thread"
        assert rel["event_id"] == hello

        await pilot.press("escape", "ctrl+t")
        view.selected = None
        await pilot.press("up", "up", "e", "2")
        reaction = await wait_seen(member, coord.user_id, lambda s: s.get("type") == "m.reaction")
        assert reaction["content"]["m.relates_to"] == {
            "rel_type": "m.annotation",
            "event_id": hello,
            "key": "✅",
        }
        await until(
            pilot,
            lambda: (tl.get(hello) or msg).reactions.get("✅") == [coord.user_id],
            "the reaction echoed in the timeline",
        )
        assert len(tl.thread(hello)) == 2
        assert not member.undecryptable()

        # The homeserver connection drops (a dead address) and comes back: banner, then recovery.
        assert client.session is not None
        nio_client = client.session.client
        good = nio_client.homeserver
        nio_client.homeserver = "http://127.0.0.1:9"
        await member.send(room_id, "wake the long poll")
        banner = app.main.query_one("#banner")  # type: ignore[union-attr]
        await until(pilot, lambda: bool(banner.display), "the connection banner")
        assert "Connection to the homeserver lost" in str(banner.render())
        nio_client.homeserver = good
        await until(pilot, lambda: not banner.display, "recovery")
        after = await member.send(room_id, "after the outage")
        await until(pilot, lambda: tl.get(after) is not None, "messages after the outage")


async def test_approve_a_request_from_the_dashboard(org_env: OrgEnv, member_factory: Any) -> None:
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["resources"]
    )
    bot = settings.org.bot_user_ids()["resources"]
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        ask = await member.send(room_id, '!request materials "Flyers for the summit"')
        await member.wait_reply(ask, sender=bot)
        await until(pilot, lambda: len(open_requests(client)) == 1, "the request on the board")
        (row,) = open_requests(client)
        assert row.data.status == "open"
        assert row.data.requester == member.user_id

        await pilot.press("f2")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("2", "a")
        approve = await wait_seen(member, coord.user_id, body_is(f"!request approve {row.data.id}"))
        assert approve["content"]["m.relates_to"]["event_id"] == ask  # in the request's thread

        def approved() -> bool:
            card = client.timeline(room_id).get(row.item.event_id)
            return bool(card and card.structured["org.samverkan.request"]["status"] == "approved")

        await until(pilot, approved, "the bot's card edited to approved")
        await until(pilot, lambda: len(approved_requests(client)) == 1, "the board")
        assert open_requests(client) == []  # approved is no longer open: its own table
        table = app.screen.query_one("#t-approved")
        await until(pilot, lambda: table.row_count == 1, "the live dashboard")  # type: ignore[attr-defined]
        assert app.screen.query_one("#t-requests").row_count == 0  # type: ignore[attr-defined]


async def test_a_refused_approval_is_shown_on_the_dashboard(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["resources"]
    )
    bot = settings.org.bot_user_ids()["resources"]
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room_id in app.client.info, "rooms")
        client = app.client
        assert client is not None
        ask = await member.send(room_id, '!request funding "Train to Oslo" --amount 12000')
        await member.wait_reply(ask, sender=bot)
        await until(pilot, lambda: len(open_requests(client)) == 1, "the request on the board")
        (row,) = open_requests(client)
        await pilot.press("f2")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("2")
        table = screen.query_one("#t-requests")
        assert "SEK12,000.00" in [str(c) for c in table.get_row_at(0)]  # type: ignore[attr-defined]
        await pilot.press("a")
        # No pool to draw from: the bot refuses in the request's thread; the dashboard says so.
        await until(
            pilot,
            lambda: any("was not approved" in str(n.message) for n in app._notifications),
            "the refusal on the dashboard",
        )
        (note,) = [n for n in app._notifications if "was not approved" in str(n.message)]
        assert row.data.id in str(note.message)
        assert "pool" in str(note.message)  # the bot's reason
        assert note.severity == "error"
        assert [r.data.status for r in open_requests(client)] == ["open"]


async def test_emoji_verification_with_another_client(
    org_env: OrgEnv, member_factory: Any, tmp_path: Any
) -> None:
    settings, room_id, (coord, member), _rt = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1, bots=["events"]
    )
    assert org_env.deployment is not None
    other = await Session.open(
        org_env.synapse.url,
        member.user_id,
        tmp_path / "other",
        org_env.deployment.vault,
        password=password_of(member.user_id),
        device_name="other client",
    )
    manager = VerificationManager(other, CrossSigning(other))

    async def feed(batch: SyncBatch) -> None:
        await manager.handle(batch.to_device)

    syncing = asyncio.create_task(other.run(feed))
    try:
        async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
            await until(
                pilot, lambda: app.client is not None and room_id in app.client.info, "rooms"
            )
            client = app.client
            assert client is not None
            await other.query_device_keys({coord.user_id})
            await until(
                pilot,
                lambda: any(
                    r.device_id == other.device_id for r in client.devices([member.user_id])
                ),
                "devices",
            )
            await pilot.press("f3")
            screen = app.screen
            assert isinstance(screen, DevicesScreen)
            index = next(i for i, r in enumerate(screen.rows) if r.device_id == other.device_id)
            screen.query_one("#devices").move_cursor(row=index)  # type: ignore[attr-defined]
            await pilot.press("v")
            theirs = await asyncio.wait_for(manager.incoming.get(), WAIT_S)
            await theirs.accept()
            await until(pilot, lambda: isinstance(app.screen, VerifyScreen), "the verify screen")
            ours = app.screen.v  # type: ignore[attr-defined]
            await until(pilot, lambda: ours.state == "keys" and theirs.state == "keys", "emoji")
            assert ours.emojis == theirs.emojis
            assert len(ours.emojis) == 7
            await theirs.confirm()
            await pilot.press("y")
            await until(pilot, lambda: ours.state == "done" and theirs.state == "done", "done")
            (row,) = [r for r in client.devices([member.user_id]) if r.device_id == other.device_id]
            assert row.state == "verified"
    finally:
        syncing.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await syncing
        await other.close()
