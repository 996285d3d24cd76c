"""Snapshots of the main screen, a dashboard and the verification screen (deterministic data)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot

from messenger.client.chat import DeviceRow
from tests.tui.support import BJORN, NORDIC, T0, TZ, offline_client
from tui.app import SamverkanApp
from tui.screens.dashboards import DashboardScreen
from tui.screens.devices import DevicesScreen
from tui.screens.verify import VerifyScreen
from tui.widgets.composer import Composer

SIZE = (140, 40)


class StandInVerification:
    """The ``messenger.e2ee.verification.Verification`` interface, frozen at the emoji step."""

    def __init__(self) -> None:
        self.other_user = BJORN
        self.other_device = "BJORNPHONE"
        self.state = "keys"
        self.emojis = [
            ("🐶", "Dog"),
            ("🔑", "Key"),
            ("🎸", "Guitar"),
            ("🚀", "Rocket"),
            ("🌍", "Globe"),
            ("📕", "Book"),
            ("☂️", "Umbrella"),
        ]
        self.cancel_reason = None
        self.changed = asyncio.Event()

    async def confirm(self) -> None:
        self.state = "confirmed"
        self.changed.set()

    async def cancel(self, reason: str = "", code: str = "m.user") -> None:
        self.state = "cancelled"
        self.changed.set()


async def settle(pilot: Pilot[None]) -> None:
    """Let focus changes and layout finish before the picture is taken, with the composer's
    cursor steady (a blinking one is on or off depending on the moment)."""
    for composer in pilot.app.screen.query(Composer):
        composer.cursor_blink = False
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


def app() -> SamverkanApp:
    return SamverkanApp(client=offline_client(), tz=TZ, sync=False)


def test_main_screen(snap_compare: Any) -> None:
    async def before(pilot: Pilot[None]) -> None:
        pilot.app.open_room(NORDIC)  # type: ignore[attr-defined]
        await pilot.press("ctrl+t", "up", "up", "up", "t")
        await settle(pilot)

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_dashboard_open_requests(snap_compare: Any) -> None:
    async def before(pilot: Pilot[None]) -> None:
        a: SamverkanApp = pilot.app  # type: ignore[assignment]
        assert a.client is not None
        await a.push_screen(DashboardScreen(a.client, now_ms=T0))
        await pilot.press("2")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_verification_screen(snap_compare: Any) -> None:
    rows = [
        DeviceRow("@anna:localhost", "ANNATUI", "Samverkan TUI", "ABCD EFGH IJKL", "own"),
        DeviceRow(BJORN, "BJORNPHONE", "Element Android", "MNOP QRST UVWX", "unverified"),
    ]

    async def before(pilot: Pilot[None]) -> None:
        a: SamverkanApp = pilot.app  # type: ignore[assignment]
        assert a.client is not None
        await a.push_screen(DevicesScreen(a.client, rows))
        await a.push_screen(VerifyScreen(StandInVerification()))
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_main_screen_in_swedish(snap_compare: Any) -> None:
    async def before(pilot: Pilot[None]) -> None:
        pilot.app.open_room(NORDIC)  # type: ignore[attr-defined]
        await pilot.press("ctrl+t", "up", "up", "up", "t")
        await settle(pilot)

    swedish = SamverkanApp(client=offline_client(), tz=TZ, sync=False, lang="sv")
    assert snap_compare(swedish, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("lang", ["da", "nb"])
def test_main_screen_in_danish_and_norwegian(snap_compare: Any, lang: str) -> None:
    async def before(pilot: Pilot[None]) -> None:
        pilot.app.open_room(NORDIC)  # type: ignore[attr-defined]
        await pilot.press("ctrl+t", "up", "up", "up", "t")
        await settle(pilot)

    shown = SamverkanApp(client=offline_client(), tz=TZ, sync=False, lang=lang)
    assert snap_compare(shown, terminal_size=SIZE, run_before=before)
