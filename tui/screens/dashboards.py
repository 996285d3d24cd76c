"""Provides the dashboards: upcoming events, open requests and untranslated messages, live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from messenger.client.chat import ChatClient
from messenger.client.timeline import Message
from messenger.i18n import N_
from tui.board import (
    REFUSED_SILENTLY,
    Row,
    approved_requests,
    needs_translation,
    open_requests,
    refusal_of,
    upcoming_events,
)
from tui.cards import RSVP_MARK, kind_word, local_time, ms_time, request_amount, status_word
from tui.lang import t_of
from tui.render import excerpt
from tui.screens.prompts import AskText
from tui.widgets.footer import Footer

if TYPE_CHECKING:
    from tui.app import SamverkanApp


REFUSED = {
    "approve": N_("{id} was not approved: {reason}"),
    "deny": N_("{id} was not denied: {reason}"),
    "fulfil": N_("{id} was not marked fulfilled: {reason}"),
}
RSVP_SENT = {
    "yes": N_("RSVP yes sent for {title}"),
    "maybe": N_("RSVP maybe sent for {title}"),
    "no": N_("RSVP no sent for {title}"),
}


class DashboardScreen(Screen[None]):
    """Three tables across all rooms; keys send the bot commands as the coordinator."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("y", "rsvp('yes')", N_("RSVP yes")),
        Binding("m", "rsvp('maybe')", N_("maybe")),
        Binding("n", "rsvp('no')", N_("no")),
        Binding("a", "decide('approve')", N_("Approve")),
        Binding("d", "decide('deny')", N_("Deny")),
        Binding("f", "decide('fulfil')", N_("Fulfilled")),
        Binding("enter", "jump", N_("Open"), show=False),
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
        _ = self._
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane(_("Upcoming events") + " [1]", id="events"):
                yield DataTable(id="t-events", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Requests") + " [2]", id="requests"):
                yield Static(_("[b]Open[/b] — waiting for a decision (a approve, d deny)"))
                yield DataTable(id="t-requests", cursor_type="row", zebra_stripes=True)
                yield Static("\n" + _("[b]Approved[/b] — to deliver (f fulfilled)"))
                yield DataTable(id="t-approved", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Needs translation") + " [3]", id="translations"):
                yield DataTable(id="t-translations", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def _(self, message: str) -> str:
        return t_of(self).gettext(message)

    def on_mount(self) -> None:
        _ = self._
        self.query_one("#t-events", DataTable).add_columns(
            _("When (your time)"), "ID", _("Title"), _("Room"), _("Where"), _("You"), "✅ ❔ ❌"
        )
        self.query_one("#t-requests", DataTable).add_columns(
            "ID",
            _("Status"),
            _("Room"),
            _("Kind"),
            _("What"),
            _("Amount"),
            _("Needed by"),
            _("From"),
        )
        self.query_one("#t-approved", DataTable).add_columns(
            "ID",
            _("Room"),
            _("Kind"),
            _("What"),
            _("Granted"),
            _("Needed by"),
            _("From"),
            _("Approved"),
        )
        self.query_one("#t-translations", DataTable).add_columns(
            _("Room"), _("Languages"), _("Message"), _("Volunteers")
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
        t = t_of(self)
        self.rows["events"] = upcoming_events(self.client, self.now_ms)
        self._fill(
            "events",
            [
                (
                    local_time(r.data.start, tz, t),
                    r.data.id,
                    r.data.title,
                    self._room(r.room_id),
                    r.data.where or "—",
                    RSVP_MARK.get(r.data.rsvps.get(self.client.me, ""), "·"),
                    " ".join(
                        t.number(sum(1 for v in r.data.rsvps.values() if v == k))
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
                    status_word(r.data.status, t),
                    self._room(r.room_id),
                    kind_word(r.data.kind, t),
                    excerpt(r.data.what, 30),
                    request_amount(r.data, t),
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
                    kind_word(r.data.kind, t),
                    excerpt(r.data.what, 30),
                    request_amount(r.data, t),
                    r.data.by or "—",
                    names(r.data.requester),
                    f"{names(r.data.decided_by or '')}, {ms_time(r.data.decided_at, tz, t)}",
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
                    self._(REFUSED.get(verb, N_("{id} was not approved: {reason}"))).format(
                        id=row.data.id,
                        reason=self._(refusal) if refusal == REFUSED_SILENTLY else refusal,
                    ),
                    title=self._("The bot refused {command}").format(command=f"!request {verb}"),
                    severity="error",
                    timeout=20,
                )
            elif not moved and not command.failed:
                still.append((row, verb, command))
        self.waiting = still

    def _source_text(self, row: Row[Any]) -> str:
        msg = self.client.timeline(row.room_id).get(row.data.source_event_id)
        return msg.body if msg else self._("(message not loaded)")

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
        self.notify(self._(RSVP_SENT[answer]).format(title=row.data.title))

    async def action_decide(self, verb: str) -> None:
        row = self._current("approved") if verb == "fulfil" else self._current("requests")
        if row is None:
            self.notify(
                self._("Pick a request in the Approved table first (Tab moves between them).")
                if verb == "fulfil"
                else self._("Pick a request in the Open table first (Tab moves between them).")
            )
            return
        if verb == "deny":

            def denied(reason: str | None) -> None:
                if reason:
                    safe = reason.replace('"', "'")
                    self.app.call_later(
                        self._send_decision, row, "deny", f'!request deny {row.data.id} "{safe}"'
                    )

            question = self._("Why deny {id} ({what})?").format(id=row.data.id, what=row.data.what)
            self.app.push_screen(AskText(question), denied)
            return
        await self._send_decision(row, verb, f"!request {verb} {row.data.id}")

    async def _send_decision(self, row: Row[Any], verb: str, text: str) -> None:
        """Send a decision in the request's thread and watch for the bot's refusal."""
        command = await self.sv.send_command(row.room_id, text, row.thread_root)
        self.waiting.append((row, verb, command))
        self.notify(self._("{command} sent").format(command=f"!request {verb} {row.data.id}"))

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
