"""Pure units: cards, lists, reminders, the .ics file and poll tallies."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from bots.events import polls
from bots.events.ics import build_ics
from bots.events.model import Answer, EventRecord, PollRecord
from bots.events.render import (
    card_html,
    card_text,
    list_line,
    reminder_html,
    tally_text,
    when_for,
)
from messenger.i18n import translator
from messenger.protocol import parse_structured
from messenger.protocol.events import EventCard, PollSlot

EN = translator("en")


def event(**kw: object) -> EventRecord:
    base: dict[str, object] = {
        "id": "E7",
        "room": "!room:localhost",
        "title": "Board meeting",
        "start_utc": "2026-12-03T13:00:00+00:00",
        "timezone": "Europe/Stockholm",
        "duration": 120,
        "creator": "@anna:localhost",
        "reminders": [1440, 60],
    }
    base.update(kw)
    return EventRecord.model_validate(base)


def test_card_shows_the_events_zone_and_utc() -> None:
    rec = event(rsvps={"@b:l": Answer(answer="yes"), "@c:l": Answer(answer="no")})
    text = card_text(EN, rec)
    assert "Thu 3 Dec 2026, 14:00–16:00 CET (Europe/Stockholm)" in text
    assert "13:00–15:00 UTC" in text
    assert "✅ 1 · ❔ 0 · ❌ 1" in text
    assert "Going: @b:l" in text
    assert "Reminders: 24h and 1h before." in text
    assert "!event ics E7" in text


def test_viewer_zone_and_list_line() -> None:
    rec = event()
    assert when_for(EN, rec, "Africa/Nairobi").startswith("Thu 3 Dec 2026, 16:00–18:00 EAT")
    assert "14:00 CET in Europe/Stockholm" in when_for(EN, rec, "Africa/Nairobi")
    assert list_line(EN, rec, None).startswith(
        "E7 · Board meeting · Thu 3 Dec 2026, 14:00–16:00 CET"
    )


@given(title=st.text(min_size=1, max_size=60), where=st.text(max_size=30))
def test_html_never_carries_user_markup(title: str, where: str) -> None:
    rec = event(title=title, where=where, agenda=[title], description=where)
    html = card_html(EN, rec) + reminder_html(EN, rec, 60, ["@x:l"])
    assert "<script" not in html.replace("&lt;script", "")
    if "<" in title:
        assert "&lt;" in html


def test_card_payload_validates_for_the_tui() -> None:
    rec = event(status="cancelled", agenda=["Budget"])
    content = rec.card().attach({"body": "x"})
    parsed = parse_structured(EventCard, content, "@events:l", {"@events:l"})
    assert parsed is not None
    assert parsed.status == "cancelled"
    assert parsed.start == "2026-12-03T14:00:00+01:00"
    assert parsed.reminders == ["24h", "1h"]
    assert "CANCELLED" in card_text(EN, rec)


def test_ics_round_trips_with_timezone_and_alarms() -> None:
    rec = event(where="Room 4", agenda=["Budget"], rsvps={"@b:l": Answer(answer="maybe")})
    cal = Calendar.from_ical(build_ics(rec, datetime(2026, 11, 1, tzinfo=UTC)))
    (ev,) = cal.walk("VEVENT")
    assert ev.decoded("DTSTART") == rec.start
    assert ev["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert ev.decoded("DTEND") == rec.end
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert len(ev.walk("VALARM")) == 2
    assert "TENTATIVE" in ev.to_ical().decode()
    assert str(ev["STATUS"]) == "CONFIRMED"


def poll() -> PollRecord:
    slots = [
        PollSlot(answer=f"s{i}", start=f"2026-12-0{i}T14:00:00+01:00", label=f"slot {i}")
        for i in (1, 2, 3)
    ]
    return PollRecord(
        id="P1",
        room="!r:l",
        title="Call",
        timezone="Europe/Oslo",
        duration=60,
        slots=slots,
        creator="@a:l",
    )


def test_poll_votes_latest_wins_and_invalid_answers_withdraw() -> None:
    rec = poll()
    assert rec.record_vote("@b:l", ["s1"], 10)
    assert rec.record_vote("@c:l", ["s3"], 11)
    assert rec.record_vote("@c:l", ["s2"], 12)
    assert not rec.record_vote("@c:l", ["s1"], 5), "an older response does not win"
    assert rec.record_vote("@d:l", ["s2"], 13)
    assert rec.record_vote("@b:l", ["nope"], 14)
    assert rec.tally() == {"s1": [], "s2": ["@c:l", "@d:l"], "s3": []}
    rec.close()
    assert rec.winner == "s2"
    assert not rec.record_vote("@e:l", ["s1"], 20), "a closed poll takes no votes"
    assert "Winner: slot 2" in tally_text(EN, rec)


def test_poll_content_and_responses() -> None:
    rec = poll()
    content = polls.start_content(EN, rec)
    assert content["org.matrix.msc3381.poll.start"]["answers"][0] == {
        "id": "s1",
        "org.matrix.msc1767.text": "slot 1",
    }
    assert content["m.poll"]["answers"][2]["m.id"] == "s3"
    stable = {"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"}, "m.selections": ["s1"]}
    assert polls.response_answers("m.poll.response", stable) == ("$p", ["s1"])
    unstable = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$p"},
        "org.matrix.msc3381.poll.response": {"answers": ["s2"]},
    }
    assert polls.response_answers("org.matrix.msc3381.poll.response", unstable) == ("$p", ["s2"])
    assert polls.response_answers("m.room.message", unstable) is None
    assert polls.response_answers("m.poll.response", {"m.selections": ["x"]}) is None
