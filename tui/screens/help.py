"""Provides the help screen: every key and how the composer works."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from messenger.i18n import N_
from tui.lang import t_of

HELP = N_("""\
# Samverkan — keys

| key | does |
|---|---|
| **Ctrl+P** | command palette: go to a room, dashboards, devices, theme |
| **F1** | this help |
| **F2** | dashboards: upcoming events, open requests, needs translation |
| **F3** | devices and trust; start emoji verification |
| **F5** | light / dark theme |
| **Ctrl+R / Ctrl+T / Ctrl+O** | focus rooms / timeline / composer |
| **Ctrl+Q** | quit |

## Timeline (Ctrl+T)
**↑ ↓** select a message · **r** reply · **t** open its thread in the side panel ·
**e** react · **R** retry a message that was not sent · **End** newest · **Esc** cancel.
Scrolling up loads older messages.

## Composer (Ctrl+O)
**Enter** sends · **Ctrl+J** / **Alt+Enter** new line · **↑ ↓** history ·
**Tab** completes `!` commands and member names (again for the next match).
Markdown (`**bold**`, `_italic_`, lists, code) is sent as HTML.

## Room list
🛡 encrypted, every device verified · ⚠ encrypted, unverified devices present ·
🔓 not encrypted. Numbers: unread, **@n** mentions of you. Invitations are listed
first; Enter accepts or declines them.

## Dashboards (F2)
Events: **y** / **n** / **m** RSVP. Requests: **a** approve, **d** deny (asks why),
**f** fulfilled. Translations: **Enter** jumps to the prompt.
Each action sends the bot command as you, in the item's room.
""")


class HelpScreen(ModalScreen[None]):
    """Keys and usage; Esc closes."""

    BINDINGS = [Binding("escape,f1,q", "dismiss", N_("Close"))]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Markdown(t_of(self).gettext(HELP))
