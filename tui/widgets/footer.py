"""Provides ``Footer``: Textual's key footer with every binding's description translated."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from messenger.i18n import N_
from tui.lang import t_of

TEXTUAL_WORDS = [N_("palette"), N_("Open the command palette")]
"""Textual's own binding words (the command palette key): extracted here, translated below."""


class Footer(TextualFooter):
    """The bindings' descriptions (English msgids marked with ``N_``) in the app's language."""

    def compose(self) -> ComposeResult:
        t = t_of(self)
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                if widget.description:
                    widget.description = t.gettext(widget.description)
                if isinstance(widget.tooltip, str) and widget.tooltip:
                    widget.tooltip = t.gettext(widget.tooltip)
            yield widget
