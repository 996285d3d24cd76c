"""Provides the login screen: homeserver, user and password (the passphrase is already given)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from tui.lang import t_of
from tui.widgets.footer import Footer

if TYPE_CHECKING:
    from tui.app import LoginDefaults, SamverkanApp


class LoginScreen(Screen[None]):
    """Sign in; a stored session for the account is restored without a password."""

    def __init__(self, defaults: LoginDefaults, problem: str | None = None) -> None:
        super().__init__()
        self.defaults = defaults
        self.problem = problem

    def compose(self) -> ComposeResult:
        _ = self._
        with Vertical(id="login"):
            yield Static("[b]Samverkan[/b] — " + _("sign in"), id="login-title")
            yield Label(_("Homeserver"))
            yield Input(self.defaults.url, placeholder="http://127.0.0.1:8008", id="url")
            yield Label(_("User"))
            yield Input(self.defaults.user_id, placeholder="@anna:localhost", id="user")
            yield Label(_("Password (leave empty to restore this device's stored session)"))
            yield Input(password=True, id="password")
            yield Button(_("Sign in"), variant="primary", id="go")
            yield Static(self.problem or "", id="login-error")
        yield Footer()

    def _(self, message: str) -> str:
        return t_of(self).gettext(message)

    def on_mount(self) -> None:
        target = "#password" if self.defaults.user_id else "#user"
        self.query_one(target, Input).focus()

    def show_error(self, text: str) -> None:
        """Say what went wrong and let the person try again."""
        self.query_one("#login-error", Static).update(f"[red]{text}[/red]")
        self.query_one("#go", Button).disabled = False

    def _submit(self) -> None:
        url = self.query_one("#url", Input).value.strip()
        user = self.query_one("#user", Input).value.strip()
        password = self.query_one("#password", Input).value or None
        if not url or not user.startswith("@") or ":" not in user:
            self.show_error(
                self._("enter the homeserver URL and a user ID such as @anna:localhost")
            )
            return
        self.query_one("#login-error", Static).update(self._("signing in…"))
        self.query_one("#go", Button).disabled = True
        app: SamverkanApp = self.app  # type: ignore[assignment]
        app.sign_in(url, user, password)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self._submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()
