"""``samverkan transparency report``: the figures of a period from the signed ledger, and a
published document that holds no user ID, room ID or request text (md, html and pdf), in the
language asked for or the organisation's."""

from __future__ import annotations

import asyncio
import html
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from pypdf import PdfReader

from messenger.botkit.shared import LIBRARY_PUBLIC_NS, PROJECTS_NS
from messenger.config import Settings, parse_org
from messenger.deploy.deployment import unlock_vault
from messenger.ledgerbook import LedgerBook
from messenger.session.statecache import NS as ROOM_STATE_NS
from messenger.store import StateStore
from samverkan.cli import main
from samverkan.transparency import parse_period, reason_category, scrub
from tests.cli.support import offline_home

PASSPHRASE = "transparency passphrase"
ORG = textwrap.dedent("""
    [organisation]
    name = "Transparency org"
    [bots]
    resources = "res-bot"
    [[working_group]]
    name = "Nordic policy"
    coordinators = ["@anna:localhost"]
    members = ["@bjorn:localhost"]
""")
ROOM = "!nordicRoomId:localhost"
PEOPLE = ("@anna:localhost", "@bjorn:localhost")
SECRET_TEXTS = ("Flyers for the Kalmar meeting", "bus tickets to Oslo", "Bjorn is ill")


def ms(day: str, hour: int = 12) -> int:
    d = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
    return int(d.timestamp() * 1000)


async def write_data(home: Path) -> None:
    """What the running bots leave: a signed ledger and room markers in the resources bot's
    store; projects and public lessons in the deployment store."""
    settings = Settings(home=home, passphrase=PASSPHRASE, org=parse_org(ORG), fast_kdf=True)  # type: ignore[arg-type]
    vault = await unlock_vault(settings)
    bot = await StateStore.open(home / "accounts" / "res-bot" / "state.db", vault)
    book = LedgerBook()
    anna, bjorn = PEOPLE
    entries: list[tuple[str, str, dict[str, Any], str]] = [
        (anna, "pool.add", {"pool": f"room:{ROOM}:funding:SEK", "kind": "funding",
                            "unit": "SEK", "amount": 500_000, "total": 500_000}, "2026-10-02"),
        (bjorn, "request.create", {"id": "R1", "room_id": ROOM, "kind": "funding", "unit": "SEK",
                                   "what": SECRET_TEXTS[0], "amount": 120_000}, "2026-10-05"),
        (anna, "request.approve", {"id": "R1", "amount": 100_000, "requested": 120_000},
         "2026-10-06"),
        (anna, "request.fulfil", {"id": "R1", "amount": 100_000}, "2026-10-20"),
        (bjorn, "request.create", {"id": "R2", "room_id": ROOM, "kind": "funding", "unit": "SEK",
                                   "what": SECRET_TEXTS[1], "amount": 50_000}, "2026-11-01"),
        (anna, "request.deny", {"id": "R2", "reason": f"#scope {SECRET_TEXTS[2]}"},
         "2026-11-04"),
        (bjorn, "request.create", {"id": "R3", "room_id": ROOM, "kind": "hours", "unit": "hours",
                                   "what": "outside the quarter"}, "2026-09-01"),
    ]  # fmt: skip
    try:
        async with bot.transaction() as tx:
            for actor, action, data, day in entries:
                await book.append(tx, actor, action, data, ms(day))
            marker = {"marker": {"slug": "nordic-policy", "kind": "working_group"}}
            await tx.put(ROOM_STATE_NS, ROOM, marker)
    finally:
        await bot.close()
    dep = await StateStore.open(home / "deployment.db", vault)
    try:
        await dep.put(
            PROJECTS_NS,
            f"{ROOM}/P1",
            {"title": "Youth exchange with @bjorn:localhost", "status": "on-track",
             "until": "2027-06-01", "sdg": [4, 16], "closed": False,
             "metrics": [{"name": "participants", "unit": "people", "target": 40, "value": 31}]},
        )  # fmt: skip
        await dep.put(
            LIBRARY_PUBLIC_NS,
            f"{ROOM}/K1",
            {"title": "Book venues early", "type": "lesson", "lang": "en",
             "created_ms": ms("2026-11-10")},
        )  # fmt: skip
    finally:
        await dep.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return offline_home(tmp_path, monkeypatch, ORG, PASSPHRASE)


async def report(tmp_path: Path, fmt: str, *options: str) -> str:
    """The report's text as a reader gets it (a PDF's extracted text)."""
    out = tmp_path / f"report.{fmt}"
    argv = ["transparency", "report", "--period", "2026-Q4", "--format", fmt, "--out", str(out),
            "--config", str(tmp_path / "org.toml"), *options]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    if fmt == "pdf":
        return "\n".join(p.extract_text() for p in PdfReader(str(out)).pages)
    return out.read_text(encoding="utf-8")


def flatten(text: str) -> str:
    """Markdown escapes gone, every run of spaces (no-break ones too) one space."""
    return " ".join(text.replace("\\", "").split())


@pytest.mark.parametrize("lang", ["en", "sv"])
@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
async def test_published_report_has_the_figures_and_no_personal_data(
    home: Path, tmp_path: Path, fmt: str, lang: str
) -> None:
    await write_data(home)
    flat = flatten(await report(tmp_path, fmt, "--lang", lang))
    for forbidden in (*PEOPLE, "bjorn", ROOM, "nordicRoomId", *SECRET_TEXTS, "outside the quarter"):
        assert forbidden not in flat, (forbidden, fmt)
    assert "Nordic policy" in flat
    assert "Book venues early" in flat
    assert "participants" in flat
    if lang == "sv":
        return  # the figures in Swedish: below
    flat = " ".join(re.sub(r"<[^>]+>|\|", " ", flat).split())  # table cells as words
    assert "SEK5,000.00" in flat  # pooled in the quarter
    assert "SEK1,000.00" in flat  # granted, and spent
    assert "scope 1" in flat  # the denial's category, not its text
    assert "48 hours" in flat  # the median of 1 day (R1) and 3 days (R2)
    assert "Requests made: 2" in flat  # R3 was made before the quarter
    assert "approved the request: 50%" in flat  # R1 of R1 and R2


async def test_the_report_names_the_ledger_head_that_verifies(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_data(home)
    text = await report(tmp_path, "md", "--lang", "da")  # the command is the same in any language
    found = re.search(r"`samverkan ledger verify FILE --key (\S+) --head (\w+)`", text)
    assert found is not None, text
    key, head = found.groups()
    assert f"`{head}`" in text.split("## Kontrollér tallene")[1]
    export = tmp_path / "ledger.jsonl"
    config = str(tmp_path / "org.toml")
    assert await asyncio.to_thread(main, ["ledger", "export", str(export), "--config", config]) == 0
    argv = ["ledger", "verify", str(export), "--key", key, "--head", head]
    assert await asyncio.to_thread(main, argv) == 0
    assert "the expected head is entry 6 (the newest)" in capsys.readouterr().out


async def test_a_period_without_activity_says_so(home: Path, tmp_path: Path) -> None:
    await write_data(home)
    out = tmp_path / "empty.md"
    argv = ["transparency", "report", "--period", "2027-Q3", "--out", str(out),
            "--config", str(tmp_path / "org.toml")]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    text = out.read_text()
    assert "No resources were pooled, granted or spent in this period." in text
    assert "No request was denied in this period." in text
    assert "No project figures have been recorded." in text  # P1 ended 2027-06-01
    assert "No lesson was published in this period." in text
    assert "Requests made: 0" in text


def test_periods_categories_and_scrubbing() -> None:
    assert parse_period("2026-q4")[:2] == (
        datetime(2026, 10, 1).date(),
        datetime(2027, 1, 1).date(),
    )
    assert parse_period("2026-02")[1] == datetime(2026, 3, 1).date()
    assert parse_period("2026")[1] == datetime(2027, 1, 1).date()
    for bad in ("2026-Q5", "2026-13", "Q4", "last year"):
        with pytest.raises(ValueError, match="not a period"):
            parse_period(bad)
    assert reason_category("No #Budget left") == "budget"
    assert reason_category("#later #scope") == "scope"
    assert reason_category("no money") == "other"
    assert scrub("ask @anna:localhost in !room:example.org:8448") == "ask […] in […]"


async def test_a_bad_period_is_refused_clearly(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_data(home)
    argv = ["transparency", "report", "--period", "2026-Q9", "--config", str(tmp_path / "org.toml")]
    assert await asyncio.to_thread(main, argv) == 2
    assert "--period: '2026-Q9' is not a period" in capsys.readouterr().err


async def test_a_swedish_report_has_swedish_words_and_numbers(home: Path, tmp_path: Path) -> None:
    await write_data(home)
    flat = flatten(await report(tmp_path, "md", "--lang", "sv"))
    assert flat.startswith("# Transparensrapport: Transparency org, K4 2026")
    assert "Perioden 1 okt.–31 dec. 2026 (UTC)" in flat
    for heading in ("Resurser", "Beslut", "Avslag efter angiven orsak", "Effekter", "Lärdomar"):
        assert f"## {heading}" in flat or f"### {heading}" in flat, heading
    assert (
        "| Nordic policy | finansiering | 5 000,00 kr | 1 000,00 kr | 1 000,00 kr | 0,00 kr |"
        in flat
    )
    assert "| omfattning | 1 |" in flat  # the denial's category, translated
    assert "Inkomna begäranden: 2" in flat
    assert "Andel beslut som beviljade begäran: 50 %" in flat
    assert "Mediantid från begäran till beslut: 48 timmar (över 2 beslut)" in flat
    assert "enligt plan; globala målen för hållbar utveckling 4, 16" in flat  # on-track, SDGs
    assert "| participants | people | 40 | 31 | 78 % |" in flat  # 31 of 40
    assert "Resursliggaren har 7 signerade poster" in flat


@pytest.mark.parametrize(("lang", "words"), [
    ("sv", ["Förbrukat", "Lärdomar", "Inkomna begäranden: 2", "5 000,00 kr"]),
    ("nb", ["Åpenhetsrapport", "Lærdommer", "Innsendte forespørsler: 2", "5 000,00 SEK"]),
    ("da", ["Gennemsigtighedsrapport", "afslået: 1", "tælle", "Ed25519-nøgle", "5.000,00 SEK"]),
])  # fmt: skip
async def test_the_pdf_renders_the_nordic_letters(
    home: Path, tmp_path: Path, lang: str, words: list[str]
) -> None:
    await write_data(home)
    text = flatten(await report(tmp_path, "pdf", "--lang", lang))
    for word in words:
        assert word in text, (word, text)
    reader = PdfReader(str(tmp_path / "report.pdf"))
    assert str(reader.root_object["/Lang"]) == lang


async def test_the_html_page_declares_its_language(home: Path, tmp_path: Path) -> None:
    await write_data(home)
    page = await report(tmp_path, "html", "--lang", "nb")
    assert page.startswith('<!doctype html>\n<html lang="nb">')
    assert "<title>Åpenhetsrapport K4 2026</title>" in page
    assert "<h2>Ressurser</h2>" in page


async def test_the_default_is_the_first_working_language_with_a_catalogue(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await write_data(home)
    org = tmp_path / "org.toml"
    org.write_text(ORG.replace('name = "Transparency org"', 'name = "T"\nlanguages = ["fi", "nb"]'))
    text = await report(tmp_path, "md")  # Finnish has no catalogue: Norwegian Bokmål
    assert text.startswith("# Åpenhetsrapport: T, K4 2026")
    assert "(md, nb," in capsys.readouterr().out


async def test_an_unknown_language_is_refused_with_the_available_ones(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.md"
    argv = ["transparency", "report", "--period", "2026-Q4", "--lang", "xx", "--out", str(out),
            "--config", str(tmp_path / "org.toml")]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 2
    err = capsys.readouterr().err
    assert "--lang: no catalogue for 'xx'; choose one of da, en, nb, sv" in err
    assert not out.exists()


#: What the organisation wrote (names, titles, measures), codes that stay as they are, and the
#: month names of Babel's English dates (the pseudo-locale formats as English does).
WRITTEN = {"Transparency", "org", "Nordic", "policy", "Youth", "exchange", "with", "participants",
           "people", "Book", "venues", "early", "SEK", "UTC", "XA"}  # fmt: skip
MONTHS = {
    str(name)
    for width in ("wide", "abbreviated")
    for name in Locale.parse("en").months["format"][width].values()
}


def untranslated(text: str) -> list[str]:
    """Words of a pseudo-locale report that did not come through the catalogue."""
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", text, flags=re.S)
    text, previous = html.unescape(text), ""
    while text != previous:  # nested: a translated amount inside a translated sentence
        previous, text = text, re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
    text = re.sub(r"`[^`]*`|samverkan ledger \S+ FILE[^\n]*", " ", text)  # commands, hashes
    words = re.findall(r"[A-Za-z]+", text)
    return [w for w in words if w not in WRITTEN | MONTHS and len(w) > 1]


@pytest.mark.parametrize("fmt", ["md", "html", "pdf"])
async def test_every_word_of_the_report_goes_through_the_catalogue(
    home: Path, tmp_path: Path, fmt: str
) -> None:
    await write_data(home)
    text = await report(tmp_path, fmt, "--lang", "en-XA")
    assert "⟦" in text
    assert untranslated(text) == [], text
