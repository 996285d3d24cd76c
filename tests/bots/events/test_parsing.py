"""Pure units: the events bot's parsers (property-tested) and DST resolution."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.events.parse import (
    DateWord,
    NonexistentTime,
    format_span,
    parse_date,
    parse_duration,
    parse_event_id,
    parse_offset,
    parse_poll_id,
    parse_rsvp,
    parse_slots,
    parse_time,
    parse_zone,
    reaction_answer,
    resolve_local,
)

PARSERS = [
    parse_date,
    parse_time,
    parse_zone,
    parse_duration,
    parse_offset,
    parse_event_id,
    parse_poll_id,
    parse_rsvp,
    parse_slots,
]


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__name__)
@given(text=st.text())
def test_any_string_gives_a_value_or_a_value_error_with_an_example(parse, text: str) -> None:
    try:
        parse(text)
    except ValueError as e:
        msg = str(e)
        assert msg
        assert any(w in msg for w in ("e.g.", "like", "look like", "use ", "write", "give"))


@given(
    word=st.text(alphabet="0123456789-:.dhmTtoayrwEPe#@ ", max_size=25),
)
def test_parsers_on_nearly_valid_words(word: str) -> None:
    for parse in PARSERS:
        try:
            parse(word)
        except ValueError:
            pass


def test_dates() -> None:
    assert parse_date("2026-12-03") == DateWord(day=date(2026, 12, 3))
    assert parse_date("today").resolve(date(2026, 1, 31)) == date(2026, 1, 31)
    assert parse_date("Tomorrow").resolve(date(2026, 1, 31)) == date(2026, 2, 1)
    for bad in ("3.12.2026", "2026-13-01", "2026-02-30", "", "next week"):
        with pytest.raises(ValueError, match="e.g."):
            parse_date(bad)


def test_times() -> None:
    assert parse_time("14:00") == time(14, 0)
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("14.30") == time(14, 30)
    for bad in ("24:00", "14:60", "2pm", "1400", ""):
        with pytest.raises(ValueError, match="e.g. 14:00"):
            parse_time(bad)


def test_zones() -> None:
    assert parse_zone("europe/stockholm") == "Europe/Stockholm"
    assert parse_zone("UTC") == "UTC"
    with pytest.raises(ValueError, match="did you mean Europe/Stockholm"):
        parse_zone("Europe/Stokholm")
    with pytest.raises(ValueError, match="unknown timezone"):
        parse_zone("/etc/passwd")


@given(minutes=st.integers(min_value=1, max_value=60 * 24 * 60))
def test_format_span_round_trips(minutes: int) -> None:
    assert parse_offset(format_span(minutes)) == minutes


def test_durations_and_offsets() -> None:
    assert parse_duration("90m") == 90
    assert parse_duration("2h") == 120
    assert parse_duration("1h30m") == 90
    assert parse_offset("24h") == 1440
    assert parse_offset("2d") == 2880
    assert format_span(1440) == "24h"
    assert format_span(2880) == "2d"
    assert format_span(90) == "1h30m"
    for bad in ("0m", "forever", "15d", "h", "1.5h"):
        with pytest.raises(ValueError, match="90m"):
            parse_duration(bad)


def test_ids_rsvps_and_reactions() -> None:
    assert parse_event_id("e7") == "E7"
    assert parse_event_id("#E007") == "E7"
    assert parse_poll_id("p3") == "P3"
    with pytest.raises(ValueError, match="E7"):
        parse_event_id("P3")
    assert parse_rsvp("YES") == "yes"
    assert parse_rsvp("❔") == "maybe"
    with pytest.raises(ValueError, match="yes, no or maybe"):
        parse_rsvp("perhaps")
    assert reaction_answer("✅") == "yes"
    assert reaction_answer("❌") == "no"
    assert reaction_answer("❔") == "maybe"
    assert reaction_answer("👍") is None


def test_slots() -> None:
    slots = parse_slots("2026-12-03T14:00 2026-12-04 09:30, 2026-12-05@16:00")
    assert [(d.day, t) for d, t in slots] == [
        (date(2026, 12, 3), time(14, 0)),
        (date(2026, 12, 4), time(9, 30)),
        (date(2026, 12, 5), time(16, 0)),
    ]
    with pytest.raises(ValueError, match="between 2 and 20"):
        parse_slots("2026-12-03T14:00")
    with pytest.raises(ValueError, match="no time"):
        parse_slots("2026-12-03T14:00 2026-12-04")


def test_dst_gap_is_refused_with_the_time_after_it() -> None:
    with pytest.raises(NonexistentTime) as err:
        resolve_local(date(2026, 3, 29), time(2, 30), "Europe/Stockholm")
    assert err.value.suggestion == time(3, 30)
    assert "does not exist" in str(err.value)
    # New York springs forward at 02:00 too, on another date.
    with pytest.raises(NonexistentTime):
        resolve_local(date(2026, 3, 8), time(2, 15), "America/New_York")


def test_dst_overlap_takes_the_first_and_says_so() -> None:
    start, note = resolve_local(date(2026, 10, 25), time(2, 30), "Europe/Stockholm")
    assert start.utcoffset() == timedelta(hours=2)
    assert note is not None
    assert "happens twice" in str(note)
    assert "00:30 UTC" not in str(note)
    assert "01:30 UTC" in str(note)
    plain, none = resolve_local(date(2026, 7, 1), time(2, 30), "Europe/Stockholm")
    assert none is None
    assert plain.utcoffset() == timedelta(hours=2)
