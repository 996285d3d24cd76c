"""Provides ``TimelineView``: a line-based virtual view of a room's messages (or one thread).

Only a window of the newest messages is laid out; scrolling near the top lays out more
(and asks for history once the loaded messages run out). Each message is rendered once
per (version, width) and only the visible lines are drawn, so 10,000 messages cost no
more to show or scroll than 100.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message as UIMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from messenger.client.timeline import Message
from messenger.i18n import N_
from tui.quietgc import QUIET_GC
from tui.render import MessageRenderer

GROUP_MS = 5 * 60 * 1000
SELECTED = Style(bgcolor="#2c3e50")


class TimelineView(ScrollView, can_focus=True):
    """Messages from a source function; ``reload()`` after the source changed."""

    BINDINGS = [
        Binding("up", "select(-1)", N_("Previous"), show=False),
        Binding("down", "select(1)", N_("Next"), show=False),
        Binding("r", "reply", N_("Reply")),
        Binding("t", "thread", N_("Thread")),
        Binding("e", "react", N_("React")),
        Binding("R", "retry", N_("Retry"), show=False),
        Binding("escape", "unselect", N_("Unselect"), show=False),
        Binding("end", "bottom", N_("Newest"), show=False),
    ]

    DEFAULT_CSS = "TimelineView { height: 1fr; overflow-x: hidden; }"

    class NeedHistory(UIMessage):
        """The view reached the oldest loaded message."""

        def __init__(self, view: TimelineView) -> None:
            self.view = view
            super().__init__()

    class Action(UIMessage):
        """The person asked to reply / open the thread / react / retry on a message."""

        def __init__(self, view: TimelineView, kind: str, message: Message) -> None:
            self.view = view
            self.kind = kind
            self.message = message
            super().__init__()

    def __init__(self, *, in_thread: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.in_thread = in_thread
        self.source: Callable[[], list[Message]] = list
        self.renderer: MessageRenderer | None = None
        self.at_start = True
        self.loading = False
        self._msgs: list[Message] = []
        self._start = 0
        self._lines: list[Strip] = []
        self._owner: list[int] = []
        self._first_line: dict[int, int] = {}
        self.selected: int | None = None
        self._width = 0
        self._frame: tuple[int, int, Style] = (0, 0, Style())

    # -- data -----------------------------------------------------------------------------

    def show(
        self, source: Callable[[], list[Message]], renderer: MessageRenderer, at_start: bool
    ) -> None:
        """Show another list of messages, newest at the bottom."""
        self.source, self.renderer, self.at_start = source, renderer, at_start
        self._msgs = source()
        self.selected = None
        self._start = len(self._msgs)
        self._width = self._content_width()
        self._extend(self._target_lines())
        self._relayout(stick_bottom=True)

    def reload(self, at_start: bool | None = None) -> None:
        """The source changed (new, older or edited messages): lay out again, keep the view."""
        if self.renderer is None:
            return
        if at_start is not None:
            self.at_start = at_start
        anchor = self._anchor()
        first = self._msgs[self._start].event_id if self._start < len(self._msgs) else None
        sel = self._msgs[self.selected].event_id if self.selected is not None else None
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        self._msgs = self.source()
        index = {m.event_id: i for i, m in enumerate(self._msgs)} if first or sel else {}
        self._start = index.get(first, 0) if first else len(self._msgs)
        self.selected = index.get(sel) if sel else None
        if first is None or (self._start > 0 and self.scroll_y < (self.size.height or 1)):
            self._extend(self._target_lines())
        self._relayout(stick_bottom=at_bottom, anchor=anchor)
        if self._start == 0 and not self.at_start:
            self._ask_history()

    def shown(self) -> list[Message]:
        """The messages the view shows, oldest first."""
        return self._msgs

    def current(self) -> Message | None:
        """The selected message."""
        return self._msgs[self.selected] if self.selected is not None else None

    # -- layout ---------------------------------------------------------------------------

    def _content_width(self) -> int:
        return max(20, self.scrollable_content_region.width or self.size.width or 80)

    def _target_lines(self) -> int:
        return max(3 * (self.size.height or 40), 60)

    def _block(self, i: int) -> list[Strip]:
        assert self.renderer is not None
        msg = self._msgs[i]
        prev = self._msgs[i - 1] if i > 0 else None
        grouped = bool(
            prev
            and prev.sender == msg.sender
            and not prev.is_state
            and not msg.is_state
            and msg.ts - prev.ts < GROUP_MS
            and not msg.reply_to
        )
        return self.renderer.lines(msg, self._width, grouped, self.in_thread)

    def _extend(self, lines: int) -> None:
        """Lay out older messages until about ``lines`` more lines exist."""
        total = 0
        while self._start > 0 and total < lines:
            self._start -= 1
            total += len(self._block(self._start))

    def _relayout(self, stick_bottom: bool, anchor: tuple[str, int] | None = None) -> None:
        lines: list[Strip] = []
        owner: list[int] = []
        first: dict[int, int] = {}
        for i in range(self._start, len(self._msgs)):
            block = self._block(i)
            first[i] = len(lines)
            lines.extend(block)
            owner.extend([i] * len(block))
        self._lines, self._owner, self._first_line = lines, owner, first
        self.virtual_size = Size(self._width, len(lines))
        if stick_bottom:
            self._jump(max(0, len(lines) - self.scrollable_content_region.height))
        elif anchor is not None:
            ids = {self._msgs[i].event_id: i for i in first}
            at = ids.get(anchor[0])
            if at is not None:
                self._jump(first[at] + anchor[1])
        self.refresh()

    def _prepend(self, lines: int) -> None:
        """Lay out about ``lines`` more lines of older messages above, keeping the view still."""
        blocks: list[tuple[int, list[Strip]]] = []
        total = 0
        while self._start > 0 and total < lines:
            self._start -= 1
            block = self._block(self._start)
            blocks.append((self._start, block))
            total += len(block)
        new_lines: list[Strip] = []
        new_owner: list[int] = []
        first = {i: n + total for i, n in self._first_line.items()}
        for i, block in reversed(blocks):
            first[i] = len(new_lines)
            new_lines.extend(block)
            new_owner.extend([i] * len(block))
        self._lines[:0] = new_lines
        self._owner[:0] = new_owner
        self._first_line = first
        self._grow(len(self._lines))
        self._jump(self.scroll_y + total)

    def _grow(self, height: int) -> None:
        """Make the content taller without a screen layout (a layout costs a frame).

        Only the scrollbar's thumb depends on the height, so while the scrollbar is shown
        it is told directly; otherwise (it may have to appear) lay out as usual.
        """
        size = Size(self._width, height)
        if not self.show_vertical_scrollbar or height <= self.size.height:
            self.virtual_size = size
            return
        self.set_reactive(TimelineView.virtual_size, size)
        self.vertical_scrollbar.window_virtual_size = height

    def _jump(self, y: float) -> None:
        """Scroll without animation now (``scroll_to`` waits for scrollbars to exist)."""
        y = max(0, min(y, self.max_scroll_y))
        self.set_scroll(None, y)
        self.set_reactive(TimelineView.scroll_target_y, y)
        self.refresh()

    def _anchor(self) -> tuple[str, int] | None:
        y = int(self.scroll_y)
        if not self._owner or y >= len(self._owner):
            return None
        i = self._owner[y]
        return self._msgs[i].event_id, y - self._first_line[i]

    def _ask_history(self) -> None:
        if not self.loading and not self.at_start:
            self.loading = True
            self.post_message(self.NeedHistory(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        QUIET_GC.touch()
        super().watch_scroll_y(old_value, new_value)
        if new_value < self.size.height and self.renderer is not None:
            if self._start > 0:
                self._prepend(self.size.height or 40)
            elif not self.at_start:
                self._ask_history()

    def on_resize(self) -> None:
        if self.renderer is not None and self._content_width() != self._width:
            self._width = self._content_width()
            self._relayout(
                stick_bottom=self.scroll_y >= self.max_scroll_y - 1, anchor=self._anchor()
            )

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line needs, looked up once per frame rather than once per line.
        self._frame = (self.scroll_offset.y, self.scrollable_content_region.width, self.rich_style)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_y, width, style = self._frame
        idx = scroll_y + y
        if idx >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._lines[idx]
        if self._owner[idx] == self.selected:
            strip = strip.extend_cell_length(width).apply_style(SELECTED)
        return strip.crop_extend(0, width, style)

    # -- keys -----------------------------------------------------------------------------

    def action_select(self, step: int) -> None:
        if not self._msgs:
            return
        if self.selected is None:
            self.selected = len(self._msgs) - 1
        else:
            self.selected = max(0, min(len(self._msgs) - 1, self.selected + step))
        while self.selected < self._start:
            anchor = self._anchor()
            self._extend(self._target_lines())
            self._relayout(stick_bottom=False, anchor=anchor)
        top = self._first_line[self.selected]
        height = len(self._block(self.selected))
        if top < self.scroll_y:
            self._jump(top)
        elif top + height > self.scroll_y + self.scrollable_content_region.height:
            self._jump(top + height - self.scrollable_content_region.height)
        self.refresh()

    def action_unselect(self) -> None:
        self.selected = None
        self.refresh()

    def action_bottom(self) -> None:
        self.selected = None
        self._jump(self.max_scroll_y)
        self.refresh()

    def _act(self, kind: str) -> None:
        msg = self.current()
        if msg is None and self._msgs and kind != "retry":
            msg = self._msgs[-1]
        if msg is not None:
            self.post_message(self.Action(self, kind, msg))

    def action_reply(self) -> None:
        self._act("reply")

    def action_thread(self) -> None:
        self._act("thread")

    def action_react(self) -> None:
        self._act("react")

    def action_retry(self) -> None:
        msg = self.current() or next((m for m in reversed(self._msgs) if m.failed), None)
        if msg is not None and msg.failed:
            self.post_message(self.Action(self, "retry", msg))
