"""Provides the dashboards: upcoming events, open requests and untranslated messages, live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from messenger.client.chat import ChatClient
from messenger.client.timeline import Message
from tui.board import (
    Row,
    approved_requests,
    needs_translation,
    open_requests,
    refusal_of,
    upcoming_events,
)
from tui.cards import RSVP_MARK, local_time, ms_time, request_amount
from tui.render import excerpt
from tui.screens.prompts import AskText

if TYPE_CHECKING:
    from tui.app import SamverkanApp


PAST = {"approve": "approved", "deny": "denied", "fulfil": "marked fulfilled"}


class DashboardScreen(Screen[None]):
    """Three tables across all rooms; keys send the bot commands as the coordinator."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("y", "rsvp('yes')", "RSVP yes"),
        Binding("m", "rsvp('maybe')", "maybe"),
        Binding("n", "rsvp('no')", "no"),
        Binding("a", "decide('approve')", "Approve"),
        Binding("d", "decide('deny')", "Deny"),
        Binding("f", "decide('fulfil')", "Fulfilled"),
        Binding("enter", "jump", "Open", show=False),
        Binding("1", "tab('events')", show=False),
        Binding("2", "tab('requests')", show=False),
        Binding("3", "tab('translations')", show=False),
    ]

    def __init__(self, client: ChatClient, now_ms: float | None = None) -> None:
        super().__init__()
        self.client = client
        self.now_ms = now_ms
        self.rows: dict[str, list[Row[Any]]] = {
            "events": [],
            "requests": [],
            "approved": [],
            "translations": [],
        }
        self.waiting: list[tuple[Row[Any], str, Message]] = []
        """Decisions sent and not answered yet: (row, verb, the command as sent)."""

    @property
    def sv(self) -> SamverkanApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane("Upcoming events [1]", id="events"):
                yield DataTable(id="t-events", cursor_type="row", zebra_stripes=True)
            with TabPane("Requests [2]", id="requests"):
                yield Static("[b]Open[/b] — waiting for a decision (a approve, d deny)")
                yield DataTable(id="t-requests", cursor_type="row", zebra_stripes=True)
                yield Static("\n[b]Approved[/b] — to deliver (f fulfilled)")
                yield DataTable(id="t-approved", cursor_type="row", zebra_stripes=True)
            with TabPane("Needs translation [3]", id="translations"):
                yield DataTable(id="t-translations", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#t-events", DataTable).add_columns(
            "when (your time)", "ID", "title", "room", "where", "you", "✅ ❔ ❌"
        )
        self.query_one("#t-requests", DataTable).add_columns(
            "ID", "status", "room", "kind", "what", "amount", "by", "from"
        )
        self.query_one("#t-approved", DataTable).add_columns(
            "ID", "room", "kind", "what", "granted", "by", "from", "approved"
        )
        self.query_one("#t-translations", DataTable).add_columns(
            "room", "languages", "message", "volunteers"
        )
        self.refresh_board()
        self.query_one("#t-events", DataTable).focus()

    def _room(self, room_id: str) -> str:
        info = self.client.info.get(room_id)
        return info.name if info else room_id

    def refresh_board(self) -> None:
        """Re-read every table from the client (called on each sync that touched the board)."""
        names = self.client.display_name
        tz = self.sv.tz
        self.rows["events"] = upcoming_events(self.client, self.now_ms)
        self._fill(
            "events",
            [
                (
                    local_time(r.data.start, tz),
                    r.data.id,
                    r.data.title,
                    self._room(r.room_id),
                    r.data.where or "—",
                    RSVP_MARK.get(r.data.rsvps.get(self.client.me, ""), "·"),
                    " ".join(
                        str(sum(1 for v in r.data.rsvps.values() if v == k))
                        for k in ("yes", "maybe", "no")
                    ),
                )
                for r in self.rows["events"]
            ],
        )
        self.rows["requests"] = open_requests(self.client)
        self._fill(
            "requests",
            [
                (
                    r.data.id,
                    r.data.status.upper(),
                    self._room(r.room_id),
                    r.data.kind,
                    excerpt(r.data.what, 30),
                    request_amount(r.data),
                    r.data.by or "—",
                    names(r.data.requester),
                )
                for r in self.rows["requests"]
            ],
        )
        self.rows["approved"] = approved_requests(self.client)
        self._fill(
            "approved",
            [
                (
                    r.data.id,
                    self._room(r.room_id),
                    r.data.kind,
                    excerpt(r.data.what, 30),
                    request_amount(r.data),
                    r.data.by or "—",
                    names(r.data.requester),
                    f"{names(r.data.decided_by or '')}, {ms_time(r.data.decided_at, tz)}",
                )
                for r in self.rows["approved"]
            ],
        )
        self._answers()
        self.rows["translations"] = needs_translation(self.client)
        self._fill(
            "translations",
            [
                (
                    self._room(r.room_id),
                    f"{r.data.source_language} → {', '.join(r.data.target_languages)}",
                    excerpt(self._source_text(r), 50),
                    ", ".join(names(v) for v in r.data.volunteers) or "—",
                )
                for r in self.rows["translations"]
            ],
        )

    def _answers(self) -> None:
        """Tell the person when a bot refused a decision sent from here (its error reply is
        in the request's thread, which the dashboard does not show); forget the decisions
        the card shows as taken."""
        still: list[tuple[Row[Any], str, Message]] = []
        for row, verb, command in self.waiting:
            refusal = refusal_of(self.client, row.room_id, command)
            item = self.client.board.get(row.item.key, {}).get(row.item.item_id)
            moved = item is not None and item.data.get("status") != row.data.status
            if refusal:
                self.notify(
                    f"{row.data.id} was not {PAST.get(verb, verb)}: {refusal}",
                    title=f"The bot refused !request {verb}",
                    severity="error",
                    timeout=20,
                )
            elif not moved and not command.failed:
                still.append((row, verb, command))
        self.waiting = still

    def _source_text(self, row: Row[Any]) -> str:
        msg = self.client.timeline(row.room_id).get(row.data.source_event_id)
        return msg.body if msg else "(message not loaded)"

    def _fill(self, name: str, rows: list[tuple[str, ...]]) -> None:
        table = self.query_one(f"#t-{name}", DataTable)
        cursor = table.cursor_row
        table.clear()
        for i, row in enumerate(rows):
            table.add_row(*row, key=str(i))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def _current(self, name: str) -> Row[Any] | None:
        tab = "requests" if name == "approved" else name
        if self.query_one(TabbedContent).active != tab:
            return None
        table = self.query_one(f"#t-{name}", DataTable)
        if tab == "requests" and not table.has_focus:
            return None
        rows = self.rows[name]
        return rows[table.cursor_row] if rows and 0 <= table.cursor_row < len(rows) else None

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name
        self.query_one(f"#t-{name}", DataTable).focus()

    async def action_rsvp(self, answer: str) -> None:
        row = self._current("events")
        if row is None:
            return
        await self.sv.send_command(
            row.room_id, f"!event rsvp {row.data.id} {answer}", row.thread_root
        )
        self.notify(f"RSVP {answer} sent for {row.data.title}")

    async def action_decide(self, verb: str) -> None:
        row = self._current("approved") if verb == "fulfil" else self._current("requests")
        if row is None:
            where = "Approved" if verb == "fulfil" else "Open"
            self.notify(f"Pick a request in the {where} table first (Tab moves between them).")
            return
        if verb == "deny":

            def denied(reason: str | None) -> None:
                if reason:
                    safe = reason.replace('"', "'")
                    self.app.call_later(
                        self._send_decision, row, "deny", f'!request deny {row.data.id} "{safe}"'
                    )

            self.app.push_screen(AskText(f"Why deny {row.data.id} ({row.data.what})?"), denied)
            return
        await self._send_decision(row, verb, f"!request {verb} {row.data.id}")

    async def _send_decision(self, row: Row[Any], verb: str, text: str) -> None:
        """Send a decision in the request's thread and watch for the bot's refusal."""
        command = await self.sv.send_command(row.room_id, text, row.thread_root)
        self.waiting.append((row, verb, command))
        self.notify(f"!request {verb} {row.data.id} sent")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        row = (
            self._current("translations")
            or self._current("events")
            or self._current("requests")
            or self._current("approved")
        )
        if row is None:
            return
        self.sv.open_room(row.room_id)
        main = self.sv.main
        if main is None:
            return
        tl = self.client.timeline(row.room_id)
        root = tl.get(row.thread_root)
        if root is not None:
            main.open_thread(root)
