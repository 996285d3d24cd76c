"""Pure units of the resources bot: amounts, kinds, dates, IDs, rendering and the CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.resources.model import (
    KINDS,
    MAX_MINOR,
    Pool,
    Request,
    date_ms,
    decimal_str,
    unit_for,
)
from bots.resources.parse import (
    SUBCOMMANDS,
    TOO_LARGE,
    UNKNOWN_KIND_OR_SUBCOMMAND,
    parse_amount,
    parse_date,
    parse_kind,
    parse_request_id,
)
from bots.resources.render import (
    MAX_CONTENT_BYTES,
    card,
    fitted_list,
    fitted_report,
    reminder,
    report_csv,
    report_html,
)
from bots.resources.words import amount, day, when
from messenger.i18n import translator

EN = translator("en")
SV = translator("sv")


def same(a: str, b: str) -> bool:
    """Equal but for the kind of space (Babel uses no-break spaces)."""
    return a.replace("\u00a0", " ").replace("\u202f", " ") == b


@given(st.integers(min_value=1, max_value=MAX_MINOR))
def test_amount_round_trips_through_its_decimal_text(minor: int) -> None:
    assert parse_amount(decimal_str(minor)) == minor


@pytest.mark.parametrize(
    ("text", "minor"),
    [("1500", 150000), ("12.5", 1250), ("12,50", 1250), ("0.01", 1), ("1 500", 150000)],
)
def test_amounts_parse_to_hundredths(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-5", "negative"),
        ("abc", "not a number"),
        ("1.234", "2 decimal places"),
        ("0", "more than 0"),
        ("1e5", "not a number"),
        ("NaN", "not a number"),
        ("99999999999999", "too large"),
    ],
)
def test_bad_amounts_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_amount(text)


def test_kinds_units_dates_ids() -> None:
    assert parse_kind("Funding") == "funding"
    with pytest.raises(ValueError, match="funding, hours, materials, venue, translation"):
        parse_kind("gadgets")
    assert unit_for("funding", None) == "SEK"
    assert unit_for("funding", "EUR") == "EUR"
    with pytest.raises(ValueError, match="SEK or EUR"):
        unit_for("funding", "hours")
    assert set(KINDS) == {"funding", "hours", "materials", "venue", "translation"}
    assert parse_date("2026-12-03") == "2026-12-03"
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_date("3/12/2026")
    with pytest.raises(ValueError, match="no such date"):
        parse_date("2026-02-30")
    assert parse_request_id("r12") == parse_request_id("12") == "R12"
    with pytest.raises(ValueError, match="R12"):
        parse_request_id("X1")
    assert same(amount(EN, 150050, "SEK"), "SEK1,500.50")
    assert amount(EN, 300, "items") == "3 items"
    assert amount(EN, 100, "hours") == "1 hour"
    assert amount(EN, 1250, "hours") == "12.5 hours"


def test_amounts_and_dates_in_swedish() -> None:
    assert same(amount(SV, 123450, "SEK"), "1 234,50 kr")
    assert same(amount(SV, 400050, "EUR"), "4 000,50 €")
    assert amount(SV, 1250, "hours") == "12,5 timmar"
    assert amount(SV, 100, "items") == "1 st."
    assert day(SV, "2026-12-03") == "tors 3 dec. 2026"
    assert when(SV, date_ms("2026-12-03") + 14 * 3_600_000) == "tors 3 dec. 2026 14:00 UTC"


def test_parser_messages_name_what_exists() -> None:
    """The parsers' messages are literal msgids: they must list the kinds, units and
    subcommands there are."""
    for kind in KINDS:
        assert kind in UNKNOWN_KIND_OR_SUBCOMMAND
    assert UNKNOWN_KIND_OR_SUBCOMMAND.endswith(", ".join(SUBCOMMANDS))
    assert str(MAX_MINOR // 100) in TOO_LARGE


def _req(**kw: object) -> Request:
    base = dict(
        id="R1", room_id="!r:x", group="g", kind="funding", unit="SEK",
        what="<script>alert(1)</script>", requester="@a:x", created_at=0, amount=10000,
    )  # fmt: skip
    base.update(kw)
    return Request.model_validate(base)


def test_reminder_time_and_last_activity() -> None:
    now = date_ms("2027-01-01")
    assert _req(by=None).reminder_at(now) is None
    assert _req(by="2027-01-31").reminder_at(now) == date_ms("2027-01-28")  # 3 days before
    assert _req(by="2027-01-02").reminder_at(now) == now + 3_600_000  # but not within the hour
    assert _req(created_at=5).last_activity == 5
    assert _req(created_at=5, decided_at=9, withdrawn_at=7).last_activity == 9
    text, html = reminder(EN, _req(by="2027-01-31"), ["@c<:x"])
    assert text.startswith("⏰ @c<:x: R1 is needed by Sun, Jan 31, 2027")
    assert "@c&lt;:x" in html
    assert "<script>" not in html


def test_user_text_is_escaped_in_html() -> None:
    text, html = card(EN, _req(purpose="<b>x</b>"))
    assert "<script>" in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    _t, report = report_html(EN, [], [_req()], 1, "0" * 64, "KEY", 3, "<i>g</i>")
    assert "<script>" not in report
    assert "<i>g</i>" not in report


def test_report_csv_parses_and_adds_up() -> None:
    pool = Pool(id="p", scope="room", room_id="!r:x", kind="funding", unit="SEK",
                total=100000, granted=30000, spent=10000)  # fmt: skip
    reqs = [
        _req(id="R1", status="fulfilled", granted=10000, what='quote " and, comma'),
        _req(id="R2", status="approved", granted=20000, amount=25000),
        _req(id="R3", status="denied", reason="no"),
    ]
    rows = list(csv.DictReader(io.StringIO(report_csv([pool], reqs, "a" * 64, "K", 7).decode())))
    assert [r["record"] for r in rows] == ["pool", "request", "request", "request", "ledger"]
    p = rows[0]
    assert (p["total"], p["granted"], p["spent"], p["remaining"]) == (
        "1000.00", "300.00", "100.00", "700.00"
    )  # fmt: skip
    assert rows[1]["what"] == 'quote " and, comma'
    granted = sum(float(r["granted"] or 0) for r in rows if r["record"] == "request")
    assert granted == float(p["granted"])
    assert rows[-1]["id"] == "a" * 64
    assert rows[-1]["what"] == "K"


def test_lists_and_reports_of_many_long_requests_fit_in_one_event() -> None:
    reqs = [_req(id=f"R{i}", what="ü<" * 250, purpose="p" * 500) for i in range(1000)]
    text, html, data = fitted_list(EN, reqs, "All requests", "all")
    assert 0 < len(data.requests) < 25
    assert data.total == 1000
    size = len(json.dumps([text, html, data.model_dump(mode="json")]))
    assert size <= MAX_CONTENT_BYTES
    short = [_req(id=f"R{i}") for i in range(1000)]
    text, html, report = fitted_report(EN, [], short, "0" * 64, "K", 9, "g", None, ["!r:x"])
    assert len(report.requests) == 25
    assert "1000" in text
