"""Provides the emoji (SAS) verification screen for one ``Verification`` in progress."""

from __future__ import annotations

import contextlib
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from messenger.errors import MessengerError
from messenger.i18n import N_
from tui.lang import t_of
from tui.widgets.footer import Footer

STATES = {
    "requested": N_("Waiting for the other device to accept…"),
    "ready": N_("The other device is ready; starting…"),
    "started": N_("Exchanging keys…"),
    "keys": N_("Compare these emoji with the other device. Do they match, in the same order?"),
    "confirmed": N_("You confirmed; waiting for the other device…"),
    "done": N_("✅ Verified. Messages from this device now show as trusted."),
    "cancelled": N_("✖ Verification cancelled."),
}
EMOJI_NAMES = [
    N_("Dog"), N_("Cat"), N_("Lion"), N_("Horse"), N_("Unicorn"), N_("Pig"), N_("Elephant"),
    N_("Rabbit"), N_("Panda"), N_("Rooster"), N_("Penguin"), N_("Turtle"), N_("Fish"),
    N_("Octopus"), N_("Butterfly"), N_("Flower"), N_("Tree"), N_("Cactus"), N_("Mushroom"),
    N_("Globe"), N_("Moon"), N_("Cloud"), N_("Fire"), N_("Banana"), N_("Apple"),
    N_("Strawberry"), N_("Corn"), N_("Pizza"), N_("Cake"), N_("Heart"), N_("Smiley"),
    N_("Robot"), N_("Hat"), N_("Glasses"), N_("Wrench"), N_("Santa"), N_("Thumbs up"),
    N_("Umbrella"), N_("Hourglass"), N_("Clock"), N_("Gift"), N_("Light Bulb"), N_("Book"),
    N_("Pencil"), N_("Paperclip"), N_("Scissors"), N_("Lock"), N_("Key"), N_("Hammer"),
    N_("Telephone"), N_("Flag"), N_("Train"), N_("Bicycle"), N_("Airplane"), N_("Rocket"),
    N_("Trophy"), N_("Ball"), N_("Guitar"), N_("Trumpet"), N_("Bell"), N_("Anchor"),
    N_("Headphones"), N_("Folder"), N_("Pin"),
]  # fmt: skip
"""The SAS emoji names of the Matrix specification, shown in the viewer's language."""


class VerifyScreen(ModalScreen[None]):
    """``y`` the emoji match, ``n`` they do not, Esc cancels; follows ``v.changed``."""

    BINDINGS = [
        Binding("y", "confirm", N_("They match")),
        Binding("n", "mismatch", N_("They don't match")),
        Binding("a", "accept", N_("Accept")),
        Binding("escape", "close", N_("Cancel / close")),
    ]

    def __init__(self, verification: Any, incoming: bool = False) -> None:
        super().__init__()
        self.v = verification
        self.incoming = incoming

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="verify"):
            yield Static("", id="verify-title")
            yield Static("", id="verify-state")
            yield Grid(id="emoji")
        yield Footer()

    def on_mount(self) -> None:
        self.show_state()
        self.follow()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that mean something in the current state show in the footer."""
        state = getattr(self.v, "state", "requested")
        if action == "accept":
            return self.incoming and state == "requested"
        if action in {"confirm", "mismatch"}:
            return state == "keys"
        return True

    def _who(self) -> str:
        user = getattr(self.v, "other_user", None) or getattr(self.v, "user_id", "?")
        device = getattr(self.v, "other_device", None) or getattr(self.v, "device_id", "?")
        return t_of(self).gettext("{user} · device {device}").format(user=user, device=device)

    def show_state(self) -> None:
        _ = t_of(self).gettext
        state = str(getattr(self.v, "state", "requested"))
        title = (
            _("[b]Emoji verification[/b] — {who} wants to verify with you")
            if self.incoming
            else _("[b]Emoji verification[/b] — {who} verification")
        )
        self.query_one("#verify-title", Static).update(title.format(who=self._who()))
        text = _(STATES[state]) if state in STATES else state
        if self.incoming and state == "requested":
            text = _("Press [b]a[/b] to accept, Esc to refuse.")
        reason = getattr(self.v, "cancel_reason", None)
        if state == "cancelled" and reason:
            text += f" ({reason})"
        self.query_one("#verify-state", Static).update(text)
        grid = self.query_one("#emoji", Grid)
        if state == "keys" and not grid.children:
            for emoji, name in self.v.emojis:
                grid.mount(Static(f"[b]{emoji}[/b]\n{_(name)}", classes="emoji"))
        grid.display = state in {"keys", "confirmed"}
        self.refresh_bindings()

    @work(exclusive=True, group="verify-follow", exit_on_error=False)
    async def follow(self) -> None:
        while True:
            await self.v.changed.wait()
            self.v.changed.clear()
            self.show_state()
            if self.v.state in {"done", "cancelled"}:
                return

    async def _call(self, name: str, *args: Any) -> None:
        method = getattr(self.v, name, None)
        if method is None:
            return
        try:
            await method(*args)
        except MessengerError as e:
            self.notify(str(e), severity="error")
        self.show_state()

    async def action_confirm(self) -> None:
        if self.v.state == "keys":
            await self._call("confirm")

    async def action_mismatch(self) -> None:
        if self.v.state == "keys":
            await self._call("cancel", "the emoji did not match", "m.mismatched_sas")

    async def action_accept(self) -> None:
        if self.incoming and self.v.state == "requested":
            await self._call("accept")

    async def action_close(self) -> None:
        if self.v.state not in {"done", "cancelled"}:
            with contextlib.suppress(Exception):
                await self._call("cancel", "cancelled by the user", "m.user")
        self.dismiss(None)
