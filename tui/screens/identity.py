"""Provides the identity dialogs: the new recovery key (shown once) and asking for one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static


class RecoveryKeyScreen(ModalScreen[None]):
    """The recovery key of a cross-signing identity just created; shown this once."""

    BINDINGS = [
        Binding("enter", "dismiss(None)", "I have saved it"),
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, user_id: str, recovery_key: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.recovery_key = recovery_key

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="recovery"):
            yield Static(
                f"[b]Cross-signing is set up for {self.user_id}[/b]\n\n"
                "This device is now signed by your account, so other people's clients can "
                "trust it once they have verified you. Write down the recovery key below and "
                "keep it somewhere safe: a new or reinstalled device needs it to take over "
                "this identity. It is shown only now (this device keeps a sealed copy).\n"
            )
            yield Static(f"[b]{self.recovery_key}[/b]", id="recovery-key")
            yield Static("\n[dim]Enter when saved · c copies it to the clipboard[/dim]")
        yield Footer()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.recovery_key)
        self.notify("Recovery key copied to the clipboard.")


class AskRecoveryKey(ModalScreen[str | None]):
    """The account's identity was made elsewhere: ask for its recovery key (Esc: later)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Later")]

    def __init__(self, user_id: str, problem: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="ask-recovery"):
            yield Static(
                f"[b]{self.user_id} already has a cross-signing identity[/b]\n\n"
                "Enter its recovery key to sign this device with it. Without it this device "
                "stays unsigned (Esc), and clients that only trust cross-signed devices will "
                "not share keys with it.\n"
            )
            yield Static(f"[yellow]{self.problem}[/yellow]", id="ask-recovery-problem")
            yield Input(placeholder="EsT… (spaces are fine)", password=True, id="recovery-input")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
