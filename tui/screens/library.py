"""Provides the Library screen: the knowledge-base entries of the coordinator's rooms, searched
as one types (the same folding and substring matching as ``!kb search``), an entry opened,
its source message shown, the whole entry asked of the bot.

Built from the library bot's cards (``org.samverkan.library``) in the rooms this client is
in, so it shows exactly what the coordinator may read; removed entries drop out.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError
from rich.markup import escape as markup
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from messenger.client.chat import BoardItem, ChatClient
from messenger.fulltext import TextIndex, query_terms
from messenger.i18n import N_
from messenger.protocol.library import LibraryCard
from tui.lang import t_of
from tui.render import excerpt
from tui.widgets.footer import Footer

if TYPE_CHECKING:
    from tui.app import SamverkanApp

TYPE_WORDS = {
    "guide": N_("guide"),
    "case": N_("case study"),
    "lesson": N_("lesson learnt"),
    "resource": N_("resource"),
    "minutes": N_("minutes"),
}


class LibraryScreen(Screen[None]):
    """Search box, matching entries, and the chosen entry."""

    DEFAULT_CSS = """
    LibraryScreen #library-status { color: $text-muted; padding: 0 1; }
    LibraryScreen #library-results { width: 3fr; }
    LibraryScreen #library-entry { width: 2fr; padding: 0 1; border-left: solid $primary; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("enter", "source", N_("Source message"), show=False),
        Binding("f7", "source", N_("Source message")),
        Binding("f8", "show", N_("Whole entry")),
    ]

    def __init__(self, client: ChatClient) -> None:
        super().__init__()
        self.client = client
        self.cards: dict[str, tuple[BoardItem, LibraryCard]] = {}
        self.index = TextIndex()
        self.shown: list[str] = []

    @property
    def sv(self) -> SamverkanApp:
        return self.app  # type: ignore[return-value]

    def _(self, message: str) -> str:
        return t_of(self).gettext(message)

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with Vertical():
            yield Input(
                placeholder=_("Search the library: 3 letters or more, parts of words match"),
                id="library-query",
            )
            yield Static("", id="library-status")
            with Horizontal():
                yield DataTable(id="library-results", cursor_type="row", zebra_stripes=True)
                yield Static("", id="library-entry")
        yield Footer()

    def on_mount(self) -> None:
        _ = self._
        table = self.query_one("#library-results", DataTable)
        table.add_columns("ID", _("Title"), _("Type"), _("Room"))
        self.refresh_board()
        self.query_one("#library-query", Input).focus()

    # -- data -------------------------------------------------------------------------------

    def refresh_board(self) -> None:
        """Re-read the cards (called on each sync that touched the board) and search again."""
        cards: dict[str, tuple[BoardItem, LibraryCard]] = {}
        for item in self.client.board.get(LibraryCard.KEY, {}).values():
            try:
                card = LibraryCard.model_validate(item.data)
            except ValidationError:
                continue
            known = cards.get(card.id)  # one card per entry: the newest payload wins
            if known is None or known[0].ts <= item.ts:
                cards[card.id] = (item, card)
        cards = {k: v for k, v in cards.items() if v[1].status == "active"}
        self.cards = cards
        self.index = TextIndex()
        for key, (_item, card) in cards.items():
            self.index.add(key, title=card.title, text=card.excerpt, tags=card.tags)
        self.search(self.query_one("#library-query", Input).value)

    def search(self, query: str) -> None:
        """Fill the table with the entries matching ``query`` (all of them, newest first,
        when it is empty)."""
        usable, short = query_terms(query)
        status = self.query_one("#library-status", Static)
        if usable:
            keys = [h.doc_id for h in self.index.search(usable, limit=None)]
        else:
            keys = sorted(self.cards, key=lambda k: -self.cards[k][1].created_at)
        if short and not usable:
            status.update(self._("Type at least 3 letters to search; showing every entry."))
        else:
            status.update(
                t_of(self).ngettext("{n} entry", "{n} entries", len(keys)).format(n=len(keys))
            )
        self.shown = keys
        table = self.query_one("#library-results", DataTable)
        cursor = table.cursor_row
        table.clear()
        for i, key in enumerate(keys):
            _item, card = self.cards[key]
            table.add_row(
                card.id, excerpt(card.title, 50), self._type(card), self._room(card), key=str(i)
            )
        if keys:
            table.move_cursor(row=min(max(cursor, 0), len(keys) - 1))
        self._describe()

    def _type(self, card: LibraryCard) -> str:
        return self._(TYPE_WORDS.get(card.type, card.type))

    def _room(self, card: LibraryCard) -> str:
        info = self.client.info.get(card.room_id)
        return info.name if info else card.room_id

    def current(self) -> tuple[BoardItem, LibraryCard] | None:
        """The entry under the cursor."""
        table = self.query_one("#library-results", DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.cards.get(self.shown[table.cursor_row])

    def _describe(self) -> None:
        pane = self.query_one("#library-entry", Static)
        found = self.current()
        if found is None:
            pane.update(self._("No entry matches."))
            return
        _item, card = found
        t = t_of(self)
        when = t.datetime(datetime.fromtimestamp(card.created_at / 1000, self.sv.tz), "medium")
        facts = [self._type(card), self._room(card), self.client.display_name(card.author), when]
        if card.tags:
            facts.append("#" + " #".join(card.tags))
        lines = [f"[b]{card.id} · {markup(card.title)}[/b]", markup(" · ".join(facts)), ""]
        lines.append(markup(card.excerpt))
        if card.file_name:
            lines += ["", "📎 " + markup(card.file_name)]
        hint = self._("F7: its source message · F8: the whole entry from the bot")
        lines += ["", f"[dim]{markup(hint)}[/dim]"]
        pane.update("\n".join(lines))

    # -- events -----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#library-results", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._describe()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_source()

    def action_source(self) -> None:
        """Open the entry's room with the message it was made from in the side panel."""
        found = self.current()
        if found is None:
            return
        item, card = found
        if not self.sv.open_message(item.room_id, card.source_event_id or item.event_id):
            self.sv.notify(self._("The source message is not loaded; scroll up in the room."))

    async def action_show(self) -> None:
        """Ask the library bot for the whole entry (and its file) in the entry's room."""
        found = self.current()
        if found is None:
            return
        item, card = found
        await self.sv.send_command(item.room_id, f"!kb show {card.id}")
        self.notify(self._("{command} sent").format(command=f"!kb show {card.id}"))
