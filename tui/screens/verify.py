"""Provides the emoji (SAS) verification screen for one ``Verification`` in progress."""

from __future__ import annotations

import contextlib
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from messenger.errors import MessengerError

STATES = {
    "requested": "Waiting for the other device to accept…",
    "ready": "The other device is ready; starting…",
    "started": "Exchanging keys…",
    "keys": "Compare these emoji with the other device. Do they match, in the same order?",
    "confirmed": "You confirmed; waiting for the other device…",
    "done": "✅ Verified. Messages from this device now show as trusted.",
    "cancelled": "✖ Verification cancelled.",
}


class VerifyScreen(ModalScreen[None]):
    """``y`` the emoji match, ``n`` they do not, Esc cancels; follows ``v.changed``."""

    BINDINGS = [
        Binding("y", "confirm", "They match"),
        Binding("n", "mismatch", "They don't match"),
        Binding("a", "accept", "Accept"),
        Binding("escape", "close", "Cancel / close"),
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
        return f"{user} · device {device}"

    def show_state(self) -> None:
        state = str(getattr(self.v, "state", "requested"))
        verb = "wants to verify with you" if self.incoming else "verification"
        self.query_one("#verify-title", Static).update(
            f"[b]Emoji verification[/b] — {self._who()} {verb}"
        )
        text = STATES.get(state, state)
        if self.incoming and state == "requested":
            text = "Press [b]a[/b] to accept, Esc to refuse."
        reason = getattr(self.v, "cancel_reason", None)
        if state == "cancelled" and reason:
            text += f" ({reason})"
        self.query_one("#verify-state", Static).update(text)
        grid = self.query_one("#emoji", Grid)
        if state == "keys" and not grid.children:
            for emoji, name in self.v.emojis:
                grid.mount(Static(f"[b]{emoji}[/b]\n{name}", classes="emoji"))
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
