"""Provides the Projects dashboard: every project across rooms with a text Gantt (today marked,
overdue milestones highlighted), built from the projects bot's cards; keys send its commands."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from messenger.client.chat import ChatClient
from messenger.i18n import N_, Translator
from messenger.protocol.projects import MilestoneInfo, ProjectCard
from tui.board import Row, project_rows
from tui.lang import t_of
from tui.render import excerpt
from tui.screens.prompts import AskText
from tui.widgets.footer import Footer

if TYPE_CHECKING:
    from tui.app import SamverkanApp

WIDTH = 40
STATUSES = ("on-track", "at-risk", "off-track")
STATUS_WORDS = {
    "new": N_("new"),
    "on-track": N_("on track"),
    "at-risk": N_("at risk"),
    "off-track": N_("off track"),
    "closed": N_("closed"),
}
STATE_WORDS = {
    "open": N_("open"),
    "overdue": N_("overdue"),
    "done-on-time": N_("done on time"),
    "done-late": N_("done late"),
}
STATUS_STYLE = {"on-track": "green", "at-risk": "yellow", "off-track": "bold red"}


class Span:
    """The dates the Gantt covers, mapped to columns."""

    def __init__(self, cards: list[ProjectCard], today: str) -> None:
        days = [today] + [c.start for c in cards] + [c.until for c in cards]
        days += [m.due for c in cards for m in c.milestones]
        self.first = date.fromisoformat(min(days))
        self.last = date.fromisoformat(max(days))
        self.today = today

    def col(self, iso: str) -> int:
        """The column of a day."""
        span = max((self.last - self.first).days, 1)
        days = (date.fromisoformat(iso) - self.first).days
        return min(max(round(days * (WIDTH - 1) / span), 0), WIDTH - 1)

    def bar(self, start: str, end: str, marks: list[tuple[str, str, str]]) -> Text:
        """A line: ``━`` over the project's span, each (day, glyph, style), ``│`` today."""
        cells: list[tuple[str, str]] = [("·", "dim")] * WIDTH
        for i in range(self.col(start), self.col(end) + 1):
            cells[i] = ("━", "blue")
        for day, glyph, style in marks:
            cells[self.col(day)] = (glyph, style)
        now = self.col(self.today)
        cells[now] = ("│", "bold magenta") if cells[now][0] in "·━" else cells[now]
        runs: list[tuple[str, str]] = []
        for glyph, style in cells:  # one span per run of a style: cheap to build and measure
            if runs and runs[-1][1] == style:
                runs[-1] = (runs[-1][0] + glyph, style)
            else:
                runs.append((glyph, style))
        return Text.assemble(*runs)


def mark(m: MilestoneInfo) -> tuple[str, str, str]:
    """A milestone's glyph on the Gantt and its style."""
    if m.state == "overdue":
        return m.due, "!", "bold red reverse"
    if m.state.startswith("done"):
        return m.due, "✓", "green"
    return m.due, "◆", "yellow"


def overdue_now(m: MilestoneInfo, today: str) -> MilestoneInfo:
    """The milestone with its state as of ``today`` (a card drawn yesterday says 'open')."""
    if m.state == "open" and m.due < today:
        return m.model_copy(update={"state": "overdue"})
    return m


class ProjectsScreen(Screen[None]):
    """Projects across all rooms, and the milestones of the one under the cursor; ``d`` marks
    a milestone done, ``u`` posts an update on the project."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("d", "done", N_("Milestone done")),
        Binding("u", "update", N_("Post an update")),
        Binding("enter", "jump", N_("Open"), show=False),
    ]

    def __init__(self, client: ChatClient, now_ms: float | None = None) -> None:
        super().__init__()
        self.client = client
        self.now_ms = now_ms
        self.rows: list[Row[ProjectCard]] = []
        self.stones: list[MilestoneInfo] = []
        self.span = Span([], self.today())

    @property
    def sv(self) -> SamverkanApp:
        return self.app  # type: ignore[return-value]

    def _(self, message: str) -> str:
        return t_of(self).gettext(message)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="span")
        yield DataTable(id="t-projects", cursor_type="row", zebra_stripes=True)
        yield Static(id="stones-head")
        yield DataTable(id="t-milestones", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        _ = self._
        self.query_one("#t-projects", DataTable).add_columns(
            "ID", _("Room"), _("Title"), _("Status"), _("Owner"), _("Due"), _("Timeline")
        )
        self.query_one("#t-milestones", DataTable).add_columns(
            "ID", _("Title"), _("Status"), _("Owner"), _("Due"), _("Timeline")
        )
        self.refresh_board()
        self.query_one("#t-projects", DataTable).focus()

    def today(self) -> str:
        """Today (UTC) as the bot counts it."""
        ms = time.time() * 1000 if self.now_ms is None else self.now_ms
        return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()

    def refresh_board(self) -> None:
        """Re-read every project from the client (called on each sync that touched the board)."""
        t, today, names = t_of(self), self.today(), self.client.display_name
        self.rows = project_rows(self.client)
        self.span = span = Span([r.data for r in self.rows], today)
        self.query_one("#span", Static).update(
            self._("Timeline from {first} to {last}; │ is today ({today}), ! is overdue").format(
                first=span.first.isoformat(), last=span.last.isoformat(), today=today
            )
        )
        table = self.query_one("#t-projects", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.rows:
            card = row.data
            marks = [mark(overdue_now(m, today)) for m in card.milestones]
            table.add_row(
                card.id,
                self._room(row.room_id),
                excerpt(card.title, 30),
                Text(word(t, STATUS_WORDS, card.status), style=STATUS_STYLE.get(card.status, "")),
                names(card.owner),
                card.until,
                span.bar(card.start, card.until, marks),
            )
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        self.show_milestones()

    def show_milestones(self) -> None:
        """The milestones of the project under the cursor, overdue ones in red."""
        table = self.query_one("#t-milestones", DataTable)
        cursor = table.cursor_row
        table.clear()
        project = self.project()
        t, today, names = t_of(self), self.today(), self.client.display_name
        self.stones = [overdue_now(m, today) for m in project.data.milestones] if project else []
        head = ""
        if project is not None:
            head = self._("Milestones of {id} {title} (Tab moves here; d marks one done)").format(
                id=project.data.id, title=project.data.title
            )
        self.query_one("#stones-head", Static).update(head)
        for m in self.stones:
            red = "bold red" if m.state == "overdue" else ""
            table.add_row(
                Text(m.id, style=red),
                Text(excerpt(m.title, 40), style=red),
                Text(word(t, STATE_WORDS, m.state), style=red),
                names(m.owner),
                Text(m.due, style=red),
                self.span.bar(m.due, m.due, [mark(m)]),
            )
        if self.stones:
            table.move_cursor(row=min(cursor, len(self.stones) - 1))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "t-projects":
            self.show_milestones()

    def _room(self, room_id: str) -> str:
        info = self.client.info.get(room_id)
        return info.name if info else room_id

    def project(self) -> Row[ProjectCard] | None:
        """The project under the cursor."""
        i = self.query_one("#t-projects", DataTable).cursor_row
        return self.rows[i] if self.rows and 0 <= i < len(self.rows) else None

    async def action_done(self) -> None:
        table = self.query_one("#t-milestones", DataTable)
        i, row = table.cursor_row, self.project()
        if not table.has_focus or row is None or not 0 <= i < len(self.stones):
            self.notify(self._("Pick a milestone in the lower table first (Tab moves there)."))
            return
        m = self.stones[i]
        if m.state.startswith("done"):
            self.notify(self._("{id} is already done.").format(id=m.id))
            return
        await self.sv.send_command(row.room_id, f"!milestone done {m.id}", row.thread_root)
        self.notify(self._("{command} sent").format(command=f"!milestone done {m.id}"))

    def action_update(self) -> None:
        row = self.project()
        if row is None:
            return
        card = row.data

        def answered(answer: str | None) -> None:
            if not answer:
                return
            status, _sep, text = answer.partition(" ")
            if status.lower() not in STATUSES or not text.strip():
                self.notify(
                    self._("Start with on-track, at-risk or off-track, then what happened."),
                    severity="error",
                )
                return
            safe = text.strip().replace('"', "'")
            command = f'!update {card.id} {status.lower()} "{safe}"'
            self.app.call_later(self.sv.send_command, row.room_id, command, row.thread_root)
            self.notify(self._("{command} sent").format(command=f"!update {card.id}"))

        question = self._(
            "Update on {title} ({id}): on-track, at-risk or off-track, then what happened"
        ).format(title=card.title, id=card.id)
        self.app.push_screen(AskText(question), answered)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        row = self.project()
        if row is None:
            return
        self.sv.open_message(row.room_id, row.thread_root)


def word(t: Translator, words: dict[str, str], key: str) -> str:
    """A status or state in the viewer's language."""
    return t.gettext(words.get(key, key)) if key in words else key
