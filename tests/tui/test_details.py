"""Small things a coordinator sees: thread summaries, formatted text, local times, room names,
amounts as the bots write them (rendered offline)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from messenger.client.chat import RoomInfo, markdown_content
from messenger.client.timeline import Timeline
from messenger.events import Incoming
from messenger.i18n import translator
from messenger.protocol.resources import RequestCard
from tests.tui.support import ME, METTE, NAMES, NORDIC, RESOURCES, T0, TZ, request_card, text
from tui.cards import request_amount, show_amount
from tui.render import MessageRenderer
from tui.widgets.roomlist import LABEL_WIDTH, room_label


def renderer(tl: Timeline) -> MessageRenderer:
    return MessageRenderer(Console(width=100), lambda u: NAMES.get(u, u), tl.get, ME, TZ)


def lines(tl: Timeline, event_id: str) -> list[str]:
    msg = tl.get(event_id)
    assert msg is not None
    return [s.text.rstrip() for s in renderer(tl).lines(msg, 100, False)]


def ev(n: int, sender: str, content: dict[str, Any]) -> Incoming:
    return Incoming(NORDIC, f"$d{n}", sender, "m.room.message", content, T0 + n, True)


def in_thread(root: str, content: dict[str, Any]) -> dict[str, Any]:
    return {**content, "m.relates_to": {"rel_type": "m.thread", "event_id": root}}


def test_a_commands_answer_shows_under_it() -> None:
    tl = Timeline(NORDIC, ME)
    answer = {"msgtype": "m.notice", "body": "🏓 pong — all bots answer\nsecond line"}
    tl.add_live([ev(1, ME, text("!ping")), ev(2, RESOURCES, in_thread("$d1", answer))])
    shown = lines(tl, "$d1")
    assert any("🧵 resources: 🏓 pong — all bots answer" in line for line in shown), shown
    assert not any("second line" in line for line in shown)
    assert any("1 reply — press t to open" in line for line in shown)
    # A later reply (or an edit of the latest) replaces the summary.
    tl.add_live([ev(3, METTE, in_thread("$d1", text("thanks!")))])
    shown = lines(tl, "$d1")
    assert any("🧵 Mette: thanks!" in line for line in shown), shown
    assert any("2 replies" in line for line in shown)


def test_own_markdown_is_shown_formatted() -> None:
    tl = Timeline(NORDIC, ME)
    tl.local_echo("txn1", ME, markdown_content("Hello from the **TUI**"), T0)
    msg = tl.get("txn1")
    assert msg is not None
    strips = renderer(tl).lines(msg, 100, False)
    assert any("Hello from the TUI" in s.text for s in strips)
    assert not any("**" in s.text for s in strips)
    bold = [seg.text for s in strips for seg in s if seg.style and seg.style.bold]
    assert "TUI" in bold


def test_bot_times_are_in_the_viewers_timezone() -> None:
    tl = Timeline(NORDIC, ME, {RESOURCES})
    body = "R1 asked by Mette on 2026-12-03 13:05 UTC"
    html = "<p>R1 asked by Mette on 2026-12-03 13:05 UTC</p>"
    notice = {"msgtype": "m.notice", "body": body, "format": "org.matrix.custom.html"}
    tl.add_live([ev(1, RESOURCES, {**notice, "formatted_body": html})])
    shown = "\n".join(lines(tl, "$d1"))
    assert "2026-12-03 14:05 CET" in shown
    assert "UTC" not in shown
    card = request_card("approved", "$d1")
    data = card["org.samverkan.request"]
    data.update(decided_by=ME, decided_at=T0, granted="1200.00")
    tl.add_live([ev(2, RESOURCES, {**card, "m.relates_to": {}})])
    shown = "\n".join(lines(tl, "$d2"))
    assert "Mon, Nov 30 01:53" in shown  # T0 in Stockholm (created and decided at T0)
    assert "SEK1,200.00 (of SEK1,500.00 asked)" in shown


def plain(text: str) -> str:
    """Babel's no-break spaces (U+00A0, U+202F) as plain spaces: compare meaning, not bytes."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("lang", "amount", "unit", "shown"),
    [("en", "12000.00", "SEK", "SEK12,000.00"), ("sv", "12000.00", "SEK", "12 000,00 kr"),
     ("sv", "1500.50", "EUR", "1 500,50 €"), ("en", "12.50", "hours", "12.5 hours"),
     ("sv", "12.50", "hours", "12,5 timmar"), ("da", "1.00", "hours", "1 time"),
     ("nb", "3.00", "items", "3 stk."), ("nb", "-40.00", "NOK", "-40,00 kr"),
     ("da", "1234567.00", "KES", "1.234.567,00 KES"), ("sv", "7.00", "", "7"),
     ("sv", "not a number", "SEK", "not a number SEK"), ("sv", None, "SEK", "—")],
)  # fmt: skip
def test_amounts_are_written_as_the_viewers_language_does(
    lang: str, amount: str | None, unit: str, shown: str
) -> None:
    assert plain(show_amount(amount, unit, translator(lang))) == shown


def test_the_granted_amount_is_shown_once_approved() -> None:
    en = translator("en")
    data = request_card("open", "$x")["org.samverkan.request"]
    data["amount"] = "12000.00"
    assert request_amount(RequestCard.model_validate(data), en) == "SEK12,000.00"
    data.update(status="approved", granted="12000.00")
    assert request_amount(RequestCard.model_validate(data), en) == "SEK12,000.00"
    data.update(granted="9000.00")
    assert (
        request_amount(RequestCard.model_validate(data), en)
        == "SEK9,000.00 (of SEK12,000.00 asked)"
    )


def test_long_room_names_end_in_an_ellipsis_on_one_line() -> None:
    long = RoomInfo("!r", "Kenya local democracy and youth participation partnership", unread=12)
    label = room_label(long)
    assert "\n" not in label.plain
    assert label.cell_len <= LABEL_WIDTH
    assert "…" in label.plain
    assert label.plain.rstrip().endswith("12")  # the unread count stays visible
    assert room_label(RoomInfo("!s", "Budget")).plain == "⚠ Budget"
