"""Provides the identity dialogs: the new recovery key (shown once) and asking for one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from messenger.i18n import N_
from tui.lang import t_of
from tui.widgets.footer import Footer


class RecoveryKeyScreen(ModalScreen[None]):
    """The recovery key of a cross-signing identity just created; shown this once."""

    BINDINGS = [
        Binding("enter", "dismiss(None)", N_("I have saved it")),
        Binding("escape", "dismiss(None)", N_("Close"), show=False),
        Binding("c", "copy", N_("Copy")),
    ]

    def __init__(self, user_id: str, recovery_key: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.recovery_key = recovery_key

    def compose(self) -> ComposeResult:
        _ = t_of(self).gettext
        with Vertical(classes="dialog wide", id="recovery"):
            yield Static(
                _("[b]Cross-signing is set up for {user}[/b]").format(user=self.user_id)
                + "\n\n"
                + _(
                    "This device is now signed by your account, so other people's clients can "
                    "trust it once they have verified you. Write down the recovery key below "
                    "and keep it somewhere safe: a new or reinstalled device needs it to take "
                    "over this identity. It is shown only now (this device keeps a sealed copy)."
                )
                + "\n"
            )
            yield Static(f"[b]{self.recovery_key}[/b]", id="recovery-key")
            yield Static(
                "\n[dim]" + _("Enter when saved · c copies it to the clipboard") + "[/dim]"
            )
        yield Footer()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.recovery_key)
        self.notify(t_of(self).gettext("Recovery key copied to the clipboard."))


class AskRecoveryKey(ModalScreen[tuple[str, str] | None]):
    """The account's identity was made elsewhere (Element does this at first login): the
    three ways Element offers — the recovery key, emoji verification with another session,
    or a new identity. Dismisses with ("key", text), ("verify", ""), ("reset", "") or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Later"))]

    def __init__(self, user_id: str, problem: str = "") -> None:
        super().__init__()
        self.user_id = user_id
        self.problem = problem

    def compose(self) -> ComposeResult:
        _ = t_of(self).gettext
        with Vertical(classes="dialog wide", id="ask-recovery"):
            yield Static(
                _("[b]{user} already has a cross-signing identity[/b]").format(user=self.user_id)
                + "\n\n"
                + _(
                    "This device is not signed by it yet. Until it is, clients that only trust "
                    "cross-signed devices will not share keys with it. Confirm it is you:"
                )
                + "\n"
            )
            yield Static(
                f"[yellow]{self.problem}[/yellow]" if self.problem else "",
                id="ask-recovery-problem",
            )
            yield Static(
                "[b]1.[/b] "
                + _(
                    "Enter the recovery key (Element calls it the Security Key: groups "
                    "like [i]EsTc 1234 …[/i]; spaces are fine) and press Enter:"
                )
            )
            yield Input(
                placeholder="EsT… " + _("(spaces are fine)"), password=True, id="recovery-input"
            )
            yield Static(
                "[b]2.[/b] " + _("Or compare emoji with another session where you are signed in:")
            )
            yield Button(_("Verify with another device"), id="verify-other")
            yield Static(
                "[b]3.[/b] "
                + _(
                    "Or, with no recovery key and no other device, start over "
                    "(everyone who verified you must verify you again):"
                )
            )
            yield Button(_("Reset the identity…"), id="reset-identity", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ask-recovery-problem").display = bool(self.problem)
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        if not key:
            self.notify(
                t_of(self).gettext("Type the recovery key first, or choose 2 or 3."),
                severity="warning",
            )
            return
        self.dismiss(("key", key))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "verify-other":
            self.dismiss(("verify", ""))
        elif event.button.id == "reset-identity":
            self.dismiss(("reset", ""))


class ResetIdentity(ModalScreen[str | None]):
    """Replacing the identity: what it costs, and the password that authorises it."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Back"))]

    def __init__(self, user_id: str) -> None:
        super().__init__()
        self.user_id = user_id

    def compose(self) -> ComposeResult:
        _ = t_of(self).gettext
        with Vertical(classes="dialog wide", id="reset-identity-dialog"):
            yield Static(
                _("[b]Reset the cross-signing identity of {user}?[/b]").format(user=self.user_id)
                + "\n\n"
                + _(
                    "[red]Everyone who verified you must verify you again[/red], and your other "
                    "sessions must be verified again too. Messages you could read stay "
                    "readable. Do this only when you have neither the recovery key nor another "
                    "signed-in device. A new recovery key is shown once afterwards."
                )
                + "\n\n"
                + _("Enter the account's password to confirm (Esc goes back):")
            )
            yield Input(password=True, id="reset-password")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.notify(
                t_of(self).gettext("Enter the password to confirm, or Esc to go back."),
                severity="warning",
            )
            return
        self.dismiss(event.value)
