"""Provides the main screen: room list, timeline, thread panel, composer and connection banner."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static

from messenger.client.chat import ChatClient
from messenger.client.timeline import Message
from messenger.i18n import N_
from tui.lang import t_of
from tui.render import MessageRenderer, excerpt
from tui.widgets.composer import Composer
from tui.widgets.footer import Footer
from tui.widgets.roomlist import SHIELDS, RoomList
from tui.widgets.timeline import TimelineView

if TYPE_CHECKING:
    from tui.app import SamverkanApp


class MainScreen(Screen[None]):
    """Everything a coordinator reads and writes in; network work is the app's."""

    BINDINGS = [
        Binding("escape", "cancel_mode", N_("Cancel reply/thread"), show=False),
        Binding("ctrl+r", "focus_rooms", N_("Rooms")),
        Binding("ctrl+t", "focus_timeline", N_("Timeline")),
        Binding("ctrl+o", "focus_composer", N_("Write")),
    ]

    def __init__(self, client: ChatClient) -> None:
        super().__init__()
        self.client = client
        self.room_id: str | None = None
        self.reply_to: Message | None = None
        self.thread_root: str | None = None

    @property
    def sv(self) -> SamverkanApp:
        return self.app  # type: ignore[return-value]

    def _(self, message: str) -> str:
        """``message`` in the coordinator's language."""
        return t_of(self).gettext(message)

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static("", id="banner")
        with Horizontal(id="body"):
            yield RoomList(id="rooms")
            with Vertical(id="center"):
                yield Static(
                    self._("Pick a room on the left (Ctrl+R), or Ctrl+P for everything."),
                    id="room-title",
                )
                yield TimelineView(id="timeline")
                yield Static("", id="mode")
                yield Static("", id="hint")
                yield Composer(id="composer")
            with Vertical(id="thread-panel"):
                yield Static("", id="thread-title")
                yield TimelineView(in_thread=True, id="thread")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#banner").display = False
        self.query_one("#thread-panel").display = False
        self.query_one("#mode").display = False
        self.query_one("#hint").display = False
        composer = self.query_one(Composer)
        composer.commands = self.sv.command_names
        composer.members = lambda: self.client.members(self.room_id) if self.room_id else {}
        self.refresh_rooms()

    # -- attributes down ------------------------------------------------------------------

    def renderer(self, room_id: str) -> MessageRenderer:
        """A renderer for one room, in the viewer's timezone."""
        tl = self.client.timeline(room_id)
        return MessageRenderer(
            self.app.console,
            lambda u: self.client.display_name(u, room_id),
            tl.get,
            self.client.me,
            self.sv.tz,
            [self.client.display_name(self.client.me, room_id)],
            lambda: (info := self.client.info.get(room_id)) is None or info.encrypted,
            t_of(self),
        )

    def refresh_rooms(self) -> None:
        """Re-read the room list from the client."""
        self.query_one(RoomList).update_rooms(
            self.client.rooms(), list(self.client.invites.values()), self.room_id
        )

    def show_room(self, room_id: str) -> None:
        """Switch the timeline to a room."""
        self.room_id = room_id
        self.close_thread()
        self.set_mode(None, None)
        tl = self.client.timeline(room_id)
        view = self.query_one("#timeline", TimelineView)
        view.show(tl.main, self.renderer(room_id), tl.at_start)
        self.update_title()
        self.refresh_rooms()

    def update_title(self) -> None:
        info = self.client.info.get(self.room_id or "")
        if info is None:
            return
        icon, colour, words = SHIELDS.get(info.shield, SHIELDS["unverified"])
        topic = f" — {info.topic}" if info.topic else ""
        self.query_one("#room-title", Static).update(
            f"[b]{info.name}[/b]{topic}   [{colour}]{icon} {self._(words)}[/]"
        )

    def reload(self, room_id: str) -> None:
        """The room's messages changed."""
        if room_id != self.room_id:
            return
        tl = self.client.timeline(room_id)
        self.query_one("#timeline", TimelineView).reload(at_start=tl.at_start)
        if self.thread_root:
            self.query_one("#thread", TimelineView).reload(at_start=True)
        self.update_title()

    def open_thread(self, root: Message) -> None:
        """Show a thread in the side panel and write into it."""
        assert self.room_id is not None
        tl = self.client.timeline(self.room_id)
        self.thread_root = root.event_id
        panel = self.query_one("#thread-panel")
        panel.display = True
        self.query_one("#thread-title", Static).update(
            "[b]" + self._("Thread") + "[/b] · "
            f"{self.client.display_name(root.sender, self.room_id)}: {excerpt(root.body, 40)}\n"
            "[dim]" + self._("Esc closes") + "[/dim]"
        )
        self.query_one("#thread", TimelineView).show(
            lambda: tl.thread(root.event_id), self.renderer(self.room_id), True
        )
        self.set_mode(None, root.event_id)

    def close_thread(self) -> None:
        self.thread_root = None
        self.query_one("#thread-panel").display = False

    def set_mode(self, reply_to: Message | None, thread_root: str | None) -> None:
        """What the composer's next message answers."""
        self.reply_to = reply_to
        mode = self.query_one("#mode", Static)
        parts = []
        if thread_root:
            parts.append("🧵 " + self._("writing in the thread"))
        if reply_to and self.room_id:
            who = self.client.display_name(reply_to.sender, self.room_id)
            replying = self._("replying to {who}: {text}")
            parts.append("↳ " + replying.format(who=who, text=excerpt(reply_to.body, 50)))
        cancels = "   [dim]" + self._("(Esc cancels)") + "[/dim]"
        mode.update("  ".join(parts) + cancels if parts else "")
        mode.display = bool(parts)

    def show_banner(self, text: str | None) -> None:
        """The connection banner (None hides it)."""
        banner = self.query_one("#banner", Static)
        lost = self._("Connection to the homeserver lost: {reason}")
        banner.update("⚠ " + lost.format(reason=text) if text else "")
        banner.display = bool(text)

    # -- messages up ----------------------------------------------------------------------

    def on_room_list_room_chosen(self, event: RoomList.RoomChosen) -> None:
        self.sv.open_room(event.room_id)

    def on_room_list_invite_chosen(self, event: RoomList.InviteChosen) -> None:
        self.sv.answer_invite(event.room_id)

    def on_timeline_view_need_history(self, event: TimelineView.NeedHistory) -> None:
        if self.room_id and event.view.id == "timeline":
            self.sv.load_history(self.room_id)
        else:
            event.view.loading = False

    def on_timeline_view_action(self, event: TimelineView.Action) -> None:
        msg, room_id = event.message, self.room_id
        if room_id is None:
            return
        if event.kind == "thread":
            root = self.client.timeline(room_id).get(msg.thread_root) if msg.thread_root else msg
            self.open_thread(root or msg)
            self.query_one(Composer).focus()
        elif event.kind == "reply":
            self.set_mode(msg, self.thread_root if event.view.id == "thread" else None)
            self.query_one(Composer).focus()
        elif event.kind == "react":
            self.sv.pick_reaction(room_id, msg.event_id)
        elif event.kind == "retry":
            self.sv.deliver(room_id, msg)

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        composer = self.query_one(Composer)
        if self.room_id is None:
            self.notify(self._("Pick a room first (Ctrl+R)."), severity="warning")
            return
        composer.load_text("")
        self.sv.send(
            self.room_id,
            event.text,
            reply_to=self.reply_to.event_id if self.reply_to else None,
            thread_root=self.thread_root,
            mentions=composer.take_mentions(event.text),
        )
        self.set_mode(None, self.thread_root)

    def on_composer_hint(self, event: Composer.Hint) -> None:
        hint = self.query_one("#hint", Static)
        hint.update("   ".join(event.candidates[:8]) + ("  …" if len(event.candidates) > 8 else ""))
        hint.display = bool(event.candidates)

    def action_cancel_mode(self) -> None:
        if self.reply_to is not None:
            self.set_mode(None, self.thread_root)
        elif self.thread_root:
            self.close_thread()
            self.set_mode(None, None)

    def action_focus_rooms(self) -> None:
        self.query_one(RoomList).focus()

    def action_focus_timeline(self) -> None:
        self.query_one("#timeline", TimelineView).focus()

    def action_focus_composer(self) -> None:
        self.query_one(Composer).focus()
