"""Provides ``Composer``: multi-line input with history and completion of commands and names."""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.binding import Binding
from textual.message import Message as UIMessage
from textual.widgets import TextArea

from messenger.i18n import N_


def completions(
    text: str, cursor: int, commands: list[str], members: dict[str, str]
) -> tuple[int, list[str]]:
    """Candidates for the word before ``cursor``: (where the word starts, replacements).

    A leading ``!`` completes bot commands (``!event rsvp``); other words complete member
    display names and user IDs.
    """
    before = text[:cursor]
    if before.startswith("!") and "\n" not in before:
        typed = before.lower()
        found = sorted({c for c in commands if c.lower().startswith(typed)})
        return 0, [c + " " for c in found]
    start = max(before.rfind(" "), before.rfind("\n")) + 1
    word = before[start:].lstrip("@").lower()
    if len(word) < 1:
        return start, []
    out: list[str] = []
    for user_id, name in sorted(members.items(), key=lambda kv: kv[1].lower()):
        local = user_id[1:].split(":", 1)[0].lower()
        if name.lower().startswith(word) or local.startswith(word):
            out.append(name)
    return start, [o + (": " if start == 0 else " ") for o in dict.fromkeys(out)]


class Composer(TextArea):
    """Enter sends; Ctrl+J (or Alt+Enter) adds a line; Up/Down walk history; Tab completes."""

    DEFAULT_CSS = "Composer { height: auto; max-height: 8; min-height: 3; }"
    BINDINGS = [Binding("ctrl+j", "newline", N_("New line"), show=False)]

    class Submitted(UIMessage):
        """The person pressed Enter."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    class Hint(UIMessage):
        """Completion candidates to show (empty to hide)."""

        def __init__(self, candidates: list[str]) -> None:
            self.candidates = candidates
            super().__init__()

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.sent: list[str] = []
        self._pos: int | None = None
        self.commands: Callable[[], list[str]] = list
        self.members: Callable[[], dict[str, str]] = dict
        self.mentioned: dict[str, str] = {}
        self._cycle: tuple[int, list[str], int] | None = None

    def action_newline(self) -> None:
        self.insert("\n")

    def _offset(self) -> int:
        row, col = self.cursor_location
        lines = self.text.split("\n")
        return sum(len(line) + 1 for line in lines[:row]) + col

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key != "tab":
            self._cycle = None
        if key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.sent.append(text)
                self._pos = None
                self.post_message(self.Submitted(text))
            self.post_message(self.Hint([]))
            return
        if key in {"alt+enter", "shift+enter"}:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        if key == "tab":
            event.stop()
            event.prevent_default()
            self._complete()
            return
        if key == "up" and self.cursor_at_first_line and self.sent:
            event.stop()
            event.prevent_default()
            self._pos = len(self.sent) - 1 if self._pos is None else max(0, self._pos - 1)
            self.load_text(self.sent[self._pos])
            self.move_cursor(self.document.end)
            return
        if key == "down" and self.cursor_at_last_line and self._pos is not None:
            event.stop()
            event.prevent_default()
            self._pos += 1
            if self._pos >= len(self.sent):
                self._pos = None
                self.load_text("")
            else:
                self.load_text(self.sent[self._pos])
            self.move_cursor(self.document.end)
            return
        await super()._on_key(event)

    def _complete(self) -> None:
        text = self.text
        if self._cycle is None:
            start, found = completions(text, self._offset(), self.commands(), self.members())
            if not found:
                self.post_message(self.Hint([]))
                return
            self._cycle = (start, found, 0)
            end = self._offset()
        else:
            start, found, i = self._cycle
            i = (i + 1) % len(found)
            self._cycle = (start, found, i)
            end = start + len(found[(i - 1) % len(found)])
        start, found, i = self._cycle
        choice = found[i]
        for user_id, name in self.members().items():
            if choice.rstrip(": ") == name:
                self.mentioned[name] = user_id
        self.load_text(text[:start] + choice + text[end:])
        self._move_to(start + len(choice))
        self.post_message(self.Hint(found if len(found) > 1 else []))

    def _move_to(self, offset: int) -> None:
        before = self.text[:offset]
        self.move_cursor((before.count("\n"), len(before.rsplit("\n", 1)[-1])))

    def take_mentions(self, text: str) -> list[str]:
        """User IDs of names completed into ``text``; resets the record."""
        ids = [uid for name, uid in self.mentioned.items() if name in text]
        self.mentioned = {}
        return ids
