"""Provides cards: the bots' structured payloads rendered as small panels in the timeline."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from messenger.i18n import N_, SOURCE, Translator, translator
from messenger.protocol.events import EventCard, PollCard
from messenger.protocol.resources import RequestCard
from messenger.protocol.translation import Translation
from tui.lang import clock, day_and_time, moment

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
STATUS_WORDS = {
    "open": N_("open"),
    "approved": N_("approved"),
    "denied": N_("denied"),
    "fulfilled": N_("fulfilled"),
    "withdrawn": N_("withdrawn"),
    "scheduled": N_("scheduled"),
    "cancelled": N_("cancelled"),
    "prompted": N_("prompted"),
    "translated": N_("translated"),
    "closed": N_("closed"),
}
"""A card's status as the viewer reads it (the payload keeps the English word)."""
KINDS = {
    "funding": N_("funding"),
    "hours": N_("hours"),
    "materials": N_("materials"),
    "venue": N_("venue"),
    "translation": N_("translation"),
}
"""A request's kind as the viewer reads it (the same words as the resources bot's)."""
ENGLISH = translator(SOURCE)


def kind_word(kind: str, t: Translator) -> str:
    """``materials`` → ``material`` (sv); a kind the TUI does not know stays as it is."""
    return t.gettext(KINDS[kind]) if kind in KINDS else kind


def status_word(status: str, t: Translator) -> str:
    """``approved`` → ``GODKÄND`` (sv): a status in capitals, in the viewer's language."""
    word = STATUS_WORDS.get(status)
    return (t.gettext(word) if word else status).upper()


def show_amount(amount: str | None, unit: str, t: Translator) -> str:
    """``"1500.00", "SEK"`` → ``1 500,00 kr`` (sv), ``SEK1,500.00`` (en); hours and items in
    the words the resources bot uses (``12,5 timmar``); other units a number and the unit;
    None → ``—``."""
    if amount is None:
        return "—"
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError):
        return f"{amount} {unit}".strip()
    if not unit:
        return t.number(value)
    if unit in {"hours", "items"}:
        # the plural form of a fraction is the "other" one in every language shipped
        n = int(value) if value == value.to_integral_value() else 2
        number = t.number(value)
        if unit == "hours":
            return t.ngettext("{amount} hour", "{amount} hours", n).format(amount=number)
        return t.ngettext("{amount} item", "{amount} items", n).format(amount=number)
    return t.money(value, unit)


def ms_time(ms: int | None, tz: tzinfo | None, t: Translator = ENGLISH) -> str:
    """A timestamp (ms) in the viewer's timezone and language."""
    return moment(t, ms, tz)


def request_amount(r: RequestCard, t: Translator = ENGLISH) -> str:
    """The granted amount once approved (and what was asked, when it differs)."""
    if r.granted is not None and r.status in {"approved", "fulfilled"}:
        granted = show_amount(r.granted, r.unit, t)
        if r.amount is not None and r.amount != r.granted:
            return t.gettext("{granted} (of {asked} asked)").format(
                granted=granted, asked=show_amount(r.amount, r.unit, t)
            )
        return granted
    return show_amount(r.amount, r.unit, t) if r.amount is not None else r.unit


def local_time(
    iso: str, tz: tzinfo | None, t: Translator = ENGLISH, time_only: bool = False
) -> str:
    """An ISO 8601 time in the viewer's timezone and language (or only its hours)."""
    try:
        at = datetime.fromisoformat(iso).astimezone(tz)
    except ValueError:
        return iso
    return clock(t, at) if time_only else day_and_time(t, at)


def _grid(rows: list[tuple[str, Text | str]]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def _status(value: str, t: Translator) -> Text:
    return Text(status_word(value, t), style=STATUS_STYLE.get(value, "bold"))


def event_card(e: EventCard, tz: tzinfo | None, t: Translator = ENGLISH) -> Panel:
    """An event with its time in the viewer's zone, place, and RSVP tally."""
    _ = t.gettext
    counts = {k: sum(1 for v in e.rsvps.values() if v == k) for k in RSVP_MARK}
    tally = "  ".join(f"{RSVP_MARK[k]} {t.number(n)}" for k, n in counts.items())
    when = f"{local_time(e.start, tz, t)}–{local_time(e.end, tz, t, time_only=True)}"
    rows: list[tuple[str, Text | str]] = [
        (_("when"), when),
        (_("status"), _status(e.status, t)),
    ]
    if e.where:
        rows.append((_("where"), e.where))
    rows.append((_("rsvp"), tally))
    if e.agenda:
        rows.append((_("agenda"), "; ".join(e.agenda)))
    return Panel(
        _grid(rows),
        title=f"📅 {e.id} · {e.title}",
        title_align="left",
        border_style="red" if e.status == "cancelled" else "green",
        expand=False,
    )


def request_card(
    r: RequestCard, names: Any, tz: tzinfo | None = None, t: Translator = ENGLISH
) -> Panel:
    """A resource request with its status and who decided, times in the viewer's zone."""
    _ = t.gettext
    rows: list[tuple[str, Text | str]] = [
        (_("what"), r.what),
        (_("amount"), request_amount(r, t)),
        (_("needed by"), r.by or "—"),
        (_("from"), f"{names(r.requester)}, {ms_time(r.created_at, tz, t)}"),
        (_("status"), _status(r.status, t)),
    ]
    if r.decided_by:
        rows.append((_("decided"), f"{names(r.decided_by)}, {ms_time(r.decided_at, tz, t)}"))
    if r.fulfilled_by:
        rows.append((_("fulfilled"), f"{names(r.fulfilled_by)}, {ms_time(r.fulfilled_at, tz, t)}"))
    if r.reason:
        rows.append((_("reason"), r.reason))
    style = {"open": "yellow", "approved": "green", "denied": "red"}.get(r.status, "cyan")
    return Panel(
        _grid(rows),
        title=f"📦 {r.id} · {kind_word(r.kind, t)}",
        title_align="left",
        border_style=style,
        expand=False,
    )


def translation_card(tr: Translation, names: Any, t: Translator = ENGLISH) -> Panel:
    """A translation prompt (who may answer) or a translation."""
    _ = t.gettext
    targets = ", ".join(tr.target_languages) or tr.target_language or "?"
    rows: list[tuple[str, Text | str]] = [
        (_("languages"), f"{tr.source_language} → {targets}"),
        (_("status"), _status(tr.status, t)),
    ]
    if tr.volunteers:
        rows.append((_("volunteers"), ", ".join(names(v) for v in tr.volunteers)))
    if tr.translator:
        rows.append((_("translated by"), names(tr.translator)))
    title = "🌐 " + (_("translation wanted") if tr.kind == "prompt" else _("translation"))
    return Panel(
        _grid(rows),
        title=title,
        title_align="left",
        border_style="yellow" if tr.status == "prompted" else "green",
        expand=False,
    )


def poll_card(p: PollCard, tz: tzinfo | None, t: Translator = ENGLISH) -> Panel:
    """A scheduling poll with its votes."""
    rows: list[tuple[str, Text | str]] = []
    for s in p.slots:
        n = len(p.votes.get(s.answer, []))
        votes = t.ngettext("{n} vote", "{n} votes", n).format(n=t.number(n))
        rows.append((s.label or local_time(s.start, tz, t), votes))
    rows.append((t.gettext("status"), _status(p.status, t)))
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
    structured: dict[str, dict[str, Any]],
    tz: tzinfo | None,
    names: Any,
    t: Translator = ENGLISH,
) -> RenderableType | None:
    """The card of a message's structured content, or None when it has none worth a card."""
    try:
        if (raw := structured.get(EventCard.KEY)) is not None:
            return event_card(EventCard.model_validate(raw), tz, t)
        if (raw := structured.get(RequestCard.KEY)) is not None:
            return request_card(RequestCard.model_validate(raw), names, tz, t)
        if (raw := structured.get(Translation.KEY)) is not None:
            return translation_card(Translation.model_validate(raw), names, t)
        if (raw := structured.get(PollCard.KEY)) is not None:
            return poll_card(PollCard.model_validate(raw), tz, t)
    except ValidationError:
        pass
    for key, data in structured.items():
        if key not in SKIP:
            return generic_card(key, data)
    return None
