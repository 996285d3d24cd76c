"""Provides the devices screen: every member's devices with their verification state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from messenger.client.chat import ChatClient, DeviceRow
from messenger.i18n import N_
from tui.lang import t_of
from tui.widgets.footer import Footer

if TYPE_CHECKING:
    from tui.app import SamverkanApp

STATE_STYLE = {"own": "cyan", "verified": "green", "unverified": "yellow", "blocked": "red"}
STATE_WORDS = {
    "own": N_("own"),
    "verified": N_("verified"),
    "unverified": N_("unverified"),
    "blocked": N_("blocked"),
}


class DevicesScreen(Screen[None]):
    """Members' devices across every room; ``v`` starts emoji verification with one."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("v", "verify", N_("Verify (emoji)")),
        Binding("g", "refresh_devices", N_("Refresh")),
    ]

    def __init__(self, client: ChatClient, rows: list[DeviceRow] | None = None) -> None:
        super().__init__()
        self.client = client
        self.fixed = rows
        self.rows: list[DeviceRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            self._(
                "Devices of everyone in your rooms. Select one and press [b]v[/b] to compare "
                "emoji with its owner (or a bot); a verified device gets 🛡 in every room."
            ),
            id="devices-help",
        )
        yield DataTable(id="devices", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def _(self, message: str) -> str:
        return t_of(self).gettext(message)

    def on_mount(self) -> None:
        _ = self._
        self.query_one(DataTable).add_columns(
            _("User"), _("Device"), _("Name"), _("State"), _("Fingerprint (ed25519)")
        )
        self.action_refresh_devices()
        self.query_one(DataTable).focus()

    def action_refresh_devices(self) -> None:
        if self.fixed is not None:
            self.rows = self.fixed
        else:
            users = {self.client.me}
            for room in self.client.rooms():
                users.update(self.client.members(room.room_id))
            self.rows = self.client.devices(sorted(users))
        table = self.query_one(DataTable)
        table.clear()
        for r in self.rows:
            table.add_row(
                self.client.display_name(r.user_id) + f" ({r.user_id})",
                r.device_id,
                r.name,
                Text(
                    self._(STATE_WORDS[r.state]) if r.state in STATE_WORDS else r.state,
                    style=STATE_STYLE.get(r.state, ""),
                ),
                r.fingerprint,
            )

    def action_verify(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return
        row = self.rows[table.cursor_row]
        if row.state == "own":
            self.notify(self._("That is this device."), severity="warning")
            return
        app: SamverkanApp = self.app  # type: ignore[assignment]
        app.start_verification(row.user_id, row.device_id)
