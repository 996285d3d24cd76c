"""The resources bot's catalogue: complete for sv, da, nb; everything shown goes through it
(the en-XA pseudo-locale leaves no English sentence); the CSV never is translated."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bots.resources.model import Pool, Request, date_ms
from bots.resources.render import (
    CSV_FIELDS,
    card,
    pool_table,
    reminder,
    report_csv,
    report_html,
    request_list,
)
from messenger.i18n import LOCALES_DIR, translator

FIELD = re.compile(r"\{[^{}]*\}|<[^>]*>")
POT = LOCALES_DIR / "resources.pot"
XA = translator("en-XA")
SV = translator("sv")


def _req(**kw: object) -> Request:
    base = dict(
        id="R1", room_id="!r:x", group="g", kind="funding", unit="SEK", what="Flyers",
        requester="@a:x", created_at=date_ms("2026-12-01"), amount=150050, by="2026-12-24",
    )  # fmt: skip
    base.update(kw)
    return Request.model_validate(base)


REQS = [
    _req(),
    _req(id="R2", status="approved", granted=100000, decided_by="@c:x", decided_at=1),
    _req(id="R3", status="denied", reason="no", decided_by="@c:x", decided_at=1, kind="hours",
         unit="hours", amount=1250),
    _req(id="R4", status="fulfilled", granted=150050, decided_by="@c:x", decided_at=1,
         fulfilled_by="@c:x", fulfilled_at=2, purpose="Summit"),
    _req(id="R5", status="withdrawn", withdrawn_at=3, kind="materials", unit="items", amount=300),
]  # fmt: skip
POOLS = [
    Pool(id="a", scope="room", room_id="!r:x", kind="funding", unit="SEK", total=500000),
    Pool(id="b", scope="org", kind="translation", unit="hours", total=150),
]


@pytest.mark.parametrize("lang", ["sv", "da", "nb"])
def test_catalogue_is_complete_with_the_same_placeholders(lang: str) -> None:
    path = Path(LOCALES_DIR, lang, "LC_MESSAGES", "resources.po")
    with POT.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with path.open("rb") as f:
        catalogue = read_po(f, locale=lang)
    have = {m.id: m for m in catalogue if m.id}
    assert set(have) == wanted
    for msg in have.values():
        assert not msg.fuzzy, msg.id
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        assert all(strings), msg.id
        for s in strings:
            assert sorted(FIELD.findall(str(s))) == sorted(FIELD.findall(str(ids[-1]))), (msg.id, s)


def _shown() -> list[str]:
    out: list[str] = []
    for r in REQS:
        out += card(XA, r, comments=True)
    out += request_list(XA, REQS, "⟦T⟧", limit=2)
    out += request_list(XA, [], "⟦T⟧")
    out += pool_table(XA, POOLS)
    out += pool_table(XA, [])
    out += report_html(XA, POOLS, REQS, 9, "0" * 64, "KEY", 7, "⟦S⟧")
    out += reminder(XA, REQS[0], [])
    return out


@pytest.mark.parametrize(
    "english",
    ["asked by", "Needed by", "Status", "waiting for", "total", "granted", "remaining",
     "funding", "hours", "items", "room", "organisation", "Transparency", "Ledger", "Every row",
     "none", "earlier", "No pools", "is needed by", "coordinators", "approved", "denied",
     "withdrawn", "fulfilled", "For:", "UTC"],
)  # fmt: skip
def test_nothing_english_escapes_the_catalogue(english: str) -> None:
    for text in _shown():
        if english == "UTC":  # the time zone's name is not a word to translate
            continue
        assert english not in text.replace("!pool add funding 5000", ""), (english, text)


def test_swedish_card_and_reminder_and_an_untranslated_csv() -> None:
    text, html = card(SV, REQS[3])
    assert "finansiering · levererad" in text
    assert "Behövs senast: tors 24 dec. 2026" in text
    assert "För: Summit" in html
    text, html = reminder(SV, REQS[0], ["@c:x"])
    assert text == "⏰ @c:x: R1 behövs senast tors 24 dec. 2026 och väntar fortfarande på beslut."
    assert "<code>!request approve R1</code>" in html
    rows = list(csv.DictReader(io.StringIO(report_csv(POOLS, REQS, "h", "k", 1).decode())))
    assert list(rows[0]) == CSV_FIELDS
    assert rows[2]["status"] == "open"
    assert rows[2]["created_at"] == "2026-12-01 00:00 UTC"
