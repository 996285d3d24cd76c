"""Provides cards: the bots' structured payloads rendered as small panels in the timeline."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from messenger.protocol.events import EventCard, PollCard
from messenger.protocol.resources import RequestCard
from messenger.protocol.translation import Translation
from tui.money import show_amount

RSVP_MARK = {"yes": "✅", "maybe": "❔", "no": "❌"}
STATUS_STYLE = {
    "open": "bold yellow",
    "approved": "bold green",
    "denied": "bold red",
    "fulfilled": "bold cyan",
    "withdrawn": "dim",
    "scheduled": "bold green",
    "cancelled": "bold red",
    "prompted": "bold yellow",
    "translated": "bold green",
}


def ms_time(ms: int | None, tz: tzinfo | None, fmt: str = "%a %d %b %H:%M") -> str:
    """A timestamp (ms) in the viewer's timezone."""
    return "—" if ms is None else datetime.fromtimestamp(ms / 1000, tz).strftime(fmt)


def request_amount(r: RequestCard) -> str:
    """The granted amount once approved (and what was asked, when it differs), as bots write it."""
    if r.granted is not None and r.status in {"approved", "fulfilled"}:
        granted = show_amount(r.granted, r.unit)
        if r.amount is not None and r.amount != r.granted:
            return f"{granted} (of {show_amount(r.amount, r.unit)} asked)"
        return granted
    return show_amount(r.amount, r.unit) if r.amount is not None else r.unit


def local_time(iso: str, tz: tzinfo | None, fmt: str = "%a %d %b %H:%M") -> str:
    """An ISO 8601 time in the viewer's timezone."""
    try:
        return datetime.fromisoformat(iso).astimezone(tz).strftime(fmt)
    except ValueError:
        return iso


def _grid(rows: list[tuple[str, Text | str]]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _status(value: str) -> Text:
    return Text(value.upper(), style=STATUS_STYLE.get(value, "bold"))


def event_card(e: EventCard, tz: tzinfo | None) -> Panel:
    """An event with its time in the viewer's zone, place, and RSVP tally."""
    counts = {k: sum(1 for v in e.rsvps.values() if v == k) for k in RSVP_MARK}
    tally = "  ".join(f"{RSVP_MARK[k]} {n}" for k, n in counts.items())
    when = f"{local_time(e.start, tz)}–{local_time(e.end, tz, '%H:%M')}"
    rows: list[tuple[str, Text | str]] = [("when", when), ("status", _status(e.status))]
    if e.where:
        rows.append(("where", e.where))
    rows.append(("rsvp", tally))
    if e.agenda:
        rows.append(("agenda", "; ".join(e.agenda)))
    return Panel(
        _grid(rows),
        title=f"📅 {e.id} · {e.title}",
        title_align="left",
        border_style="red" if e.status == "cancelled" else "green",
        expand=False,
    )


def request_card(r: RequestCard, names: Any, tz: tzinfo | None = None) -> Panel:
    """A resource request with its status and who decided, times in the viewer's zone."""
    rows: list[tuple[str, Text | str]] = [
        ("what", r.what),
        ("amount", request_amount(r)),
        ("by", r.by or "—"),
        ("from", f"{names(r.requester)}, {ms_time(r.created_at, tz)}"),
        ("status", _status(r.status)),
    ]
    if r.decided_by:
        rows.append(("decided", f"{names(r.decided_by)}, {ms_time(r.decided_at, tz)}"))
    if r.fulfilled_by:
        rows.append(("fulfilled", f"{names(r.fulfilled_by)}, {ms_time(r.fulfilled_at, tz)}"))
    if r.reason:
        rows.append(("reason", r.reason))
    style = {"open": "yellow", "approved": "green", "denied": "red"}.get(r.status, "cyan")
    return Panel(
        _grid(rows),
        title=f"📦 {r.id} · {r.kind}",
        title_align="left",
        border_style=style,
        expand=False,
    )


def translation_card(t: Translation, names: Any) -> Panel:
    """A translation prompt (who may answer) or a translation."""
    pair = f"{t.source_language} → {', '.join(t.target_languages) or t.target_language or '?'}"
    rows: list[tuple[str, Text | str]] = [("languages", pair), ("status", _status(t.status))]
    if t.volunteers:
        rows.append(("volunteers", ", ".join(names(v) for v in t.volunteers)))
    if t.translator:
        rows.append(("by", names(t.translator)))
    title = "🌐 translation wanted" if t.kind == "prompt" else "🌐 translation"
    return Panel(
        _grid(rows),
        title=title,
        title_align="left",
        border_style="yellow" if t.status == "prompted" else "green",
        expand=False,
    )


def poll_card(p: PollCard, tz: tzinfo | None) -> Panel:
    """A scheduling poll with its votes."""
    rows: list[tuple[str, Text | str]] = [
        (s.label or local_time(s.start, tz), f"{len(p.votes.get(s.answer, []))} vote(s)")
        for s in p.slots
    ]
    rows.append(("status", _status(p.status)))
    return Panel(_grid(rows), title=f"🗳 {p.id} · {p.title}", title_align="left", expand=False)


def generic_card(key: str, data: dict[str, Any]) -> Panel:
    """Any other payload: its scalar fields."""
    rows: list[tuple[str, Text | str]] = []
    for k, v in data.items():
        if k != "version" and isinstance(v, str | int | bool) and len(rows) < 8:
            rows.append((k, str(v)))
    return Panel(
        _grid(rows),
        title=key.removeprefix("org.samverkan."),
        title_align="left",
        border_style="blue",
        expand=False,
    )


SKIP = {"org.samverkan.notice", "org.samverkan.requests", "org.samverkan.translation_settings"}


def card_for(
    structured: dict[str, dict[str, Any]], tz: tzinfo | None, names: Any
) -> RenderableType | None:
    """The card of a message's structured content, or None when it has none worth a card."""
    try:
        if (raw := structured.get(EventCard.KEY)) is not None:
            return event_card(EventCard.model_validate(raw), tz)
        if (raw := structured.get(RequestCard.KEY)) is not None:
            return request_card(RequestCard.model_validate(raw), names, tz)
        if (raw := structured.get(Translation.KEY)) is not None:
            return translation_card(Translation.model_validate(raw), names)
        if (raw := structured.get(PollCard.KEY)) is not None:
            return poll_card(PollCard.model_validate(raw), tz)
    except ValidationError:
        pass
    for key, data in structured.items():
        if key not in SKIP:
            return generic_card(key, data)
    return None
