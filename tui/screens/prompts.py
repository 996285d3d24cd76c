"""Provides small modal prompts: reaction picker, invitation answer, a line of text."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from messenger.client.chat import InviteInfo
from messenger.i18n import N_
from tui.lang import t_of

REACTIONS = ["👍", "✅", "❌", "❔", "❤️", "🎉", "😄", "👀"]


class ReactionPicker(ModalScreen[str | None]):
    """Pick a reaction (number keys or Enter); Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", N_("Cancel")),
        *(Binding(str(i + 1), f"pick({i})", show=False) for i in range(len(REACTIONS))),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(t_of(self).gettext("React with… (1–8, Enter; Esc cancels)"))
            yield OptionList(*(Option(f"{i + 1}  {r}", id=str(i)) for i, r in enumerate(REACTIONS)))

    def action_pick(self, i: int) -> None:
        self.dismiss(REACTIONS[i])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(REACTIONS[int(event.option.id or 0)])


class InviteScreen(ModalScreen[bool | None]):
    """Accept (a) or decline (d) an invitation."""

    BINDINGS = [
        Binding("a", "dismiss(True)", N_("Accept")),
        Binding("d", "dismiss(False)", N_("Decline")),
        Binding("escape", "dismiss(None)", N_("Later")),
    ]

    def __init__(self, invite: InviteInfo) -> None:
        super().__init__()
        self.invite = invite

    def compose(self) -> ComposeResult:
        _ = t_of(self).gettext
        by = (
            _("invited by {who}").format(who=self.invite.inviter)
            if self.invite.inviter
            else _("invited by someone")
        )
        with Vertical(classes="dialog"):
            yield Static(
                f"[b]{self.invite.name}[/b]\n{by}\n\n"
                + _("[b]a[/b] accept   [b]d[/b] decline   [b]Esc[/b] later")
            )


class AskText(ModalScreen[str | None]):
    """One line of text (e.g. the reason for denying a request)."""

    BINDINGS = [Binding("escape", "dismiss(None)", N_("Cancel"))]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question)
            yield Input(id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
