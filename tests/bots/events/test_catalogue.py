"""The events bot's catalogues: complete for sv, da and nb with their placeholders kept, and
nothing the bot renders escapes them (the en-XA pseudo-locale brackets every catalogue string)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bots.events.lang import Refusal, checked
from bots.events.model import Answer, EventRecord, PollRecord
from bots.events.parse import TITLE, check_text, parse_date, parse_zone
from bots.events.render import card_html, card_text, detail_text, reminder_text, tally_text
from messenger.i18n import LOCALES_DIR, N_, translator
from messenger.protocol.events import PollSlot

FIELD = re.compile(r"\{[^{}]*\}")
TEMPLATE = LOCALES_DIR / "events.pot"


def msgids() -> set[str | tuple[str, ...]]:
    with TEMPLATE.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("lang", ["sv", "da", "nb"])
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    path: Path = LOCALES_DIR / lang / "LC_MESSAGES" / "events.po"
    with path.open("rb") as f:
        catalogue = read_po(f, locale=lang)
    found = {m.id: m for m in catalogue if m.id}
    assert set(found) == msgids(), "the catalogue follows the template (make i18n)"
    for msgid, msg in found.items():
        assert not msg.fuzzy, msgid
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        for text in strings:
            assert text, msgid
            assert set(FIELD.findall(text)) == set(FIELD.findall(ids[-1])), (msgid, text)


def event() -> EventRecord:
    return EventRecord(
        id="E7",
        room="!r:l",
        title="Board",
        start_utc="2026-12-03T13:00:00+00:00",
        timezone="Europe/Stockholm",
        duration=60,
        where="Room 4",
        agenda=["Budget"],
        reminders=[1440, 60],
        rsvps={"@b:l": Answer(answer="yes"), "@c:l": Answer(answer="maybe")},
        creator="@a:l",
    )


ENGLISH = ("Going", "Maybe", "React", "Reminders", "Agenda", "before", "starts", "Created", "Poll")


def test_nothing_rendered_escapes_the_catalogue() -> None:
    t = translator("en-XA")
    rec = event()
    poll = PollRecord(
        id="P1",
        room="!r:l",
        title="Call",
        timezone="UTC",
        duration=60,
        slots=[PollSlot(answer="s1", start="2026-12-03T14:00:00+00:00", label="x")],
        votes={"@b:l": ["s1"]},
        status="closed",
        winner="s1",
        creator="@a:l",
    )
    texts = [
        card_text(t, rec),
        card_html(t, rec),
        detail_text(t, rec, "Africa/Nairobi"),
        reminder_text(t, rec, 60, []),
        tally_text(t, poll),
    ]
    for text in texts:
        for word in ENGLISH:
            assert word not in text, (word, text)
    assert "⟦" in card_text(t, rec)


def test_refusals_render_in_the_readers_language() -> None:
    sv, en = translator("sv"), translator("en")
    with pytest.raises(Refusal) as err:
        checked("date", parse_date)("3.12.2027")
    assert "inte ett datum" in err.value.render(sv)
    assert "not a date" in err.value.render(en)
    assert "not a date" in str(err.value)
    with pytest.raises(Refusal) as err:
        checked("tz", parse_zone)("Europe/Stokholm")
    assert "menade du Europe/Stockholm?" in err.value.render(sv)
    with pytest.raises(Refusal) as err:
        check_text("", TITLE, 200)
    assert err.value.render(sv).startswith("titeln saknas")
    assert err.value.render(translator("nb")).startswith("tittelen mangler")
    assert str(err.value).startswith("the title is empty")


def test_dates_follow_the_language() -> None:
    rec = event()
    assert "tors 3 dec. 2026 14:00–15:00 CET" in card_text(translator("sv"), rec)
    assert "Thu 3 Dec 2026, 14:00–15:00 CET" in card_text(translator("en"), rec)
    assert "3. des. 2026 kl. 14:00" in card_text(translator("nb"), rec)
    assert "24h og 1h før" in card_text(translator("da"), rec)


def test_a_refusal_may_have_a_field_named_command() -> None:
    refused = Refusal(N_("poll {id} is already closed; {command} uses it"), id="P1", command="!x")
    assert str(refused) == "poll P1 is already closed; !x uses it"
    assert refused.command is None
    assert "omröstning P1 är redan stängd; !x" in refused.render(translator("sv"))
